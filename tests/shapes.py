"""Runs of every shape a user can record, for the property test that every scene draws or refuses each of them.

A *shape* says how long a run is, where its snapshots are, which metric columns it has and what odd values they
hold, what D returns, whether the GAN is conditional and whether run.json is the Recorder's (a loop of one's own)
or the trainer's. ``make_shaped_run`` writes one: a designed run (tests/designed.py) reshaped through the run
format's own writer, in milliseconds. Content is closed-form as in designed runs; what varies is the shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from designed import cover, designed_snapshot, make_designed_run
from hypothesis import strategies as st

from gan_train.recorder import HANDED  # the columns a loop hands over, as the Recorder names them
from ganviz.format import FIXED, METRICS, RUN_JSON, SNAPSHOT
from ganviz.reader import Run
from ganviz.writer import RunWriter, atomic_write_json

KINDS = ("image", "toy2d", "toy1d")
#: what a metric column may hold: its designed values, one value throughout, nothing (a loop that did not hand it
#: over), some rows missing (NaN or inf: the writer records both as null), nothing in the first fifth of the rows (a
#: loop that hands it over after a warm-up), or values far out of any range
COLUMN_MODES = ("normal", "constant", "missing", "holes", "late", "huge")
#: what G's samples in the snapshots may be: designed, all one sample, or (toys) NaN/inf at one snapshot
SAMPLE_MODES = ("normal", "constant", "nan", "inf")


@dataclass(frozen=True)
class Shape:
    """How a run is shaped. ``snapshots``: the snapshot steps (any subset of 0..steps, at least one)."""

    kind: str = "image"
    steps: int = 64
    snapshots: tuple[int, ...] = tuple(range(0, 65, 8))
    columns: dict[str, str] = field(default_factory=dict)  # column -> COLUMN_MODES entry (default normal)
    samples: str = "normal"
    scores: str = "normal"  # D's scores, its field and the gradient norms at the middle snapshot: or all NaN, or inf
    critic: bool = False
    conditional: bool = False
    recorded: bool = True  # run.json as the Recorder writes it (else as the trainer does)
    total_known: bool = True  # the Recorder was told total_steps
    measured: bool = False  # quality measures (evals.jsonl), as the trainer records them

    def describe(self) -> str:
        odd = {k: v for k, v in self.columns.items() if v != "normal"}
        snaps = self.snapshots if len(self.snapshots) <= 6 else (*self.snapshots[:3], "...", *self.snapshots[-2:])
        return (
            f"{self.kind} run of {self.steps} steps, {len(self.snapshots)} snapshots at {snaps}, columns {odd}, "
            f"samples {self.samples}, scores {self.scores}, critic={self.critic}, conditional={self.conditional}, "
            f"recorded={self.recorded}, total_known={self.total_known}, measured={self.measured}"
        )


def regular(steps: int, every: int) -> tuple[int, ...]:
    """The Recorder's schedule: step 0, every ``every`` steps and the last."""
    return tuple(sorted({*range(0, steps + 1, every), steps}))


@st.composite
def shapes(draw: st.DrawFn, kinds: tuple[str, ...] = KINDS) -> Shape:
    """Any shape a recorded or trained run can have."""
    kind = draw(st.sampled_from(kinds))
    steps = draw(st.one_of(st.integers(1, 80), st.integers(81, 600), st.integers(601, 4000)))
    if draw(st.booleans()):
        snaps = regular(steps, draw(st.integers(1, steps)))
        snaps = snaps if len(snaps) <= 300 else regular(steps, max(1, steps // 300))
    else:
        chosen = draw(st.lists(st.integers(0, steps), min_size=1, max_size=min(120, steps + 1), unique=True))
        snaps = tuple(sorted(chosen))
    if len(snaps) > 1 and draw(st.booleans()):  # the first or the last one missing (deleted, never written)
        snaps = snaps[1:] if draw(st.booleans()) else snaps[:-1]
    columns = draw(st.dictionaries(st.sampled_from(HANDED), st.sampled_from(COLUMN_MODES), max_size=4))
    samples = draw(st.sampled_from(SAMPLE_MODES if kind != "image" else SAMPLE_MODES[:2]))
    return Shape(
        kind=kind,
        steps=steps,
        snapshots=snaps,
        columns=columns,
        samples=samples,
        scores=draw(st.sampled_from(("normal", "normal", "nan", "inf"))),
        critic=draw(st.sampled_from((False, False, False, True))),  # most scenes refuse a critic: cheap, rarer
        conditional=draw(st.booleans()),
        recorded=draw(st.booleans()),
        total_known=draw(st.booleans()),
        measured=kind != "toy1d" and draw(st.booleans()),
    )


def make_shaped_run(path: Path, shape: Shape) -> Path:
    """Write a run of ``shape`` to ``path`` and return it."""
    n = 16 if shape.kind == "image" else 64
    every = max(1, shape.steps)  # the designed run's own snapshots (0 and the last) are replaced below
    make_designed_run(
        path,
        shape.kind,
        total_steps=shape.steps,
        snapshot_every=every,
        n=n,
        loss="wgan-gp" if shape.critic else "bce",
        modes=cover if shape.measured else None,
        eval_every=max(1, shape.steps // 3),
        field_resolution=16,
    )
    run = Run.load(path)
    start, end = run.snapshot(0), run.snapshot(shape.steps)
    fixed = dict(np.load(path / "fixed.npz"))
    labels = np.arange(n, dtype=np.int64) % 10 if shape.conditional else None
    if labels is not None:
        fixed[FIXED.labels], fixed[FIXED.real_labels] = labels, labels[::-1].copy()
    for f in (path / "snapshots").iterdir():
        f.unlink()
    writer = RunWriter(path)
    writer.write_fixed(fixed)
    n_g, n_d = len(run.info[RUN_JSON.layers_g]), len(run.info[RUN_JSON.layers_d])
    for i, s in enumerate(shape.snapshots):
        a = s / max(shape.steps, 1)
        snap = designed_snapshot(shape.kind, s, a, start.fake, end.fake, fixed, n_g, n_d, 1.0)
        writer.write_snapshot(s, odd_snapshot(snap, shape, i, labels))
    writer.close()
    rewrite_metrics(path, shape)
    atomic_write_json(path / "run.json", run_info(run.info, shape))
    return path


def odd_snapshot(snap: dict[str, np.ndarray], shape: Shape, i: int, labels: np.ndarray | None) -> dict:
    """A snapshot with the shape's odd values: a critic's raw scores, one sample repeated, NaN/inf samples at the
    middle snapshot, a conditional GAN's labels."""
    out = dict(snap)
    if shape.critic:  # raw critic values: anything, not in [0, 1]
        for key in (SNAPSHOT.d_real, SNAPSHOT.d_fake, SNAPSHOT.field):
            if key in out:
                out[key] = (out[key] * 40.0 - 25.0).astype(np.float32)
    fake = out[SNAPSHOT.fake]
    if shape.samples == "constant":
        out[SNAPSHOT.fake] = np.repeat(fake[:1], len(fake), axis=0)
    elif shape.samples in ("nan", "inf") and i == len(shape.snapshots) // 2:
        bad = np.nan if shape.samples == "nan" else np.inf
        out[SNAPSHOT.fake] = np.full_like(fake, bad)
        if SNAPSHOT.grid_fake in out:
            out[SNAPSHOT.grid_fake] = np.full_like(out[SNAPSHOT.grid_fake], bad)
    if shape.scores != "normal" and i == len(shape.snapshots) // 2:
        bad = np.nan if shape.scores == "nan" else np.inf
        for key in (SNAPSHOT.d_real, SNAPSHOT.d_fake, SNAPSHOT.field, SNAPSHOT.grad_norm_g, SNAPSHOT.grad_norm_d):
            if key in out:
                out[key] = np.full_like(out[key], bad)
    if labels is not None:
        out[SNAPSHOT.labels] = labels
    return out


def rewrite_metrics(path: Path, shape: Shape) -> None:
    """metrics.jsonl with the shape's column modes (and a critic's raw scores); NaN and inf are written as null,
    as the Recorder's writer does."""
    f = path / "metrics.jsonl"
    rows = [json.loads(line) for line in f.read_text().splitlines()]
    n = len(rows)
    rng = np.random.default_rng(n)
    for col in HANDED:
        mode = shape.columns.get(col, "normal")
        if shape.recorded and col in (METRICS.acc_real, METRICS.acc_fake) and mode == "normal" and shape.critic:
            mode = "missing"  # a critic has no accuracy to hand over
        for k, row in enumerate(rows):
            v = row[col]
            if shape.critic and col in (METRICS.d_real, METRICS.d_fake, METRICS.d_fake_after):
                v = v * 40.0 - 25.0
            if mode == "constant":
                v = 0.5
            elif (
                mode == "missing" or (mode == "holes" and rng.random() < 0.3) or (mode == "late" and 5 * k < len(rows))
            ):
                v = None
            elif mode == "huge":
                v = v * 1e30 if k % 7 else -1e30
            row[col] = v
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))


def run_info(info: dict, shape: Shape) -> dict:
    """run.json of the shape: the Recorder's (its own small config, no layer shapes when it is told nothing) or the
    trainer's (the designed one), with D's output and the labels."""
    out = dict(info)
    out[RUN_JSON.d_scores] = "critic" if shape.critic else "probability"
    if shape.recorded:
        out[RUN_JSON.variant] = "custom"
        out[RUN_JSON.config] = {
            "loss": "wgan-gp" if shape.critic else "bce",
            "d_output": "critic" if shape.critic else "probability",
            "noise_shape": [int(info[RUN_JSON.config].get("noise_dim", 100))],
            "n_fixed": 16 if shape.kind == "image" else 64,
            "seed": 0,
            "batch_size": None,
            "snapshot_every": max(1, shape.steps // max(1, len(shape.snapshots) - 1)),
            "log_every": 20,
            "field_resolution": 16,
            "conditional": shape.conditional,
        }
        for key in (RUN_JSON.steps_per_epoch, RUN_JSON.checkpoint_every, RUN_JSON.last_step, RUN_JSON.resumed):
            out.pop(key, None)
        if not shape.total_known:
            out.pop(RUN_JSON.total_steps, None)
    else:
        out[RUN_JSON.config] = {**info[RUN_JSON.config], "conditional": shape.conditional}
    return out
