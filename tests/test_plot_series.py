"""The data preparation of pipeline/plots.py (the series the figures draw: EMA, decimation, KDE, the steps shown)
against values known without it: closed forms, pandas' and scipy's own estimators, brute-force loops and designed
runs read from their files. Fast (no figure): mutation testing runs these for plots.py (docs/mutation.md)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from designed import make_designed_run
from scipy.stats import gaussian_kde

from ganviz.reader import Run
from pipeline.plots import PlotError, decimate, default_span, ema, grad_norm_matrix, kde, parse_steps, pick_steps


@pytest.fixture(scope="module")
def designed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A designed image run: snapshots every 20 of 200 steps (tests/designed.py)."""
    return make_designed_run(tmp_path_factory.mktemp("series") / "image", "image", n=4)


# -- EMA ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("span", [2.0, 5.0, 17.5])
def test_ema_is_pandas_ewm_without_adjustment(span: float) -> None:
    """y_t = y_(t-1) + α(x_t - y_(t-1)), α = 2/(span + 1), started at the first value: pandas' ewm(adjust=False);
    a NaN step keeps the previous average (pandas with ignore_na, its NaN rows filled forward)."""
    y = np.random.default_rng(0).normal(size=60)
    y[[0, 1, 10, 11, 12, 40]] = np.nan
    want = pd.Series(y).ewm(span=span, adjust=False, ignore_na=True).mean().ffill().to_numpy()
    np.testing.assert_allclose(ema(y, span), want, rtol=1e-12, equal_nan=True)


def test_ema_of_a_step_closes_the_gap_geometrically() -> None:
    """Input 0 then 1s: the average after t ones is 1 - (1 - α)^t; a constant stays itself."""
    span = 9.0
    alpha = 2 / (span + 1)
    out = ema(np.r_[0.0, np.ones(20)], span)
    np.testing.assert_allclose(out, 1 - (1 - alpha) ** np.arange(21), rtol=1e-12)
    assert ema([3, 3, 3], 4).tolist() == [3.0, 3.0, 3.0] and ema([3, 3], 4).dtype == np.float64
    assert np.isnan(ema(np.array([np.nan, np.nan]), 3)).all()


@pytest.mark.parametrize(("n", "span"), [(0, 5.0), (299, 5.0), (300, 6.0), (1000, 20.0), (100_000, 2000.0)])
def test_default_span_is_two_percent_of_the_run_and_at_least_five(n: int, span: float) -> None:
    assert default_span(n) == span and isinstance(default_span(n), float)


# -- decimation -----------------------------------------------------------------------------------------------------
def brute_decimate(y: np.ndarray, max_points: int) -> list[int]:
    """The rule written out: max_points // 2 buckets of ceil(n / buckets) steps; per bucket with a finite value the
    index of its smallest and of its largest finite value (the first of ties), in step order, once each."""
    n = len(y)
    size = math.ceil(n / (max_points // 2))
    keep: list[int] = []
    for start in range(0, n, size):
        idx = [i for i in range(start, min(start + size, n)) if np.isfinite(y[i])]
        if idx:
            lo = min(idx, key=lambda i: (y[i], i))
            hi = max(idx, key=lambda i: (y[i], -i))
            keep += sorted({lo, hi})
    return keep


@pytest.mark.parametrize(("n", "max_points"), [(11, 4), (1000, 10), (1001, 10), (997, 64), (60, 7)])
def test_decimate_keeps_each_buckets_min_and_max(n: int, max_points: int) -> None:
    rng = np.random.default_rng(n)
    y = rng.normal(size=n)
    y[rng.choice(n, n // 10, replace=False)] = np.nan
    y[: min(n, 5)] = 7.0  # ties: the first counts
    x = np.arange(n) * 10
    xd, yd = decimate(x, y, max_points)
    want = brute_decimate(y, max_points)
    assert xd.tolist() == [10 * i for i in want] and len(xd) <= max_points
    np.testing.assert_array_equal(yd, y[want])


def test_decimate_leaves_short_series_and_drops_empty_buckets() -> None:
    x = np.arange(6.0)
    assert decimate(x, x, 6)[0] is x and decimate(x, x, 6)[1] is x  # n <= max_points: the arrays themselves
    # max 4: 2 buckets of 4 steps; the first holds one finite value (its min and max, kept once), the second is
    # padded with NaN past the end: its max 5 at step 4 and min 2 at step 6
    y = np.array([np.nan, np.nan, np.nan, 1.0, 5.0, 3.0, 2.0])
    xd, yd = decimate(np.arange(7), y, 4)
    assert xd.tolist() == [3, 4, 6] and yd.tolist() == [1.0, 5.0, 2.0]
    assert decimate(np.arange(8), np.full(8, np.nan), 4)[0].tolist() == []  # no finite value: nothing to draw
    gap = np.array([1.0, 2.0, np.nan, np.nan, np.nan, np.nan, 4.0, 3.0])  # 3 buckets of 3; the middle one empty
    assert decimate(np.arange(8), gap, 6)[0].tolist() == [0, 1, 6, 7]
    flat = decimate(np.arange(9), np.ones(9), 4)[0]  # min and max are one point per bucket: kept once
    assert flat.tolist() == [0, 5]


# -- KDE ------------------------------------------------------------------------------------------------------------
def test_kde_is_scipys_gaussian_kde_at_the_rule_of_thumb_bandwidth() -> None:
    """h = 1.06 σ n^(-1/5) (σ with ddof 0); scipy's bandwidth factor multiplies the ddof-1 std, so it is h / s."""
    x = np.random.default_rng(1).normal(4, 0.5, 300)
    grid = np.linspace(2, 6, 81)
    h = 1.06 * x.std() * len(x) ** (-1 / 5)
    want = gaussian_kde(x, bw_method=h / x.std(ddof=1))(grid)
    with_nan = np.r_[x, np.nan, np.nan]
    np.testing.assert_allclose(kde(with_nan, grid), want, rtol=1e-10)


def test_kde_of_too_few_or_identical_samples() -> None:
    grid = np.array([0.0, 3.0])
    two = np.array([1.0, 2.0])  # the fewest it estimates from
    h = 1.06 * two.std() * 2 ** (-1 / 5)
    np.testing.assert_allclose(kde(two, grid), gaussian_kde(two, bw_method=h / two.std(ddof=1))(grid), rtol=1e-10)
    assert kde(np.array([1.0, np.nan]), grid).tolist() == [0.0, 0.0]  # one finite sample: no density
    h = 1.06e-6 * 3 ** (-1 / 5)  # zero spread: the bandwidth floor 1e-6
    np.testing.assert_allclose(kde(np.full(3, 3.0), grid), [0.0, 1 / (h * math.sqrt(2 * math.pi))], rtol=1e-12)


# -- the steps a figure shows -----------------------------------------------------------------------------------------
def test_parse_steps() -> None:
    assert parse_steps(None) is None
    assert parse_steps("0,1000,end") == [0, 1000, "end"]
    assert parse_steps(" 5 , ,-3,1e3") == [5, -3, "1e3"]
    assert parse_steps([40, "end", " 7 "]) == [40, "end", 7]
    assert parse_steps("x1,X2,-end") == ["x1", "X2", "-end"]  # only digits (and a leading '-') make a number
    for empty in (",", " , ", []):
        with pytest.raises(PlotError, match=r"^--frames .*: give snapshot steps like 0,1000,end$"):
            parse_steps(empty, "--frames")
    with pytest.raises(PlotError, match=r"^--at "):
        parse_steps("")


def test_pick_steps_snaps_and_refuses_what_it_cannot_show(designed: Path, tmp_path: Path) -> None:
    run = Run.load(designed)
    assert run.steps == list(range(0, 201, 20))
    assert pick_steps(run, "0,21,39,end,20") == [0, 20, 200]  # snapped down, each once, in the order asked
    assert pick_steps(run, None) == [0, 40, 100, 160, 200]  # five, spread from the first to the last
    assert pick_steps(run, None, default_n=3) == [0, 100, 200]
    with pytest.raises(PlotError, match=r"^--steps 5000: .*beyond"):
        pick_steps(run, "5000", flag="--steps")
    with pytest.raises(PlotError, match=r"^--steps ',': give snapshot steps"):
        pick_steps(run, ",", flag="--steps")
    broken = make_designed_run(tmp_path / "broken", "image", n=4)
    (broken / "snapshots" / "step_00000060.npz").write_bytes(b"not a snapshot")
    with pytest.raises(PlotError, match=r"^--at 60: "):
        pick_steps(Run.load(broken), "0,60")


def test_grad_norm_matrix_is_the_snapshots_norms(designed: Path) -> None:
    steps, names, mat = grad_norm_matrix(Run.load(designed), "d")
    files = sorted((designed / "snapshots").glob("step_*.npz"))
    want = np.stack([np.load(f)["grad_norm_d"] for f in files], axis=1)
    assert steps.tolist() == list(range(0, 201, 20)) and len(names) == len(want)
    np.testing.assert_array_equal(mat, want)
