"""The Recorder: ganviz's run format for any PyTorch GAN loop, with a few added lines.

A loop hands ``rec.step(loss_d=..., ...)`` what it measured; gradient norms are taken by an optimiser step
pre-hook, so the loop calls nothing for them; G's output on a fixed batch (and, for 2-D data, D's field) is
snapshotted every ``snapshot_every`` steps. Values stay on the device and leave it in blocks; every file is
written by one background thread, atomically (ganviz/writer.py: ``RunWriter``). The built-in trainer
records through the same class (gan_train/recording.py adds checkpoints, quality measures and divergence).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import operator
import platform
import time
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_pre_hook

import gan_train
from gan_train.continuing import check_continues, continued_info
from gan_train.distributed import unwrap
from gan_train.loop_measures import LoopEvaluator, evals_info, loop_evaluator
from gan_train.losses import LOSSES
from gan_train.snapshots import (
    FixedBatches,
    LayerNorms,
    Probe,
    capture,
    fixed_batches,
    fixed_stream,
    layer_outputs,
)
from gan_train.step_values import HANDED, MAX_EXTRAS, check_scores, padded, read_step
from ganviz.errors import GanvizError, RunWarning, first_line
from ganviz.format import (
    EVALS_FILE,
    FIXED,
    FIXED_FILE,
    FORMAT_VERSION,
    METRIC_COLUMNS,
    METRICS,
    METRICS_FILE,
    RUN_FILE,
    RUN_JSON,
    SNAPSHOT_DIR,
    snapshot_name,
)
from ganviz.lock import LOCK_FILE, RunLock
from ganviz.validate import read_eval_rows, read_metrics_rows, read_run_json
from ganviz.writer import NullWriter, RunWriter, atomic_write_json, cut_back_to, describe_os_error


class StepMetrics(NamedTuple):
    """What one training step measured, each a one-element tensor still on the device: ``train_step`` returns it,
    and a loop of one's own hands the same names to ``Recorder.step``."""

    loss_d: torch.Tensor
    loss_g: torch.Tensor
    d_real: torch.Tensor
    d_fake: torch.Tensor
    d_fake_after: torch.Tensor
    acc_real: torch.Tensor
    acc_fake: torch.Tensor

    def vector(self) -> torch.Tensor:
        """The values as one tensor, in the order of the fields (one copy off the device for all of them)."""
        return torch.stack(tuple(self))


if StepMetrics._fields != HANDED:  # the metrics.jsonl columns a step fills, named once in the run format
    raise ImportError(f"StepMetrics fields {StepMetrics._fields} differ from the declared columns {HANDED}")

#: How to read D's output: a logit (a sigmoid makes it a probability), a probability, or a critic's raw value.
D_OUTPUTS = ("logit", "probability", "critic")
COLUMN = {c: i for i, c in enumerate(METRIC_COLUMNS)}
NAN = float("nan")


class RecorderError(GanvizError):
    """The Recorder was given something it cannot record; the message names the argument."""


class RecorderWarning(UserWarning):
    """Something the Recorder did that the loop's author should know, in one line (steps recorded as missing)."""


class GradNorms:
    """Per-layer gradient norms of G and D, measured on the device whenever an optimiser is about to step either
    network (a global optimiser step pre-hook), so they are the gradients that update actually applies.

    ``take()`` returns what the nets' updates since the last ``take()`` saw (the last update of each; None for
    a net not updated since) and the learning rate it stepped with; ``last`` keeps each net's latest norms for
    snapshots. An optimiser is G's or D's by its first parameter.
    """

    def __init__(self, g: nn.Module, d: nn.Module):
        self.layers = {"g": LayerNorms(g), "d": LayerNorms(d)}
        self.owner = {id(p): "g" for p in g.parameters()} | {id(p): "d" for p in d.parameters()}
        self.last = {net: torch.full((len(n.names),), NAN) for net, n in self.layers.items()}
        self.lr = {"g": NAN, "d": NAN}
        self._new: dict[str, torch.Tensor | None] = {"g": None, "d": None}
        self._of: dict[torch.optim.Optimizer, str | None] = {}
        self._handle: Any = None

    def start(self) -> None:
        if self._handle is None:
            self._handle = register_optimizer_step_pre_hook(self._before_step)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _before_step(self, opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        if opt not in self._of:
            first = next((p for group in opt.param_groups for p in group["params"]), None)
            self._of[opt] = self.owner.get(id(first))
        net = self._of[opt]
        if net is None:
            return
        norms = self.layers[net]()
        self._new[net] = self.last[net] = norms
        lr = opt.param_groups[0]["lr"]
        self.lr[net] = float(lr) if not isinstance(lr, torch.Tensor) or lr.device.type == "cpu" else NAN

    def take(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        new, self._new = self._new, {"g": None, "d": None}
        return new["g"], new["d"]


class Recorder:
    """Records a GAN training loop as a ganviz run in the new (or empty) folder ``path``.

    Use it as a context manager and call ``rec.step(...)`` once per training step (docs/record-your-gan.md):

    - ``g``, ``d``: the networks (DistributedDataParallel wrappers are unwrapped). ``real``: a batch of real
      samples as G makes them (images (N, C, H, W) in [-1, 1], or points (N, 1) / (N, 2)); the run's kind follows
      from its shape.
    - ``fixed_noise`` (G's input for every snapshot), or ``noise_dim`` (and ``n_fixed``, ``seed``) to draw it.
    - ``fixed_labels``/``real_labels``: a conditional GAN's labels; G and D are then called as ``G(z, y)``,
      ``D(x, y)``.
    - ``d_output``: ``"logit"``, ``"probability"`` or ``"critic"`` (a WGAN critic: its raw values are recorded as
      they are and run.json says so). ``loss``: the objective's name (gan_train/losses.py), for the scenes and
      for where G's loss pushes each 2-D point; by default ``bce``, or ``wgan-gp`` for a critic.
    - ``snapshot_every``, ``total_steps`` (when known), ``steps_per_epoch``, ``batch_size`` (for samples/s),
      ``log_every`` (steps per block of metrics leaving the device), ``name`` (run.json's variant).
    - ``measure``: ganviz's quality measures of G in the loop (gan_train/loop_measures.py: a toy ganviz knows, the
      ``digits``/``inception`` feature space, or ``points``: against ``measure_real`` where given), at step 0, every
      ``measure_every`` steps (default: every 10th snapshot) and at the last step, on ``measure_samples`` samples.
    - ``resume``: continue the run in ``path`` after the step the loop's own checkpoint is at: that step (an int),
      or True to take it from the first ``rec.step(step=...)``; rows and snapshots after it are dropped. A folder
      without a run starts a new one (``resume`` 0 or True).
    - Built elsewhere (the built-in trainer does): ``fixed`` (``gan_train.snapshots.fixed_batches``) instead of
      ``real`` and the noise, ``probe`` (how snapshots call G and D and read D's output) instead of ``d_output``'s
      reading, ``info``: more run.json fields, which replace the Recorder's own.

    The loop's exception marks the run ``crashed`` (``KeyboardInterrupt``: ``interrupted``) and goes on; every
    step handed over before it is on disk.
    """

    def __init__(
        self,
        path: str | Path,
        g: nn.Module,
        d: nn.Module,
        *,
        real: torch.Tensor | None = None,
        fixed_noise: torch.Tensor | None = None,
        noise_dim: int | None = None,
        n_fixed: int | None = None,
        seed: int = 0,
        fixed_labels: torch.Tensor | None = None,
        real_labels: torch.Tensor | None = None,
        d_output: str = "logit",
        loss: str | None = None,
        snapshot_every: int = 100,
        total_steps: int | None = None,
        steps_per_epoch: int | None = None,
        batch_size: int | None = None,
        log_every: int = 20,
        field_resolution: int = 64,
        name: str = "custom",
        measure: str | None = None,
        measure_real: torch.Tensor | None = None,
        measure_every: int | None = None,
        measure_samples: int = 1000,
        resume: bool | int = False,
        fixed: FixedBatches | None = None,
        probe: Probe | None = None,
        info: dict[str, Any] | None = None,
        _resume: tuple[int, float] | None = None,
    ):
        path, g, d = Path(path), unwrap(g), unwrap(d)  # snapshots call the plain modules, never DDP's wrapper
        self.continues = _resume is None and _resumes(resume, path)  # a run in the folder to continue
        new = _resume is None and not self.continues
        loss, measure_every = _checked(path, d_output, loss, snapshot_every, log_every, measure_every, new=new)
        labels = None
        if fixed is None:
            device = next(g.parameters()).device
            noise = _fixed_noise(fixed_noise, noise_dim, n_fixed, seed, real).detach().to(device)
            labels = _labelled(fixed_labels, real_labels, len(noise), real, device)
            fixed = _loop_batches(noise, real, labels, field_resolution)
        noise, kind = fixed.tensors[FIXED.noise], _kind_of(fixed.tensors[FIXED.real])
        self.probe = probe or _probe(kind, d_output, loss, labels)
        self.run_dir, self.g, self.d = path, g, d
        self.fixed, self.fixed_arrays = fixed.tensors, fixed.arrays
        self.snapshot_every, self.total_steps, self.log_every = snapshot_every, total_steps, log_every
        self.steps_per_epoch, self.batch_size = steps_per_epoch, batch_size
        self.start, self.elapsed = _resume or (0, 0.0)
        self.writes, self.step_no = True, self.start
        self.d_output, self.resume, self.measure_every = d_output, resume, measure_every
        self._recording_state()
        self.evaluator = _evaluator(measure, kind, noise, self.probe.labels, seed, measure_samples, measure_real)
        self.norms = GradNorms(g, d)
        config = {"loss": loss, "d_output": d_output, "noise_shape": list(noise.shape[1:]), "n_fixed": len(noise)}
        config |= {"seed": seed, "batch_size": batch_size, "snapshot_every": snapshot_every, "log_every": log_every}
        config |= {"field_resolution": field_resolution, "conditional": self.probe.labels is not None}
        self.info = self._described(_loop_info(name, kind, config, total_steps, steps_per_epoch), info or {})

    def _recording_state(self) -> None:
        """What changes while the Recorder records, as it is before it opens the folder."""
        self.pending: list[tuple[torch.Tensor, list[int], np.ndarray]] = []  # rows not yet off the device
        self.writer: RunWriter | NullWriter | None = None
        self._lock: RunLock | None = None
        self.ended = False
        self.snapshot_at: int | None = None  # the step of the latest snapshot taken
        self.measured_at: int | None = None  # the step of the latest measures
        self.awaiting = False  # resume=True: the step to continue after comes with the first rec.step(step=...)
        self.extras: list[str] = []  # the loop's own columns, in the order they first came

    def _described(self, loop: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
        """run.json's fields at the start: the header, the loop's description, ``info`` (the trainer's own, which
        replace the loop's), the layers and columns, and where the measures go."""
        described = {
            **run_header(str(next(self.g.parameters()).device)),
            **loop,
            **info,
            RUN_JSON.layers_g: self.norms.layers["g"].names,
            RUN_JSON.layers_d: self.norms.layers["d"].names,
            RUN_JSON.metric_columns: list(METRIC_COLUMNS),
        }
        if self.evaluator is not None:
            described.update(evals_info(self.evaluator, self.measure_every))
        return described

    # -- the context: open, close -----------------------------------------------------------------------
    def __enter__(self) -> Recorder:
        self._open()
        if self.start == 0 and not self.continues:
            self._snapshot(0)
            self._measure(0)
        return self

    def _open(self) -> None:
        """Create and lock the folder, then ``_begin`` a new run in it, or continue the run it holds."""
        if self.writer is not None or self.awaiting:
            raise RecorderError(f"Recorder {self.run_dir}: already recording; a Recorder records one run")
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self._lock = RunLock(self.run_dir)
        except OSError as e:
            raise RecorderError(describe_os_error(self.run_dir, e)) from None
        try:
            if not self.continues:
                self._begin(RunWriter(self.run_dir, save_checkpoint=torch.save), new=True)
            elif self.resume is True:  # the first rec.step says where; its updates' gradient norms count already
                self.awaiting = True
                self.norms.start()
            else:
                self._continue_after(int(self.resume))
        except BaseException:
            self._release()
            raise

    def _begin(self, writer: RunWriter | NullWriter, new: bool) -> None:
        """Write run.json (and a new run's fixed.npz and layer shapes), start the gradient-norm hook and the clock.
        The built-in trainer calls this with the folder it opened or resumed (and locked) itself."""
        if new and self.writes:
            self.info.update(self._layer_descriptions())
        writer.write_info(self.info)
        if new:
            writer.write_fixed(self.fixed_arrays)
        self.writer = writer
        now = time.perf_counter()
        self.t0, self.t_block = now - self.elapsed, now
        self.norms.start()

    def _continue_after(self, step: int) -> None:
        """Continue the run in the folder after ``step``, where the loop's own checkpoint is: check it was recorded
        alike (gan_train/continuing.py), cut it back to ``step`` and go on from there."""
        self.awaiting = False
        old = read_run_json(self.run_dir)
        check_continues(self.run_dir, old, self.info, self.fixed_arrays)
        with warnings.catch_warnings():  # a last line cut short by the kill is expected here; it is dropped
            warnings.simplefilter("ignore", RunWarning)
            lost, elapsed = cut_back_to(self.run_dir, step, self._blank_row)
        if lost:
            warnings.warn(
                f"{self.run_dir}: steps {step - lost + 1}-{step} were handed over but not on disk when the loop "
                "stopped; recorded as missing (call rec.flush() before saving a checkpoint)",
                RecorderWarning,
                stacklevel=3,
            )
        self.extras = [n for n in old.get(RUN_JSON.extra_metrics) or [] if isinstance(n, str)]
        self.info = continued_info(old, self.info, step, lost)
        self.start = self.step_no = step
        self.elapsed = elapsed
        self.snapshot_at = step if (self.run_dir / SNAPSHOT_DIR / snapshot_name(step)).is_file() else None
        if any(r["step"] == step for r in read_eval_rows(self.run_dir / EVALS_FILE)):
            self.measured_at = step
        writer = RunWriter(self.run_dir, save_checkpoint=torch.save)
        if not (self.run_dir / FIXED_FILE).is_file():
            writer.write_fixed(self.fixed_arrays)
        self._begin(writer, new=False)

    def _blank_row(self, step: int) -> dict[str, Any]:
        """metrics.jsonl's row of a step whose values were lost: every value missing."""
        row: dict[str, Any] = dict.fromkeys([*METRIC_COLUMNS, *self.extras])
        row[METRICS.step], row[METRICS.epoch] = step, self._epoch(step)
        return row

    def _last_recorded(self) -> int:
        """The last step in the folder's metrics.jsonl (0 for none)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RunWarning)
            rows = read_metrics_rows(self.run_dir / METRICS_FILE)
        return int(rows[-1][METRICS.step]) if rows else 0

    def _layer_descriptions(self) -> dict[str, list[Any]]:
        """run.json's ``layer_shapes_*`` and ``layer_types_*``: one pass of one fixed noise vector through G and of
        its output through D, in eval mode (no statistics change, no random numbers drawn)."""
        p, z = self.probe, self.fixed[FIXED.noise][:1]
        lg, ld = self.norms.layers["g"], self.norms.layers["d"]
        with torch.no_grad():
            shapes_g, sample = layer_outputs(self.g, lg.modules, z, *_first(p.labels))
            shapes_d, _ = layer_outputs(self.d, ld.modules, sample, *_first(p.labels))
        return {
            RUN_JSON.layer_shapes_g: shapes_g,
            RUN_JSON.layer_shapes_d: shapes_d,
            RUN_JSON.layer_types_g: [type(m).__name__ for m in lg.modules],
            RUN_JSON.layer_types_d: [type(m).__name__ for m in ld.modules],
        }

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        """A loop that ended records its last step's snapshot and ``finished``; one that raised keeps every step
        handed over and is marked ``interrupted`` (Ctrl-C) or ``crashed``, and its exception goes on."""
        if exc is None:
            try:
                self.close()
            except BaseException as e:  # a last write failed (a full disk): the run says so, and the error goes on
                self._stop_on(e)
                raise
        else:
            self._stop_on(exc)

    def _stop_on(self, exc: BaseException) -> None:
        """Keep what can be kept after ``exc`` and mark the run ``interrupted`` (Ctrl-C) or ``crashed``; never
        raises, so ``exc`` is the error the caller sees. run.json is written last, on this thread, once the writer
        has written (or failed to write) everything queued before it."""
        with contextlib.suppress(Exception):
            self._flush()
        with contextlib.suppress(Exception):
            if self.writer is not None:
                self.writer.close()
        self.info[RUN_JSON.status] = "interrupted" if isinstance(exc, KeyboardInterrupt) else "crashed"
        if not isinstance(exc, KeyboardInterrupt):
            self.info[RUN_JSON.error] = first_line(exc)
        self.info[RUN_JSON.finished] = dt.datetime.now().astimezone().isoformat()
        with contextlib.suppress(Exception):
            if self.writes and self.writer is not None:
                atomic_write_json(self.run_dir / RUN_FILE, self.info)
        self._release()

    def close(self, status: str = "finished") -> None:
        """The loop is done: the last metrics, the last step's snapshot and measures, ``status`` in run.json."""
        if self.awaiting:  # resumed with nothing left to do: the run goes on from its last recorded step
            self._continue_after(self._last_recorded())
        self._flush()
        if self.snapshot_at != self.step_no:
            self._snapshot(self.step_no)
        if self.measured_at != self.step_no:
            self._measure(self.step_no)
        if self.total_steps is None:  # the loop did not say: it ran to here (a continued run too)
            self.info[RUN_JSON.total_steps] = self.step_no
        self.info[RUN_JSON.status] = status
        self._end()

    def _end(self) -> None:
        """Write run.json, wait for every write, release the hook and the folder."""
        try:
            if self.writer is not None:
                self.info[RUN_JSON.finished] = dt.datetime.now().astimezone().isoformat()
                self.writer.write_info(self.info)
                self.writer.close()
        finally:
            self._release()

    def _release(self) -> None:
        """Stop recording: the gradient-norm hook is removed and the folder's lock released (both idempotent)."""
        self.norms.stop()
        self.ended = True
        if self._lock is not None:
            self._lock.release()

    # -- the loop's calls -------------------------------------------------------------------------------
    def step(self, *, step: int | None = None, epoch: int | None = None, **values: Any) -> None:
        """One training step is done: keep what the loop measured with the gradient norms of this step's updates;
        write a block, a snapshot or the measures when due.

        ``values``: ``loss_d``, ``loss_g``, ``d_real``, ``d_fake``, ``d_fake_after``, ``acc_real``, ``acc_fake``
        (what is not given is missing), and scalars of the loop's own under names of its choosing (extra columns).
        Each is a number or a tensor of one element; ``d_real``, ``d_fake`` and ``d_fake_after`` may also be D's
        per-sample outputs, read as ``d_output`` says (gan_train/step_values.py). ``step``: the step's 1-based
        number, optional: it must be the one after the last recorded (after a ``resume=True``, the first one says
        where the run continues). ``epoch``: by default from ``steps_per_epoch``."""
        if self.ended or (self.writer is None and not self.awaiting):
            raise RecorderError("Recorder.step: not recording; use it as `with Recorder(...) as rec:`")
        if step is not None:
            step = _step_number(step)
        if self.awaiting:
            if step is None:
                raise RecorderError(
                    "Recorder(resume=True): the first rec.step after a resume needs step= (the step just done, "
                    "1-based), or pass resume=N, the step your checkpoint holds"
                )
            self._continue_after(step - 1)
        if step is not None and step != self.step_no + 1:
            raise RecorderError(
                f"Recorder.step(step={step}): expected step {self.step_no + 1}, the one after the last recorded; "
                "hand every step once, 1-based (a loop resumed from its checkpoint: Recorder(resume=...))"
            )
        row, extras = read_step(values, self.d_output)
        self._declare(extras)
        self.step_no += 1
        self._keep(row, epoch)
        self._after_step(self.step_no)

    def flush(self) -> None:
        """Write every step handed over so far and wait until it is on disk. Call it just before the loop saves its
        own checkpoint: a loop killed later then resumes with every row up to that checkpoint."""
        if self.writer is None:
            return
        self._flush()
        self.writer.flush()

    def _declare(self, names: list[str]) -> None:
        """New columns of the loop's own: run.json lists them before the first row that holds them is written."""
        new = [n for n in names if n not in self.extras]
        if not new:
            return
        if len(self.extras) + len(new) > MAX_EXTRAS:
            raise RecorderError(f"Recorder.step({new[0]}=...): at most {MAX_EXTRAS} columns of your own")
        self.extras += new
        self.info[RUN_JSON.extra_metrics] = list(self.extras)
        self.info[RUN_JSON.metric_columns] = [*METRIC_COLUMNS, *self.extras]
        if self.writer is not None:
            self.writer.write_info(self.info)

    def _keep(self, values: dict[str, torch.Tensor | float | None], epoch: int | None = None) -> None:
        """This step's row: tensors stay on the device (no host sync), numbers stay on the host."""
        host = self._empty_row()
        on_device: list[torch.Tensor] = []
        where: list[int] = []
        for name, v in values.items():
            i = COLUMN[name] if name in COLUMN else len(METRIC_COLUMNS) + self.extras.index(name)
            if isinstance(v, torch.Tensor):
                on_device.append(v)
                where.append(i)
            elif v is not None:
                host[i] = v
        self._keep_row(on_device, where, host, epoch)

    def _empty_row(self) -> np.ndarray:
        """A row of metrics.jsonl in column order (the loop's own columns last), every value missing."""
        return np.full(len(METRIC_COLUMNS) + len(self.extras), NAN)

    def _keep_row(self, on_device: list[torch.Tensor], where: list[int], host: np.ndarray, epoch: int | None) -> None:
        """Add this step's gradient norms, learning rates and epoch to a row and keep it until the next flush:
        ``on_device`` are 1-D tensors whose values go to the columns ``where``, ``host`` the row's other values."""
        gn_g, gn_d = self.norms.take()
        where = list(where)
        for name, norms in ((METRICS.grad_norm_g, gn_g), (METRICS.grad_norm_d, gn_d)):
            if norms is not None:
                on_device.append(norms.square().sum().sqrt().reshape(1))
                where.append(COLUMN[name])
        host[COLUMN[METRICS.lr_g]], host[COLUMN[METRICS.lr_d]] = self.norms.lr["g"], self.norms.lr["d"]
        host[COLUMN[METRICS.epoch]] = epoch if epoch is not None else self._epoch(self.step_no)
        device = self.fixed[FIXED.noise].device
        vec = torch.cat([v.to(device) for v in on_device]) if on_device else torch.empty(0, device=device)
        self.pending.append((vec, where, host))

    def _epoch(self, step: int) -> int:
        return (step - 1) // self.steps_per_epoch if self.steps_per_epoch and step else 0

    def _after_step(self, step: int) -> None:
        at_snap = step % self.snapshot_every == 0 or step == self.total_steps
        if step % self.log_every == 0 or at_snap:
            self._flush()
        if at_snap:
            self._snapshot(step)
        if self.evaluator is not None and (step % self.measure_every == 0 or step == self.total_steps):
            self._measure(step)

    # -- what gets written --------------------------------------------------------------------------------
    def _flush(self) -> None:
        """Bring the pending rows to the host (one sync per block) and append them to metrics.jsonl."""
        if not self.pending or self.writer is None:
            return
        n, last = len(self.pending), self.step_no
        flat = self._reduce(torch.cat([v for v, _, _ in self.pending])).cpu().numpy().astype(np.float64)
        now = time.perf_counter()
        dt_step = (now - self.t_block) / n
        columns = [*METRIC_COLUMNS, *self.extras]
        rows, i = [], 0
        for k, (vec, where, host) in enumerate(self.pending):
            host = padded(host, len(columns))
            host[where] = flat[i : i + len(vec)]
            i += len(vec)
            row: dict[str, Any] = dict(zip(columns, host.tolist(), strict=True))
            row[METRICS.step], row[METRICS.epoch] = last - n + 1 + k, int(row[METRICS.epoch])
            row[METRICS.time] = round(now - self.t0 - (n - 1 - k) * dt_step, 4)
            row[METRICS.samples_per_s] = (
                round(self.batch_size / dt_step, 2) if self.batch_size and dt_step > 0 else None
            )
            rows.append(row)
        self.pending, self.t_block = [], now
        self._write_rows(rows)

    def _reduce(self, flat: torch.Tensor) -> torch.Tensor:
        """A block of values before it leaves the device (several processes average theirs here)."""
        return flat

    def _write_rows(self, rows: list[dict[str, Any]]) -> None:
        """Append the rows; then stop at a score that is no probability of real (step_values.check_scores)."""
        assert self.writer is not None
        self.writer.append_metrics(rows)
        check_scores(rows, self.d_output)

    def _measure(self, step: int) -> None:
        """How good G is at ``step`` (``measure=``), appended to evals.jsonl: G's samples made now, measured on the
        writer's thread (gan_train/loop_measures.py)."""
        ev = self.evaluator
        if ev is not None and self.writes and self.writer is not None:
            fake = ev.generate(self.g)  # G as it is at this step; the measures of it on the writer's thread
            self.writer.append_evals_from(lambda: ev.rows(fake, step))
            self.measured_at = step

    def _snapshot(self, step: int) -> None:
        """G's output on the fixed noise, D's scores, the latest layer norms (and D's field for toys) at ``step``."""
        self.snapshot_at = step
        if self.writes and self.writer is not None:
            last = self.norms.last
            arrays = capture(self.g, self.d, self.probe, self.fixed, last["g"], last["d"], step, self._epoch(step))
            self.writer.write_snapshot(step, arrays)


def run_header(device: str) -> dict[str, Any]:
    """The fields run.json starts with for every run, recorded or trained: format, versions, device, start, status."""
    return {
        RUN_JSON.format_version: FORMAT_VERSION,
        RUN_JSON.device: device,
        RUN_JSON.torch_version: torch.__version__,
        RUN_JSON.ganviz_version: gan_train.__version__,
        RUN_JSON.python_version: platform.python_version(),
        RUN_JSON.started: dt.datetime.now().astimezone().isoformat(),
        RUN_JSON.status: "running",
    }


def _loop_info(
    name: str, kind: str, config: dict[str, Any], total_steps: int | None, steps_per_epoch: int | None
) -> dict[str, Any]:
    """run.json's description of a recorded loop (the trainer's own ``info`` replaces it field by field)."""
    counts = {RUN_JSON.total_steps: total_steps, RUN_JSON.steps_per_epoch: steps_per_epoch}
    return {
        RUN_JSON.variant: name,
        RUN_JSON.kind: kind,
        RUN_JSON.config: config,
        RUN_JSON.seed: config["seed"],
        RUN_JSON.d_scores: "critic" if config["d_output"] == "critic" else "probability",
        RUN_JSON.snapshot_every: config["snapshot_every"],
        **{k: v for k, v in counts.items() if v is not None},
    }


def _evaluator(
    measure: str | None,
    kind: str,
    noise: torch.Tensor,
    labels: torch.Tensor | None,
    seed: int,
    samples: int,
    real: torch.Tensor | None,
) -> LoopEvaluator | None:
    """The quality measures ``measure`` names (gan_train/loop_measures.py), or None without one."""
    return None if measure is None else loop_evaluator(measure, kind, noise, labels, seed, samples, real)


def _resumes(resume: bool | int, path: Path) -> bool:
    """Whether the Recorder continues the run in ``path`` (``resume`` given and a run there); a resume step other
    than 0 needs that run."""
    if not isinstance(resume, bool) and not (isinstance(resume, int) and resume >= 0):
        raise RecorderError(f"Recorder resume={resume!r}: True, False, or the step your checkpoint holds (0 or more)")
    if resume is False:
        return False
    there = (path / RUN_FILE).is_file()
    if not there and resume is not True and resume > 0:
        raise RecorderError(
            f"Recorder resume={resume}: {path} holds no run to continue (no {RUN_FILE}); record into it from step 0, "
            "or name the folder the run is in"
        )
    return there


def _step_number(step: object) -> int:
    try:
        n = operator.index(step)  # type: ignore[arg-type]
    except TypeError:
        n = -1
    if isinstance(step, bool) or n < 1:
        raise RecorderError(f"Recorder.step(step={step!r}): the step just done, a whole number from 1")
    return n


def _checked(
    path: Path,
    d_output: str,
    loss: str | None,
    snapshot_every: int,
    log_every: int,
    measure_every: int | None,
    new: bool,
) -> tuple[str, int]:
    """The Recorder's arguments checked, each refusal naming the argument; returns the loss's name and the steps
    between measures (default: every 10th snapshot)."""
    if new and path.exists() and (not path.is_dir() or any(p.name != LOCK_FILE for p in path.iterdir())):
        raise RecorderError(f"Recorder path {path}: exists and is not an empty folder; choose a new folder")
    if d_output not in D_OUTPUTS:
        raise RecorderError(f"Recorder d_output={d_output!r}: use one of {', '.join(D_OUTPUTS)}")
    loss = loss or ("wgan-gp" if d_output == "critic" else "bce")
    if loss not in LOSSES:
        raise RecorderError(f"Recorder loss={loss!r}: use one of {', '.join(LOSSES)}")
    if measure_every is None and isinstance(snapshot_every, int):
        measure_every = 10 * snapshot_every
    for arg, value in (("snapshot_every", snapshot_every), ("log_every", log_every), ("measure_every", measure_every)):
        if not isinstance(value, int) or value < 1:
            raise RecorderError(f"Recorder {arg}={value!r}: must be a whole number of steps, at least 1")
    return loss, measure_every  # type: ignore[return-value]  (checked above)


def _fixed_noise(
    fixed_noise: torch.Tensor | None, noise_dim: int | None, n_fixed: int | None, seed: int, real: torch.Tensor | None
) -> torch.Tensor:
    """G's input for every snapshot: as given, or ``n_fixed`` vectors of ``noise_dim`` from the fixed stream."""
    if real is None:
        raise RecorderError("Recorder: give real (a batch of real samples as G makes them)")
    if fixed_noise is not None:
        return fixed_noise
    if noise_dim is None:
        raise RecorderError("Recorder: give fixed_noise (G's input for every snapshot) or noise_dim to draw it")
    n = n_fixed or (64 if _kind_of(real) == "image" else 512)
    return torch.randn(n, noise_dim, generator=fixed_stream(seed))


def _labelled(
    fixed_labels: torch.Tensor | None,
    real_labels: torch.Tensor | None,
    n: int,
    real: torch.Tensor,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """A conditional GAN's labels (for the fixed noise, for the real batch) on the device; None for a plain GAN."""
    labels = _labels("fixed_labels", fixed_labels, n, device)
    real_labels = _labels("real_labels", real_labels, len(real[:n]), device)
    if (labels is None) != (real_labels is None):
        raise RecorderError(
            "Recorder: a conditional GAN needs both fixed_labels (for G's fixed noise) and real_labels (for D on "
            "the real batch)"
        )
    return None if labels is None or real_labels is None else (labels, real_labels)


def _loop_batches(
    noise: torch.Tensor,
    real: torch.Tensor,
    labels: tuple[torch.Tensor, torch.Tensor] | None,
    field_resolution: int,
) -> FixedBatches:
    """A loop's fixed batches: its noise and the first ``len(noise)`` real samples (images as uint8, channels last)."""
    real = real.detach()[: len(noise)].to(noise.device)
    if _kind_of(real) == "image":
        real_array = ((real.float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    else:
        real_array = real.float().cpu().numpy()
    toy_data = None if _kind_of(real) == "image" else real_array
    return fixed_batches(noise, real_array, real, toy_data=toy_data, field_resolution=field_resolution, labels=labels)


def _probe(kind: str, d_output: str, loss: str, labels: tuple[torch.Tensor, torch.Tensor] | None) -> Probe:
    """How snapshots read D's output of the kind ``d_output`` says, and where ``loss`` pushes G's points."""
    score = {"logit": torch.sigmoid, "probability": lambda out: out, "critic": lambda out: out}[d_output]
    g_loss = LOSSES[loss].g_loss
    to_raw = (lambda out: out.clamp(1e-6, 1 - 1e-6).logit()) if d_output == "probability" else (lambda out: out)
    return Probe(
        kind, lambda out: score(out.float()), lambda out: g_loss(to_raw(out.float())), *(labels or (None, None))
    )


def _kind_of(real: torch.Tensor) -> str:
    if isinstance(real, torch.Tensor) and real.dim() == 4 and real.shape[1] in (1, 3):
        return "image"
    if isinstance(real, torch.Tensor) and real.dim() == 2 and real.shape[1] in (1, 2):
        return "toy1d" if real.shape[1] == 1 else "toy2d"
    shape = tuple(real.shape) if isinstance(real, torch.Tensor) else type(real).__name__
    raise RecorderError(
        f"Recorder real: expected a tensor of images (N, C, H, W) with C 1 or 3 in [-1, 1], or of points (N, 1) or "
        f"(N, 2); got {shape}"
    )


def _labels(arg: str, labels: torch.Tensor | None, n: int, device: torch.device) -> torch.Tensor | None:
    if labels is None:
        return None
    if not isinstance(labels, torch.Tensor) or labels.shape != (n,) or labels.is_floating_point():
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise RecorderError(f"Recorder {arg}: expected {n} integer labels, one per fixed sample; got {shape}")
    return labels.detach().to(device)


def _first(labels: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
    return () if labels is None else (labels[:1],)


__all__ = ["HANDED", "D_OUTPUTS", "Recorder", "RecorderError", "RecorderWarning", "StepMetrics"]
