"""The run format, at the bottom of ganviz: both stages import it, it imports neither (nor torch, nor the CLI).

``ganviz.format`` declares every file, field and array of a run folder; ``validate`` checks its JSON files as they
are read, ``records`` holds what is read (snapshots, the fixed batches, metric columns, eval series), ``reader`` is
``Run``, ``writer`` writes a run (atomic files, ``RunWriter``), ``lock`` is the run lock. docs/architecture.md draws
the layers; tests/test_layers.py holds the code to them.

The package is named after the distribution because that is the one top-level name ganviz owns on an index: the
other three (``gan_train``, ``pipeline``, ``scenes``) are generic, and another installed distribution may provide
one of them too. ``name_clashes`` finds that; the ``ganviz`` command (``ganviz.__main__``) checks it first.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

#: The top-level packages the ganviz distribution installs besides this one (pyproject.toml: packages).
STAGES = ("gan_train", "pipeline", "scenes")


def name_clashes() -> list[str]:
    """One line per stage package that resolves to a folder other than the one installed beside this package
    (another distribution's ``pipeline`` or ``scenes`` earlier on sys.path, or a half-removed install)."""
    home = Path(__file__).resolve().parent.parent
    clashes = []
    for name in STAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None else None
        where = Path(origin).resolve().parent.parent if origin else None
        if where != home:
            found = f"found at {Path(origin).parent}" if origin else "not found (a namespace or no package)"
            clashes.append(f"'{name}' is not ganviz's: {found}, expected {home / name}")
    return clashes
