"""Mode collapse, shown from real runs: does G cover every mode of the data, or does it settle on a few?

8-Gaussians runs: G's samples move over the eight modes through the run, on D's score field, while the run's own
measures (evals.jsonl, ``modes_captured``: a mode counts when a high-quality sample, within 3 std of it, is
nearest to it) light up the modes G has captured, count them and give each mode's share of G's samples. Digit
runs: which digits G draws (the digits classifier's verdicts on G's samples, ``classes``), bar by bar, beside G's
samples, the digits it never draws called out. ``--compare``: two runs side by side on the same scales, closing on
how they differ. The measures are read, never computed here: the scene shows what the run recorded.

    GANVIZ_RUN=outputs/runs/<8-Gaussians or digits run> manim -ql scenes/mode_collapse.py
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Circle,
    FadeIn,
    Group,
    Line,
    Mobject,
    Rectangle,
    ValueTracker,
    VGroup,
    VMobject,
    linear,
)

from pipeline.run import EvalSeries, Run
from scenes import common as c
from scenes import style as s

MODES, DIGITS = 8, 10
SECONDS = 11.0  # the run, from the first shown snapshot to the last
MAX_FRAMES = 41  # snapshots G's samples pass through (spread over the run)
MAX_POINTS = 300  # of G's samples on the fixed noise: enough to see where the mass is, cheap to redraw every frame
MAP_SIZE, COMPARED_SIZE = 4.5, 3.5  # the picture's side, alone on screen and side by side
DOT = 0.035  # radius of one of G's samples on the map
#: a mode's ring on the map (colour, width, opacity): bold where G's samples capture it, faint where they miss it
CAPTURED, MISSED = (s.REAL_COLOR, 5, 1.0), (s.MUTED, 1.5, 0.7)
HOP_LOSSES = 2  # measurements at which G lost a mode it held before: this many or more and G "hops"
ROWS_HEIGHT = 2.5  # the rows of the modes (digits), alone on screen: each row 70 % of its share, the rest a gap
HISTORY_WIDTH = 1.9  # the strip of the run beside each row


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


def held(series: EvalSeries) -> list[frozenset[int]]:
    """The modes (digits) present at each measurement: those with a count."""
    return [frozenset(int(i) for i in np.flatnonzero(np.asarray(r["counts"]) > 0)) for r in series.rows]


def listed(items: list[int]) -> str:
    """1, 4 and 7."""
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def verdict(run: Run, series: EvalSeries) -> str:
    """What the run did, from its own measures: at its last measurement, and (8 Gaussians) whether G kept losing
    modes it held while never holding more than half of them, i.e. hopped (docs/scenes.md)."""
    sets, total = held(series), MODES if run.kind == "toy2d" else DIGITS
    end, missing = len(sets[-1]), sorted(set(range(total)) - sets[-1])
    if run.kind == "image":
        precision = run.evals.get("precision", series.space)
        if precision is not None and precision.values[-1] < 0.1:
            return f"G's samples are not digits yet (precision {precision.values[-1]:.2f})"
        if end == total:
            return "G ends drawing all ten digits"
        return f"G ends drawing {end} of 10 digits: no {listed(missing)}"
    lost = sum(1 for a, b in zip(sets, sets[1:], strict=False) if a - b)
    if end == total:
        return "G covers all 8 modes"
    if lost >= HOP_LOSSES and max(map(len, sets)) <= total // 2:
        return f"G hops between modes, ending on {end} of 8"
    if end == 0:
        return "G has lost every mode it held" if any(sets) else "G has not captured any mode yet"
    if end == 1:
        return "G has collapsed onto 1 mode"
    if end <= total // 2:
        return f"G has collapsed onto {end} of 8 modes"
    return (
        f"G covers {end} of 8 modes, missing mode{'s' if len(missing) > 1 else ''} {listed([k + 1 for k in missing])}"
    )


def contrast(runs: list[Run], series: list[EvalSeries], names: list[str]) -> str:
    """The closing line of a comparison, from the two runs' last measurements."""
    what = "modes" if runs[0].kind == "toy2d" else "digits"
    total = MODES if runs[0].kind == "toy2d" else DIGITS
    (a, b) = (len(held(x)[-1]) for x in series)
    if a == b:
        return f"Both runs end with {a} of {total} {what}"
    return f"The {names[0]} run ends with {a} of {total} {what}, the {names[1]} run with {b}"


class Timeline:
    """One tracker from 0 to 1 over a run's shown snapshots: the step it stands for, where between two snapshots
    it is, and which measurement is in force (the last one at or before the step)."""

    def __init__(self, steps: list[int]):
        self.steps, self.tracker = np.asarray(steps, np.float64), ValueTracker(0.0)

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
        return max(int(np.searchsorted(series.steps, self.snapshot(), side="right")) - 1, 0)

    def counts(self, series: EvalSeries) -> np.ndarray:
        return np.asarray(series.rows[self.row(series)]["counts"], np.float64)

    def shares(self, series: EvalSeries) -> np.ndarray:
        """How the counted samples (8 Gaussians: G's samples within 3 std of a mode; digits: all of them) split
        over the modes (digits) at the current step; all 0 while none counts."""
        return share_of(series.rows[self.row(series)]["counts"])


def share_of(counts: list[int]) -> np.ndarray:
    c = np.asarray(counts, np.float64)
    return c / max(c.sum(), 1.0)


@dataclass
class Panel:
    """One run's part of the screen: what fades in, what is said at the end, and the tracker that drives it."""

    group: Group
    closing: VGroup
    timeline: Timeline
    view: View


class ModeCollapse(c.RunScene):
    """Where G puts its samples over training, against the modes (or digits) the data has."""

    kinds = ("toy2d", "image")

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
        if run.kind == "image" and run.config.get("dataset") not in ("digits", "mnist"):
            return (
                f"scene {name} draws 8-Gaussians runs and digit runs (a classifier says which digit G draws); "
                f"{run.name} is neither (e.g. 'ganviz train dcgan-digits')"
            )
        return (
            f"scene {name} needs the run's quality measures, which {run.name} did not record: run "
            f"'ganviz eval {run.path}'{' --space digits' if run.kind == 'image' else ''}, or train with "
            "'--set eval_every=N'"
        )

    def construct(self) -> None:
        runs = [self.run, *([self.other_run] if self.other_run is not None else [])]
        self.check_compare(runs)
        series = [measure(r) for r in runs]
        names = run_names(runs)
        what = "all eight modes" if self.run.kind == "toy2d" else "all ten digits"
        head = s.title(f"Does G cover {what}?", None if len(runs) > 1 else label(self.run))
        scale = share_scale(series)
        panels = [self.panel(r, x, i, len(runs), scale) for i, (r, x) in enumerate(zip(runs, series, strict=True))]
        foot = self.footer(runs, panels[0].timeline)
        self.play(FadeIn(head), FadeIn(foot.group), run_time=0.6)
        self.play(*(FadeIn(p.group) for p in panels), run_time=0.8)
        self.static_first(head, *(p.group for p in panels), foot.group)
        self.wait(0.4)
        self.sweep(panels)
        closing = [p.closing for p in panels]
        if len(runs) > 1:
            low = min(m.get_bottom()[1] for m in closing)
            closing.append(self.contrast_line(contrast(runs, series, names), low))
        self.play(*(FadeIn(m) for m in closing), run_time=0.6)
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

    def footer(self, runs: list[Run], at: Timeline) -> s.Footer:
        """The step shown, or for two runs (of any lengths, shown at the same fraction) the share of training."""
        if len(runs) == 1:
            foot = s.footer(int(runs[0].info.get("total_steps") or at.steps[-1]))
            foot.tracker.add_updater(lambda m: m.set_value(at.snapshot()))
        else:
            foot = s.footer(100, label="% of training")
            foot.tracker.add_updater(lambda m: m.set_value(round(100 * at.tracker.get_value())))
        self.add(foot.tracker)  # its updater follows the shown step
        return foot

    def contrast_line(self, words: str, below: float) -> VGroup:
        """The closing line of a comparison, across the screen under the runs' own captions."""
        line = s.paragraph(words, s.safe_box()[1] - s.safe_box()[0], s.BODY)
        return line.move_to([0, below - 0.25, 0], aligned_edge=UP)

    # -- one run's panel --------------------------------------------------------------------------------------
    def panel(self, run: Run, series: EvalSeries, index: int, count: int, scale: float) -> Panel:
        """A run's picture (G's samples on D's field over the modes, or G's digits), its counter, its bars, and
        (alone on screen) its measures over the run, all driven by one timeline."""
        left, right, bottom, top = s.safe_box()
        width = (right - left) / count
        x0, y_top = left + index * width, top - 1.05
        at = Timeline(run.spread_steps(MAX_FRAMES))
        view = ModesView(run, series, at) if run.kind == "toy2d" else DigitsView(run, series, at)
        if count == 1:
            picture = view.picture(MAP_SIZE, np.array([x0, y_top, 0.0]))
            key = view.legend().next_to(picture, DOWN, buff=0.22, aligned_edge=LEFT)
            x1 = picture.get_right()[0] + 0.6
            extra = view.colour_key()
            if extra is not None:
                extra.next_to(picture, RIGHT, buff=0.25).align_to(picture, DOWN)
                x1 = extra.get_right()[0] + 0.45
            counter = view.counter(s.TITLE, detail=True).move_to([x1, y_top, 0], aligned_edge=UP + LEFT)
            bars = view.bars(right - x1, scale, history=True).next_to(counter, DOWN, buff=0.3, aligned_edge=LEFT)
            parts = Group(picture, key, counter, bars, *([extra] if extra is not None else []))
            closing = s.paragraph(verdict(run, series), right - x1, s.BODY)
            closing.next_to(bars, DOWN, buff=0.35, aligned_edge=LEFT)
        else:
            name = fitted_label(run, width - 0.3).move_to([x0, top - 0.75, 0], aligned_edge=UP + LEFT)
            picture = view.picture(COMPARED_SIZE, np.array([x0, name.get_bottom()[1] - 0.2, 0.0]))
            bars = view.bars(width - picture.width - 0.55, scale, history=False)
            bars.next_to(picture, RIGHT, buff=0.3).align_to(picture, UP)
            counter = view.counter(s.BODY, detail=False)
            counter.move_to([x0, min(picture.get_bottom()[1], bars.get_bottom()[1]) - 0.2, 0], aligned_edge=UP + LEFT)
            parts = Group(name, picture, bars, counter)
            closing = s.paragraph(verdict(run, series), width - 0.3, s.LABEL)
            closing.next_to(counter, DOWN, buff=0.2, aligned_edge=LEFT)
        parts.update(0)
        view.refresh()  # everything at the first snapshot before it fades in (numbers take their digits)
        return Panel(parts, closing, at, view)


def label(run: Run) -> str:
    return f"{run.variant}, {c.loss_name(run)} loss · {run.name}"


def fitted_label(run: Run, width: float) -> Mobject:
    """The run's label on one line of at most ``width`` (a compared panel's): without the variant if the whole
    label is too wide, then with the run's name shortened by an ellipsis in its middle (its start and its end,
    e.g. a seed, are what tell runs apart)."""
    loss, name = c.loss_name(run), run.name
    for candidate in (label(run), f"{loss} loss · {name}"):
        line = s.text(candidate, s.SMALL, s.MUTED)
        if line.width <= width:
            return line
    for cut in range(1, len(name)):
        keep = len(name) - cut
        short = name[: (keep + 1) // 2] + "…" + name[len(name) - keep // 2 :]
        line = s.text(f"{loss} loss · {short}", s.SMALL, s.MUTED)
        if line.width <= width:
            return line
    return line


def run_names(runs: list[Run]) -> list[str]:
    """What to call each run: its loss when the losses differ, else its name."""
    losses = [c.loss_name(r) for r in runs]
    return losses if len(set(losses)) == len(runs) else [r.name for r in runs]


def share_scale(series: list[EvalSeries | None]) -> float:
    """The share a full bar stands for, the same for every run shown: the largest share measured, rounded up to
    25 %, 50 % or 100 %."""
    top = max(float(share_of(r["counts"]).max(initial=0.0)) for x in series if x is not None for r in x.rows)
    return next(v for v in (0.25, 0.5, 1.0) if top <= v + 1e-9)


class View:
    """What a panel draws of one run: built once, every part then follows the timeline by itself."""

    total = MODES
    noun = "modes captured"
    share_head = "share on each mode"  # of G's samples counted on a mode: how they split

    def __init__(self, run: Run, series: EvalSeries, at: Timeline):
        self.run, self.series, self.at = run, series, at
        self.refreshers: list[Callable[[], None]] = []

    def follow(self, mob: Mobject, change: Callable[[Mobject], object]) -> None:
        """Let ``change`` set ``mob`` from the measures in force at every ``refresh`` (not every frame: parts that
        change only between snapshots are drawn once per stretch between snapshots, see ``ModeCollapse.sweep``)."""
        self.refreshers.append(lambda: change(mob))

    def refresh(self) -> None:
        for change in self.refreshers:
            change()

    def picture(self, size: float, corner: np.ndarray) -> Group:
        """The run's picture, ``size`` scene units square, its upper left corner at ``corner``."""
        raise NotImplementedError

    def legend(self) -> VGroup:
        raise NotImplementedError

    def colour_key(self) -> Group | None:
        return None

    def bar_names(self) -> list[str]:
        return [str(k + 1) for k in range(self.total)]

    def counter(self, size: float, detail: bool) -> VGroup:
        """'5 of 8 modes captured': the count at the last measurement at or before the shown step."""
        value = s.integer(self.total, size, s.TEXT)  # laid out at its widest
        rest = s.text(f"of {self.total} {self.noun}", s.BODY if size > s.BODY else s.LABEL, s.MUTED)
        group = VGroup(value, rest).arrange(RIGHT, buff=0.18, aligned_edge=DOWN)
        value.name = "counter"
        self.follow(value, lambda m: s.show_value(m, int(self.series.values[self.at.row(self.series)])))
        self.follow(value, lambda m: m.next_to(rest, LEFT, buff=0.18, aligned_edge=DOWN))  # the count ends at 'of'
        quality = self.run.evals.get("high_quality")
        if quality is None or self.run.kind != "toy2d" or not detail:
            return group
        share = s.integer(100, s.SMALL, s.TEXT)
        share.name = "high quality %"
        words = s.text("% of G(z) within 3 std of a mode", s.SMALL, s.MUTED)
        line = VGroup(share, words).arrange(RIGHT, buff=0.06, aligned_edge=DOWN)
        line.next_to(group, DOWN, buff=0.15, aligned_edge=LEFT)
        self.follow(share, lambda m: s.show_value(m, int(round(100 * quality.values[self.at.row(quality)]))))
        self.follow(share, lambda m: m.next_to(words, LEFT, buff=0.06, aligned_edge=DOWN))
        return group.add(line)

    def bars(self, width: float, scale: float, history: bool) -> VGroup:
        """A row per mode (digit): its name (in the 'wrong' colour while G misses it); with ``history``, a strip of
        the run so far, lit where the measures counted it captured; a bar of its share of G's measured samples
        (full: ``scale``, the even share 1/total marked) and the share in %."""
        names = [s.text(n, s.SMALL, s.TEXT) for n in self.bar_names()]
        pitch = ROWS_HEIGHT / self.total if history else min(ROWS_HEIGHT / self.total, 0.24)
        row_h = 0.7 * pitch
        name_w = max(n.width for n in names)
        value_w = s.integer(100, s.SMALL).width + 0.12 + 0.06 + s.text("%", s.SMALL).width
        strip = HISTORY_WIDTH if history else 0.0
        length = max(width - name_w - 0.15 - strip - (0.3 if history else 0.0) - value_w, 0.8)
        rows = VGroup()
        for k, name in enumerate(names):
            track = Rectangle(width=length, height=row_h, stroke_width=1, stroke_color=s.MUTED, fill_opacity=0)
            track.name = "track"
            fill = Rectangle(width=0.001, height=row_h, stroke_width=0, fill_color=s.FAKE_COLOR, fill_opacity=0.9)
            fill.name = f"share {k}"
            pct = s.integer(100, s.SMALL, s.TEXT).next_to(track, RIGHT, buff=0.12)
            unit = s.text("%", s.SMALL, s.MUTED).next_to(pct, RIGHT, buff=0.06)
            pct.name = f"share {k} %"
            row = VGroup(track, fill, pct, unit)
            if history:
                lane = Rectangle(width=strip, height=row_h, stroke_width=1, stroke_color=s.MUTED, fill_opacity=0)
                lane.next_to(track, LEFT, buff=0.3).name = "lane"
                row.add(lane, self.lit(k, lane))
            name.next_to(row, LEFT, buff=0.15)
            name.shift(RIGHT * (name_w - name.width) / 2)  # names centred in one column

            def grow(m: Rectangle, k: int = k, t: Rectangle = track) -> None:
                share = float(self.at.shares(self.series)[k])
                m.stretch_to_fit_width(max(t.width * min(share / scale, 1.0), 0.001)).align_to(t, LEFT)

            def show(m: VMobject, k: int = k, t: Rectangle = track) -> None:
                s.show_value(m, int(round(100 * self.at.shares(self.series)[k])))
                m.next_to(t, RIGHT, buff=0.12)

            def mark(m: VMobject, k: int = k) -> None:
                m.set_fill(s.BAD_COLOR if self.at.counts(self.series)[k] == 0 else s.TEXT)

            self.follow(fill, grow)
            self.follow(pct, show)
            self.follow(name, mark)
            self.follow(unit, lambda m, p=pct: m.next_to(p, RIGHT, buff=0.06))
            rows.add(row.add(name))
        rows.arrange(DOWN, buff=pitch - row_h, aligned_edge=RIGHT)
        tracks = [row[0] for row in rows]
        x = tracks[0].get_left()[0] + length * min(1.0 / self.total / scale, 1.0)
        even = Line([x, tracks[-1].get_bottom()[1] - 0.06, 0], [x, tracks[0].get_top()[1] + 0.06, 0])
        even.set_stroke(s.REAL_COLOR, 1.5, 0.8).name = "even share"
        fair = s.text(f"even share 1/{self.total}", s.SMALL, s.MUTED).next_to(even, DOWN, buff=0.08)
        fair.align_to(tracks[0], LEFT)
        if fair.get_right()[0] > rows.get_right()[0]:  # a narrow panel: under the bars' right end
            fair.align_to(rows, RIGHT)
        heads = VGroup(s.paragraph(self.share_head, length + value_w if history else rows.width, s.SMALL, s.MUTED))
        heads[0].next_to(rows, UP, 0.15, RIGHT)
        if history:
            heads.add(s.text("when captured", s.SMALL, s.MUTED).next_to(rows[0][4], UP, 0.15, LEFT))
            heads[1].align_to(heads[0], UP)  # the two column heads on one line
        return VGroup(heads, rows, even, fair)

    def lit(self, k: int, lane: Rectangle) -> VMobject:
        """The stretches of the run so far in which mode (digit) ``k`` counted as captured, as blocks in ``lane``
        (a measurement holds until the next one)."""
        series, end = self.series, float(self.run.info.get("total_steps") or self.at.steps[-1] or 1)
        held_k = np.array([r["counts"][k] > 0 for r in series.rows])
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
                ring.set_stroke(*(CAPTURED if n > 0 else MISSED))
                for ring, n in zip(m, at.counts(self.series), strict=True)
            ],
        )
        numbers = VGroup(
            *(
                s.text(str(k + 1), s.SMALL, s.TEXT).move_to(
                    p + 0.42 * (p - box.center) / max(np.linalg.norm(p - box.center), 1e-9)
                )
                for k, p in enumerate(centres)
            )
        )
        pos = [box.to_scene(sn.fake[:MAX_POINTS, :2]) for sn in snaps]
        fake = c.point_cloud(pos[0], s.FAKE_COLOR, DOT, 1.0)
        fake.name = "generated points"
        fake.add_updater(lambda m: c.place_dots(m, at.blend(pos), DOT))
        picture = Group(field, frame, real, rings, numbers, fake)
        picture.whole = True  # drawn in this order, one over the other: never split by ``static_first``
        return picture

    def legend(self) -> VGroup:
        ring = Circle(radius=0.12).set_stroke(*MISSED)
        on = Circle(radius=0.12).set_stroke(*CAPTURED)
        dot = c.point_cloud(np.zeros((1, 3)), s.FAKE_COLOR, DOT + 0.01, 1.0)
        items = [(ring, "a mode of the data", s.TEXT), (on, "captured by G", s.TEXT), (dot, "G(z)", s.FAKE_COLOR)]
        return VGroup(
            *(VGroup(icon, s.text(words, s.SMALL, colour)).arrange(RIGHT, buff=0.12) for icon, words, colour in items)
        ).arrange(RIGHT, buff=0.4)

    def colour_key(self) -> Group:
        return s.colour_bar(height=1.8, width=0.22)


class DigitsView(View):
    """A digits run: G's samples, and the digits the classifier says they are."""

    total = DIGITS
    noun = "digits G draws"
    share_head = "share of G's samples"

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

    def legend(self) -> VGroup:
        return VGroup(s.text("G's samples on the fixed noise", s.SMALL, s.MUTED))
