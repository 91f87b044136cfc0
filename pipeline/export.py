"""`ganviz export`: a run's numbers for other tools: TensorBoard event files and CSV.

TensorBoard gets every metric column (losses, scores, accuracy, gradient norms, learning rates, and a recorded
loop's own columns under ``loop/``) at every step,
the quality measures where the run has them, the per-layer gradient norms and the fixed-noise sample grid at every
snapshot. It is written with ``torch.utils.tensorboard``, which needs the ``tensorboard`` package (an optional
extra: ``pip install 'ganviz[tensorboard]'``).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ganviz.errors import GanvizError
from ganviz.format import METRIC_COLUMNS, SNAPSHOT
from ganviz.reader import Run
from pipeline.frames import tile, to_rgb

#: TensorBoard tags of the metric columns: grouped as TensorBoard shows them (one section per prefix).
METRIC_TAGS = {
    "loss_d": "loss/D",
    "loss_g": "loss/G",
    "d_real": "score/D(x)",
    "d_fake": "score/D(G(z))",
    "d_fake_after": "score/D(G(z)) after D's step",
    "acc_real": "accuracy/real called real",
    "acc_fake": "accuracy/generated called fake",
    "grad_norm_g": "grad_norm/G",
    "grad_norm_d": "grad_norm/D",
    "lr_g": "lr/G",
    "lr_d": "lr/D",
    "samples_per_s": "speed/samples per s",
}


#: TensorBoard section of a recorded loop's own columns (``rec.step(gp=...)``): ``loop/gp``.
EXTRA_TAG = "loop"


class ExportError(GanvizError):
    """An export that cannot be written (tensorboard missing, folder not writable)."""


def export_csv(run: Run, path: Path) -> Path:
    """metrics.jsonl as CSV, one row per step with every column, a recorded loop's own last (empty where the value
    is missing)."""
    m = run.metrics
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            columns = [*METRIC_COLUMNS, *run.extra_metrics]
            w.writerow(columns)
            for i in range(len(m.step)):
                w.writerow(
                    [
                        "" if not np.isfinite(v := float(m[c][i])) else (int(v) if c in ("step", "epoch") else v)
                        for c in columns
                    ]
                )
    except OSError as e:
        raise ExportError(f"--csv {path}: cannot write ({e.strerror})") from None
    return path


def export_tensorboard(run: Run, folder: Path) -> Path:
    """Event files of the run in ``folder`` (one TensorBoard run): scalars per step, measures, images per snapshot."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ExportError(
            "--tensorboard needs the tensorboard package: pip install 'ganviz[tensorboard]' "
            "(or: pip install tensorboard)"
        ) from None
    m = run.metrics
    try:
        folder.mkdir(parents=True, exist_ok=True)
        writer = SummaryWriter(log_dir=str(folder))
    except OSError as e:
        raise ExportError(f"--tensorboard {folder}: cannot write ({e.strerror})") from None
    with writer:
        for col, tag in [*METRIC_TAGS.items(), *((name, f"{EXTRA_TAG}/{name}") for name in run.extra_metrics)]:
            for step, value in zip(m.step.tolist(), m[col].tolist(), strict=True):
                if np.isfinite(value):
                    writer.add_scalar(tag, value, step)
        for s in run.evals.series:
            space = f" ({s.space})" if s.space else ""
            for step, value in zip(s.steps.tolist(), s.values.tolist(), strict=True):
                if np.isfinite(value):
                    writer.add_scalar(f"quality/{s.measure}{space} n={s.n_fake}", value, step)
        names = {net: run.info.get(f"layers_{net}", []) for net in ("g", "d")}
        for snap in run.iter_snapshots(keys=(SNAPSHOT.fake, SNAPSHOT.grad_norm_g, SNAPSHOT.grad_norm_d)):
            for net, norms in (("g", snap.grad_norm_g), ("d", snap.grad_norm_d)):
                for name, value in zip(names[net], norms.tolist(), strict=False):
                    if np.isfinite(value):
                        writer.add_scalar(f"layer_grad_norm_{net.upper()}/{name}", value, snap.step)
            if run.kind == "image":
                writer.add_image("samples/fixed noise", to_rgb(tile(snap.fake[:64])), snap.step, dataformats="HWC")
    return folder
