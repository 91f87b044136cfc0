"""Quality measures recorded during training (evals.jsonl), `ganviz eval`, reading them back, and their plots.

What the measures compute is tested in tests/test_measures.py; here: which rows a run gets and when, that they
survive a resume unchanged, that damaged files are one line, and that what is plotted is what was recorded.
Image runs use a stand-in feature space (no classifier training, no download) through the same registry.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from conftest import make_run
from torch import nn

from gan_train.config import apply_overrides, get_variant
from gan_train.features import SPACES, FeatureSpace
from gan_train.snapshots import RunWriter
from gan_train.train import train
from pipeline.cli import main
from pipeline.run import Run, RunError
from pipeline.runformat import EVAL_REQUIRED, EVALS, FORMAT_VERSION

TOY = {"steps": 30, "snapshot_every": 3, "log_every": 3}


class Means(nn.Module):
    """A stand-in feature network: per-channel mean and std of each image (2 features a channel)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)


def stand_in_digits(device: torch.device, **_: object) -> FeatureSpace:
    head = nn.Linear(2, 10)
    return FeatureSpace("digits", Means(), device, size=28, channels=1, head=head)


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in (path / "evals.jsonl").read_text().splitlines()]


def test_a_toy_run_is_measured_at_step_0_every_10th_snapshot_and_the_end(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", "toy-rings", steps=35, snapshot_every=3, log_every=5, eval_samples=200)
    got = rows(run)
    assert sorted({r["step"] for r in got}) == [0, 30, 35]  # every 10 x 3 steps, and the last step
    assert {r["measure"] for r in got} == {"sliced_w1", "arc_bins_hit", "near_arc"}
    for r in got:
        assert list(r)[: len(EVAL_REQUIRED)] == list(EVAL_REQUIRED) and set(r) <= set(EVALS.names)
        assert r["n_fake"] == 200 and r["space"] is None
    sw = [r for r in got if r["measure"] == "sliced_w1"]
    assert all(r["n_real"] == 200 and 0 < r["floor"] < r["value"] for r in sw)  # noise is far from the arcs
    info = json.loads((run / "run.json").read_text())
    assert info["format_version"] == FORMAT_VERSION == 3
    assert info["evals"] == {"file": "evals.jsonl", "every": 30, "samples": 200, "space": None,
                             "measures": ["sliced_w1", "arc_bins_hit", "near_arc"]}  # fmt: skip


@pytest.mark.parametrize(
    ("variant", "overrides", "measures"),
    [
        ("toy-gaussian", {}, {"w1", "ks"}),
        ("toy-8gaussians", {"batch_size": 64}, {"sliced_w1", "modes_captured", "high_quality"}),
        ("toy-quadratic", {}, {"sliced_w1"}),
    ],
)
def test_each_toy_gets_its_measures(tmp_path: Path, variant: str, overrides: dict, measures: set[str]) -> None:
    got = rows(make_run(tmp_path / "r", variant, eval_samples=100, **TOY, **overrides))
    assert {r["measure"] for r in got} == measures
    for r in got:
        if r["measure"] == "modes_captured":
            assert len(r["counts"]) == 8 and r["value"] == sum(c > 0 for c in r["counts"])
            assert sum(r["counts"]) + r["off"] == r["n_fake"] == 100  # every sample: on a mode or off them
        if r["measure"] in ("w1", "ks"):
            assert r["reference"] == "N(4, 0.5^2)" and r["value"] >= 0


def test_an_image_run_is_measured_in_its_feature_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SPACES, "digits", stand_in_digits)
    run = make_run(tmp_path / "r", "dcgan-digits", steps=4, batch_size=8, ngf=4, ndf=4, n_fixed=4,
                   snapshot_every=2, eval_samples=40)  # fmt: skip
    got = rows(run)
    assert {r["measure"] for r in got} == {"fd", "kid", "precision", "recall", "classes"}
    assert all(r["space"] == "digits" and r["n_fake"] == r["n_real"] == 40 for r in got)
    classes = [r for r in got if r["measure"] == "classes"]
    assert all(sum(r["counts"]) == 40 and r["value"] == sum(c > 0 for c in r["counts"]) for r in classes)
    for r in classes:  # the recognised samples and the rest split all 40; none is recognised off the real manifold
        assert sum(r["recognised"]) + r["unrecognised"] == 40 and r["confidence"] == 0.9
        precision = next(p for p in got if p["measure"] == "precision" and p["step"] == r["step"])
        assert sum(r["recognised"]) <= round(precision["value"] * 40)


def test_ganviz_eval_measures_again_what_an_older_row_lacks(tmp_path: Path) -> None:
    """A row recorded before a field existed (modes_captured without ``off``) is measured again at the checkpoint's
    step; the new row comes after it, and readers take it."""
    run = make_run(tmp_path / "r", "toy-8gaussians", eval_samples=100, batch_size=64, **TOY)
    f = run / "evals.jsonl"
    old = [json.loads(line) for line in f.read_text().splitlines()]
    for r in old:
        r.pop("off", None)
    f.write_text("".join(json.dumps(r) + "\n" for r in old))
    res = CliRunner().invoke(main, ["eval", str(run), "--samples", "100", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    new = rows(run)[len(old) :]
    assert [r["measure"] for r in new] == ["modes_captured"] and "off" in new[0]
    last = Run.load(run).evals.get("modes_captured")
    assert last.rows[-1]["off"] == new[0]["off"] and last.steps[-1] == last.steps[-2]


def test_no_measures_when_asked(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", "toy-gaussian", eval_every=-1, **TOY)
    assert not (run / "evals.jsonl").exists() and "evals" not in json.loads((run / "run.json").read_text())
    assert not Run.load(run).evals


def test_a_resumed_run_measures_exactly_as_an_uninterrupted_one(tmp_path: Path) -> None:
    """The evaluation noise and the real reference have random streams of their own: resuming changes nothing."""
    opts = {"device": "cpu", "steps": 60, "snapshot_every": 3, "log_every": 3, "eval_samples": 100,
            "checkpoint_every": 9}  # fmt: skip
    full = make_run(tmp_path / "full", "toy-rings", **{k: v for k, v in opts.items() if k != "device"})
    cfg = apply_overrides(get_variant("toy-rings"), opts)
    part = train(cfg, out=tmp_path / "part", progress=False, stop_after=40)
    with open(part / "evals.jsonl", "a") as f:  # as if a crash after the checkpoint (step 40) left later rows
        f.write(json.dumps({"step": 45, "measure": "sliced_w1", "value": 1.0, "space": None}) + "\n")
    train(None, resume=part, progress=False)
    assert rows(part) == rows(full)


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (lambda t: "garbage\n" + t, "line 1 is damaged (not valid JSON)"),
        (lambda t: t.replace('"measure"', '"what"', 1), "line 1 is damaged ('measure' is not a measure name)"),
        (lambda t: t.replace('"value":', '"value":"x","v":', 1), "line 1 is damaged ('value' has the wrong type)"),
        (lambda t: '{"step": 99, "measure": "w1", "value": 1}\n' + t, "line 2 is damaged (step 0 comes after step 99)"),
    ],
)
def test_a_damaged_or_foreign_evals_file_is_one_line(designed_toy1d: Path, tmp_path: Path, damage, needle) -> None:
    run = Path(shutil.copytree(designed_toy1d, tmp_path / "r"))
    writer = RunWriter(run)
    writer.append_evals([{"step": s, "measure": "w1", "value": 0.5, "space": None, "n_fake": 16, "n_real": None}
                         for s in (0, 100, 200)])  # fmt: skip
    writer.close()
    f = run / "evals.jsonl"
    f.write_text(damage(f.read_text()))
    with pytest.raises(RunError, match=r"evals\.jsonl: " + needle.replace("(", r"\(").replace(")", r"\)")):
        Run.load(run).evals  # noqa: B018
    res = CliRunner().invoke(main, ["plots", str(run), "-o", str(tmp_path / "p"), "--format", "png", "--quiet"])
    lines = res.stderr.strip().splitlines()
    assert res.exit_code == 1 and len(lines) == 1 and needle in lines[0], res.output
    assert not (tmp_path / "p").exists()


def test_a_cut_last_line_is_dropped_with_a_warning(designed_toy1d: Path, tmp_path: Path) -> None:
    run = Path(shutil.copytree(designed_toy1d, tmp_path / "r"))
    (run / "evals.jsonl").write_text('{"step": 0, "measure": "w1", "value": 1.5, "space": null}\n{"step": 200, "me')
    with pytest.warns(UserWarning, match="evals.jsonl: ignoring truncated last line"):
        evals = Run.load(run).evals
    assert evals.get("w1").steps.tolist() == [0] and evals.get("w1").values.tolist() == [1.5]


def test_format_1_runs_still_read(designed_toy2d: Path, tmp_path: Path) -> None:
    run = Path(shutil.copytree(designed_toy2d, tmp_path / "r"))
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "format_version": 1}))
    r = Run.load(run)
    assert not r.evals and len(r.metrics.step) == 200 and r.snapshot("end").fake.shape == (64, 2)


def test_ganviz_eval_measures_the_checkpoint_once(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", "toy-gaussian", eval_every=-1, **TOY)
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "format_version": 1}))  # as an older ganviz wrote it
    res = CliRunner().invoke(main, ["eval", str(run), "--samples", "300", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    got = rows(run)
    assert [(r["step"], r["measure"], r["n_fake"]) for r in got] == [(30, "w1", 300), (30, "ks", 300)]
    assert "w1" in res.stdout and "added to" in res.stdout
    info = json.loads((run / "run.json").read_text())
    assert info["format_version"] == FORMAT_VERSION and info["evals"]["measures"] == ["w1", "ks"]
    res = CliRunner().invoke(main, ["eval", "--run", str(run), "--samples", "300", "--device", "cpu"])
    assert res.exit_code == 0 and "nothing added" in res.stderr and len(rows(run)) == 2


def test_ganviz_eval_without_a_checkpoint_is_one_line(designed_toy1d: Path) -> None:
    res = CliRunner().invoke(main, ["eval", str(designed_toy1d)])
    assert res.exit_code == 1 and res.stderr.count("\n") == 1
    assert "no checkpoint in this run; 'ganviz eval' measures the trained generator" in res.stderr


def test_plots_show_each_series_on_its_own_axes(designed_image: Path, tmp_path: Path) -> None:
    """Values in two feature spaces or at two sample counts are different numbers: never one axis."""
    import matplotlib

    from pipeline.plots import figures

    matplotlib.use("Agg")
    run = Path(shutil.copytree(designed_image, tmp_path / "r"))
    fd = [(0, 900.0), (100, 500.0), (200, 120.0)]
    writer = RunWriter(run)
    writer.append_evals(
        [{"step": s, "measure": "fd", "value": v, "space": "digits", "n_fake": 64, "n_real": 64} for s, v in fd]
        + [{"step": 200, "measure": "fd", "value": 40.0, "space": "inception", "n_fake": 64, "n_real": 64},
           {"step": 200, "measure": "fd", "value": 110.0, "space": "digits", "n_fake": 500, "n_real": 500},
           {"step": 200, "measure": "classes", "value": 3, "space": "digits", "n_fake": 10, "n_real": 10,
            "counts": [5, 3, 2, 0, 0, 0, 0, 0, 0, 0]}]
    )  # fmt: skip
    writer.close()
    figs = dict(figures(Run.load(run)))
    lines = [(ax, ln) for ax in figs["quality"].axes for ln in ax.lines if (ln.get_gid() or "").startswith("quality:")]
    assert len(lines) == 4 and len({id(ax) for ax, _ in lines}) == 4  # one axes per series
    digits64 = next(ln for ax, ln in lines if list(ln.get_xdata()) == [0, 100, 200])
    assert list(digits64.get_ydata()) == [v for _, v in fd]
    area = figs["classes"].axes[0].collections
    assert len(area) == 10  # one band per digit
