"""`ganviz render all` never stops at one scene: a scene that fails is reported, the others are drawn, a refused one
is skipped with its reason, and one summary line ends the output; the exit status says whether one failed. A planted
scene that raises stands for a broken one. Renders are tiny (160x90 at 4 fps) and drawn from a designed run."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from designed import make_designed_run

from pipeline import render
from pipeline.cli import main

pytestmark = pytest.mark.xdist_group("render_output")

PLANTED = """
from manim import FadeIn, Square

from scenes import common as c


class Planted(c.RunScene):
    def construct(self) -> None:
        self.play(FadeIn(Square()), run_time=0.5)
        raise ValueError("planted in the middle of a render")
"""


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_designed_run(tmp_path_factory.mktemp("designed") / "image", "image", total_steps=40, snapshot_every=20)


def render_all(run: Path, out: Path, monkeypatch: pytest.MonkeyPatch, names: list[str], planted: Path) -> Result:
    """`ganviz render all` over the built-in scenes ``names``, and 'planted' from the file ``planted``."""
    monkeypatch.setitem(render.QUALITIES, "low", (160, 90, 4))
    monkeypatch.setattr(render, "builtin_scenes", lambda: names)
    real_path = render.builtin_scene_path
    monkeypatch.setattr(render, "builtin_scene_path", lambda n: planted if n == "planted" else real_path(n))
    return CliRunner().invoke(main, ["render", "all", "--run", str(run), "-o", str(out), "--quiet"])


def test_a_failing_scene_is_reported_and_the_others_are_drawn(
    image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "planted.py").write_text(PLANTED)
    names = ["distribution", "planted", "morph"]
    res = render_all(image, tmp_path / "out", monkeypatch, names, tmp_path / "planted.py")
    assert res.exit_code == 1, res.output
    assert [Path(line).name for line in res.stdout.split()] == ["NoiseToImage.mp4"]  # drawn after the failure
    assert (tmp_path / "out" / "NoiseToImage.mp4").stat().st_size > 0
    assert not list((tmp_path / "out").glob("Planted*"))
    lines = res.stderr.strip().splitlines()
    assert lines[-1].startswith("render all: drawn 1 / skipped 1 (distribution: scene DecisionField needs a 2-D toy")
    assert lines[-1].endswith(" / failed 1 (planted: ValueError: planted in the middle of a render)")
    assert any(line.startswith("error: ") and "scene Planted failed (ValueError" in line for line in lines)
    assert any(line.startswith("note: skipping distribution: ") for line in lines)


def test_without_a_failure_it_exits_0_with_the_summary(
    image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    res = render_all(image, tmp_path / "out", monkeypatch, ["distribution", "morph"], tmp_path / "none.py")
    assert res.exit_code == 0, res.output
    assert res.stderr.strip().splitlines()[-1].startswith("render all: drawn 1 / skipped 1 (distribution: ")
    assert res.stderr.strip().endswith(" / failed 0")
