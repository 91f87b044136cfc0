"""One convention across commands: the run is RUN or --run, the output folder -o/--out, and errors name the
option as typed (older spellings keep working)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_errors import one_line_error
from click.testing import CliRunner, Result

from pipeline.cli import main

PNG = ["--format", "png", "--dpi", "30", "--quiet"]


def ok(args: list[str]) -> Result:
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    return res


def refused(args: list[str]) -> str:
    return one_line_error(CliRunner().invoke(main, args))


@pytest.mark.parametrize("spelling", ["argument", "--run"])
@pytest.mark.parametrize("out", ["-o", "--out"])
def test_plots_take_the_run_either_way_and_o_or_out(designed_toy1d: Path, tmp_path: Path, spelling, out) -> None:
    run = [str(designed_toy1d)] if spelling == "argument" else ["--run", str(designed_toy1d)]
    ok(["plots", *run, out, str(tmp_path / "p"), *PNG])
    assert (tmp_path / "p" / "toy1d_density.png").is_file()


def test_gif_takes_run_and_o(designed_toy1d: Path, tmp_path: Path) -> None:
    ok(["gif", "--run", str(designed_toy1d), "-o", str(tmp_path / "g"), "--quiet"])
    assert (tmp_path / "g" / "progress.gif").is_file()


def test_two_different_runs_are_refused(designed_toy1d: Path, designed_toy2d: Path, tmp_path: Path) -> None:
    msg = refused(["plots", str(designed_toy1d), "--run", str(designed_toy2d), "-o", str(tmp_path), *PNG])
    assert "two runs given" in msg
    assert not list(tmp_path.iterdir())


def test_plots_at_and_its_older_spelling_steps(designed_image: Path, tmp_path: Path) -> None:
    for flag in ("--at", "--steps"):
        msg = refused(["plots", str(designed_image), flag, "0,9999", "-o", str(tmp_path), *PNG])
        assert msg.startswith(f"error: {flag} 9999: step 9999 is beyond")
    ok(["plots", str(designed_image), "--steps", "0,end", "-o", str(tmp_path / "old"), *PNG])
    ok(["plots", str(designed_image), "--at", "0,end", "-o", str(tmp_path / "new"), *PNG])
    assert (tmp_path / "old" / "samples.png").read_bytes() == (tmp_path / "new" / "samples.png").read_bytes()


def test_render_takes_the_run_as_an_argument(designed_image: Path, tmp_path: Path) -> None:
    msg = refused(["render", "morph", str(designed_image), "--scene", "Nope", "-o", str(tmp_path), "--quiet"])
    assert "--scene Nope: no such Scene" in msg and "NoiseToImage" in msg


def test_run_2d_must_be_a_2d_run(designed_image: Path, tmp_path: Path) -> None:
    msg = refused(["render", "distribution", "--run-2d", str(designed_image), "-o", str(tmp_path), "--quiet"])
    assert msg.startswith(f"error: --run-2d {designed_image}: is an image run; pass a 2-D toy run")


@pytest.mark.xdist_group("scenes")
def test_run_2d_serves_a_single_2d_scene(
    designed_image: Path, designed_toy2d: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ganviz render distribution RUN --run-2d RINGS`: the image RUN cannot be drawn by it, the 2-D run can."""
    import pipeline.render as render

    monkeypatch.setitem(render.QUALITIES, "low", (160, 90, 5))
    out = tmp_path / "v"
    res = ok(
        [
            "render",
            "distribution",
            str(designed_image),
            "--run-2d",
            str(designed_toy2d),
            "--format",
            "png",
            "-o",
            str(out),
            "--quiet",
        ]
    )
    assert res.stdout.strip() == str(out / "DecisionField.png") and (out / "DecisionField.png").is_file()
