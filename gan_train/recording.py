"""Recording the built-in trainer's run: the public Recorder (gan_train/recorder.py) plus what only ``ganviz train``
does: checkpoints for resume, quality measures, divergence, several processes and a progress bar.

The loop hands the recorder each step's metric vector (still on the device); the Recorder's hook measures the
layer norms at each optimiser step; the recorder decides when a block of rows leaves the device and when a
snapshot, a measure or a checkpoint is due, and writes everything through the run's background writer, so
training never waits on the disk.
"""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path
from typing import Any

import torch

from gan_train.recorder import COLUMN, Recorder, StepMetrics
from gan_train.snapshots import Probe, cpu_copy
from gan_train.trainer import Trainer
from ganviz.errors import GanvizError
from ganviz.format import METRICS, RUN_JSON
from ganviz.writer import NullWriter, RunWriter

#: metrics.jsonl columns of ``StepMetrics.vector()``, in its order.
VECTOR_COLUMNS = [COLUMN[name] for name in StepMetrics._fields]


class TrainingDiverged(GanvizError):
    """A loss or the weights became NaN or infinite."""


class RunRecorder(Recorder):
    """Writes what a ``Trainer`` does into the run folder ``run_dir`` (rank 0 writes; other ranks only check).

    ``new``: a new run (its fixed batches and layer shapes are written); else a resumed one, where ``start`` is the
    step training continues from, ``elapsed`` the training time before it and ``norms`` the layer norms the next
    snapshot reports (all restored from the checkpoint).
    """

    def __init__(
        self,
        t: Trainer,
        run_dir: Path,
        info: dict[str, Any],
        writer: RunWriter | NullWriter,
        start: int = 0,
        elapsed: float = 0.0,
        norms: tuple[torch.Tensor, torch.Tensor] | None = None,
        progress: bool = True,
        new: bool = False,
    ):
        s, cfg = t.schedule, t.cfg
        super().__init__(
            run_dir,
            t.g,
            t.d,
            fixed=t.fixed_batches,
            probe=Probe.of(cfg),
            info=info,
            loss=cfg.loss,
            seed=cfg.seed,
            snapshot_every=s.snapshot_every,
            total_steps=s.total,
            steps_per_epoch=s.per_epoch,
            batch_size=cfg.batch_size,
            log_every=cfg.log_every,
            field_resolution=cfg.field_resolution,
            name=cfg.variant,
            _resume=(start, elapsed),  # the trainer has made and checked its folder: no user-facing emptiness check
        )
        self.t, self.writes = t, t.ranks.writes
        if norms is not None:
            self.norms.last = {"g": norms[0], "d": norms[1]}
        # rows carry the learning rates from the first step on, also of a net a step does not update
        self.norms.lr = {"g": t.opt_g.param_groups[0]["lr"], "d": t.opt_d.param_groups[0]["lr"]}
        self.ui = Progress(s.total, start, enabled=progress and t.ranks.writes, note=t.data_path.line())
        self._begin(writer, new)
        self.t_ckpt = time.perf_counter()

    # -- the loop's calls ---------------------------------------------------------------------------------
    def begin_training(self) -> None:
        """A new run records its starting point: the snapshot, quality measures and checkpoint of step 0."""
        if self.start == 0:
            self._snapshot(0)
            self.evaluate(0)
            self.checkpoint(0)

    def record(self, measured: StepMetrics) -> None:
        """The next step is done: ``measured`` is what ``train_step`` returned (on the device); the layer norms came
        from the optimisers' hook. Flush, snapshot, measure and checkpoint when due."""
        self.step_no += 1
        self._keep_row([measured.vector()], VECTOR_COLUMNS, self._empty_row(), None)
        self._after_step(self.step_no)

    def _after_step(self, step: int) -> None:
        s = self.t.schedule
        at_snap = step % s.snapshot_every == 0 or step == s.total
        if s.checkpoint_every:
            at_ckpt = step % s.checkpoint_every == 0 or step == s.total
        else:  # time-based: at a snapshot once checkpoint_seconds have passed (all ranks decide alike)
            due = at_snap and time.perf_counter() - self.t_ckpt >= self.t.cfg.checkpoint_seconds
            at_ckpt = step == s.total or (at_snap and self.t.ranks.agree(due))
        if step % self.log_every == 0 or at_snap or at_ckpt:
            self._flush()
        if at_snap:
            self._snapshot(step)
        if s.evaluates(step):
            self.evaluate(step)
        if at_ckpt:
            self.checkpoint(step)

    def stop_early(self, step: int) -> None:
        """Training stops before the last step (a signal or ``stop_after``): keep everything up to ``step``."""
        self._flush()
        if self.info[RUN_JSON.last_step] != step:
            self.checkpoint(step)

    def finish(self, status: str) -> None:
        """run.json says how training ended; no snapshot is added (a resumed run takes the ones it would have)."""
        self.info[RUN_JSON.status] = status
        self._end()

    def abort(self) -> None:
        """An exception left the loop: stop the writer (what it had queued is written) and let the error go on."""
        self.norms.stop()
        with contextlib.suppress(BaseException):  # the error that aborted training is the one to report
            if self.writer is not None:
                self.writer.close()

    # -- what gets written --------------------------------------------------------------------------------
    def _reduce(self, flat: torch.Tensor) -> torch.Tensor:
        return self.t.ranks.average(flat)

    def _write_rows(self, rows: list[dict[str, Any]]) -> None:
        """Append the rows, up to the first whose loss is NaN/inf: then the run has diverged."""
        assert self.writer is not None
        losses = (METRICS.loss_d, METRICS.loss_g)
        bad = next((i for i, r in enumerate(rows) if not all(math.isfinite(r[k]) for k in losses)), None)
        if bad is not None:
            self.writer.append_metrics(rows[: bad + 1])
            raise self.diverged(rows[bad][METRICS.step], "loss became NaN/inf")
        self.writer.append_metrics(rows)
        self.ui.update(rows[-1][METRICS.step], rows[-1])

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
            "norms_g": self.norms.last["g"],
            "norms_d": self.norms.last["d"],
        }
        self.writer.write_checkpoint(cpu_copy(state))
        self.info[RUN_JSON.last_step] = step
        self.writer.write_info(self.info)

    def diverged(self, step: int, what: str) -> TrainingDiverged:
        self.norms.stop()
        self.info.update(status="diverged", diverged_at=step)
        self.writer.write_info(self.info)
        self.writer.close()
        return TrainingDiverged(
            f"{what} at step {step}; run marked diverged, last good checkpoint (step {self.info['last_step']}) kept "
            f"in {self.run_dir}; resume it with a lower --set lr_d=... --set lr_g=..."
        )


class Progress:
    """A rich progress bar updated once per metrics block (never per step)."""

    def __init__(self, total: int, start: int, enabled: bool, note: str = ""):
        self.enabled, self.note = enabled, note
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
            if self.note:  # one line above the bar (the data path)
                self.bar.console.print(self.note, highlight=False, markup=False, soft_wrap=True)
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
