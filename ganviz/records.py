"""The run format's records as read: arrays of an .npz (never unpickled), a snapshot, the fixed batches,
metrics.jsonl as columns, evals.jsonl as series, a layer of the gradient-norm arrays."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ganviz.errors import RunError
from ganviz.format import (
    EVALS,
    FIXED,
    SNAPSHOT,
    SNAPSHOT_REQUIRED,
)


class DamagedNpz(Exception):
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
        raise DamagedNpz("not an .npz archive (a lone .npy array)" if head[:1] == b"\x93" else "not an .npz archive")
    return np.load(fh, allow_pickle=False)


def read_npz_arrays(path: Path, keys: tuple[str, ...] | list[str] | None) -> dict[str, np.ndarray]:
    """Arrays of an .npz (only ``keys`` if given), never unpickled; FileNotFoundError or DamagedNpz if unreadable."""
    try:  # our own file handle: np.load leaks the one it opens when the zip directory is unreadable
        with open(path, "rb") as fh, _open_npz(fh) as z:
            return {k: z[k] for k in z.files if keys is None or k in keys}
    except (FileNotFoundError, DamagedNpz):
        raise
    except Exception as e:  # zlib and zipfile raise a zoo of types on corrupt data
        raise DamagedNpz(_why(e)) from None


def load_npz(path: Path, keys: tuple[str, ...] | list[str] | None = None) -> dict[str, np.ndarray]:
    """Load the arrays of an .npz eagerly (only ``keys`` if given), refusing pickled objects; damage raises RunError.

    Reading only some keys skips decompressing the rest: plotting gradient norms over 200 snapshots
    must not inflate 200 sample batches.
    """
    try:
        return read_npz_arrays(path, keys)
    except FileNotFoundError:
        raise RunError(f"{path}: file not found") from None
    except DamagedNpz as e:
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
    except DamagedNpz as e:
        return e.why
    except Exception as e:  # zipfile raises several types on a damaged directory
        return _why(e)
    return f"no {', '.join(repr(k) for k in missing)} array" if missing else None


@dataclass(frozen=True)
class Layer:
    """One layer of G or D whose gradient norm snapshots record: its name (run.json ``layers_*``), module class
    and output shape for one sample (``layer_types_*``, ``layer_shapes_*``; None in runs that lack them)."""

    name: str
    type: str | None
    shape: tuple[int, ...] | None


@dataclass(frozen=True)
class Snapshot:
    """What the networks did at one step (ganviz/format.py: SNAPSHOT). Typed accessors for each array;
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
    def labels(self) -> np.ndarray | None:
        """A conditional GAN's labels G drew ``fake`` with, (N,); None for other runs."""
        return self.get(SNAPSHOT.labels)

    @property
    def fake_grad(self) -> np.ndarray | None:
        """Toys: -N dL_G/dx for each fixed fake point, (N, D): where G's loss pushes it; None for images and for
        runs recorded before the field existed."""
        return self.get(SNAPSHOT.fake_grad)


class Fixed(dict):
    """fixed.npz (ganviz/format.py: FIXED): the batches every snapshot is taken on, with typed accessors."""

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

    @property
    def labels(self) -> np.ndarray | None:
        """A conditional GAN's labels for the fixed noise, (N,); None for other runs."""
        return self.get(FIXED.labels)

    @property
    def real_labels(self) -> np.ndarray | None:
        """A conditional GAN's labels of the fixed real batch, (N,); None for other runs."""
        return self.get(FIXED.real_labels)


class Metrics(dict):
    """metrics.jsonl as columns (ganviz/format.py: METRICS), each also an attribute: ``m.loss_d``."""

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no metric column {name!r}") from None


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
