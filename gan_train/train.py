"""The training loop: one D step and one G step per batch, observed without slowing it down.

Per-step metrics stay on the device and leave it every ``log_every`` steps in one transfer;
snapshots and checkpoints are written by a background thread (gan_train/snapshots.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import platform
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import gan_train
from gan_train.checkpoints import load_checkpoint
from gan_train.config import Config, ConfigError, apply_overrides
from gan_train.datasets import load_dataset
from gan_train.distributed import Ranks, setup, teardown, unwrap
from gan_train.io import RunLock, describe_os_error
from gan_train.losses import d_loss, g_loss, gradient_penalty
from gan_train.models import build_models
from gan_train.snapshots import (
    LayerNorms,
    NullWriter,
    RunWriter,
    capture,
    cpu_copy,
    d_says_real,
    d_scores,
    field_extent,
    field_points,
    noise_grid,
    truncate_metrics,
)
from pipeline.errors import GanvizError, first_line
from pipeline.run import (
    CHECKPOINT_FILE,
    DEFAULT_ROOT,
    FORMAT_VERSION,
    METRIC_COLUMNS,
    SNAPSHOT_DIR,
    RunError,
    read_run_json,
    snapshot_step,
)

STEP_METRICS = ("loss_d", "loss_g", "d_real", "d_fake", "d_fake_after", "acc_real", "acc_fake",
                "grad_norm_g", "grad_norm_d")  # fmt: skip
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


#: Config fields a resume may not change: they shape the saved networks, the data, the fixed batches
#: or the sequence of batches and noise, so the checkpoint would not fit or the run would stop being one run.
FIXED_ON_RESUME = (
    "dataset", "image_size", "toy_samples", "arch", "noise_dim", "g_hidden", "d_hidden", "ngf", "ndf", "loss",
    "batch_size", "d_every", "seed", "n_fixed", "toy_fixed", "field_resolution",
)  # fmt: skip


class TrainingDiverged(GanvizError):
    """A loss became NaN or infinite."""


class NothingToResume(GanvizError):
    """``--resume`` of a run that has already trained every step: the folder is left exactly as it was."""


class TrainingInterrupted(GanvizError):
    """Ctrl-C or SIGTERM: training stopped cleanly at a step boundary and can be resumed."""


class StopRequest:
    """Ctrl-C and SIGTERM only set a flag; the loop stops between steps and saves a checkpoint.

    A signal handled mid-step (D updated, G not yet) or mid-checkpoint would leave a state that is no
    step at all, so the signal is deferred to the next step boundary. Installed only in the main thread.
    """

    def __init__(self) -> None:
        self.signal: str | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: object) -> None:
        self.signal = signal.Signals(signum).name

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"--device {name}: not a device; use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: CUDA is not available on this machine; use --device cpu")
    return dev


def new_run_dir(cfg: Config, out: str | Path | None, name: str | None, root: Path = DEFAULT_ROOT) -> Path:
    """A fresh folder for the run; refuses run names that would escape outputs/runs."""
    if out is not None:
        path = Path(out)
        if ".." in path.parts:
            raise ConfigError(f"--out {out}: '..' is not allowed in a run folder; give the folder plainly")
        if path.exists() and not path.is_dir():
            raise GanvizError(f"--out {path}: exists and is not a folder; choose a new folder")
        if path.exists() and any(path.iterdir()):
            raise GanvizError(f"--out {path}: folder exists and is not empty; choose a new folder or --resume it")
        return path
    if name is not None and (not _NAME_RE.match(name) or ".." in name):
        raise ConfigError(f"--name {name!r}: use letters, digits, '.', '_' and '-' only (no paths)")
    return fresh_run_dir(root, name or f"{cfg.variant or 'custom'}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}")


def fresh_run_dir(root: Path, base: str) -> Path:
    """``root/base``, or ``base-2``, ``base-3`` ...: a run never lands in an existing folder."""
    path, i = root / base, 1
    while path.exists():
        i += 1
        path = root / f"{base}-{i}"
    return path


def schedule(cfg: Config, n: int) -> tuple[int, int, int, int]:
    """(total steps, steps per epoch, snapshot interval, checkpoint interval or 0 for time-based checkpoints)."""
    per_epoch = max(1, n // cfg.batch_size)
    total = cfg.steps or cfg.epochs * per_epoch
    snap = cfg.snapshot_every or max(1, total // 100)
    return total, per_epoch, snap, cfg.checkpoint_every


class Batches:
    """Deterministic batches: epoch e uses a permutation seeded by (seed, e), so resume needs only the step.

    Under torchrun every rank draws the same global batch and keeps its own slice of it.
    """

    def __init__(self, data: torch.Tensor, batch: int, seed: int, image: bool, ranks: Ranks = Ranks()):  # noqa: B008
        self.data, self.batch, self.seed, self.image, self.ranks = data, batch, seed, image, ranks
        self.per_epoch = max(1, len(data) // batch)
        self._epoch, self._perm = -1, None

    def __call__(self, step: int) -> torch.Tensor:
        epoch, i = divmod(step - 1, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm = torch.randperm(len(self.data), generator=g).to(self.data.device)
            self._epoch = epoch
        idx = self._perm[i * self.batch : (i + 1) * self.batch]
        return to_model_input(self.data[self.ranks.shard(idx)], self.image)


def to_model_input(x: torch.Tensor, image: bool) -> torch.Tensor:
    """uint8 (N,H,W,C) -> float (N,C,H,W) in [-1,1], stored channels-last; toys pass through."""
    if not image:
        return x
    return (x.permute(0, 3, 1, 2).float() / 127.5 - 1.0).contiguous(memory_format=torch.channels_last)


def dataset_on_device(arr: np.ndarray, device: torch.device, chunk: int = 16384) -> torch.Tensor:
    """The whole dataset as one tensor on the training device (uint8 images stay uint8: 4x less memory).

    A read-only memory-mapped cache is copied into RAM on CPU; on CUDA it streams to the GPU in chunks, so
    the host never holds a second full copy (CelebA 64x64 is ~2.5 GB).
    """
    if device.type == "cpu":
        return torch.from_numpy(np.ascontiguousarray(arr) if arr.flags.writeable else np.array(arr))
    out = torch.empty(arr.shape, dtype=torch.from_numpy(np.asarray(arr[:1])).dtype, device=device)
    for i in range(0, len(arr), chunk):
        out[i : i + chunk] = torch.from_numpy(np.array(arr[i : i + chunk])).to(device)
    return out


def train_step(
    g, d, opt_g, opt_d, cfg: Config, real: torch.Tensor, z: torch.Tensor, update_d: bool,
    norms_g: LayerNorms, norms_d: LayerNorms, gen: torch.Generator, autocast: Callable,
    ranks: Ranks = Ranks(),  # noqa: B008
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """One batch. Returns (metric vector in STEP_METRICS order, G layer norms, D layer norms), on device.

    ``real`` and ``z`` are this rank's rows of the global batch (``ranks``; all of it for one process).
    ``g`` and ``d`` may be DistributedDataParallel wrappers (several processes). DDP needs one backward per
    wrapped forward pass, so: D's real and fake batches stay separate forwards (BatchNorm sees them as two
    batches, as in one process) and WGAN-GP's penalty is an out-of-place ``autograd.grad`` added to the loss,
    all followed by one backward; G's step scores with D's plain module, so D's reducer never sees it; a step
    that does not update D computes its loss with the plain module too.
    """
    d_plain = unwrap(d)
    d_here = d if update_d else d_plain
    # (1) freeze G, train D: push D(x) up and D(G(z)) down
    with autocast():
        fake = g(z)
        out_real, out_fake = d_here(real), d_here(fake.detach())
    loss_d = d_loss(cfg.loss, out_real, out_fake, cfg.real_label)
    if cfg.loss == "wgan-gp":
        # one weight per row of the global batch (the draw one process makes); this rank keeps its rows
        shape = (real.shape[0] * ranks.world,) + (1,) * (real.dim() - 1)
        eps = ranks.shard(torch.rand(shape, generator=gen, device=real.device))
        with autocast():
            loss_d = loss_d + cfg.gp_weight * gradient_penalty(d_here, real, fake.detach(), eps)
    if update_d:
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()  # the only backward through D's DDP forwards: gradients arrive averaged over ranks
        gn_d = norms_d()
        opt_d.step()
    else:
        gn_d = torch.full((len(norms_d.names),), float("nan"), device=real.device)
    # (2) freeze D, train G: make the updated D call G(z) real
    d_plain.requires_grad_(False)
    with autocast():
        out_after = d_plain(fake)
    loss_g = g_loss(cfg.loss, out_after)
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()  # G's one DDP backward (G's forward ran once, above)
    gn_g = norms_g()
    opt_g.step()
    d_plain.requires_grad_(True)
    with torch.no_grad():
        vec = torch.stack([
            loss_d.detach().float(), loss_g.detach().float(),
            d_scores(cfg.loss, out_real).mean(), d_scores(cfg.loss, out_fake).mean(),
            d_scores(cfg.loss, out_after).mean(),
            d_says_real(cfg.loss, out_real).float().mean(), (~d_says_real(cfg.loss, out_fake)).float().mean(),
            gn_g.square().sum().sqrt(), gn_d.square().sum().sqrt(),
        ])  # fmt: skip
    return vec, gn_g, gn_d


def _rng_state(device: torch.device, noise_gen: torch.Generator) -> dict[str, torch.Tensor]:
    state = {"torch": torch.get_rng_state(), "noise": noise_gen.get_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def train(
    cfg: Config,
    out: str | Path | None = None,
    name: str | None = None,
    resume: str | Path | None = None,
    resume_overrides: dict[str, Any] | None = None,
    progress: bool = True,
    stop_after: int | None = None,
    flags: dict[str, str] | None = None,
) -> Path:
    """Train and record a run; returns its folder. ``resume`` continues a run from its last checkpoint.

    ``stop_after`` ends the run after that step with a checkpoint (status ``stopped``), as Ctrl-C does.
    ``flags`` names the options the user typed for ``resume_overrides`` (see ``config.apply_overrides``).
    The writing process holds the run's lock (``RunLock``) until it returns or raises.
    """
    with contextlib.ExitStack() as held:
        return _train(cfg, out, name, resume, resume_overrides, progress, stop_after, held, flags)


def _train(
    cfg: Config, out: str | Path | None, name: str | None, resume: str | Path | None,
    resume_overrides: dict[str, Any] | None, progress: bool, stop_after: int | None, held: contextlib.ExitStack,
    flags: dict[str, str] | None = None,
) -> Path:  # fmt: skip
    if resume is not None:
        run_dir = Path(resume)
        info, cfg = open_for_resume(run_dir, resume_overrides or {}, flags)
    ranks, device_name = setup(cfg.device)
    device = pick_device(device_name)
    if cfg.batch_size % ranks.world:
        raise ConfigError(f"--batch-size {cfg.batch_size}: must be a multiple of the {ranks.world} processes")
    progress = progress and ranks.writes
    torch.manual_seed(cfg.seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    data = load_dataset(cfg)
    n = len(data.array)
    if n < cfg.batch_size:
        raise GanvizError(f"dataset {data.source} has {n} samples, fewer than --batch-size {cfg.batch_size}")
    total, per_epoch, snap_every, ckpt_every = schedule(cfg, n)
    image = cfg.kind == "image"

    g, d = build_models(cfg)
    g.to(device)
    d.to(device)
    if image and cfg.channels_last:
        g.to(memory_format=torch.channels_last)
        d.to(memory_format=torch.channels_last)
    fused = {"fused": True} if device.type == "cuda" else {}
    opt_g = torch.optim.Adam(g.parameters(), cfg.lr_g, betas=(cfg.beta1, cfg.beta2), **fused)
    opt_d = torch.optim.Adam(d.parameters(), cfg.lr_d, betas=(cfg.beta1, cfg.beta2), **fused)
    norms_g, norms_d = LayerNorms(g), LayerNorms(d)
    g_run, d_run = (torch.compile(g), torch.compile(d)) if cfg.compile else (g, d)
    g_run, d_run = ranks.wrap(g_run), ranks.wrap(d_run)  # DDP over the (compiled) modules; g, d stay plain
    use_bf16 = cfg.amp == "bf16" or (cfg.amp == "auto" and device.type == "cuda")
    autocast = (lambda: torch.autocast(device.type, torch.bfloat16)) if use_bf16 else contextlib.nullcontext

    # the fixed batches every snapshot is taken on
    fixed_gen = torch.Generator().manual_seed(cfg.seed + 7919)
    n_fixed = cfg.n_fixed if image else cfg.toy_fixed
    fixed_noise = torch.randn(n_fixed, cfg.noise_dim, generator=fixed_gen)
    real_idx = torch.randperm(n, generator=fixed_gen)[: min(n_fixed, n)]
    real_np = np.asarray(data.array[real_idx.numpy()])
    fixed_np: dict[str, np.ndarray] = {"noise": fixed_noise.numpy(), "real": real_np}
    fixed = {"noise": fixed_noise.to(device), "real": to_model_input(torch.from_numpy(real_np).to(device), image)}
    extent = None
    if not image:
        extent = field_extent(np.asarray(data.array))
        pts, shape = field_points(extent, cfg.field_resolution)
        grid_z = noise_grid(cfg.noise_dim)
        fixed_np.update(field_extent=extent, field_points=pts, grid_noise=grid_z.numpy())
        fixed.update(field_points=torch.from_numpy(pts).to(device), grid_noise=grid_z.to(device),
                     field_shape=torch.tensor(shape))  # fmt: skip

    data_t = dataset_on_device(data.array, device)
    batches = Batches(data_t, cfg.batch_size, cfg.seed, image, ranks)
    noise_gen = torch.Generator(device=device).manual_seed(cfg.seed + 1)

    resumed_norms: tuple[torch.Tensor, torch.Tensor] | None = None
    if resume is None:
        run_dir = ranks.broadcast_object(new_run_dir(cfg, out, name) if ranks.writes else None)
        info = {
            "format_version": FORMAT_VERSION, "variant": cfg.variant, "kind": cfg.kind,
            "config": cfg.to_dict(), "seed": cfg.seed, "device": str(device),
            "torch_version": torch.__version__, "ganviz_version": gan_train.__version__,
            "python_version": platform.python_version(), "started": dt.datetime.now().astimezone().isoformat(),
            "status": "running", "total_steps": total, "steps_per_epoch": per_epoch,
            "snapshot_every": snap_every, "checkpoint_every": ckpt_every,
            "checkpoint_seconds": cfg.checkpoint_seconds,
            "dataset": {"source": data.source, "size": n, "skipped": data.skipped},
            "layers_g": norms_g.names, "layers_d": norms_d.names, "last_step": 0,
            "metric_columns": list(METRIC_COLUMNS), "resumed": [],
        }  # fmt: skip
        if ranks.active:
            info["world_size"] = ranks.world
        try:
            if ranks.writes:
                run_dir.mkdir(parents=True, exist_ok=True)
                held.enter_context(RunLock(run_dir))
        except OSError as e:
            raise GanvizError(describe_os_error(run_dir, e)) from None
        writer = RunWriter(run_dir) if ranks.writes else NullWriter()
        writer.write_info(info)
        writer.write_fixed(fixed_np)
        start, t_offset = 0, 0.0
    else:
        state = load_checkpoint(run_dir / CHECKPOINT_FILE, device)
        try:
            g.load_state_dict(state["g"])
            d.load_state_dict(state["d"])
            opt_g.load_state_dict(state["opt_g"])
            opt_d.load_state_dict(state["opt_d"])
            for opt, lr in ((opt_g, cfg.lr_g), (opt_d, cfg.lr_d)):  # the saved groups would undo --set lr_*=
                for group in opt.param_groups:
                    group.update(lr=lr, betas=(cfg.beta1, cfg.beta2))
            torch.set_rng_state(state["rng"]["torch"])
            noise_gen.set_state(state["rng"]["noise"])
            if "cuda" in state["rng"] and device.type == "cuda":
                torch.cuda.set_rng_state(state["rng"]["cuda"], device)
            start, t_offset = int(state["step"]), float(state["time"])
            if "norms_g" in state:  # the layer norms the next snapshot reports, as an unbroken run would
                resumed_norms = (state["norms_g"].to(device), state["norms_d"].to(device))
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise RunError(f"{run_dir / CHECKPOINT_FILE}: does not fit this run's networks ({first_line(e)}); "
                           "it cannot be resumed") from None  # fmt: skip
        if start > total:
            raise GanvizError(f"--resume {run_dir}: checkpoint is at step {start}, beyond --steps {total}")
        if start == total and info.get("status") == "finished":
            raise NothingToResume(f"{run_dir}: already finished at step {total}; nothing to resume "
                                  "(extend it with --steps N)")  # fmt: skip
        if ranks.writes:  # before anything is rewritten: a second process resuming this run stops here
            held.enter_context(RunLock(run_dir))
        ranks.barrier()  # every rank has read the checkpoint before rank 0 rewrites anything
        if ranks.writes:
            remove_partial_writes(run_dir)
            truncate_metrics(run_dir, start)
            for p in (run_dir / SNAPSHOT_DIR).glob("step_*.npz"):
                step_of = snapshot_step(p.name)
                if step_of is not None and step_of > start:
                    p.unlink()
        entry = {"at_step": start, "time": dt.datetime.now().astimezone().isoformat(), "status": info.get("status")}
        if "diverged_at" in info:  # a rescue: the run as it stands no longer diverges; the entry keeps the story
            entry["diverged_at"] = info.pop("diverged_at")
        info.update(status="running", total_steps=total, config=cfg.to_dict(), device=str(device),
                    snapshot_every=snap_every, checkpoint_every=ckpt_every,
                    checkpoint_seconds=cfg.checkpoint_seconds)  # fmt: skip
        info.setdefault("resumed", []).append(entry)
        writer = RunWriter(run_dir) if ranks.writes else NullWriter()
        writer.write_info(info)

    nan_layers = (torch.full((len(norms_g.names),), float("nan")), torch.full((len(norms_d.names),), float("nan")))
    last_norms = resumed_norms or nan_layers
    pending: list[torch.Tensor] = []
    t0 = time.perf_counter() - t_offset
    t_block = t_ckpt = time.perf_counter()
    ui = _Progress(total, start, enabled=progress)

    def snapshot(step: int) -> None:
        if not ranks.writes:
            return
        epoch = (step - 1) // per_epoch if step else 0
        writer.write_snapshot(step, capture(g, d, cfg, fixed, extent, *last_norms, step, epoch))

    def diverged(step: int, what: str) -> TrainingDiverged:
        info.update(status="diverged", diverged_at=step)
        writer.write_info(info)
        writer.close()
        return TrainingDiverged(
            f"{what} at step {step}; run marked diverged, last good checkpoint (step {info['last_step']}) kept in "
            f"{run_dir}; resume it with a lower --set lr_d=... --set lr_g=..."
        )

    def checkpoint(step: int, elapsed: float) -> None:
        # step S's loss is computed before its update, so finite losses up to S do not make S's weights
        # finite: check them (max |w| per tensor, on the device, one sync) before saving a checkpoint
        weights = [t for t in (*g.state_dict().values(), *d.state_dict().values()) if t.is_floating_point()]
        if not bool(torch.stack(torch._foreach_norm(weights, math.inf)).isfinite().all()):
            raise diverged(step, "weights became NaN/inf")
        if not ranks.writes:
            return
        writer.write_checkpoint(cpu_copy({
            "step": step, "time": elapsed, "g": g.state_dict(), "d": d.state_dict(),
            "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "rng": _rng_state(device, noise_gen),
            "norms_g": last_norms[0], "norms_d": last_norms[1],
        }))  # fmt: skip
        info["last_step"] = step
        writer.write_info(info)

    def flush(step: int) -> None:
        """Bring the pending block of metric rows to the host and append them (one sync per block)."""
        nonlocal t_block, pending
        if not pending:
            return
        block = ranks.average(torch.stack(pending)).cpu().numpy().astype(np.float64)
        now = time.perf_counter()
        dt_step = (now - t_block) / len(pending)
        first = step - len(pending) + 1
        rows = []
        for i, vals in enumerate(block):
            s = first + i
            row = {"step": s, "epoch": (s - 1) // per_epoch}
            row.update({k: float(v) for k, v in zip(STEP_METRICS, vals, strict=True)})
            row.update(lr_g=cfg.lr_g, lr_d=cfg.lr_d, time=round(now - t0 - (len(pending) - 1 - i) * dt_step, 4),
                       samples_per_s=round(cfg.batch_size / dt_step, 2) if dt_step > 0 else None)  # fmt: skip
            rows.append(row)
        pending, t_block = [], now
        bad = ~np.isfinite(block[:, :2]).all(axis=1)
        if bad.any():
            rows = rows[: int(np.argmax(bad)) + 1]
            writer.append_metrics(rows)
            raise diverged(rows[-1]["step"], "loss became NaN/inf")
        writer.append_metrics(rows)
        ui.update(step, rows[-1])

    step = start
    stop = StopRequest()
    try:
        if start == 0:
            snapshot(0)
            checkpoint(0, 0.0)
        with ui, stop:
            while step < total and stop.signal is None:
                step += 1
                z = ranks.shard(torch.randn(cfg.batch_size, cfg.noise_dim, generator=noise_gen, device=device))
                vec, gn_g, gn_d = train_step(
                    g_run, d_run, opt_g, opt_d, cfg, batches(step), z, (step - 1) % cfg.d_every == 0,
                    norms_g, norms_d, noise_gen, autocast, ranks,
                )  # fmt: skip
                pending.append(vec)
                if (step - 1) % cfg.d_every == 0:
                    last_norms = (gn_g, gn_d)
                else:
                    last_norms = (gn_g, last_norms[1])
                at_snap = step % snap_every == 0 or step == total
                if ckpt_every:
                    at_ckpt = step % ckpt_every == 0 or step == total
                else:  # time-based: at a snapshot once checkpoint_seconds have passed (all ranks decide alike)
                    due = at_snap and time.perf_counter() - t_ckpt >= cfg.checkpoint_seconds
                    at_ckpt = step == total or (at_snap and ranks.agree(due))
                if step % cfg.log_every == 0 or at_snap or at_ckpt:
                    flush(step)
                if at_snap:
                    snapshot(step)
                if at_ckpt:
                    checkpoint(step, time.perf_counter() - t0)
                    t_ckpt = time.perf_counter()
                if stop_after is not None and step >= stop_after:
                    break
            if step < total:  # stopped early (signal or stop_after): keep everything up to this step
                flush(step)
                if info["last_step"] != step:
                    checkpoint(step, time.perf_counter() - t0)
    except BaseException:
        with contextlib.suppress(BaseException):
            writer.close()
        raise
    status = "finished" if step >= total else ("interrupted" if stop.signal else "stopped")
    info.update(status=status, finished=dt.datetime.now().astimezone().isoformat())
    writer.write_info(info)
    writer.close()
    teardown(ranks)
    if status == "interrupted":
        raise TrainingInterrupted(
            f"{stop.signal} at step {step}: checkpoint saved; continue with: ganviz train --resume {run_dir}"
        )
    return run_dir


def open_for_resume(run_dir: Path, overrides: dict[str, Any],
                    flags: dict[str, str] | None = None) -> tuple[dict[str, Any], Config]:  # fmt: skip
    """run.json and the config to continue with; refuses non-runs and overrides that would break the run."""
    info = read_run_json(run_dir)
    if not (run_dir / CHECKPOINT_FILE).is_file():
        raise RunError(f"--resume {run_dir}: no {CHECKPOINT_FILE} in this run (it stopped before its first one); "
                       "start it again instead")  # fmt: skip
    try:
        saved = Config.from_dict(info["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise RunError(f"{run_dir / 'run.json'}: no usable config ({first_line(e)}); it cannot be resumed") from None
    cfg = apply_overrides(saved, overrides, flags)
    changed = [k for k in FIXED_ON_RESUME if getattr(cfg, k) != getattr(saved, k)]
    if changed:
        raise ConfigError(f"--resume cannot change {', '.join(changed)} (the saved networks and data depend on it); "
                          "start a new run instead")  # fmt: skip
    return info, cfg


def remove_partial_writes(run_dir: Path) -> None:
    """Delete temp files a killed process left behind (atomic writes name them .NAME.XXXX.tmp)."""
    for folder in (run_dir, run_dir / SNAPSHOT_DIR):
        for p in folder.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                p.unlink()


class _Progress:
    """A rich progress bar updated once per metrics block (never per step)."""

    def __init__(self, total: int, start: int, enabled: bool):
        self.enabled = enabled
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.p = Progress(
                TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                TextColumn("{task.fields[stats]}"), transient=False,
            )  # fmt: skip
            self.task = self.p.add_task("train", total=total, completed=start, stats="")

    def __enter__(self) -> _Progress:
        if self.enabled:
            self.p.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.p.__exit__(*exc)

    def update(self, step: int, row: dict[str, Any]) -> None:
        if self.enabled:
            stats = (f"loss D {row['loss_d']:.3f} G {row['loss_g']:.3f}  D(x) {row['d_real']:.2f} "
                     f"D(G(z)) {row['d_fake']:.2f}")  # fmt: skip
            self.p.update(self.task, completed=step, stats=stats)
