"""How good is G? Distances and coverage between generated and real samples, as pure functions.

Tensors in, plain numbers out: every function computes on its inputs' device, in float64 (sums of many small
terms and matrix square roots need it), and returns a small frozen dataclass that also states how many samples
it used, so that a value is never read without its sample size.

- 1-D toy: exact Wasserstein-1 and Kolmogorov-Smirnov distances to the known N(mean, std^2).
- 2-D toys: sliced Wasserstein distance with fixed seeded directions, and its real-vs-real floor; coverage of
  the rings' arcs; modes captured on the 8-Gaussians toy.
- images, in any feature space (gan_train.features): Fréchet distance, KID, k-NN precision and recall, and the
  histogram of the classes a classifier gives G's samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from gan_train.datasets import GAUSSIANS8_STD, RINGS_NOISE, RINGS_RADIUS, gaussians8_modes

ROWS = 2048  # rows of a pairwise matrix held at once: memory stays O(ROWS * n), not O(n^2)


def _f64(x: Tensor) -> Tensor:
    return x.detach().to(torch.float64)


def _points(x: Tensor, what: str) -> Tensor:
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"{what}: expected a non-empty (N, D) tensor, got shape {tuple(x.shape)}")
    return _f64(x)


def _row_chunks(n: int) -> Iterator[slice]:
    for start in range(0, n, ROWS):
        yield slice(start, min(start + ROWS, n))


# -- 1-D toy: distance to the known normal -------------------------------------------------------------------------
@dataclass(frozen=True)
class NormalFit:
    """Distances of n samples to N(mean, std^2): ``w1`` in the samples' units, ``ks`` in [0, 1]."""

    w1: float
    ks: float
    n: int


def _std_normal_pdf(z: Tensor) -> Tensor:
    return torch.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)  # 0 at +-inf


def normal_fit(samples: Tensor, mean: float, std: float) -> NormalFit:
    """Exact Wasserstein-1 and Kolmogorov-Smirnov distances of the samples' empirical CDF F_n to N(mean, std^2).

    W1: the 1-D W1 is the L1 distance between quantile functions, W1 = ∫_0^1 |Q_n(u) - Q(u)| du (Vallender 1973).
    In standard units t = (x - mean)/std (W1 scales with std), Q_n = t_(i) on u in (a, b] = ((i-1)/n, i/n], and
    with c = Φ(t_(i)) clamped to [a, b] and the normal's partial expectation P(p) = ∫_0^p Φ⁻¹ = -φ(Φ⁻¹(p)),
    that step contributes t_(i)(2c - a - b) + P(a) + P(b) - 2P(c): no quadrature, no sampling error.
    KS: D_n = sup |F_n - F| = max_i max(i/n - F(x_(i)), F(x_(i)) - (i-1)/n) (Kolmogorov 1933; the supremum is
    reached at a jump of F_n).
    """
    x = _f64(samples).reshape(-1)
    if len(x) == 0 or not std > 0:
        raise ValueError(f"normal_fit: need samples and a positive std (got {len(x)} samples, std {std})")
    n = len(x)
    t = torch.sort((x - mean) / std).values
    i = torch.arange(1, n + 1, dtype=torch.float64, device=x.device)
    a, b = (i - 1) / n, i / n
    cdf = torch.special.ndtr(t)
    c = torch.minimum(torch.maximum(cdf, a), b)
    za, zb = torch.special.ndtri(a), torch.special.ndtri(b)  # -inf at a = 0, +inf at b = 1
    zc = torch.minimum(torch.maximum(t, za), zb)  # Φ⁻¹(c) without the round trip through Φ
    steps = t * (2 * c - a - b) - _std_normal_pdf(za) - _std_normal_pdf(zb) + 2 * _std_normal_pdf(zc)
    ks = torch.maximum(b - cdf, cdf - a).max()
    return NormalFit(w1=float(std * steps.sum()), ks=float(ks), n=n)


# -- 2-D toys: sliced Wasserstein distance --------------------------------------------------------------------------
@dataclass(frozen=True)
class Sliced:
    """Sliced Wasserstein-1 distance between n_a and n_b points, over ``directions`` directions drawn from ``seed``."""

    value: float
    n_a: int
    n_b: int
    directions: int
    seed: int


@dataclass(frozen=True)
class SlicedFloor:
    """The sliced distance between two disjoint real samples of n points each: mean and std over ``repeats`` splits."""

    mean: float
    std: float
    n: int
    repeats: int
    directions: int
    seed: int


def unit_directions(dim: int, count: int, seed: int, device: torch.device | str = "cpu") -> Tensor:
    """``count`` directions uniform on the unit sphere (normalised Gaussians), float64 (count, dim).

    Drawn on the CPU from their own generator, so one seed gives the same directions on every device and in
    every call: values from different snapshots then differ only by what G did.
    """
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(count, dim, generator=g, dtype=torch.float64, device="cpu")  # not torch's default device
    return (v / v.norm(dim=1, keepdim=True)).to(device)


def _w1_sorted_columns(a: Tensor, b: Tensor) -> Tensor:
    """W1 between the 1-D empirical distributions of each column of sorted a (n, L) and sorted b (m, L): (L,).

    ∫_0^1 |Q_a(u) - Q_b(u)| du, exact: both quantile functions are constant between the breakpoints k/n and k/m.
    """
    n, m = len(a), len(b)
    dev = a.device
    steps = [torch.arange(1, k + 1, dtype=torch.float64, device=dev) / k for k in (n, m)]
    u = torch.sort(torch.cat(steps)).values
    width = torch.diff(u, prepend=u.new_zeros(1))
    mid = u - width / 2
    ia = torch.clamp((mid * n).long(), max=n - 1)
    ib = torch.clamp((mid * m).long(), max=m - 1)
    return (width[:, None] * (a[ia] - b[ib]).abs()).sum(0)


def sliced_wasserstein(a: Tensor, b: Tensor, *, directions: int = 256, seed: int = 0) -> Sliced:
    """Sliced Wasserstein-1 distance: the mean over unit directions θ of W1(θ·a, θ·b) (Rabin et al. 2011,
    "Wasserstein barycenter and its application to texture mixing"; Bonneel et al. 2015).

    Each 1-D W1 is exact (sorted projections, any two sample sizes); only the directions are sampled, and they are
    the same for every call with the same seed, so values compare across snapshots. In the points' units.
    """
    a, b = _points(a, "sliced_wasserstein a"), _points(b, "sliced_wasserstein b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"sliced_wasserstein: {a.shape[1]}-D points against {b.shape[1]}-D points")
    theta = unit_directions(a.shape[1], directions, seed, a.device)
    pa, pb = torch.sort(a @ theta.T, dim=0).values, torch.sort(b @ theta.T, dim=0).values
    return Sliced(float(_w1_sorted_columns(pa, pb).mean()), len(a), len(b), directions, seed)


def sliced_wasserstein_floor(
    real: Tensor, n: int, *, repeats: int = 8, directions: int = 256, seed: int = 0
) -> SlicedFloor:
    """What ``sliced_wasserstein(fake, real)`` reads for a perfect G with n samples each: the same distance between
    two disjoint random halves of 2n rows of ``real`` (needs at least 2n rows), over ``repeats`` seeded splits.

    Finite samples never reach 0; a G whose distance sits within the floor's spread is as close as n samples can
    tell. Same ``seed`` and ``directions``: the same directions as ``sliced_wasserstein``.
    """
    real = _points(real, "sliced_wasserstein_floor real")
    if not 1 <= n <= len(real) // 2 or repeats < 1:
        raise ValueError(f"sliced_wasserstein_floor: need 2n rows and repeats >= 1 (rows {len(real)}, n {n})")
    g = torch.Generator().manual_seed(seed)
    theta = unit_directions(real.shape[1], directions, seed, real.device)
    values = []
    for _ in range(repeats):
        idx = torch.randperm(len(real), generator=g, device="cpu")[: 2 * n].to(real.device)
        proj = real[idx] @ theta.T
        pa, pb = torch.sort(proj[:n], dim=0).values, torch.sort(proj[n:], dim=0).values
        values.append(_w1_sorted_columns(pa, pb).mean())
    v = torch.stack(values)
    return SlicedFloor(float(v.mean()), float(v.std(correction=0)), n, repeats, directions, seed)


# -- 2-D toys: coverage -------------------------------------------------------------------------------------------
RINGS_BINS = 24  # angular bins per arc: 7.5 degrees each
RINGS_TOLERANCE = 2.0 * RINGS_NOISE  # "on an arc": within 2 std of the radial noise (95.4 % of real samples)
# (centre, direction from the centre to the arc's middle) of toy_rings' two semicircles
_ARCS = (((0.0, RINGS_RADIUS), (-1.0, 0.0)), ((0.0, -RINGS_RADIUS), (1.0, 0.0)))  # left (x < 0), right (x > 0)


@dataclass(frozen=True)
class RingsCoverage:
    """How much of toy_rings' two arcs G's n samples cover, and how many of them lie on an arc.

    ``arc_bins_hit``: per arc (left, right), the share of its ``bins`` equal angular bins that hold at least one
    sample within ``tolerance`` of that arc; ``bins_hit``: the same over both arcs; ``near_arc``: the share of
    samples within ``tolerance`` of an arc. Real data, 512 samples: bins 1.0 (a bin is missed in 0.2 % of draws)
    and near_arc 0.95 ± 0.01.
    """

    bins_hit: float
    arc_bins_hit: tuple[float, float]
    near_arc: float
    n: int
    bins: int
    tolerance: float


def rings_coverage(samples: Tensor, *, bins: int = RINGS_BINS, tolerance: float = RINGS_TOLERANCE) -> RingsCoverage:
    """Arc bins hit and share of samples near an arc, for toy_rings (gan_train.datasets).

    Each sample belongs to the nearer arc. Its distance is to the nearest point of that semicircle (the point at
    its own angle about the arc's centre, or the nearer end when that angle lies outside the arc), and its bin is
    that nearest point's angle along the arc, so samples just past an end count for the end bin.
    """
    x = _points(samples, "rings_coverage samples")
    dists, bin_ids = [], []
    for (cx, cy), (mx, my) in _ARCS:
        vx, vy = x[:, 0] - cx, x[:, 1] - cy
        alpha = torch.atan2(mx * vy - my * vx, mx * vx + my * vy).clamp(-math.pi / 2, math.pi / 2)
        px = cx + RINGS_RADIUS * (mx * torch.cos(alpha) - my * torch.sin(alpha))
        py = cy + RINGS_RADIUS * (mx * torch.sin(alpha) + my * torch.cos(alpha))
        dists.append(torch.hypot(x[:, 0] - px, x[:, 1] - py))
        bin_ids.append(((alpha + math.pi / 2) / math.pi * bins).long().clamp(0, bins - 1))
    dist, arc = torch.stack(dists).min(0)
    near = dist <= tolerance
    cell = (arc * bins + torch.stack(bin_ids).gather(0, arc[None])[0])[near]
    hit = torch.bincount(cell, minlength=2 * bins).reshape(2, bins) > 0
    per_arc = hit.double().mean(1)
    return RingsCoverage(
        bins_hit=float(hit.double().mean()),
        arc_bins_hit=(float(per_arc[0]), float(per_arc[1])),
        near_arc=float(near.double().mean()),
        n=len(x),
        bins=bins,
        tolerance=tolerance,
    )


@dataclass(frozen=True)
class ModeCoverage:
    """Modes of a Gaussian mixture that G's n samples capture.

    ``counts[k]``: high-quality samples whose nearest mode is k; ``modes_captured``: modes with at least
    ``min_count`` of them; ``high_quality``: the share of samples within ``threshold`` std of their nearest mode;
    ``off``: the samples within ``threshold`` std of no mode (n - sum(counts)): with ``counts`` they split all n.
    """

    modes_captured: int
    high_quality: float
    counts: tuple[int, ...]
    n: int
    min_count: int
    threshold: float
    off: int


def mode_coverage(
    samples: Tensor, modes: Tensor, std: float, *, threshold: float = 3.0, min_count: int = 1
) -> ModeCoverage:
    """VEEGAN's mode-collapse measures (Srivastava et al. 2017, section 5.1): a sample is *high quality* when it
    lies within three standard deviations of the nearest mode, and the *number of modes captured* is the number of
    mixture components whose mean is nearest to at least one high-quality sample (PacGAN's released code counts
    the same way). ``min_count`` > 1 asks for more than one sample per mode; the default is VEEGAN's rule.

    Distances are Euclidean in units of the (isotropic) mode std. For real 2-D data 1 - exp(-9/2) = 98.9 % of
    samples are high quality.
    """
    x = _points(samples, "mode_coverage samples")
    centres = _points(torch.as_tensor(modes, device=x.device), "mode_coverage modes")
    dist, nearest = torch.cdist(x, centres).min(1)
    good = dist <= threshold * std
    counts = torch.bincount(nearest[good], minlength=len(centres))
    return ModeCoverage(
        modes_captured=int((counts >= min_count).sum()),
        high_quality=float(good.double().mean()),
        counts=tuple(int(c) for c in counts.tolist()),
        n=len(x),
        min_count=min_count,
        threshold=threshold,
        off=int((~good).sum()),
    )


def gaussians8_coverage(samples: Tensor, *, min_count: int = 1) -> ModeCoverage:
    """``mode_coverage`` on the 8-Gaussians toy (toy_8gaussians: radius 2, std 0.02)."""
    return mode_coverage(samples, torch.from_numpy(gaussians8_modes()), GAUSSIANS8_STD, min_count=min_count)


# -- images, in a feature space -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeatureStats:
    """Mean (F,) and unbiased covariance (F, F) of n feature vectors, float64: what the Fréchet distance needs."""

    mean: Tensor
    cov: Tensor
    n: int


def feature_stats(features: Tensor) -> FeatureStats:
    """Mean and covariance (divided by n - 1, as numpy.cov and pytorch-fid) of (n, F) features; n >= 2."""
    x = _points(features, "feature_stats features")
    if len(x) < 2:
        raise ValueError("feature_stats: a covariance needs at least 2 samples")
    mean = x.mean(0)
    d = x - mean
    return FeatureStats(mean, d.T @ d / (len(x) - 1), len(x))


@dataclass(frozen=True)
class Frechet:
    """Fréchet distance (squared units of the features) between the Gaussians fitted to n_a and n_b samples."""

    value: float
    n_a: int
    n_b: int


def _sym_sqrt(m: Tensor) -> Tensor:
    w, v = torch.linalg.eigh(m)
    return (v * w.clamp(min=0).sqrt()) @ v.T


def frechet_distance(a: Tensor | FeatureStats, b: Tensor | FeatureStats) -> Frechet:
    """‖μ_a - μ_b‖² + Tr(Σ_a + Σ_b - 2(Σ_a Σ_b)^½): the Fréchet (Wasserstein-2) distance between two Gaussians
    (Dowson & Landau 1982), on feature sets as in FID (Heusel et al. 2017).

    Features or precomputed ``feature_stats`` (the real side is worth computing once). Tr (Σ_a Σ_b)^½ is the sum
    of the square roots of the eigenvalues of the symmetric Σ_a^½ Σ_b Σ_a^½ (similar to Σ_a Σ_b): two symmetric
    eigendecompositions in float64, no scipy, no complex parts to drop.
    """
    sa = a if isinstance(a, FeatureStats) else feature_stats(a)
    sb = b if isinstance(b, FeatureStats) else feature_stats(b)
    if sa.mean.shape != sb.mean.shape:
        raise ValueError(f"frechet_distance: {sa.mean.numel()} features against {sb.mean.numel()}")
    cov_b = sb.cov.to(sa.cov.device)
    root_a = _sym_sqrt(sa.cov)
    m = root_a @ cov_b @ root_a
    tr_sqrt = torch.linalg.eigvalsh((m + m.T) / 2).clamp(min=0).sqrt().sum()
    value = (sa.mean - sb.mean.to(sa.mean.device)).square().sum() + sa.cov.trace() + cov_b.trace() - 2 * tr_sqrt
    return Frechet(max(0.0, float(value)), sa.n, sb.n)


@dataclass(frozen=True)
class KID:
    """Kernel Inception Distance (in any feature space): mean and std over ``subsets`` of ``subset_size`` each."""

    mean: float
    std: float
    n_a: int
    n_b: int
    subsets: int
    subset_size: int


def _poly_kernel_sums(x: Tensor, y: Tensor, sx: Tensor, sy: Tensor) -> Tensor:
    """Σ_ij sx[i, l] k(x_i, y_j) sy[j, l] for every subset l, with k(x, y) = (x·y/d + 1)³, a block of rows at a time."""
    out = torch.zeros(sx.shape[1], dtype=torch.float64, device=x.device)
    d = x.shape[1]
    for rows in _row_chunks(len(x)):
        k = (x[rows] @ y.T / d + 1) ** 3
        out += (sx[rows] * (k @ sy)).sum(0)
    return out


def kid(a: Tensor, b: Tensor, *, subsets: int = 50, subset_size: int | None = None, seed: int = 0) -> KID:
    """Unbiased MMD² with the cubic polynomial kernel k(x, y) = (x·y/d + 1)³, averaged over random subsets
    (Bińkowski et al. 2018, "Demystifying MMD GANs").

    Per subset of m samples from each side (drawn without replacement, seeded):
    MMD²_u = Σ_{i≠j} k(a_i, a_j)/(m(m-1)) + Σ_{i≠j} k(b_i, b_j)/(m(m-1)) - 2 Σ_{i,j} k(a_i, b_j)/m².
    Unbiased, so it is near 0 (and may be negative) for one distribution at any m. ``subset_size`` defaults to
    half the smaller set, at most 1,000 (the paper's size), so that subsets differ and their spread (std, ddof 0)
    says how much the value moves with the samples drawn.
    """
    x, y = _points(a, "kid a"), _points(b, "kid b").to(a.device)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"kid: {x.shape[1]} features against {y.shape[1]}")
    m = min(1000, max(2, min(len(x), len(y)) // 2)) if subset_size is None else subset_size
    if not 2 <= m <= min(len(x), len(y)) or subsets < 1:
        raise ValueError(f"kid: subset size {m} needs 2..{min(len(x), len(y))} and subsets >= 1")
    g = torch.Generator().manual_seed(seed)

    def pick(n: int) -> Tensor:  # (n, subsets) 0/1: column l marks subset l
        s = torch.zeros(n, subsets, dtype=torch.float64, device="cpu")
        for col in range(subsets):
            s[torch.randperm(n, generator=g, device="cpu")[:m], col] = 1.0
        return s.to(x.device)

    sx, sy = pick(len(x)), pick(len(y))
    d = x.shape[1]
    diag_x = ((x * x).sum(1) / d + 1) ** 3
    diag_y = ((y * y).sum(1) / d + 1) ** 3
    kxx = _poly_kernel_sums(x, x, sx, sx) - diag_x @ sx
    kyy = _poly_kernel_sums(y, y, sy, sy) - diag_y @ sy
    kxy = _poly_kernel_sums(x, y, sx, sy)
    mmd = (kxx + kyy) / (m * (m - 1)) - 2 * kxy / (m * m)
    return KID(float(mmd.mean()), float(mmd.std(correction=0)), len(x), len(y), subsets, m)


@dataclass(frozen=True)
class PrecisionRecall:
    """Share of fake samples on the real manifold (precision) and of real samples on the fake one (recall)."""

    precision: float
    recall: float
    n_real: int
    n_fake: int
    k: int


def _kth_neighbour_radius(x: Tensor, k: int) -> Tensor:
    """Distance from each row of x to its k-th nearest other row."""
    radius = torch.empty(len(x), dtype=torch.float64, device=x.device)
    for rows in _row_chunks(len(x)):
        d = torch.cdist(x[rows], x)
        d[torch.arange(d.shape[0], device=x.device), torch.arange(rows.start, rows.stop, device=x.device)] = math.inf
        radius[rows] = d.kthvalue(k, dim=1).values
    return radius


def _inside(points: Tensor, centres: Tensor, radius: Tensor) -> Tensor:
    """Whether each point lies within the ball of some centre: ‖p - c‖ <= radius(c); bool (N,)."""
    inside = torch.zeros(len(points), dtype=torch.bool, device=points.device)
    for rows in _row_chunks(len(points)):
        inside[rows] = (torch.cdist(points[rows], centres) <= radius[None, :]).any(1)
    return inside


def _share_inside(points: Tensor, centres: Tensor, radius: Tensor) -> float:
    """Share of points within the ball of some centre."""
    return float(_inside(points, centres, radius).double().mean())


def on_manifold(real: Tensor, fake: Tensor, *, k: int = 3) -> Tensor:
    """Per fake sample, whether it lies on the real manifold of ``precision_recall`` (inside the ball of some real
    sample reaching that sample's k-th nearest real neighbour): bool (n_fake,), whose mean is the precision."""
    r, f = _points(real, "on_manifold real"), _points(fake, "on_manifold fake").to(real.device)
    if len(r) <= k:
        raise ValueError(f"on_manifold: k={k} needs more than k real samples ({len(r)})")
    return _inside(f, r, _kth_neighbour_radius(r, k))


def precision_recall(real: Tensor, fake: Tensor, *, k: int = 3) -> PrecisionRecall:
    """Improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the union of balls around
    its samples reaching their k-th nearest neighbour in the same set; precision is the share of fake samples
    inside the real manifold, recall the share of real samples inside the fake one (boundaries count as inside).
    """
    r, f = _points(real, "precision_recall real"), _points(fake, "precision_recall fake").to(real.device)
    if min(len(r), len(f)) <= k:
        raise ValueError(f"precision_recall: k={k} needs more than k samples per set ({len(r)} real, {len(f)} fake)")
    precision = _share_inside(f, r, _kth_neighbour_radius(r, k))
    recall = _share_inside(r, f, _kth_neighbour_radius(f, k))
    return PrecisionRecall(precision, recall, len(r), len(f), k)


@dataclass(frozen=True)
class ClassHistogram:
    """Which classes a classifier sees in n samples: counts per class, how many classes appear at all, and the
    KL divergence (nats) of that histogram from a reference one (the real data's; uniform if none was given)."""

    counts: tuple[int, ...]
    n: int
    classes_present: int
    kl: float


#: The classifier's confidence (largest softmax probability) from which a sample counts as the digit it names;
#: with ``on_manifold`` it makes ``recognised_classes`` (calibration on the embedded digits: docs/mode-collapse.md).
RECOGNISED_CONFIDENCE = 0.9


@dataclass(frozen=True)
class Recognised:
    """Which classes n samples are recognisably: ``counts[c]`` samples recognised as class c, ``unrecognised`` the
    rest (sum(counts) + unrecognised = n), under the ``confidence`` threshold."""

    counts: tuple[int, ...]
    unrecognised: int
    n: int
    confidence: float


def recognised_classes(
    probabilities: Tensor, on_real_manifold: Tensor, *, confidence: float = RECOGNISED_CONFIDENCE
) -> Recognised:
    """A sample is recognised as the class a classifier names when it lies on the real data's manifold in the
    classifier's feature space (``on_manifold``: a classifier's softmax is confidently wrong on noise, which lies
    far from every real sample) *and* the classifier gives that class a probability of at least ``confidence`` (a
    shape between two digits is neither); every other sample is unrecognised. ``probabilities``: (n, C) softmax
    outputs; ``on_real_manifold``: bool (n,)."""
    p = _f64(probabilities)
    if p.ndim != 2 or len(p) == 0 or on_real_manifold.shape != (len(p),):
        raise ValueError(
            f"recognised_classes: need (n, C) probabilities and (n,) flags, got {tuple(p.shape)} and "
            f"{tuple(on_real_manifold.shape)}"
        )
    best, label = p.max(1)
    sure = on_real_manifold.to(p.device).bool() & (best >= confidence)
    counts = torch.bincount(label[sure], minlength=p.shape[1])
    return Recognised(tuple(int(c) for c in counts.tolist()), int((~sure).sum()), len(p), confidence)


def class_histogram(labels: Tensor, num_classes: int, reference: Tensor | None = None) -> ClassHistogram:
    """Histogram of predicted classes, with KL(p_G ‖ p_ref): the label-distribution measure that Metz et al. 2017
    and Srivastava et al. 2017 report on stacked MNIST, here on one digit. ``reference``: counts or shares per
    class of the real data; classes G never draws contribute 0 (0 log 0 = 0)."""
    labels = labels.detach().reshape(-1).long()
    if len(labels) == 0 or int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise ValueError(f"class_histogram: need labels in 0..{num_classes - 1}")
    counts = torch.bincount(labels, minlength=num_classes).double()
    p = counts / counts.sum()
    q = torch.ones_like(p) if reference is None else _f64(torch.as_tensor(reference, device=p.device))
    q = q / q.sum()
    kl = torch.where(p > 0, p * (p / q).log(), torch.zeros_like(p)).sum()
    return ClassHistogram(tuple(int(c) for c in counts.tolist()), len(labels), int((counts > 0).sum()), float(kl))
