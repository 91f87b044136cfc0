"""What the scenes show, read from their scene graph (tests/scene_probe.py) on designed runs.

Every expected number comes from tests/designed.py's closed forms, computed here, not from the scenes' helpers:
snapshot k of 10 (step 20k) is at learning fraction a = k / 10, D's score for fixed sample i of 16 is
0.95 - 0.4 i / 15 on the real one and (0.05 + 0.4 i / 15)(0.2 + a) on the fake one, and the metrics at step s
follow t = s / 200. (GradientFlow's and DecisionField's checks: tests/test_scene_gradient_flow.py and
tests/test_scene_distribution.py.)
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from designed import blend, image_noise, image_targets, make_designed_run
from manim import ManimColor
from scene_probe import Mob, Shot, probe

from scenes import adversarial
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
