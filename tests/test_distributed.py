"""Data-parallel training on CPU: two gloo processes started by `ganviz train --nproc 2` and by torchrun."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.distributed as tdist
import torch.multiprocessing as mp
from conftest import make_run

from gan_train.config import apply_overrides, get_variant
from gan_train.distributed import Ranks
from gan_train.losses import d_loss, g_loss
from gan_train.models import build_models
from gan_train.trainer import Trainer, train_step
from pipeline.run import METRIC_COLUMNS, Run

TOY = {"steps": 6, "snapshot_every": 3, "log_every": 2, "seed": 5}


def ganviz(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    ("extra", "ddp_only"),
    [({}, {}), ({"loss": "wgan-gp", "d_every": 2}, {}), ({}, {"data_memory": "1K"})],
    ids=["bce", "wgan-gp", "streamed"],
)
def test_two_processes_match_one_process(tmp_path, extra, ddp_only):
    """An MLP has no batch statistics, so 2 DDP ranks on halves of each global batch must reproduce the
    single-process run: same schema, same numbers (up to float summation order). The wgan-gp case also
    checks the gradient penalty (double backward through D under DDP) and steps that skip D's update; the
    streamed case has each rank stream its rows from the memory-mapped data (a 1 KB budget) against one
    process holding the set in memory."""
    opts = {**TOY, **extra}
    single = make_run(tmp_path / "single", "toy-quadratic", **opts)
    sets = [
        a
        for k, v in {**opts, **ddp_only}.items()
        if k not in ("steps", "snapshot_every")
        for a in ("--set", f"{k}={v}")
    ]
    res = ganviz(
        "train",
        "toy-quadratic",
        "--steps",
        "6",
        "--snapshot-every",
        "3",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        str(tmp_path / "ddp"),
        "--nproc",
        "2",
        *sets,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("run written to") == 1  # rank 0 alone reports and writes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp", "single"]

    a, b = Run.load(single), Run.load(tmp_path / "ddp")
    assert b.info["world_size"] == 2 and b.info["status"] == "finished"
    assert (a.info["data"]["path"], b.info["data"]["path"]) == ("in-memory", "streamed" if ddp_only else "in-memory")
    rows = [json.loads(line) for line in (tmp_path / "ddp" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 7)) and all(set(r) == set(METRIC_COLUMNS) for r in rows)
    assert b.steps == a.steps == [0, 3, 6]
    for col in ("loss_d", "loss_g", "d_real", "d_fake", "acc_real", "grad_norm_g", "grad_norm_d"):
        np.testing.assert_allclose(b.metrics[col], a.metrics[col], rtol=1e-4, atol=1e-6, err_msg=col)
    np.testing.assert_allclose(b.snapshot("end").fake, a.snapshot("end").fake, rtol=1e-4, atol=1e-5)


def test_torchrun_image_run_and_resume(tmp_path):
    """DCGAN (BatchNorm, channels_last) under plain torchrun, then resumed with --nproc 2."""
    out = tmp_path / "run"
    common = [
        "--device",
        "cpu",
        "--quiet",
        "--set",
        "ngf=8",
        "--set",
        "ndf=8",
        "--set",
        "n_fixed=8",
        "--set",
        "log_every=2",
        "--batch-size",
        "8",
        "--snapshot-every",
        "2",
    ]
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "pipeline.cli",
        "train",
        "dcgan-digits",
        "--steps",
        "4",
        "--out",
        str(out),
        *common,
    ]
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
    res = ganviz(
        "train",
        "toy-gaussian",
        "--steps",
        "2",
        "--batch-size",
        "7",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        str(tmp_path / "r"),
        "--nproc",
        "2",
    )
    assert res.returncode != 0
    assert "error: --batch-size 7: must be a multiple of the 2 processes" in res.stderr
    assert "Traceback" not in res.stderr and res.stderr.count("error:") == 1


def test_torchrun_failure_is_one_line(tmp_path):
    """Under plain torchrun each rank checks the split itself; --nproc shows one line per distinct error."""
    res = ganviz(
        "train",
        "toy-gaussian",
        "--steps",
        "2",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        str(tmp_path / "r"),
        "--nproc",
        "2",
        "--set",
        "data_root=/nonexistent",
        "--dataset",
        "folder",
    )
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [
        "error: --data-root /nonexistent: no such folder; point it at a folder of images"
    ]


# -- DCGAN (BatchNorm): DDP's train_step against data parallelism written out in one process ------------------
DCGAN = apply_overrides(get_variant("dcgan-digits"), {"ngf": 8, "ndf": 8, "batch_size": 8, "device": "cpu"})
DC_STEPS = 3


def _dcgan_setup() -> tuple:
    """Identical models, optimisers and global batches in every process (seeded)."""
    torch.manual_seed(3)
    g, d = build_models(DCGAN)
    opt_g = torch.optim.Adam(g.parameters(), DCGAN.lr_g, betas=(DCGAN.beta1, DCGAN.beta2))
    opt_d = torch.optim.Adam(d.parameters(), DCGAN.lr_d, betas=(DCGAN.beta1, DCGAN.beta2))
    batches = [
        (torch.rand(DCGAN.batch_size, 1, 28, 28) * 2 - 1, torch.randn(DCGAN.batch_size, DCGAN.noise_dim))
        for _ in range(DC_STEPS)
    ]
    return g, d, opt_g, opt_d, batches


def _dcgan_rank(rank: int, world: int, init_file: str, out: str) -> None:
    torch.set_num_threads(1)
    tdist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    ranks = Ranks(rank, world, rank)
    g, d, opt_g, opt_d, batches = _dcgan_setup()
    trainer = Trainer.from_parts(DCGAN, ranks.wrap(g), ranks.wrap(d), opt_g, opt_d, ranks=ranks)
    vecs = []
    for real, z in batches:
        vec = train_step(trainer, ranks.shard(real), ranks.shard(z), True).vector()
        vecs.append(ranks.average(vec))
    torch.save({"g": g.state_dict(), "d": d.state_dict(), "vecs": torch.stack(vecs)}, f"{out}.{rank}")
    tdist.destroy_process_group()


def test_dcgan_batchnorm_ranks_equal_written_out_data_parallel(tmp_path):
    """DCGAN's G and D use BatchNorm, so 2 ranks normalise over their own halves (and D sees real and fake as
    separate batches, as in one process). The reference does that in one process: every half through the plain
    models on its own, half-losses averaged, one backward per model. DDP must give the same weights on
    both ranks after 3 steps, and the same losses."""
    out = str(tmp_path / "state")
    mp.spawn(_dcgan_rank, args=(2, str(tmp_path / "init"), out), nprocs=2, join=True)
    r0, r1 = torch.load(f"{out}.0"), torch.load(f"{out}.1")

    g, d, opt_g, opt_d, batches = _dcgan_setup()
    losses = []
    for real, z in batches:
        fakes = [g(z[r::2]) for r in range(2)]
        opt_d.zero_grad(set_to_none=True)
        ld = sum(d_loss("bce", d(real[r::2]), d(fakes[r].detach()), DCGAN.real_label) for r in range(2)) / 2
        ld.backward()
        opt_d.step()
        d.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        lg = sum(g_loss("bce", d(fakes[r])) for r in range(2)) / 2
        lg.backward()
        opt_g.step()
        d.requires_grad_(True)
        losses.append([ld.item(), lg.item()])
    np.testing.assert_allclose(r0["vecs"][:, :2].numpy(), np.array(losses), rtol=1e-4)
    for name in ("g", "d"):
        ref = (g if name == "g" else d).state_dict()
        for key, want in ref.items():
            if "running" in key or "num_batches" in key:
                continue  # BatchNorm's running statistics: DDP broadcasts rank 0's, never used in training mode
            assert key in r0[name], key  # unprefixed keys: checkpoints fit any process count
            torch.testing.assert_close(r0[name][key], r1[name][key], rtol=0, atol=0, msg=f"ranks differ: {key}")
            torch.testing.assert_close(r0[name][key], want, rtol=1e-4, atol=1e-5, msg=f"{name}.{key}")
