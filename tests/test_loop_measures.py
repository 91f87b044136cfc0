"""What a recorded loop's ``measure=`` compares G with (gan_train/loop_measures.py): each refusal in one line naming
the argument and its bound, the loop's own images as the pixels the measures read, its own points split into G's
reference and the floor's, and G's evaluation noise the same as the built-in trainer's for the same seed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_train.config import Config
from gan_train.evaluation import Evaluator
from gan_train.loop_measures import MEASURES, MeasureError, evals_info, loop_evaluator

NOISE = torch.zeros(4, 3)


def evaluator(measure: str, kind: str, real: torch.Tensor | None = None, samples: int = 10, seed: int = 0, **kw):  # noqa: ANN003, ANN201
    return loop_evaluator(measure, kind, kw.get("noise", NOISE), kw.get("labels"), seed, samples, real)


def test_what_measure_may_name() -> None:
    assert MEASURES == {
        "gaussian": "toy1d", "quadratic": "toy2d", "rings": "toy2d", "8gaussians": "toy2d",
        "points": "toy2d", "digits": "image", "inception": "image",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("fid", "image"),
            "Recorder measure='fid': use one of gaussian, quadratic, rings, 8gaussians, points, digits, inception",
        ),  # fmt: skip
        (
            ("gaussian", "toy2d"),
            "Recorder measure='gaussian' measures a 1-D toy run, but real makes this a 2-D toy run",
        ),
        (("digits", "toy1d"), "Recorder measure='digits' measures an image run, but real makes this a 1-D toy run"),
        (("rings", "image"), "Recorder measure='rings' measures a 2-D toy run, but real makes this an image run"),
        (
            ("inception", "image"),
            "Recorder measure='inception': give measure_real (real images to compare G's with, as real)",
        ),  # fmt: skip
    ],
)
def test_a_measure_that_does_not_fit_is_one_line(args: tuple, message: str) -> None:
    with pytest.raises(MeasureError) as e:
        evaluator(*args)
    assert str(e.value) == message


@pytest.mark.parametrize("samples", [9, 0, 10.0, "10"])
def test_at_least_10_whole_samples(samples: object) -> None:
    with pytest.raises(MeasureError) as e:
        evaluator("rings", "toy2d", samples=samples)
    assert str(e.value) == f"Recorder measure_samples={samples!r}: a whole number of samples, at least 10"


def test_ten_samples_are_enough() -> None:
    ev = evaluator("gaussian", "toy1d", samples=10)
    assert ev.samples == 10 and ev.noise.shape == (10, 3) and ev.measures == ["w1", "ks"]


@pytest.mark.parametrize(
    ("real", "got"),
    [
        (torch.zeros(9, 1, 4, 4), "(9, 1, 4, 4)"),
        (torch.zeros(10, 2, 4, 4), "(10, 2, 4, 4)"),
        (torch.zeros(10, 16), "(10, 16)"),
        ([0.0] * 10, "list"),
    ],
)
def test_the_loops_own_images_must_be_10_or_more_of_1_or_3_channels(real: object, got: str) -> None:
    with pytest.raises(MeasureError) as e:
        evaluator("inception", "image", real=real)
    assert str(e.value) == (
        "Recorder measure_real: expected at least 10 images (N, C, H, W) with C 1 or 3 in [-1, 1]; got " + got
    )


def test_the_loops_own_images_become_the_pixels_of_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """[-1, 1] to 0..255 as (x + 1) * 127.5 rounded, clamped outside, channels last (the layout G's are measured
    in)."""
    seen = {}

    def keep(self, cfg, data, device, *a) -> None:  # noqa: ANN001
        seen["data"], seen["cfg"] = data, cfg
        self.samples, self.kind = cfg.eval_samples, cfg.kind

    monkeypatch.setattr(Evaluator, "__init__", keep)
    real = torch.zeros(10, 3, 1, 2)
    real[0, :, 0, 0] = torch.tensor([-1.0, 1.0, 0.0])
    real[0, :, 0, 1] = torch.tensor([-3.0, 2.0, 0.5])
    real[1:] = -0.5
    evaluator("inception", "image", real=real, noise=torch.zeros(4, 8, 1, 1))
    data, cfg = seen["data"], seen["cfg"]
    assert data.dtype.name == "uint8" and data.shape == (10, 1, 2, 3)
    assert data[0].tolist() == [[[0, 255, 128], [0, 255, 191]]] and (data[1:] == 64).all()
    assert (cfg.dataset, cfg.eval_space, cfg.noise_dim, cfg.eval_samples) == ("folder", "inception", 8, 10)


def test_without_measure_real_the_digits_space_compares_with_ganvizs_digits(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}

    def keep(self, cfg, data, device, *a) -> None:  # noqa: ANN001
        seen["data"], seen["cfg"] = data, cfg
        self.samples, self.kind = cfg.eval_samples, cfg.kind

    monkeypatch.setattr(Evaluator, "__init__", keep)
    digits = torch.zeros(3, 28, 28, 1, dtype=torch.uint8).numpy()
    monkeypatch.setattr("gan_train.loop_measures.load_digits_with_labels", lambda: (digits, None))
    evaluator("digits", "image", noise=torch.zeros(4, 8))
    assert seen["data"] is digits and (seen["cfg"].dataset, seen["cfg"].eval_space) == ("digits", "digits")
    evaluator("digits", "image", real=torch.zeros(10, 1, 28, 28), noise=torch.zeros(4, 8))
    assert seen["cfg"].dataset == "folder" and seen["data"].shape == (10, 28, 28, 1)


def test_the_loops_own_points_split_into_gs_reference_and_the_floors() -> None:
    points = torch.arange(60.0).reshape(30, 2)
    ev = evaluator("points", "toy2d", real=points)
    assert ev.real.tolist() == points[:10].tolist() and ev.held_out.tolist() == points[10:].tolist()
    assert ev.measures == ["sliced_w1"] and ev.cfg.dataset == "quadratic"
    for bad, got in ((points[:29], "(29, 2)"), (torch.zeros(30, 3), "(30, 3)"), (None, "NoneType"), ([1.0], "list")):
        with pytest.raises(MeasureError) as e:
            evaluator("points", "toy2d", real=bad)
        assert str(e.value) == (
            "Recorder measure_real: measure='points' needs at least 3 x measure_samples = 30 real points (N, 2) "
            f"(G against 10 of them, the floor from the rest); got {got}"
        )


def test_a_known_toy_is_measured_against_its_own_draws() -> None:
    ev = evaluator("8gaussians", "toy2d", samples=12)
    assert ev.real.shape == (12, 2) and ev.held_out.shape == (24, 2)  # fresh draws, not the loop's
    assert ev.measures == ["sliced_w1", "modes_captured", "high_quality"]


def test_gs_evaluation_noise_is_the_trainers_for_the_same_seed() -> None:
    ev = evaluator("rings", "toy2d", samples=12, seed=5, noise=torch.zeros(4, 3))
    trainer = Evaluator(
        Config(dataset="rings", seed=5, eval_samples=12, noise_dim=3), torch.zeros((0, 2)).numpy(), "cpu"
    )
    assert torch.equal(ev.noise, trainer.noise)
    again = evaluator("rings", "toy2d", samples=12, seed=5, noise=torch.zeros(4, 3))
    assert torch.equal(again.noise, ev.noise) and not torch.equal(
        evaluator("rings", "toy2d", seed=6).noise, ev.noise[:10]
    )
    image_like = evaluator("gaussian", "toy1d", samples=12, noise=torch.zeros(4, 3, 1, 1))
    assert image_like.noise.shape == (12, 3, 1, 1)


def test_a_conditional_gs_labels_repeat_over_the_samples() -> None:
    labels = torch.tensor([3, 1, 4])
    ev = evaluator("gaussian", "toy1d", samples=10, labels=labels)
    assert ev.labels.tolist() == [3, 1, 4, 3, 1, 4, 3, 1, 4, 3]

    class Echo(nn.Module):
        def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return y.float()[:, None] + 0 * z[:, :1]

    assert ev.call(Echo(), torch.zeros(4, 3), 5).tolist() == [[4.0], [3.0], [1.0], [4.0]]  # labels 5..8
    assert evaluator("gaussian", "toy1d").labels is None


def test_run_json_says_where_the_measures_are() -> None:
    ev = evaluator("rings", "toy2d", samples=12)
    assert evals_info(ev, 40) == {
        "evals": {
            "file": "evals.jsonl",
            "every": 40,
            "samples": 12,
            "space": None,  # toys have no feature space
            "measures": ["sliced_w1", "arc_bins_hit", "near_arc"],
        }
    }


def test_the_reference_and_the_noise_live_on_gs_device() -> None:
    """G's device is the noise's: a loop's own points and the evaluation noise go there, the floor's points stay on
    the host (torch's 'meta' device stands in for a GPU: it holds shapes, not values)."""
    ev = evaluator("points", "toy2d", real=torch.arange(60.0).reshape(30, 2), noise=torch.zeros(4, 3, device="meta"))
    assert ev.real.device.type == "meta" and ev.noise.device.type == "meta" and ev.held_out.device.type == "cpu"
