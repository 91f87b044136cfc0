"""`ganviz runs`: every run under a folder, with what a person asks first: what, how far, how it ended, how big.

Cheap for big runs: it reads run.json and only the end of metrics.jsonl, never the snapshots. A run whose
run.json says ``running`` but whose lock no process holds was killed (or its machine died): it is ``crashed``.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ganviz.errors import RunError
from ganviz.format import DEFAULT_ROOT, METRICS, METRICS_FILE, RUN_JSON
from ganviz.lock import is_training
from ganviz.validate import read_run_json


@dataclass(frozen=True)
class RunSummary:
    """One row of `ganviz runs`."""

    name: str
    path: str
    variant: str
    status: str  # finished, running, interrupted, stopped, diverged, crashed, or unreadable
    step: int  # the last step with a metrics row
    total: int | None
    d_real: float | None  # D(x) and D(G(z)) of that step
    d_fake: float | None
    bytes: int
    started: str


def last_row(f: Path, window: int = 1 << 16) -> dict | None:
    """The last complete JSON line of a file that only grows, read from its end (a cut last line is skipped)."""
    try:
        with open(f, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - window))
            tail = fh.read()
    except OSError:
        return None
    for line in reversed(tail.split(b"\n")):
        with contextlib.suppress(ValueError):
            row = json.loads(line)
            if isinstance(row, dict):
                return row
    return None


def folder_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).stat().st_size
    return total


def summarize(run_dir: Path) -> RunSummary:
    """The summary of one run folder; a damaged run.json is listed as ``unreadable``, not an error."""
    try:
        info = read_run_json(run_dir)
    except RunError:
        return RunSummary(run_dir.name, str(run_dir), "?", "unreadable", 0, None, None, None, folder_bytes(run_dir), "")
    status = str(info.get(RUN_JSON.status, "?"))
    if status == "running" and not is_training(run_dir):
        status = "crashed"
    row = last_row(run_dir / METRICS_FILE) or {}

    def num(key: str) -> float | None:
        v = row.get(key)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

    step = row.get(METRICS.step)
    total = info.get(RUN_JSON.total_steps)
    return RunSummary(
        name=run_dir.name,
        path=str(run_dir),
        variant=str(info.get(RUN_JSON.variant) or "custom"),
        status=status,
        step=step if isinstance(step, int) and not isinstance(step, bool) else 0,
        total=total if isinstance(total, int) and not isinstance(total, bool) else None,
        d_real=num(METRICS.d_real),
        d_fake=num(METRICS.d_fake),
        bytes=folder_bytes(run_dir),
        started=str(info.get(RUN_JSON.started, "")),
    )


def list_runs(root: Path = DEFAULT_ROOT) -> list[RunSummary]:
    """Every folder under ``root`` with a run.json, oldest first."""
    if not root.is_dir():
        return []
    runs = [summarize(p) for p in root.iterdir() if (p / "run.json").is_file()]
    return sorted(runs, key=lambda r: (r.started, r.name))


def human_size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def table(runs: list[RunSummary]) -> str:
    """The runs as an aligned text table, one line each."""
    head = ("run", "variant", "status", "steps", "D(x)", "D(G(z))", "size")
    rows = [
        (
            r.name,
            r.variant,
            r.status,
            f"{r.step:,} of {r.total:,}" if r.total is not None else f"{r.step:,}",
            "-" if r.d_real is None else f"{r.d_real:.2f}",
            "-" if r.d_fake is None else f"{r.d_fake:.2f}",
            human_size(r.bytes),
        )
        for r in runs
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    right = {3, 4, 5, 6}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(head), *(line(r) for r in rows)])


def as_json(runs: list[RunSummary]) -> str:
    return json.dumps([asdict(r) for r in runs], indent=2)
