"""make_plots with jobs=2: metrics parsed in a forked process while snapshot figures are drawn; same files,
and a bad metrics file still leaves nothing behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.plots import make_plots
from pipeline.run import Run, RunError


def test_jobs_2_writes_the_same_pngs(image_run: Path, tmp_path: Path) -> None:
    one = make_plots(Run.load(image_run), tmp_path / "one", formats="png", dpi=40, progress=False)
    run = Run.load(image_run)
    two = make_plots(run, tmp_path / "two", formats="png", dpi=40, progress=False, jobs=2)
    assert sorted(p.name for p in one) == sorted(p.name for p in two)
    for p in one:
        if p.suffix == ".png":
            with Image.open(p) as a, Image.open(tmp_path / "two" / p.name) as b:
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert len(run.metrics["step"]) == len(Run.load(image_run).metrics["step"])  # the parsed columns came back


@pytest.mark.parametrize("damage", [b"", b'{"step": 1}\n{"step": 1}\n'])
def test_jobs_2_bad_metrics_leave_no_files(damage: bytes, image_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(image_run, run_dir)
    (run_dir / "metrics.jsonl").write_bytes(damage)
    out = tmp_path / "out"
    with pytest.raises(RunError, match="metrics"):
        make_plots(Run.load(run_dir), out, formats="png", dpi=40, progress=False, jobs=2)
    assert not out.exists()  # not even the folder
