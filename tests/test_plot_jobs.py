"""make_plots with jobs=2: metrics parsed in a forked process while snapshot figures are drawn; same files,
and a bad metrics file still leaves nothing behind."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline import plots
from pipeline.plots import make_plots
from pipeline.run import Run, RunError

_PARSE = plots._parse_metrics


def _parse_with_pid() -> tuple[dict[str, np.ndarray], list]:
    """The forked parse, telling which process ran it (module level: the pool pickles it by name)."""
    metrics, notes = _PARSE()
    return {**metrics, "_pid": np.array(os.getpid())}, notes


def test_jobs_2_writes_the_same_pngs(image_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """jobs=1 (all in this process) and jobs=2 (metrics parsed in a forked process meanwhile) draw the same
    pixels. Which path ran is told by the pid the parse reports (the default jobs is 2 on 2 CPUs, so both
    calls say their jobs)."""
    monkeypatch.setattr(plots, "_parse_metrics", _parse_with_pid)
    run_1, run_2 = Run.load(image_run), Run.load(image_run)
    one = make_plots(run_1, tmp_path / "one", formats="png", dpi=40, progress=False, jobs=1)
    two = make_plots(run_2, tmp_path / "two", formats="png", dpi=40, progress=False, jobs=2)
    assert "_pid" not in run_1.metrics  # parsed here, by the drawing process
    assert int(run_2.metrics["_pid"]) != os.getpid()  # parsed in the forked process
    assert sorted(p.name for p in one) == sorted(p.name for p in two)
    for p in one:
        with Image.open(p) as a, Image.open(tmp_path / "two" / p.name) as b:
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert p.read_bytes() == (tmp_path / "two" / p.name).read_bytes(), p.name  # whole files, byte for byte
    for col in run_1.metrics:  # the parsed columns came back whole
        np.testing.assert_array_equal(run_1.metrics[col], run_2.metrics[col])


@pytest.mark.parametrize("damage", [b"", b'{"step": 1}\n{"step": 1}\n'])
def test_jobs_2_bad_metrics_leave_no_files(damage: bytes, image_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(image_run, run_dir)
    (run_dir / "metrics.jsonl").write_bytes(damage)
    out = tmp_path / "out"
    with pytest.raises(RunError, match="metrics"):
        make_plots(Run.load(run_dir), out, formats="png", dpi=40, progress=False, jobs=2)
    assert not out.exists()  # not even the folder it created
    out.mkdir()
    with pytest.raises(RunError, match="metrics"):
        make_plots(Run.load(run_dir), out, formats="png", dpi=40, progress=False, jobs=2)
    assert not list(out.iterdir())  # a folder that was there stays, with nothing written into it
