"""The visual language of every scene: one font, one type scale, the plots' colour roles, D's score map, the
title-safe area, and one footer with the step counter and the run's progress.

Scenes take all of it from here, so they look alike and render the same on every machine: the font is the DejaVu
Sans that matplotlib ships (registered with manimpango, so Pango never substitutes a system font), sizes come from
one scale whose smallest text is at least 1/40 of the frame height, and numbers that change are
Integer/DecimalNumber mobjects driven by ValueTrackers in a fixed-width font (they update in place, never morph
between two strings).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from manim import (
    DOWN,
    LEFT,
    PI,
    RIGHT,
    UP,
    Animation,
    AnnularSector,
    Circle,
    DecimalNumber,
    FadeIn,
    FadeOut,
    Group,
    ImageMobject,
    Integer,
    Line,
    MathTypst,
    Mobject,
    Rectangle,
    Text,
    ValueTracker,
    VGroup,
    VMobject,
    config,
)
from manim.constants import RESAMPLING_ALGORITHMS

from scenes.readouts import constant, reads

# -- fonts -----------------------------------------------------------------------------------------------
FONT = "DejaVu Sans"


@lru_cache(maxsize=1)
def register_fonts() -> tuple[str, ...]:
    """Register the DejaVu fonts matplotlib ships with manimpango (once per process); returns the files."""
    import manimpango
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    files = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf")
    for name in files:
        manimpango.register_font(str(folder / name))
    return files


register_fonts()

# -- sizes -------------------------------------------------------------------------------------------------
#: Type scale (manim font sizes). The smallest, SMALL, has a cap height of 0.203 scene units: >= 1/40 of the
#: 8-unit frame height, so nothing on screen is too small to read on a projected slide.
TITLE, HEADING, BODY, LABEL, SMALL = 40, 32, 26, 22, 20
MIN_FONT_SIZE = SMALL
#: The title-safe area: the frame less 6 % of its width and height on each side. (Broadcast title-safe is 10 %
#: and action-safe 5 %; screens and slide software crop little, so 6 % keeps text clear of any edge.)
SAFE_MARGIN = 0.06


def safe_box() -> tuple[float, float, float, float]:
    """(left, right, bottom, top) of the title-safe area, in scene units."""
    w, h = config.frame_width, config.frame_height
    mx, my = w * SAFE_MARGIN, h * SAFE_MARGIN
    return -w / 2 + mx, w / 2 - mx, -h / 2 + my, h / 2 - my


# -- colours -------------------------------------------------------------------------------------------------
#: The roles of the plots (Okabe-Ito, colour-blind safe), on the scenes' dark background: G blue, D vermillion,
#: generated orange, real samples white (black on the plots' white paper); gradients yellow, distinct from both
#: networks; the forward pass a neutral grey.
BACKGROUND = "#101018"
TEXT = "#ECECEC"
MUTED = "#A0A0AA"
G_COLOR = "#56B4E9"
D_COLOR = "#D55E00"
FAKE_COLOR = "#E69F00"
REAL_COLOR = "#F5F5F5"
GRAD_COLOR = "#F0E442"
FORWARD_COLOR = "#9A9AA6"
GOOD_COLOR = "#009E73"  # a verdict that is right
BAD_COLOR = "#CC79A7"  # a verdict that is wrong

#: D's score map, diverging around 0.5: purple where D says "fake" (0), a mid grey where it is guessing (0.5;
#: clearly lighter than the background, so "D cannot tell" never looks like an empty canvas), green where it
#: says "real" (1). Purple-green is readable with every common colour-vision deficiency.
SCORE_STOPS = (("#5E2A8C", 0.0), ("#6A6A74", 0.5), ("#1E8C4A", 1.0))


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], np.float64)


def score_rgb(score: np.ndarray) -> np.ndarray:
    """D's scores in [0, 1] (NaN: guessing) as uint8 RGB of the score map, any shape (..., 3)."""
    s = np.clip(np.nan_to_num(np.asarray(score, np.float64), nan=0.5), 0.0, 1.0)[..., None]
    (lo, _), (mid, _), (hi, _) = ((_rgb(c), v) for c, v in SCORE_STOPS)
    rgb = np.where(s < 0.5, lo + (mid - lo) * (s / 0.5), mid + (hi - mid) * ((s - 0.5) / 0.5))
    return rgb.round().astype(np.uint8)


def score_hex(score: float) -> str:
    r, g, b = score_rgb(np.array(score))
    return f"#{r:02X}{g:02X}{b:02X}"


def colour_bar(height: float = 3.0, width: float = 0.28, label: str = "D(x)") -> Group:
    """A vertical bar of the score map with its ends and middle named: fake 0, guessing 0.5, real 1."""
    pixels = score_rgb(np.linspace(1.0, 0.0, 128))[:, None, :].repeat(4, axis=1)
    bar = ImageMobject(pixels)
    bar.set_resampling_algorithm(RESAMPLING_ALGORITHMS["bilinear"])
    bar.stretch_to_fit_height(height).stretch_to_fit_width(width)
    frame = Rectangle(width=width, height=height, stroke_color=MUTED, stroke_width=1)
    ticks = VGroup(
        *(
            constant(text(f"{v:g}  {word}", SMALL, MUTED)).next_to(
                frame.get_corner(DOWN + RIGHT) + UP * height * v, RIGHT, 0.15
            )
            for v, word in ((1.0, "real"), (0.5, "guess"), (0.0, "fake"))
        )
    )
    name = text(label, LABEL).next_to(frame, UP, buff=0.15)
    return Group(bar, frame, ticks, name)


@dataclass
class Meter:
    """D's score on one sample as a position on a horizontal bar of the score map (fake 0 left, guessing 0.5 at
    the middle tick, real 1 right): ``tracker`` holds the score; animate it, or give it an updater, to move the
    marker."""

    group: Group
    tracker: ValueTracker


def score_meter(score: float = 0.5, width: float = 1.6, height: float = 0.14) -> Meter:
    pixels = score_rgb(np.linspace(0.0, 1.0, 128))[None, :, :].repeat(4, axis=0)
    bar = ImageMobject(pixels)
    bar.set_resampling_algorithm(RESAMPLING_ALGORITHMS["bilinear"])
    bar.stretch_to_fit_width(width).stretch_to_fit_height(height)
    frame = Rectangle(width=width, height=height, stroke_color=MUTED, stroke_width=1)
    middle = Line(frame.get_top(), frame.get_bottom() + DOWN * 0.06, stroke_color=MUTED, stroke_width=1.5)
    tracker = ValueTracker(score)
    marker = Line(UP * (height / 2 + 0.08), DOWN * (height / 2 + 0.08), stroke_color=TEXT, stroke_width=4)

    def follow(m: Line) -> None:
        value = float(np.clip(np.nan_to_num(tracker.get_value(), nan=0.5), 0.0, 1.0))
        m.move_to(frame.get_left() + RIGHT * width * value)

    marker.add_updater(follow)
    follow(marker)
    return Meter(Group(bar, frame, middle, marker), tracker)


# -- text and numbers ----------------------------------------------------------------------------------------
def text(s: str, size: float = BODY, color: str = TEXT, **kw: object) -> Text:
    """Text in the scenes' font and scale."""
    return Text(s, font=FONT, font_size=size, color=color, **kw)


def paragraph(s: str, width: float, size: float = BODY, color: str = TEXT, buff: float = 0.1) -> VGroup:
    """``s`` broken into left-aligned lines no wider than ``width`` scene units (at word boundaries; a word
    longer than the width gets a line of its own): a sentence chosen from a run's numbers fits its column
    whatever the numbers are."""
    lines: list[Text] = []
    words = s.split()
    while words:
        n = len(words)
        while n > 1 and text(" ".join(words[:n]), size, color).width > width:
            n -= 1
        lines.append(text(" ".join(words[:n]), size, color))
        words = words[n:]
    return VGroup(*lines).arrange(DOWN, aligned_edge=LEFT, buff=buff)


class Figures(Text):
    """The digits of changing numbers (DecimalNumber's ``mob_class``), in the body font: DejaVu Sans draws its figures
    at one width, so a counter keeps its width as it changes and still reads as one face with the words beside it."""

    def __init__(self, s: str, **kw: object):
        kw.setdefault("font", FONT)
        super().__init__(s, **kw)


def number(value: float, decimals: int = 2, size: float = BODY, color: str = TEXT, **kw: object) -> DecimalNumber:
    """A DecimalNumber in the body font: a value that changes in place, drawn the same width throughout."""
    return DecimalNumber(value, num_decimal_places=decimals, mob_class=Figures, font_size=size, color=color, **kw)


def show_value(m: DecimalNumber, value: float) -> None:
    """Give a number a new value, rebuilding its digits only when what it shows changes.

    A tracker-driven number's updater runs every frame, and ``set_value`` rebuilds the digits each time: that was the
    costliest part of a render. The same digits are kept; the number still holds the exact value."""
    decimals = getattr(m, "num_decimal_places", 0)
    if f"{m.number:.{decimals}f}" == f"{value:.{decimals}f}":
        m.number = value
    else:
        m.set_value(value)


def integer(value: int, size: float = BODY, color: str = TEXT, **kw: object) -> Integer:
    return Integer(value, mob_class=Figures, font_size=size, color=color, group_with_commas=True, **kw)


def title(s: str, sub: str | None = None) -> VGroup:
    """The scene's title (a statement of what it shows) at the top of the safe area, with an optional subtitle."""
    left, _, _, top = safe_box()
    head = text(s, TITLE)
    group = VGroup(head)
    if sub:
        group.add(text(sub, LABEL, MUTED).next_to(head, DOWN, buff=0.12, aligned_edge=LEFT))
    return group.move_to([left, top, 0], aligned_edge=UP + LEFT)


def shortened(words: str, size: float, width: float, color: str = TEXT) -> Text:
    """``words`` on one line of at most ``width``, shortened by an ellipsis in the middle where too wide (the start and
    the end of a run's name, e.g. its variant and seed, are what tell runs apart)."""
    line = text(words, size, color)
    keep = len(words)
    while line.width > width and keep > 2:
        keep -= 1
        line = text(words[: (keep + 1) // 2] + "…" + words[len(words) - keep // 2 :], size, color)
    return line


#: What the screen calls a run's data and loss (run.json config 'dataset', 'loss'): words a student knows, not names
#: of config values.
DATA_WORDS = {
    "gaussian": "a 1-D Gaussian",
    "quadratic": "points on a parabola",
    "rings": "two half rings",
    "8gaussians": "eight Gaussians on a circle",
    "digits": "handwritten digits",
    "mnist": "MNIST digits",
    "cifar10": "CIFAR-10 photos",
    "celeba": "CelebA faces",
    "folder": "the user's images",
}
LOSS_WORDS = {
    "bce": "non-saturating loss",
    "minimax": "minimax loss",
    "lsgan": "least-squares loss",
    "hinge": "hinge loss",
    "wgan-gp": "Wasserstein loss",
}


def about(config: dict) -> str:
    """The subtitle that says what a run learned, in words: 'handwritten digits · non-saturating loss'."""
    data = str(config.get("dataset") or "")
    loss = str(config.get("loss") or "bce")
    parts = [DATA_WORDS.get(data, data), LOSS_WORDS.get(loss, f"{loss} loss")]
    return " · ".join(p for p in parts if p)


def swap(old: VMobject, new: VMobject) -> list[Animation]:
    """Replace the text ``old`` with ``new`` in one ``play``: ``old`` fades out in its first half and ``new`` fades in
    during the second, so no frame shows the two over each other (and a text never morphs into another)."""
    return [
        FadeOut(old, rate_func=lambda t: min(1.0, 2.0 * t)),
        FadeIn(new, rate_func=lambda t: max(0.0, 2.0 * t - 1.0)),
    ]


#: the opacity of what the current beat does not need (3Blue1Brown's rule: one idea per frame, the rest recedes)
DIM = 0.3


def dim(*mobs: Mobject, level: float = DIM) -> list[Animation]:
    """Animations that take ``mobs`` back to ``level`` of the opacity they have now (fill and stroke each: an open
    curve stays a curve; a picture goes to ``level``), so the current beat's elements stand out."""
    return [m.animate.fade(1.0 - level) for m in mobs]


def undim(*mobs: VMobject, level: float = DIM) -> list[Animation]:
    """Bring back what ``dim`` took to ``level`` (drawn shapes and text: a picture's opacity is not relative)."""
    return [m.animate.fade(1.0 - 1.0 / level) for m in mobs]


# -- the footer: step counter and progress -------------------------------------------------------------------
@dataclass
class Footer:
    """The one place every scene shows where in the run it is: 'step 1,200 of 3,000' and a progress bar along
    the bottom of the safe area, both driven by ``tracker`` (animate it to move them)."""

    group: VGroup
    tracker: ValueTracker

    @property
    def track(self) -> Rectangle:
        """The progress bar's track: a scene's own timeline can line up with it (same x for the same step)."""
        return self.group[1]


def footer(total: int, start: int = 0, label: str = "step", name: str | tuple[str, ...] = "") -> Footer:
    """``name``: the run's name, at the footer's right end (where the run is named, not in the title); compared runs'
    names as a tuple, each shortened on its own (a cut across both would name neither)."""
    left, right, bottom, _ = safe_box()
    tracker = ValueTracker(start)
    word = text(label, SMALL, MUTED)
    count = reads(integer(total, SMALL), "step")  # laid out at its widest, so the row never grows into the bar
    of = constant(text(f"of {total:,}", SMALL, MUTED))
    row = VGroup(word, count, of).arrange(RIGHT, buff=0.12, aligned_edge=DOWN)
    row.move_to([left, bottom, 0], aligned_edge=DOWN + LEFT)
    bar_left, bar_right = row.get_right()[0] + 0.35, right
    if name:
        names = (name,) if isinstance(name, str) else tuple(name)
        room = ((right - bar_left) * 0.45 - 0.4 * (len(names) - 1)) / len(names)
        tag = VGroup(*(shortened(n, SMALL, room, MUTED) for n in names)).arrange(RIGHT, buff=0.4, aligned_edge=DOWN)
        tag = constant(tag)
        tag.move_to([right, row.get_center()[1], 0], aligned_edge=RIGHT).align_to(row, DOWN)
        row.add(tag)
        bar_right = tag.get_left()[0] - 0.3
    count.set_value(start)
    track = Rectangle(width=bar_right - bar_left, height=0.06, stroke_width=0, fill_color=MUTED, fill_opacity=0.35)
    track.move_to([(bar_left + bar_right) / 2, row.get_center()[1], 0])
    fill = Rectangle(width=0.001, height=0.06, stroke_width=0, fill_color=TEXT, fill_opacity=0.9)

    def update_count(m: Integer) -> None:
        show_value(m, int(round(tracker.get_value())))
        m.next_to(word, RIGHT, buff=0.12, aligned_edge=DOWN)

    def update_fill(m: Rectangle) -> None:
        frac = float(np.clip(tracker.get_value() / max(total, 1), 0.0, 1.0))
        m.stretch_to_fit_width(max(track.width * frac, 0.001)).align_to(track, LEFT).align_to(track, DOWN)

    count.add_updater(update_count)
    of.add_updater(lambda m: m.next_to(count, RIGHT, buff=0.12, aligned_edge=DOWN))
    fill.add_updater(update_fill)
    update_fill(fill)
    return Footer(VGroup(row, track, fill), tracker)


# -- axes and labels -----------------------------------------------------------------------------------------
def nice_ticks(lo: float, hi: float, most: int = 5) -> list[float]:
    """At most ``most`` round tick values (1, 2, 2.5 or 5 times a power of ten apart) inside [lo, hi], so axes
    are labelled with numbers a reader can take in at a glance rather than with the data's min and max."""
    if not np.isfinite(lo) or not np.isfinite(hi) or hi <= lo:
        return [float(lo)] if np.isfinite(lo) else []
    raw = (hi - lo) / max(most - 1, 1)
    power = 10.0 ** np.floor(np.log10(raw))
    for mult in (1.0, 2.0, 2.5, 5.0, 10.0):
        gap = mult * power
        first = np.ceil(lo / gap - 1e-9) * gap
        ticks = np.arange(first, hi + gap * 1e-9, gap)
        if len(ticks) <= most:
            return [float(round(t, 10)) + 0.0 for t in ticks]
    return [float(lo), float(hi)]


def spread(wanted: list[float], gap: float, sizes: list[float] | None = None) -> list[float]:
    """Positions as close as possible (least squares) to ``wanted`` that keep the order of ``wanted`` and keep
    neighbours ``gap`` apart (with ``sizes``, the items' extents: their edges ``gap`` apart): end labels of curves
    that run close together sit next to each other instead of on top of each other, and a label whose curve is
    clear of the others stays exactly at its curve."""
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    size = [0.0] * len(wanted) if sizes is None else list(sizes)
    offsets = [0.0]  # how far the k-th smallest must sit above the smallest
    for a, b in zip(order, order[1:], strict=False):
        offsets.append(offsets[-1] + (size[a] + size[b]) / 2 + gap)
    # less the offsets, keeping the distances is a non-decreasing fit (pool adjacent violators): least squares
    blocks: list[list[float]] = []  # [mean, count]
    for rank, i in enumerate(order):
        blocks.append([wanted[i] - offsets[rank], 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (m2, n2), (m1, n1) = blocks.pop(), blocks.pop()
            blocks.append([(m1 * n1 + m2 * n2) / (n1 + n2), n1 + n2])
    fitted = [m for m, n in blocks for _ in range(int(n))]
    out = [0.0] * len(wanted)
    for rank, i in enumerate(order):
        out[i] = fitted[rank] + offsets[rank]
    return out


# -- magnitudes on a log colour scale (gradient norms) ---------------------------------------------------------
#: Gradient magnitudes, dark to bright in the gradients' yellow: one hue whose lightness grows with the value, so a
#: vanishing gradient reads as dark on any screen and no value reads as G's blue or D's vermillion.
GRAD_STOPS = (("#33311F", 0.0), ("#736C24", 0.45), (GRAD_COLOR, 0.85), ("#FFFBE0", 1.0))
#: What a layer shows before it has any gradient (step 0): nothing, the background (the ramp's darkest value is an
#: olive clearly lighter than it, so a vanishing gradient never looks like a missing one).
NO_GRAD_COLOR = BACKGROUND
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def ramp_rgb(stops: tuple[tuple[str, float], ...], t: np.ndarray) -> np.ndarray:
    """Positions ``t`` in [0, 1] on a piecewise-linear colour ramp ``((hex, position), ...)`` as uint8 RGB (..., 3)."""
    t = np.clip(np.asarray(t, np.float64), 0.0, 1.0)
    where = [p for _, p in stops]
    channels = [np.interp(t, where, [_rgb(c)[i] for c, _ in stops]) for i in range(3)]
    return np.stack(channels, axis=-1).round().astype(np.uint8)


def grad_hex(t: float) -> str:
    """The gradient ramp's colour at position ``t`` in [0, 1] (NaN: no gradient yet)."""
    if not np.isfinite(t):
        return NO_GRAD_COLOR
    r, g, b = ramp_rgb(GRAD_STOPS, np.array(t))
    return f"#{r:02X}{g:02X}{b:02X}"


def power_of_ten(k: int) -> str:
    """10 to the integer ``k`` as it is printed on a log axis: '10⁻³'."""
    return "10" + str(int(k)).translate(_SUPERSCRIPT)


@dataclass(frozen=True)
class LogScale:
    """A log10 scale from 10**lo to 10**hi: where a positive value sits on it (0 at the bottom, 1 at the top), and
    its ticks at the powers of ten. One scale serves every snapshot (and a compared run), so colours compare."""

    lo: float
    hi: float

    @classmethod
    def of(cls, values: np.ndarray, min_decades: float = 1.0) -> LogScale:
        """The range of the finite positive ``values`` (at least ``min_decades`` wide, widened about its middle)."""
        v = np.asarray(values, np.float64)
        v = np.log10(v[np.isfinite(v) & (v > 0)])
        lo, hi = (float(v.min()), float(v.max())) if v.size else (-3.0, 0.0)
        if hi - lo < min_decades:
            mid = (lo + hi) / 2
            lo, hi = mid - min_decades / 2, mid + min_decades / 2
        return cls(lo, hi)

    def position(self, value: float) -> float:
        """Where ``value`` sits, clipped to [0, 1]; NaN for a missing, zero or negative value."""
        if not (np.isfinite(value) and value > 0):
            return float("nan")
        return float(np.clip((np.log10(value) - self.lo) / (self.hi - self.lo), 0.0, 1.0))

    def ticks(self) -> list[int]:
        """The powers of ten inside the range."""
        return list(range(int(np.ceil(self.lo - 1e-9)), int(np.floor(self.hi + 1e-9)) + 1))


def log_bar(scale: LogScale, width: float = 4.0, height: float = 0.2, label: str = "gradient norm") -> Group:
    """A horizontal bar of the gradient ramp over ``scale``, its powers of ten ticked below and ``label`` (if any)
    above."""
    pixels = ramp_rgb(GRAD_STOPS, np.linspace(0.0, 1.0, 256))[None, :, :].repeat(4, axis=0)
    bar = ImageMobject(pixels)
    bar.set_resampling_algorithm(RESAMPLING_ALGORITHMS["bilinear"])
    bar.stretch_to_fit_width(width).stretch_to_fit_height(height)
    frame = Rectangle(width=width, height=height, stroke_color=MUTED, stroke_width=1)
    left = frame.get_left()[0]
    powers = scale.ticks()
    spacing = width / max(scale.hi - scale.lo, 1e-9)  # scene units per decade
    every = int(np.ceil((text(power_of_ten(-8), SMALL).width + 0.2) / spacing))  # label every n-th decade
    ticks = VGroup()
    for k in [k for k in powers if k % max(every, 1) == 0]:
        x = left + width * (k - scale.lo) / (scale.hi - scale.lo)
        mark = Rectangle(width=0.02, height=height * 0.6, stroke_width=0, fill_color=MUTED, fill_opacity=1)
        mark.move_to([x, frame.get_bottom()[1] - height * 0.3, 0])
        ticks.add(VGroup(mark, text(power_of_ten(k), SMALL, MUTED).next_to(mark, DOWN, buff=0.06)))
    if not label:
        return Group(bar, frame, ticks)
    return Group(bar, frame, ticks, text(label, SMALL, MUTED).next_to(frame, UP, buff=0.1, aligned_edge=LEFT))


# -- formulas --------------------------------------------------------------------------------------------------
def tint(expr: str, colour: str) -> str:
    """Typst math markup that draws ``expr`` in ``colour``: a formula's terms take the colours of the objects they
    name on screen (D vermillion, G blue, x real, G(z) generated), so the formula and the picture read as one."""
    return f'text(fill: #rgb("{colour}"), {expr})'


#: Typst's math font draws a capital at 0.70 of the height DejaVu Sans gives it at the same font size (measured: 'D'
#: at size 32 is 0.228 units tall in MathTypst, 0.324 in Text); formulas are scaled up by this to match the text.
TYPST_SCALE = 1.42


def formula(code: str, size: float = BODY) -> MathTypst:
    """Typst math (no TeX install needed) in the scenes' text colour, its capitals as tall as those of text at
    ``size`` of the type scale."""
    return MathTypst(code, font_size=size * TYPST_SCALE, color=TEXT)


# -- verdicts: right or wrong, and D's score as a dial ------------------------------------------------------------
class Tick(VMobject):
    """A check mark in the 'right verdict' colour."""

    def __init__(self, size: float = 0.4, **kw: object):
        super().__init__(stroke_color=GOOD_COLOR, stroke_width=9, **kw)
        self.set_points_as_corners([[-0.5, 0.0, 0.0], [-0.15, -0.35, 0.0], [0.5, 0.4, 0.0]]).scale(size)


class Cross(VGroup):
    """A cross in the 'wrong verdict' colour."""

    def __init__(self, size: float = 0.4, **kw: object):
        h = size * 0.4
        super().__init__(
            Line([-h, -h, 0], [h, h, 0], stroke_color=BAD_COLOR, stroke_width=9),
            Line([-h, h, 0], [h, -h, 0], stroke_color=BAD_COLOR, stroke_width=9),
            **kw,
        )


def verdict_mark(right: bool, size: float = 0.4) -> VMobject:
    """A tick for a right verdict, a cross for a wrong one."""
    return Tick(size) if right else Cross(size)


class Gauge(VGroup):
    """D's score for one sample as a dial: a half ring in the score map from 'fake' (0, left) through 'guess' (0.5,
    top) to 'real' (1, right), a needle, and the value below it as a fixed-width number. ``tracker`` drives the needle
    and the number together: animate it to let D make up its mind (they never jump between two texts)."""

    def __init__(self, value: float = 0.5, radius: float = 0.6, decimals: int = 2):
        super().__init__()
        self.tracker = ValueTracker(value)
        segments = 24
        ring = VGroup(
            *(
                AnnularSector(
                    inner_radius=radius * 0.78,
                    outer_radius=radius,
                    angle=PI / segments,
                    start_angle=PI - PI * (k + 1) / segments,
                    fill_color=score_hex((k + 0.5) / segments),
                    fill_opacity=1.0,
                )
                for k in range(segments)
            )
        )
        hub = Circle(radius=radius * 0.09, fill_color=TEXT, fill_opacity=1.0, stroke_width=0)
        hub.move_to(ring.get_bottom())
        needle = Line(LEFT, RIGHT, stroke_color=TEXT, stroke_width=5)
        self.value = number(value, decimals, LABEL).next_to(ring, UP, buff=0.1)
        end = radius * 0.89  # the middle of the ring's ends, where 0 and 1 are
        ends = VGroup(
            text("fake", SMALL, MUTED).next_to(ring, DOWN, buff=0.1).set_x(hub.get_x() - end),
            text("real", SMALL, MUTED).next_to(ring, DOWN, buff=0.1).set_x(hub.get_x() + end),
        )

        def swing(m: Line) -> None:  # from wherever the gauge is now, at whatever size
            s = float(np.clip(self.tracker.get_value(), 0.0, 1.0))
            angle, length = PI * (1.0 - s), ring.width / 2 * 0.92
            centre = hub.get_center()
            m.put_start_and_end_on(centre, centre + length * np.array([np.cos(angle), np.sin(angle), 0.0]))

        needle.add_updater(swing)
        self.value.add_updater(lambda m: show_value(m, self.tracker.get_value()))
        swing(needle)
        self.add(ring, ends, needle, hub, self.value)
        self.needle = needle

    def hold(self) -> Gauge:
        """Stop following the tracker, keeping needle and number where they are. Manim redraws every mobject with an
        updater on every frame; a gauge whose verdict is out is then drawn once per animation instead."""
        self.needle.clear_updaters()
        self.value.clear_updaters()
        return self
