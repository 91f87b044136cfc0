"""Scenes render from real tiny runs: decoded videos are H.264/yuv420p, move, and show the run's data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import make_run
from PIL import Image

from pipeline.cli import main
from pipeline.errors import GanvizError
from pipeline.render import BUILTIN_SCENES, builtin_scene_path, render_all, render_file
from pipeline.run import Run
from scenes import common, distribution, morph

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


@pytest.fixture(scope="module")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny digits run with a high learning rate, so its last snapshot visibly differs from its first."""
    out = tmp_path_factory.mktemp("runs") / "digits-fast"
    return make_run(out, "dcgan-digits", steps=60, batch_size=32, ngf=8, ndf=8, snapshot_every=20, n_fixed=16,
                    lr_g=2e-3, lr_d=2e-3)  # fmt: skip


@pytest.fixture(scope="module")
def videos(image_run: Path, toy2d_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every built-in scene rendered once, tiny: image scenes from the digits run, distribution from rings."""
    out = tmp_path_factory.mktemp("videos")
    files = render_all(Run.load(image_run), out=out, progress=False, runs_2d=Run.load(toy2d_run),
                       compare=Run.load(toy2d_run), pixel_width=WIDTH, frame_rate=FPS)  # fmt: skip
    return {f.stem: f for f in files}


SCENE_CLASSES = ["NoiseToImage", "CounterfeiterAndPolice", "GradientFlow", "DecisionField", "TrainingCurves"]


def test_render_all_writes_every_builtin_scene(videos: dict[str, Path]) -> None:
    assert sorted(videos) == sorted(SCENE_CLASSES)
    assert len(BUILTIN_SCENES) == len(SCENE_CLASSES)


@pytest.mark.parametrize("name", SCENE_CLASSES)
def test_video_is_h264_yuv420p_and_moves(videos: dict[str, Path], name: str) -> None:
    stream, frames = decode(videos[name])
    assert stream.codec_context.name == "h264"
    assert stream.codec_context.pix_fmt == "yuv420p"
    assert (stream.width, stream.height) == (WIDTH, HEIGHT)
    assert stream.width % 2 == 0 and stream.height % 2 == 0
    assert len(frames) > 1
    diffs = [np.abs(frames[0].astype(int) - f.astype(int)).mean() for f in frames[1:]]
    assert max(diffs) > 2.0, "the video does not change"


def test_morph_ends_on_the_last_snapshot(videos: dict[str, Path], image_run: Path) -> None:
    run = Run.load(image_run)
    _, frames = decode(videos["NoiseToImage"])
    grid = region(frames[-1], morph.GRID_CENTER, morph.GRID_HEIGHT, morph.GRID_HEIGHT).mean(axis=2)
    last = resized(common.sample_grid(run.snapshot("end").fake, morph.N_SAMPLES), grid)
    first = resized(common.sample_grid(run.snapshot("start").fake, morph.N_SAMPLES), grid)
    c_last, c_first = corr(grid, last), corr(grid, first)
    assert c_last > 0.5 and c_last > c_first + 0.2, (c_last, c_first)
    assert np.abs(grid - last).mean() < np.abs(grid - first).mean()


def test_distribution_shows_ds_recorded_field(videos: dict[str, Path], toy2d_run: Path) -> None:
    run = Run.load(toy2d_run)
    _, frames = decode(videos["DecisionField"])
    box = region(frames[-1], distribution.BOX_CENTER, distribution.BOX_SIZE, distribution.BOX_SIZE, inset=2)
    green_minus_magenta = box[..., 1].astype(float) - box[..., 0].astype(float)  # high where D says real
    field = run.snapshot("end")["field"][::-1]  # row 0 = lowest y; images start at the top
    img = np.asarray(Image.fromarray(field.astype(np.float32)).resize(box.shape[1::-1], Image.BILINEAR))
    assert corr(green_minus_magenta, img) > 0.5


def test_toy_morph_as_looping_gif(toy2d_run: Path, tmp_path: Path) -> None:
    (gif,) = render_file(builtin_scene_path("morph"), Run.load(toy2d_run), fmt="gif", out=tmp_path, progress=False,
                         pixel_width=WIDTH, frame_rate=FPS)  # fmt: skip
    assert gif == tmp_path / "NoiseToImage.gif"
    with Image.open(gif) as im:
        assert im.size == (WIDTH, HEIGHT) and im.n_frames > 1 and im.info.get("loop") == 0


def test_phases_follow_the_run(image_run: Path, toy2d_run: Path) -> None:
    for path in (image_run, toy2d_run):
        run = Run.load(path)
        phases = common.phase_steps(run)
        order = [common.PHASES.index(phases[s]) for s in run.steps]
        assert order[0] == 0 and order == sorted(order)


def test_plain_manim_with_ganviz_run(image_run: Path, tmp_path: Path) -> None:
    """`GANVIZ_RUN=... manim scenes/morph.py` works without ganviz's renderer (last frame only: fast)."""
    # PYTHONPATH: this checkout's `scenes` package, not whichever one the venv has installed
    env = {**os.environ, "GANVIZ_RUN": str(image_run), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "manim", "-s", "-r", f"{WIDTH},{HEIGHT}", "--media_dir", str(tmp_path),
           "--disable_caching", "-v", "WARNING", str(ROOT / "scenes" / "morph.py"), "NoiseToImage"]  # fmt: skip
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert list(tmp_path.rglob("NoiseToImage*.png"))


# -- bad input: one line each ---------------------------------------------------------------------
def one_line_error(args: list[str]) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_error_file_without_scene(image_run: Path, tmp_path: Path) -> None:
    f = tmp_path / "plain.py"
    f.write_text("class NotAScene:\n    pass\n")
    assert "no Scene class" in one_line_error(["render", str(f), "--run", str(image_run), "--quiet"])


def test_error_scene_that_raises(image_run: Path, tmp_path: Path) -> None:
    f = tmp_path / "boom.py"
    f.write_text("from manim import Scene\n\nclass Boom(Scene):\n    def construct(self):\n        1 / 0\n")
    msg = one_line_error(["render", str(f), "--run", str(image_run), "--quiet"])
    assert "Boom" in msg and "ZeroDivisionError" in msg


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
