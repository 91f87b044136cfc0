"""Data-parallel training across processes started by ``torchrun`` (or ``ganviz train --nproc N``).

Every rank holds the whole dataset and the same models; step ``s`` draws one global batch (the same one a
single process would draw) and rank ``r`` trains on its slice ``[r::world]``. After each backward the
gradients are averaged over ranks (one flattened all-reduce per model, the same reduction
DistributedDataParallel does), so all ranks take identical optimiser steps. The reduction is explicit
instead of a ``DistributedDataParallel`` wrapper because a GAN step breaks DDP's assumptions: D runs
frozen inside G's step, and WGAN-GP differentiates through D twice (``autograd.grad`` with
``create_graph``), which DDP does not support. Metrics are averaged once per logged block, and rank 0
alone writes the run folder.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as tdist
from torch import nn

from pipeline.errors import GanvizError


@dataclass(frozen=True)
class Ranks:
    """Where this process sits: rank 0 of 1 when not launched by torchrun."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def writes(self) -> bool:
        """Only rank 0 touches the run folder, the progress bar and stdout."""
        return self.rank == 0

    def shard(self, x: torch.Tensor) -> torch.Tensor:
        """This rank's rows of a global batch."""
        return x[self.rank :: self.world] if self.active else x

    def average_grads(self, model: nn.Module) -> None:
        """Average gradients over ranks in one all-reduce (no-op for one process)."""
        if not self.active:
            return
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        tdist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()

    def average(self, x: torch.Tensor) -> torch.Tensor:
        """Mean of a tensor over ranks (the metric block, once per flush)."""
        if not self.active:
            return x
        x = x.clone()
        tdist.all_reduce(x)
        return x / self.world

    def broadcast_params(self, *models: nn.Module) -> None:
        """Start every rank from rank 0's weights and buffers."""
        if not self.active:
            return
        for m in models:
            for t in list(m.parameters()) + list(m.buffers()):
                tdist.broadcast(t.data, src=0)

    def broadcast_object(self, obj: Any) -> Any:
        """Rank 0's value of a picklable object on every rank (e.g. the run folder it chose)."""
        if not self.active:
            return obj
        box = [obj]
        tdist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.active:
            tdist.barrier()


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise GanvizError(f"environment variable {name}={raw!r} is not an integer; launch with torchrun") from None


def setup(device_name: str) -> tuple[Ranks, str]:
    """Join the process group torchrun describes (WORLD_SIZE > 1); returns (ranks, device to use).

    gloo on CPU, NCCL on CUDA; with CUDA each process takes GPU ``LOCAL_RANK``.
    """
    world = _env_int("WORLD_SIZE", 1)
    if world <= 1:
        return Ranks(), device_name
    ranks = Ranks(_env_int("RANK", 0), world, _env_int("LOCAL_RANK", 0))
    use_cuda = device_name.startswith("cuda") or (device_name == "auto" and torch.cuda.is_available())
    if use_cuda:
        if ranks.local_rank >= torch.cuda.device_count():
            raise GanvizError(
                f"--nproc/torchrun started {world} processes but this machine has {torch.cuda.device_count()} "
                "GPU(s); use at most one process per GPU, or --device cpu"
            )
        torch.cuda.set_device(ranks.local_rank)
        device_name = f"cuda:{ranks.local_rank}"
    elif device_name == "auto":
        device_name = "cpu"
    if not tdist.is_initialized():
        tdist.init_process_group("nccl" if use_cuda else "gloo", timeout=dt.timedelta(minutes=10))
    return ranks, device_name


def teardown(ranks: Ranks) -> None:
    if ranks.active and tdist.is_initialized():
        tdist.destroy_process_group()
