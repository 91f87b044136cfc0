"""Recording a run while it trains: metric blocks, snapshots, checkpoints and divergence, as one object.

The loop hands the recorder each step's metric vector (still on the device); the recorder decides when a block
of rows leaves the device, when a snapshot or a checkpoint is due, and writes everything through the run's
background writer (gan_train/snapshots.py), so training never waits on the disk.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_train.snapshots import RunWriter, capture, cpu_copy
from gan_train.trainer import STEP_METRICS, Trainer
from pipeline.errors import GanvizError
from pipeline.runformat import METRICS


class TrainingDiverged(GanvizError):
    """A loss or the weights became NaN or infinite."""


class RunRecorder:
    """Writes what a ``Trainer`` does into the run folder ``run_dir`` (rank 0 writes; other ranks only check).

    ``start`` is the step training continues from and ``elapsed`` the training time before it (both 0 for a
    new run); ``norms`` the layer norms the next snapshot reports (restored from a checkpoint on resume).
    """

    def __init__(
        self,
        t: Trainer,
        run_dir: Path,
        info: dict[str, Any],
        writer: RunWriter,
        start: int = 0,
        elapsed: float = 0.0,
        norms: tuple[torch.Tensor, torch.Tensor] | None = None,
        progress: bool = True,
    ):
        self.t, self.run_dir, self.info, self.writer, self.start = t, run_dir, info, writer, start
        nan = float("nan")
        self.norms = norms or (torch.full((len(t.norms_g.names),), nan), torch.full((len(t.norms_d.names),), nan))
        self.pending: list[torch.Tensor] = []
        now = time.perf_counter()
        self.t0, self.t_block, self.t_ckpt = now - elapsed, now, now
        self.ui = Progress(t.schedule.total, start, enabled=progress and t.ranks.writes)

    # -- the loop's calls ---------------------------------------------------------------------------------
    def begin(self) -> None:
        """A new run records its starting point: the snapshot, quality measures and checkpoint of step 0."""
        if self.start == 0:
            self.snapshot(0)
            self.evaluate(0)
            self.checkpoint(0)

    def step(self, step: int, vec: torch.Tensor, gn_g: torch.Tensor, gn_d: torch.Tensor, updated_d: bool) -> None:
        """Step ``step`` is done: keep its metrics and norms; flush, snapshot and checkpoint when due."""
        self.pending.append(vec)
        self.norms = (gn_g, gn_d if updated_d else self.norms[1])  # D's norms are those of its last update
        s = self.t.schedule
        at_snap = step % s.snapshot_every == 0 or step == s.total
        if s.checkpoint_every:
            at_ckpt = step % s.checkpoint_every == 0 or step == s.total
        else:  # time-based: at a snapshot once checkpoint_seconds have passed (all ranks decide alike)
            due = at_snap and time.perf_counter() - self.t_ckpt >= self.t.cfg.checkpoint_seconds
            at_ckpt = step == s.total or (at_snap and self.t.ranks.agree(due))
        if step % self.t.cfg.log_every == 0 or at_snap or at_ckpt:
            self.flush(step)
        if at_snap:
            self.snapshot(step)
        if s.evaluates(step):
            self.evaluate(step)
        if at_ckpt:
            self.checkpoint(step)

    def stop_early(self, step: int) -> None:
        """Training stops before the last step (a signal or ``stop_after``): keep everything up to ``step``."""
        self.flush(step)
        if self.info["last_step"] != step:
            self.checkpoint(step)

    def finish(self, status: str) -> None:
        self.info.update(status=status, finished=dt.datetime.now().astimezone().isoformat())
        self.writer.write_info(self.info)
        self.writer.close()

    def abort(self) -> None:
        """An exception left the loop: stop the writer (what it had queued is written) and let the error go on."""
        with contextlib.suppress(BaseException):  # the error that aborted training is the one to report
            self.writer.close()

    # -- what gets written --------------------------------------------------------------------------------
    def flush(self, step: int) -> None:
        """Bring the pending block of metric rows to the host and append them (one sync per block)."""
        if not self.pending:
            return
        cfg, n = self.t.cfg, len(self.pending)
        block = self.t.ranks.average(torch.stack(self.pending)).cpu().numpy().astype(np.float64)
        now = time.perf_counter()
        dt_step = (now - self.t_block) / n
        rows = []
        for i, vals in enumerate(block):
            s = step - n + 1 + i
            row: dict[str, Any] = {METRICS.step: s, METRICS.epoch: self.t.schedule.epoch(s)}
            row.update({k: float(v) for k, v in zip(STEP_METRICS, vals, strict=True)})
            row[METRICS.lr_g], row[METRICS.lr_d] = cfg.lr_g, cfg.lr_d
            row[METRICS.time] = round(now - self.t0 - (n - 1 - i) * dt_step, 4)
            row[METRICS.samples_per_s] = round(cfg.batch_size / dt_step, 2) if dt_step > 0 else None
            rows.append(row)
        self.pending, self.t_block = [], now
        bad = ~np.isfinite(block[:, :2]).all(axis=1)
        if bad.any():
            rows = rows[: int(np.argmax(bad)) + 1]
            self.writer.append_metrics(rows)
            raise self.diverged(rows[-1][METRICS.step], "loss became NaN/inf")
        self.writer.append_metrics(rows)
        self.ui.update(step, rows[-1])

    def snapshot(self, step: int) -> None:
        t = self.t
        if t.ranks.writes:
            arrays = capture(t.g, t.d, t.cfg, t.fixed, *self.norms, step, t.schedule.epoch(step))
            self.writer.write_snapshot(step, arrays)

    def evaluate(self, step: int) -> None:
        """How good G is at ``step`` (gan_train/evaluation.py), appended to evals.jsonl. Rank 0 only."""
        t = self.t
        if t.evaluator is not None and t.schedule.evaluates(step):
            self.writer.append_evals(t.evaluator(t.g, step))

    def checkpoint(self, step: int) -> None:
        # step S's loss is computed before its update, so finite losses up to S do not make S's weights finite
        if not self.t.weights_finite():
            raise self.diverged(step, "weights became NaN/inf")
        self.t_ckpt = time.perf_counter()
        if not self.t.ranks.writes:
            return
        state = {
            "step": step,
            "time": self.t_ckpt - self.t0,
            **self.t.state(),
            "norms_g": self.norms[0],
            "norms_d": self.norms[1],
        }
        self.writer.write_checkpoint(cpu_copy(state))
        self.info["last_step"] = step
        self.writer.write_info(self.info)

    def diverged(self, step: int, what: str) -> TrainingDiverged:
        self.info.update(status="diverged", diverged_at=step)
        self.writer.write_info(self.info)
        self.writer.close()
        return TrainingDiverged(
            f"{what} at step {step}; run marked diverged, last good checkpoint (step {self.info['last_step']}) kept "
            f"in {self.run_dir}; resume it with a lower --set lr_d=... --set lr_g=..."
        )


class Progress:
    """A rich progress bar updated once per metrics block (never per step)."""

    def __init__(self, total: int, start: int, enabled: bool):
        self.enabled = enabled
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar

            self.bar = Bar(
                TextColumn("[bold]train"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[stats]}"),
                transient=False,
            )
            self.task = self.bar.add_task("train", total=total, completed=start, stats="")

    def __enter__(self) -> Progress:
        if self.enabled:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.__exit__(*exc)

    def update(self, step: int, row: dict[str, Any]) -> None:
        if self.enabled:
            stats = (
                f"loss D {row['loss_d']:.3f} G {row['loss_g']:.3f}  D(x) {row['d_real']:.2f} "
                f"D(G(z)) {row['d_fake']:.2f}"
            )
            self.bar.update(self.task, completed=step, stats=stats)
