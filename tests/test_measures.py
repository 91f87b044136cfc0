"""The measures of gan_train.measures against values known without them: closed forms, brute-force integrals and
point sets built so that the answer is known (no training involved).

Every check is written so that a plausible slip fails it: a biased KID, a covariance over n instead of n - 1, an
elementwise square root of Σ₁Σ₂, a k-NN radius that counts the point itself, a '<' for the paper's '<='.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_train.config import apply_overrides, get_variant
from gan_train.datasets import TOYS, gaussians8_modes, load_dataset, toy_8gaussians, toy_rings
from gan_train.measures import (
    RINGS_BINS,
    class_histogram,
    feature_stats,
    frechet_distance,
    gaussians8_coverage,
    kid,
    mode_coverage,
    normal_fit,
    on_manifold,
    precision_recall,
    recognised_classes,
    rings_coverage,
    sliced_wasserstein,
    sliced_wasserstein_floor,
    unit_directions,
)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def t64(x, device: str = "cpu") -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float64), device=device)


def phi(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def Phi(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def normal_cdf(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    from math import erf

    return 0.5 * (1 + np.vectorize(erf)((x - mean) / (std * math.sqrt(2))))


# -- 1-D: W1 and KS to a known normal ------------------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("x", [4.0, 4.3, 2.1, 7.0])
def test_w1_of_one_sample_is_its_mean_absolute_deviation(device: str, x: float) -> None:
    """One sample at x: W1 = E|X - x| = σ(t(2Φ(t) - 1) + 2φ(t)), t = (x - μ)/σ (the folded normal's mean)."""
    mean, std = 4.0, 0.5
    tt = (x - mean) / std
    expected = std * (tt * (2 * Phi(tt) - 1) + 2 * phi(tt))
    assert normal_fit(t64([x], device), mean, std).w1 == pytest.approx(expected, rel=1e-12)


def test_w1_is_the_integral_of_the_cdf_gap() -> None:
    """W1 = ∫|F_n - F| dx (the x-space definition), integrated numerically on a fine grid."""
    rng = np.random.default_rng(1)
    x = rng.normal(4.2, 0.8, 9)
    mean, std = 4.0, 0.5
    grid = np.linspace(mean - 14 * std, x.max() + 14 * std, 2_000_001)
    f_n = np.searchsorted(np.sort(x), grid, side="right") / len(x)
    expected = np.trapezoid(np.abs(f_n - normal_cdf(grid, mean, std)), grid)
    assert normal_fit(t64(x), mean, std).w1 == pytest.approx(expected, rel=1e-6)


def test_w1_of_a_shifted_sample_is_the_shift_within_the_unshifted_distance() -> None:
    """Triangle inequality: |W1(P_n + δ, P) - δ| <= W1(P_n, P), as W1(P + δ, P) = δ, W1(P_n + δ, P + δ) = W1(P_n, P)."""
    x = np.random.default_rng(2).normal(size=200)
    base = normal_fit(t64(x), 0.0, 1.0).w1
    for delta in (0.5, 3.0, 25.0):
        assert abs(normal_fit(t64(x + delta), 0.0, 1.0).w1 - delta) <= base + 1e-12
    assert normal_fit(t64(x + 25.0), 0.0, 1.0).w1 > 24.0


@pytest.mark.parametrize("device", DEVICES)
def test_ks_of_samples_at_the_quantile_midpoints_is_one_over_2n(device: str) -> None:
    """x_(i) = Q((i - ½)/n): F_n jumps from (i-1)/n to i/n around F = (i - ½)/n, so sup|F_n - F| = 1/(2n), the least
    any n samples can reach."""
    from statistics import NormalDist

    n, mean, std = 40, 4.0, 0.5
    x = [NormalDist(mean, std).inv_cdf((i - 0.5) / n) for i in range(1, n + 1)]
    fit = normal_fit(t64(x, device)[torch.randperm(n)], mean, std)
    assert fit.ks == pytest.approx(1 / (2 * n), abs=1e-12)
    assert fit.n == n


def test_ks_is_the_largest_cdf_gap_on_either_side_of_each_jump() -> None:
    """Brute force: sup|F_n - F| over a fine grid plus both one-sided limits at every sample."""
    rng = np.random.default_rng(3)
    x = np.sort(rng.normal(0.3, 1.2, 25))
    f = normal_cdf(x, 0.0, 1.0)
    n = len(x)
    jumps = np.maximum(np.arange(1, n + 1) / n - f, f - np.arange(n) / n)  # F_n just after and just before x_(i)
    grid = np.linspace(-8, 8, 200_001)
    between = np.abs(np.searchsorted(x, grid, side="right") / n - normal_cdf(grid, 0.0, 1.0))
    expected = max(jumps.max(), between.max())
    assert normal_fit(t64(x), 0.0, 1.0).ks == pytest.approx(expected, abs=1e-12)
    one_point = normal_fit(t64([0.7] * 5), 0.0, 1.0).ks  # all mass at 0.7: max(F(0.7), 1 - F(0.7))
    assert one_point == pytest.approx(max(Phi(0.7), 1 - Phi(0.7)), abs=1e-12)


# -- 2-D: sliced Wasserstein -------------------------------------------------------------------------------------
def test_sliced_w1_of_1d_points_is_their_w1() -> None:
    """In 1-D every direction is ±1, so the sliced distance is W1 itself: ∫|Q_a - Q_b|, here by hand."""
    assert sliced_wasserstein(t64([[0.0], [2.0]]), t64([[0.0], [1.0], [2.0]])).value == pytest.approx(1 / 3)
    assert sliced_wasserstein(t64([[0.0]]), t64([[0.0], [1.0]])).value == pytest.approx(0.5)
    assert sliced_wasserstein(t64([[3.0], [1.0]]), t64([[1.0], [3.0], [1.0], [3.0]])).value == pytest.approx(0.0)


@pytest.mark.parametrize("device", DEVICES)
def test_sliced_w1_of_a_translated_copy(device: str) -> None:
    """A copy moved by v projects to a copy moved by θ·v: each 1-D W1 is |θ·v|, so the sliced distance is the mean of
    |θ·v| over the directions, and 2|v|/π (the mean |cos| on the circle) as directions grow."""
    pts = t64(np.random.default_rng(4).normal(size=(300, 2)), device)
    v = t64([3.0, -4.0], device)
    sw = sliced_wasserstein(pts, pts + v, directions=256, seed=7)
    assert sw.value == pytest.approx(float((unit_directions(2, 256, 7, device) @ v).abs().mean()), rel=1e-10)
    many = sliced_wasserstein(pts, pts + v, directions=20_000, seed=7).value
    assert many == pytest.approx(2 * 5.0 / math.pi, rel=0.02)
    assert sliced_wasserstein(pts, pts.flip(0)).value == pytest.approx(0.0, abs=1e-12)  # order does not matter


def test_sliced_w1_uses_the_same_directions_for_the_same_seed() -> None:
    rng = np.random.default_rng(5)
    a, b = t64(rng.normal(size=(200, 2))), t64(rng.normal(size=(150, 2)) * [2.0, 0.5])
    first = sliced_wasserstein(a, b, seed=3)
    assert sliced_wasserstein(a, b, seed=3) == first
    assert sliced_wasserstein(a, b, seed=4).value != first.value
    assert (first.n_a, first.n_b, first.directions, first.seed) == (200, 150, 256, 3)


def test_sliced_floor_compares_disjoint_real_halves() -> None:
    """Two copies of the same points read 0; two disjoint halves of distinct points never do."""
    pool = t64(np.random.default_rng(6).normal(size=(64, 2)))
    floor = sliced_wasserstein_floor(pool, 32, repeats=4)
    assert floor.mean > 0 and floor.std > 0 and (floor.n, floor.repeats) == (32, 4)
    assert floor.mean < 0.6  # two halves of one standard normal sample: O(1/sqrt(n)), not O(1)
    same = t64(np.repeat(pool[:1].numpy(), 64, axis=0))
    assert sliced_wasserstein_floor(same, 32).mean == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="2n rows"):
        sliced_wasserstein_floor(pool, 33)


# -- 2-D: rings coverage -----------------------------------------------------------------------------------------
def arc_points(arc: str, bins: list[int], radius: float = 10.0) -> np.ndarray:
    """One point per listed bin at its angular centre, ``radius`` from the arc's centre."""
    centre, start = ((0.0, 10.0), 90.0) if arc == "left" else ((0.0, -10.0), -90.0)
    ang = np.radians(start + (np.asarray(bins) + 0.5) * 180.0 / RINGS_BINS)
    return np.stack([centre[0] + radius * np.cos(ang), centre[1] + radius * np.sin(ang)], axis=1)


ALL = list(range(RINGS_BINS))


@pytest.mark.parametrize("device", DEVICES)
def test_rings_coverage_of_both_arcs(device: str) -> None:
    cov = rings_coverage(t64(np.concatenate([arc_points("left", ALL), arc_points("right", ALL)]), device))
    assert (cov.bins_hit, cov.arc_bins_hit, cov.near_arc, cov.n) == (1.0, (1.0, 1.0), 1.0, 2 * RINGS_BINS)


def test_rings_coverage_of_one_arc_and_of_half_an_arc() -> None:
    cov = rings_coverage(t64(np.repeat(arc_points("left", ALL), 3, axis=0)))
    assert (cov.bins_hit, cov.arc_bins_hit, cov.near_arc) == (0.5, (1.0, 0.0), 1.0)
    half = rings_coverage(t64(arc_points("right", ALL[:12])))
    assert half.arc_bins_hit == (0.0, 0.5) and half.bins_hit == 0.25


def test_rings_coverage_of_points_off_the_arcs() -> None:
    """The arcs' centres are 10 from every arc point, (±30, 0) far away; a point counts within 2 (2σ of the noise)."""
    off = t64([[0.0, 10.0], [0.0, -10.0], [30.0, 0.0], [-30.0, 0.0]])
    cov = rings_coverage(off)
    assert (cov.bins_hit, cov.near_arc) == (0.0, 0.0)
    missing_halves = t64([[10.0, 10.0], [-10.0, -10.0], [7.07, 17.07], [-7.07, -17.07]])  # on the circles, not arcs
    cov = rings_coverage(missing_halves)
    assert (cov.bins_hit, cov.near_arc) == (0.0, 0.0)
    inside, outside = arc_points("left", [5], radius=11.9), arc_points("left", [5], radius=12.1)
    assert rings_coverage(t64(inside)).near_arc == 1.0 and rings_coverage(t64(outside)).near_arc == 0.0
    past_end = rings_coverage(t64([[0.0, 21.5]]))  # 1.5 above the left arc's top end (0, 20): its first bin
    assert past_end.near_arc == 1.0 and past_end.arc_bins_hit == (1 / RINGS_BINS, 0.0)


def test_rings_coverage_of_real_data() -> None:
    """Real samples hit every bin, and P(|N(0,1)| <= 2) = 95.45 % of them lie within 2σ of an arc."""
    cov = rings_coverage(torch.from_numpy(toy_rings(4096, np.random.default_rng(0))))
    assert cov.bins_hit == 1.0
    assert 0.94 < cov.near_arc < 0.975


# -- 2-D: the 8 Gaussians ----------------------------------------------------------------------------------------
def test_toy_8gaussians_is_registered_and_has_its_modes() -> None:
    x = toy_8gaussians(8000, np.random.default_rng(0))
    assert x.shape == (8000, 2) and x.dtype == np.float32 and TOYS["8gaussians"] is toy_8gaussians
    modes = gaussians8_modes()
    assert np.allclose(np.hypot(*modes.T), 2.0) and np.allclose(modes[2], [0.0, 2.0], atol=1e-12)
    nearest = np.argmin(((x[:, None] - modes[None]) ** 2).sum(-1), axis=1)
    assert np.bincount(nearest, minlength=8).min() > 900  # an equal mixture: 1,000 each
    assert (x - modes[nearest]).std() == pytest.approx(0.02, rel=0.05)
    cfg = apply_overrides(get_variant("toy-rings"), {"dataset": "8gaussians", "toy_samples": 100})
    assert cfg.kind == "toy2d" and load_dataset(cfg, cache_dir=None).array.shape == (100, 2)


@pytest.mark.parametrize("device", DEVICES)
def test_all_eight_modes(device: str) -> None:
    pts = np.repeat(gaussians8_modes(), 4, axis=0) + 0.01  # 4 samples 0.7σ from each mode
    cov = gaussians8_coverage(t64(pts, device))
    assert (cov.modes_captured, cov.high_quality, cov.counts, cov.n) == (8, 1.0, (4,) * 8, 32)


def test_one_mode_and_off_mode_samples() -> None:
    one = gaussians8_coverage(t64(np.repeat(gaussians8_modes()[3:4], 50, axis=0)))
    assert (one.modes_captured, one.high_quality, one.counts[3], sum(one.counts)) == (1, 1.0, 50, 50)
    centre = gaussians8_coverage(t64(np.zeros((20, 2))))  # the circle's centre: 100σ from every mode
    assert (centre.modes_captured, centre.high_quality) == (0, 0.0)
    m0 = gaussians8_modes()[0]  # (2, 0); radial offsets 2.9σ (high quality) and 3.1σ (not)
    near_far = gaussians8_coverage(t64([m0 * (1 + 2.9 * 0.01), m0 * (1 + 3.1 * 0.01), m0 * (1 + 10 * 0.01)]))
    assert near_far.high_quality == pytest.approx(1 / 3) and near_far.counts[0] == 1
    assert (one.off, centre.off, near_far.off) == (0, 20, 2)  # within 3σ of no mode: 3.1σ and 10σ


def test_counts_and_off_split_every_sample() -> None:
    """Hand-worked: 3 samples on mode 1, 2 on mode 6, 4 halfway between modes 0 and 1 (0.77 from each: 38σ), 1 at
    the origin: counts (0, 3, 0, 0, 0, 0, 2, 0), off 5; shares over all 10 samples 30 %, 20 % and 50 % off."""
    modes = gaussians8_modes()
    between = (modes[0] + modes[1]) / 2
    parts = [np.repeat(modes[1:2], 3, 0), np.repeat(modes[6:7], 2, 0), np.repeat([between], 4, 0), [[0.0, 0.0]]]
    pts = np.concatenate(parts)
    cov = gaussians8_coverage(t64(pts))
    assert cov.counts == (0, 3, 0, 0, 0, 0, 2, 0) and cov.off == 5 and cov.n == 10
    assert sum(cov.counts) + cov.off == cov.n and cov.high_quality == pytest.approx(0.5)


def test_min_count_asks_for_enough_samples_per_mode() -> None:
    modes = gaussians8_modes()
    pts = np.concatenate([np.repeat(modes[:1], 5, axis=0), modes[1:]])  # 5 at mode 0, 1 at each other mode
    assert gaussians8_coverage(t64(pts)).modes_captured == 8  # VEEGAN: at least one
    assert gaussians8_coverage(t64(pts), min_count=2).modes_captured == 1
    square = mode_coverage(t64([[0.0, 0.0], [1.0, 1.0]]), t64([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]), std=0.1)
    assert square.counts == (1, 1, 0) and square.threshold == 3.0


def test_real_8gaussians_are_high_quality_at_the_2d_rate() -> None:
    """Within 3σ of the own mode in 2-D: P(χ²₂ <= 9) = 1 - exp(-9/2) = 98.89 %."""
    cov = gaussians8_coverage(torch.from_numpy(toy_8gaussians(8192, np.random.default_rng(1))))
    assert cov.modes_captured == 8
    assert cov.high_quality == pytest.approx(1 - math.exp(-4.5), abs=0.004)


# -- images: Fréchet distance --------------------------------------------------------------------------------------
def fd_stats(mean: np.ndarray, cov: np.ndarray, n: int = 100):
    from gan_train.measures import FeatureStats

    return FeatureStats(t64(mean), t64(cov), n)


def rotation(d: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


@pytest.mark.parametrize("device", DEVICES)
def test_frechet_of_diagonal_gaussians(device: str) -> None:
    """Diagonal: Tr(Σ₁ + Σ₂ - 2(Σ₁Σ₂)^½) = Σ_i (√d1_i - √d2_i)²."""
    m1, m2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    d1, d2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    a, b = fd_stats(m1, np.diag(d1)), fd_stats(m2, np.diag(d2), n=50)
    a = type(a)(a.mean.to(device), a.cov.to(device), a.n)
    fd = frechet_distance(a, b)
    assert fd.value == pytest.approx(5.0 + ((np.sqrt(d1) - np.sqrt(d2)) ** 2).sum(), rel=1e-10)
    assert (fd.n_a, fd.n_b) == (100, 50)


def test_frechet_of_commuting_covariances() -> None:
    """Σ₁ = Q D₁ Qᵀ and Σ₂ = Q D₂ Qᵀ commute, (Σ₁Σ₂)^½ = Q (D₁D₂)^½ Qᵀ: the trace term is Σ (√d1 - √d2)² again,
    though neither matrix is diagonal (an elementwise root of Σ₁Σ₂ would not give it)."""
    q = rotation(5, 0)
    d1, d2 = np.array([1.0, 2.0, 3.0, 0.5, 7.0]), np.array([4.0, 0.1, 3.0, 2.0, 1.0])
    fd = frechet_distance(fd_stats(np.zeros(5), q @ np.diag(d1) @ q.T), fd_stats(np.ones(5), q @ np.diag(d2) @ q.T))
    assert fd.value == pytest.approx(5.0 + ((np.sqrt(d1) - np.sqrt(d2)) ** 2).sum(), rel=1e-9)


def test_frechet_of_two_by_two_covariances_that_do_not_commute() -> None:
    """For a 2x2 M with eigenvalues λ1, λ2 >= 0: Tr M^½ = √λ1 + √λ2 = sqrt(Tr M + 2 sqrt(det M))."""
    s1, s2 = np.array([[2.0, 0.9], [0.9, 1.0]]), np.array([[0.5, -0.2], [-0.2, 3.0]])
    m = s1 @ s2
    tr_sqrt = math.sqrt(np.trace(m) + 2 * math.sqrt(np.linalg.det(m)))
    expected = 0.25 + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt
    fd = frechet_distance(fd_stats(np.array([0.0, 0.5]), s1), fd_stats(np.zeros(2), s2))
    assert fd.value == pytest.approx(expected, rel=1e-10)
    assert frechet_distance(fd_stats(np.zeros(2), s2), fd_stats(np.array([0.0, 0.5]), s1)).value == pytest.approx(
        expected, rel=1e-10
    )


def test_frechet_of_feature_sets_uses_the_unbiased_covariance() -> None:
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(40, 6)), rng.normal(size=(30, 6)) @ rotation(6, 1) * 1.5 + 0.3
    stats = feature_stats(t64(a))
    assert np.allclose(stats.cov.numpy(), np.cov(a, rowvar=False)) and stats.n == 40
    from_stats = frechet_distance(
        fd_stats(a.mean(0), np.cov(a, rowvar=False)), fd_stats(b.mean(0), np.cov(b, rowvar=False))
    )
    assert frechet_distance(t64(a), t64(b)).value == pytest.approx(from_stats.value, rel=1e-10)
    assert frechet_distance(t64(a), t64(a)).value == pytest.approx(0.0, abs=1e-9)


# -- images: KID -----------------------------------------------------------------------------------------------
def unbiased_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """The estimator written out with loops over pairs (i != j within a set)."""
    d = x.shape[1]

    def k(u, v):
        return (u @ v / d + 1) ** 3

    m = len(x)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


@pytest.mark.parametrize("device", DEVICES)
def test_kid_of_one_whole_subset_is_the_unbiased_mmd2(device: str) -> None:
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(25, 4)), rng.normal(size=(25, 4)) + 0.4
    res = kid(t64(x, device), t64(y, device), subsets=3, subset_size=25)
    assert res.mean == pytest.approx(unbiased_mmd2(x, y), rel=1e-10)
    assert res.std == pytest.approx(0.0, abs=1e-12)  # every subset is the whole set
    assert (res.n_a, res.n_b, res.subsets, res.subset_size) == (25, 25, 3, 25)


def test_kid_is_near_zero_for_one_distribution_and_clearly_positive_for_shifted_ones() -> None:
    """Unbiased: two samples of one distribution read within the spread over subsets of 0 (a biased estimator
    reads about 2(E k(x,x) - E k(x,y))/m above it, far outside); a shift of 0.5 per feature reads far above."""
    rng = np.random.default_rng(10)
    a, b = t64(rng.normal(size=(400, 16))), t64(rng.normal(size=(400, 16)))
    same = kid(a, b)
    assert abs(same.mean) < same.std and same.subset_size == 200
    shifted = kid(a, b + 0.5)
    assert shifted.mean > 10 * shifted.std


# -- images: precision and recall ------------------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
def test_precision_recall_of_identical_and_of_far_apart_sets(device: str) -> None:
    x = t64(np.random.default_rng(11).normal(size=(60, 8)), device)
    assert precision_recall(x, x.clone()) == precision_recall(x, x)
    pr = precision_recall(x, x)
    assert (pr.precision, pr.recall, pr.n_real, pr.n_fake, pr.k) == (1.0, 1.0, 60, 60, 3)
    far = precision_recall(x, x + 1000.0)
    assert (far.precision, far.recall) == (0.0, 0.0)


def test_precision_recall_of_a_subset() -> None:
    """Real points 0..99 on a line, fakes the first 50. Each fake lies on the real manifold: precision 1. The fakes'
    3rd neighbours are 3 apart, so their balls reach real points 0..52: recall 53/100 (a point exactly on a ball's
    boundary is inside; a radius that counted the point itself as a neighbour would be 2 and give 52)."""
    real = t64(np.arange(100.0)[:, None] * [1.0, 0.0])
    pr = precision_recall(real, real[:50])
    assert pr.precision == 1.0 and pr.recall == pytest.approx(53 / 100)
    with pytest.raises(ValueError, match="more than k"):
        precision_recall(real, real[:3])


def test_on_manifold_is_precision_per_sample() -> None:
    """Real points 0, 1, ..., 99 on a line (k = 3: every ball reaches 3); fakes at 50.5 (inside), 102 (inside: 3 from
    99, whose radius is 3), 103.5 and -10 (outside): the flags' mean is the precision."""
    real = t64(np.arange(100.0)[:, None] * [1.0, 0.0])
    fake = t64([[50.5, 0.0], [102.0, 0.0], [103.5, 0.0], [-10.0, 0.0]])
    flags = on_manifold(real, fake)
    assert flags.tolist() == [True, True, False, False]
    assert precision_recall(real, fake).precision == pytest.approx(float(flags.double().mean()))


# -- classes ---------------------------------------------------------------------------------------------------
def test_recognised_classes() -> None:
    """Hand-worked: five samples over three classes. Sample 0: class 2 at 0.95 on the manifold: recognised as 2;
    1: class 0 at 0.9 (the threshold counts): 0; 2: class 1 at 0.6: ambiguous; 3: class 1 at 0.99 but off the
    manifold (noise the classifier is sure about): unrecognised; 4: class 2 at 0.97: 2."""
    probs = torch.tensor(
        [[0.03, 0.02, 0.95], [0.9, 0.05, 0.05], [0.3, 0.6, 0.1], [0.005, 0.99, 0.005], [0.01, 0.02, 0.97]],
        dtype=torch.float64,
    )
    flags = torch.tensor([True, True, True, False, True])
    got = recognised_classes(probs, flags)
    assert (got.counts, got.unrecognised, got.n, got.confidence) == ((1, 0, 2), 2, 5, 0.9)
    assert recognised_classes(probs, flags, confidence=0.5).counts == (1, 1, 2)
    assert recognised_classes(probs, torch.zeros(5, dtype=torch.bool)).unrecognised == 5
    with pytest.raises(ValueError, match="probabilities"):
        recognised_classes(probs, flags[:4])


def test_class_histogram() -> None:
    h = class_histogram(torch.tensor([0, 0, 1, 1]), 10)
    assert h.counts == (2, 2) + (0,) * 8 and (h.n, h.classes_present) == (4, 2)
    assert h.kl == pytest.approx(math.log(5))  # Σ ½ log(½ / (1/10)) over two classes
    flat = class_histogram(torch.arange(10).repeat(3), 10)
    assert flat.classes_present == 10 and flat.kl == pytest.approx(0.0, abs=1e-12)
    ref = torch.tensor([3.0, 1.0])  # p = (½, ½) against q = (¾, ¼)
    assert class_histogram(torch.tensor([0, 1]), 2, ref).kl == pytest.approx(0.5 * math.log(2 / 3) + 0.5 * math.log(2))
    with pytest.raises(ValueError, match="0..9"):
        class_histogram(torch.tensor([10]), 10)
