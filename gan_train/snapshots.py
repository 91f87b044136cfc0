"""What a run records, and the writer that puts it on disk without making training wait.

All writes go through one background thread in FIFO order (metrics, snapshot, checkpoint), so what
a crash leaves on disk is always a prefix of what training produced: a checkpoint at step S implies
metrics up to S and the snapshot of S are already there.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gan_train.config import Config
from gan_train.io import WriteError, atomic_open, atomic_save_npz, atomic_write_json, describe_os_error
from gan_train.losses import d_scores, g_loss
from pipeline.run import (
    CHECKPOINT_FILE,
    FIXED_FILE,
    METRICS_FILE,
    RUN_FILE,
    SNAPSHOT_DIR,
    RunError,
    read_eval_rows,
    read_metrics_rows,
    snapshot_name,
)
from pipeline.runformat import EVALS, EVALS_FILE, FIXED, SNAPSHOT


# -- gradient norms ------------------------------------------------------------------------------
class LayerNorms:
    """Per-layer gradient norms on device with one fused kernel and no host sync."""

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
        self.index = torch.tensor(index)

    def __call__(self) -> torch.Tensor:
        grads = [p.grad for p in self.params]
        if any(g is None for g in grads):
            return torch.full((len(self.names),), float("nan"), device=self.params[0].device)
        sq = torch.stack(torch._foreach_norm(grads)).float() ** 2
        idx = self.index.to(sq.device, non_blocking=True)
        return torch.zeros(len(self.names), device=sq.device).index_add_(0, idx, sq).sqrt()


@torch.no_grad()
def layer_outputs(model: nn.Module, layers: list[nn.Module], x: torch.Tensor) -> tuple[list[list[int]], torch.Tensor]:
    """Output shape for one sample of each of ``layers`` (modules of ``model``) on input ``x`` (one sample), and
    the model's output: run.json's ``layer_shapes_*``, so scenes can draw the layers without training code.

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
        out = model(x)
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


@torch.no_grad()
def capture(
    g: nn.Module,
    d: nn.Module,
    cfg: Config,
    fixed: dict[str, torch.Tensor],
    norms_g: torch.Tensor,
    norms_d: torch.Tensor,
    step: int,
    epoch: int,
) -> dict[str, np.ndarray]:
    """Everything one snapshot holds (docs/run-format.md lists the keys)."""
    with no_dropout(d):
        fake = g(fixed[FIXED.noise])
        out = {
            SNAPSHOT.step: np.array(step, np.int64),
            SNAPSHOT.epoch: np.array(epoch, np.int64),
            SNAPSHOT.d_fake: d_scores(cfg.loss, d(fake)).cpu().numpy(),
            SNAPSHOT.d_real: d_scores(cfg.loss, d(fixed[FIXED.real])).cpu().numpy(),
            SNAPSHOT.grad_norm_g: norms_g.float().cpu().numpy(),
            SNAPSHOT.grad_norm_d: norms_d.float().cpu().numpy(),
        }
        if cfg.kind == "image":
            out[SNAPSHOT.fake] = to_uint8_images(fake)
        else:
            out[SNAPSHOT.fake] = fake.float().cpu().numpy()
            out[SNAPSHOT.fake_grad] = fake_push(d, cfg, fake).cpu().numpy()
            out[SNAPSHOT.grid_fake] = g(fixed[FIXED.grid_noise]).float().cpu().numpy()
            field = d_scores(cfg.loss, d(fixed[FIXED.field_points])).cpu().numpy()
            out[SNAPSHOT.field] = field.reshape(fixed["field_shape"].tolist())
    return out


def fake_push(d: nn.Module, cfg: Config, fake: torch.Tensor) -> torch.Tensor:
    """-N dL_G/dx_i for each of the N fake points: the gradient G's loss sends back into G for each sample.

    Autograd through D alone, with respect to the points only (``autograd.grad``: D's ``.grad`` stays as it
    was), and no random numbers drawn, so a snapshot leaves training exactly where it was. Times N because
    G's loss is a mean over the batch: each point's own push, the same whatever the batch size.
    """
    with torch.enable_grad():
        x = fake.detach().float().requires_grad_(True)
        loss = g_loss(cfg.loss, d(x)) * len(x)
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


# -- the writer ----------------------------------------------------------------------------------
def _json_row(row: dict[str, Any]) -> str:
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
    return json.dumps(clean, separators=(",", ":"))


class RunWriter:
    """Owns a run folder. Writes happen on one background thread, in order; errors surface on the next call."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._q: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=64)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="ganviz-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._q.get()
            try:
                if job is None:
                    return
                if self._error is None:
                    job()
            except BaseException as e:  # surfaced to the training thread by check()
                self._error = e
            finally:
                self._q.task_done()

    def check(self) -> None:
        if self._error is not None:
            e, self._error = self._error, None
            if isinstance(e, OSError):
                raise WriteError(describe_os_error(self.path, e)) from None
            raise e

    def submit(self, job: Callable[[], None]) -> None:
        self.check()
        self._q.put(job)

    def flush(self) -> None:
        """Wait until everything submitted is on disk."""
        self._q.join()
        self.check()

    def close(self) -> None:
        self._q.put(None)
        self._thread.join()
        self.check()

    # jobs
    def write_info(self, info: dict[str, Any]) -> None:
        snapshot = json.loads(json.dumps(info))  # freeze a copy: the caller keeps mutating its dict
        self.submit(lambda: atomic_write_json(self.path / RUN_FILE, snapshot))

    def write_fixed(self, arrays: dict[str, np.ndarray]) -> None:
        self.submit(lambda: atomic_save_npz(self.path / FIXED_FILE, arrays))

    def append_metrics(self, rows: list[dict[str, Any]]) -> None:
        self._append(METRICS_FILE, rows)

    def append_evals(self, rows: list[dict[str, Any]]) -> None:
        self._append(EVALS_FILE, rows)

    def _append(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Whole JSON lines appended and fsynced: a crash can cut only the last line short."""
        text = "".join(_json_row(r) + "\n" for r in rows)

        def job() -> None:
            with open(self.path / name, "a", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())

        self.submit(job)

    def write_snapshot(self, step: int, arrays: dict[str, np.ndarray]) -> None:
        self.submit(lambda: atomic_save_npz(self.path / SNAPSHOT_DIR / snapshot_name(step), arrays))

    def write_checkpoint(self, state: dict[str, Any]) -> None:
        def job() -> None:
            with atomic_open(self.path / CHECKPOINT_FILE, "wb") as f:
                torch.save(state, f)

        self.submit(job)


class NullWriter:
    """Stands in for RunWriter on ranks other than 0 of a distributed run: they train but write nothing."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name in (
            "check",
            "flush",
            "close",
            "write_info",
            "write_fixed",
            "append_metrics",
            "write_snapshot",
            "write_checkpoint",
        ):
            return lambda *args, **kwargs: None
        raise AttributeError(name)


def truncate_metrics(path: Path, last_step: int) -> None:
    """Keep only rows with step <= last_step (resume after a crash): no duplicated or missing steps.

    Read with the reader's own rules: a line cut by the crash is dropped, damage elsewhere is an error,
    and so is a gap before the checkpoint (resuming would carry it forward silently). evals.jsonl is cut back
    to the same step.
    """
    f = path / METRICS_FILE
    keep = [r for r in read_metrics_rows(f) if r["step"] <= last_step]
    if [r["step"] for r in keep] != list(range(1, last_step + 1)):
        raise RunError(
            f"{f}: has {len(keep)} of the {last_step} steps before the checkpoint; "
            "the run cannot be resumed without a gap"
        )
    _rewrite(f, keep)
    if (path / EVALS_FILE).exists():
        _rewrite(path / EVALS_FILE, [r for r in read_eval_rows(path / EVALS_FILE) if r[EVALS.step] <= last_step])


def _rewrite(f: Path, rows: list[dict[str, Any]]) -> None:
    with atomic_open(f, "wb") as out:
        out.write("".join(_json_row(r) + "\n" for r in rows).encode())


def cpu_copy(obj: Any) -> Any:
    """Deep copy of a state dict onto the CPU, so the background writer sees a frozen state."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: cpu_copy(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(cpu_copy(v) for v in obj)
    return obj


__all__ = ["RunWriter", "NullWriter", "capture", "LayerNorms", "layer_outputs", "truncate_metrics", "WriteError"]
