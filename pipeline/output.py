"""Where a command's files go: ``output_folder`` makes it, and removes what a failed command left there."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from ganviz.errors import GanvizError
from ganviz.reader import Run


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
