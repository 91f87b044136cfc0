"""Mode collapse, shown from real runs: does G cover every mode of the data, or does it settle on a few?

8-Gaussians runs: G's points move over the eight modes through the run, on D's score field, with the modes
captured as the run's own measures count them (evals.jsonl: a mode counts when a high-quality sample sits nearest
to it) and each mode's share of G's samples. Digit runs: which digits G draws (the digits classifier's verdicts),
bar by bar, beside G's samples. `--compare`: a collapsing run and a covering one side by side.

    GANVIZ_RUN=outputs/runs/<8-Gaussians run> manim -ql scenes/mode_collapse.py
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, Circle, Dot, FadeIn, Group, Rectangle, ValueTracker, VGroup, linear

from pipeline.run import EvalSeries, Run
from scenes import common as c
from scenes import style as s

MODES = 8
SECONDS = 11.0  # the run, from the first snapshot to the last
MAX_POINTS = 300  # of G's fixed-noise points drawn (enough to see where the mass is)
MAX_FRAMES = 40  # snapshots the morph passes through (spread over the run)
DIGIT_BAR_HEIGHT = 1.6  # a digit's bar at 100 % of G's samples


def modes_series(run: Run) -> EvalSeries | None:
    return run.evals.get("modes_captured")


def classes_series(run: Run) -> EvalSeries | None:
    return run.evals.get("classes")


def mode_centres(run: Run) -> np.ndarray:
    """The eight modes' centres from the run's own real batch: the mean of the real points at each of the eight
    angles (k x 45 degrees, counter-clockwise from the x axis: the order of evals.jsonl's ``counts``)."""
    real = np.asarray(run.real, np.float64)
    k = np.round(np.arctan2(real[:, 1], real[:, 0]) / (2 * np.pi / MODES)).astype(int) % MODES
    return np.stack([real[k == i].mean(0) if (k == i).any() else np.full(2, np.nan) for i in range(MODES)])


def verdict(series: EvalSeries, total: int) -> str:
    """What the run did, from its own measures: covered, collapsed, or hopped between modes."""
    counts = [np.asarray(r["counts"]) > 0 for r in series.rows]
    end = int(series.values[-1])
    if end == total:
        return f"G ends covering all {total}"
    if end == 0:
        return f"G has not reached the modes yet: 0 of {total} captured"
    few = [tuple(np.flatnonzero(k)) for k in counts if 0 < k.sum() <= total // 2]
    if len(set(few)) >= 3:
        return f"G hops between modes and ends on {end} of {total}: mode collapse"
    return f"G ends on {end} of {total}: mode collapse"


class ModeCollapse(c.RunScene):
    """Where G puts its samples over training, against how many modes (or digits) the data has."""

    kinds = ("toy2d", "image")

    @classmethod
    def cannot_draw(cls, run: Run) -> str | None:
        reason = super().cannot_draw(run)
        if reason is not None:
            return reason
        wanted = modes_series(run) if run.kind == "toy2d" else classes_series(run)
        if wanted is None:
            return (
                f"scene {cls.__name__} needs the modes G covers, which {run.name} did not record: an 8-Gaussians "
                "run ('ganviz train toy-8gaussians') or a digits run with its quality measures"
            )
        return None

    def construct(self) -> None:
        runs = [self.run, *([self.other_run] if self.other_run is not None else [])]
        for other in runs[1:]:
            reason = self.cannot_draw(other)
            if reason is not None or other.kind != self.run.kind:
                raise c.RunError(f"--compare {other.name}: {reason or 'a run of another kind'}")
        what = "all eight modes" if self.run.kind == "toy2d" else "all ten digits"
        sub = "  vs  ".join(f"{r.variant}, {c.loss_name(r)} loss" for r in runs)
        head = s.title(f"Does G cover {what}?", sub)
        panels = [self.panel(r, i, len(runs)) for i, r in enumerate(runs)]
        foot = self.footer(runs, panels[0]["timeline"])
        self.add(foot.tracker, foot.group)  # the tracker too: its updater follows the shown step
        self.play(FadeIn(head), run_time=0.6)
        self.play(*(FadeIn(p["group"]) for p in panels), run_time=0.8)
        self.play(*(p["tracker"].animate.set_value(1.0) for p in panels), run_time=SECONDS, rate_func=linear)
        self.play(*(FadeIn(p["verdict"]) for p in panels), run_time=0.6)
        self.wait(1.6)

    # -- one run's panel ------------------------------------------------------------------------------------
    def panel(self, run: Run, index: int, count: int) -> dict[str, object]:
        """A run's picture (points on D's field, or samples), its counter and its bars, all driven by one tracker
        from 0 (first snapshot) to 1 (last)."""
        left, right, bottom, top = s.safe_box()
        width = (right - left) / count
        x0 = left + index * width
        tracker = ValueTracker(0.0)
        steps = run.spread_steps(MAX_FRAMES)
        at = Timeline(steps, tracker)
        if run.kind == "toy2d":
            group, bars, counter, series, total = self.modes_view(run, at, x0, width, top - 1.25, count)
        else:
            group, bars, counter, series, total = self.digits_view(run, at, x0, width, top - 1.25, count)
        said = verdict(series, total) if run.kind == "toy2d" else digits_verdict(run, series)
        lines = said.split(": ") if count > 1 else [said]  # side by side: the reason on a line of its own
        line = VGroup(*(s.text(part, s.LABEL, s.TEXT) for part in lines)).arrange(DOWN, buff=0.1)
        line.next_to(Group(group, counter), DOWN, buff=0.25).set_x(x0 + width / 2)
        return {"group": Group(group, bars, counter), "tracker": tracker, "timeline": at, "verdict": line}

    @staticmethod
    def footer(runs: list[Run], at: Timeline) -> s.Footer:
        """The step of the run shown, or for a comparison of runs of any length, the share of training done."""
        if len(runs) == 1:
            foot = s.footer(int(runs[0].info.get("total_steps") or runs[0].steps[-1]))
            foot.tracker.add_updater(lambda m: m.set_value(at.step()))
        else:
            foot = s.footer(100, label="% of training")
            foot.tracker.add_updater(lambda m: m.set_value(100 * at.tracker.get_value()))
        return foot

    def modes_view(self, run: Run, at: Timeline, x0: float, width: float, top: float, count: int) -> tuple:
        series = modes_series(run)
        assert series is not None
        size = min(width * (0.55 if count == 1 else 0.8), 4.9 if count == 1 else 4.0)
        centre = np.array([x0 + (size / 2 + 0.1 if count == 1 else width / 2), top - size / 2, 0.0])
        box = c.PlotBox(c.data_extent(run), centre, size)
        field = at.field_image(run, box)
        centres = box.to_scene(mode_centres(run))
        rings = VGroup(*(Circle(radius=0.16, stroke_width=2, color=s.MUTED).move_to(p) for p in centres))
        rings.add_updater(
            lambda m: [
                ring.set_stroke(s.GOOD_COLOR if hit else s.MUTED, 3 if hit else 2)
                for ring, hit in zip(m, at.counts_now(series) > 0, strict=True)
            ]
        )
        points = at.points(run, box)
        counter = self.counter(series, at, MODES, "modes captured")
        if count == 1:
            counter.next_to(box.frame(), RIGHT, buff=0.6).align_to(box.frame(), UP)
            bars = self.mode_bars(run, series, at).next_to(counter, DOWN, buff=0.5, aligned_edge=LEFT)
        else:
            counter.next_to(box.frame(), DOWN, buff=0.2)
            bars = VGroup()
        return Group(field, box.frame(), rings, points), bars, counter, series, MODES

    def digits_view(self, run: Run, at: Timeline, x0: float, width: float, top: float, count: int) -> tuple:
        series = classes_series(run)
        assert series is not None
        size = min(width * (0.45 if count == 1 else 0.7), 3.9 if count == 1 else 3.2)
        grid = at.samples(run, size).move_to([x0 + size / 2 + 0.1 if count == 1 else x0 + width / 2, top - size / 2, 0])
        counter = self.counter(series, at, 10, "digits G draws")
        bars = self.digit_bars(series, at, 0.28 if count == 1 else 0.22)
        room = DIGIT_BAR_HEIGHT + 0.3  # the bars grow upwards from their base line
        if count == 1:
            counter.next_to(grid, RIGHT, buff=0.6).align_to(grid, UP)
            bars.next_to(counter, DOWN, buff=room, aligned_edge=LEFT)
        else:
            counter.next_to(grid, DOWN, buff=0.2)
            bars.next_to(counter, DOWN, buff=room)
        return grid, bars, counter, series, 10

    def counter(self, series: EvalSeries, at: Timeline, total: int, what: str) -> VGroup:
        """'5 of 8 modes captured': the count of the last measurement at or before the current step."""
        value = s.integer(int(series.values[0]), s.HEADING, s.TEXT)
        rest = s.text(f"of {total} {what}", s.LABEL, s.MUTED)
        group = VGroup(value, rest).arrange(RIGHT, buff=0.15, aligned_edge=DOWN)
        value.add_updater(lambda m: m.set_value(int(c.value_at(series.steps, series.values, at.step()))))
        return group

    def mode_bars(self, run: Run, series: EvalSeries, at: Timeline) -> VGroup:
        """Each mode's share of G's points (the snapshot's, each point counted at its nearest mode), green where
        the run's measures count the mode captured."""
        shares = at.nearest_shares(run, mode_centres(run))
        bars = VGroup()
        for k in range(MODES):
            track = Rectangle(width=2.4, height=0.22, stroke_width=1, stroke_color=s.MUTED)
            fill = Rectangle(width=0.001, height=0.22, stroke_width=0, fill_color=s.FAKE_COLOR, fill_opacity=0.9)
            name = s.text(f"mode {k + 1}", s.SMALL, s.MUTED)
            row = VGroup(name, track).arrange(RIGHT, buff=0.2)

            def grow(m: Rectangle, k: int = k, t: Rectangle = track) -> None:
                share = float(np.clip(shares()[k] * MODES / 2, 0.0, 1.0))
                m.stretch_to_fit_width(max(2.4 * share, 0.001)).align_to(t, LEFT).set_y(t.get_y())
                m.set_fill(s.GOOD_COLOR if at.counts_now(series)[k] > 0 else s.FAKE_COLOR)

            fill.add_updater(grow)
            bars.add(VGroup(row, fill))
        bars.arrange(DOWN, buff=0.1, aligned_edge=LEFT)
        note = s.text("G's points nearest each mode (full: twice 1/8)", s.SMALL, s.MUTED)
        return VGroup(bars, note.next_to(bars, DOWN, buff=0.15, aligned_edge=LEFT))

    def digit_bars(self, series: EvalSeries, at: Timeline, width: float) -> VGroup:
        """The share of G's samples the classifier calls each digit, as ten upright bars."""
        height = DIGIT_BAR_HEIGHT
        bars = VGroup()
        for k in range(10):
            base = Rectangle(width=width, height=0.02, stroke_width=0, fill_color=s.MUTED, fill_opacity=0.6)
            fill = Rectangle(width=width, height=0.001, stroke_width=0, fill_color=s.FAKE_COLOR, fill_opacity=0.9)
            name = s.text(str(k), s.SMALL, s.MUTED).next_to(base, DOWN, buff=0.08)
            fill.add_updater(
                lambda m, k=k, b=base: m.stretch_to_fit_height(max(height * at.shares_now(series)[k], 0.001)).next_to(
                    b, UP, buff=0
                )
            )
            bars.add(VGroup(base, name, fill))
        return bars.arrange(RIGHT, buff=0.08, aligned_edge=DOWN)


def digits_verdict(run: Run, series: EvalSeries) -> str:
    """What the run did, from its measures: all digits, a few (collapse), or samples that are no digits yet (then
    what the classifier calls them means little: precision says how many sit among real digits)."""
    end = int(series.values[-1])
    precision = run.evals.get("precision", series.space)
    if precision is not None and precision.values[-1] < 0.1:
        return f"G's samples are not digits yet: precision {precision.values[-1]:.2f}"
    return "G ends drawing all ten digits" if end == 10 else f"G ends drawing {end} of the ten digits: mode collapse"


class Timeline:
    """One tracker from 0 to 1 over a run's shown snapshots, and what it means: the step, G's points (interpolated
    between snapshots), D's field, G's samples, and the measures in force (the last taken at or before the step)."""

    def __init__(self, steps: list[int], tracker: ValueTracker):
        self.steps, self.tracker = np.asarray(steps, np.float64), tracker

    def position(self) -> tuple[int, float]:
        """(snapshot index k, fraction f in [0, 1) of the way to snapshot k + 1)."""
        x = float(np.clip(self.tracker.get_value(), 0.0, 1.0)) * (len(self.steps) - 1)
        k = min(int(x), len(self.steps) - 2) if len(self.steps) > 1 else 0
        return k, x - k

    def step(self) -> int:
        k, f = self.position()
        if len(self.steps) == 1:
            return int(self.steps[0])
        return int(round(self.steps[k] + f * (self.steps[k + 1] - self.steps[k])))

    def counts_now(self, series: EvalSeries) -> np.ndarray:
        i = max(int(np.searchsorted(series.steps, self.step(), side="right")) - 1, 0)
        return np.asarray(series.rows[i]["counts"], np.float64)

    def shares_now(self, series: EvalSeries) -> np.ndarray:
        counts = self.counts_now(series)
        return counts / max(counts.sum(), 1.0)

    def nearest_shares(self, run: Run, centres: np.ndarray) -> Callable[[], np.ndarray]:
        """A function giving, at the current position, the share of G's points nearest each centre."""
        per_snapshot = []
        for st in self.steps:
            pts = run.read_snapshot(int(st), ("fake",)).fake.astype(np.float64)
            nearest = np.argmin(((pts[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
            per_snapshot.append(np.bincount(nearest, minlength=len(centres)) / len(pts))

        def now() -> np.ndarray:
            k, f = self.position()
            return per_snapshot[k] if len(per_snapshot) == 1 else (1 - f) * per_snapshot[k] + f * per_snapshot[k + 1]

        return now

    def points(self, run: Run, box: c.PlotBox) -> VGroup:
        pos = [box.to_scene(run.read_snapshot(int(st), ("fake",)).fake[:MAX_POINTS]) for st in self.steps]
        dots = VGroup(*(Dot(p, radius=0.03, color=s.FAKE_COLOR).set_stroke(s.BACKGROUND, 1) for p in pos[0]))

        def move(group: VGroup) -> None:
            k, f = self.position()
            now = pos[k] if len(pos) == 1 else (1 - f) * pos[k] + f * pos[k + 1]
            for dot, p in zip(group, now, strict=True):
                dot.move_to(p)

        dots.add_updater(move)
        return dots

    def field_image(self, run: Run, box: c.PlotBox) -> c.Mobject:
        fields = [run.read_snapshot(int(st), ("field",)).field[::-1].astype(np.float64) for st in self.steps]
        img = c.picture(s.score_rgb(fields[0]), box.size, smooth=True)
        img.stretch_to_fit_width(box.size).move_to(box.center)

        def blend(m: c.Mobject) -> None:
            k, f = self.position()
            now = fields[k] if len(fields) == 1 else (1 - f) * fields[k] + f * fields[k + 1]
            m.pixel_array[..., :3] = s.score_rgb(now)

        img.add_updater(blend)
        return img

    def samples(self, run: Run, size: float) -> c.Mobject:
        grids = [c.sample_grid(run.read_snapshot(int(st), ("fake",)).fake, 16) for st in self.steps]
        img = c.picture(grids[0], size)

        def show(m: c.Mobject) -> None:
            k, f = self.position()
            m.pixel_array[..., :3] = grids[k + (1 if f > 0.5 and len(grids) > 1 else 0)]

        img.add_updater(show)
        return img
