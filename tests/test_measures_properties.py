"""Properties of gan_train.measures that tests/test_measures.py's closed forms leave open, each found by mutation
testing (docs/mutation.md): the rings' geometry against a brute-force arc, scipy's 1-D Wasserstein distance, the
floor's seeded construction, boundaries that count as inside, the defaults the docstrings promise, results that do
not depend on row chunking or on torch's default device, and the errors that name what was wrong."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import wasserstein_distance

from gan_train import measures
from gan_train.datasets import RINGS_NOISE, RINGS_RADIUS
from gan_train.measures import (
    class_histogram,
    feature_stats,
    frechet_distance,
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

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a second device")


def t64(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def mmd2_whole(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² of the whole sets with k(u, v) = (u·v/d + 1)³, from the kernel matrices (diagonals dropped)."""
    d, m = x.shape[1], len(x)
    kxx, kyy, kxy = ((x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3)
    off = ~np.eye(m, dtype=bool)
    return kxx[off].sum() / (m * (m - 1)) + kyy[off].sum() / (m * (m - 1)) - 2 * kxy.sum() / (m * m)


# -- the rings: geometry against a densely sampled arc ---------------------------------------------------------------
def turned(arcs, angle: float, shift: tuple[float, float]):
    """The arcs rotated by ``angle`` about the origin and moved by ``shift`` (the geometry must not assume the toy's
    layout: centres on x = 0, middles along the x axis)."""
    c, s = math.cos(angle), math.sin(angle)
    rot = lambda p: (c * p[0] - s * p[1], s * p[0] + c * p[1])  # noqa: E731
    return tuple(((rot(ctr)[0] + shift[0], rot(ctr)[1] + shift[1]), rot(mid)) for ctr, mid in arcs)


def brute_rings(x: np.ndarray, bins: int, tol: float, arcs) -> tuple[float, tuple[float, float], float]:
    """Each sample's nearest point on each semicircle (200,001 points along it, from the end a quarter turn clockwise
    of its middle direction to the end a quarter turn anticlockwise), the nearer arc, and the bin of that point."""
    t = np.linspace(0.0, 1.0, 200_001)
    phi = -np.pi / 2 + np.pi * t
    dense = []
    for (cx, cy), (mx, my) in arcs:
        px = cx + RINGS_RADIUS * (mx * np.cos(phi) - my * np.sin(phi))
        dense.append((px, cy + RINGS_RADIUS * (mx * np.sin(phi) + my * np.cos(phi))))
    hit = np.zeros((2, bins), bool)
    near = 0
    for px, py in x:
        found = []
        for ax, ay in dense:
            d = np.hypot(ax - px, ay - py)
            j = int(d.argmin())
            found.append((d[j], min(int(t[j] * bins), bins - 1)))
        arc = int(found[1][0] < found[0][0])
        dist, b = found[arc]
        if dist <= tol:
            near += 1
            hit[arc, b] = True
    return float(hit.mean()), (float(hit[0].mean()), float(hit[1].mean())), near / len(x)


@pytest.mark.parametrize(("n", "bins", "tol", "seed"), [(6, 24, 2.0, 0), (15, 7, 1.5, 1), (40, 50, 3.0, 2)])
@pytest.mark.parametrize("layout", ["toy", "turned"])
def test_rings_coverage_is_the_brute_force_nearest_arc_point(
    n: int, bins: int, tol: float, seed: int, layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random samples anywhere around both circles (past the arcs' ends too); none within 1e-3 of the tolerance
    from its circle, where the brute force's resolution (1.6e-4) could tell otherwise (seeded: fixed points)."""
    arcs = measures._ARCS if layout == "toy" else turned(measures._ARCS, 0.7, (3.0, -2.0))
    monkeypatch.setattr(measures, "_ARCS", arcs)
    rng = np.random.default_rng(seed)
    ang, rad = rng.uniform(0, 2 * np.pi, 4 * n), rng.uniform(RINGS_RADIUS - 4, RINGS_RADIUS + 4, 4 * n)
    which = rng.integers(0, 2, 4 * n)
    centres = np.array([arcs[k][0] for k in which])
    pts = centres + rad[:, None] * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    gap = np.abs(np.linalg.norm(pts - centres, axis=1) - RINGS_RADIUS - tol)
    x = pts[gap > 1e-3][:n]
    cov = rings_coverage(t64(x), bins=bins, tolerance=tol)
    bins_hit, arc_bins_hit, near_arc = brute_rings(x, bins, tol, arcs)
    assert cov.bins_hit == pytest.approx(bins_hit) and cov.near_arc == pytest.approx(near_arc)
    assert cov.arc_bins_hit == pytest.approx(arc_bins_hit)
    assert (cov.n, cov.bins, cov.tolerance) == (n, bins, tol)


def test_rings_coverage_boundaries_and_defaults() -> None:
    """A sample exactly the tolerance from an arc counts (<=); the arcs' shared end at the origin is the last bin of
    an arc, never a bin past it (here beside the right arc's first bin, at its bottom end: two bins hit)."""
    on_edge = rings_coverage(t64([[-RINGS_RADIUS - 2.0, RINGS_RADIUS]]))  # 12 left of the left arc's centre
    assert on_edge.near_arc == 1.0 and on_edge.tolerance == 2 * RINGS_NOISE and on_edge.bins == 24
    bottom = [math.sin(math.pi / 48) * RINGS_RADIUS, -RINGS_RADIUS - math.cos(math.pi / 48) * RINGS_RADIUS]
    cov = rings_coverage(t64([[0.0, -0.5], bottom]))
    assert cov.bins_hit == 2 / 48 and cov.arc_bins_hit[1] >= 1 / 24


# -- sliced Wasserstein -------------------------------------------------------------------------------------------
def test_sliced_w1_is_the_mean_of_scipys_1d_distances_over_the_default_directions() -> None:
    """Defaults: 256 directions from seed 0; each projection's W1 from scipy, for unequal sample sizes (3 and 7
    points per side on the line: breakpoints k/3 and k/7 that float32 cannot hold)."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(3, 2)), rng.normal(size=(7, 2)) * 2 + 1
    theta = unit_directions(2, 256, 0).numpy()
    want = np.mean([wasserstein_distance(a @ t, b @ t) for t in theta])
    got = sliced_wasserstein(t64(a), t64(b))
    assert got.value == pytest.approx(want, rel=1e-12)
    assert (got.directions, got.seed) == (256, 0)


def test_unit_directions() -> None:
    v = unit_directions(3, 500, 11)
    assert v.shape == (500, 3) and v.dtype == torch.float64 and v.device.type == "cpu"
    assert torch.allclose(v.norm(dim=1), torch.ones(500, dtype=torch.float64), atol=1e-15)
    assert torch.equal(v, unit_directions(3, 500, 11)) and not torch.equal(v, unit_directions(3, 500, 12))
    assert unit_directions(2, 4, 0, "meta").device.type == "meta"  # moved where asked


def test_sliced_floor_is_the_distance_between_seeded_disjoint_halves() -> None:
    """The documented construction, recomputed through sliced_wasserstein: per repeat, the first 2n rows of a
    permutation from torch.Generator().manual_seed(seed), split in halves; mean and std (ddof 0) over repeats."""
    pool = t64(np.random.default_rng(6).normal(size=(50, 2)))  # more rows than 2n: the halves leave rows out
    n = 7
    floor = sliced_wasserstein_floor(pool, n)
    g = torch.Generator().manual_seed(0)
    values = []
    for _ in range(8):
        idx = torch.randperm(len(pool), generator=g)[: 2 * n]
        values.append(sliced_wasserstein(pool[idx[:n]], pool[idx[n:]]).value)
    assert floor.mean == pytest.approx(np.mean(values), rel=1e-12)
    assert floor.std == pytest.approx(np.std(values), rel=1e-9)
    assert (floor.n, floor.repeats, floor.directions, floor.seed) == (7, 8, 256, 0)
    assert sliced_wasserstein_floor(pool, n, seed=4) == sliced_wasserstein_floor(pool, n, seed=4)  # reproducible
    one = sliced_wasserstein_floor(pool, 1, repeats=1)  # the smallest floor there is: one point against one
    assert one.std == 0.0 and one.repeats == 1
    with pytest.raises(ValueError, match=r"^sliced_wasserstein_floor: need 2n rows and repeats >= 1 \(rows 50, n 0\)$"):
        sliced_wasserstein_floor(pool, 0)
    with pytest.raises(ValueError, match="repeats >= 1"):
        sliced_wasserstein_floor(pool, 3, repeats=0)


# -- 8 Gaussians --------------------------------------------------------------------------------------------------
def test_mode_coverage_boundary_and_defaults() -> None:
    """A sample exactly 3 std from a mode is high quality (<=); one sample captures a mode by default (VEEGAN)."""
    modes = np.array([[0.0, 0.0], [10.0, 0.0]])
    cov = mode_coverage(t64([[1.5, 0.0], [10.0, 0.4]]), modes, std=0.5)
    assert (cov.modes_captured, cov.counts, cov.high_quality, cov.min_count, cov.threshold) == (2, (1, 1), 1.0, 1, 3.0)


# -- Fréchet distance and KID -------------------------------------------------------------------------------------
def test_feature_stats_of_two_samples() -> None:
    """Two samples: mean their midpoint, covariance ((x1 - x2)(x1 - x2)ᵀ) / 2."""
    s = feature_stats(t64([[1.0, 2.0], [3.0, 6.0]]))
    assert s.mean.tolist() == [2.0, 4.0] and s.cov.tolist() == [[2.0, 4.0], [4.0, 8.0]] and s.n == 2
    with pytest.raises(ValueError, match=r"^feature_stats: a covariance needs at least 2 samples$"):
        feature_stats(t64([[1.0, 2.0]]))


def test_kid_defaults_bounds_and_reproducibility() -> None:
    rng = np.random.default_rng(12)
    a, b = t64(rng.normal(size=(9, 3))), t64(rng.normal(size=(9, 3)) + 0.3)
    res = kid(a, b)
    assert (res.subsets, res.subset_size) == (50, 4)  # half the smaller set
    assert res == kid(a, b) == kid(a, b, seed=0) and kid(a, b, seed=1).mean != res.mean
    assert kid(a[:3], b[:3]).subset_size == 2  # at least 2
    assert kid(a, b, subset_size=2, subsets=1).std == 0.0  # one subset: no spread (ddof 0)
    whole = kid(a, b, subset_size=9, subsets=1)
    assert whole.mean == pytest.approx(mmd2_whole(a.numpy(), b.numpy()), rel=1e-12)
    for bad, words in (({"subset_size": 1}, "subset size 1 needs 2..9"), ({"subset_size": 10}, "subset size 10"),
                       ({"subsets": 0}, "subset size 4 needs 2..9 and subsets >= 1$")):  # fmt: skip
        with pytest.raises(ValueError, match=rf"^kid: {words}"):
            kid(a, b, **bad)
    with pytest.raises(ValueError, match=r"^kid: 3 features against 2$"):
        kid(a, b[:, :2])


def test_kid_subset_size_is_at_most_1000() -> None:
    rng = np.random.default_rng(13)
    a, b = t64(rng.normal(size=(2002, 2))), t64(rng.normal(size=(2002, 2)))
    assert kid(a, b, subsets=1).subset_size == 1000


def test_row_chunks_do_not_change_the_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pairwise matrices are built a few rows at a time; with 7-row blocks every measure reads what the whole-matrix
    formulas give (KID of the whole sets; precision and recall on a line, where each ball reaches its k-th point)."""
    monkeypatch.setattr(measures, "ROWS", 7)
    rng = np.random.default_rng(14)
    x, y = rng.normal(size=(30, 4)), rng.normal(size=(30, 4)) + 0.2
    assert kid(t64(x), t64(y), subset_size=30, subsets=1).mean == pytest.approx(mmd2_whole(x, y), rel=1e-12)
    real = t64(np.arange(40.0)[:, None] * [1.0, 0.0])
    pr = precision_recall(real, real[:20])
    assert (pr.precision, pr.recall) == (1.0, 23 / 40)


# -- precision, recall, manifold ------------------------------------------------------------------------------------
def test_manifold_radius_is_exact_in_float64() -> None:
    """Real points 0 and 0.1 on a line (k = 1: each one's ball reaches the other, radius 0.1): a fake 0.1 + 1e-9 past
    0.1 is outside; a radius held in float32 (0.10000000149) would take it in."""
    real = t64([[0.0], [0.1], [5.0], [5.2]])
    fake = t64([[0.1 + 0.1 + 1e-9], [5.2 + 0.2]])
    assert on_manifold(real, fake, k=1).tolist() == [False, True]
    assert precision_recall(real, fake, k=1).precision == 0.5


def test_on_manifold_default_k_and_bounds() -> None:
    """Default k = 3: real points 0..9 on a line have radius 3; a fake 3.5 past the last is outside (k = 4: inside)."""
    real = t64(np.arange(10.0)[:, None])
    flags = on_manifold(real, t64([[12.0], [12.5]]))
    assert flags.dtype == torch.bool and flags.tolist() == [True, False]
    assert on_manifold(real, t64([[12.5]]), k=4).tolist() == [True]
    with pytest.raises(ValueError, match=r"^on_manifold: k=3 needs more than k real samples \(3\)$"):
        on_manifold(real[:3], real)


# -- classes --------------------------------------------------------------------------------------------------------
def test_recognised_classes_keeps_every_class_and_checks_shapes() -> None:
    probs = torch.tensor([[0.95, 0.05, 0.0, 0.0]], dtype=torch.float64)  # one sample, four classes
    got = recognised_classes(probs, torch.tensor([True]))
    assert got.counts == (1, 0, 0, 0) and got.unrecognised == 0
    for p, flags in ((probs[0], torch.tensor([True] * 4)), (probs[:0], torch.zeros(0, dtype=torch.bool))):
        with pytest.raises(ValueError, match=r"^recognised_classes: need \(n, C\) probabilities and \(n,\) flags"):
            recognised_classes(p, flags)


def test_class_histogram_counts_single_samples_and_refuses_bad_labels() -> None:
    h = class_histogram(torch.tensor([2, 0, 0]), 3)
    assert h.counts == (2, 0, 1) and h.classes_present == 2  # a class drawn once is present
    assert class_histogram(torch.tensor([1]), 2).classes_present == 1
    ref = [1.0, 3.0]  # p = (0, 1) against q = (¼, ¾): KL = log(4/3)
    assert class_histogram(torch.tensor([1, 1]), 2, ref).kl == pytest.approx(math.log(4 / 3))
    for bad in ([-1], [3], []):
        with pytest.raises(ValueError, match=r"^class_histogram: need labels in 0\.\.2$"):
            class_histogram(torch.tensor(bad, dtype=torch.long), 3)


def test_normal_fit_refuses_empty_samples_and_a_non_positive_std() -> None:
    for samples, std in (([], 1.0), ([1.0], 0.0), ([1.0], -1.0)):
        with pytest.raises(ValueError, match=rf"^normal_fit: need samples and a positive std \(got {len(samples)} "):
            normal_fit(t64(samples), 0.0, std)


# -- errors name the function and the argument ----------------------------------------------------------------------
BAD = t64([1.0, 2.0, 3.0])  # 1-D: not (N, D)
EMPTY = t64(np.zeros((0, 2)))
GOOD = t64(np.random.default_rng(15).normal(size=(8, 2)))


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda x: sliced_wasserstein(x, GOOD), "sliced_wasserstein a"),
        (lambda x: sliced_wasserstein(GOOD, x), "sliced_wasserstein b"),
        (lambda x: sliced_wasserstein_floor(x, 1), "sliced_wasserstein_floor real"),
        (lambda x: rings_coverage(x), "rings_coverage samples"),
        (lambda x: mode_coverage(x, GOOD, 1.0), "mode_coverage samples"),
        (lambda x: mode_coverage(GOOD, x, 1.0), "mode_coverage modes"),
        (lambda x: feature_stats(x), "feature_stats features"),
        (lambda x: kid(x, GOOD), "kid a"),
        (lambda x: kid(GOOD, x), "kid b"),
        (lambda x: on_manifold(x, GOOD), "on_manifold real"),
        (lambda x: on_manifold(GOOD, x), "on_manifold fake"),
        (lambda x: precision_recall(x, GOOD), "precision_recall real"),
        (lambda x: precision_recall(GOOD, x), "precision_recall fake"),
    ],
)
def test_bad_points_are_named(call, what: str) -> None:
    with pytest.raises(ValueError, match=rf"^{what}: expected a non-empty \(N, D\) tensor, got shape \(3,\)$"):
        call(BAD)
    with pytest.raises(ValueError, match=rf"^{what}: expected a non-empty \(N, D\) tensor, got shape \(0, 2\)$"):
        call(EMPTY)


def test_mismatched_dimensions_are_named() -> None:
    with pytest.raises(ValueError, match=r"^sliced_wasserstein: 2-D points against 3-D points$"):
        sliced_wasserstein(GOOD, t64(np.zeros((4, 3))))
    with pytest.raises(ValueError, match=r"^frechet_distance: 2 features against 3$"):
        frechet_distance(GOOD, t64(np.random.default_rng(0).normal(size=(5, 3))))


# -- devices --------------------------------------------------------------------------------------------------------
def test_values_do_not_depend_on_torchs_default_device() -> None:
    """Every measure computes on its inputs' device: with torch's default device set elsewhere (here 'meta', which
    holds no data), CPU inputs give the same values."""
    rng = np.random.default_rng(16)
    x, y = t64(rng.normal(size=(40, 2))), t64(rng.normal(size=(30, 2)) + 0.3)
    probs, flags, labels = torch.softmax(x, 1), torch.ones(40, dtype=torch.bool), torch.tensor([0, 1, 1])
    calls = [  # inputs made before the default changes: CPU tensors
        lambda: normal_fit(x[:, 0], 0.0, 1.0),
        lambda: sliced_wasserstein(x, y),
        lambda: sliced_wasserstein_floor(x, 10),
        lambda: rings_coverage(x * 10),
        lambda: mode_coverage(x, np.zeros((3, 2)), 0.5),
        lambda: frechet_distance(x, y),
        lambda: kid(x, y),
        lambda: precision_recall(x, y),
        lambda: recognised_classes(probs, flags),
        lambda: class_histogram(labels, 3),
        lambda: class_histogram(labels, 3, [1.0, 2.0, 1.0]),
    ]
    expected = [f() for f in calls]
    with torch.device("meta"):
        got = [f() for f in calls]
    assert got == expected


@CUDA
def test_inputs_on_two_devices_give_the_cpu_values() -> None:
    """The second input (and the modes, the subsets, the flags) move to the first input's device."""
    rng = np.random.default_rng(17)
    x, y = t64(rng.normal(size=(40, 2))), t64(rng.normal(size=(30, 2)) + 0.3)
    cuda = torch.device("cuda")
    assert kid(x.to(cuda), y) == kid(x, y)
    assert precision_recall(x.to(cuda), y) == precision_recall(x, y)
    assert on_manifold(x.to(cuda), y).tolist() == on_manifold(x, y).tolist()
    assert frechet_distance(feature_stats(x.to(cuda)), feature_stats(y)).value == pytest.approx(
        frechet_distance(x, y).value, rel=1e-9
    )
    assert mode_coverage(x.to(cuda), np.zeros((3, 2)), 0.5) == mode_coverage(x, np.zeros((3, 2)), 0.5)
    assert sliced_wasserstein_floor(x.to(cuda), 10) == sliced_wasserstein_floor(x, 10)
    probs = torch.softmax(x, 1)
    flags = torch.ones(40, dtype=torch.bool)
    assert recognised_classes(probs.to(cuda), flags) == recognised_classes(probs, flags)
    assert class_histogram(torch.tensor([0, 1]).to(cuda), 2, torch.tensor([1.0, 3.0])).kl == pytest.approx(
        class_histogram(torch.tensor([0, 1]), 2, torch.tensor([1.0, 3.0])).kl
    )
