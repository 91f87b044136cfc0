"""What TrainingCurves (scenes/training_curves.py) shows, on designed runs (tests/designed.py), from its scene graph.

Every expected value is computed here from the designed closed forms: the metrics at step s follow t = s / 200
(D(x) = 0.95 - 0.45 t, D(G(z)) = 0.05 + 0.40 t, loss D = -log D(x) - log(1 - D(G(z))), loss G = -log D(G(z))),
and snapshot k (step 20 k) holds blend(noise, targets, k / 10). Every curve and number is the trailing mean over the
last 200 // 50 = 4 logged steps (scenes/readouts.py's one rule), so a curve's value at step s is the mean of steps
s - 3 ... s (of those that exist).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from designed import blend, image_noise, image_targets, make_designed_run
from scene_probe import Mob, Shot, probe

from scenes import style, training_curves

pytestmark = pytest.mark.xdist_group("scene-content")

N, TOTAL, EVERY = 16, 200, 20
T = np.arange(1, TOTAL + 1) / TOTAL
METRICS = {
    "d_real": 0.95 - 0.45 * T,
    "d_fake": 0.05 + 0.40 * T,
}
METRICS["loss_d"] = -np.log(METRICS["d_real"]) - np.log(1 - METRICS["d_fake"])
METRICS["loss_g"] = -np.log(METRICS["d_fake"])
CURVES = {  # name shown -> (column, colour)
    "loss D": ("loss_d", style.D_COLOR),
    "loss G": ("loss_g", style.G_COLOR),
    "D(x)": ("d_real", style.REAL_COLOR),
    "D(G(z))": ("d_fake", style.FAKE_COLOR),
}
NUMBER = r"-?\d+(\.\d+)?"


WIDTH = 4  # the averaging window: 2 % of 200 logged steps


def smoothed(values: np.ndarray) -> np.ndarray:
    """The 4-step trailing mean the scene draws and reads: value i is the mean of values i - 3 ... i (that exist)."""
    return np.array([values[max(0, i - WIDTH + 1) : i + 1].mean() for i in range(len(values))])


def hexc(colour: str) -> str:
    return colour.lower()


@pytest.fixture(scope="module")
def shots(designed_image: Path) -> list[Shot]:
    return probe(training_curves.TrainingCurves, designed_image)


def ticks(shot: Shot, top: float, bottom: float) -> list[Mob]:
    """The tick numbers left of a panel's axis."""
    return [
        m
        for m in shot.find("Text", NUMBER)
        if m.box[2] < training_curves.PLOT_LEFT and bottom - 0.15 <= m.center[1] <= top + 0.15
    ]


def reading(numbers: list[Mob]) -> tuple[float, float]:
    """(slope, offset) of height against value, from tick numbers centred at their values' heights."""
    values = [float(m.text) for m in numbers]
    ys = [m.center[1] for m in numbers]
    fit = np.polyfit(values, ys, 1)
    assert np.abs(np.polyval(fit, values) - ys).max() < 1e-6  # ticks at linear heights
    return float(fit[0]), float(fit[1])


def test_ticks_read_the_datas_range(shots: list[Shot]) -> None:
    """Loss ticks are round numbers (1, 2, 2.5 or 5 times a power of ten apart) spanning the drawn losses' range;
    the score panel reads 0, 0.5, 1; the step axis is labelled with round steps from 0 to the last."""
    end = shots[-1]
    tp = training_curves
    loss = sorted(float(m.text) for m in ticks(end, tp.LOSS_TOP, tp.LOSS_BOTTOM))
    drawn = np.concatenate([smoothed(METRICS["loss_d"]), smoothed(METRICS["loss_g"])])
    assert loss == [0.0, 1.0, 2.0, 3.0]  # the losses span 0.11 ... 2.95
    assert loss[0] <= drawn.min() and loss[-1] >= drawn.max() - (drawn.max() - drawn.min()) / 4
    score = sorted(float(m.text) for m in ticks(end, tp.SCORE_TOP, tp.SCORE_BOTTOM))
    assert score == [0.0, 0.5, 1.0]
    steps = sorted(int(m.text.replace(",", "")) for m in end.find("Text", r"[\d,]+") if m.center[1] < tp.SCORE_BOTTOM)
    assert steps == [0, 50, 100, 150, 200]
    assert end.find("Text", "training step") and end.find("Text", "loss") and end.find("Text", "D's mean score")


def pen_label(shot: Shot, name: str, colour: str) -> Mob:
    """A curve's name beside the pen (left of the column of thumbnail, gap and note, which names D's scores too)."""
    (label,) = [
        m for m in shot.find("Text", re.escape(name), fill=hexc(colour)) if m.box[0] < training_curves.COLUMN - 0.05
    ]
    return label


def test_end_labels_sit_at_their_curves_last_points(shots: list[Shot]) -> None:
    """Each curve ends at its designed last value (read with the panel's own ticks) in a dot; its name and value
    sit just right of that dot: at the dot's height where the curves are apart (the losses), and where they run
    close (D's scores end 0.05 apart) stacked in the curves' order, apart, each within a label's height of its dot."""
    end = shots[-1]
    tp = training_curves
    panels = {
        "loss": reading(ticks(end, tp.LOSS_TOP, tp.LOSS_BOTTOM)),
        "score": reading(ticks(end, tp.SCORE_TOP, tp.SCORE_BOTTOM)),
    }
    rows = {}
    for name, (column, colour) in CURVES.items():
        want = smoothed(METRICS[column])[-1]
        (dot,) = [m for m in end.find("Dot", fill=hexc(colour))]
        slope, offset = panels["loss" if column.startswith("loss") else "score"]
        assert (dot.center[1] - offset) / slope == pytest.approx(want, abs=1e-6), name
        label = pen_label(end, name, colour)
        (value,) = [m for m in end.find("DecimalNumber") if abs(m.center[1] - label.center[1]) < 1e-6]
        assert value.text == f"{want:.2f}" and value.box[0] > label.box[2], name
        assert 0 < label.box[0] - dot.center[0] < 0.3, name
        rows[name] = (dot, label)
    for name in ("loss D", "loss G"):
        dot, label = rows[name]
        assert label.center[1] == pytest.approx(dot.center[1], abs=1e-6), name
    (real_dot, real), (fake_dot, fake) = rows["D(x)"], rows["D(G(z))"]
    assert real_dot.center[1] > fake_dot.center[1] and real.box[1] >= fake.box[3]  # in order, apart
    for dot, label in (rows["D(x)"], rows["D(G(z))"]):
        assert abs(label.center[1] - dot.center[1]) < label.height


class Driven(training_curves.TrainingCurves):
    """The scene's own mobjects with the pen set to chosen steps; records where the cursor stands."""

    at: tuple[float, ...] = ()
    seen: list[float] = []

    def construct(self) -> None:
        self.chart()
        self.add(self.axes, self.pen.group, self.thumb.group, self.foot.group)
        for step in self.at:
            self.play(self.pen.tracker.animate.set_value(step), run_time=0.2)
            self.seen.append(float(self.thumb.cursor.get_start()[0]))


def test_the_thumbnail_shows_the_snapshot_at_or_before_the_pen(designed_image: Path) -> None:
    """With the pen at a step, the thumbnail's 16 samples are the designed snapshot at or before it and its
    caption says that snapshot's step; the footer says the pen's step; the cursor, the curves' dots and their
    names stand at the pen's step on the step axis (read with its tick numbers)."""
    Driven.at, Driven.seen = (1, 19, 20, 21, 137, 199.4, 200), []
    shots = probe(Driven, designed_image)
    noise, targets = image_noise(N), image_targets(N)
    for shot, step, cursor in zip(shots, Driven.at, Driven.seen, strict=True):
        snap = int(round(step) // EVERY) * EVERY  # the footer's step is the pen's, rounded
        want = blend(noise, targets, snap / TOTAL)
        grid = shot.one("ImageMobject").pixels[..., 0]
        shown = [grid[1 + 29 * r : 29 + 29 * r, 1 + 29 * q : 29 + 29 * q] for r in range(4) for q in range(4)]
        assert all(np.array_equal(x, w[..., 0]) for x, w in zip(shown, want, strict=True)), step
        footer, caption = sorted(shot.find("Integer"), key=lambda m: m.center[1])
        assert caption.value == snap and footer.value == round(step), step
        axis = {int(m.text): m.center[0] for m in shot.find("Text", r"\d+") if m.center[1] < -2.3}
        x = axis[0] + (axis[200] - axis[0]) * step / TOTAL
        assert cursor == pytest.approx(x, abs=1e-6), step
        for name, (_, colour) in CURVES.items():  # the dots and the names follow the pen
            dot, label = shot.one("Dot", fill=hexc(colour)), pen_label(shot, name, colour)
            assert dot.center[0] == pytest.approx(x, abs=1e-6) and 0 < label.box[0] - x < 0.3, (step, name)


def rewrite_metrics(run: Path, change: dict[str, np.ndarray]) -> None:
    """Replace columns of a designed run's metrics.jsonl (one row per step)."""
    path = run / "metrics.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for column, values in change.items():
        for row, v in zip(rows, values, strict=True):
            row[column] = float(v)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def note(shot: Shot) -> str:
    """The closing note under the gap's sum, its lines joined."""
    lines = [
        m
        for m in shot.find("Text")
        if m.center[0] > 3 and m.center[1] < -1.2 and m.fill == hexc(style.TEXT) and len(m.text) > 1
    ]
    return " ".join(m.text for m in sorted(lines, key=lambda m: -m.center[1]))


def gap_sum(shot: Shot) -> list[str]:
    """The numbers of the gap's sum 'D(x) − D(G(z)) = a − b = c', left to right."""
    row = [m for m in shot.find("DecimalNumber") if m.box[0] > training_curves.COLUMN - 0.05]
    return [m.text for m in sorted(row, key=lambda m: m.center[0])]


def test_the_closing_note_reads_where_ds_scores_end(shots: list[Shot], tmp_path: Path) -> None:
    """The designed scores end at 0.50 and 0.45 (4-step averages): both near 0.5, and the note quotes both. With
    D(G(z)) held at 0.1 instead, D still tells them apart by the shown D(x) less the shown 0.10; the sum under the
    thumbnail reads the same numbers."""
    real, fake = smoothed(METRICS["d_real"])[-1], smoothed(METRICS["d_fake"])[-1]
    assert (f"{real:.2f}", f"{fake:.2f}") == ("0.50", "0.45")
    assert note(shots[-1]) == "Both end near 0.5 (0.50 and 0.45): D can barely tell them apart."
    assert not note(shots[2])  # only once the pen is done
    run = make_designed_run(tmp_path / "apart", "image")
    rewrite_metrics(run, {"d_fake": np.full(TOTAL, 0.1)})
    end = probe(training_curves.TrainingCurves, run)[-1]
    gap = float(f"{real:.2f}") - 0.1
    assert note(end) == f"D still tells them apart: D(x) ends {gap:.2f} above D(G(z))."
    assert gap_sum(end) == [f"{real:.2f}", "0.10", f"{gap:.2f}"]


def test_the_gap_is_the_difference_of_the_numbers_shown(shots: list[Shot]) -> None:
    """At every beat the sum's D(x) and D(G(z)) are the numbers beside the pen, and its result is their difference
    as printed (not the unrounded gap, which may differ in the last digit)."""
    checked = 0
    for shot in shots:
        numbers = gap_sum(shot)
        if len(numbers) != 3:
            continue
        beside = {
            name: next(
                m.text
                for m in shot.find("DecimalNumber")
                if abs(m.center[1] - pen_label(shot, name, colour).center[1]) < 1e-6
                and m.box[0] < training_curves.COLUMN
            )
            for name, (_, colour) in CURVES.items()
            if name.startswith("D(")
        }
        a, b, diff = numbers
        assert [a, b] == [beside["D(x)"], beside["D(G(z))"]]
        assert diff == f"{float(a) - float(b):.2f}"
        checked += 1
    assert checked >= 3


def test_the_largest_spike_of_a_loss_is_marked_at_the_curves_top(shots: list[Shot], tmp_path: Path) -> None:
    """The designed losses are smooth: no note. With loss G raised by 2 for steps 100-104 the pen stops at the
    drawn (4-step averaged) curve's maximum, step 103 (steps 103 and 104 both average four raised steps; the
    underlying loss falls, so 103 is higher); a ring sits on the curve's point there, an arrow points at it, and the
    note quotes the value the drawn curve has there, its step and its averaging, between the panels (no curve
    runs there)."""
    assert not any(shot.find("Text", ".*peaks at.*") for shot in shots)
    run = make_designed_run(tmp_path / "spike", "image")
    loss_g = METRICS["loss_g"].copy()
    loss_g[99:104] += 2.0
    rewrite_metrics(run, {"loss_g": loss_g})
    spiked = probe(training_curves.TrainingCurves, run)
    drawn = smoothed(loss_g)
    top = int(np.argmax(drawn))
    assert top + 1 == 103 and drawn.max() > drawn[0]  # the curve's maximum over the whole run
    stop = next(i for i, shot in enumerate(spiked) if shot.find("Text", ".*peaks at.*"))
    at = int(min(spiked[stop - 1].find("Integer"), key=lambda m: m.center[1]).value)  # the footer's step
    assert at == 103
    shot = spiked[stop]
    words = shot.one("Text", ".*peaks at.*")
    assert words.text == f"peaks at {drawn[top]:.2f}, step 103" and words.fill == hexc(style.G_COLOR)
    assert shot.one("Text", "loss G's 4-step average").fill == hexc(style.G_COLOR)
    slope, offset = reading(ticks(shot, training_curves.LOSS_TOP, training_curves.LOSS_BOTTOM))
    (ring,) = shot.find("Circle")
    assert (ring.center[1] - offset) / slope == pytest.approx(drawn[top], abs=1e-6)
    dot = shot.one("Dot", fill=hexc(style.G_COLOR))
    assert np.hypot(*(np.array(ring.center) - dot.center)) < 1e-6  # the pen's dot, on the curve, is ringed
    (arrow,) = shot.find("Arrow")
    assert 0.1 < np.hypot(*(np.array(arrow.end) - dot.center)) < 0.2  # to the ring's edge
    assert training_curves.SCORE_TOP < words.box[1] and words.box[3] < training_curves.LOSS_BOTTOM


def test_each_beat_dims_what_it_does_not_need(shots: list[Shot], tmp_path: Path) -> None:
    """One idea per frame: the closing beat is about D's scores, so the losses (their names, values and curves)
    and the samples recede while D's two scores, their gap and the closing note stay at full strength; the spike's
    words leave when the pen moves on from it, and its ring stays, faint."""
    end = shots[-1]
    for name, (column, colour) in CURVES.items():
        label = pen_label(end, name, colour)
        faded = column.startswith("loss")
        assert (label.fill_opacity <= style.DIM + 1e-6) == faded, (name, label.fill_opacity)
    (picture,) = end.find("ImageMobject")
    assert picture.fill_opacity <= style.DIM + 1e-6 or not picture.visible
    closing = [m for m in end.find("Text") if m.center[0] > 3 and m.center[1] < -1.2 and m.fill == hexc(style.TEXT)]
    assert note(end) and all(m.fill_opacity > 0.99 for m in closing)
    run = make_designed_run(tmp_path / "spike", "image")
    loss_g = METRICS["loss_g"].copy()
    loss_g[99:104] += 2.0
    rewrite_metrics(run, {"loss_g": loss_g})
    spiked = probe(training_curves.TrainingCurves, run)
    assert spiked[-1].find("Text", ".*peaks at.*") == []
    (ring,) = spiked[-1].find("Circle")
    assert 0.05 < ring.stroke_opacity <= style.DIM + 1e-6
