"""D's decision field on a 2-D toy, and where G pushes its samples: GAN Lab's view, as a video of a real run.

The map is D's recorded score on a grid (``field``) in the score map of scenes/style.py, with its colour bar and the
dashed line where D is guessing (0.5), at the toy's own aspect (one scale for both axes). On it: the fixed real batch,
G's samples on the fixed noise (``fake``), each with an arrow along ``fake_grad`` (the direction in which G's loss
pushes that sample; its length on the rule ``push_length``, said in the legend), and, where the noise is 2-D, G's
image of the 16x16 grid over the noise square (``grid_fake``) as a warped mesh. Where the noise has more dimensions
there is no mesh, and the legend says why: the recorded grid spans only the first two noise dimensions (the others
0), a slice whose image need not lie anywhere near G's samples. Points off the map are markers on its edge, pointing
out. Beside it, D's mean scores over the run (metrics.jsonl, averaged by scenes/readouts.py's one rule) with a cursor
at the snapshot shown; the readouts above it print the curves' values at the footer's step.

    GANVIZ_RUN=outputs/runs/<toy2d run> manim -ql scenes/distribution.py
"""

from __future__ import annotations

import contourpy
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
    Mobject,
    Rectangle,
    Transform,
    Triangle,
    ValueTracker,
    VGroup,
    VMobject,
)

from pipeline.runformat import METRICS
from scenes import common as c
from scenes import readouts as r
from scenes import style
from scenes.readouts import claim, claims, constant, reads

N_STEPS = 16  # snapshots shown
N_POINTS = 200  # real and generated points drawn
N_ARROWS = 48  # generated points whose push is drawn
#: Arrow lengths (scene units; the frame is 8 high, so 0.25 is 15 px at 480p, 34 px at 1080p): a push at the shown
#: snapshots' 90th percentile or more is ARROW_MAX long, a weaker one shorter in proportion above ARROW_MIN (so that
#: every push can be read at 480p); a zero push draws no arrow. See ``push_length``.
ARROW_MIN, ARROW_MAX = 0.25, 0.65
PUSH_WIDTH = 2.6  # an arrow's stroke width
DOT, TIP, MARK = 0.045, 0.09, 0.085  # radii of a sample's dot, an arrow's tip and an off-map marker
BOX_SIZE = 5.3  # the map's longer side at most (scene units): less where the title takes a third line
#: Roughly where the map's square sits (its centre, at the safe area's left edge; the scene fits the square between
#: the title and the footer, DecisionField.construct): the map keeps the toy's aspect and sits at the square's left,
#: so a tall toy leaves the rest of the width to the side panel. Tests take it as the scene's data area.
BOX_CENTER = np.array([style.safe_box()[0] + BOX_SIZE / 2, -0.35, 0.0])
CIRCLE = Circle(radius=1.0).points  # unit outlines: a circle of 8 cubic curves, an upward triangle of 3
TRIANGLE = Triangle().points


class FieldMap:
    """Data coordinates -> scene at equal aspect (the toy's shape is kept): the field's extent with its longer side
    ``size`` long, in the square of that side centred on ``center``, at the square's left edge."""

    def __init__(self, extent: list[float], center: np.ndarray, size: float):
        self.lo = np.array([extent[0], extent[2]], np.float64)
        self.hi = np.array([extent[1], extent[3]], np.float64)
        self.scale = size / float(np.max(self.hi - self.lo))
        self.width, self.height = (self.hi - self.lo) * self.scale
        self.center = np.asarray(center, np.float64) - np.array([(size - self.width) / 2, 0.0, 0.0])

    def to_scene(self, pts: np.ndarray) -> np.ndarray:
        xy = (np.asarray(pts, np.float64).reshape(-1, 2) - (self.lo + self.hi) / 2) * self.scale + self.center[:2]
        return np.concatenate([xy, np.zeros((len(xy), 1))], axis=1)

    def inside(self, pts: np.ndarray) -> np.ndarray:
        pts = np.asarray(pts, np.float64).reshape(-1, 2)
        return np.all((pts >= self.lo) & (pts <= self.hi), axis=1)

    def clip(self, p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The part of segment p-q inside the map (Liang-Barsky), or None."""
        d, lo, hi = q - p, 0.0, 1.0
        for axis in (0, 1):
            if abs(d[axis]) < 1e-12:
                if not self.lo[axis] <= p[axis] <= self.hi[axis]:
                    return None
                continue
            t0, t1 = sorted(((self.lo[axis] - p[axis]) / d[axis], (self.hi[axis] - p[axis]) / d[axis]))
            lo, hi = max(lo, t0), min(hi, t1)
        return (p + lo * d, p + hi * d) if lo < hi else None

    def edge(self, pt: np.ndarray) -> tuple[np.ndarray, float]:
        """Where a point off the map is marked: on the edge, on the line from the map's centre to the point; and
        the direction (radians) from the centre to the point, which the marker points along."""
        mid, half = (self.lo + self.hi) / 2, (self.hi - self.lo) / 2
        d = np.asarray(pt, np.float64) - mid
        on_edge = mid + d / max(float(np.max(np.abs(d) / half)), 1e-12)
        return self.to_scene(on_edge)[0], float(np.arctan2(d[1], d[0]))


def shapes(template: np.ndarray, centres: np.ndarray, sizes: np.ndarray, angles: np.ndarray | None = None) -> VMobject:
    """Copies of one closed outline as one path, so manim draws them at once and moves them in one Transform: copy
    i is ``template`` turned by ``angles[i]`` (radians), scaled by ``sizes[i]`` (0: hidden) and centred on
    ``centres[i]``. Every snapshot draws as many copies, so the paths of two snapshots have the same points."""
    turns = np.zeros(len(centres)) if angles is None else np.asarray(angles, np.float64)
    cos, sin = np.cos(turns)[:, None], np.sin(turns)[:, None]
    x, y = template[None, :, 0], template[None, :, 1]
    pts = np.stack([cos * x - sin * y, sin * x + cos * y, 0 * (x + cos)], axis=2) * np.asarray(sizes)[:, None, None]
    path = VMobject()
    path.set_points((pts + np.asarray(centres, np.float64)[:, None, :]).reshape(-1, 3))
    return path


def segments(starts: np.ndarray, ends: np.ndarray) -> VMobject:
    """Straight segments as one path, one cubic curve each, from ``starts[i]`` to ``ends[i]``."""
    a, b = np.asarray(starts, np.float64), np.asarray(ends, np.float64)
    path = VMobject()
    path.set_points(np.stack([a, a + (b - a) / 3, a + 2 * (b - a) / 3, b], axis=1).reshape(-1, 3))
    return path


def contour(field: np.ndarray, fmap: FieldMap, level: float = 0.5) -> list[np.ndarray]:
    """Polylines (scene coordinates) where D's field crosses ``level``."""
    rows, cols = field.shape
    xs, ys = np.linspace(fmap.lo[0], fmap.hi[0], cols), np.linspace(fmap.lo[1], fmap.hi[1], rows)
    lines = contourpy.contour_generator(xs, ys, np.nan_to_num(field, nan=0.5)).lines(level)
    return [fmap.to_scene(line) for line in lines if len(line) >= 2]


def dashed(lines: list[np.ndarray], dash: float = 0.12, gap: float = 0.08) -> VMobject:
    """Polylines as one dashed path: a dash of ``dash`` scene units every ``dash + gap`` along each line."""
    starts, ends = [], []
    for pts in lines:
        at = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
        s = np.arange(0.0, at[-1], dash + gap)
        starts += [np.stack([np.interp(s, at, pts[:, i]) for i in range(3)], axis=1)]
        ends += [np.stack([np.interp(np.minimum(s + dash, at[-1]), at, pts[:, i]) for i in range(3)], axis=1)]
    path = segments(np.concatenate(starts), np.concatenate(ends)) if starts else VMobject()
    path.name = "dashed"
    return path.set_stroke(style.TEXT, 2.5, 0.9)


def push_length(size: np.ndarray, ref: float) -> np.ndarray:
    """An arrow's length for pushes of ``size``: ARROW_MIN + (ARROW_MAX - ARROW_MIN) min(1, size / ref) (``ref``: the
    shown snapshots' 90th percentile), 0 for a zero or unknown push. Longer arrow, stronger push; every arrow at least
    ARROW_MIN long, so its direction can be read."""
    size = np.asarray(size, np.float64)
    ok = np.isfinite(size) & (size > 0)
    frac = np.minimum(1.0, np.where(ok, size, 0.0) / max(ref, 1e-30))
    return np.where(ok, ARROW_MIN + (ARROW_MAX - ARROW_MIN) * frac, 0.0)


#: What the legend says of the arrows' lengths (``push_length``): the rule, in words (the strongest 10 %: those at
#: or above the 90th percentile).
PUSH_RULE = "longer = stronger push; the strongest 10 % at full length"


def noise_dim(run: c.Run) -> int:
    """The length of G's noise vector: run.json's config, else the fixed noise batch's width."""
    dim = run.config.get("noise_dim")
    return int(dim) if dim is not None else int(np.asarray(run.fixed.noise).shape[-1])


class DecisionField(c.RunScene):
    """D's field, the real and generated points, G's pushes and (2-D noise) its warped noise grid, snapshot by
    snapshot."""

    data_area = ((float(BOX_CENTER[0]), float(BOX_CENTER[1])), BOX_SIZE, BOX_SIZE)

    kinds = ("toy2d",)
    needs = (METRICS.d_real, METRICS.d_fake)

    def construct(self) -> None:
        run = self.run
        self.steps = run.spread_steps(N_STEPS)
        self.snaps = {s: run.snapshot(s) for s in self.steps}
        self.push_ref = self.push_scale()
        self.dims = noise_dim(run)
        self.warped = self.dims == 2 and all(s.grid_fake is not None for s in self.snaps.values())
        total = run.total_steps
        self.footer = style.footer(total, name=run.name)
        first = self.snaps[self.steps[0]]
        head = style.title("Where D says real, and where G pushes", style.about(run.config))
        if not self.warped:  # the title says why there is no noise grid
            head.add(self.no_grid_words().next_to(head, DOWN, buff=0.1, aligned_edge=LEFT))
        self.side = [head]  # parts that never change
        # the map: as large as fits between the title and the footer (at most BOX_SIZE), at the safe area's left
        top, bottom = head.get_bottom()[1] - 0.15, self.footer.group.get_top()[1] + 0.15
        size = min(BOX_SIZE, top - bottom)
        self.fmap = FieldMap(
            c.data_extent(run), np.array([style.safe_box()[0] + size / 2, (top + bottom) / 2, 0]), size
        )
        self.next_section("the-map")  # each act is a slide of `ganviz lecture` (manim's sections)
        self.play(FadeIn(self.side[0]), FadeIn(self.footer.group))
        self.legend_top = self.side[0].get_bottom()[1] - 0.3  # where the legend's next row goes
        self.show_map(first)
        self.show_samples(first)
        chart, pointer = self.chart()
        self.play(FadeIn(chart), FadeIn(pointer), run_time=0.6)
        # manim redraws every part after the first that changes: the side panel first, the changing parts last
        self.bring_to_back(*self.side, chart).bring_to_front(pointer, self.footer.group)
        self.next_section("the-run")
        for step in self.steps[1:]:
            self.advance(self.snaps[step])
            self.wait(0.25)
        self.next_section("the-verdict")
        self.play(FadeIn(self.verdict()), run_time=0.5)
        self.wait(2.0)

    # -- acts -----------------------------------------------------------------------------------------------
    def show_map(self, snap: c.Snapshot) -> None:
        """D's field with its colour bar and 0.5 line, and the real batch on it (edge markers for any off it)."""
        fm = self.fmap
        self.heat = self.heatmap(snap)
        frame = Rectangle(width=fm.width, height=fm.height, stroke_color=style.MUTED, stroke_width=1.5)
        frame.move_to(fm.center).name = "map"
        bar = style.colour_bar(height=2.4, width=0.26)
        bar.next_to(frame, RIGHT, buff=0.35).align_to(frame, DOWN).shift(UP * 0.3)
        self.right = bar.get_right()[0] + 0.5  # where the side panel starts
        self.line = dashed(contour(snap.field, fm))
        real = np.asarray(self.run.real, np.float64)[:N_POINTS, :2]
        self.real, real_off = self.points_of(real, 0.032, "real points")
        self.real.set_fill(style.REAL_COLOR, 0.85).set_stroke(width=0)
        real_off.set_fill(style.REAL_COLOR, 0.85).name = "real off-map markers"
        # the map's dashed line is where D is guessing: the same dashes across the bar at 0.5 say so
        at_half = bar[1].get_center()
        guess = dashed([np.array([at_half + LEFT * 0.2, at_half + RIGHT * 0.2])], 0.09, 0.06)
        guess.name = "guess mark"
        bar.add(guess)
        self.side.append(bar)
        self.play(FadeIn(self.heat), FadeIn(frame), FadeIn(bar), FadeIn(self.line), run_time=0.8)
        self.real_row = self.legend_row(0, "real data", style.REAL_COLOR)
        self.play(FadeIn(self.real), FadeIn(real_off), FadeIn(self.real_row))

    def show_samples(self, snap: c.Snapshot) -> None:
        """G's samples, their pushes and G's mesh (or why there is none), each with its legend entry; then the 0.5
        line's entry."""
        self.fake, self.off = self.samples_of(snap)
        self.shafts, self.tips = self.arrows_of(snap)
        fake = self.legend_row(1, "G(z)", style.FAKE_COLOR, after=self.real_row)
        self.play(FadeIn(self.fake), FadeIn(self.off), FadeIn(fake), run_time=0.6)
        if snap.fake_grad is not None:
            push = self.legend_row(2, "where G's loss pushes G(z)", style.GRAD_COLOR, note=PUSH_RULE)
        else:
            push = self.legend_row(2, "no pushes: run lacks fake_grad", style.GRAD_COLOR)
        self.play(FadeIn(self.shafts), FadeIn(self.tips), FadeIn(push), run_time=0.6)
        self.mesh = self.mesh_of(snap) if self.warped else VMobject()
        if self.warped:
            note = constant(style.text("each noise coordinate from −2 to 2", style.SMALL, style.MUTED))
            row = self.legend_row(3, "G's image of the noise square", style.G_COLOR, note=note)
            self.play(FadeIn(self.mesh), FadeIn(row), run_time=0.6)

    def no_grid_words(self) -> Mobject:
        """Why the map draws no noise grid: the noise's dimension (registered as the run's setting), in a line under
        the subtitle."""
        shown, reading = claim("config:noise_dim", self.dims)
        words = f"no noise grid: noise has {shown} dimensions, and a 2-D grid of it would not lie on G's samples"
        left, right, _, _ = style.safe_box()
        return claims(style.paragraph(words, right - left, style.SMALL, style.MUTED, buff=0.06), reading)

    def advance(self, snap: c.Snapshot) -> None:
        """The next snapshot: field and 0.5 line cross-fade, samples, pushes and mesh move, the cursor and the
        readouts follow."""
        heat, line = self.heatmap(snap), dashed(contour(snap.field, self.fmap))
        fake, off = self.samples_of(snap)
        shafts, tips = self.arrows_of(snap)
        moves = [(self.fake, fake), (self.off, off), (self.shafts, shafts), (self.tips, tips)]
        if self.warped:
            moves.append((self.mesh, self.mesh_of(snap)))
        at = self.mobjects.index(self.heat)
        self.mobjects[at:at] = [heat, line]  # under the old field, above the side panel
        self.play(
            FadeIn(heat),
            FadeOut(self.line),
            FadeIn(line),
            *(Transform(a, b) for a, b in moves),
            self.footer.tracker.animate.set_value(snap.step),
            run_time=0.8,
        )
        self.remove(self.heat, self.line)
        self.heat, self.line = heat, line

    # -- parts ------------------------------------------------------------------------------------------------
    def panel_width(self) -> float:
        return style.safe_box()[1] - self.right

    def heatmap(self, snap: c.Snapshot) -> Mobject:
        """D's field through the score map: the grid's pixels (row 0 at the top), drawn smooth over the map."""
        mob = c.picture(style.score_rgb(np.asarray(snap.field)[::-1]), self.fmap.height, smooth=True)
        mob.stretch_to_fit_width(self.fmap.width).move_to(self.fmap.center).name = "field"
        return mob

    def mesh_of(self, snap: c.Snapshot) -> VMobject:
        """G's image of the 16x16 noise grid: its rows' and columns' segments, clipped to the map (a segment wholly
        off it shrinks to a point on its edge, so every snapshot's mesh has the same segments)."""
        grid = np.asarray(snap.grid_fake, np.float64)[:, :2].reshape(16, 16, 2)
        ends = []
        for line in [*grid, *grid.transpose(1, 0, 2)]:
            for p, q in zip(line, line[1:], strict=False):
                part = self.fmap.clip(p, q)
                ends.append(part if part is not None else (np.clip(p, self.fmap.lo, self.fmap.hi),) * 2)
        a, b = (self.fmap.to_scene(np.array([e[i] for e in ends])) for i in (0, 1))
        mesh = segments(a, b).set_stroke(style.G_COLOR, 1.5, 0.75)
        mesh.name = "noise grid"
        return mesh

    def points_of(self, pts: np.ndarray, radius: float, name: str) -> tuple[VMobject, VMobject]:
        """Dots at the points on the map, and a marker on the map's edge pointing out for each one off it (a point
        off the map is never pinned to its edge as if it were there)."""
        pts = np.asarray(pts, np.float64)
        ok = self.fmap.inside(pts)
        edges = [
            self.fmap.edge(p) if not on else (self.fmap.to_scene(p)[0], 0.0) for p, on in zip(pts, ok, strict=True)
        ]
        at = np.array([e[0] for e in edges]).reshape(-1, 3)
        dots = shapes(CIRCLE, at, np.where(ok, radius, 0.0))
        dots.name = name
        angles = np.array([e[1] for e in edges]) - np.pi / 2  # the triangle points up: turn it to point out
        marks = shapes(TRIANGLE, at, np.where(ok, 0.0, MARK), angles).set_stroke(width=0)
        return dots, marks

    def samples_of(self, snap: c.Snapshot) -> tuple[VMobject, VMobject]:
        """G's samples as outlined dots, and a marker on the map's edge pointing out for each one off the map."""
        dots, marks = self.points_of(np.asarray(snap.fake, np.float64)[:N_POINTS, :2], DOT, "generated points")
        dots.set_fill(style.FAKE_COLOR, 1.0).set_stroke(width=0)
        dots.set_background_stroke(color=style.BACKGROUND, width=2.5)  # outlines under fills
        marks.set_fill(style.FAKE_COLOR, 1.0).name = "off-map markers"
        return dots, marks

    def push_scale(self) -> float:
        """The push drawn at full length: the 90th percentile of |fake_grad| over the snapshots shown."""
        pushes = [s.fake_grad[:N_ARROWS] for s in self.snaps.values() if s.fake_grad is not None]
        size = np.linalg.norm(np.concatenate(pushes), axis=1) if pushes else np.zeros(0)
        size = size[np.isfinite(size) & (size > 0)]
        return float(np.percentile(size, 90)) if size.size else 1.0

    def arrows_of(self, snap: c.Snapshot) -> tuple[VMobject, VMobject]:
        """An arrow from each of the first N_ARROWS samples along its push (fake_grad), ``push_length`` long; none
        for a sample off the map."""
        pts = np.asarray(snap.fake, np.float64)[:N_ARROWS, :2]
        push = np.zeros_like(pts) if snap.fake_grad is None else np.asarray(snap.fake_grad, np.float64)[:N_ARROWS, :2]
        size = np.linalg.norm(push, axis=1)
        length = np.where(self.fmap.inside(pts), push_length(size, self.push_ref), 0.0)
        unit = np.where(size[:, None] > 0, push / np.maximum(size, 1e-30)[:, None], 0.0)
        start = self.fmap.to_scene(pts)
        end = start + np.concatenate([unit * length[:, None], np.zeros((len(pts), 1))], axis=1)
        tip = np.minimum(TIP, 0.45 * length)  # a zero push gets no tip
        neck = end - np.concatenate([unit * tip[:, None], np.zeros((len(pts), 1))], axis=1)  # the tip's centre
        shafts = segments(start, neck).set_stroke(style.GRAD_COLOR, PUSH_WIDTH, 0.95)
        shafts.name = "pushes"
        tips = shapes(TRIANGLE, neck, tip, np.arctan2(unit[:, 1], unit[:, 0]) - np.pi / 2)
        tips.set_fill(style.GRAD_COLOR, 1.0).set_stroke(width=0).name = "push tips"
        return shafts, tips

    def legend_row(
        self, i: int, words: str, colour: str, note: Mobject | str | None = None, after: VGroup | None = None
    ) -> VGroup:
        """Entry ``i`` of the legend beside the map, below the last one (or on the row of the entry ``after``, right
        of it): a sample of the mark, then its words in its colour, and (``note``) a muted line or two under them."""
        icon = [
            lambda: Dot(radius=0.05, color=style.REAL_COLOR),
            lambda: Dot(radius=DOT + 0.01, color=style.FAKE_COLOR).set_stroke(style.BACKGROUND, 1.2),
            lambda: Arrow(LEFT * 0.2, RIGHT * 0.2, buff=0, color=style.GRAD_COLOR, stroke_width=3, tip_length=0.12),
            lambda: VGroup(*(Line(LEFT * 0.2 + UP * d, RIGHT * 0.2 + UP * d / 2) for d in (-0.08, 0.08))),
            lambda: dashed([np.array([[-0.2, 0, 0], [0.2, 0, 0]])], 0.09, 0.06),
        ][i]()
        if i == 3:
            icon.set_stroke(style.G_COLOR, 2, 1.0 if self.warped else 0.0)
        label = style.text(words, style.SMALL, colour).next_to(icon, RIGHT, buff=0.2)
        if any(ch.isdigit() for ch in words):  # 'D = 0.5': a fixed level, not a value of the run
            constant(label)
        row = VGroup(icon, label)
        if note is not None:
            if isinstance(note, str):
                note = constant(style.paragraph(note, self.panel_width() - 0.45, style.SMALL, style.MUTED, 0.06))
            row.add(note.next_to(label, DOWN, buff=0.08, aligned_edge=LEFT))
        if after is not None:
            row.next_to(after, RIGHT, buff=0.5)
            self.side.append(row)
            return row
        row.move_to([self.right, self.legend_top, 0], aligned_edge=UP + LEFT)
        self.legend_top = row.get_bottom()[1] - 0.16
        self.side.append(row)
        return row

    def chart(self) -> tuple[VGroup, VGroup]:
        """D(x) and D(G(z)) over the run (metrics.jsonl, averaged over readouts.window steps), a dashed 0.5, the
        curves' values at the footer's step above the chart (registered readings); and apart, what moves: a cursor
        at that step with a dot on each curve at exactly the readouts' values."""
        run = self.run
        total = float(run.total_steps)
        self.width = r.window(run)
        tracker = self.footer.tracker
        note = self.score_readouts(tracker)  # above the chart; below the legend, room for the closing line
        x0, x1 = self.right + 0.55, style.safe_box()[1] - 0.1
        y0 = -2.6
        y1 = min(-0.75, self.legend_top - self.closing_room() - note.height - self.readouts.height - 0.33)
        y1 = max(y1, y0 + 1.2)

        def at(step: np.ndarray, value: np.ndarray) -> np.ndarray:
            return np.stack([x0 + step / total * (x1 - x0), y0 + np.clip(value, 0, 1) * (y1 - y0), 0 * step], axis=1)

        frame = Rectangle(width=x1 - x0, height=y1 - y0, stroke_color=style.MUTED, stroke_width=1, name="chart")
        frame.move_to([(x0 + x1) / 2, (y0 + y1) / 2, 0])
        half = dashed([at(np.array([0.0, total]), np.array([0.5, 0.5]))], 0.1, 0.08).set_stroke(style.MUTED, 1.5)
        parts = VGroup(frame, half)
        for v in (0, 0.5, 1):
            tick = style.text(f"{v:g}", style.SMALL, style.MUTED).next_to([x0, y0 + v * (y1 - y0), 0], LEFT, 0.1)
            parts.add(constant(tick))
        ends = []
        for x, words, edge in ((x0, "0", LEFT), (x1, f"{int(total):,}", RIGHT)):  # inside the chart's width
            tick = style.text(words, style.SMALL, style.MUTED).next_to([x, y0, 0], DOWN, 0.08, aligned_edge=edge)
            parts.add(constant(tick))
            ends.append(tick)
        cursor = Line([x0, y0, 0], [x0, y1, 0], stroke_color=style.TEXT, stroke_width=1.5, name="cursor")
        cursor.add_updater(lambda mob: mob.set_x(x0 + tracker.get_value() / total * (x1 - x0)))
        dots = VGroup()
        for (steps, values), colour in zip(self.scores, (style.REAL_COLOR, style.FAKE_COLOR), strict=True):
            ok = np.isfinite(values)
            curve = VMobject(stroke_color=colour, stroke_width=2.5, name="curve")
            parts.add(curve.set_points_as_corners(at(steps[ok], values[ok])))
            dot = Dot(radius=0.06, color=colour, name="score dot")
            dot.add_updater(lambda d, s=steps, v=values: self.place_dot(d, at, s, v, tracker.get_value()))
            dots.add(dot)
        self.readouts.next_to(frame, UP, buff=0.15).set_x(self.right, LEFT)  # on the legend's left edge
        for number in self.readouts[1::2]:
            number.update()
        note.next_to(self.readouts, UP, buff=0.08).set_x(self.right, LEFT)
        parts.add(note)
        for dot in dots:
            dot.update()
        return parts.add(self.readouts), VGroup(cursor, dots)

    def score_readouts(self, tracker: ValueTracker) -> Mobject:
        """The curves' values at the footer's step (registered readings) in ``self.readouts``, and the chart's heading
        that names their average (returned)."""
        run = self.run
        self.readouts = VGroup()
        self.scores = []  # (steps, averaged values): what the curves draw, the dots sit on and the readouts print
        for column, name, colour in (
            (METRICS.d_real, "D(x)", style.REAL_COLOR),
            (METRICS.d_fake, "D(G(z))", style.FAKE_COLOR),
        ):
            steps, values = r.series(run, column, self.width)
            self.scores.append((steps.astype(np.float64), values))
            number = reads(style.number(0.0, 2, style.SMALL, colour), f"metric:{column}", average=self.width)
            number.add_updater(lambda m, s=steps, v=values: self.show_score(m, r.at(s, v, tracker.get_value())))
            self.readouts.add(style.text(name, style.SMALL, colour), number)
        self.readouts.arrange(RIGHT, buff=0.15)
        self.readouts[2:].shift(RIGHT * 0.3)
        words = f"D's mean scores, {r.average_words(self.width)}"  # the chart's heading, above the readouts
        note = constant(style.text(words, style.SMALL, style.MUTED))
        if note.width > style.safe_box()[1] - self.right:  # a narrow panel: the shorter words
            note = constant(style.text(f"mean scores, {r.average_words(self.width)}", style.SMALL, style.MUTED))
        return note

    @staticmethod
    def show_score(m: Mobject, value: float) -> None:
        """A readout's value (hidden before the first logged step, when nothing is known yet)."""
        if np.isfinite(value):
            style.show_value(m, value)
            m.set_opacity(1.0)
        else:
            m.set_value(0.0)
            m.number = float("nan")
            m.set_opacity(0.0)

    @staticmethod
    def place_dot(dot: Mobject, at: object, steps: np.ndarray, values: np.ndarray, step: float) -> None:
        """A curve's dot at the curve's value at ``step`` (the readout's value), hidden where there is none."""
        value = r.at(steps, values, step)
        dot.move_to(at(np.array([step]), np.array([np.nan_to_num(value, nan=0.5)]))[0])
        dot.set_opacity(1.0 if np.isfinite(value) else 0.0)

    def closing_room(self) -> float:
        """The height the closing line takes (one line, or two in a narrow panel)."""
        return self.closing("D ends barely telling G(z) from real data").height + 0.2

    def closing(self, words: str) -> Mobject:
        line = style.text(words, style.LABEL)
        if line.width > self.panel_width():  # a narrow panel: two lines
            cut = words.rfind(" ", 0, len(words) // 2 + 4)
            line = VGroup(*(style.text(w, style.LABEL) for w in (words[:cut], words[cut + 1 :])))
            line.arrange(DOWN, buff=0.08, aligned_edge=LEFT)
        return line

    def verdict(self) -> Mobject:
        """One line on how the run ends, chosen from D's averaged mean scores at its last snapshot (the readouts)."""
        real, fake = (r.at(steps, values, self.steps[-1]) for steps, values in self.scores)
        if abs(real - fake) < 0.1:
            words = "D ends barely telling G(z) from real data"
        elif real > fake:
            words = "D ends still telling G(z) from real data"
        else:
            words = "D ends scoring G(z) above real data"
        return self.closing(words).move_to([self.right, self.legend_top, 0], aligned_edge=UP + LEFT)
