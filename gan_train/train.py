"""The training loop: one D step and one G step per batch, observed without slowing it down.

``train(cfg)`` builds a ``Trainer`` (gan_train/trainer.py), opens a new run folder or resumes one, and runs the
loop below; a ``RunRecorder`` (gan_train/recording.py) keeps the metrics on the device and writes blocks of rows,
snapshots and checkpoints from a background thread.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import signal
import threading
from pathlib import Path
from typing import Any

import torch

from gan_train.checkpoints import load_checkpoint
from gan_train.config import FIXED_ON_RESUME, Config, ConfigError, apply_overrides
from gan_train.distributed import teardown
from gan_train.recording import RunRecorder, TrainingDiverged
from gan_train.trainer import Trainer, train_step
from ganviz.errors import GanvizError, RunError, first_line
from ganviz.format import (
    CHECKPOINT_FILE,
    DEFAULT_ROOT,
    EVALS_FILE,
    RUN_JSON,
    SNAPSHOT_DIR,
    snapshot_step,
)
from ganviz.lock import RunLock
from ganviz.validate import read_run_json
from ganviz.writer import NullWriter, RunWriter, describe_os_error, truncate_metrics

__all__ = ["NothingToResume", "TrainingDiverged", "TrainingInterrupted", "train"]

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class NothingToResume(GanvizError):
    """``--resume`` of a run that has already trained every step: the folder is left exactly as it was."""


class TrainingInterrupted(GanvizError):
    """Ctrl-C or SIGTERM: training stopped cleanly at a step boundary and can be resumed."""


def train(
    cfg: Config | None,
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
    with contextlib.ExitStack() as lock:
        if resume is not None:
            info, cfg = open_for_resume(Path(resume), resume_overrides or {}, flags)
            t = Trainer(cfg)
            rec = resume_run(t, Path(resume), info, lock, progress)
        else:
            assert cfg is not None, "train() needs a config or a run to resume"
            t = Trainer(cfg)
            rec = start_run(t, out, name, lock, progress)
        return _loop(t, rec, stop_after)


def _loop(t: Trainer, rec: RunRecorder, stop_after: int | None) -> Path:
    """The loop: a batch of real data and noise, a D update and a G update, then the recorder's turn."""
    step, total, stop = rec.start, t.schedule.total, StopRequest()
    try:
        rec.begin_training()
        with rec.ui, stop:
            while step < total and stop.signal is None:
                step += 1
                # (1) the batch: real data and noise, the same for a given seed and step whatever came before
                real, z, update_d = t.batches(step), t.noise(), t.updates_d(step)
                # (2) update D on real vs generated, then G against the updated D
                measured = train_step(t, real, z, update_d)
                # (3) record: metrics leave the device in blocks; snapshots and checkpoints when due (the layer
                # norms were taken by the recorder's hook as each optimiser stepped)
                rec.record(measured)
                if stop_after is not None and step >= stop_after:
                    break
            if step < total:  # stopped early (signal or stop_after): keep everything up to this step
                rec.stop_early(step)
    except BaseException:
        rec.abort()
        raise
    finally:
        t.close()  # the streamed batches' thread, however the loop ended
    status = "finished" if step >= total else ("interrupted" if stop.signal else "stopped")
    rec.finish(status)
    teardown(t.ranks)
    if status == "interrupted":
        raise TrainingInterrupted(
            f"{stop.signal} at step {step}: checkpoint saved; continue with: ganviz train --resume {rec.run_dir}"
        )
    return rec.run_dir


# -- opening a run: new or resumed ------------------------------------------------------------------------
def start_run(
    t: Trainer, out: str | Path | None, name: str | None, lock: contextlib.ExitStack, progress: bool = True
) -> RunRecorder:
    """A new run folder (locked), with run.json and fixed.npz written, and its recorder."""
    cfg, ranks, s = t.cfg, t.ranks, t.schedule
    run_dir = ranks.broadcast_object(new_run_dir(cfg, out, name) if ranks.writes else None)
    info = {  # after the header every run.json starts with (gan_train.recorder.run_header), added by the recorder
        "variant": cfg.variant,
        "kind": cfg.kind,
        "config": cfg.to_dict(),
        "d_scores": "probability",
        "seed": cfg.seed,
        "device": str(t.device),
        "amp": t.amp.to_json(),
        "total_steps": s.total,
        "steps_per_epoch": s.per_epoch,
        "snapshot_every": s.snapshot_every,
        "checkpoint_every": s.checkpoint_every,
        "checkpoint_seconds": cfg.checkpoint_seconds,
        "dataset": {"source": t.data.source, "size": len(t.data.array), "skipped": t.data.skipped},
        RUN_JSON.data: t.data_path.info(),
        "last_step": 0,
        "resumed": [],
    }
    if ranks.active:
        info["world_size"] = ranks.world
    info.update(_evals_info(t))
    try:
        if ranks.writes:
            run_dir.mkdir(parents=True, exist_ok=True)
            lock.enter_context(RunLock(run_dir))
    except OSError as e:
        raise GanvizError(describe_os_error(run_dir, e)) from None
    writer = RunWriter(run_dir, save_checkpoint=torch.save) if ranks.writes else NullWriter()
    return RunRecorder(t, run_dir, info, writer, progress=progress, new=True)


def resume_run(
    t: Trainer, run_dir: Path, info: dict[str, Any], lock: contextlib.ExitStack, progress: bool = True
) -> RunRecorder:
    """The trainer restored from the run's checkpoint, the folder cut back to it (locked), and its recorder."""
    cfg, ranks, s = t.cfg, t.ranks, t.schedule
    state = load_checkpoint(run_dir / CHECKPOINT_FILE, t.device)
    try:
        t.load_state(state)
        start, elapsed = int(state["step"]), float(state["time"])
        norms = (state["norms_g"].to(t.device), state["norms_d"].to(t.device)) if "norms_g" in state else None
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise RunError(
            f"{run_dir / CHECKPOINT_FILE}: does not fit this run's networks ({first_line(e)}); it cannot be resumed"
        ) from None
    if start > s.total:
        raise GanvizError(f"--resume {run_dir}: checkpoint is at step {start}, beyond --steps {s.total}")
    if start == s.total and info.get("status") == "finished":
        raise NothingToResume(
            f"{run_dir}: already finished at step {s.total}; nothing to resume (extend it with --steps N)"
        )
    if ranks.writes:  # before anything is rewritten: a second process resuming this run stops here
        lock.enter_context(RunLock(run_dir))
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
    info.update(
        status="running",
        total_steps=s.total,
        config=cfg.to_dict(),
        device=str(t.device),
        amp=t.amp.to_json(),
        snapshot_every=s.snapshot_every,
        checkpoint_every=s.checkpoint_every,
        checkpoint_seconds=cfg.checkpoint_seconds,
    )
    info[RUN_JSON.data] = t.data_path.info()  # this process's path (the budget may differ from the last one's)
    info.setdefault("resumed", []).append(entry)
    info.update(_evals_info(t))
    writer = RunWriter(run_dir, save_checkpoint=torch.save) if ranks.writes else NullWriter()
    return RunRecorder(t, run_dir, info, writer, start, elapsed, norms, progress)


def _evals_info(t: Trainer) -> dict[str, Any]:
    """run.json's ``evals``: where the quality measures are, how often, on how many samples, which ones."""
    ev = t.evaluator
    if ev is None:
        return {}
    every, space = t.schedule.eval_every, ev.space_name
    return {
        RUN_JSON.evals: {
            "file": EVALS_FILE,
            "every": every,
            "samples": ev.samples,
            "space": space,
            "measures": ev.measures,
        }
    }


def open_for_resume(
    run_dir: Path, overrides: dict[str, Any], flags: dict[str, str] | None = None
) -> tuple[dict[str, Any], Config]:
    """run.json and the config to continue with; refuses non-runs and overrides that would break the run."""
    info = read_run_json(run_dir)
    if not (run_dir / CHECKPOINT_FILE).is_file():
        raise RunError(
            f"--resume {run_dir}: no {CHECKPOINT_FILE} in this run (it stopped before its first one); "
            "start it again instead"
        )
    try:
        saved = Config.from_dict(info["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise RunError(f"{run_dir / 'run.json'}: no usable config ({first_line(e)}); it cannot be resumed") from None
    cfg = apply_overrides(saved, overrides, flags)
    changed = [k for k in FIXED_ON_RESUME if getattr(cfg, k) != getattr(saved, k)]
    if changed:
        raise ConfigError(
            f"--resume cannot change {', '.join(changed)} (the saved networks and data depend on it); "
            "start a new run instead"
        )
    return info, cfg


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


def remove_partial_writes(run_dir: Path) -> None:
    """Delete temp files a killed process left behind (atomic writes name them .NAME.XXXX.tmp)."""
    for folder in (run_dir, run_dir / SNAPSHOT_DIR):
        for p in folder.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                p.unlink()


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
