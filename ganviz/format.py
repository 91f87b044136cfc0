"""The run format, declared once: file names, run.json fields, metric columns, fixed and snapshot arrays.

Everything that writes a run (the trainer through ``capture`` and ``RunWriter``, the test suite's designed runs,
the pipeline benchmark's synthetic run) and everything that reads one (``ganviz.reader``, plots, GIFs, scenes)
names a field through these declarations, and ``tests/test_run_format.py`` checks them against
docs/run-format.md and against what ``capture()`` writes. Plain Python: no numpy, no torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: 2: quality measures (evals.jsonl, run.json "evals"); 3: d_scores (a critic's raw values), conditional labels,
#: status crashed. Readers read every version up to this one.
FORMAT_VERSION = 3
RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
EVALS_FILE = "evals.jsonl"
FIXED_FILE = "fixed.npz"
SNAPSHOT_DIR = "snapshots"
CHECKPOINT_FILE = "checkpoint.pt"
DEFAULT_ROOT = Path("outputs") / "runs"

_SNAPSHOT_RE = re.compile(r"^step_(\d{8})\.npz$")


def snapshot_name(step: int) -> str:
    """snapshots/step_XXXXXXXX.npz: the step zero-padded to 8 digits, so names sort by step."""
    return f"step_{step:08d}.npz"


def snapshot_step(name: str) -> int | None:
    """The step a snapshot file name stands for, or None for any other file."""
    m = _SNAPSHOT_RE.match(name)
    return int(m.group(1)) if m else None


#: Datasets of handwritten digits (run.json config ``dataset``): their runs are measured in the digits feature space,
#: whose classifier also says which digits G draws (evals.jsonl measure ``classes``).
DIGIT_DATASETS = ("digits", "mnist")

#: How messages name a run of each kind ("needs a 2-D toy run, but X is an image run").
KIND_NAMES = {"image": "an image run", "toy2d": "a 2-D toy run", "toy1d": "a 1-D toy run"}


@dataclass(frozen=True)
class Field:
    """One named thing in a run file: ``layout`` is its type or array shape and dtype, ``toys`` marks the ones
    only 2-D and 1-D toy runs have, ``conditional`` the ones only conditional GANs' runs have."""

    name: str
    layout: str
    meaning: str
    toys: bool = False
    conditional: bool = False


class Fields(tuple):
    """The fields of one file, in order; ``FIXED.noise == "noise"``, so code names a field by attribute."""

    def __new__(cls, *fields: Field) -> Fields:
        return super().__new__(cls, fields)

    def __getattr__(self, name: str) -> str:
        for f in self:
            if f.name == name:
                return f.name
        raise AttributeError(f"no field {name!r} in this file of the run format")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self)

    def for_kind(self, kind: str, conditional: bool = False) -> tuple[str, ...]:
        """The names a run of ``kind`` ('image', 'toy2d', 'toy1d') has (``conditional``: of a conditional GAN)."""
        return tuple(f.name for f in self if (kind != "image" or not f.toys) and (conditional or not f.conditional))


RUN_JSON = Fields(
    Field("format_version", "int", "the run format's version; a reader refuses versions newer than it knows"),
    Field("variant", "str", "the variant the config started from"),
    Field("kind", "str", "'image', 'toy2d' or 'toy1d': decides which plots and scenes apply"),
    Field("config", "object", "every field of gan_train.config.Config, as resolved (a Recorder: its settings)"),
    Field("d_scores", "str", "what D's scores (d_real, d_fake, field) hold: 'probability' of real, or 'critic' values"),
    Field("seed", "int", "the seed"),
    Field("device", "str", "device used (cpu, cuda:0, ...)"),
    Field("amp", "object", "{setting, used, reason}: bf16 autocast or fp32 (off), and why (gan_train/amp.py)"),
    Field("torch_version", "str", "versions that wrote the run"),
    Field("ganviz_version", "str", "versions that wrote the run"),
    Field("python_version", "str", "versions that wrote the run"),
    Field("started", "str", "ISO-8601 time the run started"),
    Field("finished", "str", "ISO-8601 time it last stopped"),
    Field("status", "str", "running, finished, interrupted, stopped, diverged or crashed"),
    Field("error", "str", "crashed: the exception that ended the recorded loop, in one line"),
    Field("diverged_at", "int", "step whose loss or weights became NaN/inf, while the run stands diverged"),
    Field("total_steps", "int", "the schedule"),
    Field("steps_per_epoch", "int", "the schedule"),
    Field("snapshot_every", "int", "the schedule"),
    Field("checkpoint_every", "int", "checkpoint cadence in steps (0: by checkpoint_seconds)"),
    Field("checkpoint_seconds", "float", "checkpoint cadence in training seconds"),
    Field("dataset", "object", "{source, size, skipped}"),
    Field("data", "object", "{path, bytes, budget}: the batches came from memory on the device or streamed"),
    Field("layers_g", "list", "G's layers whose gradient norms snapshots record, in forward order"),
    Field("layers_d", "list", "D's layers, likewise"),
    Field("layer_shapes_g", "list", "output shape of each of layers_g for one sample, e.g. [64, 7, 7]"),
    Field("layer_shapes_d", "list", "output shape of each of layers_d for one sample"),
    Field("layer_types_g", "list", "module class of each of layers_g, e.g. 'ConvTranspose2d'"),
    Field("layer_types_d", "list", "module class of each of layers_d"),
    Field("last_step", "int", "step of the latest checkpoint"),
    Field("resumed", "list", "one {at_step, time, status} per resume that trained"),
    Field("metric_columns", "list", "the columns of metrics.jsonl"),
    Field("extra_metrics", "list", "a recorded loop's own metrics.jsonl columns (Recorder.step's other names)"),
    Field("world_size", "int", "processes that trained the run (only under torchrun)"),
    Field("evals", "object", "the quality measures: {file, every, samples, space, measures} (format 2)"),
)

#: Python types of the run.json fields readers rely on; a damaged file fails with a RunError when it is read.
RUN_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    f.name: {"int": int, "float": (int, float), "str": str, "object": dict, "list": list}[f.layout] for f in RUN_JSON
}

METRICS = Fields(
    Field("step", "int", "step number, 1-based: the s-th batch"),
    Field("epoch", "int", "the epoch it belongs to (0-based)"),
    Field("loss_d", "float", "D's loss as optimised"),
    Field("loss_g", "float", "G's loss as optimised"),
    Field("d_real", "float", "mean D(x) on the real batch"),
    Field("d_fake", "float", "mean D(G(z)) in the D step, before D's update"),
    Field("d_fake_after", "float", "mean D(G(z)) in the G step, after D's update"),
    Field("acc_real", "float", "fraction of real samples D calls real"),
    Field("acc_fake", "float", "fraction of generated samples D calls fake"),
    Field("grad_norm_g", "float", "total L2 norm of G's gradients at this step"),
    Field("grad_norm_d", "float", "total L2 norm of D's gradients at this step (null when D was not updated)"),
    Field("lr_g", "float", "G's learning rate"),
    Field("lr_d", "float", "D's learning rate"),
    Field("time", "float", "seconds since the run started (continues across resumes)"),
    Field("samples_per_s", "float", "training throughput"),
)
#: Columns of metrics.jsonl, in order. Every row has all of them.
METRIC_COLUMNS = METRICS.names

EVALS = Fields(
    Field("step", "int", "the step G was measured at (0: before training)"),
    Field("measure", "str", "which measure (see the table below)"),
    Field("value", "float", "its value (null if it could not be computed)"),
    Field("space", "str", "images: the feature space (digits, inception); null for toys"),
    Field("n_fake", "int", "generated samples measured"),
    Field("n_real", "int", "real samples compared against (null when against the exact distribution)"),
    Field("std", "float", "kid: the std over its subsets"),
    Field("floor", "float", "sliced_w1: the same distance between two real samples of the same size (mean)"),
    Field("floor_std", "float", "sliced_w1: the floor's std over its splits"),
    Field("counts", "list", "modes_captured: samples per mode; classes: generated samples per digit"),
    Field("off", "int", "modes_captured: samples within 3 std of no mode"),
    Field("recognised", "list", "classes: generated samples recognised as each digit"),
    Field("unrecognised", "int", "classes: generated samples recognised as no digit"),
    Field("confidence", "float", "classes: the classifier's confidence a recognised sample needs"),
    Field("kl", "float", "classes: KL divergence (nats) of G's digit histogram from the real data's (null: infinite)"),
    Field("k", "int", "precision, recall: the k of the k-nearest-neighbour manifolds"),
    Field("reference", "str", "w1, ks: the exact distribution compared against"),
)
#: The fields every row of evals.jsonl has; the others belong to some measures only.
EVAL_REQUIRED = EVALS.names[:6]

FIXED = Fields(
    Field("noise", "(N, noise_dim) float32", "the fixed noise batch"),
    Field("real", "(N, H, W, C) uint8 or (N, D) float32", "a fixed batch of real samples, in the layout of fake"),
    Field(
        "field_extent",
        "(4,) or (2,) float32",
        "[xmin, xmax, ymin, ymax] (2-D) or [xmin, xmax] (1-D) of D's field",
        toys=True,
    ),
    Field(
        "field_points", "(R*R, 2) or (R, 1) float32", "where D's field is evaluated (row-major, y ascending)", toys=True
    ),
    Field("grid_noise", "(256, noise_dim) float32", "a 16x16 grid over the first two noise dims (others 0)", toys=True),
    Field("labels", "(N,) int64", "a conditional GAN's labels for the fixed noise", conditional=True),
    Field("real_labels", "(N,) int64", "a conditional GAN's labels of the fixed real batch", conditional=True),
)

SNAPSHOT = Fields(
    Field("step", "() int64", "when"),
    Field("epoch", "() int64", "when"),
    Field("fake", "(N, H, W, C) uint8 or (N, D) float32", "G's output on fixed.npz:noise"),
    Field("d_fake", "(N,) float32", "D's score for each fixed fake sample"),
    Field("d_real", "(N,) float32", "D's score for each fixed real sample"),
    Field("grad_norm_g", "(L_G,) float32", "per-layer gradient norms of G (layers_g order; NaN at step 0)"),
    Field("grad_norm_d", "(L_D,) float32", "per-layer gradient norms of D (layers_d order; NaN at step 0)"),
    Field("field", "(R, R) or (R,) float32", "D's score on field_points (row 0 = lowest y)", toys=True),
    Field("grid_fake", "(256, D) float32", "G's image of grid_noise", toys=True),
    Field(
        "fake_grad",
        "(N, D) float32",
        "-dL_G/dx for each fixed fake sample x, through D only: where G's loss pushes each point",
        toys=True,
    ),
    Field("labels", "(N,) int64", "a conditional GAN's labels G drew fake with", conditional=True),
)
#: Arrays every snapshot has and readers rely on; a file without them counts as damaged.
SNAPSHOT_REQUIRED = (SNAPSHOT.fake, SNAPSHOT.grad_norm_g, SNAPSHOT.grad_norm_d)
