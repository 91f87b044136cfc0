"""DecisionField on designed 2-D runs: what each part shows, read from the scene graph (tests/scene_probe.py), and
one rendered frame.

The designed toy2d run (tests/designed.py, 64 fixed samples, 11 snapshots, step 20k at learning fraction
a = k / 10): G's samples move on straight lines from their step-0 places to the rings' arcs (arcs(64, 1)), each
pushed along that line by fake_grad = (target - start)(1 - 0.8 a); D's field is 1 / (1 + exp((x - e) / 2)) with
its 0.5 line at x = e = -15 + 30 a + y / 10; G's mesh is (1 - a) g + 10 a g / (|g| + 1) for the grid noise g (drawn
only for a run whose noise is 2-D: the toy-quadratic variant). The step-0 samples (the starts) and the fixed batches
are read from the run's files with numpy; every other value is computed here from those closed forms. (The tilt
y / 10 of the boundary: a field drawn upside down would differ.)
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from designed import arcs, field_at, make_designed_run
from PIL import Image
from scene_probe import Mob, Shot, probe
from truth import problems as untrue

from pipeline.render import builtin_scene_path, render_file
from pipeline.run import Run
from scenes import distribution, readouts, style

pytestmark = pytest.mark.xdist_group("scene-content")

TOTAL, N, TILT = 200, 64, 0.1
SHOWN = list(range(0, TOTAL + 1, 20))  # spread_steps(16) of 11 snapshots: all of them


def hexc(colour: str) -> str:
    return colour.lower()


class Designed:
    """The designed run's closed forms, from its fixed batches and its step-0 samples (read with numpy): at a step
    of a run of ``total`` steps, G has learned ``learn(step / total)`` of the way (a snapshot every 20 steps)."""

    def __init__(self, path: Path, total: int = TOTAL, learn: float = 1.0):
        self.total, self.rate = total, learn
        with np.load(path / "fixed.npz") as f:
            self.real, self.grid, self.points = f["real"], f["grid_noise"][:, :2], f["field_points"]
            self.extent = f["field_extent"].astype(np.float64)
        with np.load(path / "snapshots" / "step_00000000.npz") as f:
            self.start = f["fake"].astype(np.float64)
        self.target = arcs(N, 1).astype(np.float64)

    def a(self, step: int) -> float:
        return self.rate * step / self.total

    def fake(self, step: int) -> np.ndarray:
        return (1 - self.a(step)) * self.start + self.a(step) * self.target

    def push(self, step: int) -> np.ndarray:
        return (self.target - self.start) * (1 - 0.8 * self.a(step))

    def mesh(self, step: int) -> np.ndarray:
        a, g = self.a(step), self.grid.astype(np.float64)
        return (1 - a) * g + a * 10 * g / (np.linalg.norm(g, axis=1, keepdims=True) + 1)

    def field(self, step: int) -> np.ndarray:
        res = int(round(np.sqrt(len(self.points))))
        return field_at(self.points, self.a(step), TILT).reshape(res, res)


@pytest.fixture(scope="module")
def toy2d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_designed_run(tmp_path_factory.mktemp("field") / "toy2d", "toy2d", n=N, tilt=TILT)


@pytest.fixture(scope="module")
def designed(toy2d: Path) -> Designed:
    return Designed(toy2d)


@pytest.fixture(scope="module")
def shots(toy2d: Path) -> list[Shot]:
    return probe(distribution.DecisionField, toy2d)


def step_of(shot: Shot) -> int:
    (counter,) = shot.find("Integer")
    return int(counter.value)


def settled(shots: list[Shot]) -> list[tuple[int, Shot]]:
    """(step, shot) after each snapshot has fully arrived: the waits between snapshots, and the last shot."""
    out = [(step_of(s), s) for s in shots if s.call == "wait"]
    return out


def to_scene(shot: Shot, extent: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Data -> scene through the drawn map's frame, which spans the field's extent."""
    (box,) = shot.find("Rectangle", name="map")
    x0, y0, x1, y1 = box.box
    u = (pts[:, 0] - extent[0]) / (extent[1] - extent[0])
    v = (pts[:, 1] - extent[2]) / (extent[3] - extent[2])
    return np.stack([x0 + u * (x1 - x0), y0 + v * (y1 - y0)], axis=1)


def path(shot: Shot, name: str) -> Mob:
    (mob,) = shot.find(name=name)
    return mob


def centres(mob: Mob, per: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres and sizes (centre to anchor: a circle's radius, a triangle's corners) of the copies of a closed
    outline of ``per`` points (cubic curves, 4 points each) in a merged path."""
    pts = mob.points.reshape(-1, per, 2)
    mid = pts.mean(axis=1)
    return mid, np.linalg.norm(pts[:, ::4] - mid[:, None, :], axis=2).max(axis=1)


def test_the_map_keeps_the_toys_aspect(shots: list[Shot], designed: Designed) -> None:
    """One scale for both axes (never common.Frame's stretch of x): the map's frame has the field's aspect, and the
    points drawn on it are at that one scale; the map is as large as fits under the title (at most BOX_SIZE)."""
    end = shots[-1]
    (box,) = end.find("Rectangle", name="map")
    ext = designed.extent
    assert box.width / (ext[1] - ext[0]) == pytest.approx(box.height / (ext[3] - ext[2]), rel=1e-6)
    assert max(box.width, box.height) <= distribution.BOX_SIZE + 1e-6
    assert max(box.width, box.height) > 0.9 * distribution.BOX_SIZE
    assert box.box[0] == pytest.approx(style.safe_box()[0])
    above = [m for m in end.find("Text") if m.center[1] > box.box[3]]  # the title's lines
    assert len(above) >= 3 and all(m.box[1] > box.box[3] for m in above)
    real, _ = centres(path(end, "real points"), 32)
    scale = np.ptp(real, axis=0) / np.ptp(designed.real, axis=0)
    assert scale[0] == pytest.approx(scale[1], rel=1e-6)  # equal aspect, point by point


def test_field_image_is_the_designed_field_through_the_score_map(shots: list[Shot], designed: Designed) -> None:
    """At every snapshot the map's picture is D's designed field through style.score_rgb, row 0 at the top, over
    the map's frame."""
    seen = []
    for step, shot in settled(shots):
        (field,) = shot.find("ImageMobject", name="field")
        assert np.array_equal(field.pixels, style.score_rgb(designed.field(step)[::-1])), step
        (box,) = shot.find("Rectangle", name="map")
        assert field.box == pytest.approx(box.box, abs=1e-6)
        seen.append(step)
    assert seen[:-1] == SHOWN[1:]  # and the last shot again


def test_dashed_line_is_where_the_designed_field_is_one_half(shots: list[Shot], designed: Designed) -> None:
    """D's 0.5 line is x = -15 + 30 a + y / 10: every dash on it (within a tenth of a grid cell), the dashes
    spanning the map's height."""
    ext = designed.extent
    cell = (ext[1] - ext[0]) / 31
    for step, shot in settled(shots)[:-1]:
        edge = -15 + 30 * step / TOTAL
        if not ext[0] + 4 < edge < ext[1] - 4:  # the line leaves the map through its sides: not a full line
            continue
        (box,) = shot.find("Rectangle", name="map")
        (line,) = [m for m in shot.find(name="dashed") if box.contains(m.center)]
        scale = box.width / (ext[1] - ext[0])
        y = ext[2] + (line.points[:, 1] - box.box[1]) / scale  # data height of each point of the dashes
        x = to_scene(shot, ext, np.stack([edge + y / 10, y], axis=1))[:, 0]
        np.testing.assert_allclose(line.points[:, 0], x, atol=0.1 * cell * scale, err_msg=str(step))
        assert np.ptp(line.points[:, 1]) > 0.9 * box.height


def test_points_are_the_real_batch_and_the_designed_samples(shots: list[Shot], designed: Designed) -> None:
    """Real points at the fixed real batch (the arcs); G's at the blend of their starts and the arcs, as outlined
    dots of one size."""
    n_circle = 32
    for step, shot in settled(shots):
        real, size = centres(path(shot, "real points"), n_circle)
        np.testing.assert_allclose(real, to_scene(shot, designed.extent, designed.real), atol=1e-6)
        fake, size = centres(path(shot, "generated points"), n_circle)
        np.testing.assert_allclose(fake, to_scene(shot, designed.extent, designed.fake(step)), atol=1e-6)
        assert np.allclose(size, distribution.DOT)
        assert path(shot, "generated points").fill == hexc(style.FAKE_COLOR)
    np.testing.assert_allclose(designed.fake(TOTAL), arcs(N, 1), atol=1e-5)  # the end: on the arcs


def test_pushes_are_the_designed_fake_grad(shots: list[Shot], designed: Designed) -> None:
    """An arrow from each of the first 48 samples along its designed push (target - start), on the rule the legend
    states: ARROW_MIN + (ARROW_MAX - ARROW_MIN) min(1, |push| / p90) long, p90 the 90th percentile of |push| over
    the snapshots shown; a tip TIP in size (or 0.45 of a shorter arrow) whose point is the arrow's end."""
    k = distribution.N_ARROWS
    sizes = np.concatenate([np.linalg.norm(designed.push(s)[:k], axis=1) for s in SHOWN])
    ref = np.percentile(sizes, 90)
    lo, hi = distribution.ARROW_MIN, distribution.ARROW_MAX
    for step, shot in settled(shots):
        shafts = path(shot, "pushes").points.reshape(k, 4, 2)
        start = shafts[:, 0]
        np.testing.assert_allclose(start, to_scene(shot, designed.extent, designed.fake(step)[:k]), atol=1e-6)
        push = designed.push(step)[:k]
        size = np.linalg.norm(push, axis=1)
        length = lo + (hi - lo) * np.minimum(1, size / ref)
        want = push / size[:, None] * length[:, None]
        apex = path(shot, "push tips").points.reshape(k, 12, 2)[:, 0]  # a triangle's first corner: its point
        np.testing.assert_allclose(apex - start, want, atol=1e-6, err_msg=str(step))  # the arrow's end
        _, tip_size = centres(path(shot, "push tips"), 12)
        np.testing.assert_allclose(tip_size, np.minimum(distribution.TIP, 0.45 * length), atol=1e-6)
        neck = apex - want / length[:, None] * tip_size[:, None]
        np.testing.assert_allclose(shafts[:, 3], neck, atol=1e-6)  # the shaft stops at the tip's centre


def test_pushes_can_be_read_at_480p(shots: list[Shot]) -> None:
    """Every arrow of a nonzero push is at least ARROW_MIN long: 15 px or more at 480p (the frame is 8 units
    high), with a tip of 5 px or more; the strongest are over twice as long."""
    assert distribution.ARROW_MIN / 8 * 480 >= 15
    for _, shot in settled(shots):
        start = path(shot, "pushes").points.reshape(-1, 4, 2)[:, 0]
        apex = path(shot, "push tips").points.reshape(-1, 12, 2)[:, 0]
        length = np.linalg.norm(apex - start, axis=1)
        assert length.min() >= distribution.ARROW_MIN - 1e-9
        _, tip = centres(path(shot, "push tips"), 12)
        assert tip.min() / 8 * 480 >= 5
    assert distribution.ARROW_MAX >= 2 * distribution.ARROW_MIN


def test_the_legend_states_the_arrows_rule(shots: list[Shot]) -> None:
    """The rule is said on screen, under the pushes' entry, in words that match push_length."""
    said = " ".join(t for t in shots[-1].texts() if t)
    assert " ".join(distribution.PUSH_RULE.split()) in said
    assert "strongest 10 %" in distribution.PUSH_RULE
    assert np.allclose(distribution.push_length(np.array([0.0, 0.5, 1.0, 3.0]), 1.0), [0, 0.45, 0.65, 0.65])


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A designed run whose noise is 2-D (the toy-quadratic variant): its grid covers the whole noise square."""
    return make_designed_run(
        tmp_path_factory.mktemp("flat") / "toy2d", "toy2d", n=N, tilt=TILT, variant="toy-quadratic"
    )


def test_mesh_is_the_designed_grid_fake_for_2d_noise(flat: Path) -> None:
    """Noise of dimension 2: G's image of the 16x16 grid over the noise square: its 16 rows then 16 columns, 15
    segments each, corner to corner; the legend names it and the title has no word on a missing grid."""
    designed = Designed(flat)
    with np.load(flat / "fixed.npz") as f:
        assert f["grid_noise"].shape == (256, 2)  # the grid is the whole noise, not a slice of it
    shots = probe(distribution.DecisionField, flat)
    for step, shot in settled(shots):
        grid = to_scene(shot, designed.extent, designed.mesh(step)).reshape(16, 16, 2)
        want = [(a, b) for line in [*grid, *grid.transpose(1, 0, 2)] for a, b in zip(line, line[1:], strict=False)]
        seg = path(shot, "noise grid").points.reshape(-1, 4, 2)
        np.testing.assert_allclose(seg[:, 0], [a for a, _ in want], atol=1e-6, err_msg=str(step))
        np.testing.assert_allclose(seg[:, 3], [b for _, b in want], atol=1e-6)
    said = " ".join(shots[-1].texts())
    assert "G's image of the noise square" in said and "no noise grid" not in said


def test_no_mesh_where_the_noise_has_more_dimensions(shots: list[Shot]) -> None:
    """The designed rings run's noise has 100 dimensions: its recorded grid is a 2-D slice, so no mesh is drawn, and
    the line under the subtitle says why, its number registered as the run's setting."""
    end = shots[-1]
    assert not end.find(name="noise grid")
    (line,) = [m for m in end.mobs if any(r.quantity == "config:noise_dim" for r in m.readings)]
    words = " ".join(m.text for m in end.find("Text") if m.path[: len(line.path)] == line.path)
    assert words.startswith("no noise grid: noise has 100 dimensions")
    assert "would not lie on G's samples" in words
    (map_box,) = end.find("Rectangle", name="map")
    assert line.box[1] > map_box.box[3]  # above the map, with the title


def overshoot(t: float) -> float:
    """A learner that goes two and a half times past the arcs: the last snapshots' samples leave the map."""
    return 2.5 * t


def test_samples_off_the_map_are_edge_markers_pointing_out(tmp_path: Path) -> None:
    run = make_designed_run(tmp_path / "far", "toy2d", n=N, learn=overshoot, tilt=TILT)
    d = Designed(run, learn=2.5)
    end = probe(distribution.DecisionField, run)[-1]
    fake = d.fake(TOTAL)  # 2.5 target - 1.5 start
    ext = d.extent
    off = ~((fake[:, 0] >= ext[0]) & (fake[:, 0] <= ext[1]) & (fake[:, 1] >= ext[2]) & (fake[:, 1] <= ext[3]))
    assert 5 < off.sum() < N
    _, dot_size = centres(path(end, "generated points"), 32)
    assert np.allclose(dot_size[off], 0.0, atol=1e-9) and np.allclose(dot_size[~off], distribution.DOT)
    marks = path(end, "off-map markers").points.reshape(N, 12, 2)
    mid, size = centres(path(end, "off-map markers"), 12)
    assert np.allclose(size[~off], 0.0, atol=1e-9) and np.allclose(size[off], distribution.MARK)
    (box,) = end.find("Rectangle", name="map")
    centre = np.array(box.center)
    for i in np.nonzero(off)[0]:
        out = (fake[i] - (ext[[0, 2]] + ext[[1, 3]]) / 2) * [box.width / (ext[1] - ext[0])] * 2
        on_edge = np.isclose(mid[i], box.box[:2], atol=1e-6) | np.isclose(mid[i], box.box[2:], atol=1e-6)
        assert on_edge.any(), i  # on the frame
        towards = mid[i] - centre
        cross = towards[0] * out[1] - towards[1] * out[0]
        assert abs(cross) < 1e-6 * np.linalg.norm(out) and towards @ out > 0  # on the ray from the centre out
        apex = marks[i, 0]  # the triangle's first corner, its tip
        tip = apex - mid[i]
        assert np.dot(tip, out) / np.linalg.norm(tip) / np.linalg.norm(out) == pytest.approx(1.0, abs=1e-6)


def averaged(f, step: int, width: int) -> float:
    """The trailing mean of the designed curve ``f`` over the last ``width`` logged steps (1, 2, ...) up to ``step``."""
    steps = np.arange(max(1, step - width + 1), step + 1)
    return float(np.mean(f(steps / TOTAL))) if len(steps) else float("nan")


def d_real(t: np.ndarray) -> np.ndarray:
    return 0.95 - 0.45 * t


def d_fake(t: np.ndarray) -> np.ndarray:
    return 0.05 + 0.4 * t


def test_chart_readouts_and_verdict_follow_the_designed_scores(shots: list[Shot], toy2d: Path) -> None:
    """The curves are the designed mean scores D(x) = 0.95 - 0.45 t and D(G(z)) = 0.05 + 0.4 t (metrics.jsonl) as
    every scene averages them (readouts.window: 4 of 200 logged steps, trailing), said under the chart; the cursor
    follows the shown step, the readouts print the averaged values there, registered as the metrics at that average,
    and each curve's dot sits at exactly its readout's value; the closing line: at step 200 D(x) = 0.50 and D(G(z))
    = 0.45 (averaged: 0.5034, 0.4470), D can barely tell them apart."""
    width = readouts.window(Run.load(toy2d))
    assert width == 4
    end = shots[-1]
    (chart,) = end.find("Rectangle", name="chart")
    curves = {m.stroke: m for m in end.find(name="curve")}
    steps = np.arange(1, TOTAL + 1)
    for colour, f in ((style.REAL_COLOR, d_real), (style.FAKE_COLOR, d_fake)):
        pts = np.concatenate([curves[hexc(colour)].points[::4], curves[hexc(colour)].points[-1:]])
        assert len(pts) == TOTAL
        want = [averaged(f, s, width) for s in steps]
        np.testing.assert_allclose((pts[:, 1] - chart.box[1]) / chart.height, want, atol=1e-9)
        np.testing.assert_allclose((pts[:, 0] - chart.box[0]) / chart.width, steps / TOTAL, atol=1e-9)
    assert f"D's mean scores, {width}-step average" in end.texts()
    for step, shot in settled(shots):
        real, fake = sorted(shot.find("DecimalNumber"), key=lambda m: m.center[0])
        assert real.value == pytest.approx(averaged(d_real, step, width), abs=1e-9), step
        assert fake.value == pytest.approx(averaged(d_fake, step, width), abs=1e-9), step
        assert [r.quantity for r in real.readings + fake.readings] == ["metric:d_real", "metric:d_fake"]
        assert {r.average for r in real.readings + fake.readings} == {width}
        (cursor,) = shot.find("Line", name="cursor")
        x = chart.box[0] + step / TOTAL * chart.width
        assert cursor.center[0] == pytest.approx(x, abs=1e-6)
        for colour, value in ((style.REAL_COLOR, real.value), (style.FAKE_COLOR, fake.value)):
            (dot,) = shot.find("Dot", name="score dot", fill=hexc(colour))
            assert dot.center == pytest.approx((x, chart.box[1] + value * chart.height), abs=1e-9)
    assert "D ends barely telling G(z) from real data" in end.texts()


def test_before_the_first_logged_step_no_score_is_shown(shots: list[Shot]) -> None:
    """At step 0 nothing is logged yet: the readouts and the curves' dots are hidden (no value is made up)."""
    first = [s for s in shots if s.find("Rectangle", name="chart")][0]
    assert step_of(first) == 0
    assert not first.find("DecimalNumber") and not first.find("Dot", name="score dot")


def test_legend_words_are_in_their_roles_colours(shots: list[Shot]) -> None:
    end = shots[-1]
    for words, colour in (
        ("real data", style.REAL_COLOR),
        ("G(z)", style.FAKE_COLOR),
        ("where G's loss pushes G(z)", style.GRAD_COLOR),
    ):
        (text,) = end.find("Text", re.escape(words))
        assert text.fill == hexc(colour), words


def test_a_run_without_fake_grad_draws_no_pushes_and_says_so(tmp_path: Path) -> None:
    run = make_designed_run(tmp_path / "old", "toy2d", n=N, drop=("fake_grad",))
    end = probe(distribution.DecisionField, run)[-1]
    shafts = path(end, "pushes").points.reshape(-1, 4, 2)
    assert np.allclose(shafts[:, 0], shafts[:, 3])
    _, tips = centres(path(end, "push tips"), 12)
    assert np.allclose(tips, 0.0, atol=1e-9)
    assert "no pushes: run lacks fake_grad" in end.texts()


def pixel(frame: np.ndarray, point: np.ndarray) -> tuple[int, int]:
    """(column, row) of a scene point in a rendered frame (manim's frame: 8 units high, 16:9)."""
    h, w = frame.shape[:2]
    width = 8 * w / h
    return int(round((point[0] + width / 2) / width * w)), int(round((4 - point[1]) / 8 * h))


def half(t: float) -> float:
    """A learner that gets half way: D's boundary ends at x = 0, mid-map."""
    return 0.5 * t


def test_rendered_frame_shows_the_recorded_field(tmp_path: Path) -> None:
    """The last frame, rendered: inside the map, green (D says real) left of the boundary at x = 0, purple right
    of it, following the recorded field."""
    run = make_designed_run(tmp_path / "half", "toy2d", n=N, learn=half, total_steps=60, snapshot_every=20, tilt=TILT)
    kw = {"fmt": "png", "out": tmp_path / "v", "progress": False, "pixel_width": 480, "frame_rate": 5}
    (png,) = render_file(builtin_scene_path("distribution"), Run.load(run), **kw)
    frame = np.asarray(Image.open(png).convert("RGB")).astype(np.float64)
    d = Designed(run, total=60, learn=0.5)
    (drawn,) = probe(distribution.DecisionField, run)[-1].find("Rectangle", name="map")  # where the map is
    (x0, y0), (x1, y1) = pixel(frame, drawn.box[::3]), pixel(frame, drawn.box[2:0:-1])
    box = frame[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2]
    green_minus_purple = box[..., 1] - box[..., 0]
    xs = np.linspace(d.extent[0], d.extent[1], box.shape[1])
    left, right = green_minus_purple[:, xs < -3].mean(), green_minus_purple[:, xs > 3].mean()
    assert left > 20 and right < -20, (left, right)
    field = np.asarray(Image.fromarray(d.field(60)[::-1].astype(np.float32)).resize(box.shape[1::-1]))
    a, b = green_minus_purple.ravel() - green_minus_purple.mean(), field.ravel() - field.mean()
    assert (a @ b) / np.sqrt((a @ a) * (b @ b)) > 0.8


def test_a_square_toy_is_laid_out(tmp_path: Path) -> None:
    """A toy whose field is square (as the 8 Gaussians') gets a square map at the safe area's left edge, as large as
    fits under the title's three lines; the side panel then has less room (the closing line takes two lines) and the
    layout rules and the truth check still hold. Points off this map (the rings reach 10 and more, the map only 4)
    are edge markers pointing out, the real batch's as G's."""
    from test_scene_layout import problems

    run = make_designed_run(tmp_path / "square", "toy2d", n=N)
    with np.load(run / "fixed.npz") as f:
        arrays = dict(f)
    arrays["field_extent"] = np.array([-30, 30, -30, 30], np.float32)
    np.savez(run / "fixed.npz", **arrays)
    shots = probe(distribution.DecisionField, run)
    (box,) = shots[-1].find("Rectangle", name="map")
    assert box.width == pytest.approx(box.height) and box.width > 0.9 * distribution.BOX_SIZE
    assert box.box[0] == pytest.approx(style.safe_box()[0])
    found = problems(shots) + untrue(shots, {"run": str(run)})
    assert not found, "\n".join(found[:10])


def test_real_points_off_the_map_are_edge_markers(tmp_path: Path) -> None:
    """A map smaller than the real batch (field_extent narrowed to [-4, 4]^2; the rings reach 10): each real point off
    it is a marker on the map's edge pointing out (on the ray from the map's centre), none a dot pinned to the edge."""
    run = make_designed_run(tmp_path / "small", "toy2d", n=N)
    with np.load(run / "fixed.npz") as f:
        arrays = dict(f)
    arrays["field_extent"] = np.array([-4, 4, -4, 4], np.float32)
    np.savez(run / "fixed.npz", **arrays)
    real = arrays["real"].astype(np.float64)
    off = np.any(np.abs(real) > 4, axis=1)
    assert 5 < off.sum() < N
    end = probe(distribution.DecisionField, run)[-1]
    _, dot_size = centres(path(end, "real points"), 32)
    assert np.allclose(dot_size[off], 0.0, atol=1e-9) and np.all(dot_size[~off] > 0.01)
    mid, size = centres(path(end, "real off-map markers"), 12)
    assert np.allclose(size[~off], 0.0, atol=1e-9) and np.allclose(size[off], distribution.MARK)
    (box,) = end.find("Rectangle", name="map")
    centre, scale = np.array(box.center), box.width / 8
    for i in np.nonzero(off)[0]:
        on_edge = np.isclose(mid[i], box.box[:2], atol=1e-6) | np.isclose(mid[i], box.box[2:], atol=1e-6)
        assert on_edge.any(), i
        towards, out = mid[i] - centre, real[i] * scale
        assert abs(towards[0] * out[1] - towards[1] * out[0]) < 1e-6 * np.linalg.norm(out) and towards @ out > 0
