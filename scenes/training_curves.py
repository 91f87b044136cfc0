"""Training curves drawn live: the run's losses and D's scores, with G's samples at the step the pen is at.

The curves are metrics.jsonl, smoothed over a few steps (the metrics leave the device in blocks). A pen draws
them from step 0 to the last with a dot at each tip and the curve's name and value beside it; a cursor at the
pen runs up to a thumbnail of G's samples on the fixed noise at the latest snapshot the pen has passed. The
largest spike of a loss and where D's scores end against 0.5 are pointed out in the run's own numbers.

    GANVIZ_RUN=outputs/runs/<run> manim -ql scenes/training_curves.py
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Arrow,
    DashedLine,
    Dot,
    FadeIn,
    Line,
    ValueTracker,
    VGroup,
    VMobject,
    linear,
)

from pipeline.runformat import METRICS, SNAPSHOT
from scenes import common as c
from scenes import style as s

MAX_POINTS = 400  # curve resolution: enough for the eye, cheap to redraw every frame
DRAW_TIME = 12.0  # seconds the pen takes over the whole run
#: the two panels (scene units): losses on top, D's scores below, sharing the step axis
PLOT_LEFT, PLOT_RIGHT = -5.3, 1.15
LOSS_TOP, LOSS_BOTTOM = 2.05, 0.3
SCORE_TOP, SCORE_BOTTOM = -0.15, -2.3
THUMB = 3.0  # thumbnail size
THUMB_CENTER = np.array([s.safe_box()[1] - THUMB / 2, 2.35 - THUMB / 2, 0.0])
SPIKE_LEAST = 0.08  # a spike must rise this share of the loss panel's range above its surroundings


@dataclass(frozen=True)
class Curve:
    column: str
    name: str
    color: str
    panel: str  # "loss" or "score"


CURVES = (
    Curve(METRICS.loss_d, "loss D", s.D_COLOR, "loss"),
    Curve(METRICS.loss_g, "loss G", s.G_COLOR, "loss"),
    Curve(METRICS.d_real, "D(x)", s.REAL_COLOR, "score"),
    Curve(METRICS.d_fake, "D(G(z))", s.FAKE_COLOR, "score"),
)


def series(run: c.Run, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of a metric as drawn: smoothed over 1/60 of the run, thinned to at most MAX_POINTS."""
    m = run.metrics
    steps = m.step.astype(np.float64)
    y = c.smooth(m[column], max(1, len(steps) // 60))
    ok = np.isfinite(y)
    steps, y = steps[ok], y[ok]
    if len(steps) > MAX_POINTS:
        idx = np.unique(np.linspace(0, len(steps) - 1, MAX_POINTS).round().astype(int))
        steps, y = steps[idx], y[idx]
    return steps, y


def spike(steps: np.ndarray, values: np.ndarray, least: float) -> tuple[float, float, float] | None:
    """(step, value, rise) where the curve rises most above its surroundings (the median over a tenth of the run
    around it), past the first 5 % of the run (the start is a fall, not a spike); None if no rise is ``least``."""
    if len(values) < 10:
        return None
    half = max(len(values) // 20, 2)
    padded = np.pad(values, half, mode="edge")
    around = np.array([np.median(padded[i : i + 2 * half + 1]) for i in range(len(values))])
    rise = np.where(steps > steps[-1] * 0.05, values - around, -np.inf)
    i = int(np.argmax(rise))
    return (float(steps[i]), float(values[i]), float(rise[i])) if rise[i] >= least else None


def dense(points: np.ndarray, step: float = 0.02) -> np.ndarray:
    """(x, y) every ``step`` scene units along a polyline: what a box laid over the drawn line would hide."""
    seg = np.diff(points[:, :2], axis=0)
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    at = np.concatenate([[0.0], np.cumsum(lengths)])
    along = np.arange(0.0, at[-1] + step, step) if len(points) > 1 else np.zeros(1)
    return np.column_stack([np.interp(along, at, points[:, 0]), np.interp(along, at, points[:, 1])])


class Panel:
    """A plot of steps (x, shared) against values in [lo, hi] (y), with round tick values and faint grid lines."""

    def __init__(self, last: int, lo: float, hi: float, top: float, bottom: float, ticks: list[float]):
        self.last, self.lo, self.hi, self.top, self.bottom = max(last, 1), lo, hi, top, bottom
        self.ticks = ticks

    def point(self, step: float, value: float) -> np.ndarray:
        x = PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * step / self.last
        y = self.bottom + (self.top - self.bottom) * (value - self.lo) / (self.hi - self.lo)
        return np.array([x, float(np.clip(y, self.bottom, self.top)), 0.0])

    def axes(self, name: str, with_steps: bool) -> VGroup:
        spine = VGroup(
            Line([PLOT_LEFT, self.bottom, 0], [PLOT_LEFT, self.top, 0]),
            Line([PLOT_LEFT, self.bottom, 0], [PLOT_RIGHT, self.bottom, 0]),
        ).set_stroke(s.MUTED, 1.5)
        grid, numbers = VGroup(), VGroup()
        for t in self.ticks:
            y = self.point(0, t)[1]
            grid.add(
                Line([PLOT_LEFT, y, 0], [PLOT_RIGHT, y, 0], stroke_color=s.MUTED, stroke_width=1, stroke_opacity=0.25)
            )
            numbers.add(s.text(f"{t:g}", s.SMALL, s.MUTED).next_to([PLOT_LEFT, y, 0], LEFT, buff=0.12))
        title = s.text(name, s.SMALL, s.MUTED).rotate(np.pi / 2)
        title.move_to([s.safe_box()[0] + title.width / 2, (self.top + self.bottom) / 2, 0])
        group = VGroup(grid, spine, numbers, title)
        if with_steps:
            for t in s.nice_ticks(0, self.last, 5):
                x = self.point(t, self.lo)[0]
                group.add(Line([x, self.bottom, 0], [x, self.bottom - 0.08, 0], stroke_color=s.MUTED, stroke_width=1.5))
                group.add(s.text(f"{t:,.0f}", s.SMALL, s.MUTED).next_to([x, self.bottom - 0.08, 0], DOWN, buff=0.08))
            group.add(s.text("training step", s.SMALL, s.MUTED).next_to(group, DOWN, buff=0.1).align_to(group, RIGHT))
        return group


def loss_panel(run: c.Run, data: dict[str, tuple[np.ndarray, np.ndarray]]) -> Panel:
    """The losses' panel: y from round numbers around the smoothed losses' range."""
    values = np.concatenate([data[k.column][1] for k in CURVES if k.panel == "loss"])
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    pad = max(hi - lo, 1e-3) * 0.08
    ticks = s.nice_ticks(lo - pad, hi + pad, 5)
    lo, hi = min(lo - pad, *ticks), max(hi + pad, *ticks)
    return Panel(last_step(run), lo, hi, LOSS_TOP, LOSS_BOTTOM, ticks)


def last_step(run: c.Run) -> int:
    return int(run.metrics.step[-1]) if run.metrics.step.size else run.steps[-1]


class Pen:
    """The curves drawn up to ``tracker`` (a step), each with a dot at its tip and its name and value beside it
    (names are spread apart where curves run close, never swapped), and the gap between D's two scores shaded."""

    def __init__(self, data: dict[str, tuple[np.ndarray, np.ndarray]], panels: dict[str, Panel]):
        self.tracker = ValueTracker(0.0)
        self.data, self.panels = data, panels
        self.points = [  # scene points of each curve, once: the pen only cuts them
            np.array([panels[k.panel].point(x, y) for x, y in zip(*data[k.column], strict=True)]).reshape(-1, 3)
            for k in CURVES
        ]
        self.lines, self.tips, self.labels, self.values = VGroup(), VGroup(), VGroup(), []
        for curve in CURVES:
            self.lines.add(VMobject(stroke_color=curve.color, stroke_width=3.5))
            self.tips.add(Dot(radius=0.06, color=curve.color))
            value = s.number(0.0, 2, s.SMALL, curve.color)
            self.values.append(value)
            self.labels.add(VGroup(s.text(curve.name, s.SMALL, curve.color), value).arrange(RIGHT, buff=0.12))
        self.gap = VMobject(stroke_width=0, fill_color=s.D_COLOR, fill_opacity=0.16)
        self.group = VGroup(self.gap, self.lines, self.tips, self.labels)
        self.draw(self.lines)
        self.lines.add_updater(self.draw)

    def at(self, curve: Curve, step: float) -> float:
        xs, ys = self.data[curve.column]
        return float(np.interp(step, xs, ys)) if len(xs) else float("nan")

    def drawn(self, i: int) -> np.ndarray:
        """Curve ``i`` from its first point to the pen (ending exactly at the pen's step)."""
        curve, step = CURVES[i], self.tracker.get_value()
        xs, _ = self.data[curve.column]
        panel = self.panels[curve.panel]
        tip = panel.point(step, self.at(curve, step)) if len(xs) else panel.point(0, panel.lo)
        n = int(np.searchsorted(xs, step, side="right"))
        return np.vstack([self.points[i][:n], tip[None]])

    def draw(self, _m: VGroup) -> None:
        step = self.tracker.get_value()
        curves = [self.drawn(i) for i in range(len(CURVES))]
        for i, pts in enumerate(curves):
            self.lines[i].set_points_as_corners(pts if len(pts) > 1 else np.repeat(pts, 2, axis=0))
            self.tips[i].move_to(pts[-1])
            self.values[i].set_value(self.at(CURVES[i], step))
        real, fake = curves[2], curves[3]
        self.gap.set_points_as_corners(np.vstack([real, fake[::-1], real[:1]]))
        ys = s.spread([pts[-1][1] for pts in curves], 0.03, [label.height for label in self.labels])
        for label, pts, y in zip(self.labels, curves, ys, strict=True):
            label[1].next_to(label[0], RIGHT, buff=0.12)  # a new value's digits: beside the name, centred on it
            label.move_to([pts[-1][0] + 0.15, y, 0], aligned_edge=LEFT)


class Thumbnail:
    """G's samples at the latest snapshot at or before the pen's step, with that step; a cursor at the pen runs
    from the lower panel's axis up over the upper panel and across to it."""

    def __init__(self, run: c.Run, pen: ValueTracker, panel: Panel, bottom: float):
        self.run, self.pen = run, pen
        n = 16 if run.kind == "image" else 256
        snaps = list(run.iter_snapshots(keys=(SNAPSHOT.fake,)))
        self.steps = np.array([snap.step for snap in snaps])
        self.samples = [snap.fake[:n] for snap in snaps]
        self.shown = 0
        self.picture = self.draw_first()
        self.frame = c.Rectangle(width=THUMB, height=THUMB, stroke_color=s.FAKE_COLOR, stroke_width=2)
        self.frame.move_to(THUMB_CENTER)
        self.step = s.integer(int(self.steps[-1]), s.SMALL)
        self.caption = VGroup(s.text("G(z) at step", s.SMALL, s.FAKE_COLOR), self.step).arrange(RIGHT, buff=0.12)
        self.caption.next_to(self.frame, DOWN, buff=0.15).align_to(self.frame, LEFT)
        self.step.set_value(int(self.steps[0]))
        self.panel, self.bottom = panel, bottom
        self.cursor = VMobject(stroke_color=s.FAKE_COLOR, stroke_width=2)
        self.follow(self.cursor)
        self.group = c.Group(self.cursor, self.picture, self.frame, self.caption)
        self.cursor.add_updater(self.follow)

    def index(self, step: float) -> int:
        """The latest snapshot at or before ``step``."""
        return max(int(np.searchsorted(self.steps, step + 1e-9, side="right")) - 1, 0)

    def draw_first(self) -> c.Mobject:
        if self.run.kind == "image":
            return c.picture(c.sample_grid(self.samples[0], 16), THUMB).move_to(THUMB_CENTER)
        if self.run.kind == "toy2d":
            every = np.concatenate([self.run.real[:, :2], *(f[:, :2] for f in self.samples)])
            lo, hi = np.percentile(every, 0.5, axis=0), np.percentile(every, 99.5, axis=0)
            pad = (hi - lo) * 0.06
            self.place = c.Frame.fit(lo - pad, hi + pad, THUMB_CENTER, THUMB - 0.1, THUMB - 0.1)
            real = c.point_cloud(self.place(self.run.real[:256]), s.REAL_COLOR, 0.02, 0.5)
            self.fake = c.point_cloud(self.place(self.samples[0]), s.FAKE_COLOR, 0.025, 0.95)
            return c.Group(real, self.fake)
        values = np.concatenate([self.run.real.ravel(), *(f.ravel() for f in self.samples)])
        lo, hi = np.percentile(values, 0.5), np.percentile(values, 99.5)
        self.edges = np.linspace(lo - (hi - lo) * 0.06, hi + (hi - lo) * 0.06 + 1e-3, 31)
        self.place = c.Strip(self.edges, THUMB_CENTER, THUMB - 0.2, THUMB - 0.2)
        self.peak = max(np.histogram(self.run.real.ravel(), self.edges, density=True)[0].max(), 1e-9)
        real = self.place.stairs(np.histogram(self.run.real.ravel(), self.edges, density=True)[0] / self.peak)
        real.set_stroke(s.REAL_COLOR, 2).set_fill(s.REAL_COLOR, 0.12)
        self.fake = self.place.stairs(self.density(0)).set_stroke(width=0).set_fill(s.FAKE_COLOR, 0.7)
        return c.Group(real, self.fake)

    def density(self, k: int) -> np.ndarray:
        return np.histogram(self.samples[k].ravel(), self.edges, density=True)[0] / self.peak

    def show(self, k: int) -> None:
        if self.run.kind == "image":
            self.picture.pixel_array[..., :3] = c.sample_grid(self.samples[k], 16)
        elif self.run.kind == "toy2d":
            c.place_dots(self.fake, self.place(self.samples[k]), 0.025)
        else:
            self.place.set_stairs(self.fake, self.density(k))
        self.step.set_value(int(self.steps[k]))
        self.shown = k

    def follow(self, m: VMobject) -> None:
        step = self.pen.get_value()
        k = self.index(step)
        if k != self.shown:
            self.show(k)
        x = self.panel.point(step, self.panel.lo)[0]
        corner = self.frame.get_corner(UP + LEFT)
        m.set_points_as_corners([[x, self.bottom, 0], [x, corner[1], 0], corner])


class TrainingCurves(c.RunScene):
    """Losses (top) and D's mean scores on real and generated samples (bottom), drawn as training went."""

    def construct(self) -> None:
        self.chart()
        self.play(FadeIn(self.heading), FadeIn(self.axes), FadeIn(self.foot.group), run_time=1.0)
        self.play(FadeIn(self.pen.group), FadeIn(self.thumb.group), FadeIn(self.gap), run_time=0.6)
        self.draw_pen()
        self.play(FadeIn(self.ending()), run_time=0.8)
        self.wait(2.5)

    def chart(self) -> None:
        """Everything drawn from the run: panels, pen, thumbnail, footer (the pen drives the footer's counter)."""
        run = self.run
        self.data = {curve.column: series(run, curve.column) for curve in CURVES}
        self.last = last_step(run)
        self.panels = {
            "loss": loss_panel(run, self.data),
            "score": Panel(self.last, 0.0, 1.0, SCORE_TOP, SCORE_BOTTOM, [0.0, 0.5, 1.0]),
        }
        self.heading = s.title(
            "How did the losses and D's scores move?",
            f"{run.name}: {run.variant}, {c.loss_name(run)} loss · metrics.jsonl, smoothed over "
            f"{max(1, len(run.metrics.step) // 60):,} steps",
        )
        half = DashedLine(self.panels["score"].point(0, 0.5), self.panels["score"].point(self.last, 0.5))
        self.axes = VGroup(
            self.panels["loss"].axes("loss", with_steps=False),
            self.panels["score"].axes("D's mean score", with_steps=True),
            half.set_stroke(s.MUTED, 1.5),
        )
        self.pen = Pen(self.data, self.panels)
        self.thumb = Thumbnail(run, self.pen.tracker, self.panels["score"], SCORE_BOTTOM)
        self.gap = self.gap_readout()
        self.foot = s.footer(self.last)
        self.foot.tracker.add_updater(lambda t: t.set_value(self.pen.tracker.get_value()))
        self.add(self.pen.tracker, self.foot.tracker)

    def gap_readout(self) -> VGroup:
        """How far apart D's two scores are at the pen: the number D's 'can it tell?' comes down to."""
        real, fake = CURVES[2], CURVES[3]
        value = s.number(0.0, 2, s.SMALL)
        value.add_updater(
            lambda m: m.set_value(
                self.pen.at(real, self.pen.tracker.get_value()) - self.pen.at(fake, self.pen.tracker.get_value())
            )
        )
        row = VGroup(s.text("D(x) − D(G(z)) =", s.SMALL, s.D_COLOR), value).arrange(RIGHT, buff=0.15)
        return row.next_to(self.thumb.caption, DOWN, buff=0.3).align_to(self.thumb.frame, LEFT)

    def draw_pen(self) -> None:
        """The pen from step 0 to the last, pausing where the largest spike of a loss is pointed out."""
        found = self.spike()
        stops = ([found[0]] if found else []) + [self.last]
        at = 0.0
        for stop in stops:
            time = DRAW_TIME * (stop - at) / max(self.last, 1)
            self.play(self.pen.tracker.animate.set_value(stop), run_time=max(time, 0.1), rate_func=linear)
            at = stop
            if found and stop == found[0]:
                self.play(FadeIn(self.spike_note(*found[1:])), run_time=0.8)

    def spike(self) -> tuple[float, Curve, float] | None:
        """(step, curve, value) of the largest spike of either loss, if one stands out."""
        panel = self.panels["loss"]
        best: tuple[float, Curve, float] | None = None
        most = 0.0
        for curve in (k for k in CURVES if k.panel == "loss"):
            found = spike(*self.data[curve.column], SPIKE_LEAST * (panel.hi - panel.lo))
            if found is not None and found[2] > most:
                best, most = (found[0], curve, found[1]), found[2]
        return best

    def spike_note(self, curve: Curve, value: float) -> VGroup:
        """'largest spike: 1.48' in the loss's colour, with an arrow to it: where it crosses none of the loss curves
        (the whole run's, so the pen never draws under it later) if it can, out of the pen's way (behind it: the
        pen's labels pass to its right), near the spike."""
        point = self.panels["loss"].point(self.pen.tracker.get_value(), value)
        words = s.text(f"largest spike: {value:.2f}", s.SMALL, curve.color)
        w, h = words.width + 0.16, words.height + 0.12
        lines = np.vstack([dense(self.pen.points[i]) for i, k in enumerate(CURVES) if k.panel == "loss"])
        best = None
        for cx in np.arange(PLOT_LEFT + w / 2 + 0.05, PLOT_RIGHT - w / 2, 0.05):
            for cy in np.arange(LOSS_BOTTOM + h / 2 + 0.05, LOSS_TOP - h / 2, 0.05):
                lo, hi = np.array([cx - w / 2, cy - h / 2]), np.array([cx + w / 2, cy + h / 2])
                crossed = int(np.all((lines >= lo) & (lines <= hi), axis=1).sum())
                ahead = hi[0] > point[0] - 0.15  # in the pen's way
                gap = float(np.hypot(*(point[:2] - np.clip(point[:2], lo, hi))))  # room for the arrow
                cost = (crossed > 0, ahead, gap < 0.5, crossed, gap)
                best = min(best, (cost, cx, cy)) if best else (cost, cx, cy)
        _, cx, cy = best
        words.move_to([cx, cy, 0])
        start = np.clip(point, words.get_corner(DOWN + LEFT) - 0.08, words.get_corner(UP + RIGHT) + 0.08)
        arrow = Arrow(start, point, buff=0.06, stroke_width=3, max_tip_length_to_length_ratio=0.3)
        return VGroup(words, arrow.set_color(curve.color))

    def ending(self) -> VGroup:
        """Where D's scores ended against 0.5, in words chosen from the run's last values."""
        real, fake = (self.pen.at(curve, self.last) for curve in CURVES[2:])
        if abs(real - 0.5) < 0.1 and abs(fake - 0.5) < 0.1:
            words = "Both scores end near 0.5: D can barely tell real from generated."
        elif fake > real:
            words = "D ends scoring G's samples above the real ones."
        else:
            words = f"D still tells them apart: D(x) ends {real - fake:.2f} above D(G(z))."
        note = s.paragraph(words, THUMB, s.SMALL)
        return note.next_to(self.gap, DOWN, buff=0.3).align_to(self.gap, LEFT)
