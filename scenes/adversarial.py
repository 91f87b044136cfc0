"""The counterfeiter (G) and the police officer (D): the training cycle acted out with a run's own bills and verdicts.

G prints bills (its samples at a snapshot), the bank holds real ones (the run's fixed real batch). In D's half of the
cycle G is frozen: a bill from each pile travels to D, and D's verdict comes out as a gauge showing the score D
recorded for that very bill, with a tick beside the bill when the verdict is right (a real bill scored above 0.5, a
fake below) and a cross when it is wrong. In G's half D is frozen and its verdict on the fake flows back to G as a
gradient. Beside the stage D's accuracy over the run grows as a line, against the 0.5 of a coin toss. Three acts
(start, middle, end) carry captions chosen from the run's numbers, and the minimax game closes the scene with each
term in the colour of what it names on screen.

A bill is one sample on image runs (the typical one: D's median score among the fixed batch). On 2-D runs it is a
small scatter plot of fixed samples coloured by D's score, on 1-D runs a strip of them; there the gauge shows D's
mean score on the samples of the bill.

    GANVIZ_RUN=outputs/runs/<run> manim -ql scenes/adversarial.py
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from manim import (
    DOWN,
    LEFT,
    ORIGIN,
    PI,
    RIGHT,
    UP,
    Animation,
    AnimationGroup,
    ArcBetweenPoints,
    Circle,
    Create,
    DashedLine,
    Dot,
    FadeIn,
    FadeOut,
    GrowFromCenter,
    LaggedStart,
    Line,
    Polygon,
    Rectangle,
    RoundedRectangle,
    ShowPassingFlash,
    Star,
    Succession,
    VGroup,
    VMobject,
)

from pipeline.run import RunError
from pipeline.runformat import SNAPSHOT
from scenes import common as c
from scenes import style as s

# -- layout (scene units; the title-safe area is x in [-6.26, 6.26], y in [-3.52, 3.52]) ---------------------------
FAKE_ROW, REAL_ROW = 0.9, -1.1  # the two lanes: G's fakes above, the bank's real bills below
SOURCE_X = -5.15  # G and the bank
BILL_X, TICK_X, GAUGE_X = -3.2, -2.1, -0.9  # where a bill is judged, its verdict mark, its gauge
D_POS = np.array([1.05, -0.1, 0.0])
BILL_SIZE = 1.5
GAUGE_RADIUS = 0.72
CAST_SCALE = 1.2  # G and D
TURN_Y = -2.45  # the line that says whose turn it is
#: D's accuracy over the run: the plot area (left, right, bottom, top) of the trace
TRACE_BOX = (3.05, 6.2, -2.0, 1.0)
MAX_TRACE_POINTS = 400  # longer runs are averaged in bins of consecutive steps
POINTS_2D, POINTS_1D = 96, 48  # samples on a bill of a toy run
STREAM, STREAM_POINTS = 4, 24  # snapshots whose bills stream to D while the run skips ahead; samples on each
DOT = 0.05  # radius of a sample on a toy run's bill


# -- the story, from the run's numbers -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Act:
    """One act of the story: the snapshots whose bills D judges, and what the run's numbers say about them."""

    number: int
    steps: tuple[int, ...]
    caption: str


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """The mean of the last ``window`` values at each index (NaN ignored: D's metrics on steps it skipped).

    Trailing, not centred: the trace grows step by step, and a point never depends on steps not drawn yet."""
    v = np.asarray(values, np.float64)
    ok = np.isfinite(v)
    num = np.cumsum(np.where(ok, v, 0.0))
    den = np.cumsum(ok.astype(np.float64))
    num[window:] = num[window:] - num[:-window]
    den[window:] = den[window:] - den[:-window]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.maximum(den, 1), np.nan)


def mean_of(values: np.ndarray) -> float:
    """The mean of the finite values, NaN when there are none."""
    ok = np.isfinite(values)
    return float(values[ok].mean()) if ok.any() else float("nan")


def window(run: c.Run) -> int:
    """Steps the bold trace and the captions average over: 2 % of the run (at least 1)."""
    return max(1, len(run.metrics.step) // 50)


def percent(value: float) -> int:
    return int(round(100 * value))


class Numbers:
    """D's accuracy per logged step, and its trailing mean (what the captions quote and the bold trace draws)."""

    def __init__(self, run: c.Run):
        m = run.metrics
        if len(m.step) == 0:
            raise RunError(f"{run.path}: no training step is logged yet; the scene shows D's accuracy over the run")
        self.steps = m.step
        self.window = window(run)
        self.accuracy = c.accuracy(run)
        self.mean_accuracy = trailing_mean(self.accuracy, self.window)

    def at(self, step: int) -> float:
        """The trailing mean accuracy at the last logged step up to ``step`` (the first one before any was logged)."""
        i = int(np.searchsorted(self.steps, step, side="right")) - 1
        return float(self.mean_accuracy[max(i, 0)])


def story(run: c.Run, numbers: Numbers) -> list[Act]:
    """Three acts: D learns (the start and D's best moment in the first half), G catches up (the middle), the end.

    Each caption says what the run's numbers say, rounded as shown: an act never claims what the run contradicts."""
    steps = run.snapshot_steps()
    first, last = steps[0], steps[-1]
    early = [t for t in steps if first < t <= (first + last) / 2 and t != last]
    if early:  # D's best moment: the first snapshot within 2 points of its best accuracy in the first half
        top = max(numbers.at(t) for t in early)
        best = next(t for t in early if numbers.at(t) >= top - 0.02)
    else:
        best = first
    middle = [t for t in steps if best < t < last]
    mid = min(middle, key=lambda t: (abs(t - (best + last) / 2), t)) if middle else None

    acts = []
    one = tuple(dict.fromkeys(t for t in (first, best) if t != last))
    if one:
        start = percent(numbers.mean_accuracy[min(numbers.window, len(numbers.steps)) - 1])
        top = percent(numbers.at(best))
        if top < 60:
            line = f"D barely learns: right {top} % of the time at best"
        elif top - start >= 10:
            line = f"D learns fast: right {start} % at first, {top} % by step {best:,}"
        else:
            line = f"D tells them apart at once: right {top} % by step {best:,}"
        acts.append(Act(1, one, line))
    if mid is not None:
        was, now = percent(numbers.at(best)), percent(numbers.at(mid))
        if now <= was - 10:
            line = f"G catches up: D is right {now} % of the time, down from {was} %"
        elif now >= was + 10:
            line = f"G falls behind: D is right {now} % of the time, up from {was} %"
        elif now >= 60:
            line = f"G does not catch up: D is still right {now} % of the time"
        else:
            line = f"G keeps up: D is right only {now} % of the time"
        acts.append(Act(2, (mid,), line))
    end = percent(numbers.at(last))
    if abs(end - 50) <= 3:
        line = f"D can only guess: right {end} % of the time, the equilibrium"
    elif end > 50:
        line = f"D still wins {end} % of the time: the run is not at the equilibrium"
    else:
        line = f"D is fooled more often than not: right only {end} %"
    acts.append(Act(3, (last,), line))
    return acts


# -- the cast ----------------------------------------------------------------------------------------------------------
class Character(VGroup):
    """A network as a character: a bust in its colour with a small network on its chest, a name, and its state.

    ``learn()`` lights it up (a halo, the network's links in the gradients' colour, 'learning'), ``freeze()`` dims it
    under a veil ('frozen'), ``rest()`` returns to neither."""

    def __init__(self, letter: str, role: str, colour: str, gear: VMobject, layers: tuple[int, ...]):
        super().__init__()
        body = RoundedRectangle(width=1.3, height=0.8, corner_radius=0.32, stroke_width=0)
        body.set_fill(colour, 1.0).move_to(DOWN * 0.45)
        head = Circle(radius=0.32, stroke_width=0).set_fill("#D9DCE3", 1.0).move_to(UP * 0.25)
        self.links, nodes = network_badge(layers, width=0.8, height=0.42)
        badge = VGroup(self.links, nodes).move_to(body).shift(DOWN * 0.04)
        self.figure = VGroup(body, head, gear, badge).scale(CAST_SCALE)
        reach = max(self.figure.width, self.figure.height) / 2
        self.halo = Circle(radius=reach + 0.12, stroke_color=colour, stroke_width=3, stroke_opacity=0.0)
        self.halo.set_fill(colour, 0.0).move_to(self.figure)
        self.veil = RoundedRectangle(
            width=self.figure.width + 0.2, height=self.figure.height + 0.2, corner_radius=0.2, stroke_width=0
        )
        self.veil.set_fill(s.BACKGROUND, 0.0).move_to(self.figure)
        self.name = VGroup(s.text(letter, s.LABEL, colour, weight="BOLD"), s.text(role, s.SMALL, s.MUTED))
        self.name.arrange(RIGHT, buff=0.12, aligned_edge=DOWN).next_to(self.figure, DOWN, buff=0.15)
        self.learning = s.text("learning", s.SMALL, s.GRAD_COLOR).next_to(self.figure, UP, buff=0.1)
        self.frozen = s.text("frozen", s.SMALL, s.MUTED).move_to(self.learning)
        self.learning.set_opacity(0.0)
        self.frozen.set_opacity(0.0)
        self.add(self.halo, self.figure, self.veil, self.name, self.learning, self.frozen)

    def learn(self) -> list[Animation]:
        return self._state(halo=0.16, veil=0.0, links=s.GRAD_COLOR, learning=1.0, frozen=0.0)

    def freeze(self) -> list[Animation]:
        return self._state(halo=0.0, veil=0.72, links=s.TEXT, learning=0.0, frozen=1.0)

    def rest(self) -> list[Animation]:
        return self._state(halo=0.0, veil=0.0, links=s.TEXT, learning=0.0, frozen=0.0)

    def _state(self, halo: float, veil: float, links: str, learning: float, frozen: float) -> list[Animation]:
        return [
            self.halo.animate.set_fill(opacity=halo).set_stroke(opacity=min(1.0, halo * 5)),
            self.veil.animate.set_fill(opacity=veil),
            self.links.animate.set_stroke(color=links),
            self.learning.animate.set_opacity(learning),
            self.frozen.animate.set_opacity(frozen),
        ]


def network_badge(layers: tuple[int, ...], width: float, height: float) -> tuple[VGroup, VGroup]:
    """A tiny fully connected network (links, nodes): what lights up when the character learns."""
    xs = np.linspace(-width / 2, width / 2, len(layers))
    columns = [
        [np.array([x, y, 0.0]) for y in np.linspace(-height / 2, height / 2, n)]
        for x, n in zip(xs, layers, strict=True)
    ]
    links = VGroup(
        *(
            Line(a, b, stroke_width=1.5, stroke_color=s.TEXT)
            for left, right in zip(columns, columns[1:], strict=False)
            for a in left
            for b in right
        )
    )
    nodes = VGroup(*(Dot(p, radius=0.045, color=s.TEXT) for col in columns for p in col))
    return links, nodes


def counterfeiter() -> Character:
    """G: a beanie and a burglar's mask."""
    beanie = VGroup(
        ArcBetweenPoints(LEFT * 0.33, RIGHT * 0.33, angle=-PI).set_fill("#2B5C7A", 1.0).set_stroke(width=0),
        Rectangle(width=0.72, height=0.1, stroke_width=0).set_fill("#2B5C7A", 1.0).shift(DOWN * 0.02),
    ).move_to(UP * 0.5)
    mask = RoundedRectangle(width=0.7, height=0.17, corner_radius=0.08, stroke_width=0).set_fill("#15151C", 1.0)
    eyes = VGroup(*(Dot([x, 0.0, 0.0], radius=0.045, color="#F5F5F5") for x in (-0.13, 0.13)))
    gear = VGroup(beanie, mask.move_to(UP * 0.26), eyes.move_to(UP * 0.26))
    return Character("G", "counterfeiter", s.G_COLOR, gear, (2, 3, 3))


def police_officer() -> Character:
    """D: a peaked cap with a badge, and a magnifying glass for the bills."""
    crown = Polygon([-0.36, 0.42, 0], [0.36, 0.42, 0], [0.28, 0.66, 0], [-0.28, 0.66, 0], stroke_width=0)
    crown.set_fill("#23324A", 1.0)
    visor = RoundedRectangle(width=0.8, height=0.08, corner_radius=0.04, stroke_width=0).set_fill("#15151C", 1.0)
    badge = Star(5, outer_radius=0.07, stroke_width=0).set_fill("#ECECEC", 1.0).move_to([0.0, 0.55, 0.0])
    lens = Circle(radius=0.2, stroke_color="#ECECEC", stroke_width=4).set_fill("#ECECEC", 0.12)
    handle = Line(ORIGIN, [0.22, -0.22, 0.0], stroke_color="#ECECEC", stroke_width=7)
    glass = VGroup(lens, handle.shift(lens.get_corner(DOWN + RIGHT) * 0.72)).move_to([-0.72, -0.05, 0.0])
    gear = VGroup(crown, visor.move_to([0.0, 0.41, 0.0]), badge, glass)
    return Character("D", "police officer", s.D_COLOR, gear, (3, 3, 1))


def bank() -> VGroup:
    """Where the real bills come from: a bank with columns, named after what it holds."""
    roof = Polygon([-0.55, 0.2, 0], [0.55, 0.2, 0], [0.0, 0.5, 0], stroke_width=0).set_fill(s.REAL_COLOR, 0.9)
    columns = VGroup(*(Rectangle(width=0.1, height=0.45, stroke_width=0).set_fill(s.REAL_COLOR, 0.9) for _ in range(4)))
    columns.arrange(RIGHT, buff=0.17).move_to(DOWN * 0.05)
    base = Rectangle(width=1.1, height=0.1, stroke_width=0).set_fill(s.REAL_COLOR, 0.9).move_to(DOWN * 0.33)
    icon = VGroup(roof, columns, base)
    name = VGroup(s.text("bank", s.LABEL, s.REAL_COLOR, weight="BOLD"), s.text("real data", s.SMALL, s.MUTED))
    name.arrange(RIGHT, buff=0.12, aligned_edge=DOWN).next_to(icon, DOWN, buff=0.15)
    return VGroup(icon, name)


# -- bills -----------------------------------------------------------------------------------------------------------
class Bill(c.Group):
    """One bill on D's desk: a banknote frame in the colour of where it came from, the run's sample(s) inside."""

    def __init__(self, face: c.Mobject, colour: str, size: float = BILL_SIZE):
        frame = RoundedRectangle(width=size, height=size, corner_radius=0.1, stroke_color=colour, stroke_width=4)
        frame.set_fill("#1A1A26", 1.0)
        inner = RoundedRectangle(width=size - 0.12, height=size - 0.12, corner_radius=0.06, stroke_width=1)
        inner.set_stroke(colour, opacity=0.45)
        super().__init__(frame, inner, face.move_to(frame))


def image_face(sample: np.ndarray) -> c.Mobject:
    return c.picture(c.to_rgb(sample), BILL_SIZE * 0.76)


def scatter_face(points: np.ndarray, scores: np.ndarray, extent: list[float]) -> VGroup:
    """2-D samples as dots in the run's data box, each in the colour of D's score for it."""
    box = c.PlotBox(extent, ORIGIN, BILL_SIZE * 0.8)
    area = box.frame().set_stroke(opacity=0.0)  # the data box, not the dots' bounds, is what the bill centres
    dots = (Dot(p, radius=DOT, color=s.score_hex(v)) for p, v in zip(box.to_scene(points[:, :2]), scores, strict=True))
    return VGroup(area, *dots)


def bill_box(run: c.Run) -> list[float]:
    """The data box every bill of a toy run shows: the bounds of the real batch and of G's samples at the first and
    last snapshot, 10 % wider; a square on 2-D runs, so shapes are not stretched. One box for every bill, so bills
    compare; tight, so the samples fill the bill (D's field extent leaves most of it empty)."""
    dims = 2 if run.kind == "toy2d" else 1
    ends = [run.snapshot(t, keys=(SNAPSHOT.fake,)).fake for t in (run.snapshot_steps()[0], run.snapshot_steps()[-1])]
    pts = np.concatenate([run.real, *ends]).reshape(-1, dims).astype(np.float64)
    lo, hi = pts.min(0), pts.max(0)
    centre, half = (lo + hi) / 2, max(float((hi - lo).max()), 1e-6) * 0.55
    return [float(v) for k in range(dims) for v in (centre[k] - half, centre[k] + half)]


def strip_face(values: np.ndarray, scores: np.ndarray, extent: list[float]) -> VGroup:
    """1-D samples as a strip: x is the value, rows only keep the dots apart; each in the colour of D's score."""
    lo, hi = float(extent[0]), float(extent[1])
    width = BILL_SIZE * 0.8
    x = (np.clip((values.ravel() - lo) / (hi - lo), 0, 1) - 0.5) * width
    y = ((np.arange(len(x)) * 0.618) % 1.0 - 0.5) * width * 0.6
    axis = Line([-width / 2, -width * 0.38, 0], [width / 2, -width * 0.38, 0], stroke_color=s.MUTED, stroke_width=2)
    dots = VGroup(*(Dot([a, b, 0.0], radius=DOT, color=s.score_hex(v)) for a, b, v in zip(x, y, scores, strict=True)))
    return VGroup(axis, dots)


# -- D's accuracy over the run ---------------------------------------------------------------------------------------
class Trace:
    """D's accuracy over the run, drawn up to ``tracker``'s step: every step faint (averaged in bins of consecutive
    steps on long runs), the trailing mean bold with a dot at its head, and the head's value as a number. ``still``
    holds what never changes (axes, the coin-toss line, labels), ``live`` what follows the tracker."""

    def __init__(self, numbers: Numbers, total: int, tracker: c.Mobject, about_run: str):
        x0, x1, y0, y1 = TRACE_BOX
        self.total, self.tracker = max(total, 1), tracker
        n = len(numbers.steps)
        size = -(-n // MAX_TRACE_POINTS)  # steps per point: 1 up to MAX_TRACE_POINTS steps
        bins = [slice(i, min(i + size, n)) for i in range(0, n, size)]
        ends = np.array([numbers.steps[b][-1] for b in bins], np.float64)
        self.faint = self._place(ends, np.array([mean_of(numbers.accuracy[b]) for b in bins]))
        self.mean = self._place(ends, np.array([numbers.mean_accuracy[b][-1] for b in bins]))

        half = (y0 + y1) / 2
        axes = VGroup(
            Line([x0, y0, 0], [x1, y0, 0], stroke_color=s.MUTED, stroke_width=2),
            Line([x0, y0, 0], [x0, y1, 0], stroke_color=s.MUTED, stroke_width=2),
            Line([x0, y1, 0], [x1, y1, 0], stroke_color=s.MUTED, stroke_width=1, stroke_opacity=0.4),
            DashedLine([x0, half, 0], [x1, half, 0], dash_length=0.1, stroke_color=s.TEXT, stroke_width=2),
        )
        ticks = VGroup(
            *(
                s.text(f"{v} %", s.SMALL, s.MUTED).next_to([x0, y, 0], LEFT, buff=0.12)
                for v, y in ((100, y1), (50, half), (0, y0))
            )
        )
        coin = s.text("guess", s.SMALL, s.MUTED).next_to(ticks[1], DOWN, buff=0.06, aligned_edge=RIGHT)
        steps = VGroup(
            s.text("0", s.SMALL, s.MUTED).next_to([x0, y0, 0], DOWN, buff=0.12),
            s.text("step", s.SMALL, s.MUTED).next_to([(x0 + x1) / 2, y0, 0], DOWN, buff=0.12),
            s.text(f"{total:,}", s.SMALL, s.MUTED).next_to([x1, y0, 0], DOWN, buff=0.12, aligned_edge=RIGHT),
        )
        head = s.text("How often is D right?", s.LABEL).move_to([x0 - 0.95, y1 + 0.95, 0], aligned_edge=LEFT)
        self.value = s.number(100.0, 0, s.HEADING, s.D_COLOR)
        unit = s.text("%", s.LABEL, s.D_COLOR)
        self.readout = VGroup(self.value, unit).arrange(RIGHT, buff=0.08, aligned_edge=DOWN)
        self.readout.move_to([x0 - 0.95, y1 + 0.42, 0], aligned_edge=LEFT)
        note = s.text(f"bold: last {numbers.window:,} steps", s.SMALL, s.MUTED)
        note.next_to(self.readout, RIGHT, buff=0.2).align_to(unit, DOWN)
        about = s.text(about_run, s.SMALL, s.MUTED).next_to(steps, DOWN, buff=0.15).align_to([x0 - 0.95, 0, 0], LEFT)
        self.still = VGroup(axes, ticks, coin, steps, head, note, about)

        self.faint_line = VMobject(stroke_color=s.D_COLOR, stroke_width=1.5)
        self.mean_line = VMobject(stroke_color=s.D_COLOR, stroke_width=4.5)
        self.dot = Dot(radius=0.07, color=s.D_COLOR)
        self.faint_line.add_updater(lambda m: self._draw(m, self.faint, 0.45))
        self.mean_line.add_updater(lambda m: self._draw(m, self.mean, 1.0))
        self.dot.add_updater(self._move_dot)
        self.value.add_updater(self._show_value)
        unit.add_updater(lambda m: m.next_to(self.value, RIGHT, buff=0.08, aligned_edge=DOWN))
        self.live = VGroup(self.faint_line, self.mean_line, self.dot, self.readout)
        self.live.update()

    def _place(self, steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, scene points, values) of the finite values: a bin without any is left out, never drawn as 0.5."""
        x0, x1, y0, y1 = TRACE_BOX
        ok = np.isfinite(values)
        steps, values = steps[ok], values[ok]
        points = np.stack([x0 + (x1 - x0) * steps / self.total, y0 + (y1 - y0) * np.clip(values, 0, 1), 0 * steps], 1)
        return steps, points, values

    def _shown(self, series: tuple[np.ndarray, np.ndarray, np.ndarray]) -> int:
        return int(np.searchsorted(series[0], self.tracker.get_value() + 1e-6, side="right"))

    def _draw(self, m: VMobject, series: tuple[np.ndarray, np.ndarray, np.ndarray], opacity: float) -> None:
        k = self._shown(series)
        points = series[1][:k] if k >= 2 else np.zeros((2, 3))
        m.set_points_as_corners(points).set_stroke(opacity=opacity if k >= 2 else 0.0)

    def _move_dot(self, m: Dot) -> None:
        k = self._shown(self.mean)
        m.move_to(self.mean[1][k - 1] if k else ORIGIN).set_opacity(1.0 if k else 0.0)

    def _show_value(self, m: c.Mobject) -> None:
        k = self._shown(self.mean)
        s.show_value(m, 100 * self.mean[2][k - 1] if k else 0.0)
        self.readout.set_opacity(1.0 if k else 0.0)


# -- the scene --------------------------------------------------------------------------------------------------------
class CounterfeiterAndPolice(c.RunScene):
    """G forges, D judges with the scores it recorded; the cycle repeats while D's accuracy is drawn over the run."""

    def construct(self) -> None:
        run = self.run
        numbers = Numbers(run)
        self.box = bill_box(run) if run.kind != "image" else []
        self.total = int(run.info.get("total_steps") or run.snapshot_steps()[-1])
        self.cast()
        self.trace_panel(numbers)
        for act in story(run, numbers):
            self.open_act(act)
            for step in act.steps:
                self.advance(step)
                self.d_turn(step)
                self.g_turn()
        self.rules()

    # -- the stage -------------------------------------------------------------------------------------------------
    def cast(self) -> None:
        """The title, G and the bank on the left, D on the right, the caption lines, the footer."""
        left = s.safe_box()[0]
        self.title_block = s.title("Can D tell G's fakes from real bills?")
        self.g = counterfeiter()
        self.g.shift([SOURCE_X, FAKE_ROW, 0] - self.g.figure.get_center())
        self.d = police_officer()
        self.d.shift(D_POS - self.d.figure.get_center())
        self.bank = bank()
        self.bank.shift([SOURCE_X, REAL_ROW, 0] - self.bank[0].get_center())
        self.caption_at = np.array([left, self.title_block.get_bottom()[1] - 0.3, 0.0])
        self.turn_at = np.array([left, TURN_Y, 0.0])
        self.caption = self.line(
            "G prints fake bills; D, the police, judges every bill: real or fake?", self.caption_at
        )
        self.turn = self.line("Each training step has two turns: first D learns, then G", self.turn_at, s.LABEL)
        self.play(FadeIn(self.title_block), FadeIn(self.g), FadeIn(self.d), FadeIn(self.bank), run_time=1.0)
        self.play(FadeIn(self.caption), FadeIn(self.turn), run_time=0.6)
        self.wait(1.2)

    def line(self, words: str, at: np.ndarray, size: float = s.BODY, colour: str = s.TEXT) -> c.Mobject:
        """A caption line whose left edge starts at ``at``."""
        return s.text(words, size, colour).move_to(at, aligned_edge=LEFT)

    def trace_panel(self, numbers: Numbers) -> None:
        self.footer = s.footer(self.total)
        about = f"run {self.run.name} · {c.loss_name(self.run)} loss"
        self.trace = Trace(numbers, self.total, self.footer.tracker, about)
        self.play(FadeIn(self.trace.still), FadeIn(self.footer.group), run_time=0.6)
        self.add(self.trace.live)

    def updaters_last(self) -> None:
        """Put the footer and the trace, which have updaters, last in the scene: on every frame manim redraws each
        mobject from the first one with an updater on, and draws those before it once per animation."""
        self.bring_to_front(self.footer.group, self.trace.live)

    def say(self, mob: c.Mobject, words: str, at: np.ndarray, size: float = s.BODY, colour: str = s.TEXT) -> list:
        """Animations that replace the caption ``mob`` with ``words`` (a fade, never a morph between texts)."""
        new = self.line(words, at, size, colour)
        if mob is self.caption:
            self.caption = new
        else:
            self.turn = new
        return [FadeOut(mob), FadeIn(new)]

    def open_act(self, act: Act) -> None:
        words = f"{act.number} · {act.caption}"
        self.play(*self.say(self.caption, words, self.caption_at), run_time=0.6)
        self.wait(0.6)

    def advance(self, step: int) -> None:
        """Both turns, over and over, from the footer's step to ``step``: bills of the snapshots in between stream to
        D while the footer counts and the accuracy trace grows."""
        now = int(round(self.footer.tracker.get_value()))
        if step <= now:
            return
        words = f"Both turns again and again, to step {step:,}"
        self.play(*self.g.rest(), *self.d.rest(), *self.say(self.turn, words, self.turn_at, s.LABEL), run_time=0.5)
        between = [t for t in self.run.snapshot_steps() if now < t <= step]
        shown = [between[i] for i in np.unique(np.linspace(0, len(between) - 1, min(STREAM, len(between))).astype(int))]
        lens = self.lens()
        flow = []
        for t in shown:
            snap = self.run.snapshot(t)
            for real in (False, True):
                little = self.bill(snap, real, STREAM_POINTS)[0].scale(0.5).next_to(self.source(real), RIGHT, buff=0.1)
                flow.append(Succession(FadeIn(little, run_time=0.15), FadeOut(little, target_position=lens, scale=0.4)))
        self.play(self.footer.tracker.animate.set_value(step), LaggedStart(*flow, lag_ratio=0.35), run_time=2.0)

    def lens(self) -> np.ndarray:
        """Where D looks at bills: its magnifying glass."""
        return self.d.figure[2][-1][0].get_center()

    # -- the training cycle ------------------------------------------------------------------------------------------
    def d_turn(self, step: int) -> None:
        """G frozen, D learns: a fake from G and a real bill from the bank reach D, who gives its recorded scores."""
        words = "D's turn: G is frozen, D learns to tell them apart"
        self.play(*self.g.freeze(), *self.d.learn(), *self.say(self.turn, words, self.turn_at, s.LABEL), run_time=0.6)
        snap = self.run.snapshot(step)
        self.lanes = [self.lane(snap, real=False), self.lane(snap, real=True)]
        self.play(*(lane.arrive() for lane in self.lanes), run_time=1.0)
        self.updaters_last()
        lens = self.lens()
        looks = [Line(lane.bill.get_right(), lens, stroke_color=s.FORWARD_COLOR, stroke_width=5) for lane in self.lanes]
        self.play(*(ShowPassingFlash(line, time_width=0.6) for line in looks), run_time=0.6)
        self.play(*(FadeIn(lane.gauge) for lane in self.lanes), run_time=0.3)
        self.play(*(lane.gauge.tracker.animate.set_value(lane.score) for lane in self.lanes), run_time=1.0)
        for lane in self.lanes:
            lane.gauge.hold()
        self.play(*(GrowFromCenter(lane.mark) for lane in self.lanes), run_time=0.3)
        self.wait(0.9)

    def g_turn(self) -> None:
        """D frozen, G learns: only the fake matters now; D's verdict on it flows back to G as a gradient."""
        fake, real = self.lanes
        words = "G's turn: D is frozen, G learns from D's verdict"
        self.play(
            *self.d.freeze(),
            *self.g.learn(),
            *self.say(self.turn, words, self.turn_at, s.LABEL),
            FadeOut(real.group),
            run_time=0.6,
        )
        start = fake.gauge.get_bottom() + DOWN * 0.05
        end = self.g.figure.get_corner(DOWN + RIGHT) + LEFT * 0.2
        arrow = ArcBetweenPoints(start, end, angle=-PI * 0.55, stroke_color=s.GRAD_COLOR, stroke_width=6)
        arrow.add_tip(tip_length=0.22)
        note = s.text("gradient: look more real", s.SMALL, s.GRAD_COLOR)
        note.move_to([(start[0] + end[0]) / 2, arrow.get_bottom()[1] - 0.22, 0])
        self.play(Create(arrow), FadeIn(note), run_time=0.8)
        self.play(ShowPassingFlash(arrow.copy().set_stroke(width=12), time_width=0.5), run_time=0.8)
        self.wait(0.4)
        self.play(FadeOut(fake.group), FadeOut(arrow), FadeOut(note), run_time=0.4)

    def rules(self) -> None:
        """The game in one formula, each term in the colour of what it names on screen, and how this run plays it."""
        d, g, x, z = (
            s.tint(a, col) for a, col in (("D", s.D_COLOR), ("G", s.G_COLOR), ("x", s.REAL_COLOR), ("z", s.FAKE_COLOR))
        )
        gz = s.tint("G(z)", s.FAKE_COLOR)
        top = s.formula(f"min_({g}) max_({d}) thin EE_({x}) [log {d}({x})]")
        bottom = s.formula(f"+ thin EE_({z}) [log(1 - {d}({gz}))]")
        game = VGroup(top, bottom).arrange(DOWN, buff=0.3, aligned_edge=LEFT)
        sides = VGroup(s.text("D pushes it up", s.SMALL, s.D_COLOR), s.text("G pushes it down", s.SMALL, s.G_COLOR))
        sides.arrange(RIGHT, buff=0.35).next_to(game, DOWN, buff=0.4)
        game = VGroup(game, sides).move_to([(BILL_X + GAUGE_X) / 2 + 0.15, (FAKE_ROW + REAL_ROW) / 2, 0])
        loss = c.loss_name(self.run)
        words = {
            "minimax": "minimax loss: this run's G minimises exactly this",
            "bce": "bce loss: this run's G maximises log D(G(z)) instead",
        }.get(loss, f"{loss} loss: this run plays a variant of this game")
        self.play(*self.g.rest(), *self.d.rest(), *self.say(self.turn, words, self.turn_at, s.LABEL), run_time=0.5)
        self.play(FadeIn(game, shift=UP * 0.2), run_time=1.0)
        self.wait(2.5)

    def bill(self, snap: c.Snapshot, real: bool, points: int = 0) -> tuple[Bill, float, str]:
        """The bill of one lane at ``snap`` (at the desk), D's recorded score for it, and what the bill is; ``points``
        caps the samples on a toy run's bill (0: the usual number)."""
        run = self.run
        samples, scores = (run.real, snap.d_real) if real else (snap.fake, snap.d_fake)
        colour, row = (s.REAL_COLOR, REAL_ROW) if real else (s.FAKE_COLOR, FAKE_ROW)
        if run.kind == "image":
            i = int(np.argsort(scores, kind="stable")[len(scores) // 2])  # the typical bill: D's median score
            face, score = image_face(samples[i]), float(scores[i])
            label = "x · real" if real else "G(z) · fake"
        else:
            k = points or (POINTS_2D if run.kind == "toy2d" else POINTS_1D)
            pick = np.unique(np.linspace(0, len(scores) - 1, min(k, len(scores))).round().astype(int))
            draw = scatter_face if run.kind == "toy2d" else strip_face
            face, score = draw(samples[pick], scores[pick], self.box), float(np.mean(scores[pick]))
            label = f"x · {len(pick)} real" if real else f"G(z) · {len(pick)} fakes"
        return Bill(face, colour).move_to([BILL_X, row, 0]), score, label

    def source(self, real: bool) -> np.ndarray:
        """Where a bill comes from: the bank's door or G's hands."""
        return (self.bank[0] if real else self.g.figure).get_right()

    def lane(self, snap: c.Snapshot, real: bool) -> Lane:
        """One lane of D's desk at ``snap``: the bill, its tag, a gauge for D's score and the verdict mark."""
        bill, score, label = self.bill(snap, real)
        colour, row = (s.REAL_COLOR, REAL_ROW) if real else (s.FAKE_COLOR, FAKE_ROW)
        tag = s.text(label, s.SMALL, colour).next_to(bill, UP, buff=0.1)
        gauge = s.Gauge(0.5, radius=GAUGE_RADIUS).move_to([GAUGE_X, row, 0])
        mark = s.verdict_mark((score > 0.5) == real, 0.45).move_to([TICK_X, row, 0])
        return Lane(bill, tag, gauge, mark, score, self.source(real))


@dataclass
class Lane:
    """One lane of D's desk in one round: the bill, its tag, the gauge with D's score for it, the verdict mark."""

    bill: Bill
    tag: c.Mobject
    gauge: s.Gauge
    mark: c.Mobject
    score: float
    source: np.ndarray

    @property
    def group(self) -> c.Group:
        return c.Group(self.bill, self.tag, self.gauge, self.mark)

    def arrive(self) -> Animation:
        """The bill travels from its source (G or the bank) to D's desk, growing as it comes."""
        end = self.bill.get_center()
        self.bill.scale(0.3).move_to(self.source)
        return AnimationGroup(self.bill.animate.scale(1 / 0.3).move_to(end), FadeIn(self.tag, shift=UP * 0.1))
