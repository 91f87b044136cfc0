"""Everything one training run holds, built once from a Config, and the step that trains on one batch.

``Trainer(cfg)`` does the set-up a loop needs before its first step (processes, device, data on the device,
models, optimisers, norm trackers, random generators, autocast, the fixed batches snapshots are taken on);
``train_step(trainer, real, z, update_d)`` is one D update and one G update. The loop itself, resume and the
recording live in gan_train/train.py and gan_train/recording.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gan_train.amp import choose_amp
from gan_train.batches import Batches, StreamedBatches, make_batches, to_model_input
from gan_train.config import Config, ConfigError
from gan_train.datasets import default_cache_dir, load_dataset
from gan_train.distributed import Ranks, pick_device, setup, unwrap
from gan_train.evaluation import evaluator_or_none
from gan_train.losses import LOSSES, gradient_penalty
from gan_train.models import build_models
from gan_train.optim import make_adam
from gan_train.recorder import StepMetrics
from gan_train.snapshots import FixedBatches, fixed_batches, fixed_stream
from ganviz.errors import GanvizError


@dataclass(frozen=True)
class Schedule:
    """When things happen in a run of ``total`` steps (``checkpoint_every`` 0: time-based checkpoints;
    ``eval_every`` 0: no quality measures)."""

    total: int
    per_epoch: int
    snapshot_every: int
    checkpoint_every: int
    eval_every: int = 0

    @classmethod
    def of(cls, cfg: Config, n: int) -> Schedule:
        per_epoch = max(1, n // cfg.batch_size)
        total = cfg.steps or cfg.epochs * per_epoch
        snap = cfg.snapshot_every or max(1, total // 100)
        evals = 0 if cfg.eval_every < 0 else cfg.eval_every or 10 * snap  # default: every 10th snapshot
        return cls(total, per_epoch, snap, cfg.checkpoint_every, evals)

    def epoch(self, step: int) -> int:
        return (step - 1) // self.per_epoch if step else 0

    def evaluates(self, step: int) -> bool:
        """Quality measures at step 0, every ``eval_every`` steps and at the last step."""
        return bool(self.eval_every) and (step % self.eval_every == 0 or step == self.total)


class Trainer:
    """A run's working set, built once: the order of the set-up fixes the random streams, so a resumed run
    draws exactly what an uninterrupted one does.

    ``g``/``d`` are the plain modules (checkpoints, snapshots, norms); ``g_run``/``d_run`` what the step calls
    (compiled and/or wrapped in DistributedDataParallel under torchrun).
    """

    def __init__(self, cfg: Config):
        self.cfg, self.loss = cfg, LOSSES[cfg.loss]
        self.ranks, device_name = setup(cfg.device)
        self.device = device = pick_device(device_name)
        if cfg.batch_size % self.ranks.world:
            raise ConfigError(f"--batch-size {cfg.batch_size}: must be a multiple of the {self.ranks.world} processes")
        torch.manual_seed(cfg.seed)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True

        self.data = load_dataset(cfg)
        n = len(self.data.array)
        if n < cfg.batch_size:
            raise GanvizError(f"dataset {self.data.source} has {n} samples, fewer than --batch-size {cfg.batch_size}")
        self.schedule = Schedule.of(cfg, n)
        self.image = image = cfg.kind == "image"

        self.g, self.d = build_models(cfg)
        self.g.to(device)
        self.d.to(device)
        if image and cfg.channels_last:
            self.g.to(memory_format=torch.channels_last)
            self.d.to(memory_format=torch.channels_last)
        # torch's fused Adam kernel for all parameters (CPU too: 4-5x faster than the per-tensor loop, the default
        # there), called without torch.optim, whose first use imports torch._dynamo (gan_train/optim.py)
        self.opt_g = make_adam(self.g.parameters(), cfg.lr_g, (cfg.beta1, cfg.beta2), device)
        self.opt_d = make_adam(self.d.parameters(), cfg.lr_d, (cfg.beta1, cfg.beta2), device)
        g_run, d_run = (torch.compile(self.g), torch.compile(self.d)) if cfg.compile else (self.g, self.d)
        self.g_run, self.d_run = self.ranks.wrap(g_run), self.ranks.wrap(d_run)  # DDP over the compiled modules
        # rank 0 decides (a CPU probe on each rank could disagree) and every rank computes alike
        self.amp = self.ranks.broadcast_object(
            choose_amp(cfg.amp, device, image, default_cache_dir()) if self.ranks.writes else None
        )
        self.autocast: Callable[[], Any] = (
            (lambda: torch.autocast(device.type, torch.bfloat16)) if self.amp.bf16 else contextlib.nullcontext
        )
        self.fixed_batches = self._fixed_batches(n)
        self.fixed_arrays, self.fixed = self.fixed_batches
        # rank 0 measures G; built here, before any step, so a feature space that cannot be built stops the run
        self.evaluator = evaluator_or_none(cfg, self.data.array, device) if self.ranks.writes else None
        if self.evaluator is None:
            self.schedule = dataclasses.replace(self.schedule, eval_every=0)
        self.batches: Batches | StreamedBatches
        self.batches, self.data_path = make_batches(
            self.data.array, cfg.batch_size, cfg.seed, image, self.ranks, device, cfg.data_memory
        )
        self.noise_gen = torch.Generator(device=device).manual_seed(cfg.seed + 1)

    @classmethod
    def from_parts(
        cls,
        cfg: Config,
        g: torch.nn.Module,
        d: torch.nn.Module,
        opt_g: torch.optim.Optimizer,
        opt_d: torch.optim.Optimizer,
        *,
        ranks: Ranks = Ranks(),  # noqa: B008
        autocast: Callable[[], Any] = contextlib.nullcontext,
    ) -> Trainer:
        """A trainer around models and optimisers built elsewhere, for ``train_step`` on batches of one's own
        (benchmarks, tests): no data, schedule or fixed batches. ``g``/``d`` may already be wrapped in DDP."""
        t = cls.__new__(cls)
        t.cfg, t.loss, t.ranks, t.autocast = cfg, LOSSES[cfg.loss], ranks, autocast
        t.g_run, t.d_run, t.g, t.d = g, d, unwrap(g), unwrap(d)
        t.opt_g, t.opt_d = opt_g, opt_d
        t.device = next(t.g.parameters()).device
        t.noise_gen = torch.Generator(device=t.device)
        return t

    def _fixed_batches(self, n: int) -> FixedBatches:
        """The fixed batches every snapshot is taken on: G's noise and a random real batch from the fixed stream."""
        cfg, device = self.cfg, self.device
        gen = fixed_stream(cfg.seed)
        n_fixed = cfg.n_fixed if self.image else cfg.toy_fixed
        noise = torch.randn(n_fixed, cfg.noise_dim, generator=gen)
        real_idx = torch.randperm(n, generator=gen)[: min(n_fixed, n)]
        real = np.asarray(self.data.array[real_idx.numpy()])
        return fixed_batches(
            noise,
            real,
            to_model_input(torch.from_numpy(real).to(device), self.image),
            toy_data=None if self.image else np.asarray(self.data.array),
            field_resolution=cfg.field_resolution,
        )

    def close(self) -> None:
        """Stop what runs beside the loop (the streamed batches' thread); the loop calls it however it ends."""
        batches = getattr(self, "batches", None)
        if batches is not None:
            batches.close()

    def noise(self) -> torch.Tensor:
        """This rank's rows of the next global noise batch."""
        z = torch.randn(self.cfg.batch_size, self.cfg.noise_dim, generator=self.noise_gen, device=self.device)
        return self.ranks.shard(z)

    def updates_d(self, step: int) -> bool:
        return (step - 1) % self.cfg.d_every == 0

    # -- checkpoints --------------------------------------------------------------------------------------
    def weights_finite(self) -> bool:
        """Max |w| per tensor on the device, one sync: a checkpoint must never hold NaN/inf weights."""
        weights = [t for t in (*self.g.state_dict().values(), *self.d.state_dict().values()) if t.is_floating_point()]
        return bool(torch.stack(torch._foreach_norm(weights, math.inf)).isfinite().all())

    def state(self) -> dict[str, Any]:
        """Models, optimisers and random streams (the checkpoint adds step, time and layer norms)."""
        rng = {"torch": torch.get_rng_state(), "noise": self.noise_gen.get_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "g": self.g.state_dict(),
            "d": self.d.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng": rng,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """The inverse of ``state``, keeping this config's learning rates and betas (a rescue lowers them)."""
        cfg = self.cfg
        self.g.load_state_dict(state["g"])
        self.d.load_state_dict(state["d"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        for opt, lr in ((self.opt_g, cfg.lr_g), (self.opt_d, cfg.lr_d)):  # the saved groups would undo --set lr_*=
            for group in opt.param_groups:
                group.update(lr=lr, betas=(cfg.beta1, cfg.beta2))
        torch.set_rng_state(state["rng"]["torch"])
        self.noise_gen.set_state(state["rng"]["noise"])
        if "cuda" in state["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["rng"]["cuda"], self.device)


def train_step(t: Trainer, real: torch.Tensor, z: torch.Tensor, update_d: bool) -> StepMetrics:
    """One batch. Returns what it measured, on the device (the layer norms are taken by the recording's optimiser
    hook).

    ``real`` and ``z`` are this rank's rows of the global batch. ``t.g_run`` and ``t.d_run`` may be
    DistributedDataParallel wrappers. DDP needs one backward per wrapped forward pass, so: D's real and fake
    batches stay separate forwards (BatchNorm sees them as two batches, as in one process) and WGAN-GP's penalty
    is an out-of-place ``autograd.grad`` added to the loss, all followed by one backward; G's step scores with
    D's plain module, so D's reducer never sees it; a step that does not update D uses the plain module too.
    """
    cfg, loss, ranks = t.cfg, t.loss, t.ranks
    d_plain = unwrap(t.d_run)
    d_here = t.d_run if update_d else d_plain

    # (1) freeze G, train D: push D(x) up and D(G(z)) down
    with t.autocast():
        fake = t.g_run(z)
        out_real, out_fake = d_here(real), d_here(fake.detach())
    loss_d = loss.d_loss(out_real.float(), out_fake.float(), cfg.real_label)
    if loss.penalty:  # one weight per row of the global batch (the draw one process makes); this rank keeps its rows
        shape = (real.shape[0] * ranks.world,) + (1,) * (real.dim() - 1)
        eps = ranks.shard(torch.rand(shape, generator=t.noise_gen, device=real.device))
        with t.autocast():
            loss_d = loss_d + cfg.gp_weight * gradient_penalty(d_here, real, fake.detach(), eps)
    if update_d:
        t.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()  # the only backward through D's DDP forwards: gradients arrive averaged over ranks
        t.opt_d.step()

    # (2) freeze D, train G: make the updated D call G(z) real
    d_plain.requires_grad_(False)
    with t.autocast():
        out_after = d_plain(fake)
    loss_g = loss.g_loss(out_after.float())
    t.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()  # G's one DDP backward (G's forward ran once, above)
    t.opt_g.step()
    d_plain.requires_grad_(True)

    # (3) what this step measured, still on the device
    with torch.no_grad():
        score, says_real = (lambda out: loss.score(out.float())), (lambda out: loss.says_real(out.float()))
        return StepMetrics(
            loss_d=loss_d.detach().float(),
            loss_g=loss_g.detach().float(),
            d_real=score(out_real).mean(),
            d_fake=score(out_fake).mean(),
            d_fake_after=score(out_after).mean(),
            acc_real=says_real(out_real).float().mean(),
            acc_fake=(~says_real(out_fake)).float().mean(),
        )
