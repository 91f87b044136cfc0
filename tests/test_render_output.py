"""README-ready output of `ganviz render`: GIFs through the GIF writer of `ganviz gif` (fitted to --max-size, saying
what was reduced), MP4s with their index first (faststart), --width, stills and contact sheets, one-line errors for
bad values, and nothing left behind by a refused or failed render. Renders are tiny (160x90 at 5 fps) and drawn
from designed runs."""

from __future__ import annotations

import math
import re
import struct
from pathlib import Path

import av
import cli_errors
import numpy as np
import pytest
from click.testing import CliRunner, Result
from designed import make_designed_run
from PIL import Image, ImageSequence

from pipeline.cli import main
from pipeline.frames import caption
from pipeline.gifs import encode_gif, gif_duration, video_gif, write_mp4
from pipeline.render import GIF_MAX_FPS, QUALITIES, render_config
from pipeline.video import VideoFrames, contact_sheet, faststart, still_indices

pytestmark = pytest.mark.xdist_group("render_output")

WIDTH, HEIGHT, FPS = 160, 90, 5
SHORT = {"total_steps": 60, "snapshot_every": 20}  # 4 snapshots: short renders


def boxes(path: Path) -> list[str]:
    """The types of an MP4's top-level boxes, in file order (ISO/IEC 14496-12: 32-bit size, 4-byte type; size 1 means
    a 64-bit size follows, 0 means to the end of the file)."""
    out = []
    with open(path, "rb") as f:
        while len(head := f.read(8)) == 8:
            size, kind = struct.unpack(">I4s", head)
            out.append(kind.decode("latin-1"))
            if size == 0:
                break
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0] - 8
            f.seek(size - 8, 1)
    return out


def index_first(path: Path) -> bool:
    kinds = boxes(path)
    return "moov" in kinds and "mdat" in kinds and kinds.index("moov") < kinds.index("mdat")


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as box:
        return [f.to_ndarray(format="rgb24") for f in box.decode(video=0)]


def read_gif(path: Path) -> tuple[list[np.ndarray], Image.Image]:
    im = Image.open(path)
    return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)], im


def render(args: list[str], monkeypatch: pytest.MonkeyPatch, quiet: bool = True) -> Result:
    """`ganviz render ARGS` with the 'low' preset made tiny (160x90, 5 fps)."""
    monkeypatch.setitem(QUALITIES, "low", (WIDTH, HEIGHT, FPS))
    return CliRunner().invoke(main, ["render", *args, *(["--quiet"] if quiet else [])])


def one_line_error(res: Result) -> str:
    """The refusal's one line (tests/cli_errors.py), and nothing else printed."""
    line = cli_errors.one_line_error(res)
    assert not res.stdout.strip(), res.output
    return line


@pytest.fixture(scope="module")
def toy2d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_designed_run(tmp_path_factory.mktemp("designed") / "toy2d", "toy2d", n=64, **SHORT)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_designed_run(tmp_path_factory.mktemp("designed") / "image", "image", **SHORT)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A default outputs/videos/<run>/ lands in the test's tmp_path, never in the checkout."""
    monkeypatch.chdir(tmp_path)


# -- MP4s: index first -------------------------------------------------------------------------------------------
def test_faststart_moves_the_index_first_and_copies_the_frames(tmp_path: Path) -> None:
    """A plain PyAV MP4 has moov after mdat; faststart's copy has it first, with the same frames and metadata."""
    plain = tmp_path / "plain.mp4"
    frames = [np.full((48, 64, 3), 10 * i, np.uint8) for i in range(12)]
    with av.open(str(plain), "w") as box:
        box.metadata["comment"] = "made here"
        stream = box.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for f in frames:
            box.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        box.mux(stream.encode(None))
    assert not index_first(plain), boxes(plain)  # so the check below can fail
    fast = faststart(plain, tmp_path / "fast.mp4")
    assert index_first(fast), boxes(fast)
    for a, b in zip(decode(plain), decode(fast), strict=True):
        np.testing.assert_array_equal(a, b)
    with av.open(str(fast)) as box:
        s = box.streams.video[0]
        assert (s.codec_context.name, s.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert box.metadata.get("comment") == "made here"


def test_gif_mp4_has_its_index_first(designed_toy1d: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["gif", str(designed_toy1d), "--mp4", "--quiet", "-o", str(tmp_path / "g")])
    assert res.exit_code == 0, res.output
    assert index_first(tmp_path / "g" / "progress.mp4"), boxes(tmp_path / "g" / "progress.mp4")


@pytest.fixture(scope="module")
def morph_mp4(image: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """`ganviz render morph RUN --width 128 --stills 4 -o OUT`: the video, 4 stills and their contact sheet."""
    out = tmp_path_factory.mktemp("morph")
    with pytest.MonkeyPatch.context() as mp:
        res = render(["morph", str(image), "--width", "128", "--stills", "4", "-o", str(out)], mp)
    assert res.exit_code == 0, res.output
    return out, [Path(line) for line in res.stdout.splitlines() if line.startswith(str(out))]


def test_rendered_mp4_has_its_index_first_and_the_width_asked(morph_mp4: tuple[Path, list[Path]]) -> None:
    out, _ = morph_mp4
    video = out / "NoiseToImage.mp4"
    assert index_first(video), boxes(video)
    with av.open(str(video)) as box:
        s = box.streams.video[0]
        assert (s.codec_context.name, s.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (s.width, s.height) == (128, 72)  # --width, 9/16 of it; even
    # x264 writes its settings into the stream: crf 23 with the veryfast preset (subme=2, ref=1; medium: 7 and 3)
    settings = re.search(rb"x264 - core .*? options: ([^\x00]*)", video.read_bytes()).group(1).split()
    assert {b"crf=23.0", b"subme=2", b"ref=1"} <= set(settings), settings


# -- stills and contact sheets -----------------------------------------------------------------------------------
def test_still_indices_spread_evenly_and_end_on_the_last_frame() -> None:
    assert still_indices(10, 4) == [2, 4, 7, 9]
    assert still_indices(10, 1) == [9]
    assert still_indices(6, 6) == [0, 1, 2, 3, 4, 5]
    assert still_indices(100, 5) == [19, 39, 59, 79, 99]


def test_stills_are_the_videos_frames_and_the_sheet_shows_them_with_their_times(
    morph_mp4: tuple[Path, list[Path]],
) -> None:
    out, printed = morph_mp4
    names = [f"NoiseToImage-still-{k}.png" for k in (1, 2, 3, 4)]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["NoiseToImage.mp4", "NoiseToImage-contact-sheet.png", *names]
    )
    assert [p.name for p in printed] == ["NoiseToImage.mp4", *names, "NoiseToImage-contact-sheet.png"]
    frames = decode(out / "NoiseToImage.mp4")
    n = len(frames)
    picked = [math.ceil(k * n / 4) - 1 for k in (1, 2, 3, 4)]  # k/4 of the duration; the last is the last frame
    stills = [np.asarray(Image.open(out / name)) for name in names]
    for still, i in zip(stills, picked, strict=True):
        np.testing.assert_array_equal(still, frames[i])
    assert picked[-1] == n - 1 and not np.array_equal(stills[0], stills[-1])
    sheet = np.asarray(Image.open(out / "NoiseToImage-contact-sheet.png").convert("RGB"))
    # a 2 x 2 grid, 8 px apart, of each still under a band labelled with its time (frame number / frame rate)
    cells = [caption(s, f"t = {i / FPS:.1f} s") for s, i in zip(stills, picked, strict=True)]
    h, w = cells[0].shape[:2]
    assert sheet.shape == (2 * h + 3 * 8, 2 * w + 3 * 8, 3)
    for k, cell in enumerate(cells):
        y, x = 8 + (k // 2) * (h + 8), 8 + (k % 2) * (w + 8)
        np.testing.assert_array_equal(sheet[y : y + h, x : x + w], cell)


def test_contact_sheet_shrinks_wide_frames() -> None:
    """960 px frames at most 240 wide: a quarter of their size (240 x 68), each under a 17 px label band."""
    frames = [np.full((270, 960, 3), 40 * k, np.uint8) for k in range(3)]
    sheet = np.asarray(contact_sheet(frames, ["a", "b", "c"], 3, width=240))
    assert sheet.shape == (8 + 17 + 68 + 8, 8 + 3 * (240 + 8), 3)
    for k in range(3):
        x = 8 + k * (240 + 8)
        assert (sheet[8 + 17 : 8 + 17 + 68, x : x + 240] == 40 * k).all()


# -- GIFs through the GIF writer -----------------------------------------------------------------------------------
def test_a_gif_renders_from_a_lossless_source_at_most_25_fps() -> None:
    cfg = render_config("high", "gif", Path("/tmp/w"))
    assert (cfg["frame_rate"], cfg["format"]) == (GIF_MAX_FPS, "mp4") and GIF_MAX_FPS == 25
    assert (cfg["video_codec"], cfg["pixel_format"], cfg["video_encoder_options"]["crf"]) == (
        "libx264rgb",
        "rgb24",
        "0",
    )
    assert render_config("high", "mp4", Path("/tmp/w"))["frame_rate"] == 60
    assert render_config("low", "gif", Path("/tmp/w"))["frame_rate"] == 15


def test_video_frames_decode_each_pass_and_scale(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frames = [
        np.kron(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8), np.ones((4, 4, 1), np.uint8)) for _ in range(9)
    ]
    video = write_mp4(frames, tmp_path / "v.mp4", 6)
    clip = VideoFrames(video)
    assert len(clip) == 9 and clip.fps == 6 and clip.size == (64, 48)
    first, second = list(clip), list(clip)
    assert len(first) == 9 and all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert np.abs(first[4].astype(int) - frames[4]).mean() < 12  # H.264 at crf 20 of blocky noise
    small = VideoFrames(video, width=32)
    assert small.size == (32, 24) and next(iter(small)).shape == (24, 32, 3)
    # the GIF of a video is the GIF writer's GIF of its decoded frames, byte for byte
    res = video_gif(video, tmp_path / "v.gif", max_size=None)
    assert res.path.read_bytes() == encode_gif(first, tmp_path / "list.gif", 6, None).path.read_bytes()


@pytest.fixture(scope="module")
def field_gif(toy2d: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`ganviz render distribution --format gif --max-size 0 --stills 3`: no limit; stills of the lossless source."""
    out = tmp_path_factory.mktemp("gif")
    with pytest.MonkeyPatch.context() as mp:
        res = render(
            [
                "distribution",
                "--run-2d",
                str(toy2d),
                "--format",
                "gif",
                "--max-size",
                "0",
                "--stills",
                "3",
                "-o",
                str(out),
            ],
            mp,
        )
    assert res.exit_code == 0, res.output
    return out


def test_render_gif_is_the_scene_through_the_gif_writer(
    field_gif: Path, toy2d: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every frame of the scene at its frame rate (as many as its MP4 has), looping: each frame is the lossless still
    taken at the same moment, up to the 256-colour palette."""
    frames, im = read_gif(field_gif / "DecisionField.gif")
    assert im.info["loop"] == 0 and im.info["duration"] == gif_duration(FPS)
    assert frames[0].shape == (HEIGHT, WIDTH, 3)
    res = render(["distribution", "--run-2d", str(toy2d), "-o", str(tmp_path)], monkeypatch)
    assert res.exit_code == 0, res.output
    assert len(frames) == len(decode(tmp_path / "DecisionField.mp4"))
    stills = [np.asarray(Image.open(field_gif / f"DecisionField-still-{k}.png")) for k in (1, 2, 3)]
    picked = still_indices(len(frames), 3)
    for still, i in zip(stills, picked, strict=True):
        assert np.abs(frames[i].astype(int) - still).mean() < 4, i


def test_render_gif_fits_max_size_and_says_what_it_reduced(
    field_gif: Path, toy2d: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    free = (field_gif / "DecisionField.gif").stat().st_size
    limit = free * 2 // 3
    res = render(
        [
            "distribution",
            "--run-2d",
            str(toy2d),
            "--format",
            "gif",
            "--max-size",
            str(limit),
            "-o",
            str(tmp_path / "o"),
        ],
        monkeypatch,
        quiet=False,
    )
    assert res.exit_code == 0, res.output
    said = [ln.split("to fit --max-size: ", 1)[1] for ln in res.stderr.splitlines() if "to fit --max-size: " in ln]
    assert said and "palette reduced to" in said[0], res.stderr
    gif = tmp_path / "o" / "DecisionField.gif"
    assert gif.stat().st_size <= limit
    summary = re.search(r"DecisionField\.gif: (\d+) frames (\d+)x(\d+)", res.stderr)
    frames, _ = read_gif(gif)
    assert summary and int(summary.group(1)) == len(frames)


# -- bad input: one line, nothing left behind ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--stills", "0"], "--stills 0: ask for 1 to 100 stills"),
        (["--stills", "many"], "--stills many: expected a whole number"),
        (["--width", "7"], "--width 7: use an even number of pixels from 64 to 7680"),
        (["--width", "641"], "--width 641: use an even number"),
        (["--width", "wide"], "--width wide: expected a whole number"),
        (["--format", "gif", "--max-size", "big"], "--max-size big: expected a size such as 5MB"),
        (["--max-size", "2MB"], "--max-size 2MB: only GIFs are fitted to a size"),
        (["--format", "png", "--stills", "3"], "--stills are taken from the video; drop --format png"),
    ],
)
def test_bad_values_are_one_line_and_leave_nothing(
    args: list[str], says: str, image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    msg = one_line_error(render(["morph", str(image), *args, "-o", str(tmp_path / "v")], monkeypatch))
    assert msg.startswith(f"error: {says}"), msg
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_gif_that_cannot_fit_leaves_nothing_and_keeps_an_earlier_one(
    toy2d: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The render succeeds, the GIF writer gives up: no new file stays (stills included), an earlier GIF of the
    scene is untouched."""
    out = tmp_path / "v"
    out.mkdir()
    (out / "DecisionField.gif").write_bytes(b"an earlier render")
    res = render(
        [
            "distribution",
            "--run-2d",
            str(toy2d),
            "--format",
            "gif",
            "--max-size",
            "100",
            "--stills",
            "2",
            "-o",
            str(out),
        ],
        monkeypatch,
    )
    msg = one_line_error(res)
    assert f"{out / 'DecisionField.gif'}: cannot fit under --max-size 100" in msg, msg
    assert sorted(p.name for p in out.iterdir()) == ["DecisionField.gif"]
    assert (out / "DecisionField.gif").read_bytes() == b"an earlier render"


def test_more_stills_than_frames_is_one_line_and_leaves_nothing(
    toy2d: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    res = render(["distribution", "--run-2d", str(toy2d), "--stills", "100", "-o", str(tmp_path / "v")], monkeypatch)
    msg = one_line_error(res)
    assert re.search(r"--stills 100: DecisionField\.mp4 has only \d+ frames", msg), msg
    assert not (tmp_path / "v").exists() and not (tmp_path / "outputs").exists()


def test_video_frames_of_a_file_that_is_no_video(tmp_path: Path) -> None:
    from pipeline.video import VideoError

    (tmp_path / "x.mp4").write_bytes(b"not a video")
    with pytest.raises(VideoError, match="cannot read the video"):
        VideoFrames(tmp_path / "x.mp4")
