"""A scene's acts as slides: one video per act (manim's sections) and the words and numbers on screen when it ends.

The built-in scenes mark their acts with ``self.next_section(name)``. ``render_acts`` renders a scene with manim's
``save_sections``, so each act becomes its own MP4, and records, as each act ends, what a speaker would say over it:
the captions on screen (their text as drawn) and every number the scene registered on them (scenes/readouts.py:
``claims`` for a caption's numbers, ``reads`` for a counter), each as printed. The notes therefore repeat the screen,
never a recomputation of it. ``acts.json`` beside the videos holds them for the deck writers (pipeline/deck.py).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ganviz.errors import GanvizError
from ganviz.reader import Run
from pipeline.current import RUN_ENV, handing_over
from pipeline.render import (
    RenderError,
    RenderOptions,
    _env,
    check_kind,
    load_scene_classes,
    render_config,
    resolve_scene_file,
)
from pipeline.video import faststart

#: how many words make a text a caption (a sentence) rather than a label ('real', 'step', 'D(x)')
CAPTION_WORDS = 4
ACTS_FILE = "acts.json"
TEXT_KINDS = ("Text", "MarkupText")
NUMBER_KINDS = ("DecimalNumber", "Integer")


@dataclass(frozen=True)
class Number:
    """One registered number on screen: what it stands for (a readouts quantity) and how it is printed."""

    quantity: str
    shown: str
    step: int | None = None  # the step named beside it; None: the step the footer shows
    average: int = 1  # averaged over this many logged steps (readouts.window)
    scale: float = 1.0  # 100: a fraction shown as a percent
    run: str = "run"  # "other": the run it is compared with
    counter: bool = False  # a changing readout (``reads``), not a number a caption states


@dataclass(frozen=True)
class Act:
    """One act of a scene: its video, its length and what is on screen as it ends."""

    scene: str
    name: str
    video: Path
    seconds: float
    captions: tuple[str, ...] = ()
    numbers: tuple[Number, ...] = field(default_factory=tuple)
    findings: tuple[str, ...] = ()  # the captions that state the run's numbers (registered with ``claims``)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["video"] = self.video.name
        return out

    @staticmethod
    def from_json(row: dict[str, Any], folder: Path) -> Act:
        numbers = tuple(Number(**n) for n in row.get("numbers", ()))
        return Act(
            row["scene"],
            row["name"],
            folder / row["video"],
            float(row["seconds"]),
            tuple(row["captions"]),
            numbers,
            tuple(row.get("findings", ())),
        )


def read_acts(folder: Path) -> list[Act]:
    """The acts ``render_acts`` wrote into ``folder`` (its acts.json)."""
    path = folder / ACTS_FILE
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise GanvizError(f"{path}: cannot read the acts ({e}); render the scene's acts again") from None
    return [Act.from_json(row, folder) for row in rows]


# -- what is on screen --------------------------------------------------------------------------------------------
def _visible(mob: Any) -> bool:
    """Some part of ``mob`` is drawn now: a picture with some opacity, a path with a fill or a stroke."""
    from manim import ImageMobject, VMobject

    for m in mob.get_family():
        if isinstance(m, ImageMobject):
            if m.pixel_array.size and m.pixel_array[..., 3].max() > 0:
                return True
        elif isinstance(m, VMobject) and len(m.points):
            if m.get_fill_opacities().max(initial=0) > 0 or (
                m.get_stroke_opacities().max(initial=0) > 0 and m.get_stroke_width() > 0
            ):
                return True
    return False


def _text_of(mob: Any) -> str | None:
    """A Text's string as drawn now (``become`` notes a new one, see ``_noting_become``), or a number's digits."""
    kind = type(mob).__name__
    if kind in NUMBER_KINDS:
        if hasattr(mob, "_get_num_string"):
            return str(mob._get_num_string(mob.number))
        return str(int(mob.get_value())) if kind == "Integer" else f"{mob.get_value():.{mob.num_decimal_places}f}"
    if kind in TEXT_KINDS:
        return getattr(mob, "_shown_text", None) or getattr(mob, "original_text", None)
    return None


def _texts_in(mob: Any) -> list[str]:
    """The texts and numbers of ``mob``'s family, in drawing order, a number's digits not listed twice."""
    out: list[str] = []

    def walk(m: Any) -> None:
        t = _text_of(m)
        if t is not None:
            out.append(t)
            return
        for sub in m.submobjects:
            walk(sub)

    walk(mob)
    return out


@dataclass(frozen=True)
class Screen:
    """What is on screen at one moment: captions, the registered numbers, and the captions stating numbers."""

    captions: tuple[str, ...] = ()
    numbers: tuple[Number, ...] = ()
    findings: tuple[str, ...] = ()


def on_screen(scene: Any) -> Screen:
    """The captions (texts of ``CAPTION_WORDS`` words or more, and every text a scene registered numbers on), the
    registered numbers and the captions that state them (findings) visible on ``scene`` now, each once, in order."""
    captions: list[str] = []
    numbers: list[Number] = []
    findings: list[str] = []

    def walk(mob: Any, inside_caption: bool = False) -> None:
        if not _visible(mob):
            return
        readings = getattr(mob, "readings", ())
        text = _text_of(mob)
        caption = type(mob).__name__ not in NUMBER_KINDS and (
            bool(readings) or (text is not None and len(text.split()) >= CAPTION_WORDS)
        )
        if caption and not inside_caption:  # a caption's lines are part of it, not captions of their own
            words = " ".join(_texts_in(mob)) if text is None else text
            if words and words not in captions:
                captions.append(words)
            if words and any(r.shown is not None for r in readings) and words not in findings:
                findings.append(words)
        for r in readings:
            shown = r.shown if r.shown is not None else text
            if shown is not None:
                numbers.append(Number(r.quantity, shown, r.step, r.average, r.scale, r.run, r.shown is None))
        if text is None:
            for sub in mob.submobjects:
                walk(sub, inside_caption or caption)

    for mob in dict.fromkeys([*scene.mobjects, *scene.foreground_mobjects]):
        walk(mob)
    return Screen(tuple(captions), tuple(dict.fromkeys(numbers)), tuple(findings))


@contextlib.contextmanager
def _noting_become() -> Iterator[None]:
    """While rendering, ``Mobject.become`` (always_redraw's updaters use it) notes on each text part the string it
    shows now: a Text that became another keeps its old ``original_text``."""
    from manim import Mobject

    original = Mobject.become

    def become(self: Any, other: Any, *args: Any, **kwargs: Any) -> Any:
        out = original(self, other, *args, **kwargs)
        for node, goal in zip(self.get_family(), other.get_family(), strict=False):
            shown = getattr(goal, "_shown_text", None) or getattr(goal, "original_text", None)
            if shown is not None:
                node._shown_text = shown
        return out

    Mobject.become = become
    try:
        yield
    finally:
        Mobject.become = original


# -- rendering ----------------------------------------------------------------------------------------------------
def render_acts(
    path: str | Path,
    run: Run,
    out: Path,
    *,
    compare: Run | None = None,
    options: RenderOptions | None = None,
    scene: str | None = None,
) -> list[Act]:
    """Render the scene in ``path`` (its first Scene class, or ``scene``) from ``run`` into ``out``, one MP4 per act
    (``<Scene>-<nn>-<act>.mp4``), and write ``out/acts.json``; returns the acts in order."""
    opts = options or RenderOptions(progress=False)
    opts.check()
    if opts.fmt != "mp4":
        raise RenderError(f"--format {opts.fmt}: acts are rendered as MP4 only")
    path = resolve_scene_file(path)
    classes = load_scene_classes(path)
    cls = next((c for c in classes if scene in (None, c.__name__)), None)
    if cls is None:
        raise RenderError(f"--scene {scene}: no such Scene in {path}; it has: {', '.join(c.__name__ for c in classes)}")
    check_kind(cls, run, path)
    env = {RUN_ENV: str(run.path.resolve()), "GANVIZ_COMPARE_RUN": str(compare.path.resolve()) if compare else None}
    out.mkdir(parents=True, exist_ok=True)
    with handing_over(run, *([compare] if compare else [])), _env(**env):
        with tempfile.TemporaryDirectory(prefix="ganviz-acts-") as tmp:
            acts = _render_sections(cls, path, Path(tmp), out, opts)
    rows = [a.to_json() for a in acts]
    (out / ACTS_FILE).write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return acts


def _render_sections(cls: type, path: Path, work: Path, out: Path, opts: RenderOptions) -> list[Act]:
    """Render ``cls`` with sections saved, noting the screen as each section ends; the section videos move to
    ``out`` with their index first."""
    import manim

    cfg = render_config(opts.quality, "mp4", work, pixel_width=opts.pixel_width, frame_rate=opts.frame_rate)
    cfg.update(save_sections=True, sections_dir=str(work / "sections"), progress_bar="none")
    ends: dict[str, Screen] = {}
    with manim.tempconfig(cfg), _noting_become():
        try:
            instance = cls()
            current = ["autocreated"]
            section = instance.next_section

            def next_section(name: str = "unnamed", *args: Any, **kwargs: Any) -> None:
                ends[current[0]] = on_screen(instance)
                current[0] = name
                section(name, *args, **kwargs)

            instance.next_section = next_section
            instance.render()
            ends[current[0]] = on_screen(instance)
        except GanvizError as e:
            raise RenderError(f"{path}: scene {cls.__name__}: {e}") from None
        except Exception as e:
            raise RenderError(f"{path}: scene {cls.__name__} failed ({type(e).__name__}: {e})") from None
        index = work / "sections" / f"{cls.__name__}.json"
        rows = json.loads(index.read_text(encoding="utf-8")) if index.is_file() else []
    if not rows:
        raise RenderError(f"{path}: scene {cls.__name__} wrote no video (an empty construct()?)")
    acts = []
    for k, row in enumerate(rows, 1):
        name = "whole" if row["name"] == "autocreated" else row["name"]  # a scene without sections: one act
        video = out / f"{cls.__name__}-{k:02d}-{name}.mp4"
        faststart(work / "sections" / row["video"], video)
        end = ends.get(row["name"], Screen())
        seconds = float(row.get("duration") or 0.0)
        acts.append(Act(cls.__name__, name, video, seconds, end.captions, end.numbers, end.findings))
    return acts
