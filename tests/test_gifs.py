"""GIFs and MP4s: they open, loop, have the right frames, show the snapshots, and fit the size limit."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageSequence

from pipeline.cli import main
from pipeline.frames import tile, to_rgb, upscale
from pipeline.gifs import (
    GifError,
    encode_gif,
    make_gifs,
    parse_size,
    progress_frames,
    slerp,
    walk_latents,
)
from pipeline.run import Run


def read_gif(path: Path) -> tuple[list[np.ndarray], dict]:
    with Image.open(path) as im:
        info = dict(im.info)
        frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
    return frames, info


def read_mp4(path: Path) -> tuple[list[np.ndarray], str, str]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        codec, fmt = s.codec_context.name, s.codec_context.pix_fmt
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
    return frames, codec, fmt


def test_image_run_gifs_and_mp4s(image_run: Path, tmp_path: Path) -> None:
    run = Run.load(image_run)
    results: list = []
    paths = make_gifs(run, tmp_path, fps=5, mp4=True, progress=False, results=results)
    assert [p.name for p in paths] == ["progress.gif", "progress.mp4", "interpolation.gif", "interpolation.mp4"]

    frames, info = read_gif(tmp_path / "progress.gif")
    assert len(frames) == len(run.steps) == results[0].frames
    assert info["loop"] == 0 and info["duration"] == 200  # loops forever, 5 fps
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 1  # training changed the samples
    assert all(not np.array_equal(a, b) for a, b in zip(frames, frames[1:], strict=False))  # step label moves
    # the frame shows the snapshot: compare the decoded sample grid with the run's fixed-noise output
    raw = progress_frames(run)
    grid = upscale(to_rgb(tile(run.snapshot("end").fake)), 4)  # 4x4 grid of 28 px digits -> auto zoom x4
    np.testing.assert_array_equal(raw[-1][-grid.shape[0] :], grid)  # below the step caption
    np.testing.assert_array_equal(frames[-1], raw[-1])  # grey frames are stored exactly

    walk, info = read_gif(tmp_path / "interpolation.gif")
    assert len(walk) == 48 and info["loop"] == 0
    assert np.abs(walk[0].astype(int) - walk[24].astype(int)).mean() > 1

    for name, n in (("progress", len(frames)), ("interpolation", 48)):
        mp4, codec, fmt = read_mp4(tmp_path / f"{name}.mp4")
        assert codec == "h264" and fmt == "yuv420p" and len(mp4) == n
        assert mp4[0].shape[0] % 2 == 0 and mp4[0].shape[1] % 2 == 0
        assert np.abs(mp4[0].astype(int) - mp4[-1].astype(int)).mean() > 1


def test_interpolation_uses_the_trained_generator(toy2d_run: Path) -> None:
    """G rebuilt from checkpoint.pt on the fixed noise reproduces the final snapshot."""
    from gan_train.checkpoints import generate, load_generator

    run = Run.load(toy2d_run)
    g, cfg, step = load_generator(run.path)
    assert step == run.steps[-1]
    np.testing.assert_allclose(generate(g, cfg, run.fixed["noise"]), run.snapshot("end").fake, atol=1e-5)


@pytest.mark.parametrize("fixture", ["toy2d_run", "toy1d_run"])
def test_toy_gifs(fixture: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    run = Run.load(request.getfixturevalue(fixture))
    paths = make_gifs(run, tmp_path, scale=0.5, progress=False)
    assert [p.name for p in paths] == ["progress.gif", "interpolation.gif"]
    frames, info = read_gif(paths[0])
    assert len(frames) == len(run.steps) and info["loop"] == 0
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 0.5  # points and D field moved
    walk, _ = read_gif(paths[1])
    assert len(walk) > 20 and np.abs(walk[0].astype(int) - walk[len(walk) // 3].astype(int)).sum() > 0


def test_max_size_reduces_and_says_so(image_run: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (96, 96, 3), dtype=np.uint8) for _ in range(40)]  # incompressible
    free = encode_gif(frames, tmp_path / "free.gif", 10, None)
    res = encode_gif(frames, tmp_path / "small.gif", 10, free.size // 4)
    assert res.actions and res.size <= free.size // 4
    assert (tmp_path / "small.gif").stat().st_size == res.size
    assert res.frames < 40 or res.colours < 256 or res.width < 96
    got, info = read_gif(tmp_path / "small.gif")
    assert len(got) == res.frames and info["loop"] == 0
    with pytest.raises(GifError, match="--max-size"):
        encode_gif(frames, tmp_path / "tiny.gif", 10, 500)


def test_parse_size_and_walk() -> None:
    assert parse_size("5MB") == 5_000_000 and parse_size("800kB") == 800_000 and parse_size("1.5M") == 1_500_000
    assert parse_size("0") is None and parse_size(None) is None and parse_size(2048) == 2048
    with pytest.raises(GifError, match="--max-size"):
        parse_size("five megs")
    noise = np.random.default_rng(1).normal(size=(16, 100)).astype(np.float32)
    z = walk_latents(noise, 4, keyframes=4, per_leg=12)
    assert z.shape == (48, 4, 100)
    np.testing.assert_allclose(z[0], noise[:4])  # starts at the fixed noise
    np.testing.assert_allclose(z[12], noise[4:8], atol=1e-5)  # second key: stride N // keyframes
    ends = slerp(noise[:2], noise[2:4], np.array([0.0, 1.0]))
    np.testing.assert_allclose(ends[1], noise[2:4], atol=1e-5)
    assert np.linalg.norm(z, axis=-1).min() > 0.7 * np.linalg.norm(noise, axis=-1).min()  # no shrinking midpoints


def _no_snapshot_copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for name in ("run.json", "metrics.jsonl", "fixed.npz"):
        shutil.copy(src / name, dst / name)
    return dst


@pytest.mark.parametrize("case", ["not-a-run", "no-snapshots", "no-snapshots-default-out", "bad-size", "bad-fps",
                                  "too-big", "damaged-checkpoint"])  # fmt: skip
def test_cli_gif_bad_input_is_one_line(case: str, image_run: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """One line, and a refused or failed command leaves nothing: no output folder, no GIF begun."""
    monkeypatch.chdir(tmp_path)
    bare = ["gif", str(_no_snapshot_copy(image_run, tmp_path / "r"))] if case.startswith("no-snapshots") else []
    if case == "damaged-checkpoint":  # progress.gif is written before the latent walk finds the damage
        shutil.copytree(image_run, tmp_path / "r")
        (tmp_path / "r" / "checkpoint.pt").write_bytes(b"garbage")
        bare = ["gif", str(tmp_path / "r")]
    args = {
        "not-a-run": ["gif", str(tmp_path / "nowhere")],
        "no-snapshots": [*bare, "--out", "o"],
        "no-snapshots-default-out": bare,  # would be outputs/gifs/r/
        "bad-size": ["gif", str(image_run), "--max-size", "big", "--out", "o"],
        "bad-fps": ["gif", str(image_run), "--fps", "0", "--out", "o"],
        "too-big": ["gif", str(image_run), "--max-size", "300", "--out", "o"],  # fails while encoding
        "damaged-checkpoint": [*bare, "--out", "o"],
    }[case]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == (["r"] if bare else [])
