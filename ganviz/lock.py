"""The run lock: one process writes a run folder at a time (training, ``ganviz eval``), and ``ganviz runs`` asks
whether a process holds it. Declared here once, for the writer and the listing alike."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ganviz.errors import GanvizError
from ganviz.writer import WriteError, describe_os_error

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


def is_training(run_dir: Path) -> bool:
    """Whether a process holds the run's lock right now (flock: the kernel drops it when the holder dies)."""
    import fcntl

    try:
        fd = os.open(Path(run_dir) / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # a file system without locks: nothing can be said
        return False
    finally:
        os.close(fd)  # also drops the shared lock taken above
    return False
