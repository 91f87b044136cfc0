"""Real training of every variant on tiny data, and the contents of the run it writes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_run
from datafiles import write_cifar_py, write_jpegs, write_mnist

from gan_train.config import LOSSES
from pipeline.run import METRIC_COLUMNS, Run

TINY = {"steps": 6, "snapshot_every": 3, "log_every": 2}


def check_run(path, steps: int, kind: str):
    run = Run.load(path)
    info = json.loads((path / "run.json").read_text())
    assert info["format_version"] == 1 and info["status"] == "finished" and run.kind == kind
    for key in ("variant", "config", "seed", "device", "torch_version", "ganviz_version", "started"):
        assert key in info
    m = run.metrics
    assert list(m["step"]) == list(range(1, steps + 1))
    rows = [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]
    assert all(set(r) == set(METRIC_COLUMNS) for r in rows)
    for col in ("loss_d", "loss_g", "d_real", "d_fake", "d_fake_after", "acc_real", "acc_fake", "grad_norm_g"):
        assert np.isfinite(m[col]).all(), col
    for col in ("d_real", "d_fake", "acc_real", "acc_fake"):
        assert ((m[col] >= 0) & (m[col] <= 1)).all()
    assert (m["samples_per_s"] > 0).all() and (np.diff(m["time"]) >= 0).all()
    assert run.steps[0] == 0 and run.steps[-1] == steps
    snap = run.snapshot("end")
    n = len(run.fixed["noise"])
    assert snap.fake.shape[0] == n and snap["d_fake"].shape == (n,) and snap["d_real"].shape == (len(run.real),)
    assert snap["grad_norm_g"].shape == (len(info["layers_g"]),) and np.isfinite(snap["grad_norm_g"]).all()
    assert snap["grad_norm_d"].shape == (len(info["layers_d"]),)
    assert np.isnan(run.snapshot(0)["grad_norm_g"]).all()  # no gradient before the first step
    if kind == "image":
        assert snap.fake.dtype == np.uint8 and snap.fake.shape[1:] == run.real.shape[1:]
    else:
        assert snap.fake.dtype == np.float32
        assert snap["field"].shape == ((info["config"]["field_resolution"],) * (2 if kind == "toy2d" else 1))
        assert snap["grid_fake"].shape == (256, 2 if kind == "toy2d" else 1)
    return run


@pytest.mark.parametrize("variant", ["toy-gaussian", "toy-quadratic", "toy-rings", "toy-8gaussians", "dcgan-digits"])
def test_offline_variants_train(tmp_path, variant):
    run = check_run(
        make_run(tmp_path / "r", variant, batch_size=16, **TINY),
        6,
        {"toy-gaussian": "toy1d", "dcgan-digits": "image"}.get(variant, "toy2d"),
    )
    assert run.variant == variant


def test_vanilla_mnist_on_idx_files(tmp_path):
    write_mnist(tmp_path / "data", n=40)
    run = check_run(
        make_run(
            tmp_path / "r",
            "vanilla-mnist",
            data_root=str(tmp_path / "data"),
            batch_size=8,
            g_hidden="32,32",
            d_hidden="32,32",
            **TINY,
        ),
        6,
        "image",
    )
    assert run.snapshot("end").fake.shape == (64, 28, 28, 1)


def test_dcgan_cifar_on_python_batches(tmp_path):
    write_cifar_py(tmp_path / "data")
    run = check_run(
        make_run(
            tmp_path / "r",
            "dcgan-cifar",
            data_root=str(tmp_path / "data"),
            batch_size=8,
            ngf=8,
            ndf=8,
            n_fixed=8,
            **TINY,
        ),
        6,
        "image",
    )
    assert run.snapshot("end").fake.shape == (8, 32, 32, 3)


def test_dcgan_celeba_on_jpeg_folder(tmp_path):
    write_jpegs(tmp_path / "data" / "img_align_celeba", n=10)
    run = check_run(
        make_run(
            tmp_path / "r",
            "dcgan-celeba",
            data_root=str(tmp_path / "data"),
            batch_size=4,
            ngf=4,
            ndf=4,
            n_fixed=4,
            **TINY,
        ),
        6,
        "image",
    )
    assert run.snapshot("end").fake.shape == (4, 64, 64, 3)


@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_trains(tmp_path, loss):
    check_run(
        make_run(tmp_path / "r", "dcgan-digits", loss=loss, batch_size=8, ngf=8, ndf=8, n_fixed=8, **TINY), 6, "image"
    )


def test_minimax_run_records_the_saturating_loss(tmp_path):
    """The loop hands G's step the minimax loss: mean log(1 - D(G(z))) is negative and, by Jensen's inequality,
    at most log(1 - mean D(G(z))) of the same step (d_fake_after). The formulas: tests/test_losses.py."""
    run = Run.load(make_run(tmp_path / "r", "toy-gaussian", loss="minimax", **TINY))
    m = run.metrics
    assert (m["loss_g"] < 0).all()
    assert (m["loss_g"] <= np.log(1 - m["d_fake_after"]) + 1e-6).all()
    bce = Run.load(make_run(tmp_path / "b", "toy-gaussian", loss="bce", **TINY)).metrics
    assert (bce["loss_g"] > 0).all() and (bce["loss_g"] >= -np.log(bce["d_fake_after"]) - 1e-6).all()


def test_d_every_other_batch_leaves_gaps_in_d_grad_norm(tmp_path):
    run = Run.load(make_run(tmp_path / "r", "toy-rings", **TINY))
    gn = run.metrics["grad_norm_d"]
    assert np.isfinite(gn[0::2]).all() and np.isnan(gn[1::2]).all()


def test_same_seed_same_run(tmp_path):
    a = Run.load(make_run(tmp_path / "a", "toy-quadratic", seed=3, **TINY))
    b = Run.load(make_run(tmp_path / "b", "toy-quadratic", seed=3, **TINY))
    c = Run.load(make_run(tmp_path / "c", "toy-quadratic", seed=4, **TINY))
    np.testing.assert_array_equal(a.metrics["loss_d"], b.metrics["loss_d"])
    assert not np.array_equal(a.metrics["loss_d"], c.metrics["loss_d"])
