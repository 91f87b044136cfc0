"""Read a run folder with numpy and json alone (no torch), for plots, GIFs and scenes.

The format is documented in docs/run-format.md. Files are never unpickled:
snapshots load with ``np.load(allow_pickle=False)``."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ganviz.errors import RunError, RunWarning
from ganviz.format import (
    DEFAULT_ROOT,
    EVALS_FILE,
    FIXED_FILE,
    METRIC_COLUMNS,
    METRICS_FILE,
    RUN_FILE,
    RUN_JSON,
    SNAPSHOT,
    SNAPSHOT_DIR,
    snapshot_name,
    snapshot_step,
)
from ganviz.records import DamagedNpz, Evals, Fixed, Layer, Metrics, Snapshot, load_npz, npz_problem, read_npz_arrays
from ganviz.validate import first_bad_metrics_row, read_eval_rows, read_metrics_columns, read_run_json


@dataclass
class _SnapshotFile:
    """What this Run found out about one snapshot file; ``inode`` tells a replaced file from the one checked."""

    inode: int
    problem: str | None = None  # why it is unreadable; None while nothing wrong was found
    checked: bool = False  # npz_problem() ran
    verified: bool = False  # every array decompressed fine once
    warned: bool = False  # the one warning about it was given


class Run:
    """A training run on disk. Cheap to construct; files are read on first use."""

    def __init__(self, path: Path, info: dict[str, Any]):
        self.path = path
        self.info = info
        self._files: dict[int, _SnapshotFile] = {}  # step -> what was found out about its file

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Run:
        path = Path(path)
        if not path.is_dir():
            raise RunError(f"{path}: not a run folder (no such directory); pass a folder made by 'ganviz train'")
        info = read_run_json(path)
        return cls(path, info)

    @classmethod
    def latest(cls, root: str | os.PathLike[str] = DEFAULT_ROOT) -> Run:
        """The most recently started run under ``root`` (by run.json's start time) that has data to show.

        A run that has just started has no metrics row or no snapshot yet, and every command would refuse
        it; the run before it is what the user wants to look at. Unreadable runs are passed over too.
        """
        root = Path(root)
        candidates = [p.parent for p in root.glob(f"*/{RUN_FILE}")] if root.is_dir() else []
        if not candidates:
            raise RunError(f"{root}: no runs found; train one first with 'ganviz train VARIANT'")
        runs = []
        for p in candidates:
            try:
                runs.append(cls.load(p))
            except RunError:
                continue
        if not runs:
            raise RunError(f"{root}: no readable runs found; train one with 'ganviz train VARIANT'")
        runs.sort(key=lambda r: (r.info.get("started", ""), r.path.name), reverse=True)
        for run in runs:
            if run.has_data():
                return run
        raise RunError(
            f"{root}: no run has data yet (a metrics row and a snapshot); the latest, {runs[0].name}, "
            f"is '{runs[0].status}': wait until it has written some, or name a run"
        )

    def has_data(self) -> bool:
        """Whether the run has something to draw: a valid first metrics row and one readable snapshot.

        Cheap (the first line of metrics.jsonl, snapshot files checked until one passes), so that
        ``latest`` can ask it of every run.
        """
        try:
            with open(self.path / METRICS_FILE, "rb") as f:
                first = f.readline(1 << 20)
            if first_bad_metrics_row([json.loads(first)]) is not None:  # a cut-off line is no row; a complete one is
                return False
        except (OSError, ValueError, RecursionError):
            return False
        files = self._scan()
        return any(self._check(s) is None for s in sorted(files, reverse=True))

    # -- description -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.path.name

    @property
    def variant(self) -> str:
        return str(self.info.get("variant", ""))

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.info.get("config", {}))

    @property
    def kind(self) -> str:
        """'image', 'toy2d' or 'toy1d': decides which plots and scenes apply."""
        return str(self.info.get("kind", "image"))

    @property
    def status(self) -> str:
        return str(self.info.get("status", "unknown"))

    @property
    def critic(self) -> bool:
        """D's recorded scores are a WGAN critic's raw values, not probabilities of real (run.json ``d_scores``;
        runs without it hold probabilities)."""
        return self.info.get(RUN_JSON.d_scores, "probability") == "critic"

    @property
    def total_steps(self) -> int:
        """The steps the run was scheduled for (run.json ``total_steps``); a recorded loop that did not say: the last
        step it logged or snapshotted. What a scene's footer counts to ('step 1,200 of 3,000')."""
        total = self.info.get(RUN_JSON.total_steps)
        if total:
            return int(total)
        logged = self.metrics.step
        last = [int(logged[-1])] if len(logged) else []
        return max([*last, *self.snapshot_steps()[-1:]], default=0)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, variant={self.variant!r}, kind={self.kind!r})"

    # -- metrics -----------------------------------------------------------------------------
    @cached_property
    def metrics(self) -> Metrics:
        """Metric columns as float64 arrays (``step`` and ``epoch`` as int64), one entry per step; a recorded loop's
        own columns (``extra_metrics``) among them."""
        return read_metrics_columns(self.path / METRICS_FILE, self.extra_metrics)

    @property
    def extra_metrics(self) -> tuple[str, ...]:
        """The columns a recorded loop added of its own (``rec.step(gp=...)``), in the order they first came."""
        names = self.info.get(RUN_JSON.extra_metrics) or []
        return tuple(dict.fromkeys(n for n in names if isinstance(n, str) and n not in METRIC_COLUMNS))

    @cached_property
    def evals(self) -> Evals:
        """The quality measures recorded for this run (evals.jsonl), as series per measure."""
        return Evals(read_eval_rows(self.path / EVALS_FILE))

    # -- snapshots ---------------------------------------------------------------------------
    # A damaged snapshot (a truncated file, a flipped byte) must not sink a whole plot, GIF or scene. Listing
    # checks each file cheaply (npz_problem) and leaves out the ones that fail; a read that finds a bad array
    # later marks its file damaged too. Each damaged file is warned about once per Run, and only while some
    # snapshot is still readable: when none is, the one error from snapshot_steps() says so instead.
    # Steps a caller names (a number, 'start', 'end') must be readable: resolve_step() refuses a damaged one.
    # Steps picked for the caller (spread_steps, iter_snapshots, steps) skip damaged ones.

    def _snapshot_path(self, step: int) -> Path:
        return self.path / SNAPSHOT_DIR / snapshot_name(step)

    def _scan(self) -> dict[int, _SnapshotFile]:
        """The snapshot files now in the folder, keeping what is known about each file already seen."""
        found: dict[int, _SnapshotFile] = {}
        try:
            with os.scandir(self.path / SNAPSHOT_DIR) as entries:
                for e in entries:
                    step = snapshot_step(e.name)
                    if step is None:
                        continue
                    known = self._files.get(step)
                    found[step] = known if known is not None and known.inode == e.inode() else _SnapshotFile(e.inode())
        except OSError:  # no snapshots folder (yet), or not a folder
            pass
        self._files = found
        return found

    def _check(self, step: int) -> str | None:
        """Why the snapshot file of ``step`` is unreadable (None if fine), checked once per file."""
        f = self._files[step]
        if not f.checked:
            f.problem = f.problem or npz_problem(self._snapshot_path(step))
            f.checked = True
        return f.problem

    def _readable(self) -> list[int]:
        """Steps whose file is not known to be damaged, ascending; no warnings (see ``steps``)."""
        return sorted(s for s in self._scan() if self._check(s) is None)

    def _mark_damaged(self, step: int, why: str) -> None:
        f = self._files.get(step)
        if f is not None:
            f.problem, f.checked = why, True

    def _warn_damaged(self) -> None:
        """One warning per damaged file not warned about yet, while some snapshot is still readable."""
        if not any(f.checked and f.problem is None for f in self._files.values()):
            return
        for step in sorted(self._files):
            f = self._files[step]
            if f.problem is not None and not f.warned:
                f.warned = True
                warnings.warn(
                    f"{self._snapshot_path(step)}: unreadable or damaged .npz ({f.problem}); skipped",
                    RunWarning,
                    stacklevel=2,
                )

    @property
    def steps(self) -> list[int]:
        """Steps that have a readable snapshot, ascending (damaged files left out, each with one warning)."""
        steps = self._readable()
        self._warn_damaged()
        return steps

    @property
    def damaged(self) -> dict[int, str]:
        """Snapshot steps found damaged so far, with what is wrong with each file."""
        return {s: f.problem for s, f in sorted(self._files.items()) if f.problem is not None}

    def spread_steps(self, n: int) -> list[int]:
        """Up to ``n`` readable snapshot steps spread evenly over the run, always with the first and the last.

        Each pick is decompressed once (a few at most, cached) so that a flipped byte is found here and
        the pick moves to readable snapshots, instead of failing whatever draws it later. Raises RunError
        when no snapshot is readable.
        """
        rejected: set[int] = set()
        while True:
            steps = [s for s in self._readable() if s not in rejected]
            if not steps:
                self.snapshot_steps()  # raises, saying why
                raise RunError(f"{self.path}: no snapshot could be read")  # (snapshot_steps raises first)
            idx = np.unique(np.linspace(0, len(steps) - 1, min(n, len(steps))).round().astype(int))
            picked = [steps[i] for i in idx]
            rejected.update(s for s in picked if not self._verify(s))
            if not rejected.intersection(picked):
                self._warn_damaged()
                return picked

    def _verify(self, step: int) -> bool:
        """Whether every array of the snapshot decompresses (once per file); a failure marks it damaged."""
        f = self._files.get(step)
        if f is not None and f.verified:
            return True
        try:
            self.read_snapshot(step)
        except RunError:
            return False
        return True

    def snapshot_steps(self) -> list[int]:
        """``steps``, refusing a run without any readable one: everything drawn from snapshots needs one."""
        steps = self.steps
        if not steps:
            bad = self.damaged
            if bad:
                first = min(bad)
                raise RunError(
                    f"{self.path}: every snapshot is damaged ({len(bad)} files; {snapshot_name(first)}: "
                    f"{bad[first]}); restore them or train the run again"
                )
            raise RunError(f"{self.path}: run has no snapshots yet; train longer or lower --snapshot-every")
        return steps

    def resolve_step(self, step: int | str) -> int:
        """Map 'end'/'last', 'start'/'first' or a number to an existing snapshot step.

        A number that is not a snapshot step is snapped to the nearest one at or below it
        (the state the run was in at that moment); beyond the last step is an error. A step asked for
        by name must be readable: if its file is damaged this is an error naming the file and the
        nearest readable steps, not a silent substitute.
        """
        files = self._scan()
        if not files:
            self.snapshot_steps()  # raises: no snapshots yet
        every = sorted(files)
        if isinstance(step, str):
            s = step.strip().lower()
            if s in ("end", "last", "final"):
                step = every[-1]
            elif s in ("start", "first", "begin"):
                step = every[0]
            else:
                try:
                    step = int(s)
                except ValueError:
                    raise RunError(f"step '{step}': expected a number, 'start' or 'end'") from None
        if step < 0:
            raise RunError(f"step {step}: steps start at 0")
        if step > every[-1]:
            raise RunError(f"step {step} is beyond this run's last snapshot (step {every[-1]})")
        found = max(s for s in every if s <= step)
        if self._check(found) is not None:
            raise self._damaged_error(found)
        return found

    def _damaged_error(self, step: int) -> RunError:
        """The error for a damaged snapshot someone asked for by name: the file, what is wrong, what to ask instead."""
        readable = self._readable()
        if not readable:
            self.snapshot_steps()  # raises: every snapshot is damaged
        near = [
            s
            for s in (
                max((r for r in readable if r < step), default=None),
                min((r for r in readable if r > step), default=None),
            )
            if s is not None
        ]
        return RunError(
            f"{self._snapshot_path(step)}: unreadable or damaged .npz ({self._files[step].problem}); "
            f"pick another step, e.g. {' or '.join(map(str, near))}"
        )

    def snapshot(self, step: int | str, keys: tuple[str, ...] | list[str] | None = None) -> Snapshot:
        """The snapshot at (or just before) ``step``; ``keys`` loads only those arrays. Damaged: RunError."""
        return self.read_snapshot(self.resolve_step(step), keys)

    def check_snapshot(self, step: int) -> None:
        """Decompress every array of the snapshot at ``step`` once (cached): RunError naming the file if damaged.

        For steps a user named, so that a flipped byte is refused before any output is written.
        """
        if not self._verify(step):
            if step not in self._files:
                self.read_snapshot(step)  # not a snapshot file: raises 'file not found'
            raise self._damaged_error(step)

    def read_snapshot(self, step: int, keys: tuple[str, ...] | list[str] | None = None) -> Snapshot:
        """The snapshot at exactly ``step`` (one of ``steps``), without listing the folder again:
        loops over hundreds of snapshots stay linear. A damaged file raises RunError and is left out
        of ``steps`` from then on."""
        path = self._snapshot_path(step)
        try:
            arrays = read_npz_arrays(path, keys)
        except FileNotFoundError:
            raise RunError(f"{path}: file not found") from None
        except DamagedNpz as e:
            if step not in self._files:
                self._scan()
            self._mark_damaged(step, e.why)
            raise RunError(f"{path}: unreadable or damaged .npz ({e.why})") from None
        f = self._files.get(step)
        if f is not None and keys is None:
            f.verified = True
        return Snapshot(step, arrays)

    def iter_snapshots(
        self, steps: list[int] | None = None, keys: tuple[str, ...] | list[str] | None = None
    ) -> Iterator[Snapshot]:
        """The readable snapshots of ``steps`` (default: all), in order, loading only ``keys``.

        For loops over many snapshots (figures, the progress GIF, scenes): a file found damaged while
        decompressing is skipped with one warning instead of ending the loop. If none of them can be read
        this raises RunError (one line, no warnings), as there is nothing to draw.
        """
        steps = self.steps if steps is None else list(steps)
        read = 0
        first: tuple[int, str] | None = None
        for s in steps:
            f = self._files.get(s)
            if f is not None and f.problem is not None:
                first = first or (s, f.problem)
                continue
            try:
                snap = self.read_snapshot(s, keys)
            except RunError as e:
                f = self._files.get(s)
                first = first or (s, f.problem if f is not None and f.problem else str(e))
                continue
            read += 1
            self._warn_damaged()
            yield snap
        if read:
            self._warn_damaged()  # a damaged file after the last readable one
        elif steps and first is not None:
            raise RunError(
                f"{self.path}: none of the {len(steps)} snapshots could be read "
                f"({snapshot_name(first[0])}: {first[1]}); restore them or train the run again"
            )

    def layer_grad_norms(self) -> dict[str, tuple[np.ndarray, list[str], np.ndarray]]:
        """For 'g' and 'd': (snapshot steps, layer names, norms of shape (layers, steps)).

        One pass over the snapshots, decompressing only the two norm arrays of each (not the samples).
        """
        keys = (SNAPSHOT.grad_norm_g, SNAPSHOT.grad_norm_d)
        cols: dict[str, list[np.ndarray]] = {k: [] for k in keys}
        steps = []
        for snap in self.iter_snapshots(keys=keys):
            steps.append(snap.step)
            for k in keys:
                cols[k].append(snap[k])
        out = {}
        for net in ("g", "d"):
            c = cols[f"grad_norm_{net}"]
            names = [str(n) for n in self.info.get(f"layers_{net}", [])]
            mat = np.stack(c, axis=1).astype(np.float64) if c else np.zeros((len(names), 0))
            if len(names) != mat.shape[0]:
                names = [f"layer {i}" for i in range(mat.shape[0])]
            out[net] = (np.asarray(steps), names, mat)
        return out

    def layers(self, net: str) -> list[Layer]:
        """G's (``net`` 'g') or D's ('d') recorded layers in forward order. Types and shapes are None where run.json
        lacks them (runs recorded before they existed) or holds something else than one per layer."""
        keys = {
            "g": (RUN_JSON.layers_g, RUN_JSON.layer_types_g, RUN_JSON.layer_shapes_g),
            "d": (RUN_JSON.layers_d, RUN_JSON.layer_types_d, RUN_JSON.layer_shapes_d),
        }[net]
        names, types, shapes = (self.info.get(k) for k in keys)
        names = names if isinstance(names, list) else []
        if not (isinstance(types, list) and len(types) == len(names) and all(isinstance(t, str) for t in types)):
            types = [None] * len(names)
        ok = isinstance(shapes, list) and len(shapes) == len(names)
        ok = ok and all(
            isinstance(s, list) and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in s)
            for s in shapes
        )
        shapes = [tuple(s) for s in shapes] if ok else [None] * len(names)
        return [Layer(str(n), t, s) for n, t, s in zip(names, types, shapes, strict=True)]

    def snapshots(self) -> list[Snapshot]:
        """Every readable snapshot, fully loaded (damaged ones skipped with a warning)."""
        return list(self.iter_snapshots())

    @cached_property
    def fixed(self) -> Fixed:
        """The fixed noise batch and fixed real batch used by every snapshot."""
        try:
            return Fixed(load_npz(self.path / FIXED_FILE))
        except RunError as e:
            raise RunError(f"{e}; every snapshot is drawn against it: restore it or train the run again") from None

    @property
    def real(self) -> np.ndarray:
        """A fixed batch of real samples, in the same layout as ``Snapshot.fake``."""
        return self.fixed.real
