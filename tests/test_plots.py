"""Publication plots: every file opens, and what is drawn is what the run recorded."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from pipeline.cli import main
from pipeline.plots import (
    PlotError,
    accuracy_series,
    decimate,
    ema,
    figures,
    grad_norm_matrix,
    kde,
    loss_series,
    make_plots,
    parse_formats,
    pick_steps,
    score_series,
)
from pipeline.run import METRIC_COLUMNS, Run, read_metrics_rows

matplotlib.use("Agg")


def _gid(fig, gid):
    for ax in fig.axes:
        for artist in [*ax.lines, *ax.collections, *ax.images, *ax.patches]:
            if artist.get_gid() == gid:
                return artist
    raise AssertionError(f"no artist with gid {gid}")


def _figs(run, **kw):
    import matplotlib.pyplot as plt

    out = dict(figures(run, **kw))
    yield out
    for f in out.values():
        plt.close(f)


# -- the files ---------------------------------------------------------------------------------------
def test_image_run_writes_png_pdf_svg_that_open(image_run: Path, tmp_path: Path) -> None:
    run = Run.load(image_run)
    paths = make_plots(run, tmp_path, dpi=100, progress=False)
    names = {"losses", "scores", "accuracy", "grad_norms", "samples", "real_vs_fake"}
    assert {p.name for p in paths} == {f"{n}.{e}" for n in names for e in ("png", "pdf", "svg")}
    for p in paths:
        assert p.is_file() and p.stat().st_size > 2000, p
        data = p.read_bytes()
        if p.suffix == ".png":
            with Image.open(p) as im:
                im.load()
                assert im.format == "PNG" and min(im.size) > 150
                assert round(im.info["dpi"][0]) == 100
                assert np.asarray(im.convert("L")).std() > 5  # not a blank canvas
        elif p.suffix == ".pdf":
            assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
            assert b"/FontFile2" in data  # TrueType font embedded
            assert b"/Subtype /Type3" not in data
        else:
            root = ET.fromstring(data)
            assert root.tag.endswith("svg")
            assert not [e for e in root.iter() if e.tag.endswith("}text")]  # glyphs are paths: no font needed
            assert [e for e in root.iter() if e.tag.endswith("}use")]  # titles drawn from embedded glyph paths


def test_toy_runs_get_their_own_figures(toy2d_run: Path, toy1d_run: Path, tmp_path: Path) -> None:
    p2 = make_plots(Run.load(toy2d_run), tmp_path / "t2", formats="png", style="slides", dpi=50, progress=False)
    p1 = make_plots(Run.load(toy1d_run), tmp_path / "t1", formats=["png"], dpi=50, steps="0,end", progress=False)
    assert "toy2d_field.png" in {p.name for p in p2} and "samples.png" not in {p.name for p in p2}
    assert "toy1d_density.png" in {p.name for p in p1}
    for p in p1 + p2:
        with Image.open(p) as im:
            im.load()
    # slides: twice the paper size (3.4 x 2.3 in), so fonts stay big when projected
    with Image.open(tmp_path / "t2" / "losses.png") as b, Image.open(tmp_path / "t1" / "losses.png") as a:
        assert b.size == (340, 230) and a.size == (170, 115)


# -- plotted values are the run's values ----------------------------------------------------------------
def test_loss_score_accuracy_lines_are_the_metrics(image_run: Path) -> None:
    run = Run.load(image_run)
    m = run.metrics
    for figs in _figs(run, steps="end"):
        raw_d = _gid(figs["losses"], "raw:D")
        np.testing.assert_array_equal(raw_d.get_xdata(), m["step"])
        np.testing.assert_array_equal(raw_d.get_ydata(), m["loss_d"])
        np.testing.assert_array_equal(_gid(figs["losses"], "raw:G").get_ydata(), m["loss_g"])
        np.testing.assert_allclose(_gid(figs["losses"], "ema:G").get_ydata(), loss_series(m)["ema_g"])
        np.testing.assert_array_equal(_gid(figs["scores"], "raw:D(x), real").get_ydata(), m["d_real"])
        np.testing.assert_array_equal(_gid(figs["scores"], "raw:D(G(z)), generated").get_ydata(), m["d_fake"])
        assert list(_gid(figs["scores"], "equilibrium").get_ydata()) == [0.5, 0.5]
        np.testing.assert_array_equal(_gid(figs["accuracy"], "raw:real called real").get_ydata(), m["acc_real"])
        np.testing.assert_array_equal(_gid(figs["accuracy"], "raw:generated called fake").get_ydata(), m["acc_fake"])
    s = score_series(m)
    a = accuracy_series(m)
    assert np.nanmax(np.abs(s["ema_real"] - ema(m["d_real"], 5))) < 1e-12
    assert 0 <= np.nanmin(a["acc_fake"]) and np.nanmax(a["acc_real"]) <= 1


def test_sample_grid_pixels_are_the_snapshot(image_run: Path) -> None:
    run = Run.load(image_run)
    for figs in _figs(run, steps="0,end"):
        img = np.asarray(_gid(figs["samples"], "samples:0").get_array())
        fake = run.snapshot(0).fake
        # tile() puts sample 0 at (2, 2) with 2-pixel padding
        np.testing.assert_array_equal(img[2:30, 2:30, 0], fake[0, :, :, 0])
        np.testing.assert_array_equal(img[2:30, 32:60, 0], fake[1, :, :, 0])


def test_grad_norm_heatmap_is_the_snapshots(image_run: Path) -> None:
    run = Run.load(image_run)
    steps, names, mat = grad_norm_matrix(run, "d")
    assert list(steps) == run.steps and names == run.info["layers_d"]
    for j, s in enumerate(run.steps):
        np.testing.assert_array_equal(mat[:, j], run.snapshot(s)["grad_norm_d"])
    assert np.isnan(mat[:, 0]).all() and np.isfinite(mat[:, 1:]).all()  # no gradients before step 1
    for figs in _figs(run):
        drawn = _gid(figs["grad_norms"], "gradnorm:d").get_array()
        np.testing.assert_array_equal(np.ma.filled(drawn, np.nan)[:, 1:], mat[:, 1:])


def test_toy2d_field_and_points_are_the_snapshot(toy2d_run: Path) -> None:
    run = Run.load(toy2d_run)
    for figs in _figs(run, steps="0,end"):
        s = run.steps[-1]
        snap = run.snapshot(s)
        np.testing.assert_array_equal(_gid(figs["toy2d_field"], f"field:{s}").get_array(), snap["field"])
        np.testing.assert_array_equal(_gid(figs["toy2d_field"], f"fake:{s}").get_offsets(), snap.fake)
        np.testing.assert_array_equal(_gid(figs["toy2d_field"], f"real:{s}").get_offsets(), run.real)


def test_toy1d_density_and_d_curve_are_the_snapshot(toy1d_run: Path) -> None:
    run = Run.load(toy1d_run)
    for figs in _figs(run, steps="end"):
        s = run.steps[-1]
        snap = run.snapshot(s)
        np.testing.assert_array_equal(_gid(figs["toy1d_density"], f"d:{s}").get_ydata(), snap["field"])
        heights = _gid(figs["toy1d_density"], f"hist_fake:{s}").get_data().values
        edges = _gid(figs["toy1d_density"], f"hist_fake:{s}").get_data().edges
        inside = ((snap.fake[:, 0] >= edges[0]) & (snap.fake[:, 0] <= edges[-1])).mean()
        assert np.sum(heights * np.diff(edges)) == pytest.approx(inside)


# -- data preparation --------------------------------------------------------------------------------
def test_ema_skips_nan_and_matches_the_recurrence() -> None:
    y = np.array([1.0, np.nan, 3.0, 5.0, np.nan])
    out = ema(y, span=3)  # alpha 0.5
    np.testing.assert_allclose(out, [1.0, 1.0, 2.0, 3.5, 3.5])
    assert np.isnan(ema(np.array([np.nan, 2.0]), 3)[0])


def test_decimate_keeps_every_extreme() -> None:
    x = np.arange(100_000)
    y = np.sin(x / 500.0)
    y[12_345] = 50.0  # a spike
    y[77_777] = -50.0
    xd, yd = decimate(x, y, 2000)
    assert len(xd) <= 2000 and np.all(np.diff(xd) > 0)
    assert yd.max() == 50.0 and yd.min() == -50.0 and 12_345 in xd and 77_777 in xd
    np.testing.assert_array_equal(yd, y[xd])
    small = np.arange(10.0)
    assert decimate(small, small)[0] is small


def test_kde_integrates_to_one() -> None:
    x = np.random.default_rng(0).normal(4, 0.5, 500)
    grid = np.linspace(0, 8, 801)
    assert np.trapezoid(kde(x, grid), grid) == pytest.approx(1.0, abs=1e-3)


def test_pick_steps(image_run: Path, tmp_path: Path) -> None:
    run = Run.load(image_run)
    assert pick_steps(run, "0,20,end") == [0, 20, 40]
    assert pick_steps(run, "21") == [20]  # the state the run was in at step 21
    assert pick_steps(run, None)[0] == 0 and pick_steps(run, None)[-1] == 40
    with pytest.raises(PlotError, match=r"--steps 5000: .*beyond"):
        pick_steps(run, "0,5000")
    with pytest.raises(PlotError, match="--steps"):
        pick_steps(run, "0,soon")
    with pytest.raises(PlotError, match="--format"):
        parse_formats("png,jpg")


def test_metrics_fast_path_equals_line_reader(image_run: Path, tmp_path: Path) -> None:
    run = Run.load(image_run)
    rows = read_metrics_rows(image_run / "metrics.jsonl")
    for col in METRIC_COLUMNS:
        ref = np.array([np.nan if r[col] is None else r[col] for r in rows], np.float64)
        np.testing.assert_array_equal(run.metrics[col].astype(np.float64), ref)
    # a crash mid-write: the reader drops the broken last line
    copy = tmp_path / "run"
    shutil.copytree(image_run, copy)
    data = (copy / "metrics.jsonl").read_bytes()
    (copy / "metrics.jsonl").write_bytes(data + b'{"step": 41, "loss_d"')
    with pytest.warns(UserWarning, match="truncated"):
        assert len(Run.load(copy).metrics["step"]) == 40


# -- the command ---------------------------------------------------------------------------------------
def _no_snapshot_copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for name in ("run.json", "metrics.jsonl", "fixed.npz"):
        shutil.copy(src / name, dst / name)
    return dst


@pytest.mark.parametrize("case", ["not-a-run", "no-snapshots", "steps-beyond", "bad-format", "bad-dpi"])
def test_cli_bad_input_is_one_line(case: str, image_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One line, and a refused command leaves nothing: no default outputs/plots/<run>/, no new --out folder."""
    monkeypatch.chdir(tmp_path)
    bare = [str(_no_snapshot_copy(image_run, tmp_path / "r"))] if case == "no-snapshots" else []
    args = {
        "not-a-run": ["plots", str(tmp_path)],
        "no-snapshots": ["plots", *bare],  # would be outputs/plots/r/
        "steps-beyond": ["plots", str(image_run), "--steps", "0,999999", "--out", "p"],
        "bad-format": ["plots", str(image_run), "--format", "png,bmp", "--out", "p"],
        "bad-dpi": ["plots", str(image_run), "--dpi", "0", "--out", "p"],
    }[case]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == (["r"] if bare else [])


def test_cli_plots_writes_requested_formats(toy1d_run: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["plots", str(toy1d_run), "--out", str(tmp_path), "--format", "png",
                                    "--log", "--quiet", "--dpi", "40"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{n}.png" for n in ("losses", "scores", "accuracy", "grad_norms", "toy1d_density")
    )
    assert "5 files written" in res.stdout


def test_log_axis(toy1d_run: Path) -> None:
    run = Run.load(toy1d_run)
    for figs in _figs(run, log=True):
        assert figs["losses"].axes[0].get_yscale() in ("log", "symlog")


def test_cli_default_run_is_ganviz_run_then_latest(toy1d_run: Path, tmp_path: Path, monkeypatch) -> None:
    """plots, gif and render pick the same default run: $GANVIZ_RUN, else the latest under outputs/runs."""
    monkeypatch.chdir(tmp_path)  # no outputs/runs here
    monkeypatch.delenv("GANVIZ_RUN", raising=False)
    args = ["plots", "--out", "p", "--format", "png", "--quiet", "--dpi", "40"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code != 0 and res.stderr.startswith("error: ") and len(res.stderr.splitlines()) == 1
    monkeypatch.setenv("GANVIZ_RUN", str(toy1d_run))
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "p" / "toy1d_density.png").is_file()
