"""Real training of every variant on tiny data, and the contents of the run it writes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_run
from datafiles import write_cifar_py, write_jpegs, write_mnist

from gan_train.config import LOSSES
from pipeline.run import FORMAT_VERSION, METRIC_COLUMNS, Run

TINY = {"steps": 6, "snapshot_every": 3, "log_every": 2}


def check_run(path, steps: int, kind: str):
    run = Run.load(path)
    info = json.loads((path / "run.json").read_text())
    assert info["format_version"] == FORMAT_VERSION and info["status"] == "finished" and run.kind == kind
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
    g_layers, d_layers = run.layers("g"), run.layers("d")
    assert [layer.name for layer in g_layers] == info["layers_g"] and len(d_layers) == len(info["layers_d"])
    assert all(layer.type and layer.shape for layer in g_layers + d_layers)
    assert np.prod(d_layers[-1].shape) == 1  # D's last layer: one score per sample
    if kind == "image":
        assert snap.fake.dtype == np.uint8 and snap.fake.shape[1:] == run.real.shape[1:]
        h, w, c = snap.fake.shape[1:]
        assert np.prod(g_layers[-1].shape) == h * w * c  # G's last layer makes the picture
    else:
        assert snap.fake.dtype == np.float32
        assert snap["field"].shape == ((info["config"]["field_resolution"],) * (2 if kind == "toy2d" else 1))
        assert snap["grid_fake"].shape == (256, 2 if kind == "toy2d" else 1)
        assert g_layers[-1].shape == snap.fake.shape[1:]
        assert snap.fake_grad.shape == snap.fake.shape and snap.fake_grad.dtype == np.float32
        assert np.isfinite(snap.fake_grad).all()
    return run


def test_layer_shapes_and_types_are_the_networks_outputs(tmp_path):
    """dcgan-digits with ngf = ndf = 8: G z -> 16x7x7 (+BN) -> 8x14x14 (+BN) -> 1x28x28, D the mirror to 1x1x1;
    toy-rings' MLPs G 100 -> 128 -> 256 -> 256 -> 2 and D 2 -> 128 -> 256 -> 128 -> 1."""
    digits = Run.load(make_run(tmp_path / "d", "dcgan-digits", batch_size=8, ngf=8, ndf=8, n_fixed=8, **TINY))
    conv_t, bn, conv = "ConvTranspose2d", "BatchNorm2d", "Conv2d"
    assert [(x.type, x.shape) for x in digits.layers("g")] == [
        (conv_t, (16, 7, 7)), (bn, (16, 7, 7)), (conv_t, (8, 14, 14)), (bn, (8, 14, 14)), (conv_t, (1, 28, 28))
    ]  # fmt: skip
    assert [(x.type, x.shape) for x in digits.layers("d")] == [
        (conv, (8, 14, 14)), (conv, (16, 7, 7)), (bn, (16, 7, 7)), (conv, (1, 1, 1))
    ]  # fmt: skip
    rings = Run.load(make_run(tmp_path / "r", "toy-rings", batch_size=16, **TINY))
    assert [(x.type, x.shape) for x in rings.layers("g")] == [("Linear", (n,)) for n in (128, 256, 256, 2)]
    assert [x.shape for x in rings.layers("d")] == [(128,), (256,), (128,), (1,)]


@pytest.mark.parametrize("loss", ["bce", "minimax"])
def test_fake_grad_is_where_gs_loss_pushes_each_point(tmp_path, loss):
    """fake_grad = -N dL_G/dx_i. G's loss per point is softplus(-l) for bce and -softplus(l) for minimax (l: D's
    logit), so -dL/dx = sigmoid(-l) grad l and sigmoid(l) grad l: checked against central differences of the
    logit of D as checkpointed at the last step (the step the last snapshot was taken at), dropout off."""
    import torch

    from gan_train.config import apply_overrides, get_variant
    from gan_train.models import build_models

    path = make_run(tmp_path / "r", "toy-rings", loss=loss, batch_size=16, toy_fixed=32, **TINY)
    run = Run.load(path)
    _, d = build_models(apply_overrides(get_variant("toy-rings"), {"loss": loss}))
    d.load_state_dict(torch.load(path / "checkpoint.pt", weights_only=True)["d"])
    d.eval().double()
    snap = run.snapshot("end")
    x = torch.from_numpy(snap.fake).double()
    with torch.no_grad():
        logit = d(x)
        eps = 1e-7  # small: a step across a LeakyReLU kink would bend the difference
        grad = torch.stack(
            [(d(x + eps * e) - d(x - eps * e)) / (2 * eps) for e in torch.eye(2, dtype=torch.float64)], dim=1
        )
    weight = torch.sigmoid(-logit) if loss == "bce" else torch.sigmoid(logit)
    want = (weight[:, None] * grad).numpy()
    np.testing.assert_allclose(snap.fake_grad, want, rtol=1e-3, atol=1e-6 * np.abs(want).max())
    assert np.abs(want).max() > 0


@pytest.mark.parametrize("variant", ["toy-gaussian", "toy-quadratic", "toy-rings", "dcgan-digits"])
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
