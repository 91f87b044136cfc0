"""Publication plots: every file opens, and what is drawn is what the run recorded."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from cli_errors import one_line_error
from click.testing import CliRunner
from designed import make_designed_run
from PIL import Image

from pipeline.cli import main
from pipeline.plots import (
    PlotError,
    decimate,
    ema,
    figures,
    grad_norm_matrix,
    kde,
    make_plots,
    parse_formats,
    pick_steps,
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
    # the quality measures of a digits run: each measure over training, and which digits G draws
    names = {"losses", "scores", "accuracy", "grad_norms", "samples", "real_vs_fake", "quality", "classes"}
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


# -- plotted values are the run's values: designed runs, expectations from their closed forms ------------------
T = np.arange(1, 201) / 200  # the designed runs' 200 steps as run fractions
SPAN = 5  # docs: the EMA spans ~2 % of the run, at least 5 steps; 2 % of 200 is 4


def ema_by_hand(y: np.ndarray, span: float) -> np.ndarray:
    """e_0 = y_0, e_i = e_(i-1) + a (y_i - e_(i-1)), a = 2 / (span + 1): the textbook recurrence."""
    a, out = 2 / (span + 1), []
    for v in y:
        out.append(v if not out else out[-1] + a * (v - out[-1]))
    return np.array(out)


def ema_of_line(y0: float, slope: float, n: int, span: float) -> np.ndarray:
    """The same EMA of y_i = y0 + slope * i, in closed form: it lags by slope (1 - a) / a (1 - (1 - a)^i)."""
    a, i = 2 / (span + 1), np.arange(n)
    return y0 + slope * i - slope * (1 - a) / a * (1 - (1 - a) ** i)


def test_loss_score_accuracy_lines_are_the_metrics(designed_image: Path) -> None:
    loss_d = -np.log(0.95 - 0.45 * T) - np.log(1 - (0.05 + 0.40 * T))
    loss_g = -np.log(0.05 + 0.40 * T)
    lines = {  # gid -> (raw values, EMA as (first value, slope per step) of a straight line, or None)
        ("losses", "D"): (loss_d, None),
        ("losses", "G"): (loss_g, None),
        ("scores", "D(x), real"): (0.95 - 0.45 * T, (0.95 - 0.45 / 200, -0.45 / 200)),
        ("scores", "D(G(z)), generated"): (0.05 + 0.40 * T, (0.05 + 0.40 / 200, 0.40 / 200)),
        ("accuracy", "real called real"): (1 - 0.5 * T, (1 - 0.5 / 200, -0.5 / 200)),
        ("accuracy", "generated called fake"): (1 - 0.4 * T, (1 - 0.4 / 200, -0.4 / 200)),
    }
    for figs in _figs(Run.load(designed_image), steps="end"):
        for (fig, label), (raw, line) in lines.items():
            drawn = _gid(figs[fig], f"raw:{label}")
            np.testing.assert_array_equal(drawn.get_xdata(), np.arange(1, 201))
            np.testing.assert_allclose(drawn.get_ydata(), raw, rtol=1e-12, err_msg=label)
            smooth = ema_by_hand(raw, SPAN) if line is None else ema_of_line(*line, 200, SPAN)
            np.testing.assert_allclose(_gid(figs[fig], f"ema:{label}").get_ydata(), smooth, rtol=1e-9, err_msg=label)
        assert list(_gid(figs["scores"], "equilibrium").get_ydata()) == [0.5, 0.5]
        assert list(_gid(figs["accuracy"], "chance").get_ydata()) == [0.5, 0.5]


def test_sample_grid_pixels_are_the_snapshot(designed_image: Path) -> None:
    """Step 0 shows the designed noise, the end the designed bar pictures, each in its place of the grid."""
    from designed import image_noise, image_targets

    for figs in _figs(Run.load(designed_image), steps="0,end"):
        for step, want in ((0, image_noise(16)), (200, image_targets(16))):
            img = np.asarray(_gid(figs["samples"], f"samples:{step}").get_array())
            for i in range(16):  # tile(): 4 columns, 2-pixel padding around 28-pixel samples
                y, x = 2 + 30 * (i // 4), 2 + 30 * (i % 4)
                np.testing.assert_array_equal(img[y : y + 28, x : x + 28, 0], want[i, ..., 0])


def test_grad_norm_heatmap_is_the_snapshots(designed_image: Path) -> None:
    """Rows are layers in forward order, columns snapshots: G's norms 10^-3 ... 10^0 times (1 + a), D's the
    same from its last layer to its first; step 0 is blank (no gradients yet)."""
    run = Run.load(designed_image)
    a = np.arange(11) / 10
    want = {
        "g": 10.0 ** np.linspace(-3, 0, 5)[:, None] * (1 + a),
        "d": 10.0 ** np.linspace(0, -3, 4)[:, None] * (1 + a),
    }
    for net in ("g", "d"):
        steps, names, mat = grad_norm_matrix(run, net)
        assert list(steps) == list(range(0, 201, 20)) and names == run.info[f"layers_{net}"]
        assert np.isnan(mat[:, 0]).all()
        np.testing.assert_allclose(mat[:, 1:], want[net][:, 1:], rtol=1e-6)
        for figs in _figs(run):
            drawn = np.ma.filled(_gid(figs["grad_norms"], f"gradnorm:{net}").get_array(), np.nan)
            assert np.isnan(drawn[:, 0]).all()
            np.testing.assert_allclose(drawn[:, 1:], want[net][:, 1:], rtol=1e-6)


def test_toy2d_field_and_points_are_the_snapshot(designed_toy2d: Path) -> None:
    """The last snapshot's field: D says 'real' (1) left of x = +15, 0 right of it, 2 units wide."""
    from designed import arcs

    run = Run.load(designed_toy2d)
    pts = run.fixed["field_points"]
    res = int(round(np.sqrt(len(pts))))
    field = (1 / (1 + np.exp((pts[:, 0] - 15) / 2.0))).reshape(res, res)
    for figs in _figs(run, steps="0,end"):
        np.testing.assert_allclose(_gid(figs["toy2d_field"], "field:200").get_array(), field, rtol=1e-6)
        np.testing.assert_allclose(_gid(figs["toy2d_field"], "fake:200").get_offsets(), arcs(64, 1), rtol=1e-6)
        np.testing.assert_allclose(_gid(figs["toy2d_field"], "real:200").get_offsets(), arcs(64, 2), rtol=1e-6)


def test_toy1d_density_and_d_curve_are_the_snapshot(designed_toy1d: Path) -> None:
    """The last snapshot's D curve is sigmoid(x) (its edge has moved from 4 to 0); the fake histogram holds the
    samples inside the window."""
    run = Run.load(designed_toy1d)
    x = run.fixed["field_points"][:, 0]
    for figs in _figs(run, steps="end"):
        np.testing.assert_allclose(_gid(figs["toy1d_density"], "d:200").get_ydata(), 1 / (1 + np.exp(-x)), rtol=1e-6)
        hist = _gid(figs["toy1d_density"], "hist_fake:200").get_data()
        fake = run.snapshot("end").fake[:, 0]
        inside = ((fake >= hist.edges[0]) & (fake <= hist.edges[-1])).mean()
        assert inside > 0.9 and np.sum(hist.values * np.diff(hist.edges)) == pytest.approx(inside)


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
    with pytest.raises(PlotError, match=r"--at 5000: .*beyond"):
        pick_steps(run, "0,5000")
    with pytest.raises(PlotError, match="--at"):
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
    one_line_error(res)
    assert "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == (["r"] if bare else [])


def test_cli_plots_writes_requested_formats(toy1d_run: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main, ["plots", str(toy1d_run), "--out", str(tmp_path), "--format", "png", "--log", "--quiet", "--dpi", "40"]
    )
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{n}.png" for n in ("losses", "scores", "accuracy", "grad_norms", "toy1d_density", "quality")
    )
    assert "6 files written" in res.stdout


def test_log_axis(designed_image: Path, tmp_path: Path) -> None:
    """--log: a log axis when every loss is positive; symlog when one goes negative (a minimax G loss, log(1 - D(G(z))))
    with its linear band a tenth of the median |loss| wide."""
    for figs in _figs(Run.load(designed_image), log=True):
        assert figs["losses"].axes[0].get_yscale() == "log"
    minimax = Run.load(make_designed_run(tmp_path / "minimax", "image", loss="minimax"))
    assert minimax.metrics["loss_g"].max() < 0
    for figs in _figs(minimax, log=True):
        ax = figs["losses"].axes[0]
        assert ax.get_yscale() == "symlog"
        d_fake = 0.05 + 0.40 * T
        losses = np.concatenate([-np.log(0.95 - 0.45 * T) - np.log(1 - d_fake), np.log(1 - d_fake)])
        assert ax.yaxis.get_transform().linthresh == pytest.approx(np.median(np.abs(losses)) / 10, rel=1e-9)
    for figs in _figs(minimax):  # no --log: linear
        assert figs["losses"].axes[0].get_yscale() == "linear"


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
