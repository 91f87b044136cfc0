"""What the scenes show, read from their scene graph (tests/scene_probe.py) on designed runs.

Every expected number comes from tests/designed.py's closed forms, computed here, not from the scenes' helpers:
snapshot k of 10 (step 20k) is at learning fraction a = k / 10, D's score for fixed sample i of 16 is
0.95 - 0.4 i / 15 on the real one and (0.05 + 0.4 i / 15)(0.2 + a) on the fake one, per-layer gradient norms
are 10^-3 ... 10^0 times (1 + a), and the metrics at step s follow t = s / 200.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from designed import blend, image_noise, image_targets, make_designed_run
from manim import ManimColor
from scene_probe import Mob, Shot, probe

from scenes import adversarial, gradient_flow
from scenes import common as c

# the probes are the slow part (~1-4 s a scene): one worker takes them all, the other the videos
pytestmark = pytest.mark.xdist_group("scene-content")

N, TOTAL, EVERY = 16, 200, 20  # the designed image run: 16 fixed samples, 200 steps, a snapshot every 20


def hexc(color: object) -> str:
    return ManimColor(color).to_hex().lower()


def frac(step: int) -> float:
    """Learning fraction of the designed (linear) run's snapshot at ``step``."""
    return (step // EVERY) / (TOTAL // EVERY)


def d_real(i: int, n: int = N) -> float:
    return 0.95 - 0.4 * i / (n - 1)


def d_fake(i: int, step: int, n: int = N) -> float:
    return (0.05 + 0.4 * i / (n - 1)) * (0.2 + frac(step))


def layer_norms(n: int, a: float, reverse: bool = False) -> np.ndarray:
    norms = 10.0 ** np.linspace(-3, 0, n) * (1 + a)
    return norms[::-1] if reverse else norms


def number(text: str, pattern: str) -> float:
    m = re.search(pattern, text)
    assert m, (pattern, text)
    return float(m.group(1))


#: fixed samples of the counterfeiter's run: with two, every round shows both, and the last round's scores sit
#: either side of nothing but 0.5: the real bill 0.55, the best fake 0.45 * 1.2 = 0.54 (it fools D)
BILLS = 2


@pytest.fixture(scope="module")
def counterfeiter(tmp_path_factory: pytest.TempPathFactory) -> list[Shot]:
    run = make_designed_run(tmp_path_factory.mktemp("designed") / "two-bills", "image", n=BILLS)
    return probe(adversarial.CounterfeiterAndPolice, run)


@pytest.fixture(scope="module")
def flow(designed_image: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Shot]:
    """GradientFlow with --compare: a minimax run whose G gradients are 1000x smaller (the scene's ending)."""
    other = make_designed_run(tmp_path_factory.mktemp("designed") / "minimax", "image", loss="minimax", grad_scale=1e-3)
    return probe(gradient_flow.GradientFlow, designed_image, compare=other)


# -- CounterfeiterAndPolice -------------------------------------------------------------------------------
def bills(shot: Shot) -> list[tuple[Mob, str]]:
    """(picture, 'real' or 'fake') for every bill on screen: the bill's frame colour says which."""
    frames = shot.find("RoundedRectangle")
    out = []
    for pic in shot.find("ImageMobject"):
        (frame,) = [f for f in frames if np.allclose(f.center, pic.center, atol=1e-6)]
        out.append((pic, {hexc(c.REAL_COLOR): "real", hexc(c.FAKE_COLOR): "fake"}[frame.stroke]))
    return out


def which_sample(pixels: np.ndarray, samples: np.ndarray) -> int:
    (hits,) = np.nonzero([np.array_equal(pixels[..., 0], s[..., 0]) for s in samples])
    assert len(hits) == 1, f"the bill is {len(hits)} of the designed samples"
    return int(hits[0])


def test_counterfeiter_stamps_are_ds_designed_scores(counterfeiter: list[Shot]) -> None:
    """Each bill D inspects is one fixed real or fake sample of that snapshot, stamped with D's score for it."""
    real = image_targets(BILLS)[::-1]
    rounds = [s for s in counterfeiter if s.call == "wait" and s.find("Text", r"mean D\(real\) = .*")]
    assert len(rounds) == 3
    steps = []
    for shot in rounds:
        (counter,) = shot.find("Text", r"step \d+")
        step = int(counter.text.split()[1])
        steps.append(step)
        fake = blend(image_noise(BILLS), image_targets(BILLS), frac(step))
        stamps = shot.find("Text", r"D = \d\.\d\d")
        words = shot.find("Text", "REAL|FAKE")
        shown = bills(shot)
        assert sorted(kind for _, kind in shown) == ["fake", "fake", "real", "real"] and len(stamps) == 4
        for pic, kind in shown:
            i = which_sample(pic.pixels, real if kind == "real" else fake)
            want = d_real(i, BILLS) if kind == "real" else d_fake(i, step, BILLS)
            stamp = min(stamps, key=lambda t: np.hypot(*np.subtract(t.center, pic.center)))
            assert abs(float(stamp.text[4:]) - want) <= 0.005 + 1e-6, (step, kind, i, stamp.text, want)
            word = min(words, key=lambda t: np.hypot(*np.subtract(t.center, stamp.center)))
            verdict = "REAL" if want > 0.5 else "FAKE"
            assert word.text == verdict, (step, kind, i, want)
            assert stamp.fill == word.fill == hexc(c.REAL_COLOR if verdict == "REAL" else c.FAKE_COLOR)
        (summary,) = shot.find("Text", r"mean D\(real\) = .*")
        mean_real = (d_real(0, BILLS) + d_real(1, BILLS)) / 2
        assert number(summary.text, r"D\(real\) = (\d\.\d\d)") == pytest.approx(mean_real, abs=0.005 + 1e-6)
        mean_fake = np.mean([d_fake(i, step, BILLS) for i in range(BILLS)])
        assert number(summary.text, r"D\(fake\) = (\d\.\d\d)") == pytest.approx(mean_fake, abs=0.005 + 1e-6)
        assert sorted(which_sample(p.pixels, real if k == "real" else fake) for p, k in shown) == [0, 0, 1, 1]
    assert steps == [0, 100, 200]  # start, middle, end
    assert d_fake(1, TOTAL, BILLS) > 0.5 and d_real(1, BILLS) < 0.56  # the last round's close calls


def test_counterfeiter_accuracy_meter_follows_the_designed_accuracy(counterfeiter: list[Shot]) -> None:
    """Readout and bar: D's accuracy (acc_real + acc_fake) / 2 = 1 - 0.45 t at each step shown."""
    track_width = 7.0
    seen = []
    for shot in counterfeiter:
        found = shot.find("Text", r"step \d+: \d+ %")
        if not found:
            continue
        (readout,) = found
        step, pct = (int(v) for v in re.findall(r"\d+", readout.text))
        want = 100 * (1 - 0.45 * max(step, 1) / TOTAL)
        assert abs(pct - want) <= 1.5, (step, pct, want)  # smoothed over 15 steps: ~1 point off at the ends
        (bar,) = [r for r in shot.find("Rectangle", fill=hexc(c.D_COLOR)) if r.stroke_width == 0]
        assert bar.width / track_width == pytest.approx(pct / 100, abs=0.006)
        if not seen or seen[-1] != step:
            seen.append(step)
    assert seen == [0, 20, 60, 80, 120, 140, 180, 200]
    assert "this run's G maximises log D(G(z)) instead: same game, no vanishing gradient" in counterfeiter[-1].texts()


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
