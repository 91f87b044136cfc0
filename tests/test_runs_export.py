"""`ganviz runs` (what is under outputs/runs, and how each run ended) and `ganviz export` (TensorBoard, CSV)."""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from designed import make_designed_run

from gan_train.snapshots import RunWriter
from ganviz.lock import RunLock
from pipeline.cli import main
from pipeline.run import Run
from pipeline.runs import list_runs


def set_status(run: Path, status: str, **extra: object) -> None:
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": status, **extra}))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Six runs that ended in every way a run can, and one whose run.json is damaged."""
    root = tmp_path / "runs"
    for i, (name, status) in enumerate(
        [
            ("a-finished", "finished"),
            ("b-running", "running"),
            ("c-killed", "running"),
            ("d-interrupted", "interrupted"),
            ("e-diverged", "diverged"),
            ("f-stopped", "stopped"),
        ]
    ):
        run = make_designed_run(root / name, "toy1d", total_steps=200 + i)
        set_status(run, status, started=f"2026-01-0{i + 1}T10:00:00+00:00")
    (root / "g-damaged").mkdir()
    (root / "g-damaged" / "run.json").write_text("{not json")
    return root


def test_runs_lists_status_progress_scores_and_size(root: Path) -> None:
    with RunLock(root / "b-running"):  # a process is training it
        found = {r.name: r for r in list_runs(root)}
    listed = [r.name for r in list_runs(root)]  # oldest first (the damaged one has no start time)
    assert listed == ["g-damaged", "a-finished", "b-running", "c-killed", "d-interrupted", "e-diverged", "f-stopped"]
    status = {name: r.status for name, r in found.items()}
    assert status == {
        "a-finished": "finished",
        "b-running": "running",
        "c-killed": "crashed",
        "d-interrupted": "interrupted",
        "e-diverged": "diverged",
        "f-stopped": "stopped",
        "g-damaged": "unreadable",
    }
    a = found["a-finished"]
    assert (a.step, a.total) == (200, 200)  # the designed run logs every step
    assert a.d_real == pytest.approx(0.95 - 0.45) and a.d_fake == pytest.approx(0.05 + 0.40)  # t = 1 at the end
    assert a.bytes == sum(p.stat().st_size for p in (root / "a-finished").rglob("*") if p.is_file())


def test_runs_command_table_and_json(root: Path) -> None:
    res = CliRunner().invoke(main, ["runs", "--root", str(root)])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["run", "variant", "status", "steps", "D(x)", "D(G(z))", "size"]
    row = next(ln for ln in lines if ln.startswith("a-finished"))
    assert "finished" in row and "200 of 200" in row and "0.50" in row and "0.45" in row and "kB" in row
    assert "crashed" in next(ln for ln in lines if ln.startswith("c-killed"))
    data = json.loads(CliRunner().invoke(main, ["runs", "--root", str(root), "--json"]).stdout)
    assert {d["name"]: d["status"] for d in data}["e-diverged"] == "diverged"
    assert {"name", "path", "variant", "status", "step", "total", "d_real", "d_fake", "bytes"} <= set(data[0])
    res = CliRunner().invoke(main, ["runs", "--root", str(root / "nothing")])
    assert res.exit_code == 0 and "no runs under" in res.stderr


def test_export_csv_is_the_metrics(designed_toy2d: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["export", str(designed_toy2d), "--csv", str(tmp_path / "m.csv")])
    assert res.exit_code == 0, res.output
    with open(tmp_path / "m.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    m = Run.load(designed_toy2d).metrics
    assert len(rows) == len(m.step) and rows[0].keys() == set(m)
    np.testing.assert_allclose([float(r["loss_d"]) for r in rows], m.loss_d)
    assert [int(r["step"]) for r in rows] == m.step.tolist()


def test_export_tensorboard_reads_back_with_tensorboards_reader(designed_image: Path, tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = Path(shutil.copytree(designed_image, tmp_path / "r"))
    writer = RunWriter(run)
    writer.append_evals(
        [
            {"step": s, "measure": "fd", "value": 100.0 - s / 4, "space": "digits", "n_fake": 16, "n_real": 16}
            for s in (0, 100, 200)
        ]
    )
    writer.close()
    res = CliRunner().invoke(main, ["export", str(run), "--tensorboard", str(tmp_path / "tb")])
    assert res.exit_code == 0, res.output
    events = EventAccumulator(str(tmp_path / "tb"), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    tags = events.Tags()
    m = Run.load(run).metrics
    loss_d = events.Scalars("loss/D")
    assert [e.step for e in loss_d] == m.step.tolist()
    np.testing.assert_allclose([e.value for e in loss_d], m.loss_d, rtol=1e-6)
    np.testing.assert_allclose([e.value for e in events.Scalars("score/D(G(z))")], m.d_fake, rtol=1e-6)
    fd = events.Scalars("quality/fd (digits) n=16")
    assert [(e.step, e.value) for e in fd] == [(0, 100.0), (100, 75.0), (200, 50.0)]
    layer = next(t for t in tags["scalars"] if t.startswith("layer_grad_norm_G/"))
    assert [e.step for e in events.Scalars(layer)] == Run.load(run).steps[1:]  # no gradients at step 0
    images = events.Images("samples/fixed noise")
    assert [e.step for e in images] == Run.load(run).steps


def test_export_without_tensorboard_or_target_is_one_line(designed_toy1d: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if tensorboard were not installed
    res = CliRunner().invoke(main, ["export", str(designed_toy1d), "--tensorboard", str(tmp_path / "tb")])
    assert res.exit_code == 1 and res.stderr.count("\n") == 1 and "pip install 'ganviz[tensorboard]'" in res.stderr
    assert not (tmp_path / "tb").exists()
    res = CliRunner().invoke(main, ["export", str(designed_toy1d)])
    assert res.exit_code == 1 and "nothing to export" in res.stderr
