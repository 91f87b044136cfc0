"""Gradient flow: how much of D's verdict reaches each layer of D and of G, update after update.

G and D are drawn as their recorded layers (run.json ``layer_shapes_*``/``layer_types_*``), each sized by its
activation volume (log) and filled by its recorded gradient norm (``grad_norm_g``/``grad_norm_d``) on one log colour
scale with a labelled bar. Between them sits what G made at that snapshot, with the fixed real batch above it, both
entering D. At every update shown, a pulse carries the gradient back from D's output through D, into G(z) and through
G, recolouring each layer as it passes; under each layer a sparkline of its norm over the run follows the step. With
a second run (``--compare``, e.g. ``minimax`` against ``bce``) both rows share the colour scale, so a G whose gradient
vanishes stays dark.

    GANVIZ_RUN=outputs/runs/<run> manim -ql scenes/gradient_flow.py
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from manim import (
    DOWN,
    LEFT,
    UP,
    Dot,
    FadeIn,
    FadeOut,
    ImageMobject,
    Line,
    Mobject,
    Rectangle,
    ValueTracker,
    VGroup,
    VMobject,
)

from pipeline.run import Layer
from scenes import common as c
from scenes import style

N_UPDATES = 10  # updates shown after step 0
NORM_TYPES = {"BatchNorm1d": "BN", "BatchNorm2d": "BN", "GroupNorm": "GN", "LayerNorm": "LN", "InstanceNorm2d": "IN"}
SHORT_TYPES = {"ConvTranspose2d": "ConvT", "Conv2d": "Conv", "Linear": "Linear", **NORM_TYPES}
BLOCK_W, SLAB_W = 0.5, 0.22  # widths of a layer with weights and of a normalisation layer
ROW_Y, ROWS_Y = 0.65, (1.25, -1.13)  # the blocks' centre line: one run, two runs compared


def short_type(layer: Layer) -> str:
    return SHORT_TYPES.get(layer.type or "", (layer.type or "")[:6])


def shape_lines(shape: tuple[int, ...] | None) -> list[str]:
    """A layer's output shape as one or two short lines: '7×7' over '128 ch', or '256' for a vector."""
    if not shape:
        return []
    if len(shape) == 3 and shape[1] * shape[2] > 1:
        return [f"{shape[1]}×{shape[2]}", f"{shape[0]} ch"]
    return [f"{int(np.prod(shape))}"]


def volume(layer: Layer) -> float:
    return float(np.prod(layer.shape)) if layer.shape else float("nan")


def sample_pixels(run: c.Run, samples: np.ndarray, colour: str, px: int = 96) -> np.ndarray:
    """What a sample view shows: 9 images as a 3x3 grid, or a toy's points as dots of ``colour`` in a px x px
    square over the run's fixed plot window at equal aspect (points outside it left out: a thumbnail)."""
    if samples.ndim == 4:
        return c.sample_grid(samples, 9)
    out = np.full((px, px, 3), 24, np.uint8)
    pts = np.asarray(samples, np.float64)
    ext = c.data_extent(run) if pts.shape[1] == 2 else None
    if ext is None:  # 1-D: values along x, spread over y by index so that they do not sit on one line
        lo, hi = (float(v) for v in run.fixed.field_extent[:2])
        u, v = (pts[:, 0] - lo) / (hi - lo), (np.arange(len(pts)) * 0.618) % 1 * 0.8 + 0.1
    else:
        span = max(ext[1] - ext[0], ext[3] - ext[2])
        u = (pts[:, 0] - (ext[0] + ext[1]) / 2) / span + 0.5
        v = (pts[:, 1] - (ext[2] + ext[3]) / 2) / span + 0.5
    ok = (u >= 0) & (u < 1) & (v >= 0) & (v < 1)
    col, row = (u[ok] * (px - 3)).astype(int), ((1 - v[ok]) * (px - 3)).astype(int)
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            out[row + dy, col + dx] = rgb
    return out


def along(points: list[np.ndarray], u: float) -> np.ndarray:
    """The point at fraction ``u`` of the length of the polyline through ``points``."""
    pts = np.asarray(points, np.float64)
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    at = np.concatenate([[0.0], np.cumsum(seg)])
    d = float(np.clip(u, 0.0, 1.0)) * at[-1]
    i = min(int(np.searchsorted(at, d, side="right")) - 1, len(seg) - 1)
    t = (d - at[i]) / seg[i] if seg[i] > 0 else 0.0
    return pts[i] + t * (pts[i + 1] - pts[i])


@dataclass
class Row:
    """One run drawn as a pipeline: z -> G's layers -> G(z) (real x above it) -> D's layers -> D(G(z)).

    ``blocks`` are G's layers then D's in forward order, the order of ``norms``' rows. ``still`` holds what never
    changes, ``live`` what animations and updaters change (kept apart so that manim draws the still part once)."""

    run: c.Run
    steps: np.ndarray  # snapshot steps with gradient norms, ascending
    norms: np.ndarray  # (layers of G then D, steps)
    layers: list[Layer]
    n_g: int
    blocks: list[Rectangle] = field(default_factory=list)
    still: list[Mobject] = field(default_factory=list)
    live: list[Mobject] = field(default_factory=list)
    wire: list[np.ndarray] = field(default_factory=list)  # the backward path: D's output, D, G(z), G, z
    wire_blocks: list[int | None] = field(default_factory=list)  # the block at each point of the wire, if any
    z: Mobject | None = None
    fake: ImageMobject | None = None
    real: ImageMobject | None = None
    score: ValueTracker = field(default_factory=lambda: ValueTracker(0.0))

    @classmethod
    def of(cls, run: c.Run) -> Row:
        mats = run.layer_grad_norms()
        steps, _, g = mats["g"]
        d = mats["d"][2]
        layers_g, layers_d = run.layers("g"), run.layers("d")
        if (len(layers_g), len(layers_d)) != (len(g), len(d)):  # names missing or not the norms': by number
            layers_g = [Layer(f"G{i + 1}", None, None) for i in range(len(g))]
            layers_d = [Layer(f"D{i + 1}", None, None) for i in range(len(d))]
        return cls(run, np.asarray(steps), np.concatenate([g, d]), layers_g + layers_d, len(layers_g))

    @property
    def total(self) -> float:
        return float(self.run.info.get("total_steps", self.steps[-1]))

    def at(self, step: int) -> np.ndarray:
        """Every layer's gradient norm at the snapshot ``step`` (NaN at step 0)."""
        return self.norms[:, int(np.searchsorted(self.steps, step))]

    def match(self, step: int, total: float) -> int:
        """This run's readable snapshot at the same fraction of its run as ``step`` is of ``total``."""
        steps = np.asarray(self.run.steps)
        return int(steps[np.argmin(np.abs(steps - step / total * self.total))])


class GradientFlow(c.RunScene):
    """Layers filled by their gradient norms; a pulse carries each shown update back from D's output to z."""

    def construct(self) -> None:
        runs = [self.run] + ([self.other_run] if self.other_run is not None else [])
        rows = [Row.of(run) for run in runs]
        self.compact = len(rows) > 1
        self.scale = style.LogScale.of(np.concatenate([r.norms.ravel() for r in rows]))
        self.footer = style.footer(int(rows[0].total))
        self.notes: list[str] = []
        for i, row in enumerate(rows):
            self.lay_out(row, y=ROWS_Y[i] if self.compact else ROW_Y, first=i == 0)
        self.introduce(rows)
        for note in self.notes:  # what this run's drawing leaves out
            self.play(FadeIn(caption := self.say(note)), run_time=0.3)
            self.wait(1.5)
            self.play(FadeOut(caption), run_time=0.3)
        caption = self.say("forward: z through G into G(z); G(z) and real x through D")
        self.play(FadeIn(caption), run_time=0.3)
        self.pass_forward(rows)
        self.play(FadeOut(caption), run_time=0.3)
        caption = self.say("backward: each update's gradient, from D's output to z")
        self.play(FadeIn(caption), run_time=0.3)
        for step in self.run.spread_steps(N_UPDATES + 1)[1:]:
            self.update_to(rows, step)
        self.play(FadeOut(caption), run_time=0.3)
        self.play(FadeIn(self.say(self.verdict(rows))), run_time=0.5)
        self.wait(2.0)

    # -- acts -----------------------------------------------------------------------------------------------
    def introduce(self, rows: list[Row]) -> None:
        """Title, the layers with their names and sparklines, the samples, the colour bar and the footer."""
        run = self.run
        if self.compact:
            other = rows[1].run
            sub = f"top: {c.loss_name(run)} ({run.name})   bottom: {c.loss_name(other)} ({other.name})"
        else:
            sub = f"{run.variant}, {c.loss_name(run)} loss · {run.name}"
        heading = style.title("How much gradient reaches each layer?", sub)
        left, right, _, _ = style.safe_box()
        bar = style.log_bar(self.scale, 4.2, 0.2, "")
        bar.add(style.text("colour: gradient norm", style.SMALL, style.MUTED).next_to(bar[1], LEFT, buff=0.3))
        bar.move_to([right - bar.width / 2, -2.72, 0])
        line = style.text("line: a layer's norm over the run", style.SMALL, style.MUTED)
        bar.add(line.move_to([left, bar[1].get_y(), 0], aligned_edge=LEFT))
        self.play(FadeIn(heading), FadeIn(self.footer.group), run_time=0.6)
        # still parts first: manim redraws everything after the first part that moves
        self.play(*(FadeIn(m) for m in [bar, *(m for r in rows for m in r.still)]), run_time=0.8)
        self.play(*(FadeIn(m) for r in rows for m in r.live), run_time=0.5)
        self.bring_to_front(self.footer.group)

    def pass_forward(self, rows: list[Row]) -> None:
        """A grey pulse from z through G, G(z) and D to D's output, and one from the real batch into D."""
        moves, dots = [], []
        for row in rows:
            path = list(reversed(row.wire))
            into_d = [row.real.get_right(), row.blocks[row.n_g].get_center()]
            dots += [self.pulse(path, style.FORWARD_COLOR), self.pulse(into_d, style.REAL_COLOR)]
            for dot in dots[-2:]:
                moves.append(dot.tracker.animate.set_value(1.0))
            start = float(np.mean(row.run.snapshot(row.run.steps[0]).d_fake))
            moves.append(row.score.animate.set_value(start))
        self.add(*dots)
        self.play(*moves, run_time=1.6)
        self.remove(*dots)

    def update_to(self, rows: list[Row], step: int) -> None:
        """One shown update: G's new samples and D's score, then the gradient pulse back to z."""
        moves, pulses, recolour, old = [self.footer.tracker.animate.set_value(step)], [], [], []
        for row in rows:
            snap = row.run.snapshot(row.match(step, rows[0].total))
            new = self.view(row.run, snap.fake, style.FAKE_COLOR, row.fake.height).move_to(row.fake)
            moves += [FadeIn(new), row.score.animate.set_value(float(np.mean(snap.d_fake)))]
            old.append(row.fake)
            row.fake = new
            colours = [style.grad_hex(self.scale.position(v)) for v in row.at(snap.step)]
            pulse = self.pulse(row.wire, style.GRAD_COLOR)
            self.passing(row, colours, pulse)
            pulses.append(pulse)
            recolour.append((row, colours))
        self.play(*moves, run_time=0.5)
        self.remove(*old)  # after the new samples faded in over them
        self.add(*pulses)
        self.play(*(p.tracker.animate.set_value(1.0) for p in pulses), run_time=1.2)
        self.remove(*pulses)
        for row, colours in recolour:  # the end state, whatever frames the updaters saw
            for block, colour in zip(row.blocks, colours, strict=True):
                block.clear_updaters().set_fill(colour, 1.0)

    # -- parts ------------------------------------------------------------------------------------------------
    def lay_out(self, row: Row, y: float, first: bool) -> None:
        """Place the row's parts along the safe area's width, the blocks centred at height ``y``."""
        left, right, _, _ = style.safe_box()
        compact = self.compact
        height, view = (0.9, 0.72) if compact else (1.9, 1.3)
        known = all(layer.shape for layer in row.layers)
        vmax = max(volume(layer) for layer in row.layers) if known else 1.0
        # below the blocks: shape labels, then sparklines; in a comparison the first row's sparklines come first and
        # the second row's sit above its blocks, so the first row's shape labels between the rows serve both
        spark_h = 0.3 if compact else 0.6
        label_top, spark_top = y - height / 2, y - height / 2 - 0.75
        if compact:
            spark_top = y - height / 2 - 0.1 if first else y + height / 2 + 0.1 + spark_h
            label_top = spark_top - spark_h

        def block_height(layer: Layer) -> float:
            if not known:
                return 0.6 * height
            return height * (0.22 + 0.78 * np.log10(volume(layer)) / max(np.log10(vmax), 1e-9))

        out_w, z_w, gap = style.text("D(G(z))", style.SMALL).width, 0.3, 0.45
        fixed = z_w + view + out_w + 3 * gap + 0.1
        widths, groups = self.columns(row.layers, right - left - fixed)
        x = left + max(0.0, (right - left - fixed - sum(widths)) / 2)
        z = self.noise_strip(row, height * 0.8).move_to([x + z_w / 2, y, 0])
        row.z = z
        row.still.append(z)
        x += z_w + gap
        for k, (layer, w) in enumerate(zip(row.layers, widths, strict=True)):
            if k == row.n_g:  # between G and D: the samples
                self.place_views(row, view, x + 0.1 + view / 2, y, named=first)
                x += view + gap + 0.1
            net = style.G_COLOR if k < row.n_g else style.D_COLOR
            bw = min(SLAB_W if layer.type in NORM_TYPES else BLOCK_W, w - 0.08)
            block = Rectangle(width=bw, height=block_height(layer), stroke_color=net, stroke_width=2)
            block.set_fill(style.NO_GRAD_COLOR, 1.0).move_to([x + w / 2, y, 0]).name = "layer"
            row.blocks.append(block)
            line, dot = self.sparkline(row, k, max(w - 0.14, 0.5 * w), block.get_x(), spark_top, spark_h)
            row.still.append(line)
            row.live.append(dot)
            x += w
        if first:  # each group of columns (a layer and the normalisations after it) is named at its middle
            for k, n in groups:
                mid = (row.blocks[k].get_left()[0] + row.blocks[k + n - 1].get_right()[0]) / 2
                row.still.append(self.layer_labels(row.layers[k], mid, y + height / 2, label_top))
        self.place_output(row, x + gap / 2 + out_w / 2, y)
        row.still.insert(0, self.wires(row))
        row.live[:0] = row.blocks  # first among the live parts: they move only while a pulse passes
        if first:
            row.still.append(self.net_names(row, y + height / 2 + (0.6 if known else 0.4)))
        if not known and first:
            self.notes.append("this run did not record its layer shapes: sizes not to scale")
        elif first and not groups:
            self.notes.append(f"{len(row.layers)} layers: too many to name here (see run.json)")

    def columns(self, layers: list[Layer], room: float) -> tuple[list[float], list[tuple[int, int]]]:
        """Each layer's column width, and the groups named (first layer, number of layers). Every layer is named
        while that fits in ``room``; else only layers with weights, their names spread over the normalisations
        that follow them; else none, and the columns narrow to fit."""
        norm = [layer.type in NORM_TYPES for layer in layers]
        block = [(SLAB_W if n else BLOCK_W) + 0.14 for n in norm]

        def label(layer: Layer) -> float:  # what layer_labels writes
            words = [short_type(layer), *([] if layer.type in NORM_TYPES else shape_lines(layer.shape))]
            return max((style.text(w, style.SMALL).width for w in words if w), default=0.0) + 0.14

        each = [max(b, label(layer)) for b, layer in zip(block, layers, strict=True)]
        if sum(each) <= room:
            return each, [(k, 1) for k in range(len(layers))]
        groups = []
        for k, is_norm in enumerate(norm):
            if is_norm and groups:
                groups[-1] = (groups[-1][0], groups[-1][1] + 1)
            else:
                groups.append((k, 1))
        widths = list(block)
        for k, n in groups:  # the group's first column takes what its name needs beyond the group's blocks
            widths[k] += max(0.0, label(layers[k]) - sum(block[k : k + n]))
        if sum(widths) <= room:
            return widths, groups
        return [b * room / sum(block) for b in block], []

    def noise_strip(self, row: Row, height: float) -> Mobject:
        """The first fixed noise vector's first 12 values as grey cells: what G starts from."""
        z = np.asarray(row.run.fixed.noise[0], np.float64).ravel()[:12]
        grey = (np.clip(z / 2.5, -1, 1) * 100 + 128).astype(np.uint8)
        strip = c.picture(np.repeat(grey[:, None, None], 3, axis=2), height)
        strip.stretch_to_fit_width(0.22).name = "noise"
        return c.Group(strip, style.text("z", style.SMALL, style.MUTED).next_to(strip, DOWN, buff=0.08))

    def place_views(self, row: Row, size: float, x: float, y: float, named: bool) -> None:
        """G(z) at step 0 below the blocks' line, the fixed real batch above it: both enter D (``named``: with
        their names; a compared row's views sit under the first row's)."""
        row.fake = self.view(row.run, row.run.snapshot(row.run.steps[0]).fake, style.FAKE_COLOR, size)
        row.real = self.view(row.run, row.run.real, style.REAL_COLOR, size)
        row.real.move_to([x, y + size / 2 + 0.06, 0])
        row.fake.move_to([x, y - size / 2 - 0.06, 0])
        names = VGroup(
            style.text("real x", style.SMALL, style.REAL_COLOR).next_to(row.real, UP, buff=0.08),
            style.text("G(z)", style.SMALL, style.FAKE_COLOR).next_to(row.fake, DOWN, buff=0.08),
        )
        row.still += [row.real, names] if named else [row.real]
        row.live.append(row.fake)

    def view(self, run: c.Run, samples: np.ndarray, colour: str, size: float) -> ImageMobject:
        mob = c.picture(sample_pixels(run, samples, colour), size)
        mob.name = "generated" if colour == style.FAKE_COLOR else "real"
        return mob

    def place_output(self, row: Row, x: float, y: float) -> None:
        """D's mean score for G's samples at the shown snapshot, where the backward pass starts."""
        name = style.text("D(G(z))", style.SMALL, style.FAKE_COLOR)
        value = style.number(0.0, 2, style.SMALL, style.FAKE_COLOR)
        VGroup(name, value).arrange(DOWN, buff=0.1).move_to([x, y, 0])
        value.add_updater(self.showing(row.score))
        row.still.append(name)
        if self.compact:  # which run this row is
            row.still.append(style.text(c.loss_name(row.run), style.SMALL, style.MUTED).next_to(name, UP, buff=0.15))
        row.live.append(value)
        row.wire = [name.get_left() + LEFT * 0.25]

    def showing(self, tracker: ValueTracker) -> Callable[[Mobject], None]:
        """An updater that sets a number to ``tracker``'s value only when it changed: DecimalNumber rebuilds its
        glyphs on every set_value (~40 ms), and most frames it stands still."""

        def update(m: Mobject) -> None:
            if m.get_value() != tracker.get_value():
                m.set_value(tracker.get_value())

        return update

    def layer_labels(self, layer: Layer, x: float, top: float, bottom: float) -> VGroup:
        """The layer's kind above the row, its output shape below it, centred at ``x``."""
        same = layer.type in NORM_TYPES  # a normalisation keeps the shape of the layer before it: not repeated
        lines = VGroup(*(style.text(s, style.SMALL, style.MUTED) for s in ([] if same else shape_lines(layer.shape))))
        if len(lines):
            lines.arrange(DOWN, buff=0.06).next_to([x, bottom, 0], DOWN, buff=0.1)
        if layer.type:
            lines.add(style.text(short_type(layer), style.SMALL, style.MUTED).move_to([x, top + 0.22, 0]))
        return lines

    def sparkline(self, row: Row, k: int, width: float, x: float, top: float, h: float) -> tuple[VGroup, Dot]:
        """Layer k's norm over the run on the shared log scale, and a dot at the step the footer shows."""
        ok = np.isfinite(row.norms[k]) & (row.norms[k] > 0)
        steps = row.steps[ok]
        xs, ys = steps / row.total, np.array([self.scale.position(v) for v in row.norms[k][ok]])
        x0, y0 = x - width / 2, top - h
        base = Line([x0, y0, 0], [x0 + width, y0, 0], stroke_color=style.MUTED, stroke_width=1)
        line = VMobject(stroke_color=style.GRAD_COLOR, stroke_width=1.5, name="sparkline")
        if len(xs) >= 2:
            line.set_points_as_corners(np.stack([x0 + xs * width, y0 + ys * h, 0 * xs], axis=1))
        dot = Dot(radius=0.045, color=style.TEXT, name="cursor")
        tracker = self.footer.tracker

        def follow(m: Dot) -> None:
            s = tracker.get_value() / row.total
            if len(xs) == 0 or s < xs[0]:
                m.set_opacity(0)
            else:
                m.set_opacity(1).move_to([x0 + s * width, y0 + np.interp(s, xs, ys) * h, 0])

        dot.add_updater(follow)
        follow(dot)
        return VGroup(base, line), dot

    def wires(self, row: Row) -> VGroup:
        """Thin grey links of the forward pass; the backward pulse travels them the other way."""
        n_g, n_d = row.n_g, len(row.blocks) - row.n_g
        g = [b.get_center() for b in row.blocks[:n_g]]
        d = [b.get_center() for b in row.blocks[n_g:]]
        fake_in, fake_out, out = row.fake.get_left(), row.fake.get_right(), row.wire[0]
        forward = [row.z[0].get_right(), *g, fake_in, fake_out, *d, out]
        row.wire = list(reversed(forward))
        row.wire_blocks = list(reversed([None, *range(n_g), None, None, *range(n_g, n_g + n_d), None]))
        links = [(a, b) for i, (a, b) in enumerate(zip(forward, forward[1:], strict=False)) if i != n_g + 1]
        links.append((row.real.get_right(), d[0]))
        return VGroup(*(Line(a, b, stroke_color=style.FORWARD_COLOR, stroke_width=1.5) for a, b in links))

    def net_names(self, row: Row, y: float) -> VGroup:
        g, d = row.blocks[: row.n_g], row.blocks[row.n_g :]
        names = VGroup(
            style.text("generator G", style.LABEL, style.G_COLOR),
            style.text("discriminator D", style.LABEL, style.D_COLOR),
        )
        for name, blocks in zip(names, (g, d), strict=True):
            name.move_to([(blocks[0].get_x() + blocks[-1].get_x()) / 2, y, 0])
        return names

    def say(self, words: str, y: float = -2.05) -> Mobject:
        return style.text(words, style.BODY).move_to([style.safe_box()[0], y, 0], aligned_edge=LEFT)

    def pulse(self, path: list[np.ndarray], colour: str) -> Dot:
        """A glowing dot that travels ``path`` as its ``tracker`` goes from 0 to 1: a glow of ``colour`` round a light
        core with a dark rim, so it stands out on a block of its own colour."""
        dot = Dot(path[0], radius=0.17, color=colour, fill_opacity=0.45, name="pulse")
        dot.add(Dot(path[0], radius=0.07, color=style.TEXT).set_stroke(style.BACKGROUND, 2))
        dot.tracker = ValueTracker(0.0)
        dot.add_updater(lambda m: m.move_to(along(path, dot.tracker.get_value())))
        return dot

    def passing(self, row: Row, colours: list[str], pulse: Dot) -> None:
        """As the backward ``pulse`` passes a layer, the layer takes its new colour and the pulse takes it too.
        Updaters on the blocks for the pulse's run (they also tell manim to redraw the blocks every frame)."""
        seg = np.linalg.norm(np.diff(np.asarray(row.wire), axis=0), axis=1)
        at = np.concatenate([[0.0], np.cumsum(seg)]) / max(seg.sum(), 1e-9)
        reach = [(a, k) for a, k in zip(at, row.wire_blocks, strict=True) if k is not None]
        for a, k in reach:
            row.blocks[k].add_updater(
                lambda b, a=a, k=k: b.set_fill(colours[k], 1.0) if pulse.tracker.get_value() >= a - 1e-9 else None
            )

        def take_colour(m: Dot) -> None:
            passed = [k for a, k in reach if a <= m.tracker.get_value() + 1e-9]
            if passed:
                m.set_fill(colours[passed[-1]], family=False)

        pulse.add_updater(take_colour)

    def verdict(self, rows: list[Row]) -> str:
        """The closing line, chosen from the runs' own numbers."""
        if len(rows) > 1:
            a, b = (float(np.nanmedian(r.run.metrics.grad_norm_g)) for r in rows)
            if not (a > 0 and b > 0):
                return "G's gradient norms are missing in one of the runs"
            weaker = c.loss_name(rows[1].run if b < a else rows[0].run)
            return f"with {weaker}, G's gradient is {max(a, b) / min(a, b):,.0f}× weaker (median over the run)"
        norms = rows[0].at(rows[0].steps[-1])
        g, d = norms[: rows[0].n_g], norms[rows[0].n_g :]
        r = float(np.exp(np.nanmean(np.log(g)) - np.nanmean(np.log(d))))
        step = int(rows[0].steps[-1])
        if not np.isfinite(r):
            return f"step {step:,}: no gradients recorded"
        if 0.5 < r < 2:
            return f"step {step:,}: G's layers get about as much gradient as D's"
        return f"step {step:,}: G's layers get {max(r, 1 / r):,.0f}× {'more' if r > 1 else 'less'} gradient than D's"
