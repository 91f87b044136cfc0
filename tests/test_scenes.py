"""Scenes render through `ganviz render`: decoded videos are H.264/yuv420p, keep moving, and show the data of
designed runs (tests/designed.py: known content, so a check does not depend on what training learned); real tiny
runs only for what holds on any CPU (a scene renders, bad input is one line)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import cli_errors
import numpy as np
import pytest
from click.testing import CliRunner
from designed import image_noise, image_targets, make_designed_run
from PIL import Image

from pipeline.cli import main
from pipeline.errors import GanvizError
from pipeline.render import QUALITIES, builtin_scene_path, builtin_scenes, load_scene_classes, render_file
from pipeline.run import Run
from scenes import common, morph

# one worker renders everything once under `pytest -n 2 --dist loadgroup` (module fixtures are per worker)
pytestmark = pytest.mark.xdist_group("scenes")

WIDTH, HEIGHT, FPS = 160, 90, 5
FRAME_W, FRAME_H = 8.0 * 16 / 9, 8.0  # manim's frame in scene units
ROOT = Path(__file__).resolve().parent.parent


def decode(path: Path) -> tuple[av.video.stream.VideoStream, list[np.ndarray]]:
    with av.open(str(path)) as box:
        stream = box.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in box.decode(video=0)]
        return stream, frames


def region(frame: np.ndarray, center: np.ndarray, width: float, height: float, inset: int = 1) -> np.ndarray:
    """The pixels of a scene-unit rectangle in a decoded frame."""
    h, w = frame.shape[:2]
    x0 = (center[0] - width / 2 + FRAME_W / 2) / FRAME_W * w
    x1 = (center[0] + width / 2 + FRAME_W / 2) / FRAME_W * w
    y0 = (FRAME_H / 2 - center[1] - height / 2) / FRAME_H * h
    y1 = (FRAME_H / 2 - center[1] + height / 2) / FRAME_H * h
    return frame[int(round(y0)) + inset : int(round(y1)) - inset, int(round(x0)) + inset : int(round(x1)) - inset]


def corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + 1e-12))


def resized(pixels: np.ndarray, like: np.ndarray) -> np.ndarray:
    img = Image.fromarray(pixels).convert("L").resize((like.shape[1], like.shape[0]), Image.BILINEAR)
    return np.asarray(img, dtype=np.float64)


def half(t: float) -> float:
    """A learner that gets half way: the designed 2-D run's D boundary ends at x = 0, mid-picture."""
    return 0.5 * t


def cli_render(args: list[str], monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """`ganviz render ... --quiet` at 160x90, 5 fps (the 'low' preset made tiny); the files it printed (manim's
    own warnings, e.g. that 0.18 s is shorter than a frame at 5 fps, go to stdout too)."""
    monkeypatch.setitem(QUALITIES, "low", (WIDTH, HEIGHT, FPS))
    res = CliRunner().invoke(main, ["render", *args, "--quiet"])
    assert res.exit_code == 0, res.output
    return [Path(line) for line in res.stdout.splitlines() if Path(line).is_file()]


#: the videos' designed runs: 4 snapshots (steps 0, 20, 40, 60) keep the renders short
SHORT = {"total_steps": 60, "snapshot_every": 20}


@pytest.fixture(scope="module")
def image_short(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_designed_run(tmp_path_factory.mktemp("designed") / "image-short", "image", **SHORT)


@pytest.fixture(scope="module")
def toy2d_half(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_designed_run(tmp_path_factory.mktemp("designed") / "toy2d-half", "toy2d", n=64, learn=half, **SHORT)


@pytest.fixture(scope="module")
def videos(image_short: Path, toy2d_half: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every built-in scene rendered once through the command, tiny: `ganviz render all --run IMAGE --run-2d TOY2D
    --compare VANISHING` (a minimax run whose G gradients are 1000x smaller, for GradientFlow's ending)."""
    out = tmp_path_factory.mktemp("videos")
    vanishing = make_designed_run(
        tmp_path_factory.mktemp("designed") / "vanishing", loss="minimax", grad_scale=1e-3, **SHORT
    )
    with pytest.MonkeyPatch.context() as mp:
        files = cli_render(
            [
                "all",
                "--run",
                str(image_short),
                "--run-2d",
                str(toy2d_half),
                "--compare",
                str(vanishing),
                "-o",
                str(out),
            ],
            mp,
        )
    assert all(f.parent.resolve() == out.resolve() for f in files), files
    return {f.stem: f for f in files}


def scene_classes() -> dict[str, type]:
    """Every built-in scene class (as `ganviz render all` discovers them) by name."""
    return {cls.__name__: cls for name in builtin_scenes() for cls in load_scene_classes(builtin_scene_path(name))}


def drawn_by_render_all(image: Path, toy2d: Path) -> list[str]:
    """The classes `render all --run IMAGE --run-2d TOY2D` draws: each from the first run it can draw."""
    runs = [Run.load(image), Run.load(toy2d)]
    return sorted(n for n, cls in scene_classes().items() if any(cls.cannot_draw(r) is None for r in runs))


def test_one_worker_renders_the_scenes(request: pytest.FixtureRequest) -> None:
    """Under `pytest -n 2 --dist loadgroup` this module's tests carry their group, so one worker renders the
    videos once (tests/conftest.py restores the '@group' suffix that pytest 9.2 stopped taking from xdist)."""
    if getattr(request.config.option, "loadgroup", False):
        assert request.node.nodeid.endswith("@scenes"), request.node.nodeid


def test_render_all_writes_every_builtin_scene(videos: dict[str, Path], image_short: Path, toy2d_half: Path) -> None:
    """Every built-in scene but those these runs cannot feed (mode_collapse: no quality measures; it is skipped with a
    note: tests/test_scene_mode_collapse.py)."""
    assert sorted(videos) == drawn_by_render_all(image_short, toy2d_half)
    assert "ModeCollapse" in scene_classes() and "ModeCollapse" not in videos


def mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize("name", sorted(scene_classes()))
def test_video_is_h264_yuv420p_and_moves(videos: dict[str, Path], name: str) -> None:
    """'Moves' means the data keeps changing once drawn: in the second half of the video the scene's data area
    differs from frame to frame (frame 0 is the empty background, so any drawing at all differs from it)."""
    if name not in videos:
        pytest.skip(f"{name} draws none of these runs (see test_render_all_writes_every_builtin_scene)")
    stream, frames = decode(videos[name])
    assert stream.codec_context.name == "h264"
    assert stream.codec_context.pix_fmt == "yuv420p"
    assert (stream.width, stream.height) == (WIDTH, HEIGHT)
    assert stream.width % 2 == 0 and stream.height % 2 == 0
    (x, y), width, height = scene_classes()[name].data_area
    second = [region(f, np.array([x, y]), width, height) for f in frames[len(frames) // 2 :]]
    assert len(second) > 5
    changes = [mean_diff(second[0], f) for f in second[1:]]
    # a still encodes to the same pixels (diff ~0); the thin curves of TrainingCurves change the least (~3)
    assert max(changes) > 1.5, f"{name}: the data area hardly changes in the second half ({max(changes):.2f})"
    steps = [mean_diff(a, b) for a, b in zip(second, second[1:], strict=False)]
    assert sum(d > 0.2 for d in steps) >= 3, f"{name}: the data area changes in fewer than 3 frames"


def test_toy_morph_as_looping_gif(toy2d_run: Path, tmp_path: Path) -> None:
    (gif,) = render_file(
        builtin_scene_path("morph"),
        Run.load(toy2d_run),
        fmt="gif",
        out=tmp_path,
        progress=False,
        pixel_width=WIDTH,
        frame_rate=FPS,
    )
    assert gif == tmp_path / "NoiseToImage.gif"
    with Image.open(gif) as im:
        assert im.size == (WIDTH, HEIGHT) and im.n_frames > 1 and im.info.get("loop") == 0


def documented_phases(gaps: list[float]) -> list[str]:
    """docs/scenes.md's rule, written out here: the gap made monotone; noise until half of the gap the run closed
    is closed, structure until 85 %, then detail; a run that closed under a quarter of its first gap: noise."""
    gaps = np.minimum.accumulate(np.asarray(gaps))
    closed = gaps[0] - gaps
    if closed[-1] <= 0.25 * gaps[0]:
        return ["noise"] * len(gaps)
    f = closed / closed[-1]
    return ["noise" if x < 0.5 else "structure" if x < 0.85 else "detail" for x in f]


def image_gap(fake: np.ndarray, real: np.ndarray) -> float:
    """L1 between the mean images plus L1 between the std images (docs/scenes.md)."""
    f, r = fake.astype(np.float64) / 255, real.astype(np.float64) / 255
    return float(np.abs(f.mean(0) - r.mean(0)).mean() + np.abs(f.std(0) - r.std(0)).mean())


def little(t: float) -> float:
    """A learner that gets a fifth of the way: it closes under a quarter of its gap."""
    return 0.2 * t


def forgets(t: float) -> float:
    """A learner that gets there half way through, then drifts back half way."""
    return min(2 * t, 1.5 - t)


def test_phases_follow_the_run(tmp_path: Path) -> None:
    """A steady learner goes noise -> structure -> detail where the documented rule says; one that never
    learns, or learns too little to close a quarter of its gap, stays in noise; one that forgets keeps the
    phase it reached."""
    from designed import blend, linear, never

    for learn in (linear, never, little, forgets):
        run = Run.load(make_designed_run(tmp_path / learn.__name__, "image", learn=learn))
        noise, targets = image_noise(16), image_targets(16)
        gaps = [image_gap(blend(noise, targets, learn(k / 10)), targets[::-1]) for k in range(11)]
        want = documented_phases(gaps)
        phases = common.phase_steps(run)
        assert [phases[s] for s in run.steps] == want, learn.__name__
        if learn is forgets:
            assert want == ["noise"] * 3 + ["structure"] * 2 + ["detail"] * 6, want  # detail from step 100 on
        elif learn is not linear:
            assert want == ["noise"] * 11
        else:  # the designed blend closes the gap about linearly: half of it after step 100, 85 % after 160
            assert want == ["noise"] * 6 + ["structure"] * 3 + ["detail"] * 2, want


def test_plain_manim_with_ganviz_run(image_run: Path, tmp_path: Path) -> None:
    """`GANVIZ_RUN=... manim scenes/morph.py` works without ganviz's renderer (last frame only: fast)."""
    # PYTHONPATH: this checkout's `scenes` package, not whichever one the venv has installed
    env = {**os.environ, "GANVIZ_RUN": str(image_run), "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "manim",
        "-s",
        "-r",
        f"{WIDTH},{HEIGHT}",
        "--media_dir",
        str(tmp_path),
        "--disable_caching",
        "-v",
        "WARNING",
        str(ROOT / "scenes" / "morph.py"),
        "NoiseToImage",
    ]
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert list(tmp_path.rglob("NoiseToImage*.png"))


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in its tmp_path: a default outputs/videos/<run>/ lands there, not in the checkout."""
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("fmt", ["webm", "png"])
def test_cli_render_webm_and_png(fmt: str, image_short: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--format webm is a VP9 video, --format png the last frame: the grid of the designed last snapshot."""
    (f,) = cli_render(["morph", "--run", str(image_short), "--format", fmt, "-o", str(tmp_path / "v")], monkeypatch)
    assert f.resolve() == (tmp_path / "v" / f"NoiseToImage.{fmt}").resolve()
    if fmt == "webm":
        stream, frames = decode(f)
        assert stream.codec_context.name in ("vp9", "libvpx-vp9") and (stream.width, stream.height) == (WIDTH, HEIGHT)
        last = frames[-1]
        assert len(frames) > 10
    else:
        with Image.open(f) as im:
            assert im.format == "PNG" and im.size == (WIDTH, HEIGHT)
            last = np.asarray(im.convert("RGB"))
    # the close-up: the sample D scores highest at the end (the designed scores grow with the index: the last one)
    close = region(last, morph.CLOSE_CENTER, morph.PANEL, morph.PANEL, inset=2).mean(axis=2)
    c_last = corr(close, resized(image_targets(16)[15, ..., 0], close))
    c_first = corr(close, resized(image_noise(16)[15, ..., 0], close))
    assert c_last > 0.6 and c_last > c_first + 0.4, (c_last, c_first)
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == [f"NoiseToImage.{fmt}"]  # nothing else left there


# -- bad input: one line each, and nothing left behind ----------------------------------------------------
def one_line_error(args: list[str]) -> str:
    """The refusal's one line (tests/cli_errors.py), nothing else printed, and no output folder left."""
    result = CliRunner().invoke(main, args)
    line = cli_errors.one_line_error(result)
    assert not result.stdout.strip(), result.output
    assert not Path("outputs").exists(), "a refused render left an output folder"  # cwd: the test's tmp_path
    return line


def test_error_file_without_scene(image_run: Path, tmp_path: Path) -> None:
    f = tmp_path / "plain.py"
    f.write_text("class NotAScene:\n    pass\n")
    assert "no Scene class" in one_line_error(["render", str(f), "--run", str(image_run), "--quiet"])


@pytest.mark.parametrize("out", [None, "new/videos"])
def test_error_scene_that_raises(out: str | None, image_run: Path, tmp_path: Path) -> None:
    """A scene that fails leaves no folder: neither the default outputs/videos/<run>/ nor a new -o folder."""
    f = tmp_path / "boom.py"
    f.write_text("from manim import Scene\n\nclass Boom(Scene):\n    def construct(self):\n        1 / 0\n")
    msg = one_line_error(["render", str(f), "--run", str(image_run), "--quiet", *(["-o", out] if out else [])])
    assert "Boom" in msg and "ZeroDivisionError" in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boom.py"]


def test_failed_render_keeps_what_was_there(image_run: Path, tmp_path: Path) -> None:
    """Into an existing folder: its files stay, the failed scene's partial file does not."""
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "keep.mp4").write_bytes(b"earlier render")
    f = tmp_path / "late.py"  # fails after manim has begun writing the movie
    f.write_text(
        "from manim import Scene, Square, Create\n\nclass Late(Scene):\n    def construct(self):\n"
        "        self.play(Create(Square()), run_time=0.4)\n        raise RuntimeError('late')\n"
    )
    msg = one_line_error(["render", str(f), "--run", str(image_run), "--quiet", "-o", str(tmp_path / "v")])
    assert "Late" in msg and "late" in msg
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == ["keep.mp4"]


def test_output_folder_undoes_a_failed_command(tmp_path: Path) -> None:
    """What render, plots and gif write through: on failure the files added and the folders made go again."""
    from pipeline.run import output_folder

    with pytest.raises(GanvizError, match="late"), output_folder(tmp_path / "a" / "b", "videos", None) as out:
        (out / "half.mp4").write_bytes(b"begun")
        raise GanvizError("late")
    assert not (tmp_path / "a").exists()
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "old.mp4").write_bytes(b"earlier")
    with pytest.raises(KeyboardInterrupt), output_folder(tmp_path / "c", "videos", None) as out:
        (out / "new.mp4").write_bytes(b"begun")
        raise KeyboardInterrupt
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["old.mp4"]
    with output_folder(None, "videos", type("R", (), {"name": "r"})()) as out:  # default: outputs/videos/<run>/
        (out / "done.mp4").write_bytes(b"whole")
    assert (tmp_path / "outputs" / "videos" / "r" / "done.mp4").is_file()  # cwd is tmp_path


def test_error_2d_scene_on_image_run(image_run: Path) -> None:
    msg = one_line_error(["render", "distribution", "--run", str(image_run), "--quiet"])
    assert "2-D toy run" in msg and "image run" in msg


def test_error_missing_run_and_file(tmp_path: Path, image_run: Path) -> None:
    assert "not a run folder" in one_line_error(["render", "morph", "--run", str(tmp_path / "nope"), "--quiet"])
    msg = one_line_error(["render", str(tmp_path / "nope.py"), "--run", str(image_run), "--quiet"])
    assert "scene file not found" in msg


def test_error_unknown_scene_name(image_run: Path) -> None:
    msg = one_line_error(["render", "morph", "--scene", "Nope", "--run", str(image_run), "--quiet"])
    assert "NoiseToImage" in msg


def test_error_output_folder_not_writable(image_run: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    msg = one_line_error(["render", "morph", "--run", str(image_run), "-o", str(blocker / "videos"), "--quiet"])
    assert "cannot create the output folder" in msg and str(blocker) in msg


def test_scene_run_refuses_wrong_kind(image_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANVIZ_RUN", str(image_run))
    with pytest.raises(GanvizError, match="needs a 2-D toy run"):
        common.scene_run(("toy2d",), "DecisionField")
