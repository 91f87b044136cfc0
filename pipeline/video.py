"""The video files ganviz writes and reads back: MP4s with their index first, frames decoded for GIFs, stills and
contact sheets.

An MP4 as manim (or a plain PyAV muxer) writes it has its index, the ``moov`` box, after the media data (``mdat``):
a browser or a slide tool must fetch the whole file before the first frame plays. ``faststart`` rewrites the file
with the index first (FFmpeg's ``movflags=+faststart``), copying the H.264 packets, so nothing is re-encoded.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from ganviz.errors import GanvizError
from pipeline.frames import caption, tile, upscale

#: muxer option that puts an MP4's index before its media data
FASTSTART = {"movflags": "+faststart"}
MAX_STILLS = 100
SHEET_THUMB_WIDTH = 480  # a contact sheet's frames are at most this wide


class VideoError(GanvizError):
    """A video that cannot be read, rewritten or cut into stills."""


def faststart(src: Path, dst: Path) -> Path:
    """Write the MP4 ``src`` to ``dst`` with its index (moov) before the media data (mdat); packets are copied."""
    import av

    try:
        with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4", options=FASTSTART) as out:
            out.metadata.update(inp.metadata)
            video = inp.streams.video[0]
            stream = out.add_stream_from_template(video)
            for packet in inp.demux(video):
                if packet.dts is None:  # the demuxer's empty flush packet
                    continue
                packet.stream = stream
                out.mux(packet)
    except (OSError, av.FFmpegError) as e:
        raise VideoError(f"{dst}: cannot write the MP4 ({e})") from None
    return dst


def _scaled(width: int, height: int, to: int | None) -> tuple[int, int]:
    """``width`` x ``height`` scaled to ``to`` pixels wide (even height, as video frames have)."""
    if to is None or to == width:
        return width, height
    return to, max(2, round(height * to / width / 2) * 2)


class VideoFrames:
    """The frames of a video file as a sized collection of RGB arrays, optionally scaled to ``width``.

    Each pass decodes the file again instead of holding the frames: a scene at 854x480 and 15 fps is ~1.2 MB of RGB
    a frame, hundreds of frames, and the GIF writer only needs them one at a time (a pass over a lossless 480p video
    decodes in about a second).
    """

    def __init__(self, path: Path, width: int | None = None) -> None:
        import av

        self.path = path
        try:
            with av.open(str(path)) as box:
                stream = box.streams.video[0]
                rate = stream.average_rate or stream.guessed_rate
                self.count = sum(1 for p in box.demux(stream) if p.size)  # packets only, nothing decoded
                self.size = _scaled(stream.width, stream.height, width)
        except (OSError, IndexError, av.FFmpegError) as e:
            raise VideoError(f"{path}: cannot read the video ({e})") from None
        if not self.count or not rate:
            raise VideoError(f"{path}: the video has no frames")
        self.fps = float(rate)

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[np.ndarray]:
        import av

        w, h = self.size
        with av.open(str(self.path)) as box:
            for frame in box.decode(video=0):
                yield frame.to_ndarray(format="rgb24", width=w, height=h, interpolation="AREA")

    def pick(self, indices: list[int]) -> list[np.ndarray]:
        """The frames at ``indices`` (in range; repeats allowed), from one pass."""
        want = set(indices)
        got = {i: f for i, f in enumerate(self) if i in want}
        return [got[i] for i in indices]


def still_indices(frames: int, n: int) -> list[int]:
    """n frame numbers evenly spread over a clip: the k-th still at k/n of its duration, so the last one is the final
    frame (the first frame of a scene is its empty background)."""
    return [math.ceil(k * frames / n) - 1 for k in range(1, n + 1)]


def contact_sheet(
    frames: list[np.ndarray], labels: list[str], columns: int, width: int = SHEET_THUMB_WIDTH
) -> Image.Image:
    """One image with ``frames`` (of one size) in a grid of ``columns``, each at most ``width`` pixels wide, under
    its label."""
    scale = min(1.0, width / frames[0].shape[1])
    thumbs = [caption(upscale(f, scale), label) for f, label in zip(frames, labels, strict=True)]
    return Image.fromarray(tile(np.stack(thumbs), ncols=columns, pad=8))


def stills_columns(n: int) -> int:
    """Columns of a contact sheet of n stills: a near-square grid (6 -> 3 x 2)."""
    return math.ceil(math.sqrt(n))


def write_stills(video: Path, out: Path, stem: str, n: int) -> list[Path]:
    """``n`` PNG stills of ``video`` evenly spread over its duration (``still_indices``) and a contact sheet of them,
    each labelled with its time: ``out/<stem>-still-01.png`` ... and ``out/<stem>-contact-sheet.png``."""
    clip = VideoFrames(video)
    if n > len(clip):
        raise VideoError(f"--stills {n}: {video.name} has only {len(clip)} frames; ask for at most that many")
    indices = still_indices(len(clip), n)
    frames = clip.pick(indices)
    digits = len(str(n))
    paths = []
    for k, frame in enumerate(frames, 1):
        paths.append(out / f"{stem}-still-{k:0{digits}d}.png")
        Image.fromarray(frame).save(paths[-1])
    labels = [f"t = {i / clip.fps:.1f} s" for i in indices]
    sheet = out / f"{stem}-contact-sheet.png"
    contact_sheet(frames, labels, stills_columns(n)).save(sheet)
    return [*paths, sheet]


def scenes_sheet(videos: list[Path], path: Path, per_scene: int = 4, width: int = 360) -> Path:
    """One contact sheet of several videos of one size: a row of ``per_scene`` stills of each, labelled with its name
    and time (the README's overview of the built-in scenes)."""
    frames, labels = [], []
    for video in videos:
        clip = VideoFrames(video)
        indices = still_indices(len(clip), per_scene)
        frames += clip.pick(indices)
        labels += [f"{video.stem}, {i / clip.fps:.1f} s" for i in indices]
    contact_sheet(frames, labels, per_scene, width).save(path)
    return path


def publish(files: list[Path], out: Path) -> list[Path]:
    """Move finished files into ``out`` under their names, each through a hidden partial name and a rename, so a file
    of an earlier render is replaced whole or not at all."""
    placed = []
    for f in files:
        partial = out / f".{f.name}.partial"
        shutil.move(f, partial)  # across file systems: a copy
        placed.append(partial.replace(out / f.name))
    return placed
