"""A scene's acts as slides (pipeline/slides.py): one video per act, and notes that repeat the screen.

On a designed run: the acts are the scene's own ``next_section`` calls, each video decodes and lasts as long as its
act, every caption in the notes was on screen when the act ended (the scene probe's record of the same scene), and
every number in the notes is the run's value of its quantity (tests/truth.py's oracle, from the run's files)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from designed import make_designed_run
from scene_probe import probe
from truth import agrees, expected

from ganviz.reader import Run
from pipeline.render import RenderError, RenderOptions, builtin_scene_path, builtin_scenes
from pipeline.slides import read_acts, render_acts
from pipeline.video import VideoFrames

TINY = RenderOptions(progress=False, pixel_width=160, frame_rate=5)


@pytest.fixture(scope="module")
def curves_acts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    run = make_designed_run(tmp_path_factory.mktemp("designed") / "image", "image")
    out = tmp_path_factory.mktemp("acts")
    render_acts("training_curves", Run.load(run), out, options=TINY)
    return run, out


def footer_step(numbers) -> int:
    return next(int(n.shown.replace(",", "")) for n in numbers if n.quantity == "step" and n.step is None)


@pytest.mark.xdist_group("lecture")
def test_each_act_is_a_video_as_long_as_the_act(curves_acts: tuple[Path, Path]) -> None:
    _, out = curves_acts
    acts = read_acts(out)
    source = builtin_scene_path("training_curves").read_text(encoding="utf-8")
    named = re.findall(r'self\.next_section\("([\w-]+)"\)', source)
    assert [a.name for a in acts] == named == ["the-question", "the-run", "the-scores"]
    for act in acts:
        clip = VideoFrames(act.video)
        assert clip.size == (160, 90)
        assert abs(len(clip) / clip.fps - act.seconds) <= 2 / clip.fps, act


@pytest.mark.xdist_group("lecture")
def test_notes_repeat_what_is_on_screen(curves_acts: tuple[Path, Path]) -> None:
    from scenes.training_curves import TrainingCurves

    run, out = curves_acts
    acts = read_acts(out)
    shots = probe(TrainingCurves, run)
    end = 0.0
    for act in acts:
        end += act.seconds
        screen = " ".join(next(s for s in reversed(shots) if s.time <= end + 1e-6).texts())
        for caption in act.captions:
            assert caption in screen, (act.name, caption)
        step = footer_step(act.numbers)
        for n in act.numbers:
            value = expected(str(run), n.quantity, n.step if n.step is not None else step, n.average) * n.scale
            assert agrees(n.shown, value), (act.name, n, value)
    closing = acts[-1]
    assert any("0.5" in c for c in closing.captions), closing.captions  # the scene's verdict on D's scores
    assert {n.quantity for n in closing.numbers} >= {"metric:d_real", "metric:d_fake", "step"}


def test_every_builtin_scene_marks_acts() -> None:
    for name in builtin_scenes():
        source = builtin_scene_path(name).read_text(encoding="utf-8")
        assert len(re.findall(r"self\.next_section\(", source)) >= 3, name


def test_a_scene_without_sections_is_one_act(tmp_path: Path) -> None:
    scene = tmp_path / "plain.py"
    scene.write_text(
        "from manim import Scene, Square, Create, Text, FadeIn\n"
        "class Plain(Scene):\n    def construct(self):\n"
        "        self.play(Create(Square()), FadeIn(Text('a square, drawn in a moment')), run_time=0.4)\n"
    )
    run = Run.load(make_designed_run(tmp_path / "run", "toy1d", n=16))
    (act,) = render_acts(scene, run, tmp_path / "acts", options=TINY)
    assert (act.name, act.video.name, act.captions) == ("whole", "Plain-01-whole.mp4", ("a square, drawn in a moment",))
    assert len(VideoFrames(act.video)) == 2


def test_acts_are_mp4_only(tmp_path: Path) -> None:
    run = Run.load(make_designed_run(tmp_path / "run", "toy1d", n=16))
    with pytest.raises(RenderError, match="--format gif: acts are rendered as MP4 only"):
        render_acts("morph", run, tmp_path / "acts", options=RenderOptions(fmt="gif", progress=False))
    assert not (tmp_path / "acts").exists()
