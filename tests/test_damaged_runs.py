"""A damaged file in a run costs only itself: plots, GIFs and scenes skip a damaged snapshot with one warning
line and finish from the rest; a run whose run.json, fixed.npz or every snapshot is damaged is one error line
and leaves no output folder. Also which run a command picks when none is named, and a bad $GANVIZ_RUN.

Every run here is a designed run (tests/designed.py): 11 snapshots at steps 0, 20, ..., 200.
"""

from __future__ import annotations

import json
import shutil
import struct
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from cli_errors import one_line_error
from click.testing import CliRunner, Result
from designed import make_designed_run
from PIL import Image

import ganviz.reader as run_module
from pipeline import render
from pipeline.cli import main
from pipeline.plots import make_plots
from pipeline.run import Run, RunError, RunWarning

T = TypeVar("T")
STEPS = list(range(0, 201, 20))
# a step the plots' default pick of 5 shows (0, 40, 100, 160, 200) and morph's pick of 10 does not (there a
# flipped byte is found while phase_steps walks every snapshot)
BAD = 100


# -- damage ---------------------------------------------------------------------------------------
def snap_file(run: Path, step: int) -> Path:
    return run / "snapshots" / f"step_{step:08d}.npz"


def truncate(f: Path) -> None:
    """Cut the file in half, as a crash or a full disk does: the zip directory at its end is gone."""
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


def flip(f: Path, member: str = "fake.npy") -> None:
    """Flip one byte in the middle of ``member``'s compressed data: the zip directory still reads (the cheap
    check passes), decompressing that array fails."""
    data = bytearray(f.read_bytes())
    with zipfile.ZipFile(f) as z:
        info = z.getinfo(member)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    data[info.header_offset + 30 + name_len + extra_len + info.compress_size // 2] ^= 0xFF
    f.write_bytes(bytes(data))


DAMAGE = {"truncate": truncate, "flip": flip}


def copy(src: Path, tmp_path: Path, name: str = "run") -> Path:
    return Path(shutil.copytree(src, tmp_path / name))


def recorded(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, list[str]]:
    """(fn's result, the RunWarning messages it gave), every warning kept (no de-duplication by Python)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    return out, [str(w.message) for w in caught if issubclass(w.category, RunWarning)]


# -- the CLI --------------------------------------------------------------------------------------
def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def warning_lines(res: Result) -> list[str]:
    assert "Traceback" not in res.output
    return [ln for ln in res.stderr.splitlines() if ln.startswith("warning: ")]


def assert_finishes_with_one_warning(res: Result, *needles: str) -> str:
    assert res.exit_code == 0, res.output
    lines = warning_lines(res)
    assert len(lines) == 1, res.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def plots(run: Path, out: Path, *extra: str) -> Result:
    return cli("plots", str(run), "--out", str(out), "--format", "png", "--dpi", "30", "--quiet", *extra)


def gif(run: Path, out: Path) -> Result:
    return cli("gif", str(run), "--out", str(out), "--quiet")


@pytest.fixture
def tiny_low_quality(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ganviz render -q low` at 160x90, 5 fps: the CLI path end to end in about a second per scene."""
    monkeypatch.setitem(render.QUALITIES, "low", (160, 90, 5))


def render_cli(run: Path, out: Path, scene: str = "morph") -> Result:
    return cli("render", scene, "--run", str(run), "-o", str(out), "--quiet")


# -- the reader -----------------------------------------------------------------------------------
def test_listing_leaves_out_a_truncated_snapshot_with_one_warning(designed_image: Path, tmp_path: Path) -> None:
    path = copy(designed_image, tmp_path)
    truncate(snap_file(path, BAD))
    run = Run.load(path)

    def use() -> tuple[list[int], list[int], list[int]]:
        return run.steps, run.spread_steps(5), [s.step for s in run.iter_snapshots(keys=("fake",))]

    (steps, picked, read), msgs = recorded(use)
    assert steps == read == [s for s in STEPS if s != BAD]
    assert len(picked) == 5 and picked[0] == 0 and picked[-1] == 200 and BAD not in picked
    assert len(msgs) == 1 and f"step_{BAD:08d}.npz: unreadable or damaged .npz" in msgs[0] and "\n" not in msgs[0]
    assert run.damaged.keys() == {BAD}
    _, again = recorded(lambda: (run.steps, run.layer_grad_norms(), run.snapshots()))
    assert again == []  # once per Run object, not once per access
    assert list(run.layer_grad_norms()["g"][0]) == steps


def test_listing_checks_each_file_once_without_decompressing(
    designed_image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = copy(designed_image, tmp_path)
    truncate(snap_file(path, BAD))
    checked: list[Path] = []
    real_check = run_module.npz_problem
    monkeypatch.setattr(run_module, "npz_problem", lambda p, *a: checked.append(p) or real_check(p, *a))
    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__", lambda self, key: pytest.fail(f"decompressed {key}"))
    run = Run.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            assert len(run.steps) == 10
    assert sorted(checked) == sorted(snap_file(path, s) for s in STEPS)  # each file once, for all three listings
    good = snap_file(designed_image, BAD)
    shutil.copy(good, path / "snapshots" / ".repair.tmp")
    (path / "snapshots" / ".repair.tmp").replace(snap_file(path, BAD))  # replaced the way the trainer writes
    assert run.steps == STEPS  # a replaced file is a new file: checked again
    assert len(checked) == len(STEPS) + 1


def test_flipped_byte_found_while_reading_is_skipped_once(designed_image: Path, tmp_path: Path) -> None:
    path = copy(designed_image, tmp_path)
    flip(snap_file(path, BAD))
    run = Run.load(path)
    (steps, read), msgs = recorded(lambda: (run.steps, [s.step for s in run.iter_snapshots(keys=("fake",))]))
    assert steps == STEPS  # the zip directory is intact: listing cannot tell
    assert read == [s for s in STEPS if s != BAD]
    assert len(msgs) == 1 and f"step_{BAD:08d}.npz" in msgs[0] and "CRC" in msgs[0], msgs
    (steps, picked), again = recorded(lambda: (run.steps, run.spread_steps(10)))
    assert BAD not in steps and BAD not in picked and again == []


def test_a_damaged_file_after_the_last_readable_one_is_still_said(designed_image: Path, tmp_path: Path) -> None:
    path = copy(designed_image, tmp_path)
    flip(snap_file(path, 200))
    run = Run.load(path)
    read, msgs = recorded(lambda: [s.step for s in run.iter_snapshots(keys=("fake",))])
    assert read == STEPS[:-1] and len(msgs) == 1 and "step_00000200.npz" in msgs[0]


def test_gradient_norms_skip_a_flipped_norm_array(designed_image: Path, tmp_path: Path) -> None:
    path = copy(designed_image, tmp_path)
    flip(snap_file(path, 60), "grad_norm_d.npy")
    run = Run.load(path)
    norms, msgs = recorded(run.layer_grad_norms)
    steps, _, mat = norms["d"]
    assert list(steps) == [s for s in STEPS if s != 60] and mat.shape[1] == len(STEPS) - 1
    assert len(msgs) == 1 and "step_00000060.npz" in msgs[0] and "grad_norm_d.npy" in msgs[0]


def test_a_snapshot_without_its_arrays_is_damaged(designed_image: Path, tmp_path: Path) -> None:
    path = copy(designed_image, tmp_path)
    np.savez(snap_file(path, BAD), step=np.array(BAD))  # a readable archive, but not a snapshot
    run = Run.load(path)
    steps, msgs = recorded(lambda: run.steps)
    assert BAD not in steps and len(msgs) == 1 and "no 'fake', 'grad_norm_g', 'grad_norm_d' array" in msgs[0]


def test_a_flipped_byte_in_a_pick_moves_the_pick(designed_image: Path, tmp_path: Path) -> None:
    path = copy(designed_image, tmp_path)
    flip(snap_file(path, BAD))
    run = Run.load(path)
    picked, msgs = recorded(run.spread_steps, 5)
    assert len(picked) == 5 and picked[0] == 0 and picked[-1] == 200 and BAD not in picked
    assert len(msgs) == 1 and f"step_{BAD:08d}.npz" in msgs[0]
    for s in picked:
        run.read_snapshot(s)  # every pick decompresses


@pytest.mark.parametrize("how", ["truncate", "flip"])
@pytest.mark.parametrize(
    ("asked", "file_step", "near"),
    [(BAD, BAD, "80 or 120"), (BAD + 10, BAD, "80 or 120"), ("end", 200, "180"), ("start", 0, "20")],
)
def test_a_step_asked_for_by_name_must_be_readable(
    designed_image: Path, tmp_path: Path, how: str, asked: int | str, file_step: int, near: str
) -> None:
    """--steps 0,500,end with 500 damaged: the user asked for that state, so it is an error naming the file and
    the readable neighbours, not a silent substitute."""
    path = copy(designed_image, tmp_path)
    DAMAGE[how](snap_file(path, file_step))
    run = Run.load(path)

    def ask() -> None:
        with pytest.raises(RunError) as e:
            run.snapshot(asked)
        msg = str(e.value)
        assert f"step_{file_step:08d}.npz: unreadable or damaged .npz" in msg and "\n" not in msg
        if how == "truncate":  # known from the listing: the message says what to ask for instead
            assert f"pick another step, e.g. {near}" in msg

    _, msgs = recorded(ask)
    assert msgs == []  # the error is the one line
    res = plots(path, tmp_path / "p", "--steps", f"20,{asked}")
    one_line_error(res, f"--steps {asked}: ", f"step_{file_step:08d}.npz", f"pick another step, e.g. {near}")
    assert not (tmp_path / "p").exists()


def test_every_snapshot_damaged_is_one_error(designed_image: Path, tmp_path: Path) -> None:
    path = copy(designed_image, tmp_path)
    for s in STEPS:
        truncate(snap_file(path, s))
    run = Run.load(path)
    for call in (run.snapshot_steps, lambda: run.spread_steps(5), lambda: run.snapshot(40)):
        with pytest.raises(RunError, match=r"every snapshot is damaged \(11 files; step_00000000\.npz: BadZipFile"):
            recorded(call)
    assert recorded(lambda: run.steps) == ([], [])  # nothing readable: no warning per file, the error says it


def test_every_snapshot_flipped_is_one_error_when_read(designed_image: Path, tmp_path: Path) -> None:
    path = copy(designed_image, tmp_path)
    for s in STEPS:
        flip(snap_file(path, s))
    run = Run.load(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RunError, match="none of the 11 snapshots could be read"):
            list(run.iter_snapshots(keys=("fake",)))
        with pytest.raises(RunError, match="every snapshot is damaged"):
            run.snapshot_steps()
    assert caught == []


# -- plots, gif, render: one damaged snapshot -----------------------------------------------------
@pytest.mark.parametrize("how", ["truncate", "flip"])
def test_plots_skip_a_damaged_snapshot(designed_image: Path, tmp_path: Path, how: str) -> None:
    path = copy(designed_image, tmp_path)
    DAMAGE[how](snap_file(path, BAD))
    res = plots(path, tmp_path / "p")
    assert_finishes_with_one_warning(res, f"step_{BAD:08d}.npz", "unreadable or damaged .npz", "skipped")
    names = {"losses", "scores", "accuracy", "grad_norms", "samples", "real_vs_fake"}
    assert {p.stem for p in (tmp_path / "p").iterdir()} == names


@pytest.mark.parametrize("how", ["truncate", "flip"])
def test_gif_skips_a_damaged_snapshot(designed_image: Path, tmp_path: Path, how: str) -> None:
    path = copy(designed_image, tmp_path)
    DAMAGE[how](snap_file(path, BAD))
    res = gif(path, tmp_path / "g")
    assert_finishes_with_one_warning(res, f"step_{BAD:08d}.npz", "unreadable or damaged .npz", "skipped")
    with Image.open(tmp_path / "g" / "progress.gif") as im:
        assert im.n_frames == len(STEPS) - 1


@pytest.mark.xdist_group("scenes")
@pytest.mark.parametrize("how", ["truncate", "flip"])
def test_render_skips_a_damaged_snapshot(designed_image: Path, tmp_path: Path, how: str, tiny_low_quality) -> None:
    path = copy(designed_image, tmp_path)
    DAMAGE[how](snap_file(path, BAD))
    res = render_cli(path, tmp_path / "v")
    assert_finishes_with_one_warning(res, f"step_{BAD:08d}.npz", "unreadable or damaged .npz", "skipped")
    assert (tmp_path / "v" / "NoiseToImage.mp4").stat().st_size > 0


# -- plots, gif, render: a run that cannot be drawn -----------------------------------------------
def _all_snapshots(path: Path) -> None:
    for s in STEPS:
        truncate(snap_file(path, s))


def _fixed(path: Path) -> None:
    truncate(path / "fixed.npz")


def _run_json(path: Path) -> None:
    (path / "run.json").write_bytes((path / "run.json").read_bytes()[:100])


WHOLE_RUN = {
    "every snapshot": (_all_snapshots, ("every snapshot is damaged", "step_00000000.npz")),
    "fixed.npz": (_fixed, ("fixed.npz: unreadable or damaged .npz", "restore it")),
    "run.json": (_run_json, ("run.json: damaged run.json",)),
}


@pytest.mark.parametrize("damage", list(WHOLE_RUN))
@pytest.mark.parametrize("command", ["plots", "gif"])
def test_plots_and_gif_refuse_a_run_that_cannot_be_drawn(
    designed_image: Path, tmp_path: Path, damage: str, command: str
) -> None:
    path = copy(designed_image, tmp_path)
    how, needles = WHOLE_RUN[damage]
    how(path)
    out = tmp_path / "out" / "nested"
    res = plots(path, out) if command == "plots" else gif(path, out)
    one_line_error(res, *needles)
    assert not (tmp_path / "out").exists()


@pytest.mark.xdist_group("scenes")
@pytest.mark.parametrize("damage", list(WHOLE_RUN))
def test_render_refuses_a_run_that_cannot_be_drawn(
    designed_image: Path, tmp_path: Path, damage: str, tiny_low_quality
) -> None:
    path = copy(designed_image, tmp_path)
    how, needles = WHOLE_RUN[damage]
    how(path)
    res = render_cli(path, tmp_path / "out" / "nested")
    one_line_error(res, *needles)
    assert not (tmp_path / "out").exists()


def test_make_plots_writes_nothing_into_an_existing_folder_for_a_bad_fixed_batch(
    designed_image: Path, tmp_path: Path
) -> None:
    """The folder was there before, so nothing removes it: no figure may be half-way written into it either."""
    path = copy(designed_image, tmp_path)
    _fixed(path)
    (tmp_path / "p").mkdir()
    with pytest.raises(RunError, match="fixed.npz"):
        make_plots(Run.load(path), tmp_path / "p", formats="png", dpi=30, progress=False, jobs=1)
    assert list((tmp_path / "p").iterdir()) == []


SCENES_SHARING_A_RUN = """
from manim import Scene
from scenes import common as c

SEEN = []


class First(Scene):
    def construct(self):
        run = c.scene_run()
        SEEN.append(run)
        self.wait(0.2)


class Second(First):
    pass
"""


@pytest.mark.xdist_group("scenes")
def test_scenes_of_one_render_share_the_run(designed_image: Path, tmp_path: Path) -> None:
    """Each scene asks for $GANVIZ_RUN: it gets the renderer's own Run, so a damaged file is said once in all."""
    path = copy(designed_image, tmp_path)
    truncate(snap_file(path, BAD))
    scene_file = tmp_path / "two_scenes.py"
    scene_file.write_text(SCENES_SHARING_A_RUN)
    run = Run.load(path)
    files, msgs = recorded(
        render.render_file, scene_file, run, out=tmp_path / "v", progress=False, pixel_width=160, frame_rate=5
    )
    assert [f.name for f in files] == ["First.mp4", "Second.mp4"]
    seen = sys.modules["ganviz_scene_two_scenes"].SEEN
    assert len(seen) == 2 and all(r is run for r in seen)
    assert len(msgs) == 1 and f"step_{BAD:08d}.npz" in msgs[0]


# -- a cut-off last metrics line --------------------------------------------------------------------
def cut_last_metrics_line(path: Path) -> None:
    f = path / "metrics.jsonl"
    data = f.read_bytes()
    f.write_bytes(data[: len(data) - 40])  # the last row loses its end and its newline


@pytest.mark.parametrize("jobs", [1, 2])
def test_make_plots_says_a_cut_metrics_line_once(designed_toy1d: Path, tmp_path: Path, jobs: int) -> None:
    """jobs=2 parses metrics in a forked process: its warning must still reach this process, once."""
    path = copy(designed_toy1d, tmp_path)
    cut_last_metrics_line(path)
    run = Run.load(path)
    files, msgs = recorded(make_plots, run, tmp_path / "p", formats="png", dpi=30, progress=False, jobs=jobs)
    assert len(files) == 5 and len(run.metrics["step"]) == 199
    assert len(msgs) == 1 and "metrics.jsonl: ignoring truncated last line" in msgs[0]


def test_plots_and_gif_finish_with_a_cut_metrics_line(designed_toy1d: Path, tmp_path: Path) -> None:
    path = copy(designed_toy1d, tmp_path)
    cut_last_metrics_line(path)
    assert_finishes_with_one_warning(plots(path, tmp_path / "p"), "metrics.jsonl: ignoring truncated last line")
    assert (tmp_path / "p" / "losses.png").is_file()
    res = gif(path, tmp_path / "g")  # the GIFs are drawn from snapshots only: metrics are not read at all
    assert res.exit_code == 0 and warning_lines(res) == [], res.output
    assert (tmp_path / "g" / "progress.gif").is_file()


@pytest.mark.xdist_group("scenes")
def test_render_finishes_with_a_cut_metrics_line(designed_image: Path, tmp_path: Path, tiny_low_quality) -> None:
    path = copy(designed_image, tmp_path)
    cut_last_metrics_line(path)
    res = render_cli(path, tmp_path / "v", "training_curves")
    assert_finishes_with_one_warning(res, "metrics.jsonl: ignoring truncated last line")
    assert (tmp_path / "v" / "TrainingCurves.mp4").stat().st_size > 0


# -- which run, when none is named ------------------------------------------------------------------
def runs_started(root: Path, *specs: tuple[str, str, bool]) -> None:
    """Designed toy1d runs under root, each (name, started, has metrics rows)."""
    for name, started, rows in specs:
        p = make_designed_run(root / name, "toy1d", total_steps=40, snapshot_every=20, n=16)
        info = json.loads((p / "run.json").read_text())
        info["started"] = started
        if not rows:  # just started: run.json, fixed.npz and snapshot 0 are there, no metrics row yet
            info["status"] = "running"
            (p / "metrics.jsonl").write_bytes(b"")
        (p / "run.json").write_text(json.dumps(info))


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in tmp_path (so outputs/ is tmp_path/outputs) with no $GANVIZ_RUN."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GANVIZ_RUN", raising=False)
    return tmp_path


def test_latest_prefers_the_newest_run_with_data(in_tmp: Path) -> None:
    root = in_tmp / "outputs" / "runs"
    runs_started(
        root,
        ("a-old", "2026-01-01T10:00:00+00:00", True),
        ("b-mid", "2026-01-02T10:00:00+00:00", True),
        ("c-new", "2026-01-03T10:00:00+00:00", False),
    )
    assert Run.latest(root).name == "b-mid"
    res = cli("plots", "--format", "png", "--dpi", "30", "--quiet")
    assert res.exit_code == 0, res.output
    assert res.stderr.splitlines() == [
        "using run outputs/runs/b-mid (the latest with data; name a run or set GANVIZ_RUN to choose)"
    ]
    assert (in_tmp / "outputs" / "plots" / "b-mid" / "losses.png").is_file()
    for s in (0, 20, 40):  # rows but no readable snapshot: no data either
        truncate(snap_file(root / "b-mid", s))
    assert Run.latest(root).name == "a-old"
    for f in (root / "a-old" / "metrics.jsonl", root / "b-mid" / "metrics.jsonl"):
        f.write_bytes(f.read_bytes()[:50])  # only a cut-off first line: no row
    res = cli("gif", "--quiet")
    one_line_error(res, "outputs/runs: no run has data yet", "the latest, c-new, is 'running'")
    assert not (in_tmp / "outputs" / "gifs").exists()


def test_a_named_run_is_not_announced(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = in_tmp / "outputs" / "runs"
    runs_started(root, ("a", "2026-01-01T10:00:00+00:00", True), ("b", "2026-01-02T10:00:00+00:00", True))
    res = cli("plots", str(root / "a"), "--format", "png", "--dpi", "30", "--quiet")
    assert res.exit_code == 0 and res.stderr == "", res.output
    monkeypatch.setenv("GANVIZ_RUN", str(root / "a"))
    res = cli("gif", "--quiet", "--out", "g")
    assert res.exit_code == 0 and "using run" not in res.stderr, res.output
    assert res.stderr.startswith("note: a has no checkpoint.pt")  # the one line it says (designed runs have none)


@pytest.mark.parametrize("command", [["plots"], ["gif"], ["render", "morph"]])
def test_a_bad_ganviz_run_is_named(in_tmp: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    monkeypatch.setenv("GANVIZ_RUN", str(in_tmp / "nope"))
    one_line_error(cli(*command, "--quiet"), f"GANVIZ_RUN={in_tmp / 'nope'}: not a run folder", "unset GANVIZ_RUN")
    (in_tmp / "broken").mkdir()
    (in_tmp / "broken" / "run.json").write_text("{")
    monkeypatch.setenv("GANVIZ_RUN", "broken")
    one_line_error(cli(*command, "--quiet"), "GANVIZ_RUN=broken: ", "run.json: damaged run.json")
    assert not (in_tmp / "outputs").exists()


def test_a_bad_compare_run_is_named(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scenes.common import compare_run

    monkeypatch.setenv("GANVIZ_COMPARE_RUN", "nope")
    with pytest.raises(RunError, match="^GANVIZ_COMPARE_RUN=nope: not a run folder"):
        compare_run()
