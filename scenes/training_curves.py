"""Training curves drawn live: the run's losses and D's scores, in step with G's samples.

The curves are metrics.jsonl (smoothed over a few steps, as the metrics leave the device in blocks);
a thumbnail of G's samples on the fixed noise switches at each snapshot the pen passes.

    GANVIZ_RUN=outputs/runs/<run> manim -ql scenes/training_curves.py
"""

from __future__ import annotations

import numpy as np
from manim import (
    DOWN,
    GREY_B,
    LEFT,
    UP,
    Axes,
    FadeIn,
    FadeOut,
    ValueTracker,
    VMobject,
    Write,
    always_redraw,
    linear,
)

from pipeline.runformat import METRICS
from scenes import common as c

N_SEGMENTS = 8  # pen stops at this many snapshots, where the thumbnail changes
MAX_POINTS = 240  # curve resolution: enough for the eye, cheap to redraw every frame
DRAW_TIME = 9.0  # seconds the pen takes over the whole run
THUMB_CENTER = np.array([4.7, 0.2, 0.0])

CURVES = [  # (column, colour, panel)
    (METRICS.loss_d, c.D_COLOR, 0),
    (METRICS.loss_g, c.G_COLOR, 0),
    (METRICS.d_real, c.REAL_COLOR, 1),
    (METRICS.d_fake, c.FAKE_COLOR, 1),
]


def series(run: c.Run, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of a metric, smoothed and thinned to at most MAX_POINTS finite points."""
    m = run.metrics
    steps = m.step.astype(np.float64)
    y = c.smooth(m[column], max(1, len(steps) // 60))
    ok = np.isfinite(y)
    steps, y = steps[ok], y[ok]
    if len(steps) > MAX_POINTS:
        idx = np.linspace(0, len(steps) - 1, MAX_POINTS).astype(int)
        steps, y = steps[idx], y[idx]
    return steps, y


def thumbnail(run: c.Run, step: int) -> c.Mobject:
    fake = run.snapshot(step).fake
    if run.kind == "image":
        return c.picture(c.sample_grid(fake, 9), 2.6).move_to(THUMB_CENTER)
    box = c.PlotBox(c.data_extent(run), THUMB_CENTER, 2.6)
    if run.kind == "toy2d":
        return c.VGroup(box.frame(), c.dots(box.to_scene(fake[:120]), c.FAKE_COLOR, radius=0.025))
    lo, hi = float(np.min(run.real)), float(np.max(run.real))
    span = max(hi - lo, 1e-3)
    edges = np.linspace(lo - span, hi + span, 25)
    box = c.PlotBox([edges[0], edges[-1], 0, 1], THUMB_CENTER, 2.6)
    peak = max(np.histogram(run.real.ravel(), bins=edges, density=True)[0].max(), 1e-6)
    return c.VGroup(box.frame(), c.histogram_bars(fake, edges, box, c.FAKE_COLOR, peak))


class TrainingCurves(c.RunScene):
    """Losses (top) and D's mean scores on real and fake (bottom), drawn as training went."""

    def construct(self) -> None:
        run = self.run
        last = int(run.metrics.step[-1]) if run.metrics.step.size else run.steps[-1]
        title = c.label(f"Training, live: {run.variant} ({c.loss_name(run)} loss)", 30).to_edge(UP, buff=0.25)
        data = {col: series(run, col) for col, _, _ in CURVES}
        loss_vals = np.concatenate([data["loss_d"][1], data["loss_g"][1]])
        lo, hi = (float(np.min(loss_vals)), float(np.max(loss_vals))) if loss_vals.size else (0.0, 1.0)
        pad = max(hi - lo, 1e-3) * 0.1
        x_step = max(1, last // 4)
        top = Axes(
            x_range=[0, max(last, 1), x_step],
            y_range=[lo - pad, hi + pad, max((hi - lo) / 3, 1e-3)],
            x_length=7.8,
            y_length=2.6,
            tips=False,
            axis_config={"include_numbers": False, "stroke_width": 2},
        )
        bottom = Axes(
            x_range=[0, max(last, 1), x_step],
            y_range=[0, 1, 0.5],
            x_length=7.8,
            y_length=2.2,
            tips=False,
            axis_config={"stroke_width": 2},
        )
        top.move_to([-1.5, 1.2, 0])
        bottom.move_to([-1.5, -2.0, 0])
        half = bottom.plot(lambda _x: 0.5, color=GREY_B, stroke_width=1)
        labels = c.VGroup(
            c.label("loss D", 20, c.D_COLOR).next_to(top, LEFT, buff=0.1).shift(UP * 0.4),
            c.label("loss G", 20, c.G_COLOR).next_to(top, LEFT, buff=0.1).shift(DOWN * 0.2),
            c.label("D(real)", 20, c.REAL_COLOR).next_to(bottom, LEFT, buff=0.1).shift(UP * 0.7),
            c.label("D(fake)", 20, c.FAKE_COLOR).next_to(bottom, LEFT, buff=0.1).shift(DOWN * 0.5),
            c.label("0.5", 16, GREY_B).next_to(bottom.c2p(0, 0.5), LEFT, buff=0.05),
        )
        lo_lbl = c.label(f"{lo:.2f}", 16, GREY_B).next_to(top.c2p(0, lo), LEFT, buff=0.05)
        hi_lbl = c.label(f"{hi:.2f}", 16, GREY_B).next_to(top.c2p(0, hi), LEFT, buff=0.05)
        end_lbl = c.label(c.fmt_step(last), 16, GREY_B).next_to(bottom.c2p(last, 0), DOWN, buff=0.1)
        self.play(
            Write(title),
            FadeIn(top),
            FadeIn(bottom),
            FadeIn(half),
            FadeIn(labels),
            FadeIn(lo_lbl),
            FadeIn(hi_lbl),
            FadeIn(end_lbl),
            run_time=0.9,
        )

        pen = ValueTracker(0.0)
        for col, color, panel in CURVES:
            axes = top if panel == 0 else bottom
            self.add(always_redraw(self.curve_updater(axes, *data[col], pen, color)))
        readout = always_redraw(lambda: c.label(c.fmt_step(int(pen.get_value())), 24).move_to(THUMB_CENTER + UP * 1.9))
        self.add(readout)

        stops = run.spread_steps(N_SEGMENTS + 1)
        thumb = thumbnail(run, stops[0])
        cap = c.label("G(z) at this step", 20, c.FAKE_COLOR).move_to(THUMB_CENTER + DOWN * 1.65)
        self.play(FadeIn(thumb), FadeIn(cap), run_time=0.4)
        prev = stops[0]
        for stop in stops[1:]:
            self.play(pen.animate.set_value(stop), run_time=DRAW_TIME * (stop - prev) / max(last, 1), rate_func=linear)
            new = thumbnail(run, stop)
            self.play(FadeIn(new), FadeOut(thumb), run_time=0.3)
            thumb, prev = new, stop
        if last > prev:
            self.play(pen.animate.set_value(last), run_time=DRAW_TIME * (last - prev) / max(last, 1), rate_func=linear)
        self.wait(1.2)

    @staticmethod
    def curve_updater(axes: Axes, xs: np.ndarray, ys: np.ndarray, pen: ValueTracker, color: str):  # noqa: ANN205
        """A function drawing the curve up to the pen's step (manim calls it every frame)."""

        pts = np.array([axes.c2p(x, y) for x, y in zip(xs, ys, strict=True)]).reshape(-1, 3)  # once, not per frame
        start = np.array([axes.c2p(0, ys[0] if len(ys) else 0)] * 2)

        def draw() -> VMobject:
            n = int(np.searchsorted(xs, pen.get_value(), side="right"))
            line = VMobject(stroke_color=color, stroke_width=3)
            line.set_points_as_corners(pts[:n] if n >= 2 else start)
            return line

        return draw
