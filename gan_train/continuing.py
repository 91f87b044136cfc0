"""A recorded run continued by a loop that resumed from its own checkpoint (``Recorder(..., resume=...)``): what
must match for the run to stay one run, and run.json as it goes on.

The loop restores its own models, optimisers and random state; the Recorder only cuts the folder back to the step
the loop continues after (ganviz/writer.py: ``cut_back_to``) and checks that the run it continues was recorded
with the same settings: the same kind of data, D read the same way, the same networks' layers and the same fixed
batches (fixed.npz), so every snapshot before and after the resume shows the same things.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from ganviz.errors import GanvizError, RunError
from ganviz.format import FIXED, FIXED_FILE, RUN_JSON

#: run.json config fields that a continued run must share with the run it continues.
SAME_CONFIG = ("d_output", "loss", "noise_shape", "n_fixed", "conditional", "field_resolution", "seed")
#: Schedule fields a continued run may change (run.json and its config then say the new values).
MAY_CHANGE = (RUN_JSON.total_steps, RUN_JSON.steps_per_epoch, RUN_JSON.snapshot_every)


class ContinueError(GanvizError):
    """The run in the folder cannot be continued by this Recorder; the message says why and what to do."""


def differs(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """The first setting in which run.json ``old`` and the Recorder's ``new`` fields differ, as words, or None."""
    pairs = [(RUN_JSON.kind, old.get(RUN_JSON.kind), new.get(RUN_JSON.kind))]
    old_cfg, new_cfg = old.get(RUN_JSON.config) or {}, new.get(RUN_JSON.config) or {}
    pairs += [(k, old_cfg.get(k), new_cfg.get(k)) for k in SAME_CONFIG]
    pairs += [(k, old.get(k), new.get(k)) for k in (RUN_JSON.layers_g, RUN_JSON.layers_d)]
    for name, was, now in pairs:
        if was != now:
            return f"{name} {was!r}, this Recorder {now!r}"
    return None


def fixed_differs(path: Path, arrays: dict[str, np.ndarray]) -> str | None:
    """Which array of the run's fixed.npz differs from the Recorder's fixed batches (None: all equal, or the file
    is missing: a loop killed before writing it)."""
    f = path / FIXED_FILE
    if not f.is_file():
        return None
    try:
        with np.load(f, allow_pickle=False) as saved:
            stored = {k: saved[k] for k in saved.files}
    except Exception as e:  # numpy reports a damaged zip in many ways
        raise RunError(f"{f}: damaged fixed.npz ({type(e).__name__}); the run cannot be continued") from None
    names = set(stored) | set(arrays)
    for name in [*(n for n in FIXED.names if n in names), *sorted(names - set(FIXED.names))]:  # noise, real first
        a, b = stored.get(name), arrays.get(name)
        if a is None or b is None or a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
            return name
    return None


def check_continues(path: Path, old: dict[str, Any], new: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Refuse, in one line, to continue a run recorded with other settings or other fixed batches."""
    what = differs(old, new)
    if what is None and (name := fixed_differs(path, arrays)) is not None:
        what = f"fixed batch '{name}' in {FIXED_FILE}, unlike this Recorder's (hand the same real and fixed_noise)"
    if what is not None:
        raise ContinueError(
            f"Recorder resume: {path} was recorded with {what}; continue it with the same settings, or record "
            "into a new folder"
        )


def continued_info(old: dict[str, Any], new: dict[str, Any], step: int, lost: int) -> dict[str, Any]:
    """run.json of the continued run: the old one, ``running`` again, with a ``resumed`` entry for ``step`` (``lost``:
    rows up to it that never reached the disk, recorded as missing) and the new schedule where the loop gave one."""
    info = dict(old)
    entry: dict[str, Any] = {"at_step": step, "time": dt.datetime.now().astimezone().isoformat()}
    entry["status"] = old.get(RUN_JSON.status)
    if lost:
        entry["lost_steps"] = lost
    for k in (RUN_JSON.error, RUN_JSON.finished):
        info.pop(k, None)
    info[RUN_JSON.status] = "running"
    info[RUN_JSON.resumed] = [*(old.get(RUN_JSON.resumed) or []), entry]
    for k in MAY_CHANGE:
        if new.get(k) is not None:
            info[k] = new[k]
    config = {**(old.get(RUN_JSON.config) or {})}
    for k in ("snapshot_every", "log_every", "batch_size"):
        config[k] = (new.get(RUN_JSON.config) or {}).get(k, config.get(k))
    info[RUN_JSON.config] = config
    if RUN_JSON.evals in new:
        info[RUN_JSON.evals] = new[RUN_JSON.evals]
    return info
