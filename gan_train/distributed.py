"""Data-parallel training across processes started by ``torchrun`` (or ``ganviz train --nproc N``).

Every rank holds the whole dataset and the same models; step ``s`` draws one global batch (the same one a
single process would draw) and rank ``r`` trains on its slice ``[r::world]``. G and D are wrapped in
PyTorch's ``DistributedDataParallel`` (``Ranks.wrap``), which starts every rank from rank 0's weights and
averages gradients during backward, so all ranks take identical optimiser steps. The plain modules stay
in use for checkpoints (unprefixed keys: a run resumes with any process count), snapshots and gradient
norms. Two GAN-specific points (see ``gan_train.train.train_step``): D's step runs the DDP-wrapped D on
real, fake (and WGAN-GP's interpolates, whose penalty is an out-of-place ``autograd.grad`` with
``create_graph``) and then one ordinary backward on the summed loss, so each DDP iteration has exactly
one backward; G's step runs D's plain module, so D's reducer is not involved there. Metrics are averaged
once per logged block, and rank 0 alone writes the run folder.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as tdist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gan_train.config import ConfigError
from ganviz.errors import GanvizError


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

    def wrap(self, model: nn.Module) -> nn.Module:
        """``model`` in DistributedDataParallel when several processes train (it broadcasts rank 0's weights
        and buffers now); unchanged for one process. The wrapper shares the model's parameters.

        Buffers are not broadcast again at every forward: in training BatchNorm normalises with the batch's own
        statistics, so other ranks' running statistics change nothing that is computed, and rank 0, whose buffers
        the run records, never receives a broadcast anyway. The per-forward broadcast also breaks D's two forwards
        before one backward on torch 2.9 (it bumps the version of a tensor the first forward saved)."""
        if not self.active:
            return model
        on_cuda = next(model.parameters()).device.type == "cuda"
        return DistributedDataParallel(
            model, device_ids=[self.local_rank] if on_cuda else None, broadcast_buffers=False
        )

    def average(self, x: torch.Tensor) -> torch.Tensor:
        """Mean of a tensor over ranks (the metric block, once per flush)."""
        if not self.active:
            return x
        x = x.clone()
        tdist.all_reduce(x)
        return x / self.world

    def broadcast_object(self, obj: Any) -> Any:
        """Rank 0's value of a picklable object on every rank (e.g. the run folder it chose)."""
        if not self.active:
            return obj
        box = [obj]
        tdist.broadcast_object_list(box, src=0)
        return box[0]

    def agree(self, flag: bool) -> bool:
        """Rank 0's decision on every rank (e.g. a checkpoint that is due by rank 0's clock)."""
        return bool(self.broadcast_object(flag))

    def barrier(self) -> None:
        if self.active:
            tdist.barrier()


def pick_device(name: str) -> torch.device:
    """The device ``--device`` names (``auto``: CUDA when present); a bad name is a ConfigError naming it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"--device {name}: not a device; use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: CUDA is not available on this machine; use --device cpu")
    return dev


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside a DistributedDataParallel wrapper (the model itself otherwise)."""
    return model.module if isinstance(model, DistributedDataParallel) else model


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
    """Leave the process group together, so no rank destroys it while a peer is still in a collective.

    (The CLI then ends each rank with ``os._exit``: see ``pipeline.cli.train``.)"""
    if ranks.active and tdist.is_initialized():
        tdist.barrier()
        tdist.destroy_process_group()
