"""Publication plots of a run: PNG plus vector PDF/SVG with embedded fonts, in one colour-blind-safe style.

Data preparation (``*_series``, ``grad_norm_matrix``, ``pick_steps`` ...) is kept apart from drawing so
tests can check that what is plotted is exactly what the run recorded.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ganviz.errors import GanvizError, RunError
from ganviz.format import METRICS, SNAPSHOT
from ganviz.reader import Run
from ganviz.records import Metrics
from pipeline.fonts import BASE_FAMILY, plot_font_family
from pipeline.frames import FIELD_CMAP, OKABE_ITO, ROLE, hist_density, tile, to_rgb
from pipeline.output import output_folder

FORMATS = ("png", "pdf", "svg")
STYLES = ("paper", "slides")
MAX_LINE_POINTS = 4000  # decimate()'s default: beyond this a curve is drawn min/max-decimated (every spike kept)
PRINT_DPI = 200  # curves keep a min and a max per pixel column of the figure at this resolution


class PlotError(GanvizError):
    """A plot option that does not fit (format, style, dpi, steps)."""


# -- data preparation ----------------------------------------------------------------------------
def ema(y: np.ndarray, span: float) -> np.ndarray:
    """Exponential moving average that skips NaN (steps with no value keep the previous average)."""
    y = np.asarray(y, np.float64)
    out = np.empty_like(y)  # every entry is written below
    alpha = 2.0 / (span + 1.0)
    acc = np.nan
    for i, v in enumerate(y.tolist()):
        if v == v:  # not NaN
            acc = v if acc != acc else acc + alpha * (v - acc)
        out[i] = acc
    return out


def default_span(n: int) -> float:
    """EMA span: ~2% of the run, at least 5 steps, so the smooth line reads the same for any length."""
    return float(max(5, n // 50))


def decimate(x: np.ndarray, y: np.ndarray, max_points: int = MAX_LINE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Keep the min and max of each of ``max_points // 2`` buckets, in step order.

    A 100k-step raw loss drawn point by point makes 10 MB SVGs; min/max buckets look identical at print
    size and keep every spike.
    """
    n = len(y)
    if n <= max_points:
        return x, y
    nb = max_points // 2
    size = -(-n // nb)  # bucket length; the last bucket is padded with NaN
    nb = -(-n // size)
    pad = np.full(nb * size, np.nan)
    pad[:n] = y
    buckets = pad.reshape(nb, size)
    has = np.isfinite(buckets).any(axis=1)
    lo = np.where(np.isfinite(buckets), buckets, np.inf).argmin(axis=1)
    hi = np.where(np.isfinite(buckets), buckets, -np.inf).argmax(axis=1)
    base = np.arange(nb) * size
    idx = np.stack([base + np.minimum(lo, hi), base + np.maximum(lo, hi)], axis=1)[has].ravel()
    idx = idx[np.diff(idx, prepend=-1) > 0]  # a bucket whose min and max are the same point; all-NaN: none
    return x[idx], y[idx]


def grad_norm_matrix(run: Run, net: str) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(snapshot steps, layer names, norms of shape (layers, steps)) for ``net`` 'g' or 'd'."""
    return run.layer_grad_norms()[net]


def parse_steps(spec: str | Sequence[int | str] | None, flag: str = "--at") -> list[int | str] | None:
    """'0,1000,end' -> [0, 1000, 'end']."""
    if spec is None:
        return None
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[int | str] = []
    for it in items:
        s = str(it).strip()
        if not s:
            continue
        out.append(int(s) if s.lstrip("-").isdigit() else s)
    if not out:
        raise PlotError(f"{flag} {spec!r}: give snapshot steps like 0,1000,end")
    return out


def pick_steps(run: Run, steps: str | Sequence[int | str] | None, default_n: int = 5, flag: str = "--at") -> list[int]:
    """Snapshot steps to show: the requested ones (each snapped to the snapshot at or before it, which must
    be readable), or ``default_n`` evenly spaced readable ones from start to end. ``flag`` is the option errors
    name."""
    wanted = parse_steps(steps, flag)
    if wanted is None:  # readable ones (damaged snapshots are skipped with a warning); none at all: RunError
        return run.spread_steps(default_n)
    out = []
    for w in wanted:
        try:  # a step the user named must be readable: a damaged one is an error, not a silent substitute
            s = run.resolve_step(w)
            run.check_snapshot(s)
        except RunError as e:
            raise PlotError(f"{flag} {w}: {e}") from None
        if s not in out:
            out.append(s)
    return out


def kde(x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density of ``x`` on ``grid`` (Scott's bandwidth); NaN samples are ignored."""
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return np.zeros_like(grid)
    bw = 1.06 * max(float(x.std()), 1e-6) * len(x) ** (-1 / 5)
    z = (grid[:, None] - x[None, :]) / bw
    return np.exp(-0.5 * z * z).sum(axis=1) / (len(x) * bw * np.sqrt(2 * np.pi))


# Mutation testing (docs/mutation.md) covers the data preparation above; the drawing below is checked by what the
# figures hold (tests/test_plots.py), not mutated.
# pragma: no mutate start
# -- style ---------------------------------------------------------------------------------------
def style_params(style: str) -> dict[str, Any]:
    """rcParams for ``paper`` (single-column figure) or ``slides`` (bigger fonts and lines)."""
    if style not in STYLES:
        raise PlotError(f"--style {style}: choose one of {', '.join(STYLES)}")
    big = style == "slides"
    from cycler import cycler

    return {
        "font.size": 14 if big else 8,
        "axes.titlesize": 15 if big else 9,
        "axes.labelsize": 14 if big else 8,
        "xtick.labelsize": 12 if big else 7,
        "ytick.labelsize": 12 if big else 7,
        "legend.fontsize": 12 if big else 7,
        "lines.linewidth": 2.2 if big else 1.2,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.25,
        "grid.linewidth": 0.5,
        "legend.frameon": True,
        "legend.framealpha": 0.85,
        "legend.edgecolor": "none",
        "axes.prop_cycle": cycler(
            color=[OKABE_ITO[k] for k in ("blue", "vermillion", "green", "orange", "purple", "sky", "yellow", "black")]
        ),
        "pdf.fonttype": 42,  # TrueType fonts embedded in the PDF, text stays selectable
        "ps.fonttype": 42,
        "svg.fonttype": "path",  # glyphs as paths: the SVG looks the same without the font installed
        # DejaVu Sans reduced to the characters plots use (pipeline/fonts.py): same glyphs, 5x cheaper to
        # subset into each PDF; anything else falls back to the full font
        "font.family": list(dict.fromkeys([plot_font_family(), BASE_FAMILY])),
        "figure.constrained_layout.use": True,
        "savefig.facecolor": "white",
    }


def _figsize(style: str, w: float = 3.4, h: float = 2.3) -> tuple[float, float]:
    return (w * 2.0, h * 2.0) if style == "slides" else (w, h)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def line_points(fig: Any) -> int:
    """How many points a curve needs: a min and a max per pixel column of the figure at PRINT_DPI.

    More cannot show at print size but costs drawing time and file size: 4,000 points per curve made the
    200-dpi PNGs of the loss, score and accuracy figures ~40% slower to draw than 1,360 (paper width).
    """
    return 2 * int(np.ceil(fig.get_figwidth() * PRINT_DPI))


def _curve(ax: Any, x: np.ndarray, raw: np.ndarray, smooth: np.ndarray, colour: str, label: str) -> None:
    """A raw series as a light line with its EMA on top (only the EMA carries the legend label)."""
    n = line_points(ax.figure)
    xd, yd = decimate(x, raw, n)
    ax.plot(xd, yd, color=colour, alpha=0.25, linewidth=0.6, gid=f"raw:{label}")
    xs, ys = decimate(x, smooth, n)
    ax.plot(xs, ys, color=colour, label=label, gid=f"ema:{label}")


# -- figures -------------------------------------------------------------------------------------
def _metric_curve(ax: Any, m: Metrics, column: str, colour: str, label: str) -> None:
    """A metrics.jsonl column over the steps, raw and smoothed (an EMA whose span follows the run's length)."""
    _curve(ax, m.step, m[column], ema(m[column], default_span(len(m.step))), colour, label)


def fig_losses(run: Run, style: str, log: bool = False) -> Any:
    plt = _pyplot()
    m = run.metrics
    fig, ax = plt.subplots(figsize=_figsize(style))
    _metric_curve(ax, m, METRICS.loss_d, ROLE["d"], "D")
    _metric_curve(ax, m, METRICS.loss_g, ROLE["g"], "G")
    if log:
        vals = np.concatenate([m.loss_d, m.loss_g])
        vals = vals[np.isfinite(vals)]
        if len(vals) and vals.min() > 0:
            ax.set_yscale("log")
        else:  # minimax, hinge and WGAN losses go negative
            ax.set_yscale("symlog", linthresh=max(1e-3, float(np.nanmedian(np.abs(vals))) / 10 if len(vals) else 1))
    ax.set(xlabel="step", ylabel=f"loss ({run.config.get('loss', '?')})", title="Generator and discriminator loss")
    ax.legend()
    return fig


def fig_scores(run: Run, style: str) -> Any:
    plt = _pyplot()
    m = run.metrics
    fig, ax = plt.subplots(figsize=_figsize(style))
    ax.axhline(0.5, color="0.4", linestyle="--", linewidth=0.8, label="equilibrium 0.5", gid="equilibrium")
    _metric_curve(ax, m, METRICS.d_real, ROLE["real"], "D(x), real")
    _metric_curve(ax, m, METRICS.d_fake, ROLE["fake"], "D(G(z)), generated")
    ax.set(xlabel="step", ylabel="mean D score (P(real))", ylim=(-0.02, 1.02), title="Discriminator scores")
    ax.legend()
    return fig


def fig_accuracy(run: Run, style: str) -> Any:
    plt = _pyplot()
    m = run.metrics
    fig, ax = plt.subplots(figsize=_figsize(style))
    _metric_curve(ax, m, METRICS.acc_real, ROLE["real"], "real called real")
    _metric_curve(ax, m, METRICS.acc_fake, ROLE["fake"], "generated called fake")
    ax.axhline(0.5, color="0.4", linestyle="--", linewidth=0.8, gid="chance")
    ax.set(xlabel="step", ylabel="D accuracy", ylim=(-0.02, 1.02), title="Discriminator accuracy")
    ax.legend()
    return fig


def fig_extras(run: Run, style: str) -> Any:
    """A recorded loop's own scalars (``rec.step(gp=...)``, run.json ``extra_metrics``), one panel each: their units
    are the loop's, so none shares an axis with another."""
    plt = _pyplot()
    m, names = run.metrics, run.extra_metrics
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    w, h = _figsize(style, 2.3 * cols, 1.9 * rows)
    fig, axes = plt.subplots(rows, cols, figsize=(w, h), squeeze=False)
    for ax, name in zip(axes.ravel(), names, strict=False):
        _metric_curve(ax, m, name, ROLE["g"], name)
        ax.set(xlabel="step", title=name)
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    fig.suptitle("The loop's own values")
    return fig


def fig_grad_norms(run: Run, style: str) -> Any:
    from matplotlib.colors import LogNorm

    plt = _pyplot()
    w, h = _figsize(style, 6.8, 3.0)
    fig, axes = plt.subplots(1, 2, figsize=(w, h))
    mats = run.layer_grad_norms()
    for ax, net, title in zip(axes, ("g", "d"), ("G", "D"), strict=True):
        steps, names, mat = mats[net]
        pos = mat[np.isfinite(mat) & (mat > 0)]
        norm = LogNorm(vmin=pos.min(), vmax=pos.max()) if len(pos) else None
        masked = np.ma.masked_invalid(np.where(mat > 0, mat, np.nan))
        x = np.append(steps, steps[-1] + (steps[-1] - steps[-2] if len(steps) > 1 else 1)) if len(steps) else steps
        # rasterized: thousands of cells as vector quads make slow, heavy PDFs/SVGs; axes and text stay vector
        im = ax.pcolormesh(
            x,
            np.arange(len(names) + 1),
            masked,
            cmap=FIELD_CMAP,
            norm=norm,
            shading="flat",
            rasterized=True,
            gid=f"gradnorm:{net}",
        )
        ax.set_yticks(np.arange(len(names)) + 0.5, names)
        ax.invert_yaxis()
        ax.grid(False)
        ax.set(xlabel="step", ylabel="layer", title=f"{title}: per-layer gradient norm")
        fig.colorbar(im, ax=ax, label="L2 norm (log)")
    return fig


def fig_samples(run: Run, style: str, steps: list[int]) -> Any:
    plt = _pyplot()
    n = len(steps)
    w = _figsize(style)[0] * 2
    fig, axes = plt.subplots(1, n, figsize=(w, w / n + (0.6 if style == "slides" else 0.3)), squeeze=False)
    for ax, s in zip(axes[0], steps, strict=True):
        fake = run.read_snapshot(s, (SNAPSHOT.fake,)).fake[:36]
        ax.imshow(to_rgb(tile(fake)), interpolation="nearest", gid=f"samples:{s}")
        ax.set_title(f"step {s}")
        ax.axis("off")
    return fig


def fig_real_vs_fake(run: Run, style: str, step: int) -> Any:
    plt = _pyplot()
    w = _figsize(style)[0]
    fig, axes = plt.subplots(1, 2, figsize=(w, w / 2 + 0.3))
    real = run.real[:36]
    fake = run.read_snapshot(step, (SNAPSHOT.fake,)).fake[:36]
    for ax, img, title in zip(axes, (real, fake), ("real", f"generated, step {step}"), strict=True):
        ax.imshow(to_rgb(tile(img)), interpolation="nearest")
        ax.set_title(title)
        ax.axis("off")
    return fig


def fig_toy2d(run: Run, style: str, steps: list[int]) -> Any:
    plt = _pyplot()
    n = len(steps)
    w = _figsize(style)[0] * 2
    fig, axes = plt.subplots(1, n, figsize=(w, w / n + 0.6), squeeze=False, sharey=True)
    ext = run.fixed.field_extent
    real = run.real
    im = None
    for ax, s in zip(axes[0], steps, strict=True):
        snap = run.read_snapshot(s, (SNAPSHOT.fake, SNAPSHOT.field))
        if snap.field is not None:
            im = ax.imshow(
                snap.field,
                origin="lower",
                extent=tuple(ext),
                cmap=FIELD_CMAP,
                vmin=0,
                vmax=1,
                aspect="auto",
                gid=f"field:{s}",
            )
        ax.scatter(real[:, 0], real[:, 1], s=2, color=ROLE["real"], linewidths=0, label="real", gid=f"real:{s}")
        ax.scatter(
            snap.fake[:, 0],
            snap.fake[:, 1],
            s=4,
            color=ROLE["fake"],
            edgecolors="black",
            linewidths=0.2,
            label="generated",
            gid=f"fake:{s}",
        )
        ax.set(xlim=ext[:2], ylim=ext[2:], title=f"step {s}")
        ax.grid(False)
    axes[0][0].legend(loc="upper left", markerscale=3)
    if im is not None:
        fig.colorbar(im, ax=axes[0].tolist(), label="D(x) = P(real)", shrink=0.9)
    return fig


def fig_toy1d(run: Run, style: str, steps: list[int]) -> Any:
    plt = _pyplot()
    n = len(steps)
    w = _figsize(style)[0] * 2
    fig, axes = plt.subplots(1, n, figsize=(w, w / n * 0.9 + 0.6), squeeze=False, sharey=True)
    ext = run.fixed.field_extent
    grid = np.linspace(ext[0], ext[1], 200)
    real = run.real[:, 0]
    pts = run.fixed.field_points
    for ax, s in zip(axes[0], steps, strict=True):
        snap = run.read_snapshot(s, (SNAPSHOT.fake, SNAPSHOT.field))
        fake = snap.fake[:, 0]
        bins = np.linspace(ext[0], ext[1], 40)
        ax.stairs(hist_density(real, bins), bins, fill=True, color=ROLE["real"], alpha=0.25, label="real")
        ax.stairs(
            hist_density(fake, bins),
            bins,
            fill=True,
            color=ROLE["fake"],
            alpha=0.45,
            label="generated",
            gid=f"hist_fake:{s}",
        )
        ax.plot(grid, kde(real, grid), color=ROLE["real"], gid=f"kde_real:{s}")
        ax.plot(grid, kde(fake, grid), color=ROLE["fake"], gid=f"kde_fake:{s}")
        if snap.field is not None and pts is not None:
            ax2 = ax.twinx()
            ax2.plot(pts[:, 0], snap.field, color=OKABE_ITO["blue"], linestyle="--", label="D(x)", gid=f"d:{s}")
            ax2.set_ylim(0, 1)
            ax2.grid(False)
            if s == steps[-1]:
                ax2.set_ylabel("D(x)")
            else:
                ax2.tick_params(right=False, labelright=False)
        ax.set(xlim=tuple(ext), title=f"step {s}", xlabel="x")
    axes[0][0].set_ylabel("density")
    axes[0][0].legend(loc="upper left")
    return fig


#: How the quality measures (evals.jsonl) are named on plots; the range their axis spans when it is fixed.
MEASURE_LABELS = {
    "w1": ("W1 to N(4, 0.5²)", None),
    "ks": ("KS distance to N(4, 0.5²)", (0, 1)),
    "sliced_w1": ("sliced W1 to real samples", None),
    "arc_bins_hit": ("arc bins hit", (0, 1)),
    "near_arc": ("samples near an arc", (0, 1)),
    "modes_captured": ("modes captured", (0, 8.4)),
    "high_quality": ("high-quality samples", (0, 1)),
    "fd": ("Fréchet distance", None),
    "kid": ("KID", None),
    "precision": ("precision", (0, 1)),
    "recall": ("recall", (0, 1)),
    "classes": ("digits G draws", (0, 10.4)),
}


def fig_quality(run: Run, style: str) -> Any:
    """Each quality measure over the run, one panel per series: a measure in one feature space at one pair of
    sample counts (values that differ in any of those never share an axis); the real-vs-real floor dashed."""
    plt = _pyplot()
    series = run.evals.series
    cols = min(3, len(series))
    rows = -(-len(series) // cols)
    w, h = _figsize(style, 2.3 * cols, 1.9 * rows)
    fig, axes = plt.subplots(rows, cols, figsize=(w, h), squeeze=False)
    for ax, s in zip(axes.ravel(), series, strict=False):
        label, limits = MEASURE_LABELS.get(s.measure, (s.measure, None))
        ax.plot(s.steps, s.values, marker="o", markersize=3, color=ROLE["g"], gid=f"quality:{s.measure}")
        floor = [r.get("floor") for r in s.rows]
        if all(f is not None for f in floor):
            ax.plot(s.steps, floor, linestyle="--", color="0.4", label="real vs real", gid=f"floor:{s.measure}")
            ax.legend(loc="best")
        if s.measure == "kid":
            std = np.array([r.get("std", np.nan) for r in s.rows], np.float64)
            ax.fill_between(s.steps, s.values - std, s.values + std, color=ROLE["g"], alpha=0.2, linewidth=0)
        if limits is not None:
            ax.set_ylim(*limits)
        counts = f"n = {s.n_fake:,}" + (f" vs {s.n_real:,} real" if s.n_real else "")
        space = f", {s.space} space" if s.space else ""
        # the sample counts under the step axis, where no curve or floor line can run through them
        ax.set(xlabel=f"step\n{counts}{space}", title=label)
        ax.xaxis.label.set_gid(f"counts:{s.measure}")
    for ax in axes.ravel()[len(series) :]:
        ax.set_visible(False)
    return fig


def fig_classes(run: Run, style: str) -> Any:
    """Which digits G draws over training (the digits classifier's verdicts on its samples), as a stacked area."""
    plt = _pyplot()
    s = run.evals.get("classes")
    assert s is not None
    counts = np.array([r["counts"] for r in s.rows], np.float64)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=_figsize(style, 3.4, 2.6))
    colours = plt.get_cmap("tab10").colors
    ax.stackplot(s.steps, shares.T, labels=[str(k) for k in range(shares.shape[1])], colors=colours, gid="classes")
    ax.set(
        xlabel="step",
        ylabel="share of G's samples",
        ylim=(0, 1),
        xlim=(s.steps[0], s.steps[-1]),
        title="Which digits G draws",
    )
    note = f"n = {s.n_fake:,}, {s.space} classifier"
    ax.text(0.98, 0.02, note, transform=ax.transAxes, ha="right", va="bottom", fontsize="x-small", color="white")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), title="digit", ncols=1)
    ax.grid(False)
    return fig


def figure_builders(
    run: Run, *, style: str = "paper", steps: str | Sequence[int | str] | None = None, log: bool = False
) -> dict[str, Callable[[], Any]]:
    """name -> a function drawing that figure, for every figure that applies to this run's kind."""
    chosen = pick_steps(run, steps)  # validates --steps before any drawing
    _require_metrics(run)
    return _builders(run, style, chosen, log)


METRIC_FIGURES = ("losses", "scores", "accuracy", "extras")  # drawn from metrics.jsonl; the others from snapshots


def _require_metrics(run: Run) -> None:
    if len(run.metrics.step) == 0:
        raise RunError(f"{run.path}: metrics.jsonl is empty or missing; nothing to plot")


def _builders(run: Run, style: str, chosen: list[int], log: bool) -> dict[str, Callable[[], Any]]:
    out: dict[str, Callable[[], Any]] = {
        "losses": lambda: fig_losses(run, style, log),
        "scores": lambda: fig_scores(run, style),
        "accuracy": lambda: fig_accuracy(run, style),
        "grad_norms": lambda: fig_grad_norms(run, style),
    }
    if run.extra_metrics:
        out["extras"] = lambda: fig_extras(run, style)
    if run.kind == "image":
        out["samples"] = lambda: fig_samples(run, style, chosen)
        out["real_vs_fake"] = lambda: fig_real_vs_fake(run, style, chosen[-1])
    elif run.kind == "toy2d":
        out["toy2d_field"] = lambda: fig_toy2d(run, style, chosen)
    elif run.kind == "toy1d":
        out["toy1d_density"] = lambda: fig_toy1d(run, style, chosen)
    if run.evals:
        out["quality"] = lambda: fig_quality(run, style)
        if run.evals.get("classes") is not None:
            out["classes"] = lambda: fig_classes(run, style)
    return out


def figures(
    run: Run, *, style: str = "paper", steps: str | Sequence[int | str] | None = None, log: bool = False
) -> Iterator[tuple[str, Any]]:
    """Yield (name, matplotlib Figure) for every figure that applies to this run's kind."""
    for name, build in figure_builders(run, style=style, steps=steps, log=log).items():
        yield name, build()


@contextmanager
def _style(style: str) -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(style_params(style)):
        yield


def parse_formats(formats: str | Sequence[str]) -> tuple[str, ...]:
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    out = tuple(dict.fromkeys(f.strip().lower().lstrip(".") for f in items if f.strip()))
    bad = [f for f in out if f not in FORMATS]
    if bad or not out:
        raise PlotError(f"--format {','.join(items)}: choose from {', '.join(FORMATS)} (comma-separated)")
    return out


def make_plots(
    run: Run,
    out_dir: Path | None = None,
    *,
    formats: str | Sequence[str] = FORMATS,
    style: str = "paper",
    dpi: int = 200,
    steps: str | Sequence[int | str] | None = None,
    log: bool = False,
    progress: bool = True,
    jobs: int | None = None,
    steps_flag: str = "--at",
) -> list[Path]:
    """Write every figure for ``run`` into ``out_dir`` (default outputs/plots/<run>/) in each format.

    ``steps`` picks the snapshots of the sample figures; ``steps_flag`` is the option its errors name.

    With ``jobs`` > 1 (default: 2 where there are 2 CPUs), if metrics.jsonl is not parsed yet, a forked
    process parses it (the slowest single step, ~2 s for 100k rows) while this process draws the figures
    that only need snapshots; those are held in memory and written only once the metrics turn out valid,
    so a bad metrics file still leaves no files behind (and a folder this call created is removed again
    when it fails). ``jobs=1`` does everything in this process.
    Measured on 2 shared cores (benchmarks/pipeline_speed.py): 7.0 s -> 4.1 s when the second core was
    free, no difference when it was busy. One worker per figure (the earlier design) gave no clear gain.
    """
    fmts = parse_formats(formats)
    if dpi <= 0 or dpi > 2400:
        raise PlotError(f"--dpi {dpi}: use a value between 1 and 2400 (200 for print)")
    run.fixed  # noqa: B018  a damaged fixed.npz is refused before any output
    chosen = pick_steps(run, steps, flag=steps_flag)  # so are bad steps and a run without a readable snapshot
    with output_folder(out_dir, "plots", run, PlotError) as folder:  # a failure leaves nothing in it
        return _make_plots(run, folder, chosen, fmts=fmts, style=style, dpi=dpi, log=log, progress=progress, jobs=jobs)


def _make_plots(
    run: Run,
    out_dir: Path,
    chosen: list[int],
    *,
    fmts: tuple[str, ...],
    style: str,
    dpi: int,
    log: bool,
    progress: bool,
    jobs: int | None,
) -> list[Path]:
    """The drawing and writing half of ``make_plots``, once every input is checked and out_dir exists."""
    builders = _builders(run, style, chosen, log)
    _pyplot()  # import once here, so a forked process inherits it
    _JOB.update(builders=builders, style=style, fmts=fmts, dpi=dpi, out_dir=out_dir, run_name=run.name, run=run)
    jobs = min(2, os.cpu_count() or 1) if jobs is None else max(1, jobs)
    overlap = jobs > 1 and "metrics" not in vars(run) and "fork" in mp.get_all_start_methods()
    written: list[Path] = []

    def done(name: str, paths: list[Path]) -> None:
        written.extend(paths)
        if progress:
            print(f"  {name}: {', '.join(fmts)}", file=sys.stderr)

    try:
        held: list[tuple[str, list[tuple[Path, bytes]]]] = []
        if overlap:
            with ProcessPoolExecutor(1, mp_context=mp.get_context("fork")) as pool:
                parsed = pool.submit(_parse_metrics)
                held = [(name, _draw(name)) for name in builders if name not in METRIC_FIGURES]
                metrics, notes = parsed.result()
                for message, category in notes:  # the reader's warnings, said here where stderr is the user's
                    warnings.warn(message, category, stacklevel=1)
                vars(run)["metrics"] = Metrics(metrics)  # Run.metrics is a cached_property: this is its cache
        _require_metrics(run)
        for name, files in held:
            done(name, [_write(path, data) for path, data in files])
        drawn = {name for name, _ in held}
        for name in builders:
            if name not in drawn:
                done(name, [_write(path, data) for path, data in _draw(name)])
    finally:
        _JOB.clear()
    return written


def _parse_metrics() -> tuple[dict[str, np.ndarray], list[tuple[str, type[Warning]]]]:
    """Runs in the forked process: the parsed columns travel back pickled (~12 MB for 100k rows), with the
    warnings parsing gave (a cut-off last line), which the parent repeats: the child's stderr may go nowhere."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metrics = _JOB["run"].metrics
    return metrics, [(str(w.message), w.category) for w in caught]


def _write(path: Path, data: bytes) -> Path:
    try:
        path.write_bytes(data)
    except OSError as e:
        raise PlotError(f"{path}: cannot write ({e.strerror})") from None
    return path


_NO_LAYOUT = {"figure.autolayout": False, "figure.constrained_layout.use": False}
_JOB: dict[str, Any] = {}  # what the workers of one make_plots call draw (inherited through fork)


def _draw(name: str) -> list[tuple[Path, bytes]]:
    """Draw figure ``name`` once and render it in every format, in memory: [(path, file bytes)]."""
    import matplotlib

    plt = _pyplot()
    j = _JOB
    with _style(j["style"]):
        fig = j["builders"][name]()
        try:
            # Lay out once, then save every format with no layout engine at all. With an engine present
            # (even the placeholder that set_layout_engine("none") leaves) savefig draws the whole figure
            # an extra time per format just to run it, and afterwards re-installs the rc default engine,
            # so rcParams must say "no engine" while saving.
            engine = fig.get_layout_engine()
            if engine is not None:
                engine.execute(fig)  # computes positions only, no full render
            out = []
            with matplotlib.rc_context(_NO_LAYOUT):
                fig.set_layout_engine(None)
                for fmt in j["fmts"]:
                    buf = io.BytesIO()
                    meta = {"Creator": f"ganviz, run {j['run_name']}"} if fmt != "svg" else None
                    fig.savefig(buf, format=fmt, dpi=j["dpi"], metadata=meta)
                    out.append((j["out_dir"] / f"{name}.{fmt}", buf.getvalue()))
        finally:
            plt.close(fig)
    return out


# pragma: no mutate end
