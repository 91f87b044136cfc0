"""Noise to image: G's samples on the fixed noise, morphing continuously through every snapshot of the run.

Each frame blends two consecutive snapshots pixel by pixel (toys: each point moves along its path from snapshot
to snapshot), and a stretch of the run gets screen time in proportion to how much the samples changed in it
(with a floor), so the few snapshots where noise turns into structure fill the screen and long stretches of
small refinements pass quickly. A timeline under the samples shows the phases (noise / structure / detail, from
the run's own samples: ``common.phase_steps``) and D's mean score on the fakes (averaged by the one rule of
scenes/readouts.py), with a cursor at the morph's step. The closing line names the steps where the phases begin, by
the phases' own measure (the share of the gap to the real samples closed), so the two can never disagree.

    GANVIZ_RUN=outputs/runs/<run> manim -ql scenes/morph.py
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Animation,
    Dot,
    FadeIn,
    FadeOut,
    Line,
    Rectangle,
    ValueTracker,
    VGroup,
    VMobject,
)

from pipeline.runformat import SNAPSHOT
from scenes import common as c
from scenes import readouts as R
from scenes import style as s
from scenes.readouts import Reading, claim, claims, constant, reads

#: the sample panels: centre height of the row, size of each panel (fake grid, close-up, real grid: all equal)
PANEL_Y = 0.42
PANEL = 3.15
GRID_CENTER = np.array([s.safe_box()[0] + PANEL / 2, PANEL_Y, 0.0])  # G's samples (tests read the frame here)
GRID_HEIGHT = PANEL
CLOSE_CENTER = np.array([0.0, PANEL_Y, 0.0])
REAL_CENTER = np.array([s.safe_box()[1] - PANEL / 2, PANEL_Y, 0.0])
N_SAMPLES = 16  # samples in each grid (the largest square the run has, up to this)
N_POINTS = 256  # toy samples drawn (of the fixed batch)
#: the timeline: D's mean score on the fakes over a strip, the phases on a thin band below it, their names under it
STRIP_TOP, STRIP_BOTTOM = -1.9, -2.6
BAND_TOP, BAND_BOTTOM = -2.7, -2.8
NAMES_Y = -2.95

#: screen time of the morph (seconds) and the least a stretch between two snapshots gets
MORPH_TIME = 16.0
MIN_SEGMENT = 0.05
PHASE_PAUSE = 0.6  # a beat when the samples enter a new phase


# -- what the morph walks through: the run's snapshots and the pace ---------------------------------------------
def pace(changes: np.ndarray, total: float = MORPH_TIME, minimum: float = MIN_SEGMENT) -> np.ndarray:
    """Seconds for each stretch between consecutive snapshots: a floor ``m`` each, and the rest of ``total`` in
    proportion to the *square* of how much the samples changed in that stretch. Squared, because a real run's
    long detail phase is many small changes that add up: in proportion to the change itself it still took two
    thirds of the morph on a 3,000-step digits run (noise 3.1 s, structure 1.9 s, detail 11 s of 16 s); squared,
    the big early changes get the screen (6.6 / 1.9 / 7.6 s). ``m`` is ``minimum``, lowered to a quarter of an
    even share for runs with very many snapshots, so the floor never eats the time the changes should get."""
    changes = np.asarray(changes, np.float64)
    n = len(changes)
    if n == 0:
        return np.zeros(0)
    finite = np.isfinite(changes)  # to or from samples that are not numbers: as large as the largest measured change
    changes = np.where(finite, changes, changes[finite].max() if finite.any() else 0.0)
    floor = min(minimum, 0.25 * total / n)
    weight = changes**2
    spent = weight.sum()
    share = weight / spent if spent > 0 else np.full(n, 1.0 / n)
    return floor + (total - n * floor) * share


def blend(a: np.ndarray, b: np.ndarray, f: float) -> np.ndarray:
    """``a`` and ``b`` mixed at fraction ``f`` (0: a, 1: b): images rounded back to uint8, points as floats."""
    mixed = (1.0 - f) * a.astype(np.float64) + f * b.astype(np.float64)
    return np.rint(mixed).clip(0, 255).astype(np.uint8) if a.dtype == np.uint8 else mixed


@dataclass(frozen=True)
class Morph:
    """Every readable snapshot's shown samples, and where the morph is at ``u`` (0 = first snapshot, K - 1 = the
    last; in between, the blend of the two snapshots around it)."""

    steps: np.ndarray  # (K,) snapshot steps
    samples: np.ndarray  # (K, n, ...) the samples shown: uint8 images or float points
    scores: np.ndarray  # (K, n) D's score for each of them
    phases: list[str]  # per snapshot: noise / structure / detail

    @classmethod
    def of(cls, run: c.Run, n: int) -> Morph:
        steps, samples, scores = [], [], []
        for snap in run.iter_snapshots(keys=(SNAPSHOT.fake, SNAPSHOT.d_fake)):
            steps.append(snap.step)
            samples.append(snap.fake[:n])
            scores.append(snap.d_fake[:n])
        phases = c.phase_steps(run, steps)
        return cls(np.array(steps), np.stack(samples), np.stack(scores), [phases[t] for t in steps])

    def phase_start(self, name: str) -> int | None:
        """The step of the first snapshot in phase ``name`` (None: the run never reached it): where its band begins,
        and the step the closing line names for it."""
        found = [int(t) for t, p in zip(self.steps, self.phases, strict=True) if p == name]
        return found[0] if found else None

    @cached_property
    def changes(self) -> np.ndarray:
        """How much the shown samples changed between consecutive snapshots: mean absolute pixel change
        (images, 0-255) or mean distance a point moved (toys)."""
        d = np.diff(self.samples.astype(np.float64), axis=0)
        if self.samples.dtype == np.uint8:
            return np.abs(d).reshape(len(d), -1).mean(1)
        return np.sqrt((d**2).sum(-1)).mean(1)

    @cached_property
    def durations(self) -> np.ndarray:
        return pace(self.changes)

    def split(self, u: float) -> tuple[int, float]:
        k = int(np.clip(np.floor(u), 0, max(len(self.steps) - 2, 0)))
        return k, float(np.clip(u - k, 0.0, 1.0)) if len(self.steps) > 1 else 0.0

    def at(self, u: float) -> np.ndarray:
        """The shown samples at ``u``."""
        k, f = self.split(u)
        return blend(self.samples[k], self.samples[min(k + 1, len(self.steps) - 1)], f)

    def score_at(self, u: float) -> np.ndarray:
        k, f = self.split(u)
        return (1 - f) * self.scores[k] + f * self.scores[min(k + 1, len(self.steps) - 1)]

    def step_at(self, u: float) -> float:
        return float(np.interp(u, np.arange(len(self.steps)), self.steps))

    def recorded(self, u: float) -> int:
        """The latest snapshot at or before the footer's step at ``u`` (the step rounded): the one whose recorded
        numbers are shown while the picture blends towards the next."""
        step = round(self.step_at(u))
        return max(int(np.searchsorted(self.steps, step + 1e-9, side="right")) - 1, 0)

    def phase_at(self, u: float) -> str:
        return self.phases[int(np.clip(np.floor(u + 1e-9), 0, len(self.steps) - 1))]

    def legs(self) -> list[tuple[int, int]]:
        """(first, last) snapshot index of each stretch that ends on entering a new phase (or the last snapshot)."""
        starts = [k for k in range(1, len(self.phases)) if self.phases[k] != self.phases[k - 1]]
        ends = [*starts, len(self.steps) - 1]
        return [(a, b) for a, b in zip([0, *starts], ends, strict=True) if b > a]


def paced(durations: np.ndarray) -> Callable[[float], float]:
    """A rate function for moving ``u`` across len(durations) snapshots: the i-th stretch takes ``durations[i]``
    of the play's time (time fraction -> fraction of the way from the first snapshot to the last)."""
    knots = np.concatenate([[0.0], np.cumsum(durations)])
    knots = knots / knots[-1] if knots[-1] > 0 else np.linspace(0, 1, len(knots))
    frac = np.linspace(0.0, 1.0, len(knots))
    return lambda t: float(np.interp(t, knots, frac))


# -- the views of the samples ----------------------------------------------------------------------------------
class Samples:
    """What the morph draws of G's samples for one kind of run: ``intro`` (shown first), ``closeup`` (one sample
    followed closely, shown with the timeline), and ``follow(u)`` (in each subclass), which installs the updaters
    that keep them at ``u``'s blend."""

    intro: c.Group
    closeup: c.Group
    marks: list[int]  # snapshots shown again in small panels once the morph reaches them (toys)

    def __init__(self, run: c.Run, morph: Morph):
        self.run, self.morph = run, morph
        self.marks = []


def favourite(morph: Morph) -> int:
    """The shown sample D scores highest at the end: the one the close-up follows."""
    return int(np.argmax(morph.scores[-1]))


class Images(Samples):
    """G's sample grid, one sample enlarged with its D score, and the real grid, all the same size."""

    def __init__(self, run: c.Run, morph: Morph):
        super().__init__(run, morph)
        n = len(morph.samples[0])
        self.side = int(np.sqrt(n))
        self.pick = favourite(morph)
        self.grid = c.picture(self.pixels(0.0), PANEL).move_to(GRID_CENTER)
        self.close = c.picture(c.to_rgb(morph.samples[0][self.pick]), PANEL).move_to(CLOSE_CENTER)
        real = c.picture(c.sample_grid(run.real, self.side**2), PANEL).move_to(REAL_CENTER)
        size = morph.samples.shape[2]
        cell = PANEL / (self.side * (size + 1) + 1) * size  # the tile's 1-pixel gaps, in scene units
        r, q = divmod(self.pick, self.side)
        corner = self.grid.get_corner(UP + LEFT) + PANEL / (self.side * (size + 1) + 1) * np.array([1, -1, 0])
        at = corner + (size + 1) * PANEL / (self.side * (size + 1) + 1) * np.array([q, -r, 0])
        box = Rectangle(width=cell, height=cell, stroke_color=s.TEXT, stroke_width=2.5)
        box.move_to(at + np.array([cell / 2, -cell / 2, 0]))
        frame = Rectangle(width=PANEL, height=PANEL, stroke_color=s.TEXT, stroke_width=2.5).move_to(self.close)
        zoom = VGroup(
            Line(box.get_corner(UP + RIGHT), frame.get_corner(UP + LEFT), stroke_color=s.MUTED, stroke_width=1.5),
            Line(box.get_corner(DOWN + RIGHT), frame.get_corner(DOWN + LEFT), stroke_color=s.MUTED, stroke_width=1.5),
        ).set_z_index(-1)  # behind the grid: the lines leave the picked cell's edge, not cross its neighbours
        self.score = reads(s.number(float(morph.scores[0][self.pick]), 2, s.LABEL), f"snapshot:d_fake:item{self.pick}")
        self.meter = s.score_meter(float(morph.scores[0][self.pick]))
        self.score_row = c.Group(s.text("D(G(z)) for it:", s.LABEL, s.MUTED), self.score, self.meter.group)
        self.score_row.arrange(RIGHT, buff=0.2).next_to(self.close, DOWN, buff=0.22)
        self.labels = VGroup(
            s.text("G's samples", s.LABEL, s.FAKE_COLOR).next_to(self.grid, UP, buff=0.15),
            s.text("one of them, enlarged", s.LABEL, s.FAKE_COLOR).next_to(self.close, UP, buff=0.15),
            s.text("real samples", s.LABEL, s.REAL_COLOR).next_to(real, UP, buff=0.15),
        )
        self.intro = c.Group(self.grid, real, self.labels[0], self.labels[2])
        self.closeup = c.Group(box, zoom, self.close, frame, self.labels[1], self.score_row)

    def pixels(self, u: float) -> np.ndarray:
        return c.sample_grid(self.morph.at(u), self.side**2)

    def follow(self, u: ValueTracker) -> None:
        def grid(m: c.Mobject) -> None:
            m.pixel_array[..., :3] = self.pixels(u.get_value())

        def close(m: c.Mobject) -> None:
            m.pixel_array[..., :3] = c.to_rgb(self.morph.at(u.get_value())[self.pick])

        def score(m: c.Mobject) -> None:
            value = float(self.morph.scores[self.morph.recorded(u.get_value())][self.pick])
            s.show_value(m, value)
            self.meter.tracker.set_value(value)  # before the meter's marker reads it: it comes later in the row

        self.grid.add_updater(grid)
        self.close.add_updater(close)
        self.score.add_updater(score)


#: toys: the big panel (left) and the milestones beside it (2 x 2 small panels, filled as the morph reaches them)
TOY_TOP, TOY_BOTTOM = 1.95, -1.55
TAIL = 0.3  # scene units


class Points(Samples):
    """Toys: G's points moving over the real ones in a big panel, and small copies of the panel at the milestones
    (the start, each phase's first snapshot, the end), filled in as the morph reaches them."""

    ROWS = 1  # rows of milestone panels

    def __init__(self, run: c.Run, morph: Morph):
        super().__init__(run, morph)
        self.marks = sorted({0, *(last for _, last in morph.legs())})
        left, right, _, _ = s.safe_box()
        height = TOY_TOP - TOY_BOTTOM
        width = self.big_width(height)
        self.big = self.panel(np.array([left + width / 2, (TOY_TOP + TOY_BOTTOM) / 2, 0]), width, height)
        x0, gap, caption = left + width + 0.7, 0.35, 0.65  # a two-line caption under each milestone panel
        cols = -(-len(self.marks) // self.ROWS)
        w = (right - x0 - gap * (cols - 1)) / cols
        h = (height - (self.ROWS - 1) * 0.2) / self.ROWS - caption
        centers = [
            np.array([x0 + (i % cols) * (w + gap) + w / 2, TOY_TOP - (i // cols) * (h + caption + 0.2) - h / 2, 0])
            for i in range(len(self.marks))
        ]
        self.captions: dict[int, VGroup] = {}  # snapshot -> its slot's 'step 240 / structure'
        self.slots = {}  # snapshot -> (its slot's frame, real samples and caption; G's samples, shown on reaching it)
        for k, center in zip(self.marks, centers, strict=True):
            frame, fake = self.panel(center, w, h, at=k, small=True)
            at, said = claim("snapshot:step", int(morph.steps[k]), "{:,.0f}", step=int(morph.steps[k]))
            words = VGroup(claims(s.text(f"step {at}", s.SMALL), said), s.text(morph.phases[k], s.SMALL, s.MUTED))
            words.arrange(DOWN, buff=0.08).next_to(frame, DOWN, buff=0.1).fade(1.0 - s.DIM)
            self.slots[k] = (c.Group(frame, words), fake)
            self.captions[k] = words
        self.lit: list[int] = []  # the milestones whose captions are lit (the others wait, or have had their beat)

    def milestone(self, k: int) -> list[c.Mobject]:
        """G's samples at snapshot ``k`` (one of ``marks``) in its slot."""
        return [self.slots[k][1]]

    def light(self, *marks: int) -> list[Animation]:
        """Light the captions of ``marks`` and dim those lit before: the beat's milestones stand out."""
        out = [*s.dim(*(self.captions[k] for k in self.lit if k not in marks))]
        out += s.undim(*(self.captions[k] for k in marks if k not in self.lit))
        self.lit = list(marks)
        return out


class Points2D(Points):
    """G's points over the real ones in the data plane, each with a short tail pointing to where it was one
    snapshot before (at most TAIL long: a big jump of the whole cloud draws a direction, not a curtain).

    Every panel is at equal aspect (a ring is drawn round in each) and fitted to every point shown at any snapshot
    (real and G's), so no point is ever held on a panel's edge."""

    def __init__(self, run: c.Run, morph: Morph):
        every = np.concatenate([run.real[:N_POINTS, :2], morph.samples.reshape(-1, morph.samples.shape[-1])[:, :2]])
        lo, hi = every.min(axis=0), every.max(axis=0)
        self.lo, self.hi = lo - (hi - lo) * 0.04, hi + (hi - lo) * 0.04
        super().__init__(run, morph)
        self.frame, box, real, self.fake = self.big
        self.tails = VMobject(stroke_color=s.FAKE_COLOR, stroke_width=1.5, stroke_opacity=0.45)
        top = box.get_top()[1] + 0.12
        legend = VGroup(s.text("G's samples", s.LABEL, s.FAKE_COLOR), s.text("real samples", s.LABEL, s.REAL_COLOR))
        legend.arrange(RIGHT, buff=0.4).move_to([box.get_left()[0], top, 0], aligned_edge=DOWN + LEFT)
        self.intro = c.Group(box, real, self.tails, self.fake, legend, *(still for still, _ in self.slots.values()))
        self.closeup = c.Group()
        self.draw(0.0)

    def big_width(self, height: float) -> float:
        """As wide as the data's shape asks for at this height (x stretched at most c.Frame.MAX_STRETCH times)."""
        frame = c.Frame.fit(self.lo, self.hi, np.zeros(3), 7.0, height, stretch=1.0)
        return float(frame.scale[0] * (self.hi[0] - self.lo[0]))

    def panel(self, center: np.ndarray, width: float, height: float, at: int = 0, small: bool = False) -> tuple:
        frame = c.Frame.fit(self.lo, self.hi, center, width, height, stretch=1.0)
        real = c.point_cloud(frame(self.run.real[:N_POINTS]), s.REAL_COLOR, 0.02 if small else 0.03, 0.75)
        fake = c.point_cloud(frame(self.morph.samples[at]), s.FAKE_COLOR, 0.022 if small else 0.035, 0.95)
        if small:
            return c.Group(frame.box(), real), fake
        return frame, frame.box(), real, fake

    def draw(self, u: float) -> None:
        now = self.frame(self.morph.at(u))
        c.place_dots(self.fake, now, 0.035)
        back = self.frame(self.morph.at(max(u - 1.0, 0.0))) - now  # towards where it was a snapshot before
        length = np.maximum(np.linalg.norm(back, axis=1, keepdims=True), 1e-9)
        ends = now + back * np.minimum(1.0, TAIL / length)
        a, b = now[:, None, :], ends[:, None, :]
        self.tails.points = np.concatenate([a, a + (b - a) / 3, a + 2 * (b - a) / 3, b], axis=1).reshape(-1, 3)

    def follow(self, u: ValueTracker) -> None:
        self.fake.add_updater(lambda _m: self.draw(u.get_value()))


class Points1D(Points):
    """G's samples against the real ones on one axis: a histogram over the real one, and a dot per sample (each
    keeps its row, so it can be seen travelling)."""

    BINS = 36
    ROWS = 2

    def big_width(self, height: float) -> float:
        return 6.4

    def __init__(self, run: c.Run, morph: Morph):
        values = np.concatenate([run.real.ravel(), morph.samples.ravel()])
        lo, hi = float(values.min()), float(values.max())  # every sample inside: none held on an edge
        pad = (hi - lo) * 0.06 + 1e-3
        self.edges = np.linspace(lo - pad, hi + pad, self.BINS + 1)
        self.peak = max(self.density(run.real.ravel()).max(), 1e-9)
        self.rows = np.random.default_rng(0).uniform(0.0, 1.0, morph.samples.shape[1])
        super().__init__(run, morph)
        self.place, box, real, self.bars, self.dots = self.big
        ticks = s.nice_ticks(float(self.edges[0]), float(self.edges[-1]), 6)
        numbers = VGroup(*(constant(s.text(f"{t:g}", s.SMALL, s.MUTED)) for t in ticks))
        for t, word in zip(ticks, numbers, strict=True):
            word.next_to([self.place.x(t), box.get_bottom()[1], 0], DOWN, buff=0.1)
        top = box.get_top()[1] + 0.12
        legend = VGroup(s.text("G's samples", s.LABEL, s.FAKE_COLOR), s.text("real samples", s.LABEL, s.REAL_COLOR))
        legend.arrange(RIGHT, buff=0.4).move_to([box.get_left()[0], top, 0], aligned_edge=DOWN + LEFT)
        stills = (still for still, _ in self.slots.values())
        self.intro = c.Group(box, real, self.bars, self.dots, numbers, legend, *stills)
        self.closeup = c.Group()

    def density(self, values: np.ndarray) -> np.ndarray:
        return np.histogram(values, bins=self.edges, density=True)[0]

    def panel(self, center: np.ndarray, width: float, height: float, at: int = 0, small: bool = False) -> tuple:
        place = c.Strip(self.edges, center, width, height - (0.0 if small else 0.4))
        box = Rectangle(width=width, height=place.height, stroke_color=s.MUTED, stroke_width=1).move_to(place.center)
        real = place.stairs(self.density(self.run.real.ravel()) / self.peak).set_stroke(s.REAL_COLOR, 2)
        real.set_fill(s.REAL_COLOR, 0.12)
        bars = place.stairs(self.density(self.morph.samples[at].ravel()) / self.peak)
        bars.set_stroke(width=0).set_fill(s.FAKE_COLOR, 0.7)
        dots = c.point_cloud(place.dots(self.morph.samples[at].ravel(), self.rows), s.FAKE_COLOR, 0.03, 0.9)
        if small:
            return c.Group(box, real), c.Group(bars, dots)
        return place, box, real, bars, dots

    def draw(self, u: float) -> None:
        values = self.morph.at(u).ravel()
        self.place.set_stairs(self.bars, self.density(values) / self.peak)
        c.place_dots(self.dots, self.place.dots(values, self.rows), 0.03)

    def follow(self, u: ValueTracker) -> None:
        self.bars.add_updater(lambda _m: self.draw(u.get_value()))


VIEWS: dict[str, type[Samples]] = {"image": Images, "toy2d": Points2D, "toy1d": Points1D}


def shown(run: c.Run) -> int:
    """How many of the fixed samples the morph shows: a square grid of up to N_SAMPLES images, or N_POINTS points."""
    if run.kind != "image":
        return N_POINTS
    return int(np.sqrt(min(N_SAMPLES, len(run.fixed.noise)))) ** 2


# -- the timeline -------------------------------------------------------------------------------------------
class Timeline:
    """Steps from 0 to the run's last along the footer's progress bar: D's mean score on the fakes (metrics, averaged
    by readouts' one rule), the phase bands (from the snapshots) with their names under them, and a cursor at the
    morph's step (through the strip and the bands, never through a name)."""

    def __init__(self, run: c.Run, morph: Morph, track: Rectangle):
        self.x0, self.x1 = track.get_left()[0], track.get_right()[0]
        self.last = max(int(morph.steps[-1]), 1)
        self.width = R.window(run)
        steps, score = R.series(run, "d_fake", self.width)
        steps = steps.astype(np.float64)
        ok = np.isfinite(score) & (steps <= self.last)
        self.score_steps, self.scores = steps[ok], score[ok]
        pts = self.curve_points(self.score_steps, self.scores)
        self.faint = VMobject(stroke_color=s.FAKE_COLOR, stroke_width=2, stroke_opacity=0.3)
        self.faint.set_points_as_corners(pts if len(pts) > 1 else np.zeros((2, 3)))
        self.pts = pts if len(pts) else np.zeros((1, 3))
        self.bright = VMobject(stroke_color=s.FAKE_COLOR, stroke_width=3)
        self.bright.set_points_as_corners(np.repeat(self.pts[:1], 2, axis=0))  # has points before its updater runs
        half = Line([self.x0, self.y(0.5), 0], [self.x1, self.y(0.5), 0], stroke_color=s.MUTED, stroke_width=1.2)
        half = half.set_stroke(opacity=0.8)
        frame = Rectangle(width=self.x1 - self.x0, height=STRIP_TOP - STRIP_BOTTOM, stroke_color=s.MUTED)
        frame.set_stroke(width=1, opacity=0.5).move_to([(self.x0 + self.x1) / 2, (STRIP_TOP + STRIP_BOTTOM) / 2, 0])
        left = s.safe_box()[0]
        first = self.score_at(0)
        self.value = reads(s.number(first if np.isfinite(first) else 0.0, 2, s.SMALL, s.FAKE_COLOR), "metric:d_fake")
        self.value.readings = (Reading("metric:d_fake", average=self.width),)
        self.value.set_fill(opacity=1.0 if np.isfinite(first) else 0.0)
        name = VGroup(
            s.text("mean D(G(z))", s.SMALL, s.FAKE_COLOR),
            self.value,
            constant(s.text(R.average_words(self.width), s.SMALL, s.MUTED)),
        )
        name.arrange(DOWN, buff=0.06, aligned_edge=LEFT).move_to([left, (STRIP_TOP + STRIP_BOTTOM) / 2, 0], LEFT)
        # the 0.5 line is named at its right end: the left of the strip holds the score's name
        half_label = constant(s.text("0.5", s.SMALL, s.MUTED)).next_to([self.x1, self.y(0.5), 0], RIGHT, buff=0.12)
        self.bands, self.names = self.phase_bands(morph)
        phase = s.text("phase", s.SMALL, s.MUTED).move_to([left, NAMES_Y, 0], aligned_edge=LEFT)
        self.cursor = Line([0, STRIP_TOP + 0.08, 0], [0, BAND_BOTTOM, 0], stroke_color=s.TEXT, stroke_width=2)
        self.tip = Dot(radius=0.06, color=s.FAKE_COLOR)
        self.group = VGroup(frame, half, half_label, self.faint, self.bright, name, self.bands, self.names, phase)
        self.group.add(self.cursor, self.tip)

    def x(self, step: float) -> float:
        return self.x0 + (self.x1 - self.x0) * float(np.clip(step / self.last, 0.0, 1.0))

    def y(self, score: float) -> float:
        return STRIP_BOTTOM + (STRIP_TOP - STRIP_BOTTOM) * float(np.clip(score, 0.0, 1.0))

    def curve_points(self, steps: np.ndarray, values: np.ndarray) -> np.ndarray:
        if len(steps) > 400:
            idx = np.unique(np.linspace(0, len(steps) - 1, 400).round().astype(int))
            steps, values = steps[idx], values[idx]
        return np.array([[self.x(a), self.y(b), 0.0] for a, b in zip(steps, values, strict=True)]).reshape(-1, 3)

    def score_at(self, step: float) -> float:
        """The averaged score at the footer's step (``step`` rounded): NaN before the first logged step."""
        return R.at(self.score_steps, self.scores, round(step)) if len(self.scores) else float("nan")

    def height_at(self, step: float) -> float:
        """Where the drawn curve is at ``step`` (the tip's height; at the first logged step until it starts)."""
        if not len(self.scores):
            return 0.5
        return float(np.interp(step, self.score_steps, self.scores))

    def phase_bands(self, morph: Morph) -> tuple[VGroup, VGroup]:
        """One band per phase the run went through, from the snapshot that entered it to the next phase's (fill
        only, a hair apart: no outline for the cursor's names to be crossed by), and the names under them: each
        centred under its band, pushed apart where they would touch, kept inside the timeline."""
        runs: list[tuple[str, int, int]] = []
        for k, name in enumerate(morph.phases):
            if runs and runs[-1][0] == name:
                runs[-1] = (name, runs[-1][1], k)
            else:
                runs.append((name, k, k))
        shades = {"noise": 0.18, "structure": 0.4, "detail": 0.7}
        bands, words = VGroup(), VGroup()
        for i, (name, a, _) in enumerate(runs):
            end = runs[i + 1][1] if i + 1 < len(runs) else len(morph.steps) - 1
            x0, x1 = self.x(morph.steps[a]), self.x(morph.steps[end])
            gap = 0.02 if i + 1 < len(runs) else 0.0
            band = Rectangle(width=max(x1 - x0 - gap, 0.01), height=BAND_TOP - BAND_BOTTOM, stroke_width=0)
            band.set_fill(s.FAKE_COLOR, shades[name])
            bands.add(band.move_to([x0 + max(x1 - x0 - gap, 0.01) / 2, (BAND_TOP + BAND_BOTTOM) / 2, 0]))
            words.add(s.text(name, s.SMALL, s.MUTED))
        wanted = [band.get_center()[0] for band in bands]
        xs = s.spread(wanted, 0.3, [word.width for word in words])
        shift = max(0.0, self.x0 - (xs[0] - words[0].width / 2)) if xs else 0.0
        shift = shift or (min(0.0, self.x1 - (xs[-1] + words[-1].width / 2)) if xs else 0.0)
        for word, x in zip(words, xs, strict=True):
            word.move_to([x + shift, NAMES_Y, 0])
        self.band_names = [name for name, _, _ in runs]
        return bands, words

    def follow(self, step: Callable[[], float], phase: Callable[[], str]) -> None:
        def cursor(m: Line) -> None:
            m.move_to([self.x(step()), m.get_center()[1], 0])

        def bright(m: VMobject) -> None:
            n = int(np.searchsorted(self.pts[:, 0], self.x(step()), side="right"))
            m.set_points_as_corners(self.pts[:n] if n >= 2 else np.repeat(self.pts[:1], 2, axis=0))

        def names(m: VGroup) -> None:
            for word, name in zip(m, self.band_names, strict=True):
                word.set_color(s.TEXT if name == phase() else s.MUTED)

        self.cursor.add_updater(cursor)
        self.bright.add_updater(bright)
        self.tip.add_updater(lambda m: m.move_to([self.x(step()), self.y(self.height_at(step())), 0]))

        def value(m: c.Mobject) -> None:  # nothing is known before the first logged step: no 'nan' on screen
            known = np.isfinite(self.score_at(step()))
            s.show_value(m, self.score_at(step()) if known else 0.0)
            m.set_fill(opacity=1.0 if known else 0.0)

        self.value.add_updater(value)
        self.names.add_updater(names)


# -- the scene --------------------------------------------------------------------------------------------------
class NoiseToImage(c.RunScene):
    """G's samples on the fixed noise from step 0 to the end, through every snapshot, paced by their change."""

    data_area = ((float(GRID_CENTER[0]), float(GRID_CENTER[1])), GRID_HEIGHT, GRID_HEIGHT)

    def construct(self) -> None:
        self.next_section("the-question")  # each act is a slide of `ganviz lecture` (manim's sections)
        self.build()
        self.play(FadeIn(self.heading), FadeIn(self.foot.group), FadeIn(self.view.intro), run_time=1.0)
        self.play(FadeIn(self.timeline.group), FadeIn(self.view.closeup), run_time=0.8)
        self.beat(0)
        self.next_section("the-morph")
        for first, last in self.walk.legs():
            self.morph(first, last)
            self.beat(last)
        self.next_section("the-answer")
        self.play(FadeOut(self.heading), run_time=0.5)  # the question leaves, then its answer comes: never a morph
        self.play(FadeIn(self.verdict()), *self.cited(), run_time=0.8)
        self.wait(2.5)

    def build(self) -> None:
        """Everything drawn from the run, following ``self.u`` (where the morph is: a snapshot index, fractional
        between two), which also drives the footer's step counter."""
        run = self.run
        self.walk = Morph.of(run, shown(run))
        self.u = ValueTracker(0)
        self.foot = s.footer(int(self.walk.steps[-1]), name=run.name)
        self.foot.tracker.add_updater(lambda t: t.set_value(self.walk.step_at(self.u.get_value())))
        self.view, self.timeline = VIEWS[run.kind](run, self.walk), Timeline(run, self.walk, self.foot.track)
        self.view.follow(self.u)
        self.timeline.follow(
            lambda: self.walk.step_at(self.u.get_value()), lambda: self.walk.phase_at(self.u.get_value())
        )
        self.heading = self.title(run)
        self.add(self.u, self.foot.tracker)

    def title(self, run: c.Run) -> VGroup:
        what = "images" if run.kind == "image" else "points onto the data"
        question = f"How does G turn noise into {what}?" if run.kind == "image" else f"How does G move its {what}?"
        left, right, _, _ = s.safe_box()
        sub = f"{s.about(run.config)} · G(z) for the same z throughout"
        if s.text(sub, s.LABEL).width > right - left:  # a long data name: the run in words first
            sub = s.about(run.config)
        heading = s.title(question, sub)
        constant(heading[1])  # digits in the data's name ('a 1-D Gaussian') are words
        return heading

    def morph(self, first: int, last: int) -> None:
        """From snapshot ``first`` to ``last``, each stretch taking its paced share of the time."""
        durations = self.walk.durations[first:last]
        self.play(self.u.animate(rate_func=paced(durations)).set_value(last), run_time=float(durations.sum()))

    def beat(self, k: int) -> None:
        """A pause at snapshot ``k`` (the start, or the first snapshot of a phase): toys copy it into its slot."""
        if k in self.view.marks:
            lit = self.view.light(k) if isinstance(self.view, Points) else []
            self.play(FadeIn(*self.view.milestone(k), shift=DOWN * 0.1), *lit, run_time=PHASE_PAUSE)
        else:
            self.wait(PHASE_PAUSE)

    def cited(self) -> list[Animation]:
        """Toys: the milestones the verdict names (where 'structure' and 'detail' begin) lit, the others dim."""
        if not isinstance(self.view, Points):
            return []
        starts = [self.walk.phase_start(name) for name in c.PHASES[1:]]
        return self.view.light(*(k for k in self.view.marks if int(self.walk.steps[k]) in starts))

    def verdict(self) -> c.Mobject:
        """What the phases measured, in the run's numbers: the steps where 'structure' and 'detail' begin (the
        bands' edges), by the same measure that drew them, the share of the gap to the real samples closed."""
        starts = {name: self.walk.phase_start(name) for name in c.PHASES[1:]}
        said: list[Reading] = []

        def at(name: str) -> str:
            shown, reading = claim(f"phase:{name}", float(starts[name]), "{:,.0f}")
            said.append(reading)
            return shown

        most = f"{c.PHASE_SHARES[1]:.0%}"
        if starts["structure"] is None:
            lines = ["G's samples never closed a quarter of their gap to the real samples:", "they stayed noise."]
        elif starts["detail"] is None:
            lines = [
                f"G's samples closed half their gap to the real samples by step {at('structure')}:",
                "there 'structure' begins on the timeline below.",
            ]
        else:
            lines = [
                f"G's samples closed half their gap to the real samples by step {at('structure')},",
                f"{most} of it by step {at('detail')}: there 'structure' and 'detail' begin below.",
            ]
        left, right, _, top = s.safe_box()
        size = s.BODY if max(s.text(words, s.BODY).width for words in lines) <= right - left else s.LABEL
        rows = VGroup(*(s.text(words, size) for words in lines)).arrange(DOWN, buff=0.12, aligned_edge=LEFT)
        line = claims(rows, *said)
        return line.move_to([left, top, 0], aligned_edge=UP + LEFT)
