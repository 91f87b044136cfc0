"""How ``Recorder.step``'s values become a metrics row (gan_train/step_values.py), checked value by value against
numbers worked out by hand: D's verdict at its threshold, the accuracy a handed-over one replaces, the bounds of a
probability, the names and widths of a loop's own columns."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_train.step_values import (
    EXTRA_NAME,
    FILLED,
    HANDED,
    MAX_EXTRAS,
    SCORES,
    StepValueError,
    check_scores,
    padded,
    per_sample,
    read_step,
    single,
)
from ganviz.format import METRIC_COLUMNS


def test_the_columns_a_loop_hands_and_those_the_recorder_fills_split_the_row() -> None:
    assert set(HANDED) | set(FILLED) == set(METRIC_COLUMNS) and not set(HANDED) & set(FILLED)
    assert FILLED == ("step", "epoch", "grad_norm_g", "grad_norm_d", "lr_g", "lr_d", "time", "samples_per_s")
    assert SCORES == {"d_real": "acc_real", "d_fake": "acc_fake", "d_fake_after": None}
    assert MAX_EXTRAS == 64


def test_a_single_number_is_a_float_a_one_element_tensor_or_missing() -> None:
    assert single("loss_d", None) is None
    assert single("loss_d", 3) == 3.0 and type(single("loss_d", 3)) is float
    assert single("loss_d", np.float32(0.25)) == 0.25
    t = single("loss_d", torch.tensor([[2.5]], dtype=torch.float64, requires_grad=True))
    assert isinstance(t, torch.Tensor) and t.shape == (1,) and t.dtype == torch.float32 and not t.requires_grad
    assert t.tolist() == [2.5]
    with pytest.raises(StepValueError, match=r"step\(gp=...\): a single number, got a tensor of shape \(2, 1\)"):
        single("gp", torch.ones(2, 1))
    with pytest.raises(StepValueError, match=r"^Recorder.step\(gp=...\): a number or a tensor, got list$"):
        single("gp", [1.0])
    with pytest.raises(StepValueError, match=r"got str$"):
        single("gp", "x")


@pytest.mark.parametrize(
    ("d_output", "real", "fake"),
    [
        # a logit of exactly 0 and a probability of exactly 0.5 are no verdict of "real": a fake scored so is right
        ("logit", [0.0, 2.0, -1.0, 0.0], [0.0, 0.0, 3.0, -4.0]),
        ("probability", [0.5, 0.9, 0.2, 0.5], [0.5, 0.5, 0.8, 0.1]),
    ],
)
def test_ds_verdict_is_real_only_above_its_threshold(d_output: str, real: list, fake: list) -> None:
    score_r, acc_r = per_sample("d_real", torch.tensor(real), d_output)
    score_f, acc_f = per_sample("d_fake", torch.tensor(fake), d_output)
    assert acc_r.shape == (1,) and acc_r.tolist() == [0.25]  # one of four above the threshold
    assert acc_f.tolist() == [0.75]  # three of four at or below it
    prob = (lambda v: 1 / (1 + math.exp(-v))) if d_output == "logit" else (lambda v: v)
    assert score_r.shape == (1,)
    assert score_r.item() == pytest.approx(sum(map(prob, real)) / 4, rel=1e-6)
    assert score_f.item() == pytest.approx(sum(map(prob, fake)) / 4, rel=1e-6)


def test_a_critic_and_d_fake_after_give_a_mean_and_no_accuracy() -> None:
    raw = torch.tensor([[-3.0], [5.0], [0.5], [1.5]], requires_grad=True)
    score, acc = per_sample("d_real", raw, "critic")
    assert score.tolist() == [1.0] and acc is None and not score.requires_grad
    score, acc = per_sample("d_fake_after", torch.tensor([0.0, 0.0, 2.0, -2.0]), "logit")
    assert score.item() == pytest.approx(0.5) and acc is None


def test_read_step_splits_handed_values_from_the_loops_own() -> None:
    real = torch.tensor([1.0, -1.0, 2.0, 3.0])  # logits: three of four called real
    row, extras = read_step({"loss_d": 0.5, "d_real": real, "gp": torch.tensor(2.0), "w_dist": None}, "logit")
    assert extras == ["gp", "w_dist"]
    assert set(row) == {"loss_d", "d_real", "acc_real", "gp", "w_dist"}
    assert row["loss_d"] == 0.5 and row["w_dist"] is None and row["gp"].tolist() == [2.0]
    assert row["acc_real"].tolist() == [0.75]
    assert row["d_real"].item() == pytest.approx(float(real.sigmoid().mean()))


def test_two_outputs_are_per_sample_and_one_is_a_mean() -> None:
    row, _ = read_step({"d_real": torch.tensor([1.0, -1.0]), "d_fake": torch.tensor([[0.25]])}, "logit")
    assert row["acc_real"].tolist() == [0.5] and row["d_real"].item() == pytest.approx(0.5)
    assert row["d_fake"].tolist() == [0.25] and "acc_fake" not in row  # one element: already D's mean


def test_a_handed_accuracy_wins_and_a_missing_one_is_derived() -> None:
    fake = torch.tensor([-1.0, -1.0, 1.0, -1.0])  # three of four called fake
    row, _ = read_step({"d_fake": fake, "acc_fake": 0.1}, "logit")
    assert row["acc_fake"] == 0.1
    row, _ = read_step({"acc_fake": None, "d_fake": fake}, "logit")
    assert row["acc_fake"].tolist() == [0.75]
    row, _ = read_step({"d_fake": torch.tensor(0.3)}, "probability")  # one number: D's mean, no accuracy
    assert row["d_fake"].tolist() == [pytest.approx(0.3)] and "acc_fake" not in row


@pytest.mark.parametrize("name", ["step", "epoch", "grad_norm_d", "lr_g", "time", "samples_per_s"])
def test_the_recorders_own_columns_cannot_be_handed(name: str) -> None:
    with pytest.raises(StepValueError, match=rf"^Recorder.step\({name}=...\): the Recorder fills {name} itself;"):
        read_step({name: 1.0}, "logit")


def test_a_column_of_ones_own_is_an_identifier_of_1_to_64_characters() -> None:
    for ok in ("gp", "_x", "A1", "a" * 64, "w_2"):
        assert EXTRA_NAME.match(ok) and read_step({ok: 1.0}, "logit")[1] == [ok]
    for bad in ("a" * 65, "1a", "", "a-b", "a b", "é", "gp\n"):
        assert not EXTRA_NAME.match(bad)
        with pytest.raises(StepValueError, match=r"a column name is a Python identifier of 1-64 chars"):
            read_step({bad: 1.0}, "logit")


@pytest.mark.parametrize("d_output", ["logit", "probability"])
def test_a_mean_score_must_be_a_probability(d_output: str) -> None:
    fine = [{"step": 1, "d_real": 0.0, "d_fake": 1.0, "d_fake_after": 1 + 5e-7}, {"step": 2, "d_real": -5e-7}]
    check_scores(fine, d_output)
    check_scores([{"step": 2, "d_real": -1e-6, "d_fake": 1 + 1e-6}], d_output)  # the bounds themselves pass
    check_scores([{"step": 3, "d_real": math.nan, "d_fake": math.inf, "d_fake_after": None}], d_output)
    check_scores([{"step": 3, "d_real": torch.tensor([7.0])}], d_output)  # still on the device: checked as a float
    hint = (
        "hand D's per-sample logits (d_real=D(x)) or their mean probability (D(x).sigmoid().mean()); a mean of logits "
        "is no probability"
        if d_output == "logit"
        else "a D that returns logits needs d_output='logit'"
    )
    for name, v, shown in (("d_real", 1.01, "1.01"), ("d_fake", -0.02, "-0.02"), ("d_fake_after", 3e-6 + 1, "1")):
        with pytest.raises(StepValueError) as e:
            check_scores([{"step": 1, "d_real": 0.5}, {"step": 7, name: v}], d_output)
        msg = str(e.value)
        assert msg.startswith(f"Recorder.step({name}=...): {shown} at step 7 is not a probability of real")
        assert f"(d_output={d_output!r}); {hint}" in msg and msg.endswith("or a critic's raw values d_output='critic'")


def test_a_critics_mean_may_be_any_number() -> None:
    check_scores([{"step": 1, "d_real": 40.0, "d_fake": -12.0, "d_fake_after": 2.0}], "critic")


def test_a_row_is_widened_with_missing_values_for_later_columns() -> None:
    row = np.array([1.0, 2.0])
    assert padded(row, 2) is row and padded(row, 1) is row
    wide = padded(row, 5)
    assert wide[:2].tolist() == [1.0, 2.0] and np.isnan(wide[2:]).all() and len(wide) == 5
