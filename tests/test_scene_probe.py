"""The scene probe itself (tests/scene_probe.py): it sees what a scene shows, after every call, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from manim import DOWN, RED, Create, FadeIn, ImageMobject, Scene, Square, Text, Transform, ValueTracker, always_redraw
from scene_probe import probe


class Known(Scene):
    """Every kind of change the probe must follow: added, moved, transformed, redrawn by an updater, removed."""

    def construct(self) -> None:
        title = Text("hello", font_size=30, color=RED).move_to([-3, 2, 0])
        box = Square(side_length=2, stroke_width=7).move_to([2, -1, 0])
        self.play(FadeIn(title), Create(box), run_time=0.4)
        self.play(Transform(title, Text("world wide", font_size=40).move_to([1, 1, 0])), run_time=0.4)
        pen = ValueTracker(0)
        counter = always_redraw(lambda: Text(f"at {int(pen.get_value())}", font_size=20).next_to(box, DOWN))
        self.add(counter)
        self.play(pen.animate.set_value(7), run_time=0.4)
        self.add(ImageMobject(np.full((4, 6, 3), 200, np.uint8)).move_to([5, 3, 0]))
        self.remove(box)
        self.wait(0.4)


@pytest.fixture(scope="module")
def shots() -> list:
    return probe(Known)


def test_a_shot_after_every_call(shots: list) -> None:
    assert [(s.index, s.call) for s in shots] == [(0, "play"), (1, "play"), (2, "play"), (3, "wait")]
    assert [round(s.time, 2) for s in shots] == [0.4, 0.8, 1.2, 1.6]


def test_texts_boxes_colours_and_strokes(shots: list) -> None:
    first = shots[0]
    (title,) = first.find("Text", "hello")
    assert title.center == pytest.approx((-3, 2), abs=1e-6) and title.fill == "#fc6255"  # manim's RED
    assert title.font_size == pytest.approx(30, rel=1e-3) and title.width > title.height > 0
    (box,) = first.find("Square")
    assert box.box == pytest.approx((1, -2, 3, 0), abs=1e-6) and box.stroke_width == 7
    assert box.start == box.end == pytest.approx((3, 0), abs=1e-6)  # a closed path: it ends where it starts


def test_transformed_and_redrawn_texts_show_their_new_string(shots: list) -> None:
    assert shots[1].texts() == ["world wide"]  # the old Text object, now shaped as its target
    (moved,) = shots[1].find("Text")
    assert moved.center == pytest.approx((1, 1), abs=1e-6) and moved.font_size == pytest.approx(40, rel=1e-3)
    assert "at 7" in shots[2].texts()  # always_redraw's updater, after the pen moved


def test_removed_mobjects_go_and_pictures_keep_their_pixels(shots: list) -> None:
    last = shots[-1]
    assert not last.find("Square") and last.find("Text", "at 7")
    (pic,) = last.find("ImageMobject")
    assert pic.pixels.shape == (4, 6, 3) and (pic.pixels == 200).all() and pic.center == pytest.approx((5, 3))
    assert shots[0].find("Square")  # earlier shots are copies: later changes do not reach them


def test_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    probe(Known)
    assert list(tmp_path.iterdir()) == []
