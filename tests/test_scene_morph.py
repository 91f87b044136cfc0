"""What NoiseToImage (scenes/morph.py) shows, on designed runs (tests/designed.py), read from its scene graph.

Every expected value is computed here from the designed closed forms: snapshot k of 11 (step 20 k) holds
blend(noise, targets, a_k) with a_k = learn(k / 10), D's score for fixed sample i is (0.05 + 0.4 i / 15)(0.2 + a_k),
and the metrics at step s follow t = s / 200. The morph is at ``u`` (snapshot index, fractional in between); the
footer's step there is 20 u rounded, and every number shown is the run's at that step (the close-up's score: the
latest snapshot's; the timeline's mean D(G(z)): the trailing mean over the last 200 // 50 = 4 logged steps).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from designed import arcs, blend, image_noise, image_targets, make_designed_run
from scene_probe import Shot, probe

from scenes import morph, style

pytestmark = pytest.mark.xdist_group("scene-content")

N, TOTAL, EVERY, K = 16, 200, 20, 11  # 16 fixed samples, 200 steps, a snapshot every 20: 11 snapshots
CELL = 28  # designed pictures are 28 x 28, tiled with 1-pixel gaps


def snapshots(learn=lambda t: t) -> list[np.ndarray]:  # noqa: ANN001
    noise, targets = image_noise(N), image_targets(N)
    return [blend(noise, targets, learn(k / (K - 1))) for k in range(K)]


def cells(grid: np.ndarray, side: int = 4) -> list[np.ndarray]:
    """The pictures of a tiled grid (1-pixel gaps), row by row, as grey levels."""
    return [
        grid[1 + (CELL + 1) * r : 1 + (CELL + 1) * r + CELL, 1 + (CELL + 1) * q : 1 + (CELL + 1) * q + CELL, 0]
        for r in range(side)
        for q in range(side)
    ]


def change(snaps: list[np.ndarray]) -> np.ndarray:
    """Mean absolute pixel change of the 16 samples from each snapshot to the next."""
    return np.array([np.abs(b.astype(float) - a.astype(float)).mean() for a, b in zip(snaps, snaps[1:], strict=False)])


def mixed(a: np.ndarray, b: np.ndarray, f: float) -> np.ndarray:
    """The designed pixels of two snapshots mixed at fraction f, rounded to uint8."""
    return np.rint((1 - f) * a.astype(np.float64) + f * b.astype(np.float64)).astype(np.uint8)


def d_fake(i: int, a: float) -> float:
    return float(np.float32(0.05 + 0.4 * i / (N - 1)) * np.float32(0.2 + a))


def pictures(shot: Shot) -> dict[str, np.ndarray]:
    """The fake grid, the close-up and the real grid, told apart by where they sit."""
    found = {}
    for m in shot.find("ImageMobject"):
        for name, centre in (("fake", morph.GRID_CENTER), ("close", morph.CLOSE_CENTER), ("real", morph.REAL_CENTER)):
            if abs(m.center[0] - centre[0]) < 0.05 and abs(m.center[1] - centre[1]) < 0.05:
                found[name] = m
    return found


@pytest.fixture(scope="module")
def shots(designed_image: Path) -> list[Shot]:
    return probe(morph.NoiseToImage, designed_image)


def test_the_morph_ends_on_the_designed_last_snapshot(shots: list[Shot]) -> None:
    """At the end the fake grid is the 16 designed targets, the close-up is the sample D scores highest at the end
    (sample 15: the designed scores grow with the index), and the real grid is the fixed real batch; all three
    are the same size."""
    end = pictures(shots[-1])
    targets = image_targets(N)
    assert all(np.array_equal(x, t[..., 0]) for x, t in zip(cells(end["fake"].pixels), targets, strict=True))
    assert np.array_equal(end["close"].pixels[..., 0], targets[15][..., 0])
    assert all(np.array_equal(x, t[..., 0]) for x, t in zip(cells(end["real"].pixels), targets[::-1], strict=True))
    sizes = {(round(m.width, 6), round(m.height, 6)) for m in end.values()}
    assert len(sizes) == 1, sizes
    first = pictures(shots[0])["fake"]
    assert all(np.array_equal(x, t[..., 0]) for x, t in zip(cells(first.pixels), image_noise(N), strict=True))


class Driven(morph.NoiseToImage):
    """The scene's own mobjects, with the morph set to chosen places; records what the cursor and footer say."""

    at: tuple[float, ...] = ()
    seen: list[dict[str, float]] = []

    def construct(self) -> None:
        self.build()
        self.add(self.heading, self.foot.group, self.view.intro, self.timeline.group, self.view.closeup)
        for u in self.at:
            self.play(self.u.animate.set_value(u), run_time=0.2)
            band = self.timeline.bands
            self.seen.append(
                {
                    "u": u,
                    "cursor": self.timeline.cursor.get_x(),
                    "left": band[0].get_left()[0],
                    "right": band[-1].get_right()[0],
                    "footer": self.foot.tracker.get_value(),
                }
            )


def test_at_a_tracker_value_the_pixels_are_the_designed_blend(designed_image: Path) -> None:
    """Between snapshots k and k + 1 at fraction f, every pixel of the grid and of the close-up is the designed
    blend of the two, the close-up's score is the one recorded at the latest snapshot up to the footer's step (a
    number on screen is the run's, never a blend), and the footer and the cursor on the timeline are at the step in
    between."""
    Driven.at, Driven.seen = (2.25, 5.5, 7.75, 10.0), []
    shots = probe(Driven, designed_image)
    snaps = snapshots()
    for shot, seen in zip(shots, Driven.seen, strict=True):
        u = seen["u"]
        k, f = min(int(u), K - 2), u - min(int(u), K - 2)
        want = mixed(snaps[k], snaps[k + 1], f)
        shown = pictures(shot)
        assert all(np.array_equal(x, w[..., 0]) for x, w in zip(cells(shown["fake"].pixels), want, strict=True)), u
        assert np.array_equal(shown["close"].pixels[..., 0], want[15][..., 0]), u
        score = d_fake(15, (round(EVERY * u) // EVERY) / 10)
        numbers = [m for m in shot.find("DecimalNumber") if m.center[0] > -2 and m.center[1] < 0]
        assert [m.text for m in numbers] == [f"{score:.2f}"], (u, [m.text for m in numbers])
        step = EVERY * u
        assert seen["footer"] == pytest.approx(step)
        assert shot.one("Integer").value == round(step)
        assert seen["cursor"] == pytest.approx(seen["left"] + (seen["right"] - seen["left"]) * step / TOTAL)


def documented_pace(changes: np.ndarray, total: float = 16.0, least: float = 0.05) -> np.ndarray:
    """docs/scenes.md's pace, written out here: a floor each (at most a quarter of an even share), the rest of
    the total in proportion to the square of the change."""
    floor = min(least, 0.25 * total / len(changes))
    return floor + (total - len(changes) * floor) * changes**2 / (changes**2).sum()


def quick(t: float) -> float:
    """A learner that changes most at the start: a_k = sqrt(k / 10)."""
    return float(np.sqrt(t))


def test_segments_take_time_in_proportion_to_the_designed_change(tmp_path: Path) -> None:
    """Each stretch between snapshots gets the floor plus a share of the morph's time in proportion to the square
    of how much the 16 shown samples change in it (mean absolute pixel change); the plays of the morph last exactly the
    sums of their stretches, and the rate function puts snapshot k at the end of its stretches' time."""
    run = make_designed_run(tmp_path / "quick", "image", learn=quick)
    snaps = snapshots(quick)
    changes = change(snaps)
    want = documented_pace(changes)
    walk = morph.Morph.of(morph.c.Run.load(run), N)
    assert walk.durations == pytest.approx(want)
    assert want[0] > 2.5 * want[-1]  # the quick start gets the screen time

    shots = probe(morph.NoiseToImage, run)
    counter = [(shot.time, shot.one("Integer").value) for shot in shots if shot.find("Integer")]
    legs = [(t1 - t0, a, b) for (t0, a), (t1, b) in zip(counter, counter[1:], strict=False) if b != a]
    assert legs and legs[-1][2] == TOTAL
    for duration, a, b in legs:
        assert duration == pytest.approx(want[int(a) // EVERY : int(b) // EVERY].sum(), abs=1e-6), (a, b)
    rate = morph.paced(want[2:7])
    knots = np.concatenate([[0], np.cumsum(want[2:7])]) / want[2:7].sum()
    assert [rate(t) for t in knots] == pytest.approx(np.linspace(0, 1, 6))


def phase_bands(shot: Shot) -> list:
    """The timeline's phase bands (thin, filled, no outline), left to right."""
    found = [m for m in shot.find("Rectangle") if 0.08 < m.height < 0.12 and m.center[1] < morph.STRIP_BOTTOM]
    return sorted(found, key=lambda m: m.box[0])


def band_starts(shot: Shot) -> list[int]:
    """The step each phase band begins at, read along the timeline (its left end step 0, its right the last)."""
    bands = phase_bands(shot)
    left, right = bands[0].box[0], bands[-1].box[2]
    return [round((b.box[0] - left) / (right - left) * TOTAL) for b in bands]


def test_the_timeline_shows_the_designed_phases_and_scores(shots: list[Shot]) -> None:
    """The designed blend closes its gap about linearly: noise until step 120, structure until 180, then detail
    (docs/scenes.md's rule; tests/test_scenes.py checks the rule itself). The bands span those steps, each
    named under it (no word crossed by the cursor or an outline), and the name of the phase the morph is in is lit;
    the live mean D(G(z)) ends at the designed metric's 4-step trailing mean at the last step."""
    end = shots[-1]
    assert band_starts(end) == [0, 120, 180]
    bands = phase_bands(end)
    assert all(b.stroke_width == 0 for b in bands)
    for band, word in zip(
        bands, sorted(end.find("Text", "noise|structure|detail"), key=lambda m: m.box[0]), strict=True
    ):
        assert word.box[3] < band.box[1]  # under its band
    names = {m.text: m.fill for m in end.find("Text", "noise|structure|detail")}
    assert sorted(names) == ["detail", "noise", "structure"]
    assert names["detail"] == morph.s.TEXT.lower() and names["noise"] == morph.s.MUTED.lower()
    lit = [
        (shot.one("Integer").value, m.text)
        for shot in shots
        for m in shot.find("Text", "noise|structure|detail")
        if m.fill == morph.s.TEXT.lower()
    ]
    assert {step for step, _ in lit} >= {0, 120, 180, 200}  # the morph pauses where each phase begins
    assert all(name == ("noise" if step < 120 else "structure" if step < 180 else "detail") for step, name in lit), lit
    t = np.arange(197, 201) / TOTAL
    want = (0.05 + 0.40 * t).mean()
    live = [m for m in end.find("DecimalNumber") if m.center[0] < -4]
    assert [m.text for m in live] == [f"{want:.2f}"]
    assert end.find("Text", "4-step average")


def closing_line(shot: Shot) -> str:
    lines = [m for m in shot.find("Text") if m.center[1] > 2.4 and abs((m.font_size or 0) - morph.s.BODY) < 1e-3]
    return " ".join(m.text for m in sorted(lines, key=lambda m: -m.center[1]))


def test_the_closing_line_names_the_steps_where_the_phases_begin(shots: list[Shot]) -> None:
    """The closing line and the phase bands are one measure: the steps it names for half and 85 % of the gap to the
    real samples closed are the steps where the 'structure' and 'detail' bands begin. It comes after the question
    has gone (fade out, then in: the two texts are never on screen together)."""
    line = closing_line(shots[-1])
    assert line == (
        "G's samples closed half their gap to the real samples by step 120, "
        "85% of it by step 180: there 'structure' and 'detail' begin below."
    )
    said = [int(x.replace(",", "")) for x in re.findall(r"by step ([\d,]+)", line)]
    assert said == band_starts(shots[-1])[1:]
    for shot in shots:
        assert not (closing_line(shot) and shot.find("Text", r"How does G .*"))
    assert shots[-4].find("Text", r"How does G .*") and not closing_line(shots[-4])


# -- toys ---------------------------------------------------------------------------------------------------
class Cloud(morph.NoiseToImage):
    """The toy scene's own point cloud, with the morph set to chosen places; records the dots' centres."""

    at: tuple[float, ...] = ()
    seen: list[np.ndarray] = []

    def construct(self) -> None:
        self.build()
        self.add(self.view.intro)
        dots = self.view.fake if self.run.kind == "toy2d" else self.view.dots
        for u in self.at:
            self.play(self.u.animate.set_value(u), run_time=0.2)
            self.seen.append(dots.points.reshape(-1, 8, 4, 3)[:, :, 0, :2].mean(axis=1))  # octagon corners' mean


def toy_targets(kind: str, n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """tests/designed.py's toy start and target points, drawn the same way."""
    rng = np.random.default_rng(seed)
    rng.standard_normal((n, 100 if kind == "toy2d" else 1))  # the fixed noise first (toy-rings: 100-D)
    if kind == "toy2d":
        return (rng.standard_normal((n, 2)) * 0.5).astype(np.float32), arcs(n, seed + 1)
    target = (4.0 + 0.5 * rng.standard_normal((n, 1))).astype(np.float32)
    return (0.2 * rng.standard_normal((n, 1))).astype(np.float32), target


@pytest.mark.parametrize("kind", ["toy2d", "toy1d"])
def test_toy_points_move_along_their_designed_paths(kind: str, tmp_path: Path) -> None:
    """At each snapshot the dots are one fixed affine image of the designed samples (the panel's axes, one scale for
    both: equal aspect), and in between each dot is on the straight line between its two snapshot positions at the
    morph's fraction. The panel holds every point of every snapshot, so none is held on its edge (the affine fit
    would break)."""
    run = make_designed_run(tmp_path / kind, kind, n=64)
    start, target = toy_targets(kind)
    Cloud.at, Cloud.seen = (0.0, 4.0, 4.3, 5.0, 10.0), []
    probe(Cloud, run)
    seen = dict(zip(Cloud.at, Cloud.seen, strict=True))
    data = {u: blend(start, target, u / 10) for u in (0.0, 4.0, 5.0, 10.0)}
    dims = 2 if kind == "toy2d" else 1
    slopes = []
    for axis in range(dims):
        xs = np.concatenate([data[u][:, axis] for u in data])
        ys = np.concatenate([seen[u][:, axis] for u in data])
        fit = np.polyfit(xs, ys, 1)
        assert fit[0] > 0 and np.abs(np.polyval(fit, xs) - ys).max() < 1e-6, kind
        slopes.append(fit[0])
    assert slopes[0] == pytest.approx(slopes[-1])  # equal aspect: a ring is drawn round
    assert seen[4.3] == pytest.approx(0.7 * seen[4.0] + 0.3 * seen[5.0], abs=1e-9)


def test_toy_milestones_are_the_phase_starts(designed_toy2d: Path) -> None:
    """The small panels show the start, the first snapshot of each phase the timeline names, and the end, each
    captioned with its step and phase."""
    shots = probe(morph.NoiseToImage, designed_toy2d)
    end = shots[-1]
    steps = [int(m.text.split()[1].replace(",", "")) for m in end.find("Text", r"step [\d,]+")]
    assert sorted(steps) == sorted({*band_starts(end), TOTAL})
    assert re.fullmatch(r"How does G move its points onto the data\?", shots[1].find("Text", "How .*")[0].text)


def test_toy_milestone_captions_are_lit_at_their_beat(designed_toy2d: Path) -> None:
    """One idea per frame: a milestone's caption is faint (style.DIM) until the morph reaches it, lit during its
    beat, faint again after; at the close the milestones the closing line names (where 'structure' and 'detail'
    begin) are lit and the others faint."""
    shots = probe(morph.NoiseToImage, designed_toy2d)

    def lit(shot: Shot) -> list[int]:
        found = shot.find("Text", r"step [\d,]+")
        assert all(m.fill_opacity > 0.99 or m.fill_opacity < style.DIM + 1e-3 for m in found)
        return sorted(int(m.text.split()[1].replace(",", "")) for m in found if m.fill_opacity > 0.99)

    assert lit(shots[1]) == []  # the scene opens with every milestone still to come
    seen = [tuple(lit(shot)) for shot in shots[2:-2]]
    assert all(len(s) <= 1 for s in seen) and {s[0] for s in seen if s} == {0, *band_starts(shots[-1]), TOTAL}
    assert lit(shots[-1]) == band_starts(shots[-1])[1:]  # structure and detail (noise begins at 0)
