"""Render Manim scenes from a run's snapshots, programmatically (no `manim` subprocess).

A scene file is imported, its Scene classes are rendered one by one with the Cairo renderer inside
``manim.tempconfig`` and the run is handed over through ``$GANVIZ_RUN`` so that the very same file
also renders with plain ``GANVIZ_RUN=... manim -ql scenes/morph.py``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ganviz.errors import GanvizError, first_line
from ganviz.reader import Run
from pipeline.current import RUN_ENV, handing_over
from pipeline.gifs import DEFAULT_MAX_SIZE, parse_size, video_gif
from pipeline.output import output_folder
from pipeline.video import MAX_STILLS, faststart, publish, write_stills

SCENES_DIR = Path(__file__).resolve().parent.parent / "scenes"

#: quality name -> (pixel width, pixel height, frames per second), as manim's -ql/-qm/-qh/-qk.
QUALITIES = {
    "low": (854, 480, 15),
    "medium": (1280, 720, 30),
    "high": (1920, 1080, 60),
    "4k": (3840, 2160, 60),
}
FORMATS = ("mp4", "gif", "webm", "png")
#: GIFs are rendered at the quality's frame rate up to this: GIF delays are whole hundredths of a second (25 fps is
#: 4 of them exactly), and more frames only make a GIF larger (or make --max-size drop them again)
GIF_MAX_FPS = 25
#: a GIF is made from a lossless RGB H.264 render (libx264rgb at crf 0): no chroma blur around text, no artefacts
GIF_SOURCE = {
    "video_codec": "libx264rgb",
    "pixel_format": "rgb24",
    "video_encoder_options": {"crf": "0", "preset": "ultrafast"},
}
#: an MP4 is H.264 at manim's crf 23 with x264's veryfast preset instead of its default (medium): on the 2-core CPU
#: encoding 816 frames of 1080p60 took 15 s instead of 45 s, and the file came out smaller (1.08 vs 1.39 MB)
MP4_ENCODER = {"video_encoder_options": {"crf": "23", "preset": "veryfast"}}
MIN_WIDTH, MAX_WIDTH = 64, 7680


class RenderError(GanvizError):
    """A scene file or scene that cannot be rendered (missing, no Scene class, raised, wrong run)."""


class SceneFailed(RenderError):
    """A scene that raised while rendering (a bug in it or a run it does not handle), as opposed to one that refused
    a run in one line; ``error`` is the exception in one line (``Type: message``)."""

    def __init__(self, message: str, error: str):
        super().__init__(message)
        self.error = error


def builtin_scene_path(name: str) -> Path:
    return SCENES_DIR / f"{name}.py"


def builtin_scenes() -> list[str]:
    """The built-in scenes, by file name, in the order `ganviz render all` renders them (alphabetical).

    Discovered, not listed: a module of the ``scenes`` package is a built-in scene when it defines a Scene with a
    construct() of its own (so scenes/common.py, the helpers, is not). Importing them imports manim (~1 s).
    """
    import importlib

    names = []
    for path in sorted(SCENES_DIR.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        module = importlib.import_module(f"scenes.{path.stem}")
        if _scene_classes(module):
            names.append(path.stem)
    return names


def resolve_scene_file(spec: str | os.PathLike[str]) -> Path:
    """A path to a scene file, or the name of a built-in scene ('morph' means scenes/morph.py).

    A file at ``spec`` comes first (a user's own scenes/morph.py wins); only where there is none does a relative
    ``scenes/NAME.py`` (or ``NAME.py``) name the built-in scene of that file name, so the usage the docs show,
    ``ganviz render scenes/adversarial.py``, works outside the checkout too.
    """
    path = Path(spec)
    if path.is_file():
        return path
    if path.suffix == "" and builtin_scene_path(str(spec)).is_file():
        return builtin_scene_path(str(spec))
    builtin = _builtin_by_file_name(path)
    if builtin is not None:
        return builtin
    if path.is_dir():
        raise RenderError(f"{path}: is a folder; pass one scene file, e.g. scenes/morph.py (or 'all')")
    names = ", ".join(builtin_scenes())
    raise RenderError(f"{path}: scene file not found; pass a .py file with a Scene class or one of: {names}, all")


def _builtin_by_file_name(path: Path) -> Path | None:
    """The built-in scene a missing relative ``scenes/NAME.py`` or ``NAME.py`` names, if there is one."""
    if path.is_absolute() or path.suffix != ".py" or path.parts[:-1] not in ((), ("scenes",)):
        return None
    builtin = builtin_scene_path(path.stem)
    return builtin if builtin.is_file() and not path.stem.startswith("_") else None


def load_scene_classes(path: Path) -> list[type]:
    """Import ``path`` and return the Scene subclasses it defines (not ones it merely imports)."""

    classes = _scene_classes(_import_file(path))
    if not classes:
        raise RenderError(f"{path}: no Scene class found; define e.g. 'class MyScene(Scene): def construct(self): ...'")
    # definition order, so a file's scenes render in the order they are written
    classes.sort(key=lambda c: inspect.getsourcelines(c)[1] if _has_source(c) else 0)
    return classes


def _scene_classes(module: ModuleType) -> list[type]:
    """The Scene classes ``module`` defines (not ones it imports) that have a construct() to run: a base class
    without one, such as scenes.common.RunScene, is no scene."""
    from manim import Scene

    return [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, Scene) and obj.__module__ == module.__name__ and obj.construct is not Scene.construct
    ]


def _has_source(cls: type) -> bool:
    try:
        inspect.getsourcelines(cls)
        return True
    except (OSError, TypeError):
        return False


def _import_file(path: Path) -> ModuleType:
    name = f"ganviz_scene_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RenderError(f"{path}: not a Python file; pass a .py file with a Scene class")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except GanvizError:
        raise
    except SyntaxError as e:
        raise RenderError(f"{path}:{e.lineno}: syntax error ({e.msg}); fix the scene file") from None
    except Exception as e:
        raise RenderError(f"{path}: importing failed ({type(e).__name__}: {e}); fix the scene file") from None
    return module


@contextlib.contextmanager
def _env(**values: str | None) -> Iterator[None]:
    """Environment variables set (None: unset) for the block, and put back as they were after it."""

    def put(items: dict[str, str | None]) -> None:
        for k, v in items.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    old = {k: os.environ.get(k) for k in values}
    try:
        put(values)
        yield
    finally:
        put(old)


def _even(x: float) -> int:
    return max(2, int(round(x / 2.0)) * 2)


@dataclass(frozen=True)
class RenderOptions:
    """How scenes are rendered (``ganviz render``'s options): ``quality`` preset, output ``fmt``, ``progress`` lines,
    ``pixel_width`` (``--width``) and ``frame_rate`` over the preset (tests render tiny videos), the GIFs' size limit
    ``max_size`` and the number of ``stills`` beside each video."""

    quality: str = "low"
    fmt: str = "mp4"
    progress: bool = True
    pixel_width: int | None = None
    frame_rate: float | None = None
    max_size: str | int | None = DEFAULT_MAX_SIZE
    stills: int | None = None

    def check(self) -> None:
        """Refuse bad options in one line each, before a run is read or anything is rendered or written."""
        check_options(self.quality, self.fmt, pixel_width=self.pixel_width, stills=self.stills, max_size=self.max_size)


def check_options(
    quality: str,
    fmt: str,
    *,
    pixel_width: int | None = None,
    stills: int | None = None,
    max_size: str | int | None = None,
) -> None:
    """Refuse bad render options in one line each, before a run is read or anything is rendered or written."""
    if quality not in QUALITIES:
        raise RenderError(f"-q {quality}: unknown quality; choose from: {', '.join(QUALITIES)}")
    if fmt not in FORMATS:
        raise RenderError(f"--format {fmt}: unknown format; choose from: {', '.join(FORMATS)}")
    if pixel_width is not None and not (MIN_WIDTH <= pixel_width <= MAX_WIDTH and pixel_width % 2 == 0):
        raise RenderError(
            f"--width {pixel_width}: use an even number of pixels from {MIN_WIDTH} to {MAX_WIDTH} (e.g. 640); "
            "the height is 9/16 of it"
        )
    if stills is not None:
        if not 1 <= stills <= MAX_STILLS:
            raise RenderError(f"--stills {stills}: ask for 1 to {MAX_STILLS} stills (e.g. --stills 6)")
        if fmt == "png":
            raise RenderError("--stills are taken from the video; drop --format png (it renders only the last frame)")
    if fmt == "gif":
        parse_size(max_size)  # GifError: '--max-size big: expected a size such as 5MB, ...'


def render_config(
    quality: str,
    fmt: str,
    work: Path,
    *,
    pixel_width: int | None = None,
    frame_rate: float | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """manim config for one render: everything manim writes lands in ``work``. A GIF is rendered as a lossless
    RGB MP4 (``GIF_SOURCE``) at no more than ``GIF_MAX_FPS``, which ``pipeline.gifs.video_gif`` then encodes."""
    check_options(quality, fmt, pixel_width=pixel_width)
    width, height, fps = QUALITIES[quality]
    if pixel_width is not None:  # keep 16:9; H.264 yuv420p needs even sizes
        width, height = pixel_width, _even(pixel_width * 9 / 16)
    if fmt == "gif":
        fps = min(fps, GIF_MAX_FPS)
    return {
        "renderer": "cairo",
        "disable_caching": True,
        "pixel_width": width,
        "pixel_height": height,
        "frame_rate": frame_rate or fps,
        "format": "mp4" if fmt in ("png", "gif") else fmt,
        "write_to_movie": fmt != "png",
        "save_last_frame": fmt == "png",
        "media_dir": str(work),
        "video_dir": str(work),
        "images_dir": str(work),
        "partial_movie_dir": str(work / "partial"),
        "progress_bar": "display" if progress else "none",
        "verbosity": "WARNING",
        "background_color": "#101018",
        "preview": False,
        "show_in_file_browser": False,
        **{"gif": GIF_SOURCE, "mp4": MP4_ENCODER}.get(fmt, {}),
    }


def render_file(
    path: Path,
    run: Run,
    *,
    scene: str | None = None,
    out: Path | None = None,
    compare: Run | None = None,
    options: RenderOptions | None = None,
    **settings: Any,
) -> list[Path]:
    """Render every Scene class in ``path`` (or just ``scene``) from ``run``; returns the files written (per scene its
    video, then its stills and their contact sheet).

    ``compare`` is a second run some scenes contrast with (gradient_flow: minimax vs bce). ``options`` says how to
    render (``RenderOptions``); ``settings`` are its fields given one by one instead (``quality="high"``).
    """
    opts = options or RenderOptions(**settings)
    opts.check()
    path = resolve_scene_file(path)
    classes = load_scene_classes(path)
    if scene is not None:
        chosen = [c for c in classes if c.__name__ == scene]
        if not chosen:
            names = ", ".join(c.__name__ for c in classes)
            raise RenderError(f"--scene {scene}: no such Scene in {path}; it has: {names}")
        classes = chosen
    for cls in classes:
        check_kind(cls, run, path)
    compare_path = str(compare.path.resolve()) if compare else None
    env = {RUN_ENV: str(run.path.resolve()), "GANVIZ_COMPARE_RUN": compare_path}
    # the scenes get these very Run objects back from $GANVIZ_RUN (metrics parsed once, each damaged file
    # warned about once); a failed render leaves nothing in the output folder
    with handing_over(run, *([compare] if compare else [])), output_folder(out, "videos", run, RenderError) as folder:
        return [
            f
            for i, cls in enumerate(classes, 1)
            for f in _render_class(cls, i, len(classes), path, run, folder, env, opts)
        ]


def _render_class(
    cls: type,
    i: int,
    n: int,
    path: Path,
    run: Run,
    out: Path,
    env: dict[str, str | None],
    opts: RenderOptions,
) -> list[Path]:
    """Render one Scene class into ``out/<class>.<fmt>`` (and its stills). manim writes into a temporary folder; the
    finished files move into ``out`` last, each replacing an earlier one whole."""
    import manim

    progress, fmt = opts.progress, opts.fmt
    if progress:
        print(f"rendering {cls.__name__} ({i}/{n}) from {run.name} ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ganviz-render-") as tmp, _env(**env):
        work = Path(tmp)
        cfg = render_config(
            opts.quality, fmt, work, pixel_width=opts.pixel_width, frame_rate=opts.frame_rate, progress=progress
        )
        with manim.tempconfig(cfg):
            try:
                instance = cls()
                instance.render()
            except GanvizError as e:
                raise RenderError(f"{path}: scene {cls.__name__}: {e}") from None
            except Exception as e:
                raise SceneFailed(
                    f"{path}: scene {cls.__name__} failed ({type(e).__name__}: {e}); fix the scene or the run",
                    first_line(e),
                ) from None
            result = _result_file(instance, fmt)
        if result is None or not result.is_file():
            raise RenderError(f"{path}: scene {cls.__name__} wrote no {fmt} file (an empty construct()?)")
        done = work / "done"
        done.mkdir()
        try:
            made = _finish(
                result, done, cls.__name__, fmt, max_size=opts.max_size, stills=opts.stills, progress=progress
            )
        except GanvizError as e:  # named by the file it was to become, not by the temporary one
            raise RenderError(f"{path}: scene {cls.__name__}: {str(e).replace(str(done), str(out))}") from None
        written = publish(made, out)
    if progress:
        print(f"  wrote {written[0]} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
    return written


def _finish(
    result: Path, done: Path, name: str, fmt: str, *, max_size: str | int | None, stills: int | None, progress: bool
) -> list[Path]:
    """manim's file as ganviz writes it, into ``done``: an MP4 with its index first, a GIF through the GIF writer of
    `ganviz gif` (one palette, delta frames, fitted to ``max_size``), WebM and PNG as they are; then the stills."""
    final = done / f"{name}.{fmt}"  # manim names stills Scene_ManimCE_vX.png
    made = [final]
    if stills:  # from manim's video: for a GIF the lossless one
        made += write_stills(result, done, name, stills)
    if fmt == "mp4":
        faststart(result, final)
    elif fmt == "gif":
        res = video_gif(result, final, max_size=max_size)
        if progress:
            for line in res.report():
                print(f"  {line}", file=sys.stderr, flush=True)
    else:
        result.replace(final)
    return made


def _result_file(instance: Any, fmt: str) -> Path | None:
    fw = instance.renderer.file_writer
    p = getattr(fw, "image_file_path" if fmt == "png" else "movie_file_path", None)
    return Path(p) if p else None


def check_kind(cls: type, run: Run, path: Path) -> None:
    """Refuse before rendering when a scene cannot draw ``run``: a RunScene says why (its kind, or something the
    run did not record); a plain Scene may declare run kinds (``kinds = ("toy2d",)``)."""
    reason = cannot_draw(cls, run)
    if reason is not None:
        raise RenderError(f"{path}: {reason}")


def cannot_draw(cls: type, run: Run) -> str | None:
    """Why scene class ``cls`` cannot draw ``run`` (None: it can)."""
    if hasattr(cls, "cannot_draw"):
        return cls.cannot_draw(run)
    kinds = getattr(cls, "kinds", None)
    if kinds and run.kind not in kinds:
        return f"scene {cls.__name__} draws only {', '.join(kinds)} runs, and {run.name} is a {run.kind} run"
    return None


def scene_kinds(path: Path) -> set[str]:
    """The run kinds every scene in a file can draw (empty set: any)."""
    kinds: set[str] = set()
    for cls in load_scene_classes(path):
        kinds.update(getattr(cls, "kinds", None) or ())
    return kinds


class Rendered(list):
    """What ``render_all`` wrote (the files, as a list) and what became of each scene: ``drawn`` (names), ``skipped``
    and ``failed`` (name -> why, in one line)."""

    def __init__(self) -> None:
        super().__init__()
        self.drawn: list[str] = []
        self.skipped: dict[str, str] = {}
        self.failed: dict[str, str] = {}

    def summary(self) -> str:
        """One line: 'drawn 4 / skipped 1 (distribution: ...) / failed 1 (training_curves: ValueError: ...)'."""

        def listed(items: dict[str, str]) -> str:
            return f" ({'; '.join(f'{k}: {v}' for k, v in items.items())})" if items else ""

        return (
            f"render all: drawn {len(self.drawn)} / skipped {len(self.skipped)}{listed(self.skipped)}"
            f" / failed {len(self.failed)}{listed(self.failed)}"
        )


def render_all(
    run: Run,
    *,
    out: Path | None = None,
    runs_2d: Run | None = None,
    compare: Run | None = None,
    outputs: Path | None = None,
    options: RenderOptions | None = None,
    **settings: Any,
) -> Rendered:
    """Render every built-in scene that applies to ``run``: into ``out``, else
    ``<outputs>/videos/<run>/`` for the run each scene draws (``outputs`` defaults to ./outputs). Options as for
    ``render_file``.

    A scene that cannot draw ``run`` (a 2-D scene and an image run, a scene that needs measures the run did not
    record) draws ``runs_2d`` if it can, else it is skipped with a one-line note saying why. A scene that fails
    does not stop the others. Ends with ``Rendered.summary()`` on stderr; the caller decides what a failure means.
    """
    opts = options or RenderOptions(**settings)
    opts.check()
    done = Rendered()
    for name in builtin_scenes():
        path = builtin_scene_path(name)
        try:
            done.extend(_render_builtin(path, run, runs_2d, compare, out, outputs, opts))
            done.drawn.append(name)
        except SceneFailed as e:
            done.failed[name] = e.error
            print(f"error: {e}", file=sys.stderr, flush=True)
        except RenderError as e:  # refused, before rendering or while it began: one line
            why = str(e).removeprefix(f"{path}: ")
            done.skipped[name] = why.split("; ")[0]
            print(f"note: skipping {name}: {why}", file=sys.stderr, flush=True)
    print(done.summary(), file=sys.stderr, flush=True)
    return done


def _render_builtin(
    path: Path,
    run: Run,
    runs_2d: Run | None,
    compare: Run | None,
    out: Path | None,
    outputs: Path | None,
    opts: RenderOptions,
) -> list[Path]:
    """Render the scenes of one built-in file from ``run``, else from ``runs_2d``; RenderError (the first scene's
    reason) when neither can be drawn."""
    classes = load_scene_classes(path)
    candidates = [r for r in (run, runs_2d) if r is not None]
    use = next((r for r in candidates if all(cannot_draw(c, r) is None for c in classes)), None)
    if use is None:
        raise RenderError(next(reason for c in classes if (reason := cannot_draw(c, run)) is not None))
    dest = out if out is not None or outputs is None else outputs / "videos" / use.name
    return render_file(path, use, out=dest, compare=compare, options=opts)
