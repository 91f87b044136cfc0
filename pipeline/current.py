"""The run a scene shows, and how the renderer hands it over.

A scene file is run by manim, which constructs the Scene class itself, so the run cannot be passed as an argument:
the renderer names it in $GANVIZ_RUN (which also works for a scene file rendered by manim's own command), and inside
``handing_over(run)`` the scene gets that very Run object back rather than reading the folder again. The objects
travel in a context variable set for the block, not in module state: nothing outlives the render that set it, and
another thread (or a nested render) sees only its own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from ganviz.errors import RunError
from ganviz.reader import Run

#: The environment variable naming the run that scenes (and commands given no run) show.
RUN_ENV = "GANVIZ_RUN"
_handed: ContextVar[dict[Path, Run]] = ContextVar("ganviz_handed_runs", default={})  # noqa: B039 (never mutated)


@contextmanager
def handing_over(*runs: Run) -> Iterator[None]:
    """Inside the block, ``run_from_env`` returns these very Run objects for their folders.

    Sharing the object means metrics are parsed once for all scenes and each damaged file is warned about once,
    not once per scene.
    """
    token = _handed.set({**_handed.get(), **{r.path.resolve(): r for r in runs}})
    try:
        yield
    finally:
        _handed.reset(token)


def run_from_env(var: str = RUN_ENV) -> Run | None:
    """The run an environment variable names (None when unset); a bad value is an error naming the variable."""
    value = os.environ.get(var)
    if not value:
        return None
    handed = _handed.get().get(Path(value).resolve())
    if handed is not None:
        return handed
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
