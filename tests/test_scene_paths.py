"""`ganviz render scenes/NAME.py` names the built-in scene of that file name from any working directory (the
usage the docs show), a scene file of the user's own at that path still wins, and a name that is neither is
refused in one line that lists the built-in scenes. `--scene Nope` stops each render right after the file was
resolved and imported, and its error lists the classes of the file that was picked."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_errors import one_line_error
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.render import builtin_scene_path, resolve_scene_file

OWN_SCENE = """
from manim import Scene


class MyOwnAdversarial(Scene):
    def construct(self):
        pass
"""


def render_error(run: Path, *args: str) -> str:
    res = CliRunner().invoke(main, ["render", *args, "--run", str(run), "--scene", "Nope", "--quiet"])
    return one_line_error(res)


def test_scenes_slash_a_built_in_file_name_works_outside_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, designed_image: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no scenes/ here
    assert resolve_scene_file("scenes/adversarial.py") == builtin_scene_path("adversarial")
    assert resolve_scene_file("adversarial.py") == builtin_scene_path("adversarial")
    assert "CounterfeiterAndPolice" in render_error(designed_image, "scenes/adversarial.py")


def test_a_scene_file_of_ones_own_at_that_path_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, designed_image: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenes").mkdir()
    (tmp_path / "scenes" / "adversarial.py").write_text(OWN_SCENE)
    assert resolve_scene_file("scenes/adversarial.py") == Path("scenes/adversarial.py")
    msg = render_error(designed_image, "scenes/adversarial.py")
    assert "MyOwnAdversarial" in msg and "CounterfeiterAndPolice" not in msg


@pytest.mark.parametrize("spec", ["scenes/nosuch.py", "elsewhere/adversarial.py", "scenes/__init__.py"])
def test_a_missing_scene_file_is_refused_in_one_line_naming_the_built_in_scenes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, designed_image: Path, spec: str
) -> None:
    monkeypatch.chdir(tmp_path)
    msg = render_error(designed_image, spec)
    assert f"{Path(spec)}: scene file not found" in msg and "adversarial, " in msg and "morph" in msg, msg


def test_an_absolute_path_names_that_file_only(tmp_path: Path, designed_image: Path) -> None:
    msg = render_error(designed_image, str(tmp_path / "scenes" / "adversarial.py"))
    assert "scene file not found" in msg
