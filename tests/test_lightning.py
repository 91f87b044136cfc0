"""A Lightning GAN under manual optimisation, recorded by gan_train.lightning.LightningRecorder: the example of
docs/record-your-gan.md runs as written but for a few batches on the CPU, and the run it leaves is read back with
ganviz's reader: one row per batch (not per optimiser step), every handed value, the gradient norms of the
optimiser hook (so it fires under LightningOptimizer), the snapshots. Then what ends a fit (an error, Ctrl-C, early
stopping) marks the run, and a rank other than zero records nothing.

Nothing here asserts what the few batches learned: only what was recorded.
"""

from __future__ import annotations

import importlib.util
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from gan_train.recorder import HANDED, RecorderError
from ganviz.reader import Run

if TYPE_CHECKING:
    from gan_train.lightning import LightningRecorder

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("lightning") is None,
        reason="Lightning is not installed: pip install 'ganviz[lightning]'",
    ),
    # Lightning is imported by the first test that runs (~5 s), not when every worker collects; one worker runs all
    pytest.mark.xdist_group("lightning"),
]

ROOT = Path(__file__).resolve().parent.parent
QUIET = "accelerator='cpu', enable_progress_bar=False, logger=False, enable_checkpointing=False"
QUIET += ", enable_model_summary=False"


def doc_example() -> str:
    """docs/record-your-gan.md's Lightning example, for 6 batches (12 optimiser steps) of 64, a snapshot every 2."""
    text = (ROOT / "docs" / "record-your-gan.md").read_text(encoding="utf-8")
    code = text.split("## A Lightning GAN, recorded", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    changes = {
        "eight_gaussians(25_600)": "eight_gaussians(640)",
        "batch_size=256": "batch_size=64",
        "snapshot_every=50": "snapshot_every=2",
        "pl.Trainer(max_epochs=20,": f"pl.Trainer(max_steps=12, {QUIET},",
    }
    for old, new in changes.items():
        assert old in code, old
        code = code.replace(old, new)
    return code


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The namespace the documented example leaves (its trainer, recorder and GAN class), run in a new folder."""
    where = tmp_path_factory.mktemp("lightning")
    ns: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(where)
        exec(compile(doc_example(), "record-your-gan.md", "exec"), ns)
    ns["run_dir"] = where / "outputs" / "runs" / "my-lightning-gan"
    return ns


def test_the_documented_lightning_example_records_one_row_per_batch(example: dict[str, Any]) -> None:
    run = Run.load(example["run_dir"])
    assert example["trainer"].global_step == 12 and example["recorder"].batches == 6  # 2 optimiser steps a batch
    assert run.status == "finished" and run.kind == "toy2d" and run.info["total_steps"] == 6
    m = run.metrics
    assert m.step.tolist() == [1, 2, 3, 4, 5, 6] and m.epoch.tolist() == [0] * 6
    for name in HANDED:  # every value training_step returned, in every row
        assert np.isfinite(getattr(m, name)).all(), name
    assert ((m.d_real >= 0) & (m.d_real <= 1)).all() and run.info["d_scores"] == "probability"


def test_gradient_norms_come_from_the_hook_under_lightning_optimizers(example: dict[str, Any]) -> None:
    run = Run.load(example["run_dir"])
    m = run.metrics
    assert np.isfinite(m.grad_norm_g).all() and np.isfinite(m.grad_norm_d).all()  # the hook fired every batch
    assert (m.grad_norm_g > 0).all() and (m.grad_norm_d > 0).all()
    assert np.allclose(m.lr_g, 1e-3) and np.allclose(m.lr_d, 1e-3)
    norms = run.layer_grad_norms()
    assert run.info["layer_types_g"] == ["Linear"] * 3 and run.info["layer_types_d"] == ["Linear"] * 3
    for net in ("g", "d"):
        steps, names, per_layer = norms[net]
        assert steps.tolist() == [0, 2, 4, 6] and len(names) == 3 and per_layer.shape == (3, 4)
        assert np.isnan(per_layer[:, 0]).all() and np.isfinite(per_layer[:, 1:]).all()  # none before the first step


def test_snapshots_show_g_on_fixed_noise(example: dict[str, Any]) -> None:
    run = Run.load(example["run_dir"])
    assert run.steps == [0, 2, 4, 6]
    assert run.fixed.noise.shape == (64, 8) and run.fixed.real.shape == (64, 2)  # n_fixed: one first batch
    first, last = run.snapshot(0), run.snapshot(6)
    assert first.fake.shape == last.fake.shape == (64, 2) and not np.array_equal(first.fake, last.fake)


def ending(how: str) -> Any:
    """A callback that ends the fit after its second batch the way ``how`` says."""
    import lightning.pytorch as pl

    class Ending(pl.Callback):
        def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
            if batch_idx == 2 and how == "crash":
                raise RuntimeError("the loss went to the moon")
            if batch_idx == 2 and how == "ctrl-c":
                raise KeyboardInterrupt

        def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
            if batch_idx == 1 and how == "early stop":  # as EarlyStopping does
                trainer.should_stop = True

    return Ending()


def fit(example: dict[str, Any], out: Path, *callbacks: Any, **recorder_args: Any) -> LightningRecorder:
    """The example's GAN for up to 5 batches of 32, recorded into ``out`` (or by ``recorder=``)."""
    import lightning.pytorch as pl
    import torch

    from gan_train.lightning import LightningRecorder

    data = torch.utils.data.TensorDataset(example["eight_gaussians"](160))
    loader = torch.utils.data.DataLoader(data, batch_size=32)
    recorder = recorder_args.pop("recorder", None) or LightningRecorder(
        out, d_output="probability", snapshot_every=100, **recorder_args
    )
    quiet = {"enable_progress_bar": False, "logger": False, "enable_checkpointing": False}
    trainer = pl.Trainer(accelerator="cpu", max_epochs=1, callbacks=[recorder, *callbacks], **quiet)
    trainer.fit(example["GAN"](), loader)
    return recorder


@pytest.mark.parametrize(
    ("how", "raises", "status"),
    [("crash", RuntimeError, "crashed"), ("ctrl-c", SystemExit, "interrupted"), ("early stop", None, "stopped")],
)
def test_what_ends_the_fit_marks_the_run(
    example: dict[str, Any], tmp_path: Path, how: str, raises: type[BaseException] | None, status: str
) -> None:
    sigint = signal.getsignal(signal.SIGINT)  # Lightning ignores Ctrl-C from its graceful shutdown on
    try:
        if raises is None:
            fit(example, tmp_path / "r", ending(how))
        else:
            with pytest.raises(raises):  # Lightning turns Ctrl-C into exit status 1
                fit(example, tmp_path / "r", ending(how))
    finally:
        signal.signal(signal.SIGINT, sigint)
    run = Run.load(tmp_path / "r")
    assert run.status == status
    assert run.metrics.step.tolist() == [1, 2]  # the two batches before the end
    assert ("moon" in run.info.get("error", "")) == (how == "crash")
    if how == "early stop":
        assert run.steps == [0, 2]  # closed properly: the last batch's snapshot


def test_a_rank_other_than_zero_records_nothing(
    example: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lightning.pytorch as pl

    monkeypatch.setattr(pl.Trainer, "is_global_zero", property(lambda self: False))
    recorder = fit(example, tmp_path / "rank1")
    assert recorder.rec is None and recorder.batches == 0 and not (tmp_path / "rank1").exists()


def test_values_picks_the_keys_handed_over(example: dict[str, Any], tmp_path: Path) -> None:
    fit(example, tmp_path / "v", values=["loss_g"])
    m = Run.load(tmp_path / "v").metrics
    assert np.isfinite(m.loss_g).all() and np.isnan(m.loss_d).all() and np.isnan(m.d_real).all()
    assert np.isfinite(m.grad_norm_d).all()  # the hook's values do not depend on what is handed over


def test_bad_arguments_are_named(example: dict[str, Any], tmp_path: Path) -> None:
    from gan_train.lightning import LightningRecorder

    with pytest.raises(RecorderError, match=r"LightningRecorder\(snapshot_evry=...\): not a Recorder argument"):
        LightningRecorder(tmp_path / "a", snapshot_evry=5)
    with pytest.raises(RecorderError, match=r"g='netG': GAN has no module of that name"):
        fit(example, tmp_path / "b", g="netG")
    assert not (tmp_path / "b").exists()
    once = fit(example, tmp_path / "c")
    with pytest.raises(RecorderError, match=r"LightningRecorder .*c: records one fit"):
        fit(example, tmp_path / "c", recorder=once)
    assert Run.load(tmp_path / "c").status == "finished" and len(Run.load(tmp_path / "c").metrics.step) == 5
