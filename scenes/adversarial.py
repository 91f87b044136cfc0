"""The counterfeiter (G) and the police officer (D): the training cycle acted out with a run's own bills and verdicts.

G prints bills (its samples at a snapshot), the bank holds real ones (the run's fixed real batch). In D's half of the
cycle G is frozen: a bill from each pile travels to D, and D's verdict comes out as a gauge showing the score D
recorded for that very bill, with a tick beside the bill when the verdict is right (a real bill scored above 0.5, a
fake below) and a cross when it is wrong. In G's half D is frozen and its verdict on the fake flows back to G as a
gradient. Between the acts the run skips ahead: the bills of the snapshots in between pass D's desk, each while the
footer shows its step. Beside the stage D's accuracy over the run grows as a line, against the 0.5 of a coin toss.
Three acts (start, middle, end) carry captions chosen from the run's numbers, each caption shown when the footer
reaches the step it names; the scene closes on this run's own objective (its loss), each term in the colour of what
it names on screen.

Every number on screen is one quantity of scenes/readouts.py at the footer's step: the counter and the bold line are
``metric:accuracy`` averaged over ``readouts.window(run)`` steps (a trailing mean), and the captions quote the same
values at the steps they name. A gauge shows ``snapshot:d_real|d_fake:item<i>`` (image runs: the bill is sample i,
the one with D's median score) or ``snapshot:d_real|d_fake:spread<k>`` (toy runs: the mean over the k samples on the
bill, spread evenly through the batch).

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
    Line,
    Polygon,
    Rectangle,
    RoundedRectangle,
    ShowPassingFlash,
    Star,
    ValueTracker,
    VGroup,
    VMobject,
)

from pipeline.run import RunError
from pipeline.runformat import SNAPSHOT
from scenes import common as c
from scenes import readouts as r
from scenes import style as s

# -- layout (scene units; the title-safe area is x in [-6.26, 6.26], y in [-3.52, 3.52]) ---------------------------
FAKE_ROW, REAL_ROW = 0.7, -1.3  # the two lanes: G's fakes above, the bank's real bills below
SOURCE_X = -5.15  # G and the bank
BILL_X, TICK_X, GAUGE_X = -3.22, -2.18, -1.04  # where a bill is judged, its verdict mark, its gauge
D_POS = np.array([1.3, -0.3, 0.0])
BILL_SIZE = 1.5
GAUGE_RADIUS = 0.66
CAST_SCALE = 1.15  # G and D
TURN_Y = -2.6  # the line that says whose turn it is
#: D's accuracy over the run: the plot area (left, right, bottom, top) of the trace
TRACE_BOX = (3.45, 6.2, -1.9, 0.7)
MAX_TRACE_POINTS = 400  # longer runs are averaged in bins of consecutive steps
POINTS_2D, POINTS_1D = 96, 48  # samples on a bill of a toy run
STREAM = 5  # snapshots whose bills pass D's desk while the run skips ahead
DOT = 0.05  # radius of a sample on a toy run's bill
DIM = 0.3  # the opacity of what the current beat does not need (the trace during the turns)


# -- the story, from the run's numbers -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Act:
    """One act of the story: the snapshots whose bills D judges, and what the run's numbers say about them. The
    caption is shown when the footer reaches the act's last snapshot; each of its numbers names its step."""

    number: int
    steps: tuple[int, ...]
    caption: str
    readings: tuple[r.Reading, ...] = ()


class Accuracy:
    """D's accuracy as the screen shows it, at a step, and the caption text of it, registered: ``metric:accuracy``
    averaged over ``readouts.window`` logged steps (a trailing mean) where the run recorded acc_real and acc_fake;
    else (``derived``) ``snapshot:accuracy``, D's accuracy on the fixed batches at each snapshot, from the scores the
    snapshots hold (a loop of one's own that handed no accuracy to the Recorder still recorded those)."""

    def __init__(self, run: c.Run):
        self.derived = not recorded_accuracy(run)
        if self.derived:
            self.quantity, self.window = "snapshot:accuracy", 1
            self.steps, self.values = r.snapshot_accuracy(run)
            self.mean = self.values
            if len(self.steps) == 0:
                raise RunError(
                    f"{run.path}: no snapshot holds D's scores on both fixed batches: nothing says how often D is right"
                )
            return
        if len(run.metrics.step) == 0:
            raise RunError(f"{run.path}: no training step is logged yet; the scene shows D's accuracy over the run")
        self.quantity, self.window = "metric:accuracy", r.window(run)
        self.steps, self.values = r.series(run, "accuracy")
        self.mean = r.series(run, "accuracy", self.window)[1]

    def at(self, step: float) -> float:
        """The accuracy shown at ``step``: the average at the last logged step (or the latest snapshot) up to it;
        NaN before the first."""
        return r.at(self.steps, self.mean, step)

    def known(self, step: float) -> bool:
        return bool(np.isfinite(self.at(step)))

    def percent(self, step: float) -> int:
        """The whole percent the counter prints at ``step`` (where ``known``)."""
        return int(r.percent(self.at(step)))

    def claim(self, step: int) -> tuple[str, r.Reading]:
        return r.claim(self.quantity, self.at(step), step=step, average=self.window, scale=100)


def recorded_accuracy(run: c.Run) -> bool:
    """Whether the run logged D's accuracy (acc_real and acc_fake at one step at least)."""
    return len(run.metrics.step) > 0 and bool(np.isfinite(r.metric(run, "accuracy")).any())


#: what the trace says of an accuracy derived from the snapshots' scores: below its axis, and beside its counter
DERIVED, DERIVED_NOTE = ("accuracy from D's scores", "on the fixed batches"), "at each snapshot"


def step_claim(step: int) -> tuple[str, r.Reading]:
    return r.claim("step", step, "{:,.0f}", step=step)


def story(run: c.Run, acc: Accuracy | None = None) -> list[Act]:
    """Three acts: D learns (the start and D's best moment in the first half), G catches up (the middle), the end.

    Each caption says what the run's numbers say at the steps it names, rounded as the counter shows them: an act
    never claims what the run or the counter beside it contradicts."""
    acc = acc or Accuracy(run)
    steps = run.snapshot_steps()
    first, last = steps[0], steps[-1]
    early = [t for t in steps if first < t <= (first + last) / 2 and t != last and acc.known(t)]
    if early:  # D's best moment: the first snapshot within 2 points of its best accuracy in the first half
        top = max(acc.at(t) for t in early)
        best = next(t for t in early if acc.at(t) >= top - 0.02)
    else:
        best = first
    middle = [t for t in steps if best < t < last]
    mid = min(middle, key=lambda t: (abs(t - (best + last) / 2), t)) if middle else None

    acts = []
    one = tuple(dict.fromkeys(t for t in (first, best) if t != last))
    if one and acc.known(best):
        opening = int(acc.steps[min(acc.window, len(acc.steps)) - 1])  # the first full average
        start, top = (acc.percent(opening) if acc.known(opening) else None), acc.percent(best)
        (p_top, r_top), (s_best, r_best) = acc.claim(best), step_claim(best)
        if top < 60:
            line, said = f"D barely learns: right {p_top} % at best, by step {s_best}", (r_top, r_best)
        elif start is not None and top - start >= 10 and opening < best:
            (p_start, r_start), (s_open, r_open) = acc.claim(opening), step_claim(opening)
            line = f"D learns fast: right {p_start} % at step {s_open}, {p_top} % by step {s_best}"
            said = (r_start, r_open, r_top, r_best)
        else:
            line, said = f"D tells them apart at once: right {p_top} % by step {s_best}", (r_top, r_best)
        acts.append(Act(1, one, line, said))
    elif one:
        acts.append(Act(1, one, "D sees its first bills"))
    if mid is not None and acc.known(best) and acc.known(mid):
        was, now = acc.percent(best), acc.percent(mid)
        (p_now, r_now), (s_mid, r_mid) = acc.claim(mid), step_claim(mid)
        (p_was, r_was), (s_best, r_best) = acc.claim(best), step_claim(best)
        said = (r_now, r_mid)
        if now <= was - 10:
            line = f"G catches up: by step {s_mid} D is right {p_now} %, down from {p_was} % at step {s_best}"
            said += (r_was, r_best)
        elif now >= was + 10:
            line = f"G falls behind: by step {s_mid} D is right {p_now} %, up from {p_was} % at step {s_best}"
            said += (r_was, r_best)
        elif now >= 60:
            line = f"G does not catch up: by step {s_mid} D is still right {p_now} % of the time"
        else:
            line = f"G keeps up: by step {s_mid} D is right only {p_now} % of the time"
        acts.append(Act(2, (mid,), line, said))
    acts.append(ending(acc, last))
    return acts


def ending(acc: Accuracy, last: int) -> Act:
    """Act 3: where D's accuracy ended against the 0.5 of a coin toss (or that nothing says it yet)."""
    (p_end, r_end), (s_last, r_last) = acc.claim(last), step_claim(last)
    if not acc.known(last):
        return Act(3, (last,), f"By step {s_last} nothing yet says how often D is right", (r_last,))
    end = acc.percent(last)
    if abs(end - 50) <= 3:
        line = f"By step {s_last} D can only guess: right {p_end} % of the time, the equilibrium"
    elif end > 50:
        line = f"By step {s_last} D still wins: right {p_end} % of the time, not the equilibrium"
    else:
        line = f"By step {s_last} D is fooled more often than not: right only {p_end} %"
    return Act(3, (last,), line, (r_end, r_last))


#: each loss's own objective in Typst math (D's and G's lines; ``{d}``, ``{g}``, ``{x}``, ``{z}``, ``{gz}``: the
#: terms in the colours of their objects) and what the screen says about it. gan_train/losses.py computes them.
OBJECTIVES: dict[str, tuple[tuple[tuple[str, str], ...], str]] = {
    "minimax": (
        (("G and D", "min_({g}) max_({d}) thin EE_({x}) [log {d}({x})] + EE_({z}) [log(1 - {d}({gz}))]"),),
        "the minimax game: D pushes this value up, G pushes the same value down",
    ),
    "bce": (
        (
            ("D", "max_({d}) thin EE_({x}) [log {d}({x})] + EE_({z}) [log(1 - {d}({gz}))]"),
            ("G", "max_({g}) thin EE_({z}) [log {d}({gz})]"),
        ),
        "non-saturating loss: G maximises log D(G(z)), whose gradient stays strong while D wins",
    ),
    "lsgan": (
        (
            ("D", "min_({d}) thin 1/2 EE_({x}) [({d}({x}) - {a})^2] + 1/2 EE_({z}) [{d}({gz})^2]"),
            ("G", "min_({g}) thin 1/2 EE_({z}) [({d}({gz}) - 1)^2]"),
        ),
        "least-squares loss: D aims its score at its target for real bills and at zero for fakes",
    ),
    "hinge": (
        (
            ("D", "min_({d}) thin EE_({x}) [max(0, 1 - {d}({x}))] + EE_({z}) [max(0, 1 + {d}({gz}))]"),
            ("G", "min_({g}) thin -EE_({z}) [{d}({gz})]"),
        ),
        "hinge loss on D's raw output: D stops pushing a bill once it is past the margin",
    ),
    "wgan-gp": (
        (
            (
                "D",
                "min_({d}) thin EE_({z}) [{d}({gz})] - EE_({x}) [{d}({x})]"
                " + lambda EE [(norm(nabla {d}(hat(x))) - 1)^2]",
            ),
            ("G", "min_({g}) thin -EE_({z}) [{d}({gz})]"),
        ),
        "Wasserstein loss: D is a critic whose score gap estimates a distance",
    ),
}


def objective(loss: str, real_label: float = 1.0) -> tuple[list[tuple[str, str]], str]:
    """(who, Typst math) per line of ``loss``'s objective (one of OBJECTIVES), each term tinted, and the words for it;
    ``real_label`` is D's target for real samples where the formula shows it (least squares)."""
    lines, words = OBJECTIVES[loss]
    terms = {
        "a": f"{real_label:g}",
        "d": s.tint("D", s.D_COLOR),
        "g": s.tint("G", s.G_COLOR),
        "x": s.tint("x", s.REAL_COLOR),
        "z": s.tint("z", s.FAKE_COLOR),
        "gz": s.tint("G(z)", s.FAKE_COLOR),
    }
    return [(who, code.format(**terms)) for who, code in lines], words


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
        self.halo = Circle(radius=reach + 0.08, stroke_color=colour, stroke_width=3, stroke_opacity=0.0)
        self.halo.set_fill(colour, 0.0).move_to(self.figure)
        self.veil = RoundedRectangle(
            width=self.figure.width + 0.2, height=self.figure.height + 0.2, corner_radius=0.2, stroke_width=0
        )
        self.veil.set_fill(s.BACKGROUND, 0.0).move_to(self.figure)
        self.name = VGroup(s.text(letter, s.LABEL, colour, weight="BOLD"), s.text(role, s.SMALL, s.MUTED))
        # the name below the halo and the state above it: the halo's ring never runs through a word
        self.name.arrange(RIGHT, buff=0.12, aligned_edge=DOWN).next_to(self.halo, DOWN, buff=0.08)
        self.learning = s.text("learning", s.SMALL, s.GRAD_COLOR).next_to(self.halo, UP, buff=0.08)
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
    ok = np.isfinite(points[:, :2]).all(axis=1)  # a sample at NaN or infinity has no place on the bill
    dots = (Dot(p, radius=DOT, color=hue(v)) for p, v in zip(box.to_scene(points[ok, :2]), scores[ok], strict=True))
    return VGroup(area, *dots)


def hue(score: float) -> str:
    """A dot's colour: D's score in the score map, muted where D's score is not a number."""
    return s.score_hex(score) if np.isfinite(score) else s.MUTED


def bill_box(run: c.Run) -> list[float]:
    """The data box every bill of a toy run shows: the bounds of the real batch and of G's samples at the first and
    last snapshot, 10 % wider; a square on 2-D runs, so shapes are not stretched. One box for every bill, so bills
    compare; tight, so the samples fill the bill (D's field extent leaves most of it empty)."""
    dims = 2 if run.kind == "toy2d" else 1
    ends = [run.snapshot(t, keys=(SNAPSHOT.fake,)).fake for t in (run.snapshot_steps()[0], run.snapshot_steps()[-1])]
    pts = np.concatenate([run.real, *ends]).reshape(-1, dims).astype(np.float64)
    pts = pts[np.isfinite(pts).all(axis=1)]
    lo, hi = (pts.min(0), pts.max(0)) if len(pts) else (np.full(dims, -1.0), np.full(dims, 1.0))
    centre, half = (lo + hi) / 2, max(float((hi - lo).max()), 1e-6) * 0.55
    return [float(v) for k in range(dims) for v in (centre[k] - half, centre[k] + half)]


def strip_face(values: np.ndarray, scores: np.ndarray, extent: list[float]) -> VGroup:
    """1-D samples as a strip: x is the value, rows only keep the dots apart; each in the colour of D's score."""
    lo, hi = float(extent[0]), float(extent[1])
    width = BILL_SIZE * 0.8
    ok = np.isfinite(values.ravel())  # a sample at NaN or infinity has no place on the strip
    values, scores = values.ravel()[ok], np.asarray(scores)[ok]
    x = (np.clip((values - lo) / (hi - lo), 0, 1) - 0.5) * width
    y = ((np.arange(len(x)) * 0.618) % 1.0 - 0.5) * width * 0.6
    axis = Line([-width / 2, -width * 0.38, 0], [width / 2, -width * 0.38, 0], stroke_color=s.MUTED, stroke_width=2)
    dots = VGroup(*(Dot([a, b, 0.0], radius=DOT, color=hue(v)) for a, b, v in zip(x, y, scores, strict=True)))
    return VGroup(axis, dots)


# -- D's accuracy over the run ---------------------------------------------------------------------------------------
def mean_of(values: np.ndarray) -> float:
    """The mean of the finite values, NaN when there are none."""
    ok = np.isfinite(values)
    return float(values[ok].mean()) if ok.any() else float("nan")


class Trace:
    """D's accuracy over the run, drawn up to the footer's step: every step faint (averaged in bins of consecutive
    steps on long runs), the trailing mean bold with a dot at its head, and the head's value as the counter (the
    same ``metric:accuracy`` average the captions quote). ``still`` holds what never changes (axes, the coin-toss
    line, labels), ``live`` what follows the footer; ``level`` is the opacity of all of it (the turns dim it)."""

    def __init__(self, acc: Accuracy, total: int, tracker: ValueTracker):
        x0, x1, y0, y1 = TRACE_BOX
        self.acc, self.total, self.tracker = acc, max(total, 1), tracker
        self.level = ValueTracker(1.0)
        n = len(acc.steps)
        size = -(-n // MAX_TRACE_POINTS)  # steps per point: 1 up to MAX_TRACE_POINTS steps
        bins = [slice(i, min(i + size, n)) for i in range(0, n, size)]
        ends = np.array([acc.steps[b][-1] for b in bins], np.float64)
        self.faint = self._place(ends, np.array([mean_of(acc.values[b]) for b in bins]))
        self.mean = self._place(ends, np.array([acc.mean[b][-1] for b in bins]))

        half = (y0 + y1) / 2
        axes = VGroup(
            Line([x0, y0, 0], [x1, y0, 0], stroke_color=s.MUTED, stroke_width=2),
            Line([x0, y0, 0], [x0, y1, 0], stroke_color=s.MUTED, stroke_width=2),
            Line([x0, y1, 0], [x1, y1, 0], stroke_color="#4A4A54", stroke_width=1),
            DashedLine([x0, half, 0], [x1, half, 0], dash_length=0.1, stroke_color=s.TEXT, stroke_width=2),
        )
        ticks = VGroup(
            *(
                r.constant(s.text(f"{v} %", s.SMALL, s.MUTED)).next_to([x0, y, 0], LEFT, buff=0.12)
                for v, y in ((100, y1), (50, half), (0, y0))
            )
        )
        coin = s.text("guess", s.SMALL, s.MUTED).next_to(ticks[1], DOWN, buff=0.06, aligned_edge=RIGHT)
        steps = VGroup(
            r.constant(s.text("0", s.SMALL, s.MUTED)).next_to([x0, y0, 0], DOWN, buff=0.12),
            s.text("step", s.SMALL, s.MUTED).next_to([(x0 + x1) / 2, y0, 0], DOWN, buff=0.12),
            r.constant(s.text(f"{total:,}", s.SMALL, s.MUTED)).next_to(
                [x1, y0, 0], DOWN, buff=0.12, aligned_edge=RIGHT
            ),
        )
        left = x0 - 0.95
        head = s.text("How often is D right?", s.LABEL).move_to([left, y1 + 1.05, 0], aligned_edge=LEFT)
        self.value = r.reads(s.number(100.0, 0, s.HEADING, s.D_COLOR), acc.quantity, average=acc.window, scale=100)
        unit = s.text("%", s.LABEL, s.D_COLOR)
        self.readout = VGroup(self.value, unit).arrange(RIGHT, buff=0.08, aligned_edge=DOWN)
        self.readout.move_to([left, y1 + 0.5, 0], aligned_edge=LEFT)
        words = DERIVED_NOTE if acc.derived else r.average_words(acc.window)
        note = r.constant(s.text(words, s.SMALL, s.MUTED))
        note.next_to(self.readout, RIGHT, buff=0.2).align_to(unit, DOWN)
        legend = self.legend(acc)
        legend.next_to(steps, DOWN, buff=0.18).align_to([left, 0, 0], LEFT)
        self.still = VGroup(axes, ticks, coin, steps, head, note, legend)

        self.faint_line = VMobject(stroke_color=s.D_COLOR, stroke_width=1.5)
        self.mean_line = VMobject(stroke_color=s.D_COLOR, stroke_width=4.5)
        self.dot = Dot(radius=0.07, color=s.D_COLOR)
        self.faint_line.add_updater(lambda m: self._draw(m, self.faint, 0.45, head=False))
        self.mean_line.add_updater(lambda m: self._draw(m, self.mean, 1.0, head=True))
        self.dot.add_updater(self._move_dot)
        self.value.add_updater(self._show_value)
        unit.add_updater(lambda m: m.next_to(self.value, RIGHT, buff=0.08, aligned_edge=DOWN))
        self.live = VGroup(self.faint_line, self.mean_line, self.dot, self.readout)
        self.live.update()

    @staticmethod
    def legend(acc: Accuracy) -> VGroup:
        """The legend in words, each beside a stroke of its line; an accuracy derived from the snapshots' scores is
        one line, and says so."""
        thin = Line(ORIGIN, RIGHT * 0.35, stroke_color=s.D_COLOR, stroke_width=1.5)
        thick = Line(ORIGIN, RIGHT * 0.35, stroke_color=s.D_COLOR, stroke_width=4.5)
        if acc.derived:  # one line, so no strokes to tell lines apart: where its values come from
            return VGroup(*(s.text(w, s.SMALL, s.MUTED) for w in DERIVED)).arrange(DOWN, buff=0.1, aligned_edge=LEFT)
        return VGroup(
            VGroup(thin, s.text("each step", s.SMALL, s.MUTED)).arrange(RIGHT, buff=0.12),
            VGroup(thick, r.constant(s.text(r.average_words(acc.window), s.SMALL, s.MUTED))).arrange(RIGHT, buff=0.12),
        ).arrange(DOWN, buff=0.1, aligned_edge=LEFT)

    def step(self) -> int:
        """The footer's step (the footer shows the tracker rounded)."""
        return int(round(self.tracker.get_value()))

    def point(self, step: float, value: float) -> np.ndarray:
        x0, x1, y0, y1 = TRACE_BOX
        return np.array([x0 + (x1 - x0) * step / self.total, y0 + (y1 - y0) * float(np.clip(value, 0, 1)), 0.0])

    def _place(self, steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(steps, scene points) of the finite values: a bin without any is left out, never drawn as 0.5."""
        ok = np.isfinite(values)
        steps, values = steps[ok], values[ok]
        return steps, np.array([self.point(t, v) for t, v in zip(steps, values, strict=True)]).reshape(-1, 3)

    def head(self) -> tuple[float, float] | None:
        """(step, value) of the bold line's head: the last logged step up to the footer's, and the average there."""
        step = self.step()
        i = int(np.searchsorted(self.acc.steps, step + 1e-9, side="right")) - 1
        if i < 0 or not np.isfinite(self.acc.mean[i]):
            return None
        return float(self.acc.steps[i]), float(self.acc.mean[i])

    def _draw(self, m: VMobject, series: tuple[np.ndarray, np.ndarray], opacity: float, head: bool) -> None:
        k = int(np.searchsorted(series[0], self.step() + 1e-9, side="right"))
        points = list(series[1][:k])
        top = self.head() if head else None
        if top is not None and (not k or series[0][k - 1] < top[0]):
            points.append(self.point(*top))  # the bold line ends where the counter's value is
        if len(points) >= 2:
            m.set_points_as_corners(np.array(points)).set_stroke(opacity=opacity * self.level.get_value())
        else:
            m.set_points_as_corners(np.zeros((2, 3))).set_stroke(opacity=0.0)

    def _move_dot(self, m: Dot) -> None:
        top = self.head()
        m.move_to(self.point(*top) if top else ORIGIN).set_opacity(self.level.get_value() if top else 0.0)

    def _show_value(self, m: c.Mobject) -> None:
        top = self.head()
        s.show_value(m, 100 * top[1] if top else 0.0)
        self.readout.set_opacity(self.level.get_value() if top else 0.0)

    def fade(self, level: float) -> list[Animation]:
        """Dim the trace to ``level`` (1: back in full) while the stage carries the beat."""
        return [self.level.animate.set_value(level), self.still.animate.set_opacity(level)]


# -- the scene --------------------------------------------------------------------------------------------------------
class CounterfeiterAndPolice(c.RunScene):
    """G forges, D judges with the scores it recorded; the cycle repeats while D's accuracy is drawn over the run."""

    data_area = (((BILL_X + GAUGE_X) / 2, (FAKE_ROW + REAL_ROW) / 2), 4.0, 3.5)  # D's desk

    @classmethod
    def cannot_draw(cls, run: c.Run) -> str | None:
        """Beyond the kind and a critic's scores (no boundary between real and fake to count D right by): a run with
        neither an accuracy column nor D's scores in any snapshot."""
        reason = super().cannot_draw(run)
        if reason is None and not recorded_accuracy(run) and not len(r.snapshot_accuracy(run)[0]):
            reason = (
                f"scene {cls.__name__} draws D's accuracy, but {run.name} recorded neither acc_real and acc_fake nor "
                "D's scores on the fixed batches in a snapshot (hand acc_real and acc_fake to Recorder.step)"
            )
        return reason

    def construct(self) -> None:
        run = self.run
        acc = Accuracy(run)
        self.box = bill_box(run) if run.kind != "image" else []
        self.total = run.total_steps
        self.next_section("the-cast")  # each act is a slide of `ganviz lecture` (manim's sections)
        self.cast()
        self.trace_panel(acc)
        for act in story(run, acc):
            self.next_section(f"act-{act.number}")
            for k, step in enumerate(act.steps):
                self.advance(step)
                if k == len(act.steps) - 1:
                    self.open_act(act)
                self.d_turn(step)
                self.g_turn()
        self.next_section("the-rules")
        self.rules()

    # -- the stage -------------------------------------------------------------------------------------------------
    def cast(self) -> None:
        """The title, G and the bank on the left, D on the right, the caption lines."""
        left = s.safe_box()[0]
        self.title_block = s.title("Can D tell G's fakes from real bills?", s.about(self.run.config))
        r.constant(self.title_block[1])  # 'a 1-D Gaussian': words, not a number of the run
        self.g = counterfeiter()
        self.g.shift([SOURCE_X, FAKE_ROW, 0] - self.g.figure.get_center())
        self.d = police_officer()
        self.d.shift(D_POS - self.d.figure.get_center())
        self.bank = bank()
        self.bank.shift([SOURCE_X, REAL_ROW, 0] - self.bank[0].get_center())
        self.caption_at = np.array([left, self.title_block.get_bottom()[1] - 0.32, 0.0])
        self.turn_at = np.array([left, TURN_Y, 0.0])
        self.caption = self.line(
            "G prints fake bills; D, the police, judges every bill: real or fake?", self.caption_at
        )
        self.turn = self.line("Each training step has two turns: first D learns, then G", self.turn_at, s.LABEL)
        self.play(FadeIn(self.title_block), FadeIn(self.g), FadeIn(self.d), FadeIn(self.bank), run_time=1.0)
        self.play(FadeIn(self.caption), FadeIn(self.turn), run_time=0.6)
        self.wait(1.2)

    def line(self, words: str, at: np.ndarray, size: float = s.BODY, readings: tuple[r.Reading, ...] = ()) -> c.Mobject:
        """A caption line whose left edge starts at ``at``, its numbers registered; shrunk to the safe width."""
        mob = s.text(words, size)
        width = s.safe_box()[1] - at[0]
        if mob.width > width:
            mob.scale_to_fit_width(width)
        if readings:
            r.claims(mob, *readings)
        return mob.move_to(at, aligned_edge=LEFT)

    def trace_panel(self, acc: Accuracy) -> None:
        self.footer = s.footer(self.total, name=self.run.name)
        self.trace = Trace(acc, self.total, self.footer.tracker)
        self.play(FadeIn(self.trace.still), FadeIn(self.footer.group), run_time=0.6)
        self.add(self.trace.live)

    def updaters_last(self) -> None:
        """Put the footer and the trace, which have updaters, last in the scene: on every frame manim redraws each
        mobject from the first one with an updater on, and draws those before it once per animation."""
        self.bring_to_front(self.footer.group, self.trace.live)

    def say(self, mob: c.Mobject, words: str, at: np.ndarray, size: float = s.BODY, readings: tuple = ()) -> list:
        """Animations that replace the caption ``mob`` with ``words`` (a fade, never a morph between texts)."""
        new = self.line(words, at, size, readings)
        if mob is self.caption:
            self.caption = new
        else:
            self.turn = new
        return s.swap(mob, new)

    def open_act(self, act: Act) -> None:
        """The act's caption, when the footer shows the step it speaks of (the counter beside it agrees)."""
        words = f"{act.number} · {act.caption}"
        self.play(*self.say(self.caption, words, self.caption_at, readings=act.readings), run_time=0.6)
        self.wait(0.8)

    def advance(self, step: int) -> None:
        """Both turns, over and over, from the footer's step to ``step``: the bills of snapshots in between pass D's
        desk at full size, each while the footer shows its step, and the accuracy trace grows with the footer."""
        now = int(round(self.footer.tracker.get_value()))
        if step <= now:
            return
        s_step, reading = step_claim(step)
        words = f"Both turns again and again, to step {s_step}"
        self.play(
            *self.g.rest(),
            *self.d.rest(),
            *self.say(self.turn, words, self.turn_at, s.LABEL, (reading,)),
            run_time=0.5,
        )
        between = [t for t in self.run.snapshot_steps() if now < t <= step]
        picks = np.unique(np.linspace(0, len(between) - 1, min(STREAM, len(between))).round().astype(int))
        lens = self.lens()
        shown: list[c.Mobject] = []
        for t in (between[i] for i in picks):
            snap = self.run.snapshot(t)
            bills = []
            for real in (False, True):
                bill = self.bill(snap, real)[0]
                end = bill.get_center()
                bill.scale(0.3).move_to(self.source(real))
                bills.append((bill, end))
            leave = [FadeOut(b, target_position=lens, scale=0.3) for b in shown]
            self.play(
                self.footer.tracker.animate.set_value(t),
                *(b.animate.scale(1 / 0.3).move_to(end) for b, end in bills),
                *leave,
                run_time=0.7,
            )
            shown = [b for b, _ in bills]
        self.play(*(FadeOut(b, target_position=lens, scale=0.3) for b in shown), run_time=0.4)

    def lens(self) -> np.ndarray:
        """Where D looks at bills: its magnifying glass."""
        return self.d.figure[2][-1][0].get_center()

    # -- the training cycle ------------------------------------------------------------------------------------------
    def d_turn(self, step: int) -> None:
        """G frozen, D learns: a fake from G and a real bill from the bank reach D, who gives its recorded scores."""
        words = "D's turn: G is frozen, D learns to tell them apart"
        self.play(
            *self.g.freeze(),
            *self.d.learn(),
            *self.trace.fade(DIM),
            *self.say(self.turn, words, self.turn_at, s.LABEL),
            run_time=0.6,
        )
        snap = self.run.snapshot(step)
        self.lanes = [self.lane(snap, real=False), self.lane(snap, real=True)]
        self.play(*(lane.arrive() for lane in self.lanes), run_time=1.0)
        self.updaters_last()
        lens = self.lens()
        looks = [Line(lane.bill.get_right(), lens, stroke_color=s.FORWARD_COLOR, stroke_width=5) for lane in self.lanes]
        self.play(*(ShowPassingFlash(line, time_width=0.6) for line in looks), run_time=0.6)
        self.play(*(FadeIn(lane.gauge) for lane in self.lanes), run_time=0.3)
        self.play(*(lane.gauge.tracker.animate.set_value(lane.needle) for lane in self.lanes), run_time=1.0)
        for lane in self.lanes:
            lane.gauge.hold()
        self.play(
            *(GrowFromCenter(lane.mark) for lane in self.lanes),
            *(lane.gauge.value.animate.set_opacity(1.0) for lane in self.lanes if lane.known),
            run_time=0.3,
        )
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
        start = fake.gauge.get_bottom() + DOWN * 0.08
        end = self.g.figure.get_right() + RIGHT * 0.12
        # deep enough to pass under the bill, and into G's side above its name
        arrow = ArcBetweenPoints(start, end, angle=-PI * 0.7, stroke_color=s.GRAD_COLOR, stroke_width=6)
        arrow.add_tip(tip_length=0.22)
        note = VGroup(s.text("gradient:", s.SMALL, s.GRAD_COLOR), s.text("look more real", s.SMALL, s.GRAD_COLOR))
        note.arrange(DOWN, buff=0.08, aligned_edge=LEFT)
        note.next_to(arrow, DOWN, buff=0.12)  # under the arc's lowest point, clear of G's name
        self.play(Create(arrow), FadeIn(note), run_time=0.8)
        self.play(ShowPassingFlash(arrow.copy().set_stroke(width=12), time_width=0.5), run_time=0.8)
        self.wait(0.4)
        self.play(FadeOut(fake.group), FadeOut(arrow), FadeOut(note), *self.trace.fade(1.0), run_time=0.4)

    def rules(self) -> None:
        """This run's own objective (its loss), each term in the colour of what it names on screen: the trace and the
        bank make room, D steps aside, and the formula takes the stage."""
        loss = c.loss_name(self.run)
        if loss not in OBJECTIVES:
            words = f"this run's loss, {loss}, is not drawn here"
            self.play(*self.g.rest(), *self.d.rest(), *self.say(self.turn, words, self.turn_at, s.LABEL), run_time=0.5)
            self.wait(1.5)
            return
        lines, words = objective(loss, float(self.run.config.get("real_label", 1.0)))
        rows = VGroup()
        for who, code in lines:
            colour = {"D": s.D_COLOR, "G": s.G_COLOR}.get(who, s.TEXT)
            rows.add(VGroup(s.text(who, s.LABEL, colour, weight="BOLD"), s.formula(code)))
        for row in rows:
            row.arrange(RIGHT, buff=0.35)
        rows.arrange(DOWN, buff=0.45, aligned_edge=LEFT)
        for row in rows[1:]:
            row[1].align_to(rows[0][1], LEFT)
        self.play(
            *self.g.rest(),
            *self.d.rest(),
            FadeOut(self.bank),
            FadeOut(self.trace.still),
            FadeOut(self.trace.live),
            *self.say(self.turn, words, self.turn_at, s.LABEL),
            run_time=0.8,
        )
        self.play(self.d.animate.shift(RIGHT * (4.9 - self.d.figure.get_center()[0])), run_time=0.6)
        # the beat's one idea, large, in the middle of the stage between G and D with room on both sides
        left, right = self.g.figure.get_right()[0] + 0.5, self.d.figure.get_left()[0] - 0.5
        rows.scale_to_fit_width(min(rows.width * 1.25, right - left))
        rows.move_to([(left + right) / 2, (FAKE_ROW + REAL_ROW) / 2, 0])
        self.play(FadeIn(rows, shift=UP * 0.2), run_time=1.0)
        self.wait(2.5)

    def bill(self, snap: c.Snapshot, real: bool) -> tuple[Bill, float, str, str]:
        """The bill of one lane at ``snap`` (at the desk), D's recorded score for it, the quantity that score is
        (scenes/readouts.py), and the bill's tag."""
        run = self.run
        samples, scores = (run.real, snap.d_real) if real else (snap.fake, snap.d_fake)
        array = SNAPSHOT.d_real if real else SNAPSHOT.d_fake
        colour, row = (s.REAL_COLOR, REAL_ROW) if real else (s.FAKE_COLOR, FAKE_ROW)
        if run.kind == "image":
            i = typical(scores)
            face, score, quantity = image_face(samples[i]), float(scores[i]), f"snapshot:{array}:item{i}"
            label = "x · real" if real else "G(z) · fake"
        else:
            k = POINTS_2D if run.kind == "toy2d" else POINTS_1D
            pick = spread(len(scores), k)
            draw = scatter_face if run.kind == "toy2d" else strip_face
            face, score = draw(samples[pick], scores[pick], self.box), mean_of(scores[pick])
            quantity = f"snapshot:{array}:spread{k}"
            label = f"x · {len(pick)} real" if real else f"G(z) · {len(pick)} fakes"
        return Bill(face, colour).move_to([BILL_X, row, 0]), score, quantity, label

    def source(self, real: bool) -> np.ndarray:
        """Where a bill comes from: the bank's door or G's hands."""
        return (self.bank[0] if real else self.g.figure).get_right()

    def lane(self, snap: c.Snapshot, real: bool) -> Lane:
        """One lane of D's desk at ``snap``: the bill, its tag, a gauge for D's score and the verdict mark."""
        bill, score, quantity, label = self.bill(snap, real)
        colour, row = (s.REAL_COLOR, REAL_ROW) if real else (s.FAKE_COLOR, FAKE_ROW)
        tag = r.constant(s.text(label, s.SMALL, colour)).next_to(bill, UP, buff=0.1)
        gauge = s.Gauge(0.5, radius=GAUGE_RADIUS).move_to([GAUGE_X, row, 0])
        # the number shows D's recorded score once the needle has swung to it, never a value on the way
        gauge.value.clear_updaters()
        s.show_value(gauge.value, score if np.isfinite(score) else 0.5)  # shown only if a number
        r.reads(gauge.value, quantity).set_opacity(0.0)
        mark = s.verdict_mark((score > 0.5) == real, 0.45) if np.isfinite(score) else s.text("no score", s.SMALL)
        mark.move_to([TICK_X, row, 0])
        return Lane(bill, tag, gauge, mark, score, self.source(real))


def typical(scores: np.ndarray) -> int:
    """The typical bill of an image run: the sample with D's median score (of the finite ones, if any)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if not len(finite):
        return len(scores) // 2
    return int(finite[np.argsort(scores[finite], kind="stable")[len(finite) // 2]])


def spread(n: int, k: int) -> np.ndarray:
    """The indices of ``k`` of ``n`` samples spread evenly through the batch (all of them when ``n <= k``): the
    samples on a toy bill, whose mean score its gauge shows (``snapshot:<array>:spread<k>``, scenes/readouts.py)."""
    return np.unique(np.linspace(0, n - 1, min(k, n)).round().astype(int))


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
    def known(self) -> bool:
        """D's score is a number (a NaN or infinite one gets no needle swing, no number and no verdict)."""
        return bool(np.isfinite(self.score))

    @property
    def needle(self) -> float:
        return self.score if self.known else 0.5

    @property
    def group(self) -> c.Group:
        return c.Group(self.bill, self.tag, self.gauge, self.mark)

    def arrive(self) -> Animation:
        """The bill travels from its source (G or the bank) to D's desk, growing as it comes."""
        end = self.bill.get_center()
        self.bill.scale(0.3).move_to(self.source)
        return AnimationGroup(self.bill.animate.scale(1 / 0.3).move_to(end), FadeIn(self.tag, shift=UP * 0.1))
