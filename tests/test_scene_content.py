"""What the scenes show, read from their scene graph (tests/scene_probe.py) on designed runs.

Every expected number comes from tests/designed.py's closed forms, computed here, not from the scenes' helpers:
snapshot k of 10 (step 20k) is at learning fraction a = k / 10, per-layer gradient norms are 10^-3 ... 10^0
times (1 + a), and the metrics at step s follow t = s / 200. (CounterfeiterAndPolice: tests/test_scene_adversarial.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from designed import blend, image_noise, image_targets, make_designed_run
from manim import ManimColor
from scene_probe import Shot, probe

from scenes import common as c
from scenes import gradient_flow, training_curves

# the probes are the slow part (~1-4 s a scene): one worker takes them all, the other the videos
pytestmark = pytest.mark.xdist_group("scene-content")

N, TOTAL, EVERY = 16, 200, 20  # the designed image run: 16 fixed samples, 200 steps, a snapshot every 20


def hexc(color: object) -> str:
    return ManimColor(color).to_hex().lower()


def frac(step: int) -> float:
    """Learning fraction of the designed (linear) run's snapshot at ``step``."""
    return (step // EVERY) / (TOTAL // EVERY)


def layer_norms(n: int, a: float, reverse: bool = False) -> np.ndarray:
    norms = 10.0 ** np.linspace(-3, 0, n) * (1 + a)
    return norms[::-1] if reverse else norms


def number(text: str, pattern: str) -> float:
    m = re.search(pattern, text)
    assert m, (pattern, text)
    return float(m.group(1))


@pytest.fixture(scope="module")
def flow(designed_image: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Shot]:
    """GradientFlow with --compare: a minimax run whose G gradients are 1000x smaller (the scene's ending)."""
    other = make_designed_run(tmp_path_factory.mktemp("designed") / "minimax", "image", loss="minimax", grad_scale=1e-3)
    return probe(gradient_flow.GradientFlow, designed_image, compare=other)


@pytest.fixture(scope="module")
def curves(designed_image: Path) -> list[Shot]:
    return probe(training_curves.TrainingCurves, designed_image)


# -- GradientFlow -------------------------------------------------------------------------------------------
def backward_widths(shot: Shot) -> list[float]:
    arrows = shot.find("Arrow", stroke=hexc(c.BACKWARD_COLOR))
    return [a.stroke_width for a in sorted(arrows, key=lambda a: a.center[0])]


def test_gradient_flow_arrow_widths_are_the_designed_layer_norms(flow: list[Shot]) -> None:
    """Width = 1 + 11 s, s = log10(norm) placed between the run's smallest and largest norm; the arrow that
    leaves layer k (and the loss's arrow: D's last layer) carries layer k's norm."""
    n_g, n_d = 5, 4  # dcgan-digits' recorded layers
    lo = np.log10(1e-3 * (1 + frac(EVERY)))  # step 0 has no gradients: the smallest is the first layer at step 20
    hi = np.log10(1.0 * (1 + 1.0))
    shown = []
    for shot in flow:
        status = shot.find("Text", r"step \d+ .*")
        if not status:
            continue
        (status,) = status
        step = int(status.text.split()[1])
        a = frac(step)
        g, d = layer_norms(n_g, a), layer_norms(n_d, a, reverse=True)
        norms = np.concatenate([g, d, d[-1:]])
        want = 1 + 11 * np.clip((np.log10(norms) - lo) / (hi - lo), 0, 1)
        widths = backward_widths(shot)
        np.testing.assert_allclose(widths, want, atol=0.02, err_msg=f"step {step}")
        assert np.all(np.diff(widths[:n_g]) > 0.5) and np.all(np.diff(widths[n_g : n_g + n_d]) < -0.5)
        assert number(status.text, r"D\(G\(z\)\) = (\d\.\d\d)") == pytest.approx(0.25 * (0.2 + a), abs=0.005 + 1e-6)
        assert number(status.text, r"\|grad G\| = ([\d.]+)") == pytest.approx(np.sqrt((g**2).sum()), rel=5e-3)
        # D saturates (mean D(G(z)) < 0.1) only at step 20: 0.25 * (0.2 + 0.1) = 0.075
        assert bool(shot.find("Text", "D saturates.*")) == (0.25 * (0.2 + a) < 0.1)
        if not shown or shown[-1] != step:
            shown.append(step)
    assert shown == [20, 60, 80, 120, 140, 180, 200]


def test_gradient_flow_compare_shows_the_vanishing_run(flow: list[Shot]) -> None:
    """--compare with a minimax run whose G gradients are 1000x smaller: two bars of the median G norms."""
    end = flow[-1]
    median = float(np.median(0.5 + 2.0 * np.arange(1, TOTAL + 1) / TOTAL))  # metrics' grad_norm_g: 0.5 + 2 t
    (bce,) = end.find("Text", r"bce: .*")
    (minimax,) = end.find("Text", r"minimax: .*")
    assert float(bce.text.split(": ")[1]) == pytest.approx(median, rel=5e-3)
    assert float(minimax.text.split(": ")[1]) == pytest.approx(median * 1e-3, rel=5e-3)
    bars = sorted(end.find("Rectangle", fill=hexc(c.BACKWARD_COLOR)), key=lambda r: r.center[0])
    assert [round(b.height, 3) for b in bars] == [round(0.05 + 4.0, 3), round(0.05 + 4.0e-3, 3)]  # linear heights
    for bar, cap in zip(bars, (bce, minimax), strict=True):  # each caption under its own bar
        assert abs(cap.center[0] - bar.center[0]) < 1e-6 and cap.box[3] < bar.box[1]
    assert end.find("Text", "minimax G loss .* saturates when D wins.*")


# -- TrainingCurves -----------------------------------------------------------------------------------------
def axis_value(y: float, at: tuple[float, float], values: tuple[float, float]) -> float:
    """The data value at scene height ``y`` on an axis where heights ``at`` show ``values``."""
    return values[0] + (y - at[0]) / (at[1] - at[0]) * (values[1] - values[0])


def test_training_curves_end_on_the_designed_metrics(curves: list[Shot]) -> None:
    end = curves[-1]
    colours = {"loss_d": c.D_COLOR, "loss_g": c.G_COLOR, "d_real": c.REAL_COLOR, "d_fake": c.FAKE_COLOR}
    lines = {col: end.one("VMobject", stroke=hexc(colour)) for col, colour in colours.items()}
    # the lower panel's axes: y from 0 to 1, x from step 0 to the last step
    axes = sorted(end.find("NumberLine"), key=lambda m: m.center[1])
    y_axis = next(m for m in axes if abs(m.start[0] - m.end[0]) < 1e-6)  # vertical
    x_axis = next(m for m in axes if abs(m.start[1] - m.end[1]) < 1e-6)  # horizontal
    for col, want in (("d_real", 0.95 - 0.45), ("d_fake", 0.05 + 0.40)):
        x, y = lines[col].end
        assert axis_value(y, (y_axis.start[1], y_axis.end[1]), (0, 1)) == pytest.approx(want, abs=0.01), col
        assert x == pytest.approx(x_axis.end[0], abs=1e-6)  # drawn to the last step
    # the upper panel: the loss range is labelled at its ends; the losses end at their designed values
    lo_lbl, hi_lbl = sorted(end.find("Text", r"\d+\.\d\d"), key=lambda m: m.center[1])
    lo, hi = float(lo_lbl.text), float(hi_lbl.text)
    t = np.arange(1, TOTAL + 1) / TOTAL
    loss_d = -np.log(0.95 - 0.45 * t) - np.log(1 - (0.05 + 0.40 * t))
    loss_g = -np.log(0.05 + 0.40 * t)
    assert lo == pytest.approx(min(loss_d.min(), loss_g.min()), abs=0.03)
    assert hi == pytest.approx(max(loss_d.max(), loss_g.max()), abs=0.03)
    for col, want in (("loss_d", loss_d[-1]), ("loss_g", loss_g[-1])):
        y = lines[col].end[1]
        assert axis_value(y, (lo_lbl.center[1], hi_lbl.center[1]), (lo, hi)) == pytest.approx(want, abs=0.03), col
    assert end.find("Text", "step 200", fill="#ffffff")  # the pen's step counter (the axis label is grey)


def test_training_curves_thumbnail_is_the_snapshot_the_pen_passed(curves: list[Shot]) -> None:
    """The thumbnail switches to each snapshot right after the pen reaches its step, and only then."""
    noise, targets = image_noise(N), image_targets(N)
    snapshots = {k * EVERY: blend(noise, targets, k / 10) for k in range(11)}

    def shows(grid: np.ndarray) -> int:
        """The snapshot step whose first 9 samples the 3x3 thumbnail (28 px each, 1 px apart) shows."""
        cells = [grid[1 + 29 * r : 29 + 29 * r, 1 + 29 * q : 29 + 29 * q] for r in range(3) for q in range(3)]
        found = [
            s
            for s, fake in snapshots.items()
            if all(np.array_equal(x, f[..., 0]) for x, f in zip(cells, fake[:9], strict=True))
        ]
        assert len(found) == 1, found
        return found[0]

    seen = []  # (pen step, thumbnail step) after each call
    for shot in curves:
        counter = shot.find("Text", r"step \d+", fill="#ffffff")
        thumbs = shot.find("ImageMobject")
        if counter and len(thumbs) == 1:
            seen.append((int(counter[0].text.split()[1]), shows(thumbs[0].pixels[..., 0])))
    assert all(thumb <= pen for pen, thumb in seen)
    shown = [thumb for i, (_, thumb) in enumerate(seen) if i == 0 or thumb != seen[i - 1][1]]
    assert shown == [0, 20, 40, 80, 100, 120, 160, 180, 200]
    for i in range(1, len(seen) - 1):
        if seen[i][0] != seen[i - 1][0]:  # the pen moved: the next call brings the thumbnail to its step
            assert seen[i + 1][1] == seen[i][0], seen[i - 1 : i + 2]
    assert seen[-1] == (200, 200)
