"""GIFs and MP4s: they open, loop, have the right frames, show the snapshots, and fit the size limit."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
from cli_errors import one_line_error
from click.testing import CliRunner
from PIL import Image, ImageSequence

from gan_train.checkpoints import trained_generator
from pipeline.cli import main
from pipeline.frames import tile, to_rgb, upscale
from pipeline.gifs import (
    GifError,
    encode_gif,
    make_gifs,
    parse_size,
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


@pytest.mark.parametrize("kind", ["image", "toy2d", "toy1d"])
def test_progress_gif_shows_the_designed_snapshots(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One frame per snapshot, each a new state of the run; for images the grid below the step caption is the
    designed samples exactly. A designed run has no checkpoint: progress only, and one line says why."""
    from designed import blend, image_noise, image_targets

    run = Run.load(request.getfixturevalue(f"designed_{kind}"))
    results: list = []
    paths = make_gifs(
        run, tmp_path, fps=5, mp4=kind == "image", progress=False, results=results, load_g=trained_generator
    )
    assert [p.name for p in paths] == ["progress.gif", "progress.mp4"][: 1 + (kind == "image")]
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"note: {run.name} has no checkpoint.pt: interpolation.gif (the latent walk through the trained G) skipped"
    ]
    frames, info = read_gif(tmp_path / "progress.gif")
    assert len(frames) == len(run.steps) == 11 == results[0].frames and results[0].actions == []
    assert info["loop"] == 0 and info["duration"] == 200  # loops forever, 5 fps
    moved = [np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(frames, frames[1:], strict=False)]
    assert min(moved) > 0.2, moved  # every snapshot is a new state of the designed run
    if kind == "image":
        for k, frame in enumerate(frames):  # 4x4 grid of 28 px samples, 2 px apart, zoomed x4 (auto: ~480 px)
            want = blend(image_noise(16), image_targets(16), k / 10)
            grid = frame[-(4 * 30 + 2) * 4 :: 4, ::4, 0]  # below the caption, one pixel per zoomed pixel
            for i in range(16):
                y, x = 2 + 30 * (i // 4), 2 + 30 * (i % 4)
                np.testing.assert_array_equal(grid[y : y + 28, x : x + 28], want[i, ..., 0])
        mp4, codec, fmt = read_mp4(tmp_path / "progress.mp4")
        assert codec == "h264" and fmt == "yuv420p" and len(mp4) == 11
        assert mp4[0].shape[0] % 2 == 0 and mp4[0].shape[1] % 2 == 0


def test_cli_gif_notes_the_missing_checkpoint_even_when_quiet(designed_toy1d: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["gif", str(designed_toy1d), "--out", str(tmp_path), "--quiet"])
    assert res.exit_code == 0, res.output
    assert res.stderr.splitlines() == [
        f"note: {designed_toy1d.name} has no checkpoint.pt: interpolation.gif (the "
        "latent walk through the trained G) skipped"
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["progress.gif"]


def test_real_run_gifs_and_the_latent_walk(image_run: Path, tmp_path: Path) -> None:
    """A trained run (any CPU): every file, the frame counts, and the walk's frames are G's outputs on the
    walk's latents."""
    from gan_train.checkpoints import generate, load_generator

    run = Run.load(image_run)
    paths = make_gifs(run, tmp_path, fps=5, mp4=True, progress=False, load_g=trained_generator)
    assert [p.name for p in paths] == ["progress.gif", "progress.mp4", "interpolation.gif", "interpolation.mp4"]
    frames, info = read_gif(tmp_path / "progress.gif")
    assert len(frames) == len(run.steps) and info["loop"] == 0
    walk, info = read_gif(tmp_path / "interpolation.gif")
    assert len(walk) == 48 and info["loop"] == 0
    g, cfg, _ = load_generator(run.path)
    z = walk_latents(run.fixed["noise"], 16)  # 48 frames of 16 walkers, all through G in one batch as the GIF does
    imgs = generate(g, cfg, z.reshape(-1, z.shape[-1])).reshape(48, 16, 28, 28, 1)
    for k in (0, 24):
        grid = upscale(to_rgb(tile(imgs[k])), 3)  # 122 px grid, auto zoom to ~320 px
        np.testing.assert_array_equal(walk[k][-grid.shape[0] :], grid)  # grey frames are stored exactly
    for name, n in (("progress", len(frames)), ("interpolation", 48)):
        mp4, codec, fmt = read_mp4(tmp_path / f"{name}.mp4")
        assert codec == "h264" and fmt == "yuv420p" and len(mp4) == n


def test_interpolation_uses_the_trained_generator(toy2d_run: Path) -> None:
    """G rebuilt from checkpoint.pt on the fixed noise reproduces the final snapshot."""
    from gan_train.checkpoints import generate, load_generator

    run = Run.load(toy2d_run)
    g, cfg, step = load_generator(run.path)
    assert step == run.steps[-1]
    np.testing.assert_allclose(generate(g, cfg, run.fixed["noise"]), run.snapshot("end").fake, atol=1e-5)


@pytest.mark.parametrize(("fixture", "walk_frames"), [("toy2d_run", 48), ("toy1d_run", 46)])
def test_toy_gifs(fixture: str, walk_frames: int, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Real toy runs (any CPU): both GIFs, one progress frame per snapshot, the walk's frame count (2-D: 4 legs
    of 12; 1-D: a sweep from -3 to 3 and back)."""
    run = Run.load(request.getfixturevalue(fixture))
    paths = make_gifs(run, tmp_path, scale=0.5, progress=False, load_g=trained_generator)
    assert [p.name for p in paths] == ["progress.gif", "interpolation.gif"]
    frames, info = read_gif(paths[0])
    assert len(frames) == len(run.steps) and info["loop"] == 0
    walk, info = read_gif(paths[1])
    assert len(walk) == walk_frames and info["loop"] == 0


ACTION = {  # what each reduction says, in the documented order: palette, then frames, then scale
    "palette": re.compile(r"~?[\d.]+ [Mk]B > [\d.]+ [Mk]B: palette reduced to (\d+) colours"),
    "frames": re.compile(
        r"[\d.]+ [Mk]B > [\d.]+ [Mk]B: kept 1 frame in (\d+) \((\d+) -> (\d+), always the last\), "
        r"at ([\d.]+) fps to keep the duration"
    ),
    "scale": re.compile(r"[\d.]+ [Mk]B > [\d.]+ [Mk]B: scaled frames to (\d+)%"),
}


def kinds(actions: list[str]) -> list[str]:
    out = []
    for a in actions:
        (kind,) = [k for k, rx in ACTION.items() if rx.fullmatch(a)] or [f"unknown: {a}"]
        out.append(kind)
    return out


def test_max_size_reduces_palette_then_frames_then_scale(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (96, 96, 3), dtype=np.uint8) for _ in range(40)]  # incompressible
    free = encode_gif(frames, tmp_path / "free.gif", 10, None)
    res = encode_gif(frames, tmp_path / "small.gif", 10, free.size // 10)
    assert kinds(res.actions) == ["palette", "frames", "scale"], res.actions
    assert ACTION["palette"].fullmatch(res.actions[0]).group(1) == "32" == str(res.colours)  # > 2x over: 32 at once
    step, before, kept, fps = ACTION["frames"].fullmatch(res.actions[1]).groups()
    assert (int(step), int(before), int(kept), float(fps)) == (3, 40, 14, 3.33) and res.frames == 14
    pct = int(ACTION["scale"].fullmatch(res.actions[2]).group(1))
    assert res.width == pytest.approx(96 * pct / 100, abs=1) and res.size <= free.size // 10
    assert (tmp_path / "small.gif").stat().st_size == res.size
    got, info = read_gif(tmp_path / "small.gif")
    assert len(got) == res.frames and got[0].shape[1] == res.width and info["loop"] == 0
    with pytest.raises(GifError, match="--max-size"):
        encode_gif(frames, tmp_path / "tiny.gif", 10, 500)


def test_cli_gif_says_what_it_gave_up_in_order(tmp_path: Path) -> None:
    """`ganviz gif --max-size` on a 41-snapshot designed run prints each reduction, palette first, then frames,
    then scale, and the GIF written is what the lines say."""
    from designed import make_designed_run

    run = make_designed_run(tmp_path / "r", "image", total_steps=400, snapshot_every=10)
    free: list = []
    make_gifs(Run.load(run), tmp_path / "free", max_size=0, progress=False, results=free, load_g=trained_generator)
    limit = free[0].size // 6
    res = CliRunner().invoke(main, ["gif", str(run), "--out", str(tmp_path / "o"), "--max-size", str(limit)])
    assert res.exit_code == 0, res.output
    said = [ln.split("to fit --max-size: ", 1)[1] for ln in res.stderr.splitlines() if "to fit --max-size: " in ln]
    order = kinds(said)
    assert order == sorted(order, key=["palette", "frames", "scale"].index) and set(order) == set(ACTION), said
    got, _ = read_gif(tmp_path / "o" / "progress.gif")
    step, before, kept, _ = ACTION["frames"].fullmatch(said[order.index("frames")]).groups()
    assert int(before) == 41 and len(got) == int(kept) == len(range(0, 41, int(step))) + (40 % int(step) != 0)
    pct = int(ACTION["scale"].fullmatch(said[-1]).group(1))
    assert got[0].shape[1] == pytest.approx(free[0].width * pct / 100, abs=1)
    assert (tmp_path / "o" / "progress.gif").stat().st_size <= limit


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


@pytest.mark.parametrize(
    "case",
    ["not-a-run", "no-snapshots", "no-snapshots-default-out", "bad-size", "bad-fps", "too-big", "damaged-checkpoint"],
)
def test_cli_gif_bad_input_is_one_line(
    case: str, image_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    one_line_error(CliRunner().invoke(main, args))
    assert sorted(p.name for p in tmp_path.iterdir()) == (["r"] if bare else [])
