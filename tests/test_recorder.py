"""The Recorder records GANs ganviz does not ship, written here as a person would write them: a conditional MLP GAN
on the embedded digits and a WGAN-GP with its own optimiser loop and 5 critic steps per G step. Plots, GIFs and
every scene are made from what it recorded, and a loop that raises mid-run leaves a readable run.

Nothing here asserts what the few training steps learned: only what was recorded, where and in which format.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from torch import nn

from gan_train import Recorder
from gan_train.datasets import load_digits_with_labels
from pipeline.cli import main
from pipeline.errors import GanvizError
from pipeline.run import Run
from pipeline.runformat import FORMAT_VERSION, METRIC_COLUMNS

torch.set_num_threads(1)


# -- a conditional MLP GAN on the digits (the course-project kind) ------------------------------------------
class CondG(nn.Module):
    def __init__(self, nz: int = 16):
        super().__init__()
        self.embed = nn.Embedding(10, 10)
        self.net = nn.Sequential(nn.Linear(nz + 10, 64), nn.ReLU(), nn.Linear(64, 784), nn.Tanh())

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, self.embed(labels)], 1)).view(-1, 1, 28, 28)


class CondD(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 10)
        self.net = nn.Sequential(nn.Linear(784 + 10, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x.flatten(1), self.embed(labels)], 1)).view(-1)


def digits(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = load_digits_with_labels()
    x = torch.from_numpy(images[:n]).permute(0, 3, 1, 2).float() / 127.5 - 1
    return x, torch.from_numpy(labels[:n]).long()


def train_conditional(out: Path, steps: int = 12, raise_at: int | None = None) -> Path:
    torch.manual_seed(0)
    x, y = digits(512)
    g, d = CondG(), CondD()
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    fixed_labels = torch.arange(16) % 10
    rec = Recorder(
        out,
        g,
        d,
        real=x[:16],
        real_labels=y[:16],
        noise_dim=16,
        n_fixed=16,
        fixed_labels=fixed_labels,
        snapshot_every=4,
        total_steps=steps,
        batch_size=32,
        name="cond-mlp",
    )
    with rec:
        for step in range(steps):
            idx = torch.randint(0, len(x), (32,))
            real, labels = x[idx], y[idx]
            fake = g(torch.randn(32, 16), labels)
            out_real, out_fake = d(real, labels), d(fake.detach(), labels)
            loss_d = F.binary_cross_entropy_with_logits(out_real, torch.ones(32))
            loss_d = loss_d + F.binary_cross_entropy_with_logits(out_fake, torch.zeros(32))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            out_after = d(fake, labels)
            loss_g = F.binary_cross_entropy_with_logits(out_after, torch.ones(32))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            if step == raise_at:
                raise RuntimeError("the loop broke")
            rec.step(
                loss_d=loss_d,
                loss_g=loss_g,
                d_real=out_real.sigmoid().mean(),
                d_fake=out_fake.sigmoid().mean(),
                d_fake_after=out_after.sigmoid().mean(),
                acc_real=(out_real > 0).float().mean(),
                acc_fake=(out_fake < 0).float().mean(),
            )
    return out


# -- a WGAN-GP with its own optimiser loop: 5 critic steps per G step on a 2-D toy ------------------------------
def train_wgan_gp(out: Path, steps: int = 10) -> Path:
    torch.manual_seed(1)
    theta = torch.rand(4096) * 2 * np.pi
    data = torch.stack([2 * theta.cos(), 2 * theta.sin()], 1) + 0.05 * torch.randn(4096, 2)
    g = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 2))
    d = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 1))
    opt_g = torch.optim.Adam(g.parameters(), 1e-4, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(d.parameters(), 3e-4, betas=(0.5, 0.9))
    with Recorder(out, g, d, real=data[:128], noise_dim=8, snapshot_every=5, d_output="critic") as rec:
        for _ in range(steps):
            for _ in range(5):
                real = data[torch.randint(0, len(data), (64,))]
                fake = g(torch.randn(64, 8)).detach()
                eps = torch.rand(64, 1)
                mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
                (grad,) = torch.autograd.grad(d(mix).sum(), mix, create_graph=True)
                penalty = ((grad.norm(dim=1) - 1) ** 2).mean()
                loss_d = d(fake).mean() - d(real).mean() + 10 * penalty
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
            loss_g = -d(g(torch.randn(64, 8))).mean()
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            rec.step(loss_d=loss_d, loss_g=loss_g)  # nothing else handed over: recorded as missing
    return out


@pytest.fixture(scope="module")
def conditional(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_conditional(tmp_path_factory.mktemp("rec") / "cond")


@pytest.fixture(scope="module")
def wgan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_wgan_gp(tmp_path_factory.mktemp("rec") / "wgan")


ROOT = Path(__file__).resolve().parent.parent


def doc_snippet(doc: str, heading: str, changes: dict[str, str]) -> str:
    """The first python block under ``heading`` of ``doc``, with ``changes`` (each must be there) made."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    code = text.split(heading, 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    for old, new in changes.items():
        assert old in code, old
        code = code.replace(old, new)
    return code


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """README's recorded loop on a 2-D ring, for 12 steps."""
    where = tmp_path_factory.mktemp("rec")
    code = doc_snippet(
        "README.md", "## Record your own GAN", {"range(1000)": "range(12)", "snapshot_every=50": "snapshot_every=4"}
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(where)
        exec(compile(code, "README.md", "exec"), {})
    return where / "outputs" / "runs" / "my-ring"


def rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_a_conditional_gan_is_recorded_in_the_run_format(conditional: Path) -> None:
    run = Run.load(conditional)
    info = run.info
    assert info["format_version"] == FORMAT_VERSION and info["status"] == "finished" and run.kind == "image"
    assert info["variant"] == "cond-mlp" and info["total_steps"] == 12 and info["d_scores"] == "probability"
    got = rows(conditional)
    assert [r["step"] for r in got] == list(range(1, 13)) and all(list(r) == list(METRIC_COLUMNS) for r in got)
    assert all(r["grad_norm_g"] > 0 and r["grad_norm_d"] > 0 for r in got)  # from the optimisers' steps
    assert all(r["lr_g"] == 2e-4 and r["lr_d"] == 2e-4 and r["samples_per_s"] > 0 for r in got)
    assert all(0 <= r["acc_real"] <= 1 and 0 <= r["d_fake_after"] <= 1 for r in got)
    assert run.steps == [0, 4, 8, 12]
    snap = run.snapshot("end")
    assert snap.fake.shape == (16, 28, 28, 1) and snap.fake.dtype == np.uint8
    assert snap.d_fake.shape == (16,) and ((snap.d_fake >= 0) & (snap.d_fake <= 1)).all()  # sigmoid of the logits
    np.testing.assert_array_equal(snap.labels, np.arange(16) % 10)  # conditional: the labels kept
    np.testing.assert_array_equal(run.fixed.labels, np.arange(16) % 10)
    np.testing.assert_array_equal(run.fixed.real_labels, digits(16)[1].numpy())
    np.testing.assert_array_equal(run.real, ((digits(16)[0].permute(0, 2, 3, 1) + 1) * 127.5).round().byte())
    assert info["layers_g"] == ["embed", "0", "2"] and info["layers_d"] == ["embed", "0", "2"]
    assert info["layer_shapes_g"] == [[10], [64], [784]] and info["layer_types_d"] == ["Embedding", "Linear", "Linear"]
    assert np.isfinite(snap.grad_norm_g).all() and len(snap.grad_norm_g) == 3
    assert np.isnan(run.snapshot(0).grad_norm_g).all()  # no gradient before the first step
    assert not list(conditional.rglob("*.tmp"))


def test_the_recorded_grad_norms_are_those_the_optimiser_stepped_with(tmp_path: Path) -> None:
    """Per layer and in total, the norms of the gradients at G's optimiser step; D never stepped: missing."""
    torch.manual_seed(0)
    g, d = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), nn.Sequential(nn.Linear(2, 1))
    opt_g = torch.optim.SGD(g.parameters(), 0.1)
    with Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=4, snapshot_every=1) as rec:
        loss = d(g(torch.randn(8, 4))).mean()
        opt_g.zero_grad()
        loss.backward()
        seen = [float(torch.cat([p.grad.flatten() for p in layer.parameters()]).norm()) for layer in (g[0], g[2])]
        opt_g.step()
        g[0].weight.grad += 100  # after the step: not what the update applied
        rec.step(loss_g=loss)
    run = Run.load(tmp_path / "r")
    snap = run.snapshot("end")
    np.testing.assert_allclose(snap.grad_norm_g, seen, rtol=1e-5)
    assert np.isnan(snap.grad_norm_d).all() and np.isnan(run.metrics.grad_norm_d).all()
    np.testing.assert_allclose(run.metrics.grad_norm_g, [np.linalg.norm(seen)], rtol=1e-5)
    assert run.metrics.lr_g.tolist() == [0.1] and np.isnan(run.metrics.lr_d).all()


def test_a_layer_without_gradient_is_missing_not_zero(tmp_path: Path) -> None:
    g = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    d = nn.Linear(2, 1)
    opt = torch.optim.SGD(g.parameters(), 0.1)
    with Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, snapshot_every=1) as rec:
        g[1](torch.randn(4, 2)).sum().backward()  # only the second layer takes part
        opt.step()
        rec.step()
    norms = Run.load(tmp_path / "r").snapshot("end").grad_norm_g
    assert np.isnan(norms[0]) and norms[1] > 0


def test_a_wgan_gp_with_five_critic_steps(wgan: Path) -> None:
    """D's norms are those of its last update before each recorded step; a critic's values are kept raw and
    run.json says so; scores not handed over are missing."""
    run = Run.load(wgan)
    assert run.kind == "toy2d" and run.config["loss"] == "wgan-gp" and run.steps == [0, 5, 10]
    assert run.info["d_scores"] == "critic" and run.critic
    m = run.metrics
    assert np.isnan(m.d_real).all() and np.isnan(m.acc_real).all() and np.isnan(m.d_fake_after).all()
    assert np.isfinite(m.loss_d).all() and np.isfinite(m.grad_norm_d).all() and np.isfinite(m.grad_norm_g).all()
    snap = run.snapshot("end")
    assert snap.field.shape == (64, 64) and snap.grid_fake.shape == (256, 2) and snap.fake_grad.shape == (512, 2)
    assert (snap.field < 0).any() or (snap.field > 1).any()  # raw critic values: no sigmoid
    assert snap.labels is None and run.fixed.labels is None


def test_a_critic_run_is_not_drawn_as_probabilities(wgan: Path) -> None:
    """The scenes that draw D's scores as probabilities refuse the critic run in one line; GradientFlow, which
    prints D(G(z)) as recorded, draws it."""
    from pipeline.render import builtin_scene_path, builtin_scenes, cannot_draw, load_scene_classes

    run = Run.load(wgan)
    for name in builtin_scenes():
        for cls in load_scene_classes(builtin_scene_path(name)):
            reason = cannot_draw(cls, run)
            if name == "gradient_flow":
                assert reason is None
            else:
                assert reason is not None and "critic" in reason and "\n" not in reason, (name, reason)


@pytest.mark.xdist_group("scenes")
def test_plots_gifs_and_every_scene_from_recorded_runs(
    conditional: Path, wgan: Path, ring: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.render as render

    monkeypatch.setitem(render.QUALITIES, "low", (160, 90, 5))
    for run in (conditional, wgan):
        for args in (["plots", str(run), "--format", "png"], ["gif", str(run)]):
            res = CliRunner().invoke(main, [*args, "-o", str(tmp_path / run.name / args[0])])
            assert res.exit_code == 0, res.output
            assert list((tmp_path / run.name / args[0]).rglob("*.png" if args[0] == "plots" else "*.gif"))
    videos = tmp_path / "videos"
    args = ["render", "all", "--run", str(conditional), "--run-2d", str(ring), "-o", str(videos), "--quiet"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert len(list(videos.glob("*.mp4"))) == 5  # the 2-D scene from the ring
    # mode_collapse draws digit runs of ganviz's own datasets and 8-Gaussians runs: skipped, saying so in one line
    (skipped,) = [ln for ln in res.stderr.splitlines() if ln.startswith("note: skipping")]
    assert skipped.startswith("note: skipping mode_collapse: scene ModeCollapse draws 8-Gaussians runs and digit")
    assert Run.load(ring).steps == [0, 4, 8, 12]
    res = CliRunner().invoke(main, ["render", "all", "--run", str(wgan), "-o", str(tmp_path / "v2"), "--quiet"])
    assert res.exit_code == 0, res.output
    assert res.stderr.count("note: skipping") == 5 and "critic" in res.stderr
    assert [f.name for f in (tmp_path / "v2").glob("*.mp4")] == ["GradientFlow.mp4"]


def test_a_loop_that_raises_leaves_a_readable_run_marked_crashed(tmp_path: Path) -> None:
    from torch.optim.optimizer import _global_optimizer_pre_hooks as hooks

    before = len(hooks)
    with pytest.raises(RuntimeError, match="the loop broke"):
        train_conditional(tmp_path / "r", steps=12, raise_at=6)
    assert len(hooks) == before  # the gradient-norm hook is gone with the Recorder
    run = Run.load(tmp_path / "r")
    assert run.status == "crashed" and run.info["error"] == "RuntimeError: the loop broke"
    assert run.metrics.step.tolist() == [1, 2, 3, 4, 5, 6]  # every step handed over is kept
    assert run.steps == [0, 4] and not list((tmp_path / "r").rglob("*.tmp"))
    res = CliRunner().invoke(main, ["plots", str(tmp_path / "r"), "--format", "png", "-o", str(tmp_path / "p")])
    assert res.exit_code == 0, res.output


def test_ctrl_c_in_the_loop_marks_the_run_interrupted(tmp_path: Path) -> None:
    g, d = nn.Linear(2, 2), nn.Linear(2, 1)
    with pytest.raises(KeyboardInterrupt), Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2) as rec:
        rec.step(loss_d=1.0, loss_g=torch.tensor(2.0))
        raise KeyboardInterrupt
    run = Run.load(tmp_path / "r")
    assert run.status == "interrupted" and run.metrics.loss_d.tolist() == [1.0] and run.metrics.loss_g.tolist() == [2]
    assert "error" not in run.info


def test_bad_arguments_are_one_line(tmp_path: Path) -> None:
    g, d = nn.Linear(2, 2), nn.Linear(2, 1)
    cases = [
        ({"real": torch.randn(8, 3, 5), "noise_dim": 2}, "real: expected"),
        ({"real": torch.randn(8, 2)}, "fixed_noise .* or noise_dim"),
        ({"real": torch.randn(8, 2), "noise_dim": 2, "d_output": "prob"}, "d_output='prob': use one of"),
        ({"real": torch.randn(8, 2), "noise_dim": 2, "loss": "l1"}, "loss='l1': use one of"),
        ({"real": torch.randn(8, 2), "noise_dim": 2, "snapshot_every": 0}, "snapshot_every=0"),
        ({"real": torch.randn(8, 2), "noise_dim": 2, "n_fixed": 4, "fixed_labels": torch.zeros(3)}, "fixed_labels"),
        ({"real": torch.randn(8, 2), "noise_dim": 2, "fixed_labels": torch.zeros(512).long()}, "both fixed_labels"),
        ({"real": torch.randn(8, 2), "noise_dim": 2, "resume": -1}, "resume=-1: True, False, or the step"),
        ({"real": torch.randn(8, 2), "noise_dim": 2, "resume": 5}, "resume=5: .* holds no run to continue"),
        ({"real": torch.randn(8, 2), "noise_dim": 2, "measure": "fid"}, "measure='fid': use one of"),
        ({"real": torch.randn(8, 2), "noise_dim": 2, "measure": "gaussian"}, "measures a 1-D toy run, but real"),
        ({"real": torch.randn(8, 2), "noise_dim": 2, "measure": "rings", "measure_samples": 3}, "measure_samples"),
        ({"real": torch.randn(8, 2), "noise_dim": 2, "measure_every": 0}, "measure_every=0"),
        ({"real": torch.randn(8, 1, 4, 4), "noise_dim": 2, "measure": "inception"}, "give measure_real"),
    ]
    for kwargs, message in cases:
        with pytest.raises(GanvizError, match=message) as e:
            Recorder(tmp_path / "a", g, d, **kwargs)
        assert "\n" not in str(e.value)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x").write_text("x")
    with pytest.raises(GanvizError, match="not an empty folder"):
        Recorder(tmp_path / "c", g, d, real=torch.randn(8, 2), noise_dim=2)
    rec = Recorder(tmp_path / "e", g, d, real=torch.randn(8, 2), noise_dim=2)
    with pytest.raises(GanvizError, match="use it as `with Recorder"):
        rec.step(loss_d=1.0)
    for k, (values, message) in enumerate(
        [
            ({"grad_norm_g": 1.0}, r"step\(grad_norm_g=...\): the Recorder fills grad_norm_g itself"),
            ({"loss_d": torch.ones(4)}, r"step\(loss_d=...\): a single number, got a tensor of shape \(4,\)"),
            ({"gp": "high"}, r"step\(gp=...\): a number or a tensor, got str"),
            ({"step": 0}, r"step\(step=0\): the step just done, a whole number from 1"),
            ({"step": 2}, r"step\(step=2\): expected step 1, the one after the last recorded"),
            ({"d_real": 2.5}, r"step\(d_real=...\): 2.5 at step 1 is not a probability of real \(d_output='logit'\)"),
        ]
    ):
        rec = Recorder(tmp_path / f"e{k}", g, d, real=torch.randn(8, 2), noise_dim=2, log_every=1)
        with pytest.raises(GanvizError, match=message) as e, rec:
            rec.step(**values)
        assert "\n" not in str(e.value)
        assert Run.load(tmp_path / f"e{k}").status == "crashed"
    assert not (tmp_path / "a").exists()  # refused before anything was written


def test_the_documented_dcgan_loop_records_a_run_every_scene_can_draw(tmp_path: Path, monkeypatch) -> None:
    """docs/record-your-gan.md's example (the textbook loop's own D_x, D_G_z1, D_G_z2), run as written but for 3
    steps of a smaller batch, measured in a stand-in digits space (no classifier training here)."""
    from gan_train.features import SPACES, FeatureSpace
    from pipeline.render import builtin_scene_path, builtin_scenes, cannot_draw, load_scene_classes

    class Means(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)

    stand_in = lambda device, **_: FeatureSpace("digits", Means(), device, 28, 1, head=nn.Linear(2, 10))  # noqa: E731
    monkeypatch.setitem(SPACES, "digits", stand_in)
    changes = {
        "nz, epochs, batch_size = 64, 5, 128": "nz, epochs, batch_size = 64, 1, 32",
        "TensorDataset(images)": "TensorDataset(images[:96])",
    }
    code = doc_snippet("docs/record-your-gan.md", "## The textbook DCGAN loop, recorded", changes)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "record-your-gan.md", "exec"), {})
    run = Run.load(tmp_path / "outputs" / "runs" / "my-dcgan")
    assert run.status == "finished" and run.steps == [0, 3] and run.metrics.step.tolist() == [1, 2, 3]
    m = run.metrics
    assert run.info["d_scores"] == "probability" and np.isfinite(m.loss_d).all() and np.isfinite(m.d_fake_after).all()
    assert ((m.d_real > 0) & (m.d_real < 1)).all() and np.isnan(m.acc_real).all()  # .item() means: no accuracy
    assert run.info["layer_types_g"][:2] == ["ConvTranspose2d", "BatchNorm2d"]
    assert run.info["layer_shapes_g"][-1] == [1, 28, 28]
    assert sorted({r["step"] for r in run.evals.rows}) == [0, 3] and run.evals.get("classes", "digits") is not None
    drawable = [n for n in builtin_scenes() if cannot_draw(load_scene_classes(builtin_scene_path(n))[0], run) is None]
    assert set(drawable) >= set(builtin_scenes()) - {"distribution", "adversarial"}  # measured: mode_collapse too
    assert "distribution" not in drawable  # no 2-D points


def test_a_scene_draws_or_names_what_a_run_did_not_record(conditional: Path, tmp_path: Path) -> None:
    """The documented example: a run without accuracies is still drawn by the adversarial scene (its accuracy at
    each snapshot from the snapshots' scores), and ModeCollapse refuses a run of data it cannot measure in the one
    line the docs show."""
    import shutil

    from pipeline.render import builtin_scene_path, cannot_draw, load_scene_classes

    run_dir = tmp_path / "my-dcgan"
    shutil.copytree(conditional, run_dir)
    lines = [json.dumps({**r, "acc_real": None, "acc_fake": None}) for r in rows(run_dir)]
    (run_dir / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    (adversarial,) = load_scene_classes(builtin_scene_path("adversarial"))
    assert cannot_draw(adversarial, Run.load(run_dir)) is None
    (collapse,) = load_scene_classes(builtin_scene_path("mode_collapse"))
    doc = (ROOT / "docs" / "record-your-gan.md").read_text(encoding="utf-8")
    documented = next(ln for ln in doc.splitlines() if ln.startswith("note: skipping mode_collapse"))
    assert documented == f"note: skipping mode_collapse: {cannot_draw(collapse, Run.load(run_dir))}"


def test_a_loop_that_ends_between_snapshots_gets_its_last_one(tmp_path: Path) -> None:
    g, d = nn.Linear(2, 2), nn.Linear(2, 1)
    with Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, snapshot_every=2) as rec:
        for _ in range(3):
            rec.step(loss_d=0.5)
    run = Run.load(tmp_path / "r")
    assert run.steps == [0, 2, 3] and run.info["total_steps"] == 3 and run.metrics.step.tolist() == [1, 2, 3]


def test_a_recorded_loop_trains_exactly_as_an_unrecorded_one(tmp_path: Path) -> None:
    """Snapshots (G with dropout, D with BatchNorm) leave the weights, the running statistics and the random
    streams as they were."""

    def loop(rec: Recorder | None) -> dict[str, torch.Tensor]:
        torch.manual_seed(3)
        g = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.3), nn.Linear(16, 2))
        d = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 1))
        opt_g, opt_d = torch.optim.Adam(g.parameters(), 1e-2), torch.optim.Adam(d.parameters(), 1e-2)
        with rec.bind(g, d) if rec is not None else contextlib.nullcontext() as r:
            for _ in range(6):
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
                if r is not None:
                    r.step(loss_d=loss_d, loss_g=loss_g)
        return {**{f"g.{k}": v for k, v in g.state_dict().items()}, **{f"d.{k}": v for k, v in d.state_dict().items()}}

    class Later:
        """A Recorder made once the loop has built its models (after its seed)."""

        def bind(self, g: nn.Module, d: nn.Module) -> Recorder:
            return Recorder(tmp_path / "r", g, d, real=torch.zeros(8, 2), noise_dim=4, snapshot_every=1)

    plain, recorded = loop(None), loop(Later())
    assert Run.load(tmp_path / "r").steps == list(range(7))  # a snapshot at every step
    for key, value in plain.items():
        torch.testing.assert_close(recorded[key], value, rtol=0, atol=0, msg=key)


def test_a_full_disk_stops_the_loop_in_one_line_and_marks_the_run_crashed(tmp_path: Path, monkeypatch) -> None:
    """metrics.jsonl cannot be written: the loop stops with one line naming the folder, run.json says crashed, and
    the hook and the folder's lock are released."""
    import errno
    import os

    from torch.optim.optimizer import _global_optimizer_pre_hooks as hooks

    import ganviz.writer as writer
    from ganviz.lock import RunLock

    def full(path: Path, text: str) -> None:  # metrics.jsonl's fsync refused
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer, "append_lines", full)
    before = len(hooks)
    g, d = nn.Linear(2, 2), nn.Linear(2, 1)
    with pytest.raises(GanvizError) as e:
        with Recorder(tmp_path / "r", g, d, real=torch.randn(8, 2), noise_dim=2, log_every=2) as rec:
            for _ in range(20):
                rec.step(loss_d=1.0)
    assert "\n" not in str(e.value) and str(tmp_path / "r") in str(e.value)
    run = Run.load(tmp_path / "r")
    assert run.status == "crashed" and run.info["error"].startswith("WriteError") and len(hooks) == before
    RunLock(tmp_path / "r").release()  # nobody holds the folder
    assert os.path.isfile(tmp_path / "r" / "run.json")
