"""GIF encoding: one palette per clip, delta frames that decode to the exact frames, all frames kept when they fit."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence

from pipeline.gifs import encode_gif, gif_bytes, gif_bytes_within, make_gifs, progress_frames, quantize_clip
from pipeline.run import Run


def decode(data: bytes) -> tuple[list[np.ndarray], Image.Image]:
    im = Image.open(io.BytesIO(data))
    return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)], im


def moving_square_clip(n: int = 30, size: int = 96, seed: int = 0) -> list[np.ndarray]:
    """A static noisy colour background (incompressible) with a small square moving across it."""
    rng = np.random.default_rng(seed)
    background = rng.choice(np.arange(0, 256, 32, dtype=np.uint8), (size, size, 3))  # 512 colours
    frames = []
    for i in range(n):
        f = background.copy()
        x = 4 + (i * 3) % (size - 12)
        f[40:48, x : x + 8] = (230, 159, 0)
        frames.append(f)
    frames.append(frames[-1].copy())  # a repeated frame must still count as a frame
    return frames


def test_grey_clip_decodes_exactly_even_when_a_change_uses_all_256_levels() -> None:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, (40, 50), dtype=np.uint8)
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16)
    frames = []
    for i in range(8):
        h = base.copy()
        h[10:26, 0:16] = ramp + i  # the changed box holds every level: no index is free for transparency
        h[30:33, 40:44] = 17 * i  # and a second, small change elsewhere
        frames.append(np.repeat(h[..., None], 3, axis=2))
    frames.append(frames[-1])  # a repeated frame still counts
    clip = quantize_clip(frames)
    assert clip.colours == 256
    got, _ = decode(gif_bytes(clip, 10))
    assert len(got) == len(frames)
    for a, b in zip(got, frames, strict=True):
        np.testing.assert_array_equal(a, b)


def test_colour_clip_shares_one_palette_and_delta_frames_decode_to_the_quantized_frames() -> None:
    frames = moving_square_clip()
    clip = quantize_clip(frames, 64)
    assert clip.colours <= 64 and len(clip.frames) == len(frames)
    data = gif_bytes(clip, 10)
    got, im = decode(data)
    assert len(got) == len(frames) and im.info["loop"] == 0
    for a, idx in zip(got, clip.frames, strict=True):
        np.testing.assert_array_equal(a, clip.palette[idx])  # what the viewer shows is the quantized frame
    # later frames store only the moving square's box, so the clip costs little more than one frame
    one = len(gif_bytes(clip, 10, [0]))
    assert len(data) < 2 * one


def test_all_frames_kept_when_delta_frames_fit(tmp_path: Path) -> None:
    frames = [f[..., :1].repeat(3, axis=2) for f in moving_square_clip(40, 128)]  # grey: stored exactly
    full_frames = sum(len(gif_bytes(quantize_clip([f]), 10)) for f in frames)  # without delta encoding
    limit = full_frames // 10
    res = encode_gif(frames, tmp_path / "fit.gif", 10, limit)
    assert res.actions == [] and res.frames == len(frames) and res.size <= limit
    got, _ = decode(res.path.read_bytes())
    assert len(got) == len(frames)
    for a, b in zip(got, frames, strict=True):
        np.testing.assert_array_equal(a, b)


def test_size_estimate_stops_early_and_runs_high() -> None:
    frames = moving_square_clip(20, 64)
    clip = quantize_clip(frames)
    keep = list(range(len(frames)))
    full = len(gif_bytes(clip, 10))
    data, size = gif_bytes_within(clip, 10, keep, full // 3, estimate=True)
    assert data is None and size > full // 3
    data, size = gif_bytes_within(clip, 10, keep, full // 3)
    assert data is None and size == full
    data, size = gif_bytes_within(clip, 10, keep, full)
    assert data is not None and len(data) == size == full


def test_progress_gif_frames_are_the_run_frames(image_run: Path, tmp_path: Path) -> None:
    run = Run.load(image_run)
    res: list = []
    make_gifs(run, tmp_path, progress=False, results=res)
    got, _ = decode((tmp_path / "progress.gif").read_bytes())
    want = progress_frames(run)
    assert res[0].actions == [] and len(got) == len(want) == len(run.steps)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)  # grey digit frames, delta-encoded, come back exactly
