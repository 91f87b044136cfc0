"""Writing a run: atomic files (temp file in the same folder, fsync, rename: a crash leaves old or new, never
half), whole appended JSON lines, and ``RunWriter``, which does every write of a run on one background thread.

All writes go through one background thread in FIFO order (metrics, snapshot, checkpoint), so what a crash leaves on
disk is always a prefix of what training produced: a checkpoint at step S implies metrics up to S and the snapshot of
S are already there.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from ganviz.errors import GanvizError, RunError
from ganviz.format import (
    CHECKPOINT_FILE,
    EVALS,
    EVALS_FILE,
    FIXED_FILE,
    METRICS_FILE,
    RUN_FILE,
    SNAPSHOT_DIR,
    snapshot_name,
    snapshot_step,
)
from ganviz.validate import read_eval_rows, read_metrics_rows


class WriteError(GanvizError):
    """Disk full, read-only folder, or another OS refusal while writing a run."""


def describe_os_error(path: Path, e: OSError) -> str:
    if e.errno == errno.ENOSPC:
        return f"{path}: disk full while writing; free some space (a ganviz train run then continues with --resume)"
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{path}: not writable ({e.strerror}); choose another --out folder"
    return f"{path}: cannot write ({e.strerror or e})"


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
        _fsync_dir(path.parent)
    except OSError as e:
        raise WriteError(describe_os_error(path, e)) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_json(path: Path, obj: Any) -> None:
    with atomic_open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def atomic_save_npz(path: Path, arrays: dict[str, np.ndarray], compress: bool = True) -> None:
    with atomic_open(path, "wb") as f:
        (np.savez_compressed if compress else np.savez)(f, **arrays)


def atomic_save_npy(path: Path, arr: np.ndarray) -> None:
    with atomic_open(path, "wb") as f:
        np.save(f, arr, allow_pickle=False)


def atomic_write_with(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    with atomic_open(path, "wb") as f:
        write(f)


# -- the writer ----------------------------------------------------------------------------------
def _json_row(row: dict[str, Any]) -> str:
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
    return json.dumps(clean, separators=(",", ":"))


def append_lines(path: Path, text: str) -> None:
    """Append whole lines and fsync them: a crash can cut only the last line short."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


class RunWriter:
    """Owns a run folder. Writes happen on one background thread, in order; errors surface on the next call."""

    def __init__(self, path: Path, save_checkpoint: Callable[[Any, IO[bytes]], None] | None = None):
        """``save_checkpoint(state, file)`` writes checkpoint.pt (gan_train passes ``torch.save``: the format's
        package never imports torch); a writer made without it writes everything else."""
        self.path = Path(path)
        self._save_checkpoint = save_checkpoint
        self._q: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=64)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="ganviz-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._q.get()
            try:
                if job is None:
                    return
                if self._error is None:
                    job()
            except BaseException as e:  # surfaced to the training thread by check()
                self._error = e
            finally:
                self._q.task_done()

    def check(self) -> None:
        if self._error is not None:
            e, self._error = self._error, None
            if isinstance(e, OSError):
                raise WriteError(describe_os_error(self.path, e)) from None
            raise e

    def submit(self, job: Callable[[], None]) -> None:
        self.check()
        self._q.put(job)

    def flush(self) -> None:
        """Wait until everything submitted is on disk."""
        self._q.join()
        self.check()

    def close(self) -> None:
        self._q.put(None)
        self._thread.join()
        self.check()

    # jobs
    def write_info(self, info: dict[str, Any]) -> None:
        snapshot = json.loads(json.dumps(info))  # freeze a copy: the caller keeps mutating its dict
        self.submit(lambda: atomic_write_json(self.path / RUN_FILE, snapshot))

    def write_fixed(self, arrays: dict[str, np.ndarray]) -> None:
        self.submit(lambda: atomic_save_npz(self.path / FIXED_FILE, arrays))

    def append_metrics(self, rows: list[dict[str, Any]]) -> None:
        self._append(METRICS_FILE, rows)

    def append_evals(self, rows: list[dict[str, Any]]) -> None:
        self._append(EVALS_FILE, rows)

    def append_evals_from(self, rows: Callable[[], list[dict[str, Any]]]) -> None:
        """evals.jsonl rows that ``rows()`` computes here, on the writer's thread, so the caller does not wait for
        them (a recorded loop's measures of samples G has already made)."""
        self.submit(lambda: append_lines(self.path / EVALS_FILE, "".join(_json_row(r) + "\n" for r in rows())))

    def _append(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Whole JSON lines appended and fsynced: a crash can cut only the last line short."""
        text = "".join(_json_row(r) + "\n" for r in rows)
        self.submit(lambda: append_lines(self.path / name, text))

    def write_snapshot(self, step: int, arrays: dict[str, np.ndarray]) -> None:
        self.submit(lambda: atomic_save_npz(self.path / SNAPSHOT_DIR / snapshot_name(step), arrays))

    def write_checkpoint(self, state: dict[str, Any]) -> None:
        save = self._save_checkpoint
        if save is None:
            raise TypeError("this RunWriter was made without save_checkpoint; it cannot write a checkpoint")

        def job() -> None:
            with atomic_open(self.path / CHECKPOINT_FILE, "wb") as f:
                save(state, f)

        self.submit(job)


class NullWriter:
    """Stands in for RunWriter on ranks other than 0 of a distributed run: they train but write nothing."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name in (
            "check",
            "flush",
            "close",
            "write_info",
            "write_fixed",
            "append_metrics",
            "write_snapshot",
            "write_checkpoint",
        ):
            return lambda *args, **kwargs: None
        raise AttributeError(name)


def truncate_metrics(path: Path, last_step: int) -> None:
    """Keep only rows with step <= last_step (resume after a crash): no duplicated or missing steps.

    Read with the reader's own rules: a line cut by the crash is dropped, damage elsewhere is an error,
    and so is a gap before the checkpoint (resuming would carry it forward silently). evals.jsonl is cut back
    to the same step.
    """
    f = path / METRICS_FILE
    keep = [r for r in read_metrics_rows(f) if r["step"] <= last_step]
    if [r["step"] for r in keep] != list(range(1, last_step + 1)):
        raise RunError(
            f"{f}: has {len(keep)} of the {last_step} steps before the checkpoint; "
            "the run cannot be resumed without a gap"
        )
    _rewrite(f, keep)
    if (path / EVALS_FILE).exists():
        _rewrite(path / EVALS_FILE, [r for r in read_eval_rows(path / EVALS_FILE) if r[EVALS.step] <= last_step])


def cut_back_to(path: Path, last_step: int, blank: Callable[[int], dict[str, Any]]) -> tuple[int, float]:
    """A recorded run continued after ``last_step`` (``Recorder(resume=...)``): temp files of a killed process
    removed, snapshots after the step deleted (latest first), metrics.jsonl and evals.jsonl cut back to it, each
    file rewritten atomically, so the folder reads at every moment.

    Rows up to the step that never reached the disk (the loop was killed before the Recorder wrote them) come back
    as ``blank(step)`` rows (every value missing), so steps run 1..last_step without a gap; a gap
    earlier in the file is an error. Returns (rows blanked, the ``time`` of the last row kept, 0.0 for none).
    """
    for folder in (path, path / SNAPSHOT_DIR):
        for p in folder.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                p.unlink()
    later = sorted((s, p) for p in (path / SNAPSHOT_DIR).glob("step_*.npz") if (s := snapshot_step(p.name)) is not None)
    for s, p in reversed(later):
        if s > last_step:
            p.unlink()
    f = path / METRICS_FILE
    keep = [r for r in read_metrics_rows(f) if r["step"] <= last_step]
    steps = [r["step"] for r in keep]
    if steps != list(range(1, len(keep) + 1)):
        raise RunError(f"{f}: steps 1..{last_step} have gaps before the last one recorded; the run cannot continue")
    elapsed = next((float(r["time"]) for r in reversed(keep) if isinstance(r.get("time"), (int, float))), 0.0)
    blanks = [blank(s) for s in range(len(keep) + 1, last_step + 1)]
    if f.exists() or blanks:
        _rewrite(f, keep + blanks)
    if (path / EVALS_FILE).exists():
        _rewrite(path / EVALS_FILE, [r for r in read_eval_rows(path / EVALS_FILE) if r[EVALS.step] <= last_step])
    return len(blanks), elapsed


def _rewrite(f: Path, rows: list[dict[str, Any]]) -> None:
    with atomic_open(f, "wb") as out:
        out.write("".join(_json_row(r) + "\n" for r in rows).encode())
