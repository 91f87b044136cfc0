"""``Recorder(..., measure=...)``: ganviz's quality measures of a loop's own G, taken in the loop, for data ganviz
knows (its toys, the digits) or the loop's own real images in a named feature space; ModeCollapse then draws the
recorded run. Measuring leaves the loop's training exactly as it was.

Image measures use a stand-in digits space (no classifier training) through the same registry; what the measures
compute is tested in tests/test_measures.py, which rows a trained run gets in tests/test_evals.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_train import Recorder
from gan_train.datasets import toy_8gaussians
from gan_train.features import SPACES, FeatureSpace
from pipeline.errors import GanvizError
from pipeline.run import Run

torch.set_num_threads(1)


class Means(nn.Module):
    """A stand-in feature network: per-channel mean and std of each image."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)


@pytest.fixture
def stand_in_digits(monkeypatch: pytest.MonkeyPatch) -> None:
    def build(device: torch.device, **_: object) -> FeatureSpace:
        torch.manual_seed(0)
        return FeatureSpace("digits", Means(), device, size=28, channels=1, head=nn.Linear(2, 10))

    monkeypatch.setitem(SPACES, "digits", build)


def mode_collapse_refuses(run: Run) -> str | None:
    from pipeline.render import builtin_scene_path, cannot_draw, load_scene_classes

    (cls,) = load_scene_classes(builtin_scene_path("mode_collapse"))
    return cannot_draw(cls, run)


def evals(path: Path) -> list[dict]:
    return [json.loads(line) for line in (path / "evals.jsonl").read_text().splitlines()]


def test_a_toy_loop_is_measured_at_0_every_measure_every_steps_and_the_end(tmp_path: Path) -> None:
    torch.manual_seed(0)
    data = torch.from_numpy(toy_8gaussians(512, np.random.default_rng(0)))
    g, d = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)), nn.Linear(2, 1)
    kwargs = {"snapshot_every": 2, "measure": "8gaussians", "measure_samples": 64, "total_steps": 13}
    with Recorder(tmp_path / "r", g, d, real=data[:64], noise_dim=4, **kwargs) as rec:
        for _ in range(13):
            rec.step(loss_d=1.0)
    rows = evals(tmp_path / "r")
    assert sorted({r["step"] for r in rows}) == [0, 13]  # every 10th snapshot (20 steps): only 0 and the end
    assert [r["measure"] for r in rows[:3]] == ["sliced_w1", "modes_captured", "high_quality"]
    modes = [r for r in rows if r["measure"] == "modes_captured"]
    assert all(sum(r["counts"]) + r["off"] == r["n_fake"] == 64 for r in modes)
    run = Run.load(tmp_path / "r")
    assert run.info["evals"] == {
        "file": "evals.jsonl",
        "every": 20,
        "samples": 64,
        "space": None,
        "measures": ["sliced_w1", "modes_captured", "high_quality"],
    }
    assert mode_collapse_refuses(run) is None


class CondG(nn.Module):
    """A conditional DCGAN-style G: noise (N, nz, 1, 1) and a label to a 28x28 image."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.net = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 7), nn.BatchNorm2d(8), nn.ReLU(), nn.Upsample(scale_factor=4)
        )
        self.out = nn.Conv2d(8, 1, 3, padding=1)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = torch.cat([z, self.embed(y)[:, :, None, None]], 1)
        return torch.tanh(self.out(self.net(h)))


class CondD(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed, self.lin = nn.Embedding(10, 4), nn.Linear(784 + 4, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.lin(torch.cat([x.flatten(1), self.embed(y)], 1))


def test_a_conditional_image_loop_is_measured_in_the_digits_space(tmp_path: Path, stand_in_digits: None) -> None:
    """G takes (N, nz, 1, 1) noise and labels (the fixed labels, repeated); against ganviz's digits by default, or
    the loop's own real images (``measure_real``); ModeCollapse then draws the run."""
    g, d = CondG(), CondD()
    labels = torch.arange(8) % 10
    real = torch.rand(40, 1, 28, 28) * 2 - 1
    common = {"fixed_noise": torch.randn(8, 8, 1, 1), "fixed_labels": labels, "real_labels": labels}
    for name, own in (("ganviz", None), ("own", real)):
        with Recorder(
            tmp_path / name, g, d, real=real[:8], measure="digits", measure_real=own, measure_samples=50, **common
        ) as rec:
            rec.step(loss_d=1.0)
        rows = evals(tmp_path / name)
        assert [r["measure"] for r in rows[:5]] == ["fd", "kid", "precision", "recall", "classes"]
        assert {r["step"] for r in rows} == {0, 1} and all(r["space"] == "digits" and r["n_fake"] == 50 for r in rows)
        assert rows[0]["n_real"] == (50 if own is None else 40)  # 50 of ganviz's 5,000 digits, or the 40 own images
        assert mode_collapse_refuses(Run.load(tmp_path / name)) is None


def test_measuring_leaves_the_loops_training_exactly_as_it_was(tmp_path: Path) -> None:
    """G with BatchNorm and dropout, measured at every step on 256 samples: weights, running statistics and the
    random streams afterwards are those of the unmeasured loop."""

    def loop(measure: str | None) -> dict[str, torch.Tensor]:
        torch.manual_seed(3)
        g = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.Dropout(0.3), nn.ReLU(), nn.Linear(16, 2))
        d = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
        opt_g, opt_d = torch.optim.Adam(g.parameters(), 1e-2), torch.optim.Adam(d.parameters(), 1e-2)
        kwargs = {"measure": measure, "measure_every": 1, "measure_samples": 256, "snapshot_every": 100}
        with Recorder(tmp_path / str(measure), g, d, real=torch.zeros(8, 2), noise_dim=4, **kwargs) as rec:
            for _ in range(4):
                real = torch.randn(32, 2) + 2
                fake = g(torch.randn(32, 4))
                loss_d = F.softplus(-d(real)).mean() + F.softplus(d(fake.detach())).mean()
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
                loss_g = F.softplus(-d(fake)).mean()
                opt_g.zero_grad()
                loss_g.backward()
                opt_g.step()
                rec.step(loss_d=loss_d, loss_g=loss_g)
        return {**g.state_dict(), "rng": torch.get_rng_state()}

    plain, measured = loop(None), loop("rings")
    assert sorted({r["step"] for r in evals(tmp_path / "rings")}) == [0, 1, 2, 3, 4]
    for key, value in plain.items():
        torch.testing.assert_close(measured[key], value, rtol=0, atol=0, msg=key)


def test_mode_collapse_draws_a_recorded_toy_loop(tmp_path: Path) -> None:
    """The scene really draws the recorded run (a dry-run render through the scene probe): its count of modes and
    its closing line, from the run's own measures."""
    from scene_probe import probe

    from scenes import mode_collapse

    torch.manual_seed(0)
    data = torch.from_numpy(toy_8gaussians(512, np.random.default_rng(0)))
    g, d = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)), nn.Linear(2, 1)
    kwargs = {"snapshot_every": 2, "measure": "8gaussians", "measure_every": 4, "measure_samples": 64}
    with Recorder(tmp_path / "r", g, d, real=data[:64], noise_dim=4, **kwargs) as rec:
        for _ in range(12):
            rec.step(loss_d=1.0, d_real=0.6, d_fake=0.4)
    run = Run.load(tmp_path / "r")
    assert [int(s) for s in run.evals.get("modes_captured").steps] == [0, 4, 8, 12]
    texts = " ".join(probe(mode_collapse.ModeCollapse, run=tmp_path / "r")[-1].texts())
    assert "of 8 modes captured" in texts and "12 of 12" in texts
    said = mode_collapse.verdict(run, run.evals.get("modes_captured")).words
    assert said in texts, (said, texts)


def test_an_infinite_kl_is_written_as_null_and_reads(designed_image: Path, tmp_path: Path) -> None:
    """Against a loop's own real images the reference may lack a digit G draws: KL is infinite, written as null,
    and the row still reads (it used to make the whole evals.jsonl 'damaged')."""
    import shutil

    from gan_train.measures import class_histogram
    from ganviz.writer import RunWriter

    kl = class_histogram(torch.tensor([0, 1, 1]), 10, torch.tensor([5.0, 0, 0, 0, 0, 0, 0, 0, 0, 5])).kl
    assert kl == float("inf")
    run = Path(shutil.copytree(designed_image, tmp_path / "r"))
    writer = RunWriter(run)
    row = {"step": 0, "measure": "classes", "value": 2, "space": "digits", "n_fake": 3, "n_real": 10}
    writer.append_evals([{**row, "counts": [1, 2, 0, 0, 0, 0, 0, 0, 0, 0], "kl": kl}])
    writer.close()
    assert Run.load(run).evals.get("classes", "digits").rows[-1]["kl"] is None


def test_a_loop_on_2d_points_of_its_own_is_measured_against_them(tmp_path: Path) -> None:
    """``measure="points"``: the sliced distance to the loop's own real points, the floor from the rest of them; a
    G that outputs exactly those points reads (about) the floor, one far from them far above it."""
    ring = torch.randn(600, 2)
    ring = 3 * ring / ring.norm(dim=1, keepdim=True)

    class Copies(nn.Module):  # G: the i-th real point for noise row i (offset by a shift)
        def __init__(self, shift: float) -> None:
            super().__init__()
            self.shift = nn.Parameter(torch.tensor(shift))

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            idx = (z[:, 0].abs() * 1e4).long() % 100
            return ring[idx] + self.shift

    values = {}
    for shift in (0.0, 5.0):
        path = tmp_path / str(shift)
        kwargs = {"measure": "points", "measure_real": ring, "measure_samples": 100}
        with Recorder(path, Copies(shift), nn.Linear(2, 1), real=ring[:64], noise_dim=2, **kwargs) as rec:
            rec.step(loss_d=1.0)
        (row,) = [r for r in evals(path) if r["step"] == 0]
        assert row["measure"] == "sliced_w1" and row["n_real"] == 100 and row["n_fake"] == 100
        values[shift] = (row["value"], row["floor"])
    assert values[0.0][0] < 3 * values[0.0][1] and values[5.0][0] > 10 * values[5.0][1]
    with pytest.raises(GanvizError, match=r"measure=.points. needs at least 3 x measure_samples = 3000") as e:
        Recorder(tmp_path / "x", Copies(0.0), nn.Linear(2, 1), real=ring[:64], noise_dim=2, measure="points")
    assert "\n" not in str(e.value)
