"""Shared fixtures: small *real* runs (for what training writes) and *designed* runs (for what is drawn).

Also two guards for the whole session: the dataset cache goes to a temporary folder, and the session fails
when a test left anything under the checkout's ``outputs/`` or ``media/`` (tests write into their tmp_path only).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# One thread per test worker: pytest -n 2 on 2 cores, and subprocesses inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Decoded-dataset caches of this session (and of the CLI subprocesses and test workers it starts, which inherit
# the variable) stay out of the checkout, in one folder the process that made it removes when it exits.
if "GANVIZ_CACHE_DIR" not in os.environ:
    os.environ["GANVIZ_CACHE_DIR"] = tempfile.mkdtemp(prefix="ganviz-test-cache-")
    atexit.register(shutil.rmtree, os.environ["GANVIZ_CACHE_DIR"], ignore_errors=True)
# fp32 everywhere: 'amp=auto' would pick bf16 on CPUs that compute it natively and fp32 on others, so the same test
# would run different arithmetic from machine to machine (tests/test_amp.py lifts this to test the choice itself)
os.environ.setdefault("GANVIZ_AMP", "off")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
from designed import make_designed_run  # noqa: E402
from manim import config as manim_config  # noqa: E402  (at import: a mutation run's fork server loads it once)

from gan_train.config import apply_overrides, get_variant  # noqa: E402
from gan_train.train import train  # noqa: E402

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = ROOT / "outputs"
MEDIA = ROOT / "media"  # manim's default media folder (its Text cache) when a test builds mobjects outside a render


def make_run(out: Path, variant: str, **overrides: object) -> Path:
    cfg = apply_overrides(get_variant(variant), {"device": "cpu", **overrides})
    return train(cfg, out=out, progress=False)


# -- real runs: what training writes (shapes, schedule, finiteness), never what it learned ------------------
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


# -- designed runs: known content, for every check of what a plot, GIF or scene shows -----------------------
@pytest.fixture(scope="session")
def designed_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Image run: 11 snapshots blending seeded noise into 16 known bar pictures (tests/designed.py)."""
    return make_designed_run(tmp_path_factory.mktemp("designed") / "image", "image")


@pytest.fixture(scope="session")
def designed_toy2d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2-D run: points move from a blob at the origin onto the two arcs; D's boundary sweeps left to right."""
    return make_designed_run(tmp_path_factory.mktemp("designed") / "toy2d", "toy2d", n=64)


@pytest.fixture(scope="session")
def designed_toy1d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1-D run: samples move from N(0, 0.2²) to N(4, 0.5²)."""
    return make_designed_run(tmp_path_factory.mktemp("designed") / "toy1d", "toy1d", n=64)


# -- xdist groups: one worker per group ---------------------------------------------------------------------
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give grouped tests their '@group' node-id suffix, which `--dist loadgroup` schedules by.

    pytest-xdist 3.8 writes it into ``item._nodeid``, which pytest 9.2 no longer reads (pytest-xdist#1386):
    every xdist_group mark was silently ignored, and the module fixtures that render all scenes or train and
    render the demo ran once on each worker. Workers only; a no-op once xdist sets the suffix itself.
    """
    if not getattr(config.option, "loadgroup", False) or not hasattr(config, "workerinput"):
        return
    for item in items:
        names = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        )
        suffix = f"@{'_'.join(names)}"
        if names and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
            item._id = type(item._id).parse(item.nodeid + suffix)


# -- the checkout stays clean --------------------------------------------------------------------------------
def _listing() -> set[str]:
    return {str(p.relative_to(ROOT)) for d in (OUTPUTS, MEDIA) if d.is_dir() for p in d.rglob("*")}


@pytest.fixture(autouse=True, scope="session")
def _manim_media_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Mobjects built outside a render (scene helpers under test) cache their text in manim's media folder:
    a temporary one, not ./media of the checkout."""
    manim_config.media_dir = str(tmp_path_factory.mktemp("manim-media"))


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config._outputs_before = _listing()  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):  # xdist workers: the controller checks once, after all of them
        return
    new = sorted(_listing() - session.config._outputs_before)  # type: ignore[attr-defined]
    if new:
        shown = ", ".join(new[:8]) + (f" and {len(new) - 8} more" if len(new) > 8 else "")
        print(f"\nerror: tests wrote into the checkout's outputs/ or media/: {shown}; write into tmp_path instead")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
