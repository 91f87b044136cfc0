"""Training curves drawn live: the run's losses and D's scores, with G's samples at the step the pen is at.

The curves are metrics.jsonl averaged by the one rule every scene uses (scenes/readouts.py: a trailing mean over
the last ``window(run)`` logged steps, named on screen). A pen draws them from the first logged step to the last
with a dot at each tip and the curve's name and value beside it (the value at the footer's step, as averaged); a
cursor at the pen runs up to a thumbnail of G's samples on the fixed noise at the latest snapshot the pen has
passed. The largest spike of a loss is marked where the drawn curve peaks, with the value it has there; the gap
between D's two scores is worked out on screen from the two numbers shown.

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
    Circle,
    Dot,
    FadeIn,
    FadeOut,
    Line,
    ValueTracker,
    VGroup,
    VMobject,
    linear,
)

from pipeline.runformat import METRICS, SNAPSHOT
from scenes import common as c
from scenes import readouts as R
from scenes import style as s
from scenes.readouts import claims, constant, reads

MAX_POINTS = 400  # curve resolution: enough for the eye, cheap to redraw every frame
DRAW_TIME = 12.0  # seconds the pen takes over the whole run
#: the two panels (scene units): losses on top, D's scores below, sharing the step axis
PLOT_LEFT, PLOT_RIGHT = -5.3, 1.15
LOSS_TOP, LOSS_BOTTOM = 2.05, 0.3
SCORE_TOP, SCORE_BOTTOM = -0.45, -2.3  # between them: room for the spike's note, clear of every curve
THUMB = 2.5  # thumbnail size
COLUMN = 3.25  # the left edge of the column right of the plots: thumbnail, gap, closing note
THUMB_CENTER = np.array([COLUMN + THUMB / 2, 2.35 - THUMB / 2, 0.0])
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


def series(run: c.Run, column: str, average: int) -> tuple[np.ndarray, np.ndarray]:
    """(logged steps, values) of a metric as drawn and read: the trailing mean over ``average`` logged steps
    (readouts.series), where it is defined."""
    steps, y = R.series(run, column, average)
    ok = np.isfinite(y)
    return steps[ok].astype(np.float64), y[ok]


def thinned(n: int, keep: tuple[int, ...] = ()) -> np.ndarray:
    """At most about MAX_POINTS indices of ``n`` points to draw, always with the first, the last and ``keep``
    (the spike's top: the drawn line passes through the value quoted there)."""
    idx = np.linspace(0, n - 1, min(n, MAX_POINTS)).round().astype(int) if n else np.zeros(0, int)
    return np.unique(np.concatenate([idx, np.asarray(keep, int)])) if n else idx


def spike(steps: np.ndarray, values: np.ndarray, least: float) -> tuple[int, float] | None:
    """(index, rise) of the top of the curve's highest spike, None if it has none. A spike is where the curve rises
    at least ``least`` above its surroundings (the median over a tenth of the run around it), past the first 5 % of
    the run (the start is a fall, not a spike); of all of them, the highest point is marked (the top the eye sees:
    'peaks at' then names no value the curve exceeds later), with the largest rise (to choose between curves)."""
    if len(values) < 10:
        return None
    half = max(len(values) // 20, 2)
    padded = np.pad(values, half, mode="edge")
    around = np.array([np.median(padded[i : i + 2 * half + 1]) for i in range(len(values))])
    rise = np.where(steps > steps[-1] * 0.05, values - around, -np.inf)
    spiking = np.flatnonzero(rise >= least)
    if not len(spiking):
        return None
    start = int(np.searchsorted(steps, steps[-1] * 0.05, side="right"))
    top = start + int(np.argmax(values[start:]))  # the highest point past the start...
    if np.abs(spiking - top).min() > half:  # ...if it is a spike's top; else the highest spike's
        i = int(spiking[np.argmax(values[spiking])])
        lo = max(i - half, start)
        top = lo + int(np.argmax(values[lo : i + half + 1]))
    return top, float(rise.max())


class Panel:
    """A plot of steps (x, shared) against values in [lo, hi] (y), with round tick values on its axis."""

    def __init__(self, last: int, lo: float, hi: float, top: float, bottom: float, ticks: list[float]):
        self.last, self.lo, self.hi, self.top, self.bottom = max(last, 1), lo, hi, top, bottom
        self.ticks = ticks

    def point(self, step: float, value: float) -> np.ndarray:
        x = PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * step / self.last
        y = self.bottom + (self.top - self.bottom) * (value - self.lo) / (self.hi - self.lo)
        return np.array([x, float(np.clip(y, self.bottom, self.top)), 0.0])

    def axes(self, name: str, with_steps: bool) -> VGroup:
        """The axis with short tick marks and their values (no grid across the plot: the curves' names and the
        spike's note sit in it, and no line may cross a text)."""
        spine = VGroup(
            Line([PLOT_LEFT, self.bottom, 0], [PLOT_LEFT, self.top, 0]),
            Line([PLOT_LEFT, self.bottom, 0], [PLOT_RIGHT, self.bottom, 0]),
        ).set_stroke(s.MUTED, 1.5)
        marks, numbers = VGroup(), VGroup()
        for t in self.ticks:
            y = self.point(0, t)[1]
            marks.add(Line([PLOT_LEFT - 0.08, y, 0], [PLOT_LEFT, y, 0], stroke_color=s.MUTED, stroke_width=1.5))
            numbers.add(constant(s.text(f"{t:g}", s.SMALL, s.MUTED).next_to([PLOT_LEFT - 0.08, y, 0], LEFT, buff=0.08)))
        title = s.text(name, s.SMALL, s.MUTED).rotate(np.pi / 2)
        title.move_to([s.safe_box()[0] + title.width / 2, (self.top + self.bottom) / 2, 0])
        group = VGroup(marks, spine, numbers, title)
        if with_steps:
            for t in s.nice_ticks(0, self.last, 5):
                x = self.point(t, self.lo)[0]
                group.add(Line([x, self.bottom, 0], [x, self.bottom - 0.08, 0], stroke_color=s.MUTED, stroke_width=1.5))
                tick = s.text(f"{t:,.0f}", s.SMALL, s.MUTED).next_to([x, self.bottom - 0.08, 0], DOWN, buff=0.08)
                group.add(constant(tick))
            group.add(s.text("training step", s.SMALL, s.MUTED).next_to(group, DOWN, buff=0.1).align_to(group, RIGHT))
        return group


def loss_panel(run: c.Run, data: dict[str, tuple[np.ndarray, np.ndarray]]) -> Panel:
    """The losses' panel: y from round numbers around the drawn (averaged) losses' range."""
    values = np.concatenate([data[k.column][1] for k in CURVES if k.panel == "loss"])
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    pad = max(hi - lo, 1e-3) * 0.08
    ticks = s.nice_ticks(lo - pad, hi + pad, 5)
    lo, hi = min(lo - pad, *ticks), max(hi + pad, *ticks)
    return Panel(last_step(run), lo, hi, LOSS_TOP, LOSS_BOTTOM, ticks)


def last_step(run: c.Run) -> int:
    return int(run.metrics.step[-1]) if run.metrics.step.size else run.steps[-1]


def shown(value: float, decimals: int = 2) -> float:
    """``value`` as a number on screen prints it: arithmetic shown on screen is done with these."""
    return float(f"{value:.{decimals}f}")


class Pen:
    """The curves drawn up to ``tracker`` (a step), each with a dot at its tip and its name and value beside it
    (names are spread apart where curves run close, never swapped), and the gap between D's two scores shaded.

    A curve's value is the run's averaged metric at the footer's step (the tracker rounded), read from the full
    averaged series; the line is that series thinned to at most MAX_POINTS points (``keep``: indices always drawn)."""

    def __init__(
        self,
        data: dict[str, tuple[np.ndarray, np.ndarray]],
        panels: dict[str, Panel],
        width: int,
        keep: dict[str, tuple[int, ...]] | None = None,
    ):
        self.tracker = ValueTracker(0.0)
        self.data, self.panels, self.width = data, panels, width
        keep = keep or {}
        self.points = []  # scene points of each curve, once: the pen only cuts them
        self.xs = []  # the steps of those points
        for k in CURVES:
            xs, ys = data[k.column]
            idx = thinned(len(xs), keep.get(k.column, ()))
            self.xs.append(xs[idx])
            pts = [panels[k.panel].point(x, y) for x, y in zip(xs[idx], ys[idx], strict=True)]
            self.points.append(np.array(pts).reshape(-1, 3))
        self.lines, self.tips, self.labels, self.values = VGroup(), VGroup(), VGroup(), []
        for curve in CURVES:
            self.lines.add(VMobject(stroke_color=curve.color, stroke_width=3.5))
            self.tips.add(Dot(radius=0.06, color=curve.color))
            value = reads(s.number(0.0, 2, s.SMALL, curve.color), f"metric:{curve.column}", average=width)
            self.values.append(value)
            self.labels.add(VGroup(s.text(curve.name, s.SMALL, curve.color), value).arrange(RIGHT, buff=0.12))
        self.gap = VMobject(stroke_width=0, fill_color=s.D_COLOR, fill_opacity=0.16)
        self.group = VGroup(self.gap, self.lines, self.tips, self.labels)
        self.draw(self.lines)
        self.lines.add_updater(self.draw)

    def at(self, curve: Curve, step: float) -> float:
        """The curve's value as read at ``step``: the averaged metric at the last logged step up to it."""
        xs, ys = self.data[curve.column]
        return R.at(xs, ys, round(step)) if len(xs) else float("nan")

    def height(self, curve: Curve, step: float) -> float:
        """Where the drawn line is at ``step`` (between its points: on the straight piece joining them)."""
        i = CURVES.index(curve)
        return float(np.interp(step, self.xs[i], [p[1] for p in self.points[i]])) if len(self.xs[i]) else 0.0

    def drawn(self, i: int) -> np.ndarray:
        """Curve ``i`` from its first point to the pen (ending exactly at the pen's step)."""
        curve, step = CURVES[i], self.tracker.get_value()
        xs = self.xs[i]
        panel = self.panels[curve.panel]
        if not len(xs):
            return panel.point(0, panel.lo)[None]
        tip = np.array([panel.point(step, panel.lo)[0], self.height(curve, step), 0.0])
        n = int(np.searchsorted(xs, step, side="right"))
        return np.vstack([self.points[i][:n], tip[None]])

    def draw(self, _m: VGroup) -> None:
        step = self.tracker.get_value()
        curves = [self.drawn(i) for i in range(len(CURVES))]
        for i, pts in enumerate(curves):
            self.lines[i].set_points_as_corners(pts if len(pts) > 1 else np.repeat(pts, 2, axis=0))
            self.tips[i].move_to(pts[-1])
            s.show_value(self.values[i], self.at(CURVES[i], step))
        real, fake = curves[2], curves[3]
        self.gap.set_points_as_corners(np.vstack([real, fake[::-1], real[:1]]))
        wanted = [  # at the tip, kept inside the tip's panel: clear of its axis line
            float(np.clip(pts[-1][1], p.bottom + label.height / 2 + 0.04, p.top - label.height / 2))
            for pts, label, p in zip(curves, self.labels, (self.panels[k.panel] for k in CURVES), strict=True)
        ]
        ys = s.spread(wanted, 0.03, [label.height for label in self.labels])
        for label, pts, y in zip(self.labels, curves, ys, strict=True):
            label[1].next_to(label[0], RIGHT, buff=0.12)  # a new value's digits: beside the name, centred on it
            label.move_to([pts[-1][0] + 0.15, y, 0], aligned_edge=LEFT)


class Thumbnail:
    """G's samples at the latest snapshot at or before the footer's step, with that step; a cursor at the pen runs
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
        self.step = reads(s.integer(int(self.steps[-1]), s.SMALL), "snapshot:step")
        self.caption = VGroup(s.text("G(z) at step", s.SMALL, s.FAKE_COLOR), self.step).arrange(RIGHT, buff=0.12)
        self.caption.next_to(self.frame, DOWN, buff=0.15).align_to(self.frame, LEFT)
        self.step.set_value(int(self.steps[0]))
        self.panel, self.bottom = panel, bottom
        self.cursor = VMobject(stroke_color=s.FAKE_COLOR, stroke_width=2)
        self.follow(self.cursor)
        self.group = c.Group(self.cursor, self.picture, self.frame, self.caption)
        self.cursor.add_updater(self.follow)

    def index(self, step: float) -> int:
        """The latest snapshot at or before ``step`` (the footer's step: the pen's, rounded)."""
        return max(int(np.searchsorted(self.steps, round(step) + 1e-9, side="right")) - 1, 0)

    def draw_first(self) -> c.Mobject:
        if self.run.kind == "image":
            return c.picture(c.sample_grid(self.samples[0], 16), THUMB).move_to(THUMB_CENTER)
        if self.run.kind == "toy2d":
            # every point of every snapshot inside, at equal aspect (a ring stays round; nothing pinned to an edge)
            every = np.concatenate([self.run.real[:256, :2], *(f[:, :2] for f in self.samples)])
            lo, hi = every.min(axis=0), every.max(axis=0)
            pad = (hi - lo) * 0.04
            self.place = c.Frame.fit(lo - pad, hi + pad, THUMB_CENTER, THUMB - 0.1, THUMB - 0.1, stretch=1.0)
            real = c.point_cloud(self.place(self.run.real[:256]), s.REAL_COLOR, 0.02, 0.5)
            self.fake = c.point_cloud(self.place(self.samples[0]), s.FAKE_COLOR, 0.025, 0.95)
            return c.Group(real, self.fake)
        values = np.concatenate([self.run.real.ravel(), *(f.ravel() for f in self.samples)])
        lo, hi = float(values.min()), float(values.max())
        self.edges = np.linspace(lo - (hi - lo) * 0.04, hi + (hi - lo) * 0.04 + 1e-3, 31)
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

    data_area = ((-1.5, -0.4), 7.8, 6.0)

    needs = (METRICS.loss_d, METRICS.loss_g, METRICS.d_real, METRICS.d_fake)

    def construct(self) -> None:
        self.next_section("the-question")  # each act is a slide of `ganviz lecture` (manim's sections)
        self.chart()
        self.play(FadeIn(self.heading), FadeIn(self.axes), FadeIn(self.foot.group), run_time=1.0)
        self.play(FadeIn(self.pen.group), FadeIn(self.thumb.group), FadeIn(self.gap), run_time=0.6)
        self.next_section("the-run")
        self.draw_pen()
        self.next_section("the-scores")
        # the closing beat is about D's two scores: the losses and the samples recede
        self.stop_pen()
        loss = [self.axes[0], *(part[i] for part in (self.pen.lines, self.pen.tips, self.pen.labels) for i in (0, 1))]
        self.play(FadeIn(self.ending()), *s.dim(*loss, self.thumb.group), run_time=0.8)
        self.wait(2.5)

    def chart(self) -> None:
        """Everything drawn from the run: panels, pen, thumbnail, footer (the pen drives the footer's counter)."""
        run = self.run
        self.width = R.window(run)
        self.data = {curve.column: series(run, curve.column, self.width) for curve in CURVES}
        self.first, self.last = self.first_step(), last_step(run)
        self.panels = {
            "loss": loss_panel(run, self.data),
            "score": Panel(self.last, 0.0, 1.0, SCORE_TOP, SCORE_BOTTOM, [0.0, 0.5, 1.0]),
        }
        self.found = self.spike()
        self.heading = s.title(
            "How did the losses and D's scores move?",
            f"{s.about(run.config)} · lines: {R.average_words(self.width)}s",
        )
        constant(self.heading[1])
        self.axes = VGroup(
            self.panels["loss"].axes("loss", with_steps=False),
            self.panels["score"].axes("D's mean score", with_steps=True),
        )
        keep = {self.found[0].column: (self.found[1],)} if self.found else {}
        self.pen = Pen(self.data, self.panels, self.width, keep)
        self.pen.tracker.set_value(self.first)
        self.pen.draw(self.pen.lines)
        self.half = self.half_line()
        self.pen.group.add_to_back(self.half)
        self.thumb = Thumbnail(run, self.pen.tracker, self.panels["score"], SCORE_BOTTOM)
        self.gap = self.gap_readout()
        self.foot = s.footer(self.last, name=run.name)
        self.foot.tracker.add_updater(lambda t: t.set_value(self.pen.tracker.get_value()))
        self.foot.tracker.set_value(self.first)
        self.add(self.pen.tracker, self.foot.tracker)

    def first_step(self) -> int:
        """The first logged step every curve has a value at: the pen starts there (before it nothing is known)."""
        firsts = [xs[0] for xs, _ in self.data.values() if len(xs)]
        return int(max(firsts)) if firsts else 0

    def half_line(self) -> Line:
        """The 0.5 line of the score panel ('D cannot tell'), drawn up to the pen: the names right of the pen are
        never crossed by it."""
        panel = self.panels["score"]
        line = Line(panel.point(0, 0.5), panel.point(self.last, 0.5)).set_stroke(s.MUTED, 1.5, opacity=0.8)

        def follow(m: Line) -> None:
            end = panel.point(max(self.pen.tracker.get_value(), self.last * 1e-3), 0.5)
            m.put_start_and_end_on(panel.point(0, 0.5), end)

        line.add_updater(follow)
        follow(line)
        return line

    def gap_readout(self) -> VGroup:
        """How far apart D's two scores are at the pen, worked out from the two numbers the pen shows: the number
        D's 'can it tell?' comes down to."""
        real, fake = self.pen.values[2], self.pen.values[3]
        col = f"metric:{METRICS.d_real}-{METRICS.d_fake}:2"
        a = reads(s.number(0.0, 2, s.SMALL, s.REAL_COLOR), f"metric:{METRICS.d_real}", average=self.width)
        b = reads(s.number(0.0, 2, s.SMALL, s.FAKE_COLOR), f"metric:{METRICS.d_fake}", average=self.width)
        diff = reads(s.number(0.0, 2, s.SMALL), col, average=self.width)
        name = VGroup(
            s.text("D(x)", s.SMALL, s.REAL_COLOR), s.text("−", s.SMALL), s.text("D(G(z))", s.SMALL, s.FAKE_COLOR)
        ).arrange(RIGHT, buff=0.12)
        sum_ = VGroup(s.text("=", s.SMALL), a, s.text("−", s.SMALL), b, s.text("=", s.SMALL), diff)
        sum_.arrange(RIGHT, buff=0.12)

        def update(m: VGroup) -> None:
            s.show_value(a, real.get_value())
            s.show_value(b, fake.get_value())
            s.show_value(diff, shown(real.get_value()) - shown(fake.get_value()))
            m.arrange(RIGHT, buff=0.12).align_to(name, LEFT).next_to(name, DOWN, buff=0.12, aligned_edge=LEFT)

        rows = VGroup(name, sum_).arrange(DOWN, buff=0.12, aligned_edge=LEFT)
        update(sum_)
        sum_.add_updater(update)
        return rows.next_to(self.thumb.caption, DOWN, buff=0.25).align_to(self.thumb.frame, LEFT)

    def draw_pen(self) -> None:
        """The pen from the first logged step to the last, pausing where the largest spike of a loss is marked."""
        found = self.found
        top = float(self.data[found[0].column][0][found[1]]) if found else None
        stops = ([top] if top is not None else []) + [self.last]
        at = float(self.first)
        note: VGroup | None = None
        for stop in stops:
            time = DRAW_TIME * (stop - at) / max(self.last, 1)
            # the spike's words leave as the pen moves on (their beat is the pause); its ring stays, faint
            after = [FadeOut(note[:2]), *s.dim(note[2])] if note is not None else []
            self.play(self.pen.tracker.animate.set_value(stop), *after, run_time=max(time, 0.1), rate_func=linear)
            at = stop
            if found and stop == top:
                note = self.spike_note(found[0], found[1])
                self.play(FadeIn(note), run_time=0.8)
                self.wait(1.2)

    def stop_pen(self) -> None:
        """The pen has reached the last step: nothing it drives changes any more, so its updaters go (a receding
        element is then only faded, never redrawn at full strength)."""
        for m in (self.pen.lines, self.gap[1], self.thumb.cursor, self.foot.tracker):
            m.clear_updaters()

    def spike(self) -> tuple[Curve, int] | None:
        """(curve, index of its top in the drawn series) of the largest spike of either loss, if one stands out."""
        panel = self.panels["loss"]
        best: tuple[Curve, int] | None = None
        most = 0.0
        for curve in (k for k in CURVES if k.panel == "loss"):
            found = spike(*self.data[curve.column], SPIKE_LEAST * (panel.hi - panel.lo))
            if found is not None and found[1] > most:
                best, most = (curve, found[0]), found[1]
        return best

    def spike_note(self, curve: Curve, i: int) -> VGroup:
        """The spike's top ringed on the drawn curve in the loss's colour, and what the curve has there ('loss G's
        60-step average peaks at 1.48, step 1,230') in the strip between the panels, where no curve runs: behind
        the pen (its names pass to its right) if there is room, with an arrow up to the ring."""
        steps, values = self.data[curve.column]
        step, value = int(steps[i]), float(values[i])
        point = self.panels["loss"].point(step, value)
        shown_value, said = R.claim(f"metric:{curve.column}", value, "{:.2f}", step=step, average=self.width)
        shown_step, at = R.claim("step", step, "{:,.0f}", step=step)
        words = VGroup(
            s.text(f"{curve.name}'s {R.average_words(self.width)}", s.SMALL, curve.color),
            s.text(f"peaks at {shown_value}, step {shown_step}", s.SMALL, curve.color),
        ).arrange(DOWN, buff=0.08, aligned_edge=LEFT)
        claims(words, said, at)
        ring = Circle(radius=0.13, stroke_color=curve.color, stroke_width=3).move_to(point)
        y = (LOSS_BOTTOM + SCORE_TOP) / 2
        right = point[0] - 0.25
        if right - words.width >= PLOT_LEFT + 0.05:
            words.move_to([right, y, 0], aligned_edge=RIGHT)
        else:
            words.move_to([PLOT_LEFT + 0.05, y, 0], aligned_edge=LEFT)
        # from the note's top, a little left of the spike: slanted, so it never lies along the spike's steep rise
        x = float(np.clip(point[0] - 0.4, words.get_left()[0], words.get_right()[0]))
        arrow = Arrow([x, words.get_top()[1] + 0.06, 0], point, buff=0.15, stroke_width=2.5)
        arrow.set_color(s.TEXT).tip.set_stroke(width=0)
        return VGroup(words, arrow, ring)

    def ending(self) -> VGroup:
        """Where D's scores ended against 0.5, in words chosen from the numbers the pen shows at the last step."""
        real, fake = (shown(self.pen.at(curve, self.last)) for curve in CURVES[2:])
        r, said_r = R.claim(f"metric:{METRICS.d_real}", real, "{:.2f}", average=self.width)
        f, said_f = R.claim(f"metric:{METRICS.d_fake}", fake, "{:.2f}", average=self.width)
        col = f"metric:{METRICS.d_real}-{METRICS.d_fake}:2"
        if abs(real - 0.5) < 0.1 and abs(fake - 0.5) < 0.1:
            words = f"Both end near 0.5 ({r} and {f}): D can barely tell them apart."
            said = (said_r, said_f)
        elif fake > real:
            words, said = f"D ends scoring G(z) above x ({f} against {r}).", (said_r, said_f)
        else:
            d, said_d = R.claim(col, real - fake, "{:.2f}", average=self.width)
            words, said = f"D still tells them apart: D(x) ends {d} above D(G(z)).", (said_d,)
        note = claims(s.paragraph(words, s.safe_box()[1] - COLUMN, s.SMALL), *said)
        return note.next_to(self.gap, DOWN, buff=0.22).align_to(self.gap, LEFT)
