"""What a run records: a snapshot's arrays (``capture``, read through a ``Probe``), per-layer gradient norms, the
decision-field grid. The writer that puts them on disk is the run format's (ganviz/writer.py: ``RunWriter``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from gan_train.config import Config
from gan_train.losses import LOSSES
from ganviz.format import FIXED, SNAPSHOT
from ganviz.writer import NullWriter, RunWriter, WriteError, truncate_metrics  # noqa: F401  (their earlier home)


# -- gradient norms ------------------------------------------------------------------------------
class LayerNorms:
    """Per-layer gradient norms on device with one fused kernel and no host sync.

    A layer none of whose parameters has a gradient (unused in the backward, or before the first one) is NaN:
    a norm that was not measured is missing, never zero.
    """

    def __init__(self, model: nn.Module):
        self.names: list[str] = []
        self.modules: list[nn.Module] = []
        self.params: list[nn.Parameter] = []
        index: list[int] = []
        for name, m in model.named_modules():
            own = [p for p in m.parameters(recurse=False) if p.requires_grad]
            if own:
                self.names.append(name.removeprefix("net.") or name)
                self.modules.append(m)
                self.params += own
                index += [len(self.names) - 1] * len(own)
        self.index_list = index
        self.index = torch.tensor(index)

    def __call__(self) -> torch.Tensor:
        have = [i for i, p in enumerate(self.params) if p.grad is not None]
        n = len(self.names)
        if not have:
            return torch.full((n,), float("nan"), device=self.params[0].device)
        if len(have) == len(self.params):
            grads, layer_of = [p.grad for p in self.params], self.index
        else:
            grads = [self.params[i].grad for i in have]
            layer_of = torch.tensor([self.index_list[i] for i in have])
        sq = torch.stack(torch._foreach_norm(grads)).float() ** 2
        idx = layer_of.to(sq.device, non_blocking=True)
        norms = torch.zeros(n, device=sq.device).index_add_(0, idx, sq).sqrt()
        if len(have) < len(self.params):  # layers without any gradient were not measured
            unmeasured = torch.ones(n, dtype=torch.bool)
            unmeasured[layer_of] = False
            norms = norms.masked_fill(unmeasured.to(sq.device, non_blocking=True), float("nan"))
        return norms


@torch.no_grad()
def layer_outputs(
    model: nn.Module, layers: list[nn.Module], *inputs: torch.Tensor
) -> tuple[list[list[int]], torch.Tensor]:
    """Output shape for one sample of each of ``layers`` (modules of ``model``) on ``inputs`` (one sample: the
    input, and a conditional model's label), and the model's output: run.json's ``layer_shapes_*``, so scenes
    can draw the layers without training code.

    One pass in eval mode: BatchNorm uses (and keeps) its running statistics, dropout draws no random numbers,
    so recording the shapes changes neither the model nor the random streams a run depends on.
    """
    shapes: list[list[int]] = [[] for _ in layers]
    hooks = [
        m.register_forward_hook(lambda _m, _in, out, i=i: shapes.__setitem__(i, list(out.shape[1:])))
        for i, m in enumerate(layers)
    ]
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        out = model(*inputs)
    finally:
        for h in hooks:
            h.remove()
        for m, training in modes:
            m.training = training
    return shapes, out


# -- snapshots -----------------------------------------------------------------------------------
@contextlib.contextmanager
def no_dropout(model: nn.Module) -> Iterator[None]:
    """Score with dropout off but BatchNorm as in training (batch statistics)."""
    drops = [m for m in model.modules() if isinstance(m, nn.Dropout) and m.training]
    for m in drops:
        m.eval()
    try:
        yield
    finally:
        for m in drops:
            m.train()


@contextlib.contextmanager
def untouched(*models: nn.Module) -> Iterator[None]:
    """The models' buffers (BatchNorm's running statistics) and the random streams are as they were afterwards,
    so a snapshot changes nothing the training goes on with: a recorded loop trains exactly as an unrecorded one."""
    saved = [(b, b.clone()) for m in models for b in m.buffers()]
    cuda = sorted({p.device.index or 0 for m in models for p in m.parameters() if p.device.type == "cuda"})
    with torch.random.fork_rng(devices=cuda):
        yield
    with torch.no_grad():
        for b, value in saved:
            b.copy_(value)


def to_uint8_images(x: torch.Tensor) -> np.ndarray:
    """(N,C,H,W) in [-1,1] -> uint8 (N,H,W,C)."""
    x = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous().cpu().numpy()


def field_extent(real: np.ndarray, margin: float = 0.25) -> np.ndarray:
    """Plot window around the real data: the same for every snapshot so animations stay still."""
    lo, hi = real.min(axis=0), real.max(axis=0)
    pad = (hi - lo) * margin + 1e-3
    lo, hi = lo - pad, hi + pad
    if real.shape[1] == 1:
        return np.array([lo[0], hi[0]], np.float32)
    return np.array([lo[0], hi[0], lo[1], hi[1]], np.float32)


def noise_grid(noise_dim: int, k: int = 16, span: float = 2.0) -> torch.Tensor:
    """A k x k grid over the first two noise dimensions (others zero); 1-D noise gets a line."""
    t = torch.linspace(-span, span, k)
    if noise_dim == 1:
        return torch.linspace(-span, span, k * k)[:, None]
    gy, gx = torch.meshgrid(t, t, indexing="ij")
    z = torch.zeros(k * k, noise_dim)
    z[:, 0], z[:, 1] = gx.flatten(), gy.flatten()
    return z


#: The fixed batches are drawn from their own stream, seeded apart from training's: recording never moves the
#: random numbers a run trains on.
FIXED_SEED_OFFSET = 7919


def fixed_stream(seed: int) -> torch.Generator:
    """The random stream the fixed noise (and the trainer's choice of the fixed real batch) is drawn from."""
    return torch.Generator().manual_seed(seed + FIXED_SEED_OFFSET)


class FixedBatches(NamedTuple):
    """The batches every snapshot is taken on: ``arrays`` as fixed.npz holds them, ``tensors`` on the device as the
    networks take them (with ``field_shape``, the decision field's grid, for a 2-D toy)."""

    arrays: dict[str, np.ndarray]
    tensors: dict[str, torch.Tensor]


def fixed_batches(
    noise: torch.Tensor,
    real_array: np.ndarray,
    real_input: torch.Tensor,
    *,
    toy_data: np.ndarray | None = None,
    field_resolution: int = 64,
    labels: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> FixedBatches:
    """Build the fixed batches: G's noise, the real batch (``real_array`` in the snapshot layout, ``real_input`` as
    D takes it, on the device); a toy (``toy_data``: the points its field's window is fitted around) also gets the
    decision field's points and the noise grid; a conditional GAN its labels."""
    device = real_input.device
    arrays: dict[str, np.ndarray] = {FIXED.noise: noise.float().cpu().numpy(), FIXED.real: real_array}
    tensors = {FIXED.noise: noise.to(device), FIXED.real: real_input}
    if toy_data is not None:
        extent = field_extent(toy_data)
        pts, shape = field_points(extent, field_resolution)
        grid = noise_grid(noise[0].numel()).reshape(-1, *noise.shape[1:])
        arrays.update({FIXED.field_extent: extent, FIXED.field_points: pts, FIXED.grid_noise: grid.numpy()})
        tensors.update(
            {
                FIXED.field_points: torch.from_numpy(pts).to(device),
                FIXED.grid_noise: grid.to(device),
                "field_shape": torch.tensor(shape),
            }
        )
    if labels is not None:  # (for the fixed noise, for the real batch)
        arrays[FIXED.labels] = labels[0].cpu().numpy().astype(np.int64)
        arrays[FIXED.real_labels] = labels[1].cpu().numpy().astype(np.int64)
    return FixedBatches(arrays, tensors)


@dataclass(frozen=True)
class Probe:
    """How a snapshot calls G and D and reads D's output: the built-in trainer's from its loss (``Probe.of``), a
    recorded loop's from what the Recorder was told.

    ``score`` turns D's raw output into what snapshots record (a probability of real, or a critic's raw value);
    ``push_loss`` is G's loss on D's raw output (for ``fake_grad``). ``labels``/``real_labels``: a conditional
    GAN's labels for the fixed noise and the fixed real batch (G and D are then called as ``G(z, y)``, ``D(x, y)``).
    """

    kind: str
    score: Callable[[torch.Tensor], torch.Tensor]
    push_loss: Callable[[torch.Tensor], torch.Tensor]
    labels: torch.Tensor | None = None
    real_labels: torch.Tensor | None = None

    @classmethod
    def of(cls, cfg: Config) -> Probe:
        loss = LOSSES[cfg.loss]
        return cls(cfg.kind, lambda out: loss.score(out.float()), lambda out: loss.g_loss(out.float()))

    @staticmethod
    def call(net: nn.Module, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """``net(x)``, or ``net(x, labels)`` for a conditional GAN."""
        return net(x) if labels is None else net(x, labels)

    def one_label(self, n: int) -> torch.Tensor | None:
        """The first fixed label for ``n`` inputs: what a conditional toy's D field and noise grid are drawn for."""
        return None if self.labels is None else self.labels[:1].expand(n)


@torch.no_grad()
def capture(
    g: nn.Module,
    d: nn.Module,
    probe: Probe,
    fixed: dict[str, torch.Tensor],
    norms_g: torch.Tensor,
    norms_d: torch.Tensor,
    step: int,
    epoch: int,
) -> dict[str, np.ndarray]:
    """Everything one snapshot holds (docs/run-format.md lists the keys)."""
    with untouched(g, d), no_dropout(d):
        fake = probe.call(g, fixed[FIXED.noise], probe.labels)
        score = probe.score
        out = {
            SNAPSHOT.step: np.array(step, np.int64),
            SNAPSHOT.epoch: np.array(epoch, np.int64),
            SNAPSHOT.d_fake: score(probe.call(d, fake, probe.labels)).float().flatten().cpu().numpy(),
            SNAPSHOT.d_real: score(probe.call(d, fixed[FIXED.real], probe.real_labels)).float().flatten().cpu().numpy(),
            SNAPSHOT.grad_norm_g: norms_g.float().cpu().numpy(),
            SNAPSHOT.grad_norm_d: norms_d.float().cpu().numpy(),
        }
        if probe.labels is not None:
            out[SNAPSHOT.labels] = probe.labels.cpu().numpy().astype(np.int64)
        if probe.kind == "image":
            out[SNAPSHOT.fake] = to_uint8_images(fake)
        else:
            out[SNAPSHOT.fake] = fake.float().cpu().numpy()
            out[SNAPSHOT.fake_grad] = fake_push(d, probe, fake).cpu().numpy()
            grid = fixed[FIXED.grid_noise]
            out[SNAPSHOT.grid_fake] = probe.call(g, grid, probe.one_label(len(grid))).float().cpu().numpy()
            pts = fixed[FIXED.field_points]
            field = score(probe.call(d, pts, probe.one_label(len(pts)))).float().cpu().numpy()
            out[SNAPSHOT.field] = field.reshape(fixed["field_shape"].tolist())
    return out


def fake_push(d: nn.Module, probe: Probe, fake: torch.Tensor) -> torch.Tensor:
    """-N dL_G/dx_i for each of the N fake points: the gradient G's loss sends back into G for each sample.

    Autograd through D alone, with respect to the points only (``autograd.grad``: D's ``.grad`` stays as it
    was), and no random numbers drawn, so a snapshot leaves training exactly where it was. Times N because
    G's loss is a mean over the batch: each point's own push, the same whatever the batch size.
    """
    with torch.enable_grad():
        x = fake.detach().float().requires_grad_(True)
        loss = probe.push_loss(probe.call(d, x, probe.labels)) * len(x)
        (grad,) = torch.autograd.grad(loss, x)
    return -grad.float()


def field_points(extent: np.ndarray, res: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """Points where D is evaluated: a res x res grid (row 0 = lowest y) or res points on a line."""
    if len(extent) == 2:
        return np.linspace(extent[0], extent[1], res, dtype=np.float32)[:, None], (res,)
    xs = np.linspace(extent[0], extent[1], res, dtype=np.float32)
    ys = np.linspace(extent[2], extent[3], res, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1), (res, res)


def cpu_copy(obj: Any) -> Any:
    """Deep copy of a state dict onto the CPU, so the background writer sees a frozen state."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: cpu_copy(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(cpu_copy(v) for v in obj)
    return obj


__all__ = [
    "RunWriter",
    "NullWriter",
    "Probe",
    "capture",
    "LayerNorms",
    "layer_outputs",
    "truncate_metrics",
    "WriteError",
]
