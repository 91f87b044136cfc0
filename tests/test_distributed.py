"""Data-parallel training on CPU: two gloo processes started by `ganviz train --nproc 2` and by torchrun."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from conftest import make_run

from pipeline.run import METRIC_COLUMNS, Run

TOY = {"steps": 6, "snapshot_every": 3, "log_every": 2, "seed": 5}


def ganviz(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def test_two_processes_match_one_process(tmp_path):
    """An MLP has no batch statistics, so 2 ranks averaging gradients on halves of each global batch must
    reproduce the single-process run: same schema, same numbers (up to float summation order)."""
    single = make_run(tmp_path / "single", "toy-quadratic", **TOY)
    sets = [a for k, v in TOY.items() if k not in ("steps", "snapshot_every") for a in ("--set", f"{k}={v}")]
    res = ganviz("train", "toy-quadratic", "--steps", "6", "--snapshot-every", "3", "--device", "cpu", "--quiet",
                 "--out", str(tmp_path / "ddp"), "--nproc", "2", *sets)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("run written to") == 1  # rank 0 alone reports and writes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp", "single"]

    a, b = Run.load(single), Run.load(tmp_path / "ddp")
    assert b.info["world_size"] == 2 and b.info["status"] == "finished"
    rows = [json.loads(line) for line in (tmp_path / "ddp" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 7)) and all(set(r) == set(METRIC_COLUMNS) for r in rows)
    assert b.steps == a.steps == [0, 3, 6]
    for col in ("loss_d", "loss_g", "d_real", "d_fake", "acc_real", "grad_norm_g", "grad_norm_d"):
        np.testing.assert_allclose(b.metrics[col], a.metrics[col], rtol=1e-4, atol=1e-6, err_msg=col)
    np.testing.assert_allclose(b.snapshot("end").fake, a.snapshot("end").fake, rtol=1e-4, atol=1e-5)


def test_torchrun_image_run_and_resume(tmp_path):
    """DCGAN (BatchNorm, channels_last) under plain torchrun, then resumed with --nproc 2."""
    out = tmp_path / "run"
    common = ["--device", "cpu", "--quiet", "--set", "ngf=8", "--set", "ndf=8", "--set", "n_fixed=8",
              "--set", "log_every=2", "--batch-size", "8", "--snapshot-every", "2"]  # fmt: skip
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m",
           "pipeline.cli", "train", "dcgan-digits", "--steps", "4", "--out", str(out), *common]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stderr
    res = ganviz("train", "--resume", str(out), "--steps", "6", "--nproc", "2", *common)
    assert res.returncode == 0, res.stderr

    run = Run.load(out)
    assert run.info["status"] == "finished" and [r["at_step"] for r in run.info["resumed"]] == [4]
    assert list(run.metrics["step"]) == list(range(1, 7))
    assert np.isfinite(run.metrics["loss_d"]).all() and np.isfinite(run.metrics["grad_norm_d"]).all()
    assert run.steps == [0, 2, 4, 6] and run.snapshot("end").fake.shape == (8, 28, 28, 1)


def test_batch_must_split_evenly_over_processes(tmp_path):
    res = ganviz("train", "toy-gaussian", "--steps", "2", "--batch-size", "7", "--device", "cpu", "--quiet",
                 "--out", str(tmp_path / "r"), "--nproc", "2")  # fmt: skip
    assert res.returncode != 0
    assert "error: --batch-size 7: must be a multiple of the 2 processes" in res.stderr
    assert "Traceback" not in res.stderr and res.stderr.count("error:") == 1


def test_torchrun_failure_is_one_line(tmp_path):
    """Under plain torchrun each rank checks the split itself; --nproc shows one line per distinct error."""
    res = ganviz("train", "toy-gaussian", "--steps", "2", "--device", "cpu", "--quiet", "--out", str(tmp_path / "r"),
                 "--nproc", "2", "--set", "data_root=/nonexistent", "--dataset", "folder")  # fmt: skip
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == ["error: --data-root /nonexistent: no such folder; point it at a "
                                               "folder of images"]  # fmt: skip
