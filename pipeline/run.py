"""Read a run folder with numpy and json alone (no torch), for plots, GIFs and scenes.

The format is documented in docs/run-format.md. Files are never unpickled:
snapshots load with ``np.load(allow_pickle=False)``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from pipeline.errors import GanvizError
from pipeline.runformat import (  # noqa: F401  (re-exported: the reader's names for the format's constants)
    CHECKPOINT_FILE,
    DEFAULT_ROOT,
    EVALS,
    EVALS_FILE,
    FIXED,
    FIXED_FILE,
    FORMAT_VERSION,
    KIND_NAMES,
    METRIC_COLUMNS,
    METRICS_FILE,
    RUN_FILE,
    RUN_JSON,
    RUN_JSON_TYPES,
    SNAPSHOT,
    SNAPSHOT_DIR,
    SNAPSHOT_REQUIRED,
    snapshot_name,
    snapshot_step,
)


class RunError(GanvizError):
    """A run folder (or one of its files) is missing, damaged or of an unknown format."""


class RunWarning(UserWarning):
    """Something in a run was left out (a damaged snapshot, a cut-off metrics line); the rest still reads."""


class _Damaged(Exception):
    """An .npz that cannot be read; ``why`` says what is wrong, in a few words on one line."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def _why(e: BaseException) -> str:
    """An exception as one short line: 'BadZipFile: File is not a zip file'."""
    text = " ".join(str(e).split())
    text = text if len(text) <= 160 else text[:157] + "..."
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _open_npz(fh: BinaryIO) -> Any:
    """np.load of an open .npz file, refusing what is no zip archive by its first bytes: np.load would take a
    lone .npy for an array and anything else for a pickle (refused, but reported as 'pickled data')."""
    head = fh.read(4)
    fh.seek(0)
    if head[:2] != b"PK":
        raise _Damaged("not an .npz archive (a lone .npy array)" if head[:1] == b"\x93" else "not an .npz archive")
    return np.load(fh, allow_pickle=False)


def _read_npz(path: Path, keys: tuple[str, ...] | list[str] | None) -> dict[str, np.ndarray]:
    """Arrays of an .npz (only ``keys`` if given), never unpickled; FileNotFoundError or _Damaged if unreadable."""
    try:  # our own file handle: np.load leaks the one it opens when the zip directory is unreadable
        with open(path, "rb") as fh, _open_npz(fh) as z:
            return {k: z[k] for k in z.files if keys is None or k in keys}
    except (FileNotFoundError, _Damaged):
        raise
    except Exception as e:  # zlib and zipfile raise a zoo of types on corrupt data
        raise _Damaged(_why(e)) from None


def load_npz(path: Path, keys: tuple[str, ...] | list[str] | None = None) -> dict[str, np.ndarray]:
    """Load the arrays of an .npz eagerly (only ``keys`` if given), refusing pickled objects; damage raises RunError.

    Reading only some keys skips decompressing the rest: plotting gradient norms over 200 snapshots
    must not inflate 200 sample batches.
    """
    try:
        return _read_npz(path, keys)
    except FileNotFoundError:
        raise RunError(f"{path}: file not found") from None
    except _Damaged as e:
        raise RunError(f"{path}: unreadable or damaged .npz ({e.why})") from None


def npz_problem(path: Path, keys: tuple[str, ...] = SNAPSHOT_REQUIRED) -> str | None:
    """Why the .npz at ``path`` is unreadable (None if it looks fine), without decompressing anything.

    Opening the archive reads its zip directory, which sits at the end of the file: a truncated file has
    none. That and the names of the arrays cost ~0.1 ms a file; a flipped byte inside an array is only
    found when that array is decompressed (``Run.read_snapshot``).
    """
    try:
        with open(path, "rb") as fh, _open_npz(fh) as z:
            missing = [k for k in keys if k not in z.files]
    except FileNotFoundError:
        return "file not found"
    except _Damaged as e:
        return e.why
    except Exception as e:  # zipfile raises several types on a damaged directory
        return _why(e)
    return f"no {', '.join(repr(k) for k in missing)} array" if missing else None


@dataclass
class _SnapshotFile:
    """What this Run found out about one snapshot file; ``inode`` tells a replaced file from the one checked."""

    inode: int
    problem: str | None = None  # why it is unreadable; None while nothing wrong was found
    checked: bool = False  # npz_problem() ran
    verified: bool = False  # every array decompressed fine once
    warned: bool = False  # the one warning about it was given


@dataclass(frozen=True)
class Layer:
    """One layer of G or D whose gradient norm snapshots record: its name (run.json ``layers_*``), module class
    and output shape for one sample (``layer_types_*``, ``layer_shapes_*``; None in runs that lack them)."""

    name: str
    type: str | None
    shape: tuple[int, ...] | None


@dataclass(frozen=True)
class Snapshot:
    """What the networks did at one step (pipeline/runformat.py: SNAPSHOT). Typed accessors for each array;
    the ones only toy runs have (``field``, ``grid_fake``) are None for image runs."""

    step: int
    arrays: dict[str, np.ndarray]

    def __getitem__(self, key: str) -> np.ndarray:
        try:
            return self.arrays[key]
        except KeyError:
            raise RunError(f"snapshot at step {self.step} has no array '{key}'") from None

    def get(self, key: str, default: Any = None) -> Any:
        return self.arrays.get(key, default)

    @property
    def epoch(self) -> int:
        """The epoch the step belongs to (0-based)."""
        return int(self[SNAPSHOT.epoch])

    @property
    def fake(self) -> np.ndarray:
        """Generator output on the fixed noise: uint8 (N,H,W,C) images or float32 (N,D) points."""
        return self[SNAPSHOT.fake]

    @property
    def d_fake(self) -> np.ndarray:
        """D's score (probability of real) for each fixed fake sample, (N,)."""
        return self[SNAPSHOT.d_fake]

    @property
    def d_real(self) -> np.ndarray:
        """D's score for each sample of the fixed real batch, (N,)."""
        return self[SNAPSHOT.d_real]

    @property
    def grad_norm_g(self) -> np.ndarray:
        """G's per-layer gradient norms (run.json layers_g order; NaN at step 0)."""
        return self[SNAPSHOT.grad_norm_g]

    @property
    def grad_norm_d(self) -> np.ndarray:
        """D's per-layer gradient norms (layers_d order; NaN at step 0)."""
        return self[SNAPSHOT.grad_norm_d]

    @property
    def field(self) -> np.ndarray | None:
        """Toys: D's score on the fixed field points, (R, R) with row 0 the lowest y, or (R,); None for images."""
        return self.get(SNAPSHOT.field)

    @property
    def grid_fake(self) -> np.ndarray | None:
        """Toys: G's image of the fixed noise grid, (256, D); None for images."""
        return self.get(SNAPSHOT.grid_fake)

    @property
    def fake_grad(self) -> np.ndarray | None:
        """Toys: -N dL_G/dx for each fixed fake point, (N, D): where G's loss pushes it; None for images and for
        runs recorded before the field existed."""
        return self.get(SNAPSHOT.fake_grad)


class Fixed(dict):
    """fixed.npz (pipeline/runformat.py: FIXED): the batches every snapshot is taken on, with typed accessors."""

    @property
    def noise(self) -> np.ndarray:
        """The fixed noise batch, (N, noise_dim)."""
        return self[FIXED.noise]

    @property
    def real(self) -> np.ndarray:
        """The fixed real batch, in the layout of ``Snapshot.fake``."""
        return self[FIXED.real]

    @property
    def field_extent(self) -> np.ndarray | None:
        """Toys: [xmin, xmax, ymin, ymax] (2-D) or [xmin, xmax] (1-D) of D's field; None for images."""
        return self.get(FIXED.field_extent)

    @property
    def field_points(self) -> np.ndarray | None:
        """Toys: where D's field is evaluated; None for images."""
        return self.get(FIXED.field_points)

    @property
    def grid_noise(self) -> np.ndarray | None:
        """Toys: the 16x16 grid over the first two noise dimensions; None for images."""
        return self.get(FIXED.grid_noise)


class Metrics(dict):
    """metrics.jsonl as columns (pipeline/runformat.py: METRICS), each also an attribute: ``m.loss_d``."""

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no metric column {name!r}") from None


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
            if _first_bad_row([json.loads(first)]) is not None:  # a cut-off line is no row; a complete one is
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

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, variant={self.variant!r}, kind={self.kind!r})"

    # -- metrics -----------------------------------------------------------------------------
    @cached_property
    def metrics(self) -> Metrics:
        """Metric columns as float64 arrays (``step`` and ``epoch`` as int64), one entry per step."""
        return read_metrics_columns(self.path / METRICS_FILE)

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
            arrays = _read_npz(path, keys)
        except FileNotFoundError:
            raise RunError(f"{path}: file not found") from None
        except _Damaged as e:
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


def read_run_json(path: Path) -> dict[str, Any]:
    f = path / RUN_FILE
    if not f.is_file():
        raise RunError(f"{path}: not a run folder (no {RUN_FILE}); pass a folder made by 'ganviz train'")
    try:
        info = json.loads(f.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise RunError(f"{f}: damaged run.json ({e})") from None
    if not isinstance(info, dict) or "format_version" not in info:
        raise RunError(f"{f}: not a ganviz run.json (no format_version)")
    v = info["format_version"]
    if not isinstance(v, int) or isinstance(v, bool):
        raise RunError(f"{f}: format_version must be an integer, got {v!r}")
    if v > FORMAT_VERSION:
        raise RunError(
            f"{f}: run format version {v} is newer than this ganviz reads ({FORMAT_VERSION}); upgrade ganviz"
        )
    if v < 1:
        raise RunError(f"{f}: format_version {v} is not a ganviz run format (versions start at 1)")
    for key, typ in RUN_JSON_TYPES.items():
        if key in info and (not isinstance(info[key], typ) or isinstance(info[key], bool)):
            raise RunError(
                f"{f}: '{key}' should be {_TYPE_WORDS[typ]}, got {type(info[key]).__name__}; run.json is damaged"
            )
    return info


_TYPE_WORDS = {str: "a string", dict: "an object", list: "a list", int: "an integer", (int, float): "a number"}
_INT_COLUMNS = ("step", "epoch")
_MAX_INT = 2**62
_BYTES_WHITESPACE = " \t\n\r\x0b\x0c"  # what bytes.strip() removes, for the same blank-line test on str


def _first_bad_row(rows: list[Any]) -> tuple[int, str] | None:
    """(index, why) of the first parsed metrics row that breaks the rules, or None: every row a JSON object with
    int ``step``/``epoch`` in [0, 2^62), steps ascending from 1, every other column a number or null.

    The one definition of a valid row, checked column by column (~10x less CPU than row by row on 100k rows):
    each rule looks only at the rows before the first problem found so far, so the row and the reason are those
    a row-by-row check in the order above would give.
    """
    limit, found = len(rows), None

    def hit(i: int, why: str) -> None:
        nonlocal limit, found
        if i < limit:
            limit, found = i, (i, why)

    first = next((k for k, r in enumerate(rows) if type(r) is not dict), None)  # json.loads makes plain dicts
    if first is not None:
        hit(first, "not a JSON object")
    for col in _INT_COLUMNS:
        vals = [r.get(col) for r in rows[:limit]]
        if set(map(type, vals)) - {int} or (vals and not (0 <= min(vals) and max(vals) < _MAX_INT)):
            hit(
                next(k for k, v in enumerate(vals) if type(v) is not int or not 0 <= v < _MAX_INT),
                f"'{col}' is not a step number",
            )
    steps = np.array([r["step"] for r in rows[:limit]], np.int64)
    back = np.flatnonzero(np.diff(np.r_[0, steps]) <= 0)
    if back.size:
        k = int(back[0])
        hit(k, f"step {steps[k]} does not follow step {steps[k - 1] if k else 0}")
    for col in METRIC_COLUMNS:
        if col in _INT_COLUMNS:
            continue
        vals = [r.get(col) for r in rows[:limit]]
        kinds = set(map(type, vals))  # bool is its own type here, so True/False never pass as numbers
        if kinds - {float, int, type(None)} or (
            int in kinds and any(abs(v) >= _MAX_INT for v in vals if type(v) is int)
        ):
            hit(
                next(
                    k
                    for k, v in enumerate(vals)
                    if not (v is None or type(v) is float or (type(v) is int and abs(v) < _MAX_INT))
                ),
                f"'{col}' is not a number",
            )
    return found


def read_metrics_rows(f: Path) -> list[dict[str, Any]]:
    """Rows of metrics.jsonl, checked by ``_first_bad_row``.

    Training appends whole lines, so a crash can only cut the last line short: an unterminated last
    line that is not a valid row is dropped with a warning. Damage anywhere else raises RunError.
    """
    return _read_jsonl(f, _first_bad_row, "the metrics file is corrupt")


def _read_jsonl(f: Path, first_bad: Callable[[list[Any]], tuple[int, str] | None], verdict: str) -> list[Any]:
    """The rows of a JSON-lines file that training appends to, checked by ``first_bad`` (the first bad row's index
    and why, or None). A missing file is no rows; an unterminated last line that is not a valid row (cut short by
    a crash) is dropped with a warning; any other bad line is a RunError ending in ``verdict``."""
    try:
        data = f.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as e:
        raise RunError(f"{f}: cannot read ({e.strerror})") from None
    lines: list[str] | list[bytes] = data.split(b"\n")
    if b"\xef\xbb\xbf" not in data and b"\x00" not in data:
        try:  # decoded once (what json.loads does with each UTF-8 line); a BOM or NUL is read line by line
            lines = data.decode("utf-8", "surrogatepass").split("\n")
        except UnicodeDecodeError:
            pass
    rows: list[Any] = []
    where: list[int] = []  # the line each row came from
    problem: tuple[int, str] | None = None  # (line index, why)
    for i, line in enumerate(lines):
        if not line.strip(_BYTES_WHITESPACE if isinstance(line, str) else None):
            continue
        try:
            rows.append(json.loads(line))
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            problem = (i, "not valid JSON")
            break
        where.append(i)
    bad = first_bad(rows)
    if bad is not None:  # before any line that is not JSON: parsing stopped there
        problem, rows = (where[bad[0]], bad[1]), rows[: bad[0]]
    if problem is not None:
        line_no, why = problem
        if line_no != len(lines) - 1:  # not the unterminated last line, the one a crash cuts short
            raise RunError(f"{f}: line {line_no + 1} is damaged ({why}); {verdict}")
        warnings.warn(f"{f}: ignoring truncated last line ({why})", RunWarning, stacklevel=3)
    return rows


def read_metrics_columns(f: Path) -> Metrics:
    """metrics.jsonl as columns: float64 arrays (``step`` and ``epoch`` int64, null as NaN), one entry per step."""
    rows = read_metrics_rows(f)
    return Metrics(
        {
            col: np.array([r.get(col) for r in rows], np.int64 if col in _INT_COLUMNS else np.float64)
            for col in METRIC_COLUMNS
        }
    )


# -- evals.jsonl: the quality measures --------------------------------------------------------------------------
_EVAL_TYPES: dict[str, tuple[type, ...]] = {
    EVALS.value: (int, float, type(None)),
    EVALS.space: (str, type(None)),
    EVALS.n_fake: (int, type(None)),
    EVALS.n_real: (int, type(None)),
    EVALS.std: (int, float),
    EVALS.floor: (int, float),
    EVALS.floor_std: (int, float),
    EVALS.counts: (list,),
    EVALS.kl: (int, float),
    EVALS.k: (int,),
    EVALS.reference: (str,),
}


def _first_bad_eval(rows: list[Any]) -> tuple[int, str] | None:
    """(index, why) of the first row of evals.jsonl that is not one: a JSON object with an int step >= 0 (never
    below the previous row's), a measure name, and the declared type in every declared field it has."""
    prev = 0
    for i, r in enumerate(rows):
        if type(r) is not dict:
            return i, "not a JSON object"
        step, measure = r.get(EVALS.step), r.get(EVALS.measure)
        if type(step) is not int or not 0 <= step < _MAX_INT:
            return i, f"'{EVALS.step}' is not a step number"
        if step < prev:
            return i, f"step {step} comes after step {prev}"
        if type(measure) is not str or not measure:
            return i, f"'{EVALS.measure}' is not a measure name"
        for key, types in _EVAL_TYPES.items():
            if key in r and (type(r[key]) not in types or (type(r[key]) is int and abs(r[key]) >= _MAX_INT)):
                return i, f"'{key}' has the wrong type"
        prev = step
    return None


def read_eval_rows(f: Path) -> list[dict[str, Any]]:
    """Rows of evals.jsonl, checked by ``_first_bad_eval`` (a missing file: no rows)."""
    return _read_jsonl(f, _first_bad_eval, "the quality measures file is damaged or not ganviz's")


@dataclass(frozen=True)
class EvalSeries:
    """One measure over a run: ``steps`` and ``values`` (NaN where null), and the rows they came from.

    One series holds one measure in one feature space at one pair of sample counts: values that differ in any
    of those are different numbers and never go on one axis."""

    measure: str
    space: str | None
    n_fake: int | None
    n_real: int | None
    steps: np.ndarray
    values: np.ndarray
    rows: tuple[dict[str, Any], ...]


class Evals:
    """evals.jsonl as series (``Run.evals``); empty for runs without quality measures (format 1 runs among them)."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = rows
        groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for r in rows:
            key = (r[EVALS.measure], r.get(EVALS.space), r.get(EVALS.n_fake), r.get(EVALS.n_real))
            groups.setdefault(key, []).append(r)
        self.series = [
            EvalSeries(
                *key,
                np.array([r[EVALS.step] for r in g], np.int64),
                np.array([np.nan if r[EVALS.value] is None else r[EVALS.value] for r in g], np.float64),
                tuple(g),
            )
            for key, g in groups.items()
        ]

    def __bool__(self) -> bool:
        return bool(self.rows)

    @property
    def measures(self) -> list[str]:
        return list(dict.fromkeys(s.measure for s in self.series))

    def get(self, measure: str, space: str | None = None) -> EvalSeries | None:
        """The series of ``measure`` (in ``space``, if given) recorded during training: the one with the most rows."""
        found = [s for s in self.series if s.measure == measure and (space is None or s.space == space)]
        return max(found, key=lambda s: len(s.steps)) if found else None


@contextlib.contextmanager
def output_folder(
    out: str | os.PathLike[str] | None, kind: str, run: Run, error: type[GanvizError] = GanvizError
) -> Iterator[Path]:
    """``out``, or outputs/<kind>/<run name>/ by default, for the files of one command; a folder that cannot be
    made is one line, before any work.

    A command that fails inside the block leaves nothing behind: the files it added are deleted and the
    folders it made are removed again (a refused ``ganviz render`` used to leave an empty outputs/videos/<run>/).
    Files that were there before stay.
    """
    path = Path(out) if out is not None else Path("outputs") / kind / run.name
    made = [p for p in (path, *path.parents) if not p.exists()]  # deepest first
    before = set(os.listdir(path)) if path.is_dir() else set()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise error(f"{path}: cannot create the output folder ({e.strerror})") from None
    try:
        yield path
    except BaseException:
        _undo_output(path, before, made)
        raise


def _undo_output(path: Path, before: set[str], made: list[Path]) -> None:
    """Delete the files a failed command added to ``path`` and the folders it made, if they are empty now."""
    try:
        added = [path / name for name in set(os.listdir(path)) - before]
    except OSError:
        added = []
    for f in added:
        if f.is_file() or f.is_symlink():
            f.unlink(missing_ok=True)
    for d in made:
        try:
            d.rmdir()
        except OSError:  # not empty (someone else writes there too) or already gone
            pass


#: The environment variable naming the run that scenes (and commands given no run) show.
RUN_ENV = "GANVIZ_RUN"
_SHARED: dict[Path, Run] = {}


@contextmanager
def sharing(*runs: Run) -> Iterator[None]:
    """Inside the block, ``run_from_env`` returns these very Run objects for their folders.

    The renderer hands its run to scene files through $GANVIZ_RUN; sharing the object means metrics are
    parsed once for all scenes and each damaged file is warned about once, not once per scene.
    """
    added = {r.path.resolve(): r for r in runs if r.path.resolve() not in _SHARED}
    _SHARED.update(added)
    try:
        yield
    finally:
        for k in added:
            _SHARED.pop(k, None)


def run_from_env(var: str = RUN_ENV) -> Run | None:
    """The run an environment variable names (None when unset); a bad value is an error naming the variable."""
    value = os.environ.get(var)
    if not value:
        return None
    shared = _SHARED.get(Path(value).resolve())
    if shared is not None:
        return shared
    try:
        return Run.load(value)
    except RunError as e:
        msg = str(e)
        prefix = f"{Path(value)}: "
        msg = msg[len(prefix) :] if msg.startswith(prefix) else msg
        raise RunError(f"{var}={value}: {msg} (or unset {var})") from None


def current_run() -> Run:
    """The run a scene or a command given no run shows: $GANVIZ_RUN if set, else ``Run.latest()``.

    Which run ``latest`` picked is said in one line on stderr: it need not be the newest folder.
    """
    run = run_from_env(RUN_ENV)
    if run is None:
        run = Run.latest()
        print(
            f"using run {run.path} (the latest with data; name a run or set {RUN_ENV} to choose)",
            file=sys.stderr,
            flush=True,
        )
    return run
