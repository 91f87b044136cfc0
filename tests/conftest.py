"""Shared fixtures: small *real* runs, trained once per test session on tiny settings."""

from __future__ import annotations

import os

# One thread per test worker: pytest -n 2 on 2 cores, and subprocesses inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from gan_train.config import apply_overrides, get_variant  # noqa: E402
from gan_train.train import train  # noqa: E402

torch.set_num_threads(1)


def make_run(out: Path, variant: str, **overrides: object) -> Path:
    cfg = apply_overrides(get_variant(variant), {"device": "cpu", **overrides})
    return train(cfg, out=out, progress=False)


@pytest.fixture(scope="session")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dcgan-digits, 40 steps of batch 16, 10 snapshots (28x28 grayscale)."""
    out = tmp_path_factory.mktemp("runs") / "digits"
    return make_run(out, "dcgan-digits", steps=40, batch_size=16, ngf=8, ndf=8, snapshot_every=4, n_fixed=16)


@pytest.fixture(scope="session")
def toy2d_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """toy-rings, 60 steps, 12 snapshots, smaller D field."""
    out = tmp_path_factory.mktemp("runs") / "rings"
    return make_run(out, "toy-rings", steps=60, snapshot_every=5, field_resolution=32, toy_fixed=256)


@pytest.fixture(scope="session")
def toy1d_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """toy-gaussian, 60 steps, 12 snapshots."""
    out = tmp_path_factory.mktemp("runs") / "gauss"
    return make_run(out, "toy-gaussian", steps=60, snapshot_every=5, toy_fixed=256)
