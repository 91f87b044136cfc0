"""Gradient flow: how much of D's verdict reaches each layer of D and of G, update after update.

G and D are drawn as their recorded layers (run.json ``layer_shapes_*``/``layer_types_*``), each sized by its
activation volume (log), with G's samples at that snapshot and the fixed real batch between them. Under each layer a
bar's *length* is the gradient norm that reached it at the shown snapshot (``grad_norm_g``/``grad_norm_d``) on a log
scale ticked in powers of ten, with the norm printed under it. At every update shown, the gradient travels back from
D's output to z as a wave: the wires light up in the gradient's yellow and each layer's bar takes its new length as
the wave reaches it. It ends on the gradient norm of all of G and of all of D (metrics.jsonl), median over the run.

With a second run (``--compare``, e.g. ``minimax`` against ``bce``) the two runs are two rows, each titled in words
by its loss, on one log scale, and the headline is the ratio of the two G medians shown ("with minimax loss, G's
gradient is 22× weaker than with non-saturating loss").

    GANVIZ_RUN=outputs/runs/<run> manim -ql scenes/gradient_flow.py
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from manim import (
    DOWN,
    LEFT,
    PI,
    RIGHT,
    UP,
    Animation,
    AnimationGroup,
    DecimalNumber,
    FadeIn,
    FadeOut,
    ImageMobject,
    Line,
    Mobject,
    Rectangle,
    ShowPassingFlash,
    ValueTracker,
    VGroup,
)

from pipeline.run import Layer
from pipeline.runformat import METRICS
from scenes import common as c
from scenes import readouts as r
from scenes import style

N_UPDATES = 10  # updates shown after step 0
NORM_TYPES = {"BatchNorm1d": "BN", "BatchNorm2d": "BN", "GroupNorm": "GN", "LayerNorm": "LN", "InstanceNorm2d": "IN"}
SHORT_TYPES = {"ConvTranspose2d": "ConvT", "Conv2d": "Conv", "Linear": "Linear", **NORM_TYPES}
BLOCK_W, SLAB_W, BAR_W = 0.5, 0.22, 0.45  # widths of a layer with weights, of a normalisation layer, of a bar
LABEL_GAP = 0.2  # at least this much between two layers' names
TIER = 0.25  # the height of one line of numbers under the bars
AXIS_ROOM = 1.0  # left of the first layer: the axis' name and its powers of ten
SINGLE_TOP, ROW_TOPS, ROW_BOTTOM = 2.5, (2.5, -0.2), -2.7  # where rows begin (under the title) and end
CAPTION_Y = -2.97
G_MEDIAN, D_MEDIAN = "median:grad_norm_g", "median:grad_norm_d"


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


def decimals(value: float, digits: int = 2) -> int:
    """Decimals that print ``value`` to ``digits`` significant digits (none left of the point that are not): with 2,
    80, 9.5, 0.28, 0.0015."""
    if not (np.isfinite(value) and value > 0):
        return 0
    return max(0, digits - 1 - int(np.floor(np.log10(value))))


def spec(value: float, digits: int = 2) -> str:
    """The format that prints ``value`` to ``digits`` significant digits."""
    return f"{{:,.{decimals(value, digits)}f}}"


def printed(value: float) -> str:
    return spec(value).format(value)


def median_over_run(run: c.Run, column: str) -> float:
    """The quantity ``median:<column>``: the median of a metrics.jsonl column's finite values over all logged steps."""
    v = r.metric(run, column)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else float("nan")


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


def bar_scale(values: np.ndarray) -> style.LogScale:
    """The one log scale of every bar (both runs): from a little under the smallest norm (so that it still has a
    length) to the largest, at least one decade."""
    v = np.asarray(values, np.float64)
    v = np.log10(v[np.isfinite(v) & (v > 0)])
    lo, hi = (float(v.min()), float(v.max())) if v.size else (-3.0, 0.0)
    if hi - lo < 1.0:
        lo, hi = (lo + hi) / 2 - 0.5, (lo + hi) / 2 + 0.5
    return style.LogScale(lo - max(0.2, 0.08 * (hi - lo)), hi)


@dataclass
class Row:
    """One run drawn as a pipeline: z -> G's layers -> G(z) (real x above it) -> D's layers -> D(G(z)), and under
    every layer its gradient bar and number.

    ``blocks``, ``bars`` and ``numbers`` are G's layers then D's in forward order, the order of ``norms``' rows.
    ``still`` holds what never changes, ``live`` what animations and updaters change (kept apart so that manim draws
    the still part once)."""

    run: c.Run
    steps: np.ndarray  # snapshot steps with gradient norms, ascending
    norms: np.ndarray  # (layers of G then D, steps)
    layers: list[Layer]
    n_g: int
    index: int = 0  # 0: the scene's run, 1: the compared one
    blocks: list[Rectangle] = field(default_factory=list)
    bars: list[Rectangle] = field(default_factory=list)
    levels: list[ValueTracker] = field(default_factory=list)  # each bar's log10 norm
    numbers: list[DecimalNumber] = field(default_factory=list)
    still: list[Mobject] = field(default_factory=list)
    live: list[Mobject] = field(default_factory=list)
    links: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # forward: z, G, G(z), D, output
    z: Mobject | None = None
    fake: ImageMobject | None = None
    real: ImageMobject | None = None
    head: Mobject | None = None  # the row's title, if any
    names: list[Mobject] = field(default_factory=list)  # the head line's names (G, D, real x): make way at the end
    score: ValueTracker = field(default_factory=lambda: ValueTracker(0.0))  # goal: D's mean score shown
    score_number: DecimalNumber | None = None
    output: Mobject | None = None  # the name 'D(G(z))' over the score
    fake_name: Mobject | None = None  # 'G(z)' under the samples

    @classmethod
    def of(cls, run: c.Run, index: int = 0) -> Row:
        mats = run.layer_grad_norms()
        steps, _, g = mats["g"]
        d = mats["d"][2]
        layers_g, layers_d = run.layers("g"), run.layers("d")
        if (len(layers_g), len(layers_d)) != (len(g), len(d)):  # names missing or not the norms': by number
            layers_g = [Layer(f"G{i + 1}", None, None) for i in range(len(g))]
            layers_d = [Layer(f"D{i + 1}", None, None) for i in range(len(d))]
        return cls(run, np.asarray(steps), np.concatenate([g, d]), layers_g + layers_d, len(layers_g), index)

    @property
    def who(self) -> str:
        return r.RUN if self.index == 0 else r.OTHER

    @property
    def total(self) -> float:
        return float(self.run.total_steps)

    def at(self, step: int) -> np.ndarray:
        """Every layer's gradient norm at the snapshot ``step`` (NaN at step 0)."""
        return self.norms[:, int(np.searchsorted(self.steps, step))]

    def match(self, step: int, total: float) -> int:
        """This run's readable snapshot at the same fraction of its run as ``step`` is of ``total``."""
        steps = np.asarray(self.steps)  # those whose norms were read (a run still training writes more)
        return int(steps[np.argmin(np.abs(steps - step / total * self.total))])

    def quantity(self, k: int) -> str:
        """What layer k's number shows: its entry of the snapshot's per-layer norms."""
        net, i = ("g", k) if k < self.n_g else ("d", k - self.n_g)
        return f"snapshot:grad_norm_{net}:item{i}"


class GradientFlow(c.RunScene):
    """Layers with their gradient norms as bars on a log scale; a wave carries each shown update back to z."""

    data_area = ((0.0, (ROW_TOPS[0] + ROW_BOTTOM) / 2), 12.5, 5.0)

    compares = True

    needs = (METRICS.grad_norm_g,)
    probabilities = False  # D(G(z)) is printed as recorded: a critic's value reads as one

    def construct(self) -> None:
        runs = [self.run] + ([self.other_run] if self.other_run is not None else [])
        rows = [Row.of(run, i) for i, run in enumerate(runs)]
        self.compact = len(rows) > 1
        self.scale = bar_scale(np.concatenate([row.norms.ravel() for row in rows]))
        self.titles = self.row_titles(rows)
        self.rows_total = rows[0].total
        names = tuple(row.run.name for row in rows)  # top row first
        self.footer = style.footer(int(rows[0].total), name=names)
        self.notes: list[str] = []
        self.number_width = max((style.text(printed(v), style.SMALL).width for v in self.longest(rows)), default=0.5)
        for row in rows:
            self.lay_out(row, top=ROW_TOPS[row.index] if self.compact else SINGLE_TOP)
        self.next_section("the-networks")  # each act is a slide of `ganviz lecture` (manim's sections)
        self.introduce(rows)
        for note in self.notes:  # what this run's drawing leaves out
            self.play(FadeIn(caption := self.say(note)), run_time=0.3)
            self.wait(1.5)
            self.play(FadeOut(caption), run_time=0.3)
        self.next_section("forward")
        caption = self.say("forward: z through G into G(z); G(z) and real x through D")
        self.play(FadeIn(caption), run_time=0.3)
        self.pass_forward(rows)
        self.play(FadeOut(caption), run_time=0.3)
        self.next_section("backward")
        caption = self.say("backward: the gradient flows back to z; bar: its norm at each layer")
        self.play(FadeIn(caption), run_time=0.3)
        for step in self.run.spread_steps(N_UPDATES + 1)[1:]:
            self.update_to(rows, step)
        self.play(FadeOut(caption), run_time=0.3)
        self.next_section("the-finding")
        self.conclude(rows)
        self.wait(2.0)

    def longest(self, rows: list[Row]) -> list[float]:
        """The norms whose printed form is longest (the widest number the scene will print)."""
        values = [float(v) for row in rows for v in row.norms.ravel() if np.isfinite(v)]
        most = max((len(printed(v)) for v in values), default=0)
        return sorted({v for v in values if len(printed(v)) == most})[:3]

    def row_titles(self, rows: list[Row]) -> list[str]:
        """Each compared row's title in words: its loss ('minimax loss'), or what it learned if the losses are the
        same, or its place if both are the same."""
        if len(rows) == 1:
            return [""]
        losses = [style.LOSS_WORDS.get(c.loss_name(row.run), f"{c.loss_name(row.run)} loss") for row in rows]
        if losses[0] != losses[1]:
            return losses
        about = [style.about(row.run.config) for row in rows]
        if about[0] != about[1]:
            return about
        return ["first run", "second run"]

    def subtitle(self, rows: list[Row]) -> str:
        """What the run learned, in words; for two runs, what sets them apart."""
        about = [style.about(row.run.config) for row in rows]
        if len(rows) == 1 or about[0] == about[1]:
            return about[0] + ("" if len(rows) == 1 else " · two runs")
        data = [style.DATA_WORDS.get(str(row.run.config.get("dataset") or ""), "") for row in rows]
        if data[0] == data[1] and data[0]:
            return f"{data[0]} · {self.titles[0]} against {self.titles[1]}"
        return f"{about[0]} against {about[1]}"

    def phrase(self, i: int) -> str:
        """How the headline names row i: 'with minimax loss', 'in the first run'."""
        losses = {c.loss_name(self.run), c.loss_name(self.other_run)}
        return f"with {self.titles[i]}" if len(losses) > 1 else f"in the {('first', 'second')[i]} run"

    # -- acts -----------------------------------------------------------------------------------------------
    def introduce(self, rows: list[Row]) -> None:
        """Title, the layers with their names and bars' axes, the samples and the footer."""
        heading = style.title("How much gradient reaches each layer?", self.subtitle(rows))
        if len(heading) > 1:
            r.constant(heading[1])  # words ('a 1-D Gaussian'), not the run's numbers
        self.play(FadeIn(heading), FadeIn(self.footer.group), run_time=0.6)
        # still parts first: manim redraws everything after the first part that moves
        self.play(*(FadeIn(m) for r_ in rows for m in r_.still), run_time=0.8)
        self.play(*(FadeIn(m) for r_ in rows for m in r_.live), run_time=0.5)
        self.bring_to_front(self.footer.group)

    def pass_forward(self, rows: list[Row]) -> None:
        """A grey flash along the wires from z through G, G(z) and D to D's output, and from the real batch into D;
        D's score for the first snapshot's samples appears."""
        flashes = []
        for row in rows:
            path = [self.flash(a, b, style.TEXT) for a, b in row.links[:-1]]
            flashes.append(AnimationGroup(*path, lag_ratio=0.85))
            flashes.append(self.flash(*row.links[-1], style.REAL_COLOR))
            start = r.snapshot_stat(row.run.snapshot(row.run.steps[0]).d_fake, "mean")
            row.score.goal = start
        self.play(*flashes, run_time=1.6)
        for row in rows:
            row.score_number.set_opacity(1.0)
        self.play(*(FadeIn(row.score_number) for row in rows), run_time=0.3)

    def update_to(self, rows: list[Row], step: int) -> None:
        """One shown update: G's new samples and D's score, and the gradient's wave back to z that gives each
        layer's bar its new length as it passes."""
        moves = [self.footer.tracker.animate.set_value(step)]
        for row in rows:
            snap = row.run.snapshot(row.match(step, rows[0].total))
            new = self.view(row.run, snap.fake, style.FAKE_COLOR, row.fake.height).move_to(row.fake)
            row.score.goal = r.snapshot_stat(snap.d_fake, "mean")
            moves += [FadeIn(new), FadeOut(row.fake, rate_func=lambda t: 0.0)]  # under the new, gone at the end
            row.fake = new
            if snap.step != step:  # a compared run of another length, at the same fraction of its run: say so
                self.read_at(row, snap.step)
            moves.append(self.wave(row, row.at(snap.step)))
        self.play(*moves, run_time=1.8)

    def read_at(self, row: Row, step: int) -> None:
        """The compared row's numbers are of its own snapshot ``step``, not of the footer's: register them so."""
        for m in [*row.numbers, row.score_number]:
            m.readings = tuple(replace(reading, step=step) for reading in m.readings)

    def wave(self, row: Row, norms: np.ndarray) -> AnimationGroup:
        """The gradient from D's output back to z: a flash along each wire, backwards, and each layer's bar going to
        its new length (its number changing half way) as the flash reaches it."""
        n = len(row.blocks)
        forward = row.links[:-1]  # z -> G ... -> G(z) | G(z) -> D ... -> output; the real batch's link is not on it
        # the links into each block, forward order: z->G1, ..., G(n_g-1)->Gn_g, then G(z)->D1, ..., D->output last
        into = [*forward[: row.n_g], *forward[row.n_g + 1 :]]
        steps: list = []
        for k in reversed(range(n)):
            a, b = into[k + 1]
            steps.append(self.flash(b, a, style.GRAD_COLOR))
            if k == row.n_g - 1:  # from D's first layer back across G(z) to G's last
                a, b = forward[row.n_g]
                steps.append(self.flash(b, a, style.GRAD_COLOR))
            steps.append(self.grow(row, k, float(norms[k])))
        a, b = into[0]
        steps.append(self.flash(b, a, style.GRAD_COLOR))
        return AnimationGroup(*steps, lag_ratio=0.6)

    def grow(self, row: Row, k: int, value: float):
        """Bar k's move to ``value``; its number shows the new value once the bar is nearer the new length."""
        number, level = row.numbers[k], row.levels[k]
        number.old, number.new = number.new, value
        target = np.log10(value) if np.isfinite(value) and value > 0 else self.scale.lo
        number.midway = (level.get_value() + target) / 2
        number.rising = target >= level.get_value()
        return level.animate.set_value(target)

    def conclude(self, rows: list[Row]) -> None:
        """G's (and D's) gradient norm, median over the run; with two runs, the ratio of the two G medians shown
        (printed to three significant digits, so that the ratio of the printed medians rounds to the ratio shown)."""
        if not self.compact:
            row = rows[0]
            g, d = median_over_run(row.run, METRICS.grad_norm_g), median_over_run(row.run, METRICS.grad_norm_d)
            gs, g_read = r.claim(G_MEDIAN, g, spec(g, 3))
            ds, d_read = r.claim(D_MEDIAN, d, spec(d, 3))
            if np.isfinite(d):
                words = f"median gradient norm over the run: all of G {gs}, all of D {ds}"
                line = r.claims(self.say(words), g_read, d_read)
            else:
                line = r.claims(self.say(f"median gradient norm over the run: all of G {gs}"), g_read)
            self.play(FadeIn(line), run_time=0.5)
            return
        medians = [median_over_run(row.run, METRICS.grad_norm_g) for row in rows]
        tags = []
        for row, m in zip(rows, medians, strict=True):
            shown, reading = r.claim(G_MEDIAN, m, spec(m, 3), run=row.who)
            tag = r.claims(style.text(f"G's gradient norm, median over the run: {shown}", style.LABEL), reading)
            tags.append(tag.next_to(row.head, RIGHT, buff=0.4))
        self.play(*(FadeOut(m) for row in rows for m in row.names), *self.recede_d(rows), run_time=0.3)
        self.play(*(FadeIn(t) for t in tags), run_time=0.5)
        a, b = medians
        if not (a > 0 and b > 0):
            self.play(FadeIn(self.say("G's gradient norms are missing in one of the runs")), run_time=0.5)
            return
        strong, weak = (0, 1) if a >= b else (1, 0)
        printed_medians = [float(spec(m, 3).format(m).replace(",", "")) for m in medians]  # as the tags show them
        ratio = printed_medians[strong] / printed_medians[weak]  # arithmetic on the numbers shown
        fmt = "{:,.0f}" if ratio >= 10 else "{:.1f}"
        shown, reading = r.claim("ratio:grad_norm_g", ratio, fmt, run=rows[strong].who)
        if shown in ("1.0", "1"):
            words = "G's gradient is as strong in both runs (median over the run)"
            line = self.say(words)
        else:
            words = f"{self.phrase(weak)}, G's gradient is {shown}× weaker"
            line = self.say(f"{words} than {self.phrase(strong)}", t2c={f"{shown}×": style.GRAD_COLOR})
            if line.width > style.safe_box()[1] - style.safe_box()[0]:  # the rows' titles say what it is weaker than
                line = self.say(words, t2c={f"{shown}×": style.GRAD_COLOR})
            r.claims(line, reading)
        self.play(FadeIn(line), run_time=0.5)

    def recede_d(self, rows: list[Row]) -> list[Animation]:
        """The headline is about G's gradient: D's layers, bars, numbers and score and the samples recede (their
        values no longer change, so the bars' updaters go: they would redraw them at full strength)."""
        parts: list[Mobject] = []
        for row in rows:
            for bar in row.bars[row.n_g :]:
                bar.clear_updaters()
            parts += [*row.blocks[row.n_g :], *row.bars[row.n_g :], *row.numbers[row.n_g :], row.output]
            parts += [row.score_number, row.real, row.fake, row.fake_name]
        return style.dim(*parts)

    # -- parts ------------------------------------------------------------------------------------------------
    def lay_out(self, row: Row, top: float) -> None:
        """Place the row's parts along the safe area's width from height ``top`` down: the head line (the row's
        title, the networks' names), the layers' kinds, the blocks (shapes under them when alone), the bars on
        their log axis and the numbers under them."""
        left, right, _, _ = style.safe_box()
        compact = self.compact
        block_h, view = (0.4, 0.42) if compact else (0.95, 0.8)
        head_y, kind_y = top - 0.15, top - (0.41 if compact else 0.5)
        y = kind_y - 0.17 - block_h / 2
        bottom = top - 2.55 if compact else ROW_BOTTOM
        known = all(layer.shape for layer in row.layers)
        vmax = max(volume(layer) for layer in row.layers) if known else 1.0
        label_top = y - block_h / 2
        bar_top = label_top - (0.1 if compact or not known else 0.72)

        def block_height(layer: Layer) -> float:
            if not known:
                return 0.6 * block_h
            return block_h * (0.22 + 0.78 * np.log10(volume(layer)) / max(np.log10(vmax), 1e-9))

        out_w, gap = style.text("D(G(z))", style.SMALL).width, 0.2
        fixed = AXIS_ROOM + 0.08 + view + 2 * gap + 0.35 + out_w
        widths, groups, tiers = self.columns(row.layers, right - left - fixed)
        baseline = bottom + tiers * TIER + 0.04
        x = left + AXIS_ROOM + 0.08
        row.z = self.noise_strip(row, block_h * 0.8).move_to([left + 0.55, y, 0])
        row.still.append(row.z)
        centres = []
        for k, (layer, w) in enumerate(zip(row.layers, widths, strict=True)):
            if k == row.n_g:  # between G and D: the samples
                self.place_views(row, view, x + gap + view / 2, y)
                x += view + 2 * gap
            net = style.G_COLOR if k < row.n_g else style.D_COLOR
            bw = min(SLAB_W if layer.type in NORM_TYPES else BLOCK_W, w - 0.08)
            block = Rectangle(width=bw, height=block_height(layer), stroke_color=net, stroke_width=2)
            block.set_fill(net, 0.25).move_to([x + w / 2, y, 0]).name = "layer"
            row.blocks.append(block)
            centres.append(x + w / 2)
            number_y = baseline - 0.04 - TIER / 2 - (k % tiers) * TIER
            self.bar(row, k, x + w / 2, min(BAR_W, 0.6 * w), baseline, bar_top, number_y)
            x += w
        if groups:  # each group of columns (a layer and the normalisations after it) is named at its middle
            for k, n in groups:
                mid = (row.blocks[k].get_left()[0] + row.blocks[k + n - 1].get_right()[0]) / 2
                row.still.append(self.layer_labels(row.layers[k], mid, kind_y, label_top, shapes=not compact))
        self.place_output(row, x + 0.35 + out_w / 2, y)
        row.still.insert(0, self.wires(row))
        row.still.insert(0, self.axis(row, left, centres, baseline, bar_top))
        if compact and row.index == 1:  # a faint rule between the two runs' rows
            rule = Line([left, top + 0.07, 0], [right, top + 0.07, 0], stroke_color=style.MUTED, stroke_width=1)
            row.still.insert(0, rule.set_stroke(opacity=0.4))
        self.head_line(row, left, head_y, view)
        row.live[:0] = row.blocks
        if row.index == 0 and not known:
            self.notes.append("this run did not record its layer shapes: sizes not to scale")
        elif row.index == 0 and not groups:
            self.notes.append(f"{len(row.layers)} layers: too many to name here (see run.json)")

    def columns(self, layers: list[Layer], room: float) -> tuple[list[float], list[tuple[int, int]], int]:
        """Each layer's column width, the groups named (first layer, number of layers) and the lines of numbers
        under the bars (1, or 2 staggered where a column is narrower than a number). Every layer is named while
        that fits in ``room``; else only layers with weights, their names spread over the normalisations that
        follow them; else none, and the columns narrow to fit."""
        norm = [layer.type in NORM_TYPES for layer in layers]
        block = [(SLAB_W if n else max(BLOCK_W, BAR_W)) + 0.14 for n in norm]
        numbers = self.number_width + 0.08

        def label(layer: Layer) -> float:  # what layer_labels writes
            words = [short_type(layer), *([] if layer.type in NORM_TYPES or self.compact else shape_lines(layer.shape))]
            return max((style.text(w, style.SMALL).width for w in words if w), default=0.0) + LABEL_GAP

        each = [max(b, label(layer)) for b, layer in zip(block, layers, strict=True)]
        for tiers in (1, 2):
            widths = [max(w, numbers / tiers) for w in each]
            if sum(widths) <= room:  # the room left is shared out, up to half as wide again
                return [w * min(1.5, room / sum(widths)) for w in widths], [(k, 1) for k in range(len(layers))], tiers
        groups = []
        for k, is_norm in enumerate(norm):
            if is_norm and groups:
                groups[-1] = (groups[-1][0], groups[-1][1] + 1)
            else:
                groups.append((k, 1))
        widths = [max(b, numbers / 2) for b in block]
        for k, n in groups:  # the group's first column takes what its name needs beyond the group's columns
            widths[k] += max(0.0, label(layers[k]) - sum(widths[k : k + n]))
        if sum(widths) <= room:  # the room left is shared out, up to half as wide again
            widths = [w * min(1.5, room / sum(widths)) for w in widths]
            return widths, groups, 1 if min(widths) >= numbers else 2
        widths = [max(b, numbers / 2) for b in block]
        return [w * room / sum(widths) for w in widths], [], 2

    def bar(self, row: Row, k: int, x: float, width: float, baseline: float, top: float, number_y: float) -> None:
        """Layer k's bar: its length is its gradient norm on the shared log scale (nothing before the first update),
        its number under the axis."""
        level = ValueTracker(self.scale.lo)
        height = top - baseline
        colour = style.G_COLOR if k < row.n_g else style.D_COLOR
        bar = Rectangle(width=width, height=1.0, stroke_width=0, fill_color=style.GRAD_COLOR, fill_opacity=0.9)
        bar.name = "gradient bar"

        def follow(m: Rectangle) -> None:
            t = (level.get_value() - self.scale.lo) / (self.scale.hi - self.scale.lo)
            h = float(np.clip(t, 0.0, 1.0)) * height
            m.stretch_to_fit_height(max(h, 1e-4)).move_to([x, baseline + max(h, 1e-4) / 2, 0])
            m.set_fill(opacity=0.9 if h > 1e-3 else 0.0)

        bar.add_updater(follow)
        follow(bar)
        number = r.reads(style.number(0.0, 0, style.SMALL, colour), row.quantity(k), run=row.who)
        number.set_opacity(0.0)
        number.old = number.new = float("nan")
        number.midway, number.rising, number.showing = level.get_value(), True, float("nan")

        def show(m: DecimalNumber) -> None:
            passed = level.get_value() >= m.midway if m.rising else level.get_value() <= m.midway
            value = m.new if passed else m.old
            if value == m.showing or (np.isnan(value) and np.isnan(m.showing)):
                return
            m.showing = value
            if not np.isfinite(value):
                m.set_opacity(0.0)
                return
            m.num_decimal_places = decimals(value)
            m.set_value(value)
            m.set_fill(colour, opacity=1.0).set_stroke(width=0).move_to([x, number_y, 0])

        number.add_updater(show)
        number.move_to([x, number_y, 0])
        row.bars.append(bar)
        row.levels.append(level)
        row.numbers.append(number)
        row.live += [bar, number]

    def axis(self, row: Row, left: float, centres: list[float], baseline: float, top: float) -> VGroup:
        """The bars' log axis at the left: a line from the scale's bottom to its top, its powers of ten (every n-th
        where decades are close), the axis' name, and faint lines at those powers under G's and D's bars."""
        x = left + AXIS_ROOM
        scale, height = self.scale, top - baseline
        per_decade = height / (scale.hi - scale.lo)
        every = max(1, int(np.ceil(0.3 / per_decade)))
        group = VGroup(Line([x, baseline, 0], [x, top, 0], stroke_color=style.MUTED, stroke_width=1.5))
        group.add(Line([x, baseline, 0], [centres[-1] + 0.3, baseline, 0], stroke_color=style.MUTED, stroke_width=1))
        spans = [(x, centres[row.n_g - 1] + 0.3), (centres[row.n_g] - 0.3, centres[-1] + 0.3)] if row.n_g else []
        for k in scale.ticks():
            if k % every:
                continue
            y = baseline + (k - scale.lo) * per_decade
            group.add(Line([x - 0.08, y, 0], [x, y, 0], stroke_color=style.MUTED, stroke_width=1.5))
            label = style.text(style.power_of_ten(k), style.SMALL, style.MUTED)
            group.add(r.constant(label.next_to([x - 0.08, y, 0], LEFT, buff=0.0)))
            for a, b in spans:
                grid = Line([a, y, 0], [b, y, 0], stroke_color=style.MUTED, stroke_width=1, stroke_opacity=0.3)
                grid.name = "decade"
                group.add(grid)
        name = style.text("gradient norm" if height > 1.9 else "norm", style.SMALL, style.MUTED).rotate(PI / 2)
        group.add(name.move_to([left + name.width / 2, (baseline + top) / 2, 0]))
        return group

    def head_line(self, row: Row, left: float, y: float, view: float) -> None:
        """The row's title (compared runs) and the networks' names above their layers."""
        g, d = row.blocks[: row.n_g], row.blocks[row.n_g :]
        items: list[Mobject] = []
        if self.compact:
            title = self.titles[row.index]
            if row.index and row.total != self.rows_total:  # another length: shown at the same fraction of its run
                title += f" ({row.total:,.0f} steps)"
            row.head = r.constant(style.text(title, style.LABEL)).move_to([left, y, 0], aligned_edge=LEFT)
            row.still.append(row.head)
        words = ("G", "D") if self.compact else ("generator G", "discriminator D")
        names = [style.text(words[0], style.LABEL, style.G_COLOR), style.text(words[1], style.LABEL, style.D_COLOR)]
        after = row.head.get_right()[0] + 0.4 if row.head is not None else left
        for name, blocks in zip(names, (g, d), strict=True):
            if not blocks:
                continue
            name.move_to([(blocks[0].get_x() + blocks[-1].get_x()) / 2, y, 0])
            if name.get_left()[0] < after:
                name.shift(RIGHT * (after - name.get_left()[0]))
            after = name.get_right()[0] + 0.3
            items.append(name)
        row.names = [*items, *row.names]
        row.still += items

    def noise_strip(self, row: Row, height: float) -> Mobject:
        """The first fixed noise vector's first 12 values as grey cells: what G starts from."""
        z = np.asarray(row.run.fixed.noise[0], np.float64).ravel()[:12]
        grey = (np.clip(z / 2.5, -1, 1) * 100 + 128).astype(np.uint8)
        strip = c.picture(np.repeat(grey[:, None, None], 3, axis=2), height)
        strip.stretch_to_fit_width(0.22).name = "noise"
        return c.Group(strip, style.text("z", style.SMALL, style.MUTED).next_to(strip, UP, buff=0.08))

    def place_views(self, row: Row, size: float, x: float, y: float) -> None:
        """G(z) at step 0 below the blocks' line, the fixed real batch above it: both enter D, each named."""
        row.fake = self.view(row.run, row.run.snapshot(row.run.steps[0]).fake, style.FAKE_COLOR, size)
        row.real = self.view(row.run, row.run.real, style.REAL_COLOR, size)
        row.real.move_to([x, y + size / 2 + 0.03, 0])
        row.fake.move_to([x, y - size / 2 - 0.03, 0])
        real = style.text("real x", style.SMALL, style.REAL_COLOR).next_to(row.real, UP, buff=0.08)
        fake = style.text("G(z)", style.SMALL, style.FAKE_COLOR).next_to(row.fake, DOWN, buff=0.08)
        row.names.append(real)
        row.fake_name = fake
        row.still += [row.real, real, fake]
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
        row.score.goal = 0.0
        value.add_updater(self.showing(row.score))
        row.score_number = r.reads(value, "snapshot:d_fake:mean", run=row.who)
        row.output = name
        value.set_opacity(0.0)  # until the forward pass reaches D
        row.still.append(name)
        row.live.append(value)
        row.links = [(name.get_left() + LEFT * 0.25, name.get_left() + LEFT * 0.25)]  # the output, for wires()

    def showing(self, tracker: ValueTracker) -> Callable[[Mobject], None]:
        """An updater that sets a number to ``tracker.goal`` (the new snapshot's value, exactly: a tracker animated to
        it ends a rounding error away, which can change the last digit printed) only when what it shows changes."""

        return lambda m: style.show_value(m, tracker.goal)

    def layer_labels(self, layer: Layer, x: float, kind_y: float, bottom: float, shapes: bool) -> VGroup:
        """The layer's kind above the row, its output shape below it (``shapes``), centred at ``x``; digits of a
        shape are layout, not the run's values at a step."""
        same = layer.type in NORM_TYPES or not shapes  # a normalisation keeps the shape of the layer before it
        lines = VGroup(*(style.text(s, style.SMALL, style.MUTED) for s in ([] if same else shape_lines(layer.shape))))
        if len(lines):
            lines.arrange(DOWN, buff=0.06).next_to([x, bottom, 0], DOWN, buff=0.1)
            r.constant(lines)
        if layer.type:
            lines.add(style.text(short_type(layer), style.SMALL, style.MUTED).move_to([x, kind_y, 0]))
        return lines

    def wires(self, row: Row) -> VGroup:
        """Thin grey links of the forward pass; the gradient's wave flashes along them the other way."""
        g = [b.get_center() for b in row.blocks[: row.n_g]]
        d = [b.get_center() for b in row.blocks[row.n_g :]]
        out = row.links[0][0]
        path = [row.z[0].get_right(), *g, row.fake.get_left()]
        tail = [row.fake.get_right(), *d, out]
        row.links = [*zip(path, path[1:], strict=False), *zip(tail, tail[1:], strict=False)]
        row.links.append((row.real.get_right(), d[0]))
        return VGroup(*(Line(a, b, stroke_color=style.FORWARD_COLOR, stroke_width=1.5) for a, b in row.links))

    def flash(self, a: np.ndarray, b: np.ndarray, colour: str) -> ShowPassingFlash:
        line = Line(a, b, stroke_color=colour, stroke_width=6)
        line.name = "flash"
        return ShowPassingFlash(line, time_width=0.6)

    def say(self, words: str, y: float = CAPTION_Y, **kw: object) -> Mobject:
        return style.text(words, style.BODY, **kw).move_to([style.safe_box()[0], y, 0], aligned_edge=LEFT)
