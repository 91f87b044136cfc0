"""Mode collapse, shown from real runs: does G cover every mode of the data, or does it settle on a few?

8-Gaussians runs: G's samples move over the eight modes through the run, on D's score field, while the run's own
measures (evals.jsonl, ``modes_captured``: a mode counts when a high-quality sample, within 3 std of it, is
nearest to it) light up the modes G has captured, count them and split *all* of G's measured samples into the
eight modes and the rest, off every mode. Digit runs: which digits G draws, from the digits classifier's verdicts
on G's samples (``classes``: ``recognised`` per digit, the rest ``unrecognised``), beside G's samples. Every share
is drawn on one log axis with the capture rule (at least one sample) marked on it, so the viewer sees why a mode
counts. ``--compare``: two runs side by side on the same axis, closing on how they differ. The measures are read,
never computed here: the scene shows what the run recorded (scenes/readouts.py names each number).

    GANVIZ_RUN=outputs/runs/<8-Gaussians or digits run> manim -ql scenes/mode_collapse.py
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Circle,
    DashedLine,
    FadeIn,
    FadeOut,
    Group,
    Line,
    Mobject,
    Rectangle,
    ValueTracker,
    VGroup,
    VMobject,
    linear,
)

from ganviz.format import DIGIT_DATASETS
from pipeline.run import EvalSeries, Run
from scenes import common as c
from scenes import style as s
from scenes.readouts import OTHER, RUN, Reading, claim, claims, constant, eval_part, reads

MODES, DIGITS = 8, 10
SECONDS = 11.0  # the run, from the first shown snapshot to the last
MAX_FRAMES = 41  # snapshots G's samples pass through (spread over the run)
MAX_POINTS = 300  # of G's samples on the fixed noise: enough to see where the mass is, cheap to redraw every frame
MAP_SIZE, DIGITS_SIZE, COMPARED_SIZE = 4.0, 3.6, 2.8  # the picture's side, alone on screen and side by side
DOT = 0.035  # radius of one of G's samples on the map
MARK = 0.075  # size of the marker on the map's edge for a sample off it
#: a mode's ring on the map (colour, width, opacity): bold where G's samples capture it, faint where they miss it
CAPTURED, MISSED = (s.REAL_COLOR, 5, 1.0), (s.MUTED, 1.5, 0.7)
HOP_LOSSES = 2  # measurements at which G lost a mode it held before: this many or more and G "hops"
#: "G covers all 8 modes" needs at most this share of G's samples off the modes (real data: 1.1 % lie farther than
#: 3 std from their mode); above it, G only *reaches* them
COVER_OFF = 0.10
#: digits: "not digits yet" above this share of unrecognised samples; a clause on the unrecognised share above
#: ROUGH (the embedded real digits held out from the classifier: 14 % unrecognised, docs/mode-collapse.md)
NOT_YET, ROUGH = 0.9, 0.25
ROWS_HEIGHT = 2.6  # the rows of the modes (digits) and the rest, alone on screen: each row 70 % of its share
HISTORY_WIDTH = 1.3  # the strip of the run beside each row
DECADES = 4  # the share axis: from a tenth of one sample of the measured ones to all of them (log scale)
PERCENT_W = 1.2  # room for "100.0 %" right of a bar


@dataclass(frozen=True)
class Kind:
    """What a kind of run counts (modes or digits), and the names of its quantities (scenes/readouts.py)."""

    total: int
    measure: str
    noun: str  # '5 of 8 <noun>'
    count: str  # the quantity of the counter
    share: str  # the quantity of one mode's (digit's) share of all samples, with {k}
    rest: str  # the quantity of the share in no mode (digit)
    rest_name: str  # the rest's row
    rule: str  # the capture line's legend
    rest_rule: str  # what the rest is
    held_key: str  # the list of the row whose entries above 0 are the modes (digits) held


TOY = Kind(
    MODES,
    "modes_captured",
    "modes captured",
    "eval:modes_captured",
    "eval:modes_captured:share{k}",
    "eval:modes_captured:share_off",
    "off",
    "captured: ≥ 1 sample within 3 std",
    "off: within 3 std of no mode",
    "counts",
)
DIGIT = Kind(
    DIGITS,
    "classes",
    "digits G draws",
    "eval:classes:present_recognised",
    "eval:classes:share_recognised{k}",
    "eval:classes:share_unrecognised",
    "none",
    "drawn: ≥ 1 sample recognised as it",
    "none: recognised as no digit",
    "recognised",
)


def kind_of(run: Run) -> Kind:
    return TOY if run.kind == "toy2d" else DIGIT


def part(quantity: str) -> str:
    """The part of an ``eval:<measure>:<part>`` quantity ('' for the measure's value)."""
    return quantity.split(":", 2)[2] if quantity.count(":") == 2 else ""


def measure(run: Run) -> EvalSeries | None:
    """The series this scene draws: modes captured (8-Gaussians runs) or the digits G draws (digit runs)."""
    if run.kind == "toy2d":
        return run.evals.get("modes_captured")
    return run.evals.get("classes", "digits")


def mode_centres(run: Run) -> np.ndarray:
    """The eight modes' centres, where the data is: the mean of the run's real batch at each of the eight angles
    (k x 45 degrees counter-clockwise from the x axis, the order of evals.jsonl's ``counts``)."""
    real = np.asarray(run.real, np.float64)[:, :2]
    k = np.round(np.arctan2(real[:, 1], real[:, 0]) / (2 * np.pi / MODES)).astype(int) % MODES
    return np.stack([real[k == i].mean(0) if (k == i).any() else np.full(2, np.nan) for i in range(MODES)])


def held_in(row: dict[str, Any], kind: Kind) -> frozenset[int] | None:
    """The modes (digits) a measurement counts as held (a count above 0); None for a digits row recorded before
    ``recognised`` existed (which samples are digits at all is unknown there)."""
    items = row.get(kind.held_key)
    return None if items is None else frozenset(int(i) for i in np.flatnonzero(np.asarray(items) > 0))


def held(series: EvalSeries, kind: Kind = TOY) -> list[frozenset[int]]:
    """The modes (digits) held at each measurement (none where unknown)."""
    return [held_in(r, kind) or frozenset() for r in series.rows]


def rows_upto(series: EvalSeries, step: int | None) -> list[dict[str, Any]]:
    """The measurements at or before ``step`` (all of them for None; at least the first)."""
    if step is None:
        return list(series.rows)
    return list(series.rows[: max(int(np.searchsorted(series.steps, step, side="right")), 1)])


def listed(items: list[int]) -> str:
    """1, 4 and 7."""
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


@dataclass(frozen=True)
class Said:
    """A closing line and the numbers it states (scenes/readouts.py: ``claims``)."""

    words: str
    readings: tuple[Reading, ...] = ()


def verdict(run: Run, series: EvalSeries, step: int | None = None, who: str = RUN, named: int | None = None) -> Said:
    """What the run did, from its own measures at its last measurement up to ``step`` (docs/scenes.md): how many
    modes (digits) it ends on, whether it hopped, and how many of its samples lie off every mode (are no digit).
    ``who``: the run the readings are of; ``named``: the step they are at where it is not the footer's (a compared
    run names its own step)."""
    where: dict[str, Any] = {"run": who, "step": named}
    rows = rows_upto(series, step)
    last, kind = rows[-1], kind_of(run)
    if run.kind == "image":
        return digits_verdict(run, series, rows, where)
    sets = [held_in(r, kind) or frozenset() for r in rows]
    end, missing = len(sets[-1]), sorted(set(range(MODES)) - sets[-1])
    n, count = claim(kind.count, end, **where)
    off_value = eval_part(last, part(kind.rest))
    off, off_reading = claim(kind.rest, off_value, "{:.1f}", scale=100, **where)
    lost = sum(1 for a, b in zip(sets, sets[1:], strict=False) if a - b)
    if end == MODES and off_value <= COVER_OFF:
        return Said("G covers all 8 modes", (count,))
    if end == MODES:
        return Said(f"G reaches all 8 modes, but {off} % of its samples lie off them", (count, off_reading))
    if lost >= HOP_LOSSES and max(map(len, sets)) <= MODES // 2:
        return Said(f"G hops between modes, ending on {n} of 8", (count,))
    if end == 0:
        return Said("G has lost every mode it held" if any(sets) else "G has not captured any mode yet")
    if end == 1:
        return Said(f"G has collapsed onto {n} mode", (count,))
    if end <= MODES // 2:
        return Said(f"G has collapsed onto {n} of 8 modes", (count,))
    words = f"G covers {n} of 8 modes, missing mode{'s' if len(missing) > 1 else ''} {listed([k + 1 for k in missing])}"
    if off_value > COVER_OFF:
        return Said(f"{words}; {off} % of its samples lie off every mode", (count, off_reading))
    return Said(words, (count,))


def digits_verdict(run: Run, series: EvalSeries, rows: list[dict[str, Any]], where: dict[str, Any]) -> Said:
    """Digit runs: the digits G ends drawing, and how many of its samples are no recognisable digit. A run recorded
    before ``recognised`` existed: the classifier's verdicts (noise included), unless precision says no digits yet."""
    last, kind = rows[-1], DIGIT
    drawn = held_in(last, kind)
    if drawn is None:  # an older run: counts are the classifier's verdicts on every sample
        precision = run.evals.get("precision", series.space)
        step = int(last["step"])
        if precision is not None and len(precision.steps):
            value = float(precision.values[max(int(np.searchsorted(precision.steps, step, side="right")) - 1, 0)])
            if value < 0.1:
                shown, r = claim("eval:precision", value, "{:.2f}", **where)
                return Said(f"G's samples are not digits yet (precision {shown})", (r,))
        drawn = frozenset(int(i) for i in np.flatnonzero(np.asarray(last["counts"]) > 0))
        n, count = claim("eval:classes", len(drawn), **where)
    else:
        n, count = claim(kind.count, len(drawn), **where)
    none_value = eval_part(last, part(kind.rest))
    none, none_reading = claim(kind.rest, none_value, "{:.1f}", scale=100, **where)
    if np.isfinite(none_value) and none_value > NOT_YET:
        return Said(f"G's samples are not digits yet: {none} % are recognised as no digit", (none_reading,))
    missing = sorted(set(range(DIGITS)) - drawn)
    if not missing:
        words = "G ends drawing all ten digits"
    elif len(missing) <= DIGITS // 2 or not drawn:
        words = f"G ends drawing {n} of 10 digits: no {listed(missing)}"
    else:  # name the shorter list
        words = f"G ends drawing {n} of 10 digits: only {listed(sorted(drawn))}"
    said = (count,) if missing else ()
    if np.isfinite(none_value) and none_value > ROUGH:
        return Said(
            f"{words}, {'but' if not missing else 'and'} {none} % of its samples are recognised as no digit",
            (*said, none_reading),
        )
    return Said(words, said)


def contrast(runs: list[Run], series: list[EvalSeries], names: list[str], steps: list[int]) -> Said:
    """The closing line of a comparison, from the two runs' last measurements up to their last shown steps."""
    kind = kind_of(runs[0])
    what = "modes" if kind is TOY else "digits"
    ends = []
    for x in series:
        got = held_in(rows_upto(x, None)[-1], kind)
        ends.append(len(got) if got is not None else int(x.values[-1]))
    quantity = [kind.count if held_in(x.rows[-1], kind) is not None else f"eval:{kind.measure}" for x in series]
    a, ra = claim(quantity[0], ends[0], run=RUN)
    b, rb = claim(quantity[1], ends[1], run=OTHER, step=steps[1])
    if ends[0] == ends[1]:
        return Said(f"Both runs end with {a} of {kind.total} {what}", (ra, rb))
    return Said(f"At the end: {names[0]} {a} of {kind.total} {what}, {names[1]} {b}", (ra, rb))


class Timeline:
    """One tracker from 0 to 1 over a run's shown snapshots: the step it stands for, where between two snapshots
    it is, and which measurement is in force (the last one at or before the step)."""

    def __init__(self, steps: list[int]):
        self.steps, self.tracker = np.asarray(steps, np.float64), ValueTracker(0.0)
        #: the snapshot step the footer and the measures show: set by ``View.refresh`` between animations, so that
        #: the footer never runs a frame ahead of the measures (which are drawn once per stretch, not every frame)
        self.shown = int(self.steps[0])

    def position(self) -> tuple[int, float]:
        """(snapshot index k, fraction f in [0, 1] of the way to snapshot k + 1)."""
        if len(self.steps) == 1:
            return 0, 0.0
        x = float(np.clip(self.tracker.get_value(), 0.0, 1.0)) * (len(self.steps) - 1)
        k = min(int(x), len(self.steps) - 2)
        return k, x - k

    def step(self) -> int:
        k, f = self.position()
        return int(round(self.steps[k] + f * (self.steps[min(k + 1, len(self.steps) - 1)] - self.steps[k])))

    def snapshot(self) -> int:
        """The step of the last shown snapshot reached: what the footer counts and the measures in force follow
        (they change once per snapshot, not every frame: the sweep redraws them between snapshots only)."""
        k, f = self.position()
        return int(self.steps[min(k + (1 if f > 1 - 1e-9 else 0), len(self.steps) - 1)])

    def blend(self, frames: list[np.ndarray]) -> np.ndarray:
        k, f = self.position()
        return frames[k] if f == 0 else (1 - f) * frames[k] + f * frames[k + 1]

    def row(self, series: EvalSeries) -> int:
        """The measurement in force at the footer's step: the last one at or before it."""
        return max(int(np.searchsorted(series.steps, self.shown, side="right")) - 1, 0)

    def current(self, series: EvalSeries) -> dict[str, Any]:
        return series.rows[self.row(series)]


@dataclass
class Panel:
    """One run's part of the screen: what fades in, what is said at the end, and the tracker that drives it."""

    group: Group
    closing: VGroup
    timeline: Timeline
    view: View


class ModeCollapse(c.RunScene):
    """Where G puts its samples over training, against the modes (or digits) the data has."""

    compares = True

    kinds = ("toy2d", "image")
    foot: s.Footer | None = None

    @classmethod
    def cannot_draw(cls, run: Run) -> str | None:
        reason = super().cannot_draw(run)
        if reason is not None or measure(run) is not None:
            return reason
        name = cls.__name__
        if run.kind == "toy2d" and run.config.get("dataset") != "8gaussians":
            return (
                f"scene {name} needs an 8-Gaussians run, but {run.name} is trained on {run.config.get('dataset')}; "
                "train one with 'ganviz train toy-8gaussians'"
            )
        if run.kind == "image" and run.config.get("dataset") not in DIGIT_DATASETS:
            return (
                f"scene {name} draws 8-Gaussians runs and digit runs (a classifier says which digit G draws); "
                f"{run.name} is neither (e.g. 'ganviz train dcgan-digits')"
            )
        return (
            f"scene {name} needs the run's quality measures, which {run.name} did not record: run "
            f"'ganviz eval {run.path}'{' --space digits' if run.kind == 'image' else ''} or train with "
            "'--set eval_every=N' (ganviz's trainer), or record your own loop with "
            f"Recorder(..., measure={'digits' if run.kind == 'image' else '8gaussians'!r})"
        )

    def construct(self) -> None:
        runs = [self.run, *([self.other_run] if self.other_run is not None else [])]
        self.check_compare(runs)
        series = [measure(r) for r in runs]
        names = run_names(runs)
        what = "all eight modes" if self.run.kind == "toy2d" else "all ten digits"
        head = s.title(f"Does G cover {what}?", s.about(self.run.config) if len(runs) == 1 else None)
        floor = min(1.0 / (x.n_fake or 1000) for x in series if x is not None) / 10
        panels = [self.panel(r, x, i, len(runs), floor) for i, (r, x) in enumerate(zip(runs, series, strict=True))]
        foot = self.footer(runs, panels[0].timeline)
        if foot is None:  # side by side: the key of both runs' bars across the bottom, where a footer would be
            left, _, bottom, _ = s.safe_box()
            off = any(getattr(p.view, "leaves_map", False) for p in panels)
            foot_group = panels[0].view.key(0.0, across=True, off_map=off)
            foot_group.move_to([left, bottom, 0], aligned_edge=DOWN + LEFT)
        else:
            foot_group = foot.group
        self.next_section("the-question")  # each act is a slide of `ganviz lecture` (manim's sections)
        self.play(FadeIn(head), FadeIn(foot_group), run_time=0.6)
        self.play(*(FadeIn(p.group) for p in panels), run_time=0.8)
        self.static_first(head, *(p.group for p in panels), foot_group)
        self.wait(0.4)
        self.next_section("the-run")
        self.sweep(panels)
        self.next_section("the-finding")
        closing: list[Mobject] = [p.closing for p in panels]
        if len(runs) > 1:  # the contrast of the two takes the title's place, each run's line under its panel
            steps = [p.timeline.shown for p in panels]
            closing.append(self.contrast_line(contrast(runs, series, names, steps), head))
        else:  # the finding takes the title's place: the question, answered
            closing[0].move_to(head.get_corner(UP + LEFT), aligned_edge=UP + LEFT)
        self.play(FadeOut(head), run_time=0.4)
        # the closing lines speak of the count of modes and the share off them: each mode's share recedes
        shares = [m for p in panels for m in p.view.mode_numbers]
        self.play(*(FadeIn(m) for m in closing), *s.dim(*shares), run_time=0.6)
        self.wait(2.4)

    def sweep(self, panels: list[Panel]) -> None:
        """The run, first shown snapshot to last, at an even pace: one stretch between snapshots at a time (of
        either run), the measures in force set between stretches, G's samples, D's field and the strips of when each
        mode was held moving every frame."""
        marks = sorted({float(v) for p in panels for v in np.linspace(0, 1, len(p.timeline.steps))} | {1.0})
        for a, b in zip(marks, marks[1:], strict=False):
            self.advance(panels, b, SECONDS * (b - a))

    def advance(self, panels: list[Panel], value: float, seconds: float) -> None:
        """Move every panel's timeline to ``value`` (0: first shown snapshot, 1: last), then set the measures."""
        self.play(*(p.timeline.tracker.animate.set_value(value) for p in panels), run_time=seconds, rate_func=linear)
        for p in panels:
            p.view.refresh()
            p.group.update(0)  # what follows the frame (the strips) at the measures now in force
        if self.foot is not None:
            self.foot.tracker.set_value(panels[0].timeline.shown)
            self.foot.group.update(0)

    def static_first(self, *groups: Group) -> None:
        """Put the parts that never change under those that do: manim redraws, every frame, each mobject from
        the first that changes onwards (the texts and frames then cost nothing per frame)."""
        still: list[Group] = []
        moving: list[Group] = []

        def sort(m: Group) -> None:
            if not any(x.updaters for x in m.get_family()):
                still.append(m)
            elif m.updaters or not m.submobjects or getattr(m, "whole", False):
                moving.append(m)
            else:
                for sub in m.submobjects:
                    sort(sub)

        for g in groups:
            sort(g)
        trackers = [m for m in self.mobjects if isinstance(m, ValueTracker)]  # first: what follows reads them
        self.remove(*groups, *trackers)
        self.add(*still, *trackers, *moving)

    def check_compare(self, runs: list[Run]) -> None:
        """A run to compare with must be one this scene can draw, of the same kind as the first."""
        for other in runs[1:]:
            reason = self.cannot_draw(other)
            if reason is None and other.kind != runs[0].kind:
                reason = f"{other.name} is a {other.kind} run and {runs[0].name} a {runs[0].kind} run"
            if reason is not None:
                raise c.RunError(f"--compare: {reason}")

    def footer(self, runs: list[Run], at: Timeline) -> s.Footer | None:
        """The step shown and the run's name; two runs (of any lengths, shown at the same fraction of their
        training) each count their own steps under their own names instead (``View.steps_line``)."""
        if len(runs) > 1:
            return None
        foot = s.footer(runs[0].total_steps, name=runs[0].name)
        foot.tracker.set_value(at.shown)
        self.add(foot.tracker)  # set with the measures, between animations (``advance``)
        self.foot = foot
        return foot

    def contrast_line(self, said: Said, head: Mobject) -> VGroup:
        """The closing line of a comparison, in the title's place (the question it answers)."""
        width = s.safe_box()[1] - s.safe_box()[0]
        line = s.paragraph(said.words, width, s.BODY)
        if len(line) > 1:  # one line: the panels' labels are right under it
            line = s.paragraph(said.words, width, s.SMALL)
        return claims(line.move_to(head.get_corner(UP + LEFT), aligned_edge=UP + LEFT), *said.readings)

    # -- one run's panel --------------------------------------------------------------------------------------
    def panel(self, run: Run, series: EvalSeries, index: int, count: int, floor: float) -> Panel:
        """A run's picture (G's samples on D's field over the modes, or G's digits), its counter, its bars on the
        share axis, and (alone on screen) when each mode was held over the run, all driven by one timeline."""
        left, right, bottom, top = s.safe_box()
        width = (right - left) / count
        x0, y_top = left + index * width, top - 1.05
        at = Timeline(run.spread_steps(MAX_FRAMES))
        tag = RUN if index == 0 else OTHER
        view = (ModesView if run.kind == "toy2d" else DigitsView)(run, series, at, tag, named=count > 1 and index > 0)
        if count == 1:
            picture = view.picture(MAP_SIZE if run.kind == "toy2d" else DIGITS_SIZE, np.array([x0, y_top, 0.0]))
            extra = view.colour_key()
            if extra is not None:
                extra.next_to(picture, RIGHT, buff=0.25).align_to(picture, DOWN)
            room = (extra if extra is not None else picture).get_right()[0] - picture.get_left()[0]
            key = view.legend(room).next_to(picture, DOWN, buff=0.22, aligned_edge=LEFT)
            x1 = (
                extra.get_right()[0] + 0.45
                if extra is not None
                else max(picture.get_right()[0], key.get_right()[0]) + 0.6
            )
            counter = view.counter(s.TITLE).move_to([x1, y_top, 0], aligned_edge=UP + LEFT)
            bars = view.bars(right - x1, floor, history=True).next_to(counter, DOWN, buff=0.3, aligned_edge=LEFT)
            parts = Group(picture, key, counter, bars, *([extra] if extra is not None else []))
            said = verdict(run, series, int(at.steps[-1]))
            closing = claims(s.paragraph(said.words, right - left, s.BODY), *said.readings)  # in the title's place
        else:
            name = compared_label(run, width - 0.3)
            name = constant(name.move_to([x0, top - 0.8, 0], aligned_edge=UP + LEFT))
            steps = view.steps_line().next_to(name, DOWN, buff=0.15, aligned_edge=LEFT)
            counter = view.counter(s.BODY, short=True).next_to(steps, RIGHT, buff=0.5).align_to(steps, DOWN)
            picture = view.picture(COMPARED_SIZE, np.array([x0, steps.get_bottom()[1] - 0.3, 0.0]))
            bars = view.bars(width - picture.width - 0.45, floor, history=False)
            bars.next_to(picture, RIGHT, buff=0.25).align_to(picture, UP)
            parts = Group(name, steps, counter, picture, bars)
            last = int(at.steps[-1])
            said = verdict(run, series, last, who=tag, named=last if tag == OTHER else None)
            closing = claims(s.paragraph(said.words, width - 0.3, s.LABEL), *said.readings)
            closing.move_to([x0, min(picture.get_bottom()[1], bars.get_bottom()[1]) - 0.2, 0], aligned_edge=UP + LEFT)
        parts.update(0)
        view.refresh()  # everything at the first snapshot before it fades in (numbers take their digits)
        return Panel(parts, closing, at, view)


def edge_mark_icon() -> VMobject:
    """The legend's picture of the marker a sample off the map gets on its edge (one pointing up)."""
    mark = VMobject(fill_color=s.FAKE_COLOR, fill_opacity=1.0, stroke_width=0)
    c.place_edge_marks(mark, np.array([[0.0, 1.0]]), np.array([-0.5, -0.5]), np.array([0.5, 0.5]), MARK * 1.4)
    return mark


def compared_label(run: Run, width: float) -> Mobject:
    """A compared run's label on one line of at most ``width``: its loss in words and its name, the middle of the
    name giving way to an ellipsis where too long (its start and its end, e.g. a seed, tell runs apart)."""
    loss = s.LOSS_WORDS.get(c.loss_name(run), f"{c.loss_name(run)} loss") + " · "
    name = s.shortened(run.name, s.SMALL, max(width - s.text(loss, s.SMALL).width, 1.0))
    return s.text(loss + name.original_text, s.SMALL, s.MUTED)


def run_names(runs: list[Run]) -> list[str]:
    """What to call each run: its loss in words when the losses differ, else its name."""
    losses = [c.loss_name(r) for r in runs]
    if len(set(losses)) == len(runs):
        return [s.LOSS_WORDS.get(x, f"{x} loss") for x in losses]
    return [r.name for r in runs]


class View:
    """What a panel draws of one run: built once, every part then follows the timeline by itself."""

    def __init__(self, run: Run, series: EvalSeries, at: Timeline, tag: str = RUN, named: bool = False):
        self.run, self.series, self.at, self.tag, self.named = run, series, at, tag, named
        self.kind = kind_of(run)
        self.refreshers: list[Callable[[], None]] = []
        self.mode_numbers: list[Mobject] = []  # each mode's (digit's) share in %: the closing beat dims them

    def follow(self, mob: Mobject, change: Callable[[Mobject], object]) -> None:
        """Let ``change`` set ``mob`` from the measures in force at every ``refresh`` (not every frame: parts that
        change only between snapshots are drawn once per stretch between snapshots, see ``ModeCollapse.sweep``)."""
        self.refreshers.append(lambda: change(mob))

    def refresh(self) -> None:
        self.at.shown = self.at.snapshot()
        for change in self.refreshers:
            change()

    def value(self, quantity: str) -> float:
        """A quantity's value at the measurement in force."""
        return eval_part(self.at.current(self.series), part(quantity))

    def reading(self, mob: Mobject, quantity: str, scale: float = 1.0) -> None:
        """Register ``mob`` as showing ``quantity`` of this panel's run, at the footer's step (the run alone or the
        first of two) or at the step this panel names (the second of two), set again at every refresh."""
        self.follow(
            mob,
            lambda m: reads(m, quantity, run=self.tag, scale=scale, step=self.at.shown if self.named else None),
        )

    def number(self, mob: VMobject, dash: VMobject, quantity: str, scale: float = 1.0) -> None:
        """``mob`` shows ``quantity`` (times ``scale``) at the measurement in force, or ``dash`` ('–') stands in its
        place where the measurement lacks it (a run recorded before the quantity existed)."""
        self.reading(mob, quantity, scale)

        def show(m: VMobject) -> None:
            v = self.value(quantity)
            known = bool(np.isfinite(v))
            if known:
                s.show_value(m, v * scale)
            m.set_opacity(1.0 if known else 0.0)
            dash.set_opacity(0.0 if known else 1.0)

        self.follow(mob, show)

    def steps_line(self) -> VGroup:
        """A compared run's own step: 'step 1,200 of 6,000' (runs of unequal lengths are shown at the same
        fraction of their training, each counting its own steps)."""
        total = self.run.total_steps
        word = s.text("step", s.SMALL, s.MUTED)
        count = s.integer(total, s.SMALL)
        of = constant(s.text(f"of {total:,}", s.SMALL, s.MUTED))
        row = VGroup(word, count, of).arrange(RIGHT, buff=0.12, aligned_edge=DOWN)
        count.name = "steps"

        def tick(m: VMobject) -> None:
            s.show_value(m, self.at.shown)
            m.next_to(word, RIGHT, buff=0.12, aligned_edge=DOWN)
            of.next_to(m, RIGHT, buff=0.12, aligned_edge=DOWN)

        self.follow(count, tick)
        self.follow(count, lambda m: reads(m, "step", run=self.tag, step=self.at.shown if self.named else None))
        return row

    def picture(self, size: float, corner: np.ndarray) -> Group:
        """The run's picture, ``size`` scene units square, its upper left corner at ``corner``."""
        raise NotImplementedError

    def legend(self, width: float) -> VGroup:
        """What the picture's marks mean, in lines at most ``width`` long."""
        raise NotImplementedError

    def colour_key(self) -> Group | None:
        return None

    def bar_names(self) -> list[str]:
        return [str(k + 1) for k in range(self.kind.total)]

    def captured(self) -> np.ndarray:
        """Whether each mode (digit) counts as held at the measurement in force (all False where unknown)."""
        got = held_in(self.at.current(self.series), self.kind)
        return np.isin(np.arange(self.kind.total), sorted(got or ()))

    def counter(self, size: float, short: bool = False) -> VGroup:
        """'5 of 8 modes captured': the count at the last measurement at or before the shown step."""
        value = s.integer(self.kind.total, size, s.TEXT)  # laid out at its widest
        dash = s.text("–", size, s.TEXT)
        noun = self.kind.noun.split()[0] if short else self.kind.noun  # '1 of 8 modes' beside a compared run's step
        rest = constant(s.text(f"of {self.kind.total} {noun}", s.BODY if size > s.BODY else s.LABEL, s.MUTED))
        group = VGroup(value, dash, rest)
        rest.next_to(value, RIGHT, buff=0.18, aligned_edge=DOWN)
        value.name = "counter"
        self.number(value, dash, self.kind.count)
        self.follow(value, lambda m: m.next_to(rest, LEFT, buff=0.18, aligned_edge=DOWN))  # the count ends at 'of'
        self.follow(dash, lambda m: m.next_to(rest, LEFT, buff=0.18, aligned_edge=DOWN))
        return group

    def bars(self, width: float, floor: float, history: bool) -> VGroup:
        """A row per mode (digit) and one for the rest (off every mode, no digit): its name (in the 'wrong' colour
        while G misses it); with ``history``, a strip of the run, lit where the measures counted it held, on a step
        axis; a bar of its share of all of G's measured samples on a log axis from ``floor`` to 100 %, with the
        capture rule (at least one sample) and the even share marked, and the share in %."""
        total = self.kind.total
        labels = [*self.bar_names(), self.kind.rest_name]
        names = [constant(s.text(n, s.SMALL, s.TEXT if k < total else s.MUTED)) for k, n in enumerate(labels)]
        pitch = ROWS_HEIGHT / (total + 1.5) if history else min(ROWS_HEIGHT / (total + 1.5), 0.22)
        row_h = 0.7 * pitch
        name_w = max(n.width for n in names)
        strip = HISTORY_WIDTH if history else 0.0
        length = max(width - name_w - 0.15 - strip - (0.3 if history else 0.0) - 0.12 - PERCENT_W, 0.8)
        n_fake = float(self.series.n_fake or 1000)

        def x_of(share: float, track: Rectangle) -> float:
            """Where a share sits on the log axis (the track's left end for 0)."""
            if not share > 0:
                return track.get_left()[0]
            return track.get_left()[0] + track.width * float(np.clip(np.log10(share / floor) / DECADES, 0.0, 1.0))

        rows = VGroup(*(self.share_row(k, name, length, row_h, strip, x_of) for k, name in enumerate(names)))
        rows.arrange(DOWN, buff=pitch - row_h, aligned_edge=RIGHT)
        rows[-1].shift(DOWN * 0.5 * pitch)  # the rest apart from the modes (digits)
        tracks = [row[0] for row in rows]
        top_y, low_y = tracks[0].get_top()[1] + 0.05, tracks[-1].get_bottom()[1] - 0.05

        def upright(share: float, colour: str, dashed: bool) -> VMobject:
            x = x_of(share, tracks[0])
            kind = DashedLine if dashed else Line
            line = kind([x, low_y, 0], [x, top_y, 0], **({"dash_length": 0.06} if dashed else {}))
            return line.set_stroke(colour, 2.0 if dashed else 1.5, 0.9)

        rule = upright(1.0 / n_fake, s.GOOD_COLOR, True)
        rule.name = "capture rule"
        even = upright(1.0 / total, s.REAL_COLOR, False)
        even.name = "even share"
        axis = self.share_axis(tracks[-1], floor)
        head = s.text("% of G's samples", s.SMALL, s.MUTED).next_to(rows, UP, 0.15).align_to(tracks[0], LEFT)
        if head.get_right()[0] > rows.get_right()[0]:  # a narrow panel: over the names too
            head.align_to(rows, RIGHT)
        parts = VGroup(head, rows, rule, even, axis)
        if history:
            parts.add(self.history_axis(rows[0][5], rows[-1][5]))
        self.marks = (rule, even)
        if not history:  # side by side: one key for both runs, across the screen (``ModeCollapse.construct``)
            return parts
        key = self.key(rows.width)
        return parts.add(key.next_to(parts, DOWN, buff=0.2).align_to(rows, LEFT))

    def share_row(
        self,
        k: int,
        name: Mobject,
        length: float,
        row_h: float,
        strip: float,
        x_of: Callable[[float, Rectangle], float],
    ) -> VGroup:
        """Row ``k`` of ``bars``: the track and its share bar (``x_of``: a share's place on the log axis), the share in
        %, with ``strip`` the lane of when the mode was captured, and the row's ``name`` right-aligned before it."""
        total = self.kind.total
        history = strip > 0
        track = Rectangle(width=length, height=row_h, stroke_width=1, stroke_color=s.MUTED, fill_opacity=0)
        track.name = "track"
        colour = s.FAKE_COLOR if k < total else s.MUTED
        fill = Rectangle(width=0.001, height=row_h, stroke_width=0, fill_color=colour, fill_opacity=0.9)
        fill.name = f"share {k}" if k < total else "share rest"
        pct = s.number(100.0, 1, s.SMALL, s.TEXT).next_to(track, RIGHT, buff=0.12)
        dash = s.text("–", s.SMALL, s.TEXT).next_to(track, RIGHT, buff=0.12)
        unit = s.text("%", s.SMALL, s.MUTED).next_to(pct, RIGHT, buff=0.06)
        pct.name = f"share {k} %" if k < total else "share rest %"
        quantity = self.kind.share.format(k=k) if k < total else self.kind.rest
        row = VGroup(track, fill, pct, dash, unit)
        if k < total:
            self.mode_numbers += [pct, dash, unit]
        if history:  # the rest's row keeps the column with an empty lane: every name in one column
            lane = Rectangle(width=strip, height=row_h, stroke_width=1 if k < total else 0, fill_opacity=0)
            lane.set_stroke(s.MUTED).next_to(track, LEFT, buff=0.3).name = "lane" if k < total else "no lane"
            row.add(lane)
            if k < total:
                row.add(self.lit(k, lane))
        name.next_to(row, LEFT, buff=0.15)  # right-aligned in one column

        def grow(m: Rectangle, q: str = quantity, t: Rectangle = track) -> None:
            right = x_of(self.value(q), t)
            m.stretch_to_fit_width(max(right - t.get_left()[0], 0.001)).align_to(t, LEFT)

        def mark(m: VMobject, k: int = k) -> None:
            m.set_fill(s.BAD_COLOR if not self.captured()[k] else s.TEXT)

        self.number(pct, dash, quantity, scale=100)
        self.follow(fill, grow)
        self.follow(pct, lambda m, t=track: m.next_to(t, RIGHT, buff=0.12))
        self.follow(unit, lambda m, p=pct: m.next_to(p, RIGHT, buff=0.06))
        if k < total:
            self.follow(name, mark)
        return row.add(name)

    def share_axis(self, track: Rectangle, floor: float) -> VGroup:
        """The log axis under the bars: a tick and its number (in %) at each power of ten from 10 x ``floor``."""
        y = track.get_bottom()[1]
        marks, edge = VGroup(), np.inf
        for d in range(DECADES, 0, -1):  # from 100 % leftwards: a number only where it has room
            x = track.get_left()[0] + track.width * d / DECADES
            tick = Line([x, y - 0.02, 0], [x, y - 0.1, 0]).set_stroke(s.MUTED, 1.5)
            words = constant(s.text(f"{100 * floor * 10**d:g}", s.SMALL, s.MUTED)).next_to(tick, DOWN, buff=0.04)
            if words.get_right()[0] < edge - 0.12:
                marks.add(VGroup(tick, words))
                edge = words.get_left()[0]
            else:
                marks.add(tick)
        marks.name = "share axis"
        return marks

    def history_axis(self, first: Rectangle, last: Rectangle) -> VGroup:
        """The strips' head above the ``first`` lane and their time axis under the ``last`` one: the run's first and
        last step, so 'when captured' reads as a stretch of the run."""
        y = last.get_bottom()[1]
        total = self.run.total_steps
        ends = VGroup()
        for x, words in ((last.get_left()[0], "0"), (last.get_right()[0], f"{total:,}")):
            tick = Line([x, y - 0.02, 0], [x, y - 0.1, 0]).set_stroke(s.MUTED, 1.5)
            ends.add(VGroup(tick, constant(s.text(words, s.SMALL, s.MUTED)).next_to(tick, DOWN, buff=0.04)))
        ends[0][1].align_to(last, LEFT)
        ends[1][1].align_to(last, RIGHT)
        step = s.text("step", s.SMALL, s.MUTED).next_to(ends[0][1], LEFT, buff=0.15).align_to(ends[0][1], DOWN)
        head = s.text(self.history_head, s.SMALL, s.MUTED).next_to(first, UP, buff=0.15, aligned_edge=LEFT)
        return VGroup(ends, step, head)

    history_head = "captured"

    def key(self, width: float, across: bool = False, off_map: bool = False) -> VGroup:
        """The legend of the marks on the share axis (``bars`` drew them) and what the last row holds, and
        (``off_map``) of the maps' edge markers: as many entries a line as fit in ``width``, or ``across`` the
        safe area."""
        rule, even = self.marks

        def item(line: VMobject, words: str) -> VGroup:
            kind = DashedLine if isinstance(line, DashedLine) else Line
            icon = kind(DOWN * 0.12, UP * 0.12, **({"dash_length": 0.06} if kind is DashedLine else {}))
            icon.set_stroke(line.get_stroke_color(), line.get_stroke_width(), 0.9)
            return VGroup(icon, constant(s.text(words, s.SMALL, s.MUTED))).arrange(RIGHT, buff=0.12)

        items = [item(rule, self.kind.rule), item(even, f"even share 1/{self.kind.total}")]
        items.append(constant(s.text(self.kind.rest_rule, s.SMALL, s.MUTED)))
        if off_map:
            words = s.text("G(z) off the map", s.SMALL, s.MUTED)
            items.append(VGroup(edge_mark_icon(), words).arrange(RIGHT, buff=0.12))
        if across:
            left, right, _, _ = s.safe_box()
            width = right - left
        lines: list[VGroup] = []
        for entry in items:  # as many on a line as fit in ``width``
            if lines and lines[-1].width + 0.45 + entry.width <= width:
                lines[-1].add(entry).arrange(RIGHT, buff=0.45)
            else:
                lines.append(VGroup(entry))
        return VGroup(*lines).arrange(DOWN, buff=0.1, aligned_edge=LEFT)

    def lit(self, k: int, lane: Rectangle) -> VMobject:
        """The stretches of the run so far in which mode (digit) ``k`` counted as held, as blocks in ``lane``
        (a measurement holds until the next one)."""
        series, end = self.series, float(self.run.total_steps or 1)
        held_k = np.array([k in (held_in(r, self.kind) or ()) for r in series.rows])
        blocks = VMobject(fill_color=s.TEXT, fill_opacity=0.85, stroke_width=0)
        blocks.name = f"captured {k}"

        def draw(m: VMobject) -> None:
            now, last = self.at.step(), self.at.row(series)
            x0, y0 = lane.get_left()[0], lane.get_bottom()[1]
            corners = []
            for j in np.flatnonzero(held_k[: last + 1]):
                a = series.steps[j]
                b = now if j == last else min(series.steps[j + 1], now)
                if b > a:
                    left, right = x0 + lane.width * a / end, x0 + lane.width * b / end
                    top = y0 + lane.height
                    corners.append([[left, y0], [right, y0], [right, top], [left, top], [left, y0]])
            m.set_points(boxes(np.array(corners).reshape(-1, 5, 2)) if corners else np.zeros((0, 3)))

        blocks.add_updater(draw)
        return blocks


def boxes(corners: np.ndarray) -> np.ndarray:
    """Closed polygons (n, 5, 2: the last corner repeats the first) as the points of one path of straight cubic
    curves, one closed part per polygon."""
    a, b = corners[:, :-1], corners[:, 1:]
    quads = np.stack([a, a + (b - a) / 3, a + 2 * (b - a) / 3, b], axis=2).reshape(-1, 2)
    return np.column_stack([quads, np.zeros(len(quads))])


class ModesView(View):
    """An 8-Gaussians run: G's samples moving over the modes on D's field."""

    def picture(self, size: float, corner: np.ndarray) -> Group:
        run, at = self.run, self.at
        box = c.PlotBox(c.data_extent(run), corner + np.array([size / 2, -size / 2, 0.0]), size)
        snaps = [run.read_snapshot(int(st), ("fake", "field")) for st in at.steps]
        fields = [np.asarray(sn.field, np.float64)[::-1] for sn in snaps]
        field = c.picture(s.score_rgb(fields[0]), size, smooth=True).stretch_to_fit_width(size).move_to(box.center)
        field.name = "field"
        field.add_updater(lambda m: m.pixel_array.__setitem__((..., slice(0, 3)), s.score_rgb(at.blend(fields))))
        frame = box.frame().set_stroke(s.MUTED, 1.5)
        centres = box.to_scene(mode_centres(run))
        real = c.point_cloud(box.to_scene(run.real[:, :2]), s.REAL_COLOR, 0.025, 0.9)
        real.name = "real points"
        rings = VGroup(*(Circle(radius=0.2).move_to(p) for p in centres))
        for ring in rings:
            ring.name = "mode"
        self.follow(
            rings,
            lambda m: [
                ring.set_stroke(*(CAPTURED if on else MISSED)) for ring, on in zip(m, self.captured(), strict=True)
            ],
        )
        numbers = VGroup(
            *(
                s.text(str(k + 1), s.SMALL, s.TEXT).move_to(
                    p - 0.42 * (p - box.center) / max(np.linalg.norm(p - box.center), 1e-9)
                )
                for k, p in enumerate(centres)
            )
        )
        constant(numbers)
        pos = [box.to_scene(sn.fake[:MAX_POINTS, :2]) for sn in snaps]
        fake = c.point_cloud(pos[0], s.FAKE_COLOR, DOT, 1.0)
        fake.name = "generated points"
        lo, hi = frame.get_corner(DOWN + LEFT)[:2] + DOT, frame.get_corner(UP + RIGHT)[:2] - DOT
        off = VMobject(fill_color=s.FAKE_COLOR, fill_opacity=1.0, stroke_width=0)
        off.name = "off-map markers"

        def move(m: VMobject) -> None:  # samples off the map: a marker on its edge pointing to where they are
            now = at.blend(pos)
            inside = c.place_edge_marks(off, now, lo, hi, MARK)
            c.place_dots(m, now[inside], DOT)

        fake.add_updater(move)
        move(fake)
        self.leaves_map = any(not np.all((p[:, :2] >= lo) & (p[:, :2] <= hi)) for p in pos)
        picture = Group(field, frame, real, rings, numbers, fake, off)
        picture.whole = True  # drawn in this order, one over the other: never split by ``static_first``
        return picture

    def legend(self, width: float) -> VGroup:
        ring = Circle(radius=0.12).set_stroke(*MISSED)
        on = Circle(radius=0.12).set_stroke(*CAPTURED)
        dot = c.point_cloud(np.zeros((1, 3)), s.FAKE_COLOR, DOT + 0.01, 1.0)
        items = [(ring, "a mode", s.TEXT), (on, "captured by G", s.TEXT), (dot, "G(z)", s.FAKE_COLOR)]
        if self.leaves_map:  # a marker on the map's edge: a sample beyond it, in that direction
            items.append((edge_mark_icon(), "G(z) off the map", s.FAKE_COLOR))
        entries = [
            VGroup(icon, s.text(words, s.SMALL, colour)).arrange(RIGHT, buff=0.12) for icon, words, colour in items
        ]
        lines: list[VGroup] = []
        for entry in entries:  # as many on a line as fit under the map and its colour key
            if lines and lines[-1].width + 0.4 + entry.width <= width:
                lines[-1].add(entry).arrange(RIGHT, buff=0.4)
            else:
                lines.append(VGroup(entry))
        return VGroup(*lines).arrange(DOWN, buff=0.12, aligned_edge=LEFT)

    def colour_key(self) -> Group:
        bar = s.colour_bar(height=1.8, width=0.22)
        constant(bar[2])  # its ends and middle: 0, 0.5 and 1 of D's score
        return bar


class DigitsView(View):
    """A digits run: G's samples, and the digits the classifier recognises in them."""

    history_head = "drawn"

    def bar_names(self) -> list[str]:
        return [str(k) for k in range(DIGITS)]

    def picture(self, size: float, corner: np.ndarray) -> Group:
        at = self.at
        shown = min(int(np.sqrt(len(self.run.fixed.noise))), 8) ** 2  # the largest square up to 8 x 8
        grids = [
            c.sample_grid(self.run.read_snapshot(int(st), ("fake",)).fake, shown).astype(np.float64) for st in at.steps
        ]
        img = c.picture(grids[0].astype(np.uint8), size).move_to(corner, aligned_edge=UP + LEFT)
        img.name = "samples"
        img.add_updater(lambda m: m.pixel_array.__setitem__((..., slice(0, 3)), at.blend(grids).round()))
        return Group(img)

    def legend(self, width: float) -> VGroup:
        return VGroup(s.text("G's samples on the fixed noise", s.SMALL, s.MUTED))
