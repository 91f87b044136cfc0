"""Record what a Manim scene puts on screen, as data: the scene graph after every ``play``/``wait``.

Content and layout tests read this instead of decoded pixels: the text of every label, where it is, its size,
colour and stroke, the pixels of every picture. A probe renders the scene with manim's Cairo renderer in a
dry run (no file is written, not even a folder), skipping to the end of each animation and drawing nothing,
so a whole built-in scene takes one to four seconds (most of it manim copying mobjects for its Transforms).

    shots = probe(adversarial.CounterfeiterAndPolice, run=path)
    shots[-1].texts()                      # every text on screen at the end
    [m for m in shots[5].mobs if m.kind == "Arrow"]

What a shot holds is a copy: later animations do not change it.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: mobjects recorded as one leaf: their parts (glyphs of a text, digits of a number) are not listed
LEAF_KINDS = (
    "Text",
    "MarkupText",
    "Paragraph",
    "MathTex",
    "Tex",
    "SingleStringMathTex",
    "MathTypst",
    "DecimalNumber",
    "Integer",
    "ImageMobject",
)


@dataclass(frozen=True)
class Mob:
    """One mobject on screen at one moment. Boxes are axis-aligned, in scene units (frame: 14.2 x 8)."""

    kind: str  # class name, e.g. "Text", "Arrow", "Rectangle", "ImageMobject"
    path: tuple[int, ...]  # index in scene.mobjects, then in each submobject list on the way down
    text: str | None  # Text/MarkupText: the string as given; DecimalNumber/Integer: the number shown; Tex: source
    box: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax of the whole family
    fill: str | None  # hex colour (#rrggbb) or None where the kind has none
    stroke: str | None
    fill_opacity: float
    stroke_opacity: float
    stroke_width: float
    font_size: float | None  # Text-like mobjects
    start: tuple[float, float] | None  # first and last point of a path (lines, arrows, curves)
    end: tuple[float, float] | None
    visible: bool  # has points or pixels, and some opacity
    pixels: np.ndarray | None = field(default=None, repr=False, compare=False)  # ImageMobject: RGB copy
    value: float | None = None  # DecimalNumber/Integer/ValueTracker
    name: str = ""  # the mobject's ``name`` (manim sets the class name; a scene may name what it draws)
    points: np.ndarray | None = field(default=None, repr=False, compare=False)  # a path's own points (x, y)
    anchors: np.ndarray | None = field(default=None, repr=False, compare=False)  # a path's corners (x, y), in order
    readings: tuple[Any, ...] = ()  # what its numbers stand for (scenes/readouts.py: reads, claims)
    constant: bool = False  # its digits are layout (axis ticks), not the run's (scenes/readouts.py: constant)

    @property
    def center(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def top(self) -> int:
        """Which of the scene's top-level mobjects this one belongs to."""
        return self.path[0]

    def contains(self, point: tuple[float, float], pad: float = 0.0) -> bool:
        x, y = point
        return self.box[0] - pad <= x <= self.box[2] + pad and self.box[1] - pad <= y <= self.box[3] + pad


@dataclass(frozen=True)
class Shot:
    """The screen after one ``play`` (or ``wait``) call of the scene."""

    index: int  # 0-based count of play/wait calls
    call: str  # "play" or "wait"
    time: float  # scene time in seconds at the end of the call
    mobs: tuple[Mob, ...]

    def visible(self) -> list[Mob]:
        return [m for m in self.mobs if m.visible]

    def texts(self) -> list[str]:
        """Every visible text, in scene order."""
        return [m.text for m in self.mobs if m.visible and m.text is not None]

    def find(self, kind: str | None = None, text: str | None = None, **attrs: Any) -> list[Mob]:
        """Visible mobjects of ``kind`` whose text matches the regex ``text`` (full match) and whose fields
        equal ``attrs`` (e.g. ``stroke="#ff5fa2"``)."""
        rx = re.compile(text) if text is not None else None
        out = []
        for m in self.mobs:
            if not m.visible or (kind is not None and m.kind != kind):
                continue
            if rx is not None and (m.text is None or not rx.fullmatch(m.text)):
                continue
            if all(getattr(m, k) == v for k, v in attrs.items()):
                out.append(m)
        return out

    def one(self, kind: str | None = None, text: str | None = None, **attrs: Any) -> Mob:
        found = self.find(kind, text, **attrs)
        assert len(found) == 1, f"shot {self.index}: {len(found)} matches for {kind} {text!r} {attrs}: {found}"
        return found[0]


def _hex(color: Any) -> str | None:
    if color is None:
        return None
    try:
        return color.to_hex().lower()[:7]
    except AttributeError:
        return str(color).lower()[:7]


def _num(getter: Any, default: float = 0.0) -> float:
    try:
        v = getter()
    except Exception:  # a mobject without that property (e.g. a stroke on an image)
        return default
    v = np.asarray(v, dtype=np.float64).ravel()
    return float(v[0]) if v.size else default


def describe(mob: Any, path: tuple[int, ...]) -> Mob:
    """A frozen record of one mobject (not of its submobjects)."""
    from manim import DL, UR, ImageMobject, VMobject

    kind = type(mob).__name__
    family_points = any(len(m.points) for m in mob.get_family()) if hasattr(mob, "points") else False
    if family_points or isinstance(mob, ImageMobject):
        lo, hi = mob.get_critical_point(DL), mob.get_critical_point(UR)
        box = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
    else:
        c = mob.get_center()
        box = (float(c[0]), float(c[1]), float(c[0]), float(c[1]))

    text = getattr(mob, "_probe_text", None) or getattr(mob, "original_text", None)
    value = None
    if kind in ("DecimalNumber", "Integer", "ValueTracker"):
        value = float(mob.get_value())
        if kind != "ValueTracker":
            text = f"{value:.{getattr(mob, 'num_decimal_places', 0)}f}" if kind == "DecimalNumber" else str(int(value))
    elif text is None and hasattr(mob, "tex_string"):
        text = str(mob.tex_string)
    elif text is None and hasattr(mob, "typst_code"):
        text = str(mob.typst_code)

    pixels = None
    if isinstance(mob, ImageMobject):
        pixels = np.array(mob.pixel_array[..., :3], copy=True)
        opacity = float(mob.pixel_array[..., 3].max()) / 255 if mob.pixel_array.size else 0.0
        fill, stroke, fo, so, sw = None, None, opacity, 0.0, 0.0
        visible = opacity > 0
    elif isinstance(mob, VMobject):
        fam = mob.family_members_with_points()
        fill, stroke = _hex(mob.get_fill_color()), _hex(mob.get_stroke_color())
        fo, so = _num(mob.get_fill_opacity), _num(mob.get_stroke_opacity)
        sw = _num(mob.get_stroke_width)
        visible = any(
            _num(m.get_fill_opacity) > 0 or (_num(m.get_stroke_opacity) > 0 and _num(m.get_stroke_width) > 0)
            for m in fam
        )
    else:
        fill = stroke = None
        fo = so = sw = 0.0
        visible = False

    start = end = anchors = None
    if isinstance(mob, VMobject) and len(mob.points) and kind not in LEAF_KINDS:
        s, e = mob.get_start(), mob.get_end()
        start, end = (float(s[0]), float(s[1])), (float(e[0]), float(e[1]))
        anchors = np.vstack([mob.get_start_anchors(), mob.points[-1:]])[:, :2].copy()

    points = None
    if isinstance(mob, VMobject) and len(mob.points) and kind not in LEAF_KINDS:
        points = np.array(mob.points[:, :2], copy=True)

    font_size = getattr(mob, "_probe_font_size", None)
    if font_size is None and kind in ("Text", "MarkupText", "Paragraph"):
        font_size = float(mob.font_size)
    name = str(getattr(mob, "name", ""))
    return Mob(
        kind,
        path,
        text,
        box,
        fill,
        stroke,
        fo,
        so,
        sw,
        font_size,
        start,
        end,
        visible,
        pixels,
        value,
        name,
        points,
        anchors,
        tuple(getattr(mob, "readings", ())),
        bool(getattr(mob, "constant", False)),
    )


def note_shown(node_root: Any, goal_root: Any) -> None:
    """``node_root`` now has ``goal_root``'s shape (after a Transform or ``become``) but keeps its own attributes,
    a Text its old string: note on each text part what it shows now, for ``describe``. The two families are
    aligned (same tree) by then."""
    for node, goal in zip(node_root.get_family(), goal_root.get_family(), strict=False):
        if getattr(goal, "original_text", None) is not None:
            node._probe_text = getattr(goal, "_probe_text", None) or goal.original_text
            node._probe_font_size = float(goal.font_size)


def note_transforms(animations: list[Any]) -> None:
    """``note_shown`` for every Transform of a play call (ReplacementTransform puts the target itself on screen)."""
    for anim in animations:
        target = getattr(anim, "target_copy", None)
        if target is not None and type(anim).__name__ != "ReplacementTransform":
            note_shown(anim.mobject, target)


@contextlib.contextmanager
def _noting_become() -> Iterator[None]:
    """``Mobject.become`` (always_redraw's updaters use it) notes what the mobject shows now."""
    from manim import Mobject

    original = Mobject.become

    def become(self: Any, mobject: Any, *args: Any, **kwargs: Any) -> Any:
        out = original(self, mobject, *args, **kwargs)
        note_shown(self, mobject)
        return out

    Mobject.become = become
    try:
        yield
    finally:
        Mobject.become = original


def screen(scene: Any) -> tuple[Mob, ...]:
    """Every mobject on the scene's screen, depth first (parents before their parts)."""
    out: list[Mob] = []

    def walk(mob: Any, path: tuple[int, ...]) -> None:
        out.append(describe(mob, path))
        if type(mob).__name__ in LEAF_KINDS:
            return
        for i, sub in enumerate(mob.submobjects):
            walk(sub, (*path, i))

    seen = []
    for mob in [*scene.mobjects, *scene.foreground_mobjects]:
        if any(mob is s for s in seen):
            continue
        seen.append(mob)
        walk(mob, (len(seen) - 1,))
    return tuple(out)


@contextlib.contextmanager
def _env(values: dict[str, str | None]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        yield
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


_CACHE: list[str] = []


def _cache(name: str) -> str:
    """A folder for manim's text and formula SVGs, shared by the probes of this process (they are slow to
    make) and removed when it exits."""
    if not _CACHE:
        import atexit
        import shutil

        _CACHE.append(tempfile.mkdtemp(prefix="scene-probe-cache-"))
        atexit.register(shutil.rmtree, _CACHE[0], True)
    return str(Path(_CACHE[0]) / name)


def probe(
    scene_cls: type,
    run: str | os.PathLike[str] | None = None,
    *,
    compare: str | os.PathLike[str] | None = None,
    draw: bool = False,
    pixel_width: int = 854,
) -> list[Shot]:
    """Construct ``scene_cls`` from ``run`` (and ``compare``) and return the screen after every play/wait call.

    Animations jump to their end state (manim's ``skip_animations``), updaters still run, no file is written
    (``dry_run``, and manim's media folder is a temporary one that must stay empty). ``draw`` also rasterises
    each shot with Cairo at ``pixel_width`` pixels (catches drawing errors, a little slower); shots are the same.
    """
    import manim

    shots: list[Shot] = []
    env = {
        "GANVIZ_RUN": str(Path(run).resolve()) if run is not None else None,
        "GANVIZ_COMPARE_RUN": str(Path(compare).resolve()) if compare is not None else None,
    }
    with tempfile.TemporaryDirectory(prefix="scene-probe-") as media, _env(env):
        cfg = {
            "renderer": "cairo",
            "dry_run": True,
            "disable_caching": True,
            "write_to_movie": False,
            "pixel_width": pixel_width,
            "pixel_height": max(2, pixel_width * 9 // 16),
            "frame_rate": 5,
            "media_dir": media,
            "text_dir": _cache("texts"),
            "tex_dir": _cache("Tex"),
            "progress_bar": "none",
            "verbosity": "ERROR",
            "preview": False,
        }
        with manim.tempconfig(cfg), _noting_become():
            scene = scene_cls(skip_animations=True)
            if not draw:
                scene.renderer.update_frame = lambda *a, **k: None  # the scene graph is what is recorded
            play = scene.play

            def recording_play(*args: Any, **kwargs: Any) -> None:
                play(*args, **kwargs)
                anims = scene.animations or []
                note_transforms(anims)
                call = "wait" if len(anims) == 1 and type(anims[0]).__name__ == "Wait" else "play"
                shots.append(Shot(len(shots), call, float(scene.renderer.time), screen(scene)))

            scene.play = recording_play  # Scene.wait calls self.play(Wait(...)): one hook sees both
            scene.render()
        left = [str(p) for p in Path(media).rglob("*")]
        assert not left, f"the probe's dry run wrote files: {left[:5]}"
    return shots
