"""How the Recorder turns a loop's steps into rows, snapshots and run.json (gan_train/recorder.py), with designed
values and hand-worked expectations: epochs from steps_per_epoch, the cadence of blocks, snapshots and measures, the
limit on columns of one's own, learning rates and gradient norms of two optimisers, the fixed real batch as uint8,
and run.json's description of the loop."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from gan_train import Recorder
from gan_train.recorder import RecorderError
from ganviz.format import METRIC_COLUMNS
from ganviz.reader import Run

torch.set_num_threads(1)


def nets() -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    return nn.Linear(2, 2), nn.Linear(2, 1)


def lines(path: Path) -> list[dict]:
    f = path / "metrics.jsonl"
    return [json.loads(x) for x in f.read_text().splitlines()] if f.exists() else []


def test_epochs_count_from_steps_per_epoch_unless_the_loop_says(tmp_path: Path) -> None:
    g, d = nets()
    with Recorder(
        tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, steps_per_epoch=3, snapshot_every=4
    ) as rec:
        for _ in range(7):
            rec.step(loss_d=1.0)
        rec.step(loss_d=1.0, epoch=9)
    run = Run.load(tmp_path / "r")
    assert run.metrics.epoch.tolist() == [0, 0, 0, 1, 1, 1, 2, 9]
    assert [int(run.snapshot(s).epoch) for s in run.steps] == [0, 1, 2]  # steps 0, 4 and 8
    assert run.info["steps_per_epoch"] == 3 and run.info["total_steps"] == 8
    with Recorder(tmp_path / "n", g, d, real=torch.randn(8, 2), noise_dim=2) as rec:
        for _ in range(3):
            rec.step(loss_d=1.0)
    run = Run.load(tmp_path / "n")
    assert run.metrics.epoch.tolist() == [0, 0, 0] and "steps_per_epoch" not in run.info


def test_blocks_leave_every_log_every_steps_and_at_each_snapshot(tmp_path: Path) -> None:
    g, d = nets()
    on_disk = []
    with Recorder(
        tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, log_every=3, snapshot_every=5, total_steps=7
    ) as rec:
        for s in range(1, 8):
            rec.step(loss_d=float(s))
            rec.writer.flush()
            on_disk.append(len(lines(tmp_path / "r")))
            if s == 5:
                assert rec.snapshot_at == 5
    assert on_disk == [0, 0, 3, 3, 5, 6, 7]  # at 3 and 6 (log_every), at 5 (a snapshot), at 7 (the last step)
    run = Run.load(tmp_path / "r")
    assert run.steps == [0, 5, 7] and run.metrics.loss_d.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert run.metrics.step.tolist() == list(range(1, 8)) and run.status == "finished"


def test_time_and_throughput_are_filled_for_each_row(tmp_path: Path) -> None:
    g, d = nets()
    with Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, batch_size=32, log_every=2) as rec:
        for _ in range(5):
            rec.step(loss_d=1.0)
    m = Run.load(tmp_path / "r").metrics
    assert (m.time >= 0).all() and (np.diff(m.time) >= 0).all() and (m.samples_per_s > 0).all()
    with Recorder(tmp_path / "n", g, d, real=torch.randn(8, 2), noise_dim=2) as rec:
        rec.step(loss_d=1.0)
    assert lines(tmp_path / "n")[0]["samples_per_s"] is None


def test_at_most_64_columns_of_ones_own(tmp_path: Path) -> None:
    g, d = nets()
    own = {f"c{i}": float(i) for i in range(64)}
    with Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, log_every=1) as rec:
        rec.step(**dict(list(own.items())[:40]))
        rec.step(**own, loss_g=torch.tensor(2.0))
        with pytest.raises(RecorderError, match=r"^Recorder.step\(more=...\): at most 64 columns of your own$"):
            rec.step(more=1.0)
    run = Run.load(tmp_path / "r")
    assert run.extra_metrics == tuple(own) and run.info["metric_columns"] == [*METRIC_COLUMNS, *own]
    assert run.metrics["c63"].tolist()[1] == 63.0 and math.isnan(run.metrics["c63"][0])
    assert run.metrics["c5"].tolist() == [5.0, 5.0] and run.metrics.loss_g.tolist()[1] == 2.0
    assert list(lines(tmp_path / "r")[0]) == [*METRIC_COLUMNS, *list(own)[:40]]


def test_two_optimisers_learning_rates_and_total_gradient_norms(tmp_path: Path) -> None:
    """Each row: the lr each optimiser last stepped with (missing before its first step) and the L2 norm over all
    layers of the gradients it applied."""
    g, d = nets()
    opt_g, opt_d = torch.optim.SGD(g.parameters(), 0.02), torch.optim.SGD(d.parameters(), 0.01)
    want_d, want_g = [], []
    with Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, d_output="probability") as rec:
        rec.step()  # nothing stepped yet
        for k in range(2):
            opt_d.zero_grad()
            (d(torch.randn(4, 2)) ** 2).mean().backward()
            want_d.append(float(torch.cat([p.grad.flatten() for p in d.parameters()]).norm()))
            opt_d.step()
            opt_g.zero_grad()
            d(g(torch.randn(4, 2))).mean().backward()
            want_g.append(float(torch.cat([p.grad.flatten() for p in g.parameters()]).norm()))
            opt_g.step()
            opt_g.param_groups[0]["lr"] = 0.5  # changed after its step: the next step shows it
            rec.step(d_real=torch.tensor(0.5), loss_d=torch.tensor(float(k)))
    m = Run.load(tmp_path / "r").metrics
    assert np.isnan(m.lr_g[0]) and np.isnan(m.lr_d[0]) and np.isnan(m.grad_norm_g[0]) and np.isnan(m.grad_norm_d[0])
    assert m.lr_d.tolist()[1:] == [0.01, 0.01] and m.lr_g.tolist()[1:] == [0.02, 0.5]
    np.testing.assert_allclose(m.grad_norm_d[1:], want_d, rtol=1e-5)
    np.testing.assert_allclose(m.grad_norm_g[1:], want_g, rtol=1e-5)
    assert m.loss_d.tolist()[1:] == [0.0, 1.0] and m.d_real.tolist()[1:] == [0.5, 0.5]


def test_the_fixed_real_images_are_stored_as_uint8_pixels(tmp_path: Path) -> None:
    """[-1, 1] maps to 0..255 as (x + 1) * 127.5 rounded, clamped outside; channels last."""
    g = nn.Sequential(nn.Linear(2, 4), nn.Unflatten(1, (1, 2, 2)))
    d = nn.Sequential(nn.Flatten(), nn.Linear(4, 1))
    real = torch.tensor([[[[-1.0, 1.0], [0.0, -2.0]]], [[[3.0, 0.5], [-0.5, 0.2]]]])
    with Recorder(tmp_path / "r", g, d, real=real, noise_dim=2, n_fixed=2):
        pass
    run = Run.load(tmp_path / "r")
    assert run.kind == "image" and run.fixed.real.dtype == np.uint8 and run.fixed.real.shape == (2, 2, 2, 1)
    assert run.fixed.real[..., 0].tolist() == [[[0, 255], [128, 0]], [[255, 191], [64, 153]]]
    assert run.info["config"]["n_fixed"] == 2 and run.fixed.noise.shape == (2, 2)
    assert run.fixed.field_extent is None and run.fixed.field_points is None  # D's field is drawn for points only


@pytest.mark.parametrize(("shape", "kind", "n_fixed"), [((600, 1), "toy1d", 512), ((600, 2), "toy2d", 512)])
def test_the_kind_and_fixed_batch_follow_from_the_real_batch(
    tmp_path: Path, shape: tuple, kind: str, n_fixed: int
) -> None:
    g, d = nn.Linear(3, shape[1]), nn.Linear(shape[1], 1)
    real = torch.randn(*shape)
    with Recorder(tmp_path / "r", g, d, real=real, noise_dim=3, seed=4):
        pass
    run = Run.load(tmp_path / "r")
    assert run.kind == kind and run.fixed.noise.shape == (n_fixed, 3) and run.fixed.real.dtype == np.float32
    np.testing.assert_array_equal(run.fixed.real, real[:n_fixed].numpy())
    with Recorder(tmp_path / "again", g, d, real=real, noise_dim=3, seed=4):
        pass
    np.testing.assert_array_equal(Run.load(tmp_path / "again").fixed.noise, run.fixed.noise)  # reproducible
    with Recorder(tmp_path / "other", g, d, real=real, noise_dim=3, seed=5):
        pass
    assert not np.array_equal(Run.load(tmp_path / "other").fixed.noise, run.fixed.noise)


def test_an_image_loop_draws_64_fixed_noise_vectors(tmp_path: Path) -> None:
    g = nn.Sequential(nn.Linear(2, 3 * 4 * 4), nn.Unflatten(1, (3, 4, 4)))
    d = nn.Sequential(nn.Flatten(), nn.Linear(48, 1))
    with Recorder(tmp_path / "r", g, d, real=torch.rand(70, 3, 4, 4) * 2 - 1, noise_dim=2):
        pass
    run = Run.load(tmp_path / "r")
    assert run.fixed.noise.shape == (64, 2) and run.fixed.real.shape == (64, 4, 4, 3)


@pytest.mark.parametrize(
    ("real", "words"),
    [
        (torch.randn(8, 3), r"got \(8, 3\)"),
        (torch.randn(8, 2, 4, 4), r"got \(8, 2, 4, 4\)"),
        (torch.randn(8), r"got \(8,\)"),
        (np.zeros((8, 2)), "got ndarray"),
    ],
)
def test_a_real_batch_of_no_known_kind_is_refused(tmp_path: Path, real: object, words: str) -> None:
    with pytest.raises(RecorderError, match=r"^Recorder real: expected a tensor of images \(N, C, H, W\) .*" + words):
        Recorder(tmp_path / "r", *nets(), real=real, noise_dim=2)


def test_run_json_describes_the_loop(tmp_path: Path) -> None:
    g, d = nets()
    with Recorder(
        tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, seed=7, name="mine", snapshot_every=3,
        d_output="critic", batch_size=8, log_every=4, field_resolution=16,
    ) as rec:  # fmt: skip
        rec.step(loss_d=-3.0)
    run = Run.load(tmp_path / "r")
    info = run.info
    assert run.fixed.field_points.shape == (16 * 16, 2)  # D's field on a 16 x 16 grid
    assert (info["variant"], info["kind"], info["seed"], info["d_scores"]) == ("mine", "toy2d", 7, "critic")
    assert info["snapshot_every"] == 3 and info["total_steps"] == 1 and "steps_per_epoch" not in info
    assert info["config"] == {
        "loss": "wgan-gp", "d_output": "critic", "noise_shape": [2], "n_fixed": 512, "seed": 7, "batch_size": 8,
        "snapshot_every": 3, "log_every": 4, "field_resolution": 16, "conditional": False,
    }  # fmt: skip
    assert info["format_version"] == 3 and info["status"] == "finished" and info["device"] == "cpu"
    assert info["metric_columns"] == list(METRIC_COLUMNS) and "extra_metrics" not in info
    assert info["layers_g"] and info["layers_d"] and info["started"] <= info["finished"]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"log_every": 0}, "log_every=0: must be a whole number of steps, at least 1"),
        ({"snapshot_every": 2.5}, "snapshot_every=2.5: must be a whole number"),
        ({"snapshot_every": "5"}, "snapshot_every='5': must be a whole number"),
        ({"measure_every": -1}, "measure_every=-1: must be a whole number"),
        ({"d_output": "logits"}, "d_output='logits': use one of logit, probability, critic"),
        ({"resume": 1.5}, r"resume=1.5: True, False, or the step your checkpoint holds \(0 or more\)"),
        (
            {"n_fixed": 8, "fixed_labels": torch.zeros(8).long(), "real_labels": torch.zeros(8)},
            "real_labels: expected 8 int",
        ),
    ],
)
def test_a_bad_setting_is_named(tmp_path: Path, kwargs: dict, words: str) -> None:
    with pytest.raises(RecorderError, match=r"^Recorder " + words):
        Recorder(tmp_path / "r", *nets(), real=torch.randn(8, 2), noise_dim=2, **kwargs)


def test_a_step_number_is_a_whole_number_from_1(tmp_path: Path) -> None:
    g, d = nets()
    with Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2) as rec:
        rec.step(step=np.int64(1))
        for bad in (True, 2.0, "3", -1):
            with pytest.raises(RecorderError, match=rf"^Recorder.step\(step={bad!r}\): the step just done, a whole"):
                rec.step(step=bad)
        rec.step(step=2)
    assert Run.load(tmp_path / "r").metrics.step.tolist() == [1, 2]


def test_the_measures_default_to_every_10th_snapshot(tmp_path: Path) -> None:
    g, d = nn.Linear(2, 2), nn.Linear(2, 1)
    with Recorder(
        tmp_path / "r", g, d, real=torch.randn(64, 2), noise_dim=2, snapshot_every=2, measure="rings",
        measure_samples=10, log_every=50,
    ) as rec:  # fmt: skip
        for _ in range(23):
            rec.step(loss_d=1.0)
    run = Run.load(tmp_path / "r")
    assert run.info["evals"]["every"] == 20
    assert sorted({r["step"] for r in run.evals.rows}) == [0, 20, 23]


class Still(torch.optim.Optimizer):
    """An optimiser whose step changes nothing: what matters here is what the Recorder reads before it."""

    def __init__(self, params: object, lr: object):
        super().__init__(params, {"lr": lr})

    def step(self, closure: object = None) -> None:
        return None


def test_a_learning_rate_held_in_a_tensor_is_read_only_on_the_host(tmp_path: Path) -> None:
    """A CPU tensor's lr is read as a number; one on an accelerator would cost a device sync per step: missing
    ('meta' stands in for a GPU)."""
    g, d = nets()
    opt_g, opt_d = Still(g.parameters(), torch.tensor(0.03)), Still(d.parameters(), torch.tensor(0.1, device="meta"))
    with Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2) as rec:
        opt_g.step()
        opt_d.step()
        rec.step(loss_d=1.0)
    m = Run.load(tmp_path / "r").metrics
    assert m.lr_g.tolist() == [pytest.approx(0.03)] and np.isnan(m.lr_d).all()


def test_steps_handed_outside_the_recording_are_refused(tmp_path: Path) -> None:
    g, d = nets()
    rec = Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2)
    with pytest.raises(RecorderError) as e:
        rec.step(loss_d=1.0)
    assert str(e.value) == "Recorder.step: not recording; use it as `with Recorder(...) as rec:`"
    with rec:
        rec.step(loss_d=1.0)
    with pytest.raises(RecorderError, match=r"^Recorder.step: not recording;"):
        rec.step(loss_d=1.0)


def test_a_resume_from_the_first_step_number(tmp_path: Path) -> None:
    """resume=True: the first rec.step says where the run goes on (step=), and is refused without it."""
    g, d = nets()
    real = torch.randn(8, 2)
    with Recorder(tmp_path / "r", g, d, real=real, noise_dim=2, steps_per_epoch=2) as rec:
        for s in (1, 2, 3):
            rec.step(loss_d=float(s), gp=0.5)
    with Recorder(tmp_path / "r", g, d, real=real, noise_dim=2, steps_per_epoch=2, resume=True) as rec:
        with pytest.raises(RecorderError) as e:
            rec.step(loss_d=9.0)
        assert str(e.value) == (
            "Recorder(resume=True): the first rec.step after a resume needs step= (the step just done, 1-based), or "
            "pass resume=N, the step your checkpoint holds"
        )
        rec.step(step=3, loss_d=30.0)  # the checkpoint held step 2: step 3 is done again
        rec.step(loss_d=4.0)
    m = Run.load(tmp_path / "r").metrics
    assert m.step.tolist() == [1, 2, 3, 4] and m.loss_d.tolist() == [1.0, 2.0, 30.0, 4.0]
    assert m.epoch.tolist() == [0, 0, 1, 1]


def test_a_lost_step_is_a_row_with_every_value_missing(tmp_path: Path) -> None:
    """What a resume writes for a step handed over but never written (docs/run-format.md: resumed, lost_steps)."""
    g, d = nets()
    rec = Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, steps_per_epoch=4)
    rec.extras = ["gp"]
    row = rec._blank_row(10)
    assert row == {**dict.fromkeys([*METRIC_COLUMNS, "gp"]), "step": 10, "epoch": 2}
    assert type(row["epoch"]) is int
    assert list(row) == [*METRIC_COLUMNS, "gp"]


def test_a_step_out_of_order_is_named_and_new_columns_are_declared_before_their_rows(tmp_path: Path) -> None:
    g, d = nets()
    with Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, log_every=100) as rec:
        rec.step(step=1, loss_d=1.0)
        with pytest.raises(RecorderError) as e:
            rec.step(step=5, loss_d=1.0)
        assert str(e.value) == (
            "Recorder.step(step=5): expected step 2, the one after the last recorded; hand every step once, 1-based "
            "(a loop resumed from its checkpoint: Recorder(resume=...))"
        )
        rec.step(gp=0.5)
        rec.writer.flush()
        on_disk = json.loads((tmp_path / "r" / "run.json").read_text())
        assert on_disk["extra_metrics"] == ["gp"] and on_disk["metric_columns"][-1] == "gp"
        assert lines(tmp_path / "r") == []  # the rows are still on their way


def test_a_block_of_rows_of_different_widths_keeps_each_value_in_its_row(tmp_path: Path) -> None:
    g, d = nets()
    t = torch.tensor
    steps = [{"loss_d": 1.0}, {"loss_d": t(2.0), "loss_g": t(3.0)}, {"loss_d": t(4.0)}, {"gp": t(5.0), "loss_g": 6.0}]
    with Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, log_every=4) as rec:
        for values in steps:
            rec.step(**values)
    m = Run.load(tmp_path / "r").metrics
    assert m.loss_d.tolist()[:3] == [1.0, 2.0, 4.0] and np.isnan(m.loss_d[3])
    assert np.array_equal(m.loss_g, [np.nan, 3.0, np.nan, 6.0], equal_nan=True)
    assert np.array_equal(m["gp"], [np.nan, np.nan, np.nan, 5.0], equal_nan=True)


def test_time_is_seconds_since_the_start_to_4_decimals_and_throughput_to_2(tmp_path: Path) -> None:
    g, d = nets()
    with Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, batch_size=7, log_every=3) as rec:
        for _ in range(9):
            rec.step(loss_d=torch.tensor(1.0))
    m = Run.load(tmp_path / "r").metrics
    assert (m.time < 600).all() and all(v == round(v, 4) for v in m.time) and not all(v == int(v) for v in m.time)
    rate = m.samples_per_s
    assert all(v == round(v, 2) for v in rate) and not all(v == int(v) for v in rate)


def test_a_block_written_in_no_time_has_no_throughput(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gan_train.recorder

    monkeypatch.setattr(gan_train.recorder.time, "perf_counter", lambda: 100.0)
    g, d = nets()
    with Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, batch_size=7) as rec:
        rec.step(loss_d=1.0)
    assert lines(tmp_path / "r")[0]["samples_per_s"] is None and lines(tmp_path / "r")[0]["time"] == 0.0


def test_without_real_or_noise_the_recorder_says_which(tmp_path: Path) -> None:
    with pytest.raises(RecorderError) as e:
        Recorder(tmp_path / "r", *nets(), noise_dim=2)
    assert str(e.value) == "Recorder: give real (a batch of real samples as G makes them)"
    with pytest.raises(RecorderError) as e:
        Recorder(tmp_path / "r", *nets(), real=torch.randn(8, 2))
    assert str(e.value) == "Recorder: give fixed_noise (G's input for every snapshot) or noise_dim to draw it"
