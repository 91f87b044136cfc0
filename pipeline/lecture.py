"""`ganviz lecture`: a GAN lecture from real runs, in one command: the runs its lessons need, each lesson's scene
rendered act by act, and a deck that presents offline (HTML, PowerPoint, one MP4).

Six lessons, each a question, a scene's acts and what the run showed in its own numbers (the captions the scene put
on screen, word for word, pipeline/slides.py): the game, noise to image, the equilibrium, vanishing gradients
(minimax beside the non-saturating loss), mode collapse (LSGAN covering beside BCE collapsing on the 8 Gaussians),
and what loss curves do not say. Four runs serve them; a run the user names for a lesson is used as it is, and only
the runs no lesson has been given are trained, under outputs/runs/lecture-<run>-<size>/, where a later call finds
and reuses them. Rendered acts are reused too while their run and render settings are the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganviz.errors import GanvizError
from ganviz.reader import Run
from pipeline.deck import Deck, Slide, write_deck
from pipeline.render import RenderOptions
from pipeline.slides import ACTS_FILE, Act, read_acts, render_acts

STAMP = "source.json"  # beside a lesson's acts: the runs and settings they were rendered from
ACTS_VERSION = 2  # bumped when acts.json gains a field: acts rendered before are rendered again


@dataclass(frozen=True)
class Size:
    """How big the lecture's runs and videos are."""

    digits_steps: int
    toy_steps: int
    quality: str


#: small: a 2-core CPU trains and renders the whole lecture in about 12 minutes; large: the variants' own lengths
#: (the demo's runs) and 720p video, the default where CUDA trains
SIZES = {"small": Size(1200, 3000, "low"), "large": Size(3000, 6000, "medium")}

#: the runs the lessons use: name -> (variant, overrides). The toys' seed 1234 is the pair docs/mode-collapse.md shows.
#: The digits runs record no quality measures (no lesson of theirs shows them): no digits classifier to train first.
RUNS: dict[str, tuple[str, dict[str, Any]]] = {
    "digits": ("dcgan-digits", {"loss": "bce", "eval_every": -1}),
    "minimax": ("dcgan-digits", {"loss": "minimax", "eval_every": -1}),
    "toy": ("toy-8gaussians", {"seed": 1234}),
    "toy-bce": ("toy-8gaussians-bce", {"seed": 1234}),
}


@dataclass(frozen=True)
class Lesson:
    """One lesson: its question, the scene that answers it and the runs (RUNS names) it draws."""

    key: str
    title: str
    question: str
    scene: str
    run: str
    compare: str | None = None


LESSONS = (
    Lesson("game", "The game", "G forges, D judges: who is winning, and when?", "adversarial", "digits"),
    Lesson(
        "noise", "Noise to image", "Does G's noise become a digit all at once, or shape first, detail later?",
        "morph", "digits",
    ),
    Lesson(
        "equilibrium", "The equilibrium", "In theory D ends up saying 0.5 to everything. Where do its scores end?",
        "training_curves", "digits",
    ),
    Lesson(
        "gradients", "Vanishing gradients", "Why does the original minimax loss teach G so little?",
        "gradient_flow", "minimax", "digits",
    ),
    Lesson(
        "collapse", "Mode collapse", "Does G learn all of the data, or only the part that fools D?",
        "mode_collapse", "toy", "toy-bce",
    ),
    Lesson(
        "curves", "What the loss curves say", "D's scores sit near 0.5: has G learned the data?",
        "training_curves", "toy-bce",
    ),
)  # fmt: skip
LESSON_KEYS = tuple(lesson.key for lesson in LESSONS)


@dataclass
class LectureResult:
    folder: Path
    runs: dict[str, Path]
    trained: list[str]
    files: dict[str, Path] = field(default_factory=dict)
    slides: int = 0


def parse_choice(values: tuple[str, ...], option: str) -> dict[str, Path]:
    """``LESSON=PATH`` pairs of ``--run``/``--compare``, each lesson named once."""
    out: dict[str, Path] = {}
    for value in values:
        key, sep, path = value.partition("=")
        if not sep or not path:
            raise GanvizError(f"{option} {value}: expected LESSON=RUN_FOLDER, e.g. {option} collapse=outputs/runs/x")
        if key not in LESSON_KEYS:
            raise GanvizError(f"{option} {value}: unknown lesson '{key}'; choose from: {', '.join(LESSON_KEYS)}")
        if key in out:
            raise GanvizError(f"{option} {key}=...: given twice; name each lesson once")
        out[key] = Path(path)
    for key, path in out.items():
        Run.load(path)  # a run that cannot be read is one line now, before anything trains
        if option == "--compare" and next(x for x in LESSONS if x.key == key).compare is None:
            raise GanvizError(f"--compare {key}={path}: the lesson '{key}' draws one run; give it with --run")
    return out


def chosen(keys: tuple[str, ...] | None) -> tuple[Lesson, ...]:
    """The lessons named (all of them for None), in the lecture's order."""
    if keys is None:
        return LESSONS
    unknown = [k for k in keys if k not in LESSON_KEYS]
    if unknown or not keys:
        raise GanvizError(f"--lessons {','.join(keys)}: choose from: {', '.join(LESSON_KEYS)}")
    return tuple(x for x in LESSONS if x.key in keys)


def check_drawable(runs: dict[str, Path], compares: dict[str, Path], lessons: tuple[Lesson, ...]) -> None:
    """Refuse, before anything trains, a run of the user's that its lesson's scene cannot draw (one line)."""
    from pipeline.render import builtin_scene_path, cannot_draw, load_scene_classes

    for lesson in lessons:
        for option, given in (("--run", runs), ("--compare", compares)):
            if lesson.key in given:
                (cls,) = load_scene_classes(builtin_scene_path(lesson.scene))[:1]
                reason = cannot_draw(cls, Run.load(given[lesson.key]))
                if reason is not None:
                    raise GanvizError(f"{option} {lesson.key}={given[lesson.key]}: {reason}")


def needed_runs(runs: dict[str, Path], compares: dict[str, Path], lessons: tuple[Lesson, ...] = LESSONS) -> list[str]:
    """The RUNS that some lesson still needs because the user named none for it."""
    need = []
    for lesson in lessons:
        if lesson.key not in runs:
            need.append(lesson.run)
        if lesson.compare is not None and lesson.key not in compares:
            need.append(lesson.compare)
    return list(dict.fromkeys(need))


def run_folder(root: Path, name: str, size: str) -> Path:
    return root / f"lecture-{name}-{size}"


def lesson_runs(lesson: Lesson, trained: dict[str, Path], runs: dict[str, Path], compares: dict[str, Path]) -> tuple:
    """(run, compare run or None) a lesson draws: the user's, else the lecture's own."""
    run = runs.get(lesson.key) or trained[lesson.run]
    compare = None if lesson.compare is None else (compares.get(lesson.key) or trained[lesson.compare])
    return Run.load(run), (Run.load(compare) if compare is not None else None)


def _stamp(run: Run, compare: Run | None, opts: RenderOptions) -> dict[str, Any]:
    def of(r: Run | None) -> list[Any] | None:
        return None if r is None else [str(r.path.resolve()), (r.path / "run.json").stat().st_mtime_ns]

    size = [opts.quality, opts.pixel_width, opts.frame_rate]
    return {"run": of(run), "compare": of(compare), "size": size, "version": ACTS_VERSION}


def lesson_acts(lesson: Lesson, run: Run, compare: Run | None, folder: Path, opts: RenderOptions) -> list[Act]:
    """The lesson's acts: rendered into ``folder``, or read back when they were rendered from the same runs and
    settings (a second `ganviz lecture` renders nothing it has)."""
    stamp = _stamp(run, compare, opts)
    try:
        if json.loads((folder / STAMP).read_text(encoding="utf-8")) == stamp and (folder / ACTS_FILE).is_file():
            acts = read_acts(folder)
            if all(a.video.is_file() for a in acts):
                return acts
    except (OSError, ValueError, GanvizError):
        pass
    acts = render_acts(lesson.scene, run, folder, compare=compare, options=opts)
    (folder / STAMP).write_text(json.dumps(stamp) + "\n", encoding="utf-8")
    return acts


#: the readouts a speaker reads out, in words (scenes/readouts.py names the quantities)
READOUT_WORDS = {
    "step": "step",
    "metric:accuracy": "D right (%)",
    "metric:d_real": "D(x)",
    "metric:d_fake": "D(G(z))",
    "metric:loss_d": "D's loss",
    "metric:loss_g": "G's loss",
    "eval:modes_captured": "modes captured",
}


def readouts(act: Act) -> str | None:
    """The act's counters as its last frame shows them, in words ('On screen: step 1,200 · D(x) 0.82 ...'); None
    when it shows none of those ``READOUT_WORDS`` names."""
    said = []
    for n in act.numbers:
        if n.counter and n.quantity in READOUT_WORDS:
            item = f"{READOUT_WORDS[n.quantity]} {n.shown}" + (" (second run)" if n.run != "run" else "")
            if item not in said:
                said.append(item)
    return f"On screen: {' · '.join(said)}" if said else None


def lesson_slides(
    lesson: Lesson, run: Run, compare: Run | None, acts: list[Act], also: tuple[str, ...] = ()
) -> list[Slide]:
    """A lesson as slides: its question; each act (notes: the captions it adds, word for word); what it showed (and
    ``also``: what another lesson's scene showed of the same run)."""
    names = run.name + (f" and {compare.name}" if compare is not None else "")
    slides = [Slide(lesson.title, (lesson.question,), notes=(lesson.question, f"From the run{'s' * bool(compare)} "
                                                                               f"{names}."))]  # fmt: skip
    seen: set[str] = set()
    for k, act in enumerate(acts, 1):
        new = [c for c in act.captions if c not in seen] or list(act.captions)
        seen.update(act.captions)
        counters = readouts(act)
        notes = (*new, *([counters] if counters else []))
        slides.append(Slide(f"{lesson.title}, {k} of {len(acts)}", video=act.video, notes=notes))
    said = findings(acts) + also
    slides.append(Slide(f"{lesson.title}: what the run showed", said, notes=said))
    return slides


def same_run_elsewhere(run: Run, done: list[tuple[Lesson, list[Act]]], paths: dict[str, tuple]) -> tuple[str, ...]:
    """What the mode collapse lesson said of ``run`` when it was one of its two runs: the loss curves lesson then
    closes with how many modes that run held, as that scene printed it."""
    for lesson, acts in done:
        if lesson.key == "collapse" and run.path.resolve() in paths.get(lesson.key, ()):
            last = findings(acts)[-1]
            return (f"The same run in the mode collapse lesson: {last}",)
    return ()


def findings(acts: list[Act]) -> tuple[str, ...]:
    """The captions of a lesson that state its run's numbers, each once, in the order they came on screen."""
    out = [f for act in acts for f in act.findings]
    return tuple(dict.fromkeys(out)) or ("(this scene states no numbers in its captions)",)


def summary_slide(lessons: list[tuple[Lesson, list[Act]]]) -> Slide:
    """The closing slide: each lesson's last finding (its numbers as the screen printed them)."""
    lines = tuple(f"{lesson.title}: {findings(acts)[-1]}" for lesson, acts in lessons)
    return Slide("What the runs showed", lines, notes=lines)


def build_lecture(
    folder: Path,
    trained: dict[str, Path],
    runs: dict[str, Path],
    compares: dict[str, Path],
    opts: RenderOptions,
    echo: Callable[[str], None] = print,
    lessons: tuple[Lesson, ...] = LESSONS,
) -> tuple[Deck, list[tuple[Lesson, list[Act]]]]:
    """Render every lesson's acts under ``folder/acts/<lesson>/`` and put the deck together."""
    done = []
    slides = [
        Slide(
            "Generative adversarial networks, from real runs",
            (
                f"{len(lessons)} lessons: {', '.join(x.title.lower() for x in lessons)}.",
                "Every number on a slide is the run's own. Arrow keys move; S opens the speaker notes.",
            ),
            notes=("Each lesson opens with a question and ends with what its run showed.",),
        )
    ]
    paths: dict[str, tuple] = {}
    for i, lesson in enumerate(lessons, 1):
        run, compare = lesson_runs(lesson, trained, runs, compares)
        echo(f"lecture: lesson {i}/{len(lessons)}, {lesson.title.lower()} ({lesson.scene} from {run.name})")
        acts = lesson_acts(lesson, run, compare, folder / "acts" / lesson.key, opts)
        also = same_run_elsewhere(run, done, paths) if lesson.key == "curves" else ()
        done.append((lesson, acts))
        paths[lesson.key] = tuple(r.path.resolve() for r in (run, compare) if r is not None)
        slides += lesson_slides(lesson, run, compare, acts, also)
    slides.append(summary_slide(done))
    return Deck("A GAN lecture", tuple(slides)), done


def default_size() -> str:
    """large where CUDA trains, else small."""
    from gan_train.distributed import pick_device

    return "large" if pick_device("auto").type == "cuda" else "small"


def train_runs(
    names: list[str],
    root: Path,
    size: str,
    overrides: dict[str, Any] | None = None,
    *,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> tuple[dict[str, Path], list[str]]:
    """The lecture's own runs ``names`` under ``root``: a finished one is reused, a stopped one resumed, a missing
    one trained at ``size``. Returns (name -> folder, the names trained or resumed now)."""
    from gan_train.config import apply_overrides, get_variant
    from gan_train.train import train

    found, trained = {}, []
    for i, name in enumerate(names, 1):
        path = run_folder(root, name, size)
        variant, settings = RUNS[name]
        if path.is_dir() and Run.load(path).status == "finished":
            echo(f"lecture: run {i}/{len(names)}, {path} (reused)")
        elif path.is_dir():
            echo(f"lecture: run {i}/{len(names)}, resuming {path}")
            train(None, resume=path, progress=progress)
            trained.append(name)
        else:
            steps = SIZES[size].toy_steps if variant.startswith("toy") else SIZES[size].digits_steps
            cfg = apply_overrides(get_variant(variant), {**settings, "steps": steps, **(overrides or {})})
            echo(f"lecture: run {i}/{len(names)}, training {variant} ({steps:,} steps, {cfg.loss} loss) into {path}")
            train(cfg, out=path, progress=progress)
            trained.append(name)
        found[name] = path
    return found, trained


def run_lecture(
    *,
    size: str | None = None,
    runs: dict[str, Path] | None = None,
    compares: dict[str, Path] | None = None,
    out: Path | None = None,
    root: Path = Path("outputs") / "runs",
    options: RenderOptions | None = None,
    overrides: dict[str, Any] | None = None,
    lessons: tuple[str, ...] | None = None,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> LectureResult:
    """Train what the lessons still need, render every lesson act by act and write the deck into ``out`` (default:
    outputs/lectures/lecture-<size>/): index.html (reveal.js, offline), lecture.pptx and lecture.mp4."""
    from pipeline.deck import reveal_dir

    size = size or default_size()
    runs, compares, picked = runs or {}, compares or {}, chosen(lessons)
    opts = options or RenderOptions(SIZES[size].quality, progress=False)
    opts.check()
    if not (reveal_dir() / "dist" / "reveal.js").is_file():  # before any training: the deck needs it at the end
        raise GanvizError(f"{reveal_dir()}: reveal.js is not installed; run `make setup` to install it")
    folder = out or Path("outputs") / "lectures" / f"lecture-{size}"
    check_drawable(runs, compares, picked)
    need = needed_runs(runs, compares, picked)
    trained, now = train_runs(need, root, size, overrides, progress=progress, echo=echo)
    deck, _ = build_lecture(folder, trained, runs, compares, opts, echo, picked)
    echo("lecture: writing the deck (HTML, PowerPoint, MP4)")
    files = write_deck(deck, folder)
    return LectureResult(folder, trained, now, files, len(deck.slides))
