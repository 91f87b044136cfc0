"""ModeCollapse on designed runs: what each part shows, read from the scene graph (tests/scene_probe.py).

The designed 8-Gaussians runs (tests/designed.py, 64 fixed samples, snapshots every 20 of 200 steps, measures every
40 and at the last step): G's samples move on straight lines from a blob at the origin (step 0, read from the run)
to ``on_modes(64, modes(t))`` at learning fraction a = t = step / 200; the measures at step e count
``mode_counts(e / 200, modes(e / 200))`` of 1000 samples. The digits run records ``classes`` the same way (all 1000
samples split over the digits drawn, ``recognised`` the share 0.9 a of them, the rest ``unrecognised``) and precision
0.05 + 0.9 a. Every expected value is computed here from those closed forms; the scene is stopped at chosen points of
its timeline by a subclass that sweeps in steps. Shares are drawn on a log axis from FLOOR (a tenth of one sample of
the 1000) to 100 %: a bar's length over its track is log10(share / FLOOR) / 4.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from designed import EVAL_SAMPLES, collapse, cover, hop, make_designed_run, mode_centres, mode_counts, on_modes
from scene_probe import Mob, Shot, probe
from truth import problems as untrue

from pipeline import render
from pipeline.frames import tile, to_rgb
from pipeline.run import Run
from scenes import mode_collapse, style

pytestmark = pytest.mark.xdist_group("scene-content")

TOTAL, N, EVERY = 200, 64, 40
FLOOR = 0.1 / EVAL_SAMPLES  # the share axis's left end
#: where the stepped scene stops: tracker values, the steps they stand for (11 snapshots, all shown: 0.37 is 70 %
#: of the way from step 60 to 80) and the step of the last snapshot reached, which the footer counts
STOPS = (0.1, 0.37, 0.5, 1.0)
STEPS = (20, 74, 100, 200)
SHOWN = (20, 60, 100, 200)


def three(t: float) -> Sequence[int]:
    """G on modes 2, 5 and 6 throughout: a partial collapse."""
    return (2, 5, 6)


def seven(t: float) -> Sequence[int]:
    """G on every mode but mode 3 (the fourth), throughout."""
    return (0, 1, 2, 4, 5, 6, 7)


def flicker(t: float) -> float:
    """A learner on mode 2 (``collapse`` shifted) that holds it in the second and fourth quarter of the run only:
    measured at steps 80 and 160, lost at 120 and 200."""
    return 1.0 if int(4 * t) % 2 == 1 and t < 1 else 0.0


def digits(t: float) -> Sequence[int]:
    """All ten digits in the first half, then only 1, 4 and 7."""
    return range(10) if t <= 0.5 else (1, 4, 7)


class Stepped(mode_collapse.ModeCollapse):
    """The scene, its sweep stopped at each of STOPS (one play call each, so the probe records every stop)."""

    def sweep(self, panels: list[mode_collapse.Panel]) -> None:
        for value in STOPS:
            self.advance(panels, value, 0.5)
            self.wait(0.1)  # a frame drawn after the measures in force were set


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("modes")
    out = {
        name: make_designed_run(root / name, "toy2d", n=N, modes=m)
        for name, m in (("cover", cover), ("collapse", collapse), ("hop", hop), ("three", three), ("seven", seven))
    }
    out["reach"] = make_designed_run(root / "reach", "toy2d", n=N, modes=cover, learn=lambda t: 0.5 * t)
    out["flicker"] = make_designed_run(root / "flicker", "toy2d", n=N, modes=lambda t: (2,), learn=flicker)
    out["digits"] = make_designed_run(root / "digits", "image", modes=digits)
    out["rings"] = make_designed_run(root / "rings", "toy2d", n=N)
    out["image"] = make_designed_run(root / "image", "image")
    return out


@pytest.fixture(scope="module")
def stepped(runs: dict[str, Path]) -> dict[str, list[Shot]]:
    """Shots of the stepped scene: title, panels, wait, then two per stop, then the closing line and the wait."""
    return {name: probe(Stepped, run=runs[name]) for name in ("cover", "hop", "digits")}


def stops(shots: list[Shot]) -> list[Shot]:
    """The shots at the stops: title, panels, a wait, then a play and a wait for each stop."""
    return shots[4 : 4 + 2 * len(STOPS) : 2]


def in_force(step: int) -> int:
    """The step of the last measurement at or before ``step``."""
    return min(step // EVERY * EVERY, TOTAL)


def counts_at(step: int, modes: mode_collapse.Callable | None = None, *, kind: str = "toy2d") -> np.ndarray:
    """The counts of the measurement in force: 8 Gaussians the samples on each mode, digits those recognised."""
    e = in_force(step)
    return np.array(
        mode_counts(e / TOTAL, modes(e / TOTAL))
        if kind == "toy2d"
        else mode_counts(0.9 * e / TOTAL, modes(e / TOTAL), 10)
    )


def on_axis(share: np.ndarray) -> np.ndarray:
    """Where shares end on the log axis, over the track's width (0 for no sample)."""
    share = np.asarray(share, np.float64)
    return np.where(share > 0, np.clip(np.log10(np.maximum(share, 1e-12) / FLOOR) / 4, 0, 1), 0.0)


def counter(shot: Shot) -> Mob:
    found = [m for m in shot.visible() if m.name == "counter"]
    assert len(found) == 1, found
    return found[0]


def shares(shot: Shot, total: int) -> tuple[np.ndarray, np.ndarray]:
    """(bar fill / track width, the % numbers) of the share bars, in mode (digit) order, the rest's row last."""
    tracks = [m for m in shot.visible() if m.name == "track"]
    names = [*(f"share {k}" for k in range(total)), "share rest"]
    fills = [next(m for m in shot.mobs if m.name == n) for n in names]
    pcts = [next(m for m in shot.mobs if m.name == f"{n} %") for n in names]
    assert len(tracks) == total + 1
    widths = np.array([f.width if f.width > 0.002 else 0.0 for f in fills]) / tracks[0].width
    return widths, np.array([p.value for p in pcts])


def footer_step(shot: Shot) -> int:
    """The footer's count: the visible Integer registered as the step."""
    found = [m for m in shot.visible() if m.kind == "Integer" and any(r.quantity == "step" for r in m.readings)]
    assert len(found) == 1, found
    return int(found[0].value)


# -- the 8-Gaussians run ---------------------------------------------------------------------------------------
def test_footer_counts_the_snapshot_reached(stepped: dict[str, list[Shot]]) -> None:
    assert [footer_step(s) for s in stops(stepped["cover"])] == list(SHOWN)


@pytest.mark.parametrize("name", ["cover", "hop"])
def test_counter_is_the_measure_in_force(name: str, stepped: dict[str, list[Shot]]) -> None:
    """The counter reads evals.jsonl: the modes with a count at the last measurement at or before the footer's step
    (at 60 the one of step 40, at 100 the one of step 80)."""
    modes = {"cover": cover, "hop": hop}[name]
    for shot, step in zip(stops(stepped[name]), SHOWN, strict=True):
        assert counter(shot).value == int((counts_at(step, modes) > 0).sum()), (name, step)
    assert counter(stepped[name][1]).value == 0  # step 0: nothing measured near a mode


def test_points_are_the_designed_samples(runs: dict[str, Path], stepped: dict[str, list[Shot]]) -> None:
    """G's dots sit where the snapshots put the samples, blended between snapshots (step 74: 70 % of the way from
    60 to 80), mapped through D's field's extent onto the map."""
    with np.load(runs["cover"] / "fixed.npz") as f:
        lo, hi = f["field_extent"][[0, 2]].astype(np.float64), f["field_extent"][[1, 3]].astype(np.float64)
    with np.load(runs["cover"] / "snapshots" / "step_00000000.npz") as f:
        start = f["fake"].astype(np.float64)
    target = on_modes(N, range(8), 1).astype(np.float64)
    for shot, step in zip(stops(stepped["cover"]), STEPS, strict=True):
        a = step / TOTAL
        want = (1 - a) * start + a * target
        field = shot.one("ImageMobject", name="field")
        scene = np.array(field.box[:2]) + (want - lo) / (hi - lo) * np.array([field.width, field.height])
        dots = shot.one(name="generated points").points.reshape(N, -1, 2).mean(axis=1)
        assert np.abs(dots - scene).max() < 1e-3, step
        rings = np.array([m.center for m in shot.visible() if m.name == "mode"])  # mode k at k x 45 degrees
        where = np.array(field.box[:2]) + (mode_centres() - lo) / (hi - lo) * np.array([field.width, field.height])
        assert np.abs(rings - where).max() < 0.02, step


def test_field_is_the_designed_field(runs: dict[str, Path], stepped: dict[str, list[Shot]]) -> None:
    """D's field in the score map at snapshot steps (row 0 of the recorded field is the lowest y: drawn last)."""
    run = Run.load(runs["hop"])
    for shot, step in zip(stops(stepped["hop"]), STEPS, strict=True):
        if step % 20:
            continue
        field = np.asarray(run.read_snapshot(step, ("field",)).field, np.float64)
        assert np.array_equal(shot.one("ImageMobject", name="field").pixels, style.score_rgb(field[::-1])), step


def test_shares_and_rings_follow_the_measures(stepped: dict[str, list[Shot]]) -> None:
    """Each mode's bar is its share of *all* measured samples (its count over 1000) on the log axis, its % number the
    same share to a tenth of a percent; the last row holds the samples off every mode (the rest of the 1000); the
    ring of a captured mode is bold, the name of a missed one in the 'wrong' colour."""
    for name, modes in (("cover", cover), ("hop", hop)):
        for shot, step in zip(stops(stepped[name]), SHOWN, strict=True):
            counts = counts_at(step, modes)
            share = np.append(counts, EVAL_SAMPLES - counts.sum()) / EVAL_SAMPLES
            widths, pcts = shares(shot, 8)
            assert np.allclose(widths, on_axis(share), atol=2e-3), (name, step, widths)
            assert list(pcts) == pytest.approx([round(100 * v, 1) for v in share], abs=1e-9), (name, step)
            assert sum(pcts) == pytest.approx(100.0, abs=0.5)  # every sample in one bucket
            rings = [m for m in shot.visible() if m.name == "mode"]
            bold = [m.stroke_width == mode_collapse.CAPTURED[1] for m in rings]
            assert bold == list(counts > 0), (name, step)
            bar_names = shot.find("Text", r"^[1-8]$")
            missed = {int(m.text) - 1 for m in bar_names if m.fill == style.BAD_COLOR.lower()}
            assert missed == set(np.flatnonzero(counts == 0)), (name, step)


def test_step_zero_is_all_off(stepped: dict[str, list[Shot]]) -> None:
    """Before training (the blob at the origin) no sample is near a mode: 0 of 8, every bar empty, 100 % off."""
    shot = stepped["hop"][1]
    widths, pcts = shares(shot, 8)
    assert counter(shot).value == 0 and list(pcts) == [0.0] * 8 + [100.0] and widths[-1] == pytest.approx(1.0)


def test_capture_rule_and_even_share_on_the_axis(stepped: dict[str, list[Shot]]) -> None:
    """The capture rule (one sample of the 1000: 0.1 %) and the even share 1/8 are marked on the log axis, whose
    powers of ten are labelled; the key says what each mark and the last row mean."""
    shot = stepped["cover"][-1]
    track = next(m for m in shot.visible() if m.name == "track")
    for mark, share in (("capture rule", 1 / EVAL_SAMPLES), ("even share", 1 / 8)):
        line = shot.one(name=mark)
        assert line.center[0] == pytest.approx(track.box[0] + on_axis(share) * track.width, abs=1e-3), mark
    ticks = {m.text for m in shot.visible() if m.kind == "Text" and m.constant} & {"0.1", "1", "10", "100"}
    assert ticks == {"0.1", "1", "10", "100"}
    texts = shot.texts()
    for words in ("captured: ≥ 1 sample within 3 std", "even share 1/8", "off: within 3 std of no mode", "off"):
        assert words in texts, words
    assert "% of G's samples" in texts and "captured" in texts  # the two columns' heads
    assert {"0", "200", "step"} <= set(texts)  # the strips' step axis: the run's first and last step


def test_history_lights_the_stretches_captured(stepped: dict[str, list[Shot]]) -> None:
    """Beside each mode, the run so far: lit from each measurement that counted it captured to the next one (or to
    the shown step), on a strip that spans the whole run; the hopping run's modes light up one after another."""
    for shot, step, shown in zip(stops(stepped["hop"]), STEPS, SHOWN, strict=True):
        lanes = sorted((m for m in shot.visible() if m.name == "lane"), key=lambda m: -m.center[1])
        assert len(lanes) == 8
        evals = list(range(0, TOTAL + 1, EVERY))
        last = max(i for i, e in enumerate(evals) if e <= shown)
        for k, lane in enumerate(lanes):
            want = []
            for j in range(last + 1):
                if mode_counts(evals[j] / TOTAL, hop(evals[j] / TOTAL))[k] > 0:
                    end = step if j == last else min(evals[j + 1], step)
                    if end > evals[j]:
                        want.append((evals[j], end))
            blocks = [m for m in shot.mobs if m.name == f"captured {k}"]
            got = []
            if blocks and blocks[0].points is not None:
                xy = blocks[0].points.reshape(-1, 16, 2)
                got = [tuple((xy[i, :, 0].min(), xy[i, :, 0].max())) for i in range(len(xy))]
            got = [tuple(round((x - lane.box[0]) / lane.width * TOTAL, 6) for x in g) for g in got]
            assert got == [tuple(map(float, w)) for w in want], (step, k, got, want)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("cover", "G covers all 8 modes"),
        ("reach", "G reaches all 8 modes, but 50.0 % of its samples lie off them"),
        ("collapse", "G has collapsed onto 1 mode"),
        ("hop", "G hops between modes, ending on 1 of 8"),
        ("three", "G has collapsed onto 3 of 8 modes"),
        ("seven", "G covers 7 of 8 modes, missing mode 4"),
        ("flicker", "G hops between modes, ending on 0 of 8"),
    ],
)
def test_caption_follows_the_numbers(name: str, words: str, runs: dict[str, Path]) -> None:
    run = Run.load(runs[name])
    said = mode_collapse.verdict(run, mode_collapse.measure(run)).words
    assert said == words
    if name != "cover":
        assert "covers all 8" not in said  # a collapsing run, or one with half its samples off, is not 'covering'


def test_caption_on_screen(stepped: dict[str, list[Shot]]) -> None:
    """The closing line appears last, once the sweep is over (a paragraph: its lines joined)."""
    before, after = set(stepped["hop"][-3].texts()), stepped["hop"][-1].texts()
    said = " ".join(t for t in after if t not in before)
    assert said == "G hops between modes, ending on 1 of 8"


# -- digit runs ---------------------------------------------------------------------------------------------------
def test_digits_histogram(runs: dict[str, Path], stepped: dict[str, list[Shot]]) -> None:
    """The bars are the samples the classifier recognises as each digit, over all 1000 measured, and the last row
    those it recognises as no digit; the counter the digits with a recognised sample; the missing digits' names in
    the 'wrong' colour; G's samples the snapshot's, 4 x 4 (16 fixed samples)."""
    run = Run.load(runs["digits"])
    for shot, at, step in zip(stops(stepped["digits"]), STEPS, SHOWN, strict=True):
        counts = counts_at(step, digits, kind="image")
        share = np.append(counts, EVAL_SAMPLES - counts.sum()) / EVAL_SAMPLES
        widths, pcts = shares(shot, 10)
        assert np.allclose(widths, on_axis(share), atol=2e-3), (step, widths)
        assert list(pcts) == pytest.approx([round(100 * v, 1) for v in share], abs=1e-9), step
        assert counter(shot).value == int((counts > 0).sum())
        names = shot.find("Text", r"^\d$")
        missed = {int(m.text) for m in names if m.fill == style.BAD_COLOR.lower()}
        assert missed == set(np.flatnonzero(counts == 0)), step
        if at % 20 == 0:
            want = to_rgb(tile(run.read_snapshot(at, ("fake",)).fake[:16], 4, pad=1, pad_value=24))
            assert np.array_equal(shot.one("ImageMobject", name="samples").pixels, want), step
    first = stepped["digits"][1]  # step 0: noise, which the classifier would call digits, is recognised as none
    assert counter(first).value == 0 and list(shares(first, 10)[1]) == [0.0] * 10 + [100.0]
    texts = " ".join(stepped["digits"][-1].texts())
    assert "G ends drawing 3 of 10 digits: only 1, 4 and 7" in texts, texts
    assert "none: recognised as no digit" in texts and "drawn: ≥ 1 sample recognised as it" in texts


def test_digits_not_yet_digits(tmp_path: Path) -> None:
    """A run whose samples are no digits is not said to draw or miss digits: from the unrecognised share, or for a
    run recorded before it (no ``recognised``), from precision under 0.1."""
    path = make_designed_run(tmp_path / "early", "image", modes=digits, learn=lambda t: 0.0)
    run = Run.load(path)
    said = mode_collapse.verdict(run, mode_collapse.measure(run)).words
    assert said == "G's samples are not digits yet: 100.0 % are recognised as no digit"
    old = make_designed_run(tmp_path / "old", "image", modes=digits, learn=lambda t: 0.0, drop=OLD_DIGITS)
    run = Run.load(old)
    assert mode_collapse.verdict(run, mode_collapse.measure(run)).words == (
        "G's samples are not digits yet (precision 0.05)"
    )


OLD_DIGITS = ("recognised", "unrecognised", "confidence")


def test_a_digits_run_recorded_before_recognised_still_draws(tmp_path: Path) -> None:
    """evals.jsonl rows without ``recognised``: the counter and every share read '–' (not known), nothing untrue is
    on screen, and the scene still plays to its closing line."""
    path = make_designed_run(tmp_path / "old", "image", modes=digits, drop=OLD_DIGITS)
    shots = probe(mode_collapse.ModeCollapse, run=path)
    end = shots[-2]
    hidden = [m for m in end.mobs if m.name == "counter" or m.name.startswith("share ") and m.name.endswith("%")]
    assert len(hidden) == 12 and all(m.fill_opacity == 0 for m in hidden)
    assert end.texts().count("–") == 12
    assert not untrue(shots, {"run": str(path)})
    said = " ".join(shots[-1].texts())
    assert "G ends drawing 3 of 10 digits" in said


def test_a_toy_run_recorded_before_off_reads_the_same(runs: dict[str, Path], tmp_path: Path) -> None:
    """An 8-Gaussians run recorded before ``off``: the samples off every mode are what the counts leave."""
    old = Run.load(make_designed_run(tmp_path / "old", "toy2d", n=N, modes=hop, drop=("off",)))
    new = Run.load(runs["hop"])
    for a, b in zip(mode_collapse.measure(old).rows, mode_collapse.measure(new).rows, strict=True):
        assert "off" not in a
        assert mode_collapse.eval_part(a, "share_off") == mode_collapse.eval_part(b, "share_off")


# -- --compare ---------------------------------------------------------------------------------------------------
def test_compare_side_by_side(runs: dict[str, Path]) -> None:
    """Two panels side by side on one share axis (the collapsing run's 100 % fills its bar, the covering run's
    12.5 % ends at log10(1250) / 4 of its own), each with its own step, counter and caption, and a closing line from
    both runs' numbers in the title's place."""
    shots = probe(mode_collapse.ModeCollapse, run=runs["cover"], compare=runs["collapse"])
    end = shots[-1]
    fields = sorted(end.find("ImageMobject", name="field"), key=lambda m: m.box[0])
    assert len(fields) == 2 and fields[0].box[2] < fields[1].box[0]
    assert fields[0].width == pytest.approx(fields[1].width)
    counters = sorted((m for m in end.visible() if m.name == "counter"), key=lambda m: m.box[0])
    assert [m.value for m in counters] == [8, 1]
    assert [m.value for m in sorted(end.find("Integer", name="steps"), key=lambda m: m.box[0])] == [200, 200]
    tracks = sorted((m for m in end.visible() if m.name == "track"), key=lambda m: (m.box[0], -m.box[1]))
    assert len(tracks) == 18 and tracks[0].width == pytest.approx(tracks[-1].width)
    widths = sorted((m for m in end.visible() if m.name == "share 0"), key=lambda m: m.box[0])
    assert widths[0].width / tracks[0].width == pytest.approx(on_axis(0.125), abs=2e-3)
    assert widths[1].width / tracks[0].width == pytest.approx(1.0, abs=2e-3)
    texts = " | ".join(end.texts())
    assert "G covers all 8 modes" in texts and "G has collapsed onto 1 mode" in texts
    names = ["cover", "collapse"]  # both runs use bce: they are called by their names
    assert f"At the end: {names[0]} 8 of 8 modes, {names[1]} 1" in texts
    assert "Does G cover all eight modes?" not in texts  # the finding replaced the question
    assert not untrue(shots, {"run": str(runs["cover"]), "other": str(runs["collapse"])})


def test_compare_runs_of_unequal_length(runs: dict[str, Path], tmp_path: Path) -> None:
    """A 400-step run beside a 200-step one: shown at the same fraction of their training, each panel counts its
    own steps ('step 100 of 200' beside 'step 200 of 400'), and every number of the second run is true at its own
    step."""
    long = make_designed_run(tmp_path / "long", "toy2d", n=N, modes=hop, total_steps=400)
    shots = probe(Stepped, run=runs["hop"], compare=long)
    at_half = stops(shots)[2]
    assert [m.value for m in sorted(at_half.find("Integer", name="steps"), key=lambda m: m.box[0])] == [100, 200]
    assert {"of 200", "of 400"} <= set(at_half.texts())
    assert not untrue(shots, {"run": str(runs["hop"]), "other": str(long)})


def test_compare_needs_the_same_kind(runs: dict[str, Path]) -> None:
    with pytest.raises(Exception, match="--compare: .*digits.*image run"):
        probe(mode_collapse.ModeCollapse, run=runs["cover"], compare=runs["digits"])


# -- runs the scene cannot draw ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "needle"),
    [
        (
            "rings",
            "needs an 8-Gaussians run, but rings is trained on rings; train one with 'ganviz train toy-8gaussians'",
        ),
        ("image", "did not record: run 'ganviz eval "),
    ],
)
def test_cannot_draw_says_why(name: str, needle: str, runs: dict[str, Path]) -> None:
    reason = mode_collapse.ModeCollapse.cannot_draw(Run.load(runs[name]))
    assert reason is not None and needle in reason and "\n" not in reason
    if name == "image":
        assert "--space digits" in reason and "--set eval_every=N" in reason and "measure='digits'" in reason


def test_render_all_skips_with_the_note(
    runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ganviz render all` on runs without the measures skips the scene with its one-line reason."""
    monkeypatch.setattr(render, "builtin_scenes", lambda: ["mode_collapse"])
    assert render.render_all(Run.load(runs["image"]), runs_2d=Run.load(runs["rings"]), out=tmp_path) == []
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("note: skipping mode_collapse: scene ModeCollapse needs"), err
    assert err[1].startswith("render all: drawn 0 / skipped 1 (mode_collapse: scene ModeCollapse needs"), err
    assert err[1].endswith(" / failed 0"), err


def test_a_compared_runs_long_name_fits_its_panel(tmp_path: Path, runs: dict[str, Path]) -> None:
    """A compared panel's label (the loss in words and the run's name) stays on one line inside its half: the middle
    of the run's name gives way to an ellipsis (its start and its seed stay readable)."""
    name = "toy-8gaussians-bce-with-a-name-nobody-would-shorten-seed7"
    path = make_designed_run(tmp_path / name, "toy2d", n=N, modes=cover)
    end = probe(mode_collapse.ModeCollapse, run=path, compare=runs["collapse"])[-1]
    label = next(
        m for m in end.visible() if m.kind == "Text" and (m.text or "").startswith("non-saturating loss · toy")
    )
    text = label.text or ""
    assert text.endswith("seed7") and "…" in text and len(text) > 30
    assert label.box[2] <= 0.0 + 1e-6  # inside the left half


def test_samples_off_the_map_are_marked_on_its_edge(tmp_path: Path) -> None:
    """G's samples that overshoot the modes (learning fraction 2.5 t: at the end they lie 2.5 times as far from
    the blob as the modes) leave the map: each is drawn as a marker on the map's edge, not as a dot pinned there,
    and the legend names the marker."""
    run = make_designed_run(tmp_path / "far", "toy2d", n=N, modes=cover, learn=lambda t: 2.5 * t)
    shots = probe(mode_collapse.ModeCollapse, run)
    (frame,) = [m for m in shots[-1].find("Rectangle") if m.width == pytest.approx(mode_collapse.MAP_SIZE, abs=0.01)]
    loaded = Run.load(run)
    fake = np.asarray(loaded.read_snapshot(TOTAL, ("fake",)).fake)[: mode_collapse.MAX_POINTS, :2]
    x0, x1, y0, y1 = (float(v) for v in loaded.fixed.field_extent)
    lo, hi = np.array([x0, y0]), np.array([x1, y1])
    off = int((~np.all((fake >= lo) & (fake <= hi), axis=1)).sum())
    assert 0 < off < len(fake)
    (marks,) = shots[-1].find(name="off-map markers")
    assert len(marks.points) == off * 3 * 4  # a triangle each: three straight cubic curves
    xs, ys = marks.points[:, 0], marks.points[:, 1]
    near_edge = np.minimum.reduce(
        [abs(xs - frame.box[0]), abs(xs - frame.box[2]), abs(ys - frame.box[1]), abs(ys - frame.box[3])]
    )  # noqa: E501
    assert near_edge.max() < 2 * mode_collapse.MARK + 0.05
    assert shots[-1].find("Text", "G\\(z\\) off the map")


def test_the_closing_beat_dims_each_modes_share(runs: dict[str, Path]) -> None:
    """One idea per frame: the closing line speaks of the count of modes and of the share off every mode, so when
    it comes each mode's share (its number) recedes to style.DIM and the off share stays at full strength."""
    end = probe(mode_collapse.ModeCollapse, runs["cover"])[-1]
    modes = [m for m in end.find("DecimalNumber") if re.fullmatch(r"share \d+ %", m.name)]
    (rest,) = end.find("DecimalNumber", name="share rest %")
    assert len(modes) == 8 and all(m.fill_opacity <= style.DIM + 1e-3 for m in modes)
    assert rest.fill_opacity > 0.99
