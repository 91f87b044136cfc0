"""What ``Recorder.step`` takes: D's per-sample outputs read as ``d_output`` says (means and accuracy made on the
device, no host sync per step), means as textbook loops compute them, an optional step number, and scalars of the
loop's own, which become declared columns that the reader, plots and exports carry.

The values handed over are designed (known scores, known scalars), so every expected number is computed here.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from gan_train import Recorder
from pipeline.cli import main
from pipeline.run import Run
from pipeline.runformat import METRIC_COLUMNS

torch.set_num_threads(1)

#: D's outputs for a batch of four real and four generated samples, and what they mean.
LOGITS_REAL = torch.tensor([[-2.0], [0.5], [3.0], [-0.1]])  # (B, 1): D called 2 of 4 real
LOGITS_FAKE = torch.tensor([-1.0, -3.0, 0.2, -0.5])  # (B,): D called 3 of 4 fake


def nets() -> tuple[nn.Module, nn.Module]:
    return nn.Linear(2, 2), nn.Linear(2, 1)


def record(path: Path, steps: list[dict], **kwargs: object) -> Run:
    g, d = nets()
    with Recorder(path, g, d, real=torch.randn(8, 2), noise_dim=2, **kwargs) as rec:
        for values in steps:
            rec.step(**values)
    return Run.load(path)


def rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_a_logit_ds_per_sample_outputs_give_mean_probability_and_accuracy(tmp_path: Path) -> None:
    """The raw logits of a loop (any shape) become the sigmoid's mean and the share D judged right: the same
    numbers a loop computing them by hand records."""
    after = torch.tensor([0.0, 1.0, -1.0, 2.0])
    by_recorder = record(tmp_path / "a", [{"d_real": LOGITS_REAL, "d_fake": LOGITS_FAKE, "d_fake_after": after}])
    by_hand = {
        "d_real": LOGITS_REAL.sigmoid().mean(),
        "d_fake": LOGITS_FAKE.sigmoid().mean(),
        "d_fake_after": after.sigmoid().mean(),
        "acc_real": (LOGITS_REAL > 0).float().mean(),
        "acc_fake": (LOGITS_FAKE < 0).float().mean(),
    }
    m, hand = by_recorder.metrics, record(tmp_path / "b", [by_hand]).metrics
    for name in ("d_real", "d_fake", "d_fake_after", "acc_real", "acc_fake"):
        np.testing.assert_allclose(m[name], hand[name], rtol=1e-6, err_msg=name)
    assert m.acc_real.tolist() == [0.5] and m.acc_fake.tolist() == [0.75]
    np.testing.assert_allclose(m.d_real, [float(torch.sigmoid(LOGITS_REAL).mean())], rtol=1e-6)
    assert by_recorder.info["d_scores"] == "probability"


def test_the_textbook_probability_d_hands_item_means(tmp_path: Path) -> None:
    """pytorch/examples' dcgan: D ends in a Sigmoid and the loop has ``D_x = output.mean().item()``: recorded as
    they are; accuracy then cannot be known (missing), unless the loop hands the outputs themselves."""
    probs = torch.tensor([0.9, 0.4, 0.7, 0.2])
    steps = [
        {"loss_d": 1.2, "loss_g": torch.tensor(0.8), "d_real": 0.75, "d_fake": 0.3, "d_fake_after": 0.35},
        {"d_real": probs, "d_fake": 1 - probs},
    ]
    m = record(tmp_path / "r", steps, d_output="probability").metrics
    assert m.d_real.tolist()[0] == 0.75 and m.d_fake.tolist()[0] == 0.3 and m.d_fake_after.tolist()[0] == 0.35
    assert np.isnan(m.acc_real[0]) and np.isnan(m.acc_fake[0])
    np.testing.assert_allclose(m.d_real[1], 0.55, rtol=1e-6)
    assert m.acc_real[1] == 0.5 and m.acc_fake[1] == 0.5  # 0.9, 0.7 called real; 0.6, 0.8 of the fakes too


def test_a_critics_outputs_are_kept_raw_without_accuracy(tmp_path: Path) -> None:
    raw = torch.tensor([-3.0, 5.0, 1.0, 1.0])
    m = record(tmp_path / "r", [{"d_real": raw, "d_fake": -raw}], d_output="critic").metrics
    assert m.d_real.tolist() == [1.0] and m.d_fake.tolist() == [-1.0]
    assert np.isnan(m.acc_real).all() and np.isnan(m.acc_fake).all()  # a critic's sign says nothing


def test_an_accuracy_handed_over_wins_over_the_derived_one(tmp_path: Path) -> None:
    m = record(tmp_path / "r", [{"d_real": LOGITS_REAL, "acc_real": 0.9}]).metrics
    assert m.acc_real.tolist() == [0.9]


def test_per_sample_outputs_leave_the_device_only_with_their_block(tmp_path: Path, monkeypatch) -> None:
    """Between blocks, a step reads no value off its tensors (no .item(), float(), .cpu(), .tolist(), .numpy())."""
    reads: list[str] = []
    g, d = nets()
    with Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, log_every=5, snapshot_every=50) as rec:
        for name in ("item", "cpu", "tolist", "numpy", "__float__", "__bool__", "__int__"):
            original = getattr(torch.Tensor, name)

            def spy(self: torch.Tensor, *a: object, _name: str = name, _orig=original, **k: object) -> object:
                reads.append(_name)
                return _orig(self, *a, **k)

            monkeypatch.setattr(torch.Tensor, name, spy)
        for _ in range(4):
            rec.step(loss_d=torch.tensor(0.5), d_real=LOGITS_REAL, d_fake=LOGITS_FAKE, gp=torch.tensor(2.0))
        between = list(reads)
        rec.step(loss_d=torch.tensor(0.5), d_real=LOGITS_REAL, d_fake=LOGITS_FAKE, gp=torch.tensor(2.0))
        monkeypatch.undo()
    assert between == [] and reads  # the fifth step wrote the block: one copy for five rows
    assert Run.load(tmp_path / "r").metrics.acc_real.tolist() == [0.5] * 5


def test_an_explicit_step_number_is_checked_and_optional(tmp_path: Path) -> None:
    run = record(tmp_path / "r", [{"step": 1, "loss_d": 1.0}, {"loss_d": 2.0}, {"step": 3, "loss_d": 3.0}])
    assert run.metrics.step.tolist() == [1, 2, 3] and run.metrics.loss_d.tolist() == [1.0, 2.0, 3.0]


def test_the_loops_own_scalars_become_declared_columns(tmp_path: Path) -> None:
    """``gp`` from the first step, ``lr`` from the third: run.json declares both, rows hold them (rows before a
    column's first value do not), the reader gives NaN where a step had none."""
    steps = [{"loss_d": 1.0, "gp": torch.tensor(0.1 * s)} for s in (1, 2)]
    steps += [{"loss_d": 1.0, "gp": 0.1 * s, "lr": 1e-4 * s} for s in (3, 4, 5)]
    steps += [{"loss_d": 1.0, "gp": None}]
    run = record(tmp_path / "r", steps, log_every=2)
    assert run.info["extra_metrics"] == ["gp", "lr"] and run.extra_metrics == ("gp", "lr")
    assert run.info["metric_columns"] == [*METRIC_COLUMNS, "gp", "lr"]
    got = rows(tmp_path / "r")
    assert "lr" not in got[0] and list(got[-1]) == [*METRIC_COLUMNS, "gp", "lr"]
    np.testing.assert_allclose(run.metrics.gp, [0.1, 0.2, 0.3, 0.4, 0.5, np.nan], rtol=1e-6)
    np.testing.assert_allclose(run.metrics["lr"], [np.nan, np.nan, 3e-4, 4e-4, 5e-4, np.nan])


def test_a_damaged_extra_column_is_one_line(tmp_path: Path) -> None:
    from pipeline.run import RunError

    record(tmp_path / "r", [{"gp": 1.0}, {"gp": 2.0}])
    lines = rows(tmp_path / "r")
    lines[1]["gp"] = "high"
    (tmp_path / "r" / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    with pytest.raises(RunError, match=r"metrics.jsonl: row 2: 'gp' is not a number") as e:
        Run.load(tmp_path / "r").metrics  # noqa: B018
    assert "\n" not in str(e.value)


@pytest.fixture(scope="module")
def with_extras(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("extras") / "r"
    record(path, [{"loss_d": 1.0, "loss_g": 2.0, "gp": s / 10, "lr": 1e-4} for s in range(1, 13)], snapshot_every=4)
    return path


def test_plots_draw_the_loops_own_scalars_one_panel_each(with_extras: Path, tmp_path: Path) -> None:
    from pipeline.plots import figure_builders

    fig = figure_builders(Run.load(with_extras))["extras"]()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["gp", "lr"]
    raw = next(line for line in axes[0].get_lines() if line.get_gid() == "raw:gp")
    np.testing.assert_allclose(raw.get_ydata(), np.arange(1, 13) / 10)
    res = CliRunner().invoke(main, ["plots", str(with_extras), "--format", "png", "-o", str(tmp_path / "p")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "p" / "extras.png").is_file()


def test_csv_and_tensorboard_exports_carry_the_loops_own_scalars(with_extras: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["export", str(with_extras), "--csv", str(tmp_path / "m.csv")])
    assert res.exit_code == 0, res.output
    with open(tmp_path / "m.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == [*METRIC_COLUMNS, "gp", "lr"]
    np.testing.assert_allclose([float(r["gp"]) for r in table], np.arange(1, 13) / 10)
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    res = CliRunner().invoke(main, ["export", str(with_extras), "--tensorboard", str(tmp_path / "tb")])
    assert res.exit_code == 0, res.output
    events = EventAccumulator(str(tmp_path / "tb"), size_guidance={"scalars": 0})
    events.Reload()
    gp = events.Scalars("loop/gp")
    assert [e.step for e in gp] == list(range(1, 13))
    np.testing.assert_allclose([e.value for e in gp], np.arange(1, 13) / 10, rtol=1e-6)
