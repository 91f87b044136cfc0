"""Designed runs: run folders whose content is known in advance, written through the run format's own writer.

Tests that check what a plot, GIF or scene shows read these instead of the outcome of a few training steps
(which differs from CPU to CPU). Every value is a closed-form function of the snapshot index, so a test can
say exactly what must appear: G's samples blend from seeded noise (step 0) to known targets (last snapshot)
along ``learn(t)``, D's scores and gradient norms follow set curves, and a toy's decision field is a known
function of position. A run takes milliseconds to write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from gan_train.config import get_variant
from gan_train.models import build_models
from gan_train.snapshots import LayerNorms, RunWriter, field_extent, field_points, layer_outputs, noise_grid
from pipeline.runformat import EVALS, EVALS_FILE, FIXED, FORMAT_VERSION, METRIC_COLUMNS, METRICS, RUN_JSON, SNAPSHOT

#: variant each kind of designed run describes itself as (the layer names are that variant's real ones)
VARIANTS = {"image": "dcgan-digits", "toy2d": "toy-rings", "toy1d": "toy-gaussian"}
IMAGE_SIZE = 28


def linear(t: float) -> float:
    """How far G has learned at run fraction t: the default, a steady walk from noise to the targets."""
    return t


def never(t: float) -> float:
    """A run that never learns: every snapshot is the step-0 noise."""
    return 0.0


def image_targets(n: int, size: int = IMAGE_SIZE) -> np.ndarray:
    """``n`` distinct uint8 (size, size, 1) pictures: a bright bar whose angle and thickness depend on the index,
    on a dark ground. Easy to tell apart from noise and from each other."""
    yy, xx = np.mgrid[0:size, 0:size] - (size - 1) / 2
    out = np.zeros((n, size, size, 1), np.uint8)
    for i in range(n):
        angle = np.pi * i / n
        dist = np.abs(xx * np.sin(angle) - yy * np.cos(angle))
        width = 1.5 + (i % 3)
        out[i, ..., 0] = np.where((dist < width) & (np.hypot(xx, yy) < size * 0.4), 235, 20)
    return out


def image_noise(n: int, size: int = IMAGE_SIZE, seed: int = 0) -> np.ndarray:
    """G's step-0 output in a designed run: seeded mid-grey noise."""
    return np.random.default_rng(seed).integers(90, 166, (n, size, size, 1)).astype(np.uint8)


def arcs(n: int, seed: int = 1) -> np.ndarray:
    """The rings toy's two offset semicircles (radius 10, left one up, right one down), without noise."""
    theta = np.random.default_rng(seed).uniform(0, 2 * np.pi, n)
    left = np.cos(theta) < 0
    return np.stack([10 * np.cos(theta), 10 * np.sin(theta) + np.where(left, 10, -10)], 1).astype(np.float32)


def field_at(points: np.ndarray, t: float, tilt: float = 0.0) -> np.ndarray:
    """D's designed score in 2-D: 'real' (1) left of a boundary x = -15 + 30 t + tilt y that sweeps from left to
    right over the run (a ``tilt`` makes the field differ from its upside-down picture)."""
    edge = -15 + 30 * t + tilt * points[:, 1]
    return (1 / (1 + np.exp((points[:, 0] - edge) / 2.0))).astype(np.float32)


# -- 8-Gaussians runs and digit histograms: which modes (digits) G is on, and what the measures record ---------------
#: A function of the run fraction t giving the modes of the 8-Gaussians toy (or the digits) G's samples sit on.
Modes = Callable[[float], Sequence[int]]
MODE_RADIUS, MODE_SPREAD = 2.0, 0.02  # the 8-Gaussians toy's circle and each mode's std (gan_train/datasets.py)
EVAL_SAMPLES = 1000  # n_fake of a designed run's measures


def cover(t: float) -> Sequence[int]:
    """G on all eight modes throughout."""
    return range(8)


def collapse(t: float) -> Sequence[int]:
    """G on mode 0 only, throughout."""
    return (0,)


def hop(t: float) -> Sequence[int]:
    """G on one mode at a time, moving on by one mode each quarter of the run (modes 0, 1, 2, 3, then 4)."""
    return (int(4 * t),)


def mode_centres() -> np.ndarray:
    """The eight modes' centres (8, 2): mode k at angle k x 45 degrees, counter-clockwise from the x axis."""
    a = np.arange(8) * np.pi / 4
    return MODE_RADIUS * np.stack([np.cos(a), np.sin(a)], axis=1)


def on_modes(n: int, modes: Sequence[int], seed: int = 3) -> np.ndarray:
    """``n`` points on ``modes``: point i at mode ``modes[i % len(modes)]``, a seeded 1-std offset from its centre."""
    jitter = MODE_SPREAD * np.random.default_rng(seed).standard_normal((n, 2))
    return (mode_centres()[[modes[i % len(modes)] for i in range(n)]] + jitter).astype(np.float32)


def modes_field(points: np.ndarray, a: float, modes: Sequence[int]) -> np.ndarray:
    """D's designed score in 2-D on an 8-Gaussians run: 0.5 (guessing) far from the modes, up to 0.95 ('real') at
    a mode G is not on, down to 0.5 - 0.45 a ('fake') at one it is on: D learns to tell where G's samples are."""
    bump = np.exp(-((points[:, None, :] - mode_centres()[None]) ** 2).sum(-1) / (2 * 0.35**2))  # (P, 8)
    sign = np.where(np.isin(np.arange(8), list(modes)), -a, 1.0)
    return np.clip(0.5 + 0.45 * (bump * sign).sum(1), 0.0, 1.0).astype(np.float32)


def mode_counts(a: float, modes: Sequence[int], total: int = 8) -> list[int]:
    """What a designed run's measures record at learning fraction ``a``: of EVAL_SAMPLES samples, the share ``a``
    counts (high-quality near a mode, or classified as a digit), split evenly over ``modes`` (the first ones get
    the remainder); the others count none."""
    n = int(round(EVAL_SAMPLES * a))
    counts = [0] * total
    for i, k in enumerate(modes):
        counts[k] = n // len(modes) + (1 if i < n % len(modes) else 0)
    return counts


def designed_evals(kind: str, step: int, a: float, modes: Sequence[int]) -> list[dict[str, object]]:
    """The rows of evals.jsonl at ``step``: 8-Gaussians runs ``modes_captured`` (modes with a count; the rest of
    EVAL_SAMPLES ``off``) and ``high_quality`` (the counted share); image runs ``classes`` (the classifier's verdicts,
    ``counts``: all EVAL_SAMPLES split over ``modes`` whatever ``a``; ``recognised``: the share 0.9 a of them split
    over ``modes``, the rest ``unrecognised``) and ``precision`` = 0.05 + 0.9 a (at least the recognised share, as in
    real runs: a recognised sample lies on the real manifold)."""
    common = {EVALS.step: step, EVALS.n_fake: EVAL_SAMPLES}
    if kind == "toy2d":
        counts = mode_counts(a, modes)
        return [
            {
                **common,
                EVALS.measure: "modes_captured",
                EVALS.value: sum(c > 0 for c in counts),
                EVALS.space: None,
                EVALS.n_real: None,
                EVALS.counts: counts,
                EVALS.off: EVAL_SAMPLES - sum(counts),
            },
            {
                **common,
                EVALS.measure: "high_quality",
                EVALS.value: sum(counts) / EVAL_SAMPLES,
                EVALS.space: None,
                EVALS.n_real: None,
            },
        ]
    counts, sure = mode_counts(1.0, modes, 10), mode_counts(0.9 * a, modes, 10)
    space = {EVALS.space: "digits", EVALS.n_real: EVAL_SAMPLES}
    recognised = {EVALS.recognised: sure, EVALS.unrecognised: EVAL_SAMPLES - sum(sure), EVALS.confidence: 0.9}
    return [
        {**common, **space, EVALS.measure: "precision", EVALS.value: 0.05 + 0.9 * a, EVALS.k: 5},
        {
            **common,
            **space,
            EVALS.measure: "classes",
            EVALS.value: sum(c > 0 for c in counts),
            EVALS.counts: counts,
            **recognised,
        },
    ]


def score_curves(t: np.ndarray, loss: str = "bce", d_fall: float = 1.0) -> dict[str, np.ndarray]:
    """Per-step metrics as closed forms of the run fraction ``t`` in [0, 1]. G's loss is the one ``loss`` names:
    -log D(G(z)) (positive), or for ``minimax`` log(1 - D(G(z))) (negative, as training records it). D's accuracy
    (acc_real + acc_fake) / 2 = 1 - 0.45 d_fall t: by default it ends at 55 %; d_fall = 1 / 0.9 ends at 50 % (the
    equilibrium), 0.03 / 0.45 at 97 %."""
    d_real = 0.95 - 0.45 * t
    d_fake = 0.05 + 0.40 * t
    return {
        METRICS.loss_d: -np.log(d_real) - np.log(1 - d_fake),
        METRICS.loss_g: np.log(1 - d_fake) if loss == "minimax" else -np.log(d_fake),
        METRICS.d_real: d_real,
        METRICS.d_fake: d_fake,
        METRICS.d_fake_after: d_fake + 0.02,
        METRICS.acc_real: np.clip(1.0 - 0.5 * d_fall * t, 0, 1),
        METRICS.acc_fake: np.clip(1.0 - 0.4 * d_fall * t, 0, 1),
        METRICS.grad_norm_g: 0.5 + 2.0 * t,
        METRICS.grad_norm_d: 3.0 - 1.5 * t,
    }


def layer_norm_values(n_layers: int, t: float, scale: float = 1.0) -> np.ndarray:
    """Per-layer gradient norms: a decade apart from the first layer to the last (10^-3 ... 10^0), times
    ``scale``, growing by up to 2x over the run. Ordering by layer is fixed and known."""
    exps = np.linspace(-3, 0, n_layers)
    return (scale * 10.0**exps * (1 + t)).astype(np.float32)


def make_designed_run(
    path: Path,
    kind: str = "image",
    *,
    total_steps: int = 200,
    snapshot_every: int = 20,
    n: int = 16,
    learn: Callable[[float], float] = linear,
    loss: str = "bce",
    grad_scale: float = 1.0,
    variant: str | None = None,
    seed: int = 0,
    status: str = "finished",
    field_resolution: int = 32,
    drop: tuple[str, ...] = (),
    tilt: float = 0.0,
    d_fall: float = 1.0,
    modes: Modes | None = None,
    eval_every: int = 40,
) -> Path:
    """Write a designed run of ``kind`` ('image', 'toy2d' or 'toy1d') to ``path`` and return it.

    Snapshots at 0, ``snapshot_every``, ... and ``total_steps``; snapshot k of K holds samples at learning
    fraction ``learn(k / (K - 1))`` of the way from the noise to the targets. ``grad_scale`` multiplies G's
    gradient norms, per layer in the snapshots and the total in metrics.jsonl (e.g. 1e-3 for a run whose G
    gradients vanish). ``drop`` names run.json fields and snapshot arrays to leave out, as runs recorded before
    those fields existed lack them (e.g. ``("fake_grad", "layer_shapes_g", "layer_shapes_d")``; evals.jsonl's
    ``off``, ``recognised``, ``unrecognised`` and ``confidence`` the same way). ``tilt``
    slants a 2-D run's decision boundary (``field_at``). ``d_fall`` sets how far D's accuracy falls over the run
    (``score_curves``).

    ``modes`` (e.g. ``cover``, ``collapse``, ``hop``) makes a 2-D run an 8-Gaussians run whose samples move from a
    blob at the origin onto the modes ``modes(t)`` (``on_modes``; D's field ``modes_field``), and gives a 2-D or
    image run quality measures (evals.jsonl: ``designed_evals``) at step 0, every ``eval_every`` steps and the last.
    """
    cfg = get_variant(variant or VARIANTS[kind])
    cfg = replace(
        cfg,
        **({"dataset": "8gaussians"} if modes is not None and kind == "toy2d" else {}),
        loss=loss,
        steps=total_steps,
        snapshot_every=snapshot_every,
        seed=seed,
        device="cpu",
        n_fixed=n,
        toy_fixed=n,
        field_resolution=field_resolution,
        **({"ngf": 8, "ndf": 8} if kind == "image" else {}),
    )
    g, d = build_models(cfg)
    norms_g, norms_d = LayerNorms(g), LayerNorms(d)
    layers_g, layers_d = norms_g.names, norms_d.names
    shapes_g, sample = layer_outputs(g, norms_g.modules, torch.zeros(1, cfg.noise_dim))
    shapes_d, _ = layer_outputs(d, norms_d.modules, sample)
    steps = sorted({*range(0, total_steps, snapshot_every), total_steps})
    rng = np.random.default_rng(seed)

    fixed: dict[str, np.ndarray] = {FIXED.noise: rng.standard_normal((n, cfg.noise_dim)).astype(np.float32)}
    if kind == "image":
        target, start = image_targets(n), image_noise(n, seed=seed)
        fixed[FIXED.real] = image_targets(n)[::-1].copy()  # the same kind of pictures, in another order
    elif kind == "toy2d":
        target, start = arcs(n, seed + 1), (rng.standard_normal((n, 2)) * 0.5).astype(np.float32)
        fixed[FIXED.real] = arcs(n, seed + 2) if modes is None else on_modes(n, range(8), seed + 2)
        extent = field_extent(fixed[FIXED.real])
        pts, _ = field_points(extent, field_resolution)
        fixed.update(
            {FIXED.field_extent: extent, FIXED.field_points: pts, FIXED.grid_noise: noise_grid(cfg.noise_dim).numpy()}
        )
    elif kind == "toy1d":
        target = (4.0 + 0.5 * rng.standard_normal((n, 1))).astype(np.float32)
        start = (0.2 * rng.standard_normal((n, 1))).astype(np.float32)
        fixed[FIXED.real] = (4.0 + 0.5 * rng.standard_normal((n, 1))).astype(np.float32)
        extent = field_extent(np.concatenate([fixed[FIXED.real], start]))
        pts, _ = field_points(extent, field_resolution)
        fixed.update(
            {FIXED.field_extent: extent, FIXED.field_points: pts, FIXED.grid_noise: noise_grid(cfg.noise_dim).numpy()}
        )
    else:
        raise ValueError(kind)

    j = RUN_JSON
    info = {
        j.format_version: FORMAT_VERSION,
        j.variant: cfg.variant,
        j.kind: kind,
        j.config: cfg.to_dict(),
        j.seed: seed,
        j.device: "cpu",
        j.torch_version: "designed",
        j.ganviz_version: "designed",
        j.python_version: "designed",
        j.started: dt.datetime.now().astimezone().isoformat(),
        j.status: status,
        j.total_steps: total_steps,
        j.steps_per_epoch: total_steps,
        j.snapshot_every: snapshot_every,
        j.checkpoint_every: snapshot_every,
        j.dataset: {"source": "designed", "size": n, "skipped": 0},
        j.layers_g: layers_g,
        j.layers_d: layers_d,
        j.layer_shapes_g: shapes_g,
        j.layer_shapes_d: shapes_d,
        j.layer_types_g: [type(m).__name__ for m in norms_g.modules],
        j.layer_types_d: [type(m).__name__ for m in norms_d.modules],
        j.last_step: total_steps,
        j.metric_columns: list(METRIC_COLUMNS),
        j.resumed: [],
    }
    eval_steps = sorted({*range(0, total_steps, eval_every), total_steps}) if modes is not None else []
    if eval_steps:
        names = ["modes_captured", "high_quality"] if kind == "toy2d" else ["precision", "classes"]
        space = "digits" if kind == "image" else None
        info[j.evals] = {
            "file": EVALS_FILE,
            "every": eval_every,
            "samples": EVAL_SAMPLES,
            "space": space,
            "measures": names,
        }
    info = {k: v for k, v in info.items() if k not in drop}
    t = np.arange(1, total_steps + 1) / total_steps
    curves = score_curves(t, loss, d_fall)
    curves[METRICS.grad_norm_g] = curves[METRICS.grad_norm_g] * grad_scale
    rows = []
    for i, s in enumerate(range(1, total_steps + 1)):
        row = {METRICS.step: s, METRICS.epoch: 0, **{k: float(v[i]) for k, v in curves.items()}}
        row.update(
            {
                METRICS.lr_g: cfg.lr_g,
                METRICS.lr_d: cfg.lr_d,
                METRICS.time: round(0.01 * s, 4),
                METRICS.samples_per_s: 100.0,
            }
        )
        rows.append(row)

    writer = RunWriter(path)
    writer.write_info(info)
    writer.write_fixed(fixed)
    writer.append_metrics(rows)
    for k, s in enumerate(steps):
        t = k / max(1, len(steps) - 1)
        a = float(learn(t))
        on = None if modes is None or kind != "toy2d" else modes(t)
        aim = target if on is None else on_modes(n, on, seed + 1)
        snap = designed_snapshot(kind, s, a, start, aim, fixed, len(layers_g), len(layers_d), grad_scale, tilt, on)
        writer.write_snapshot(s, {k: v for k, v in snap.items() if k not in drop})
    for s in eval_steps:
        assert modes is not None
        measured = designed_evals(kind, s, float(learn(s / total_steps)), modes(s / total_steps))
        writer.append_evals([{k: v for k, v in r.items() if k not in drop} for r in measured])
    writer.close()
    return path


def blend(start: np.ndarray, target: np.ndarray, a: float) -> np.ndarray:
    """The samples at learning fraction ``a``: uint8 images are blended and rounded, points interpolated."""
    if start.dtype == np.uint8:
        return np.round((1 - a) * start.astype(np.float64) + a * target.astype(np.float64)).astype(np.uint8)
    return ((1 - a) * start + a * target).astype(np.float32)


def fake_push(start: np.ndarray, target: np.ndarray, a: float) -> np.ndarray:
    """A toy's designed ``fake_grad`` at learning fraction ``a``: each fake point is pushed along its path toward
    its target (the arcs), less strongly as the run goes on: (target - start) (1 - 0.8 a)."""
    return ((target - start) * (1 - 0.8 * a)).astype(np.float32)


def designed_snapshot(
    kind: str,
    step: int,
    a: float,
    start: np.ndarray,
    target: np.ndarray,
    fixed: dict[str, np.ndarray],
    n_g: int,
    n_d: int,
    grad_scale: float,
    tilt: float = 0.0,
    modes: Sequence[int] | None = None,
) -> dict[str, np.ndarray]:
    """Snapshot of a designed run at learning fraction ``a`` (gradient norms NaN at step 0, as in training); a 2-D
    run with ``modes`` is an 8-Gaussians run (D's field ``modes_field``, G's mesh on the modes' circle)."""
    n = len(start)
    norms_g = layer_norm_values(n_g, a, grad_scale)
    norms_d = layer_norm_values(n_d, a)[::-1].copy()  # D's last layer gets the largest norm
    if step == 0:
        norms_g, norms_d = np.full(n_g, np.nan, np.float32), np.full(n_d, np.nan, np.float32)
    out = {
        "step": np.array(step, np.int64),
        "epoch": np.array(0, np.int64),
        "fake": blend(start, target, a),
        METRICS.d_fake: np.linspace(0.05, 0.45, n, dtype=np.float32) * np.float32(0.2 + a),
        METRICS.d_real: np.linspace(0.95, 0.55, n, dtype=np.float32),
        METRICS.grad_norm_g: norms_g,
        "grad_norm_d": norms_d,
    }
    if kind != "image":
        out[SNAPSHOT.fake_grad] = fake_push(start, target, a)
        pts = fixed[FIXED.field_points]
        if kind == "toy2d":
            res = int(round(np.sqrt(len(pts))))
            field = field_at(pts, a, tilt) if modes is None else modes_field(pts, a, modes)
            out[SNAPSHOT.field] = field.reshape(res, res)
            grid, size = fixed[FIXED.grid_noise][:, :2], 10 if modes is None else MODE_RADIUS
            out[SNAPSHOT.grid_fake] = (1 - a) * grid + a * size * grid / (
                np.linalg.norm(grid, axis=1, keepdims=True) + 1
            )
            out[SNAPSHOT.grid_fake] = out[SNAPSHOT.grid_fake].astype(np.float32)
        else:
            out[SNAPSHOT.field] = (1 / (1 + np.exp(-(pts[:, 0] - (4 - 4 * a))))).astype(np.float32)
            out[SNAPSHOT.grid_fake] = ((1 - a) * 0.2 * fixed[FIXED.grid_noise][:, :1] + a * 4).astype(np.float32)
    return out
