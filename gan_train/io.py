"""Atomic file writes: temp file in the same folder, fsync, rename. A crash leaves old or new, never half."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from pipeline.errors import GanvizError


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


LOCK_FILE = ".lock"


class RunLock:
    """An exclusive lock on a run folder while one process trains it, so a second ``--resume`` cannot
    interleave its writes with the first. ``flock`` on ``.lock``: the kernel drops it when the holder exits,
    even on SIGKILL, so a crash never leaves a stale lock. The file itself stays (it holds the last pid)."""

    def __init__(self, run_dir: Path):
        import fcntl

        path = Path(run_dir) / LOCK_FILE
        try:
            self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise WriteError(describe_os_error(path, e)) from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 32, 0).decode(errors="replace").strip() or "?"
            self.release()
            raise GanvizError(
                f"{run_dir}: another process (pid {holder}) is training this run; wait for it to "
                "finish or stop it (Ctrl-C saves a checkpoint), then --resume"
            ) from None
        except OSError:  # a file system without locks (some network mounts): train unguarded rather than refuse
            return
        with contextlib.suppress(OSError):  # the pid only makes the message friendlier (a full disk may refuse it)
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
