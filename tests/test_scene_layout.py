"""Layout checks of every built-in scene, on the scene graph (tests/scene_probe.py) of designed runs.

After every play/wait of a scene: no two text or formula mobjects overlap, every one lies in the title-safe
area (scenes/style.py), none is smaller than the type scale's minimum, and no stretch longer than 1.5 s shows
the title alone. These are rules of scenes/style.py's visual language; a scene that breaks one fails here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from designed import hop, make_designed_run
from scene_probe import Mob, Shot, probe
from truth import problems as untrue

from pipeline.render import builtin_scene_path, builtin_scenes, load_scene_classes
from scenes import style

pytestmark = pytest.mark.xdist_group("scene-content")

TEXT_KINDS = {
    "Text",
    "MarkupText",
    "Paragraph",
    "MathTex",
    "Tex",
    "SingleStringMathTex",
    "MathTypst",
    "DecimalNumber",
    "Integer",
}
CONTAINERS = {"VGroup", "Group"}  # listed by the probe besides their parts
TITLE_ONLY_LIMIT = 1.5  # seconds
TOLERANCE = 0.02  # scene units: glyph boxes of neighbours that touch are not an overlap


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A designed run of each kind, and (``<kind>-measured``) 2-D and image runs with quality measures: an
    8-Gaussians run whose G hops between modes, and a digits run whose digits change half way."""
    root = tmp_path_factory.mktemp("layout")
    out = {
        kind: make_designed_run(root / kind, kind, n=16 if kind == "image" else 64)
        for kind in ("image", "toy2d", "toy1d")
    }
    out["toy2d-measured"] = make_designed_run(root / "toy2d-measured", "toy2d", n=64, modes=hop)
    out["image-measured"] = make_designed_run(
        root / "image-measured", "image", modes=lambda t: range(10) if t < 0.5 else (1, 4, 7)
    )
    # to compare with: the same of another length and snapshot interval (a compared run is shown at the same
    # fraction of its own training, and its numbers are of its own step)
    for name in list(out):
        kind = name.split("-")[0]
        more = {"n": 16 if kind == "image" else 64}
        if name.endswith("measured"):
            more["modes"] = hop if kind == "toy2d" else (lambda t: (2, 5))
        out[f"{name}-other"] = make_designed_run(
            root / f"{name}-other", kind, total_steps=150, snapshot_every=25, **more
        )
    return out


def cases() -> list[tuple[str, str]]:
    """(scene file, run kind) for every built-in scene (as ``ganviz render all`` discovers them) and every kind of run
    it draws."""
    out = []
    for name in builtin_scenes():
        for cls in load_scene_classes(builtin_scene_path(name)):
            for kind in cls.kinds or ("image", "toy2d", "toy1d"):
                out.append((name, kind))
    return sorted(set(out))


def drawable(cls: type, kind: str, runs: dict[str, Path]) -> str:
    """The designed run of ``kind`` the scene draws: the plain one, else the one with quality measures."""
    from pipeline.run import Run

    for name in (kind, f"{kind}-measured"):
        if name in runs and cls.cannot_draw(Run.load(runs[name])) is None:
            return name
    raise AssertionError(f"{cls.__name__} draws none of the designed {kind} runs")


def texts(shot: Shot) -> list[Mob]:
    return [m for m in shot.visible() if m.kind in TEXT_KINDS and m.fill_opacity > 0.05]


def overlap(a: Mob, b: Mob) -> float:
    w = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    h = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    return min(w, h)


def crosses(points: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    """Whether the polyline through ``points`` (a path's Bézier points in order: close enough to the curve at the
    sizes scenes draw) passes through the inside of ``box``, shrunk by TOLERANCE (a line that touches a text's edge
    is not a crossing). Segments are clipped to the box (Liang-Barsky), all at once."""
    x0, y0, x1, y1 = box[0] + TOLERANCE, box[1] + TOLERANCE, box[2] - TOLERANCE, box[3] - TOLERANCE
    if x1 <= x0 or y1 <= y0 or len(points) < 2:
        return False
    a, b = points[:-1], points[1:]
    d = b - a
    lo, hi = np.zeros(len(a)), np.ones(len(a))
    ok = np.ones(len(a), bool)
    for p, q in ((-d[:, 0], a[:, 0] - x0), (d[:, 0], x1 - a[:, 0]), (-d[:, 1], a[:, 1] - y0), (d[:, 1], y1 - a[:, 1])):
        parallel = np.abs(p) < 1e-12
        ok &= ~(parallel & (q < 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(parallel, 0.0, q / np.where(parallel, 1.0, p))
        lo = np.where(~parallel & (p < 0), np.maximum(lo, t), lo)
        hi = np.where(~parallel & (p > 0), np.minimum(hi, t), hi)
    return bool((ok & (lo < hi)).any())


def lines(shot: Shot) -> list[Mob]:
    """The strokes a scene draws (lines, arrows, curves, outlines): visible paths with a visible stroke."""
    return [
        m
        for m in shot.visible()
        if m.points is not None and len(m.points) > 1 and m.stroke_opacity > 0.05 and m.stroke_width > 0.5
    ]


def problems(shots: list[Shot]) -> list[str]:
    left, right, bottom, top = style.safe_box()
    found: list[str] = []
    for shot in shots:
        items = texts(shot)
        strokes = lines(shot)
        for a in items:
            for line in strokes:
                if crosses(line.points, a.box):
                    found.append(f"t={shot.time:.1f}s: {a.text!r} is crossed by a {line.kind} ({line.name})")
                    break
        for i, a in enumerate(items):
            if (
                a.box[0] < left - TOLERANCE
                or a.box[2] > right + TOLERANCE
                or a.box[1] < bottom - TOLERANCE
                or (a.box[3] > top + TOLERANCE)
            ):
                found.append(f"t={shot.time:.1f}s: {a.text!r} leaves the title-safe area ({_box(a)})")
            size = a.font_size if a.font_size is not None else None
            if size is not None and size < style.MIN_FONT_SIZE - 1e-6:
                found.append(f"t={shot.time:.1f}s: {a.text!r} at font size {size:.1f} < {style.MIN_FONT_SIZE}")
            for b in items[i + 1 :]:
                if overlap(a, b) > TOLERANCE:
                    found.append(f"t={shot.time:.1f}s: {a.text!r} overlaps {b.text!r}")
    title_only = 0.0
    for prev, shot in zip([None, *shots], shots, strict=False):
        duration = shot.time - (prev.time if prev else 0.0)
        content = [m for m in shot.visible() if m.kind not in CONTAINERS and not _is_title(m)]
        title_only = title_only + duration if not content else 0.0
        if title_only > TITLE_ONLY_LIMIT:
            found.append(f"t={shot.time:.1f}s: only the title has been on screen for {title_only:.1f} s")
            title_only = -1e9  # report a stretch once
    return sorted(set(found))


def _is_title(m: Mob) -> bool:
    return m.kind in TEXT_KINDS and m.font_size is not None and m.font_size >= style.TITLE - 1e-6


def _box(m: Mob) -> str:
    return ", ".join(f"{v:.2f}" for v in m.box)


@pytest.mark.parametrize(("scene", "kind"), cases())
def test_scene_layout(scene: str, kind: str, runs: dict[str, Path]) -> None:
    for cls in load_scene_classes(builtin_scene_path(scene)):
        if cls.kinds and kind not in cls.kinds:
            continue
        name = drawable(cls, kind, runs)
        run, other = runs[name], runs[f"{name}-other"]
        alone = probe(cls, run=run)
        compared = probe(cls, run=run, compare=other) if cls.compares else []
        assert alone, f"{cls.__name__} played nothing"
        found = problems(alone + compared)
        found += untrue(alone, {"run": str(run)}) + untrue(compared, {"run": str(run), "other": str(other)})
        assert not found, f"{cls.__name__} on a {kind} run:\n" + "\n".join(found[:25])


def test_derived_accuracy_is_laid_out_and_true(runs: dict[str, Path], tmp_path: Path) -> None:
    """CounterfeiterAndPolice on a run that logged no accuracy (a recorded loop that handed none over) draws D's
    accuracy from the snapshots' scores: its legend, counter and captions pass the layout and truth checks too."""
    from shapes import Shape, make_shaped_run, regular

    from scenes.adversarial import CounterfeiterAndPolice

    missing = {"acc_real": "missing", "acc_fake": "missing"}
    for kind in ("image",):  # a toy's bills differ, its accuracy is the same
        run = make_shaped_run(tmp_path / kind, Shape(kind, 200, regular(200, 20), missing))
        shots = probe(CounterfeiterAndPolice, run=run)
        assert any(r.quantity == "snapshot:accuracy" for shot in shots for m in shot.mobs for r in m.readings)
        found = problems(shots) + untrue(shots, {"run": str(run)})
        assert not found, f"CounterfeiterAndPolice on a {kind} run without accuracy:\n" + "\n".join(found[:25])


def test_the_checks_can_fail(runs: dict[str, Path]) -> None:
    """A scene that breaks each rule once is caught by each rule."""
    from manim import FadeIn, Line, Text

    from scenes import common as c

    class Broken(c.RunScene):
        def construct(self) -> None:
            self.play(FadeIn(style.title("A title")), run_time=1.0)
            self.wait(1.0)  # 2 s of title alone
            self.play(FadeIn(Text("tiny", font_size=12).move_to([0, 0, 0])))
            self.play(
                FadeIn(style.text("overlap A").move_to([0, 1, 0])), FadeIn(style.text("overlap B").move_to([0.3, 1, 0]))
            )
            self.play(FadeIn(style.text("off the edge").move_to([7.0, -3.9, 0])))
            self.play(FadeIn(style.text("struck through").move_to([0, -1, 0])), FadeIn(Line([-2, -1, 0], [2, -1, 0])))

    found = "\n".join(problems(probe(Broken, run=runs["image"])))
    needles = ("only the title", "'tiny' at font size 12", "overlaps", "'off the edge' leaves the title-safe")
    for needle in (*needles, "'struck through' is crossed by a Line"):
        assert needle in found, (needle, found)


def test_the_truth_check_can_fail(runs: dict[str, Path]) -> None:
    """A scene that shows a counter one step behind its footer, a caption that runs ahead of the counter, a caption
    whose registered number is not in its words, and a number nobody registered: each is caught, and the honest
    versions of the same numbers pass."""
    from manim import FadeIn

    from scenes import common as c
    from scenes import readouts as r

    run_path = runs["image"]

    class Planted(c.RunScene):
        def construct(self) -> None:
            run, steps = self.run, self.run.metrics.step
            at, before = int(steps[-1]), int(steps[0])
            foot = style.footer(at, start=at, name=run.name)
            w = r.window(run)
            honest = r.reads(style.number(r.metric_at(run, "d_fake", at, w), 2), "metric:d_fake", average=w)
            stale = r.reads(style.number(r.metric_at(run, "d_fake", before, w), 2), "metric:d_fake", average=w)
            words, reading = r.claim("metric:accuracy", r.metric_at(run, "accuracy", at, w), average=w, scale=100)
            said = r.claims(style.text(f"right {words} %"), reading)
            early, wrong = r.claim("metric:accuracy", r.metric_at(run, "accuracy", before), scale=100)
            ahead = r.claims(style.text(f"still right {early} %"), wrong)  # a value of another step, said as now's
            silent = r.claims(style.text("right most of the time"), reading)
            loose = style.text("0.42")
            parts = (honest, stale, said, ahead, silent, loose)
            for i, m in enumerate(parts):
                m.move_to([-4 + 1.5 * (i % 3), 1.5 - 1.2 * (i // 3), 0])
            self.play(FadeIn(foot.group), *(FadeIn(m) for m in parts))

    found = untrue(probe(Planted, run=run_path), {"run": str(run_path)})
    joined = "\n".join(found)
    assert len(found) == 4, joined
    assert "'0.42' is a number on screen that no reading registers" in joined
    assert "for metric:d_fake of the run at step" in joined  # the stale counter
    assert "'right most of the time' registers" in joined  # the number missing from the words
    assert "'still right" in joined and "for metric:accuracy of the run at step" in joined  # the caption ahead
