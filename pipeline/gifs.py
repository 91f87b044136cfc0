"""Looping GIFs (and optional H.264 MP4s) of a run: training progress, a latent walk, the 2-D toy's D field.

Encoding quantizes each frame with Pillow's FASTOCTREE and writes the GIF with Pillow directly: on this
project's 2-core machine that is ~13x faster than imageio's default path (benchmarks/pipeline_speed.py).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from ganviz.errors import GanvizError
from ganviz.format import CHECKPOINT_FILE, SNAPSHOT
from ganviz.reader import Run
from pipeline.frames import (
    OKABE_ITO,
    ROLE,
    caption,
    draw_points,
    rgb,
    tile,
    to_pixels,
    to_rgb,
    toy1d_frame,
    toy2d_frame,
)
from pipeline.frames import upscale as upscale_frame
from pipeline.output import output_folder
from pipeline.video import FASTSTART, VideoFrames

DEFAULT_FPS = 10.0
DEFAULT_MAX_SIZE = "5MB"
WALK_KEYFRAMES = 4  # fixed noise vectors each walker visits before looping back
WALK_FRAMES_PER_LEG = 12
MIN_COLOURS = 32  # palette reductions stop here; below it colour frames band visibly


class GifError(GanvizError):
    """A GIF option that does not fit (fps, scale, max size) or an encoder failure."""


@dataclass
class GifResult:
    """What was written, and what had to be given up to fit the size limit."""

    path: Path
    frames: int
    width: int
    height: int
    colours: int
    size: int
    actions: list[str] = field(default_factory=list)

    def report(self) -> list[str]:
        """What was written, then each reduction made to fit the size limit: the lines the commands print."""
        said = [f"{self.path.name}: {self.frames} frames {self.width}x{self.height}, {_human(self.size)}"]
        return said + [f"  to fit --max-size: {a}" for a in self.actions]


# -- options -------------------------------------------------------------------------------------
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)?\s*$", re.IGNORECASE)


def parse_size(value: str | int | float | None) -> int | None:
    """'5MB', '500k', '1.5M' or a number of bytes -> bytes (decimal units); None or 0 means no limit."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return int(value) or None
    m = _SIZE_RE.match(value)
    if not m:
        raise GifError(f"--max-size {value}: expected a size such as 5MB, 800kB or 2000000")
    unit = (m.group(2) or "").lower().rstrip("b").rstrip("i")
    mult = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}[unit]
    return int(float(m.group(1)) * mult) or None


def _human(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


# -- encoding ------------------------------------------------------------------------------------
PALETTE_SAMPLE_FRAMES = 16  # a colour clip's palette is built from this many evenly spaced frames


@dataclass
class IndexedClip:
    """A clip as palette indices into one palette shared by every frame (the GIF's global colour table).

    One palette for the whole clip means a pixel whose colour did not change keeps its index, so later
    frames only need to store what changed (see ``gif_bytes``); per-frame palettes defeat that.
    """

    frames: list[np.ndarray]  # (H, W) uint8 indices
    palette: np.ndarray  # (N, 3) uint8 RGB, N <= 256

    @property
    def colours(self) -> int:
        return len(self.palette)


def is_grey(frame: np.ndarray) -> bool:
    """True when the frame has R == G == B everywhere (digit runs)."""
    return np.array_equal(frame[..., 0], frame[..., 1]) and np.array_equal(frame[..., 1], frame[..., 2])


class Frames(Protocol):
    """What the GIF writer takes: a list of RGB frames, or anything sized that yields them on every pass (a video
    decoded again on each pass, ``pipeline.video.VideoFrames``)."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[np.ndarray]: ...


class _Scaled:
    """``frames`` resized by ``scale``, one at a time."""

    def __init__(self, frames: Frames, scale: float) -> None:
        self.frames, self.scale = frames, scale

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self) -> Iterator[np.ndarray]:
        return (upscale_frame(f, self.scale) for f in self.frames)


def quantize_clip(frames: Frames, colours: int = 256) -> IndexedClip:
    """RGB frames -> one shared palette and per-frame indices, in two passes over ``frames`` (one RGB frame at a
    time: a long clip is held as indices, a third of its RGB size).

    Grey clips use the 256 grey levels themselves as the palette, so at 256 colours every frame is stored
    exactly; fewer colours keep every k-th level, centred in its bin. Colour clips get a palette of at most
    ``colours`` colours from Pillow's fast octree quantizer run once on a sample of frames, and every frame
    is mapped to it without dithering (smaller, steadier GIFs).
    """
    n = len(frames)
    if not n:
        raise GifError("no frames to quantize")
    pick = set(np.linspace(0, n - 1, min(PALETTE_SAMPLE_FRAMES, n)).round().astype(int).tolist())
    shape, grey, sample = None, True, []
    for i, f in enumerate(frames):
        shape = shape or f.shape
        if f.shape != shape:
            raise GifError("all frames of a GIF must have the same size")
        grey = grey and is_grey(f)
        if i in pick:
            sample.append(np.ascontiguousarray(f[..., :3]))
    if grey:
        ramp = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
        if colours >= 256:
            return IndexedClip([np.ascontiguousarray(f[..., 0]) for f in frames], ramp)
        k = 256 // colours
        lut = (np.arange(256) // k * k + k // 2).astype(np.uint8)  # fewer grey levels, centred in their bins
        return IndexedClip([lut[f[..., 0]] for f in frames], ramp)
    pal_img = Image.fromarray(np.concatenate(sample, axis=0)).quantize(
        min(colours, 256), method=Image.Quantize.FASTOCTREE
    )
    n_colours = len(pal_img.getpalette() or []) // 3
    palette = np.asarray(pal_img.getpalette()[: 3 * n_colours], np.uint8).reshape(-1, 3)
    idx = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(f[..., :3])).quantize(palette=pal_img, dither=Image.Dither.NONE)
        )
        for f in frames
    ]
    return IndexedClip(idx, palette)


def gif_duration(fps: float) -> int:
    """Frame delay in ms: GIF delays are centiseconds, and browsers treat < 20 ms as 100 ms."""
    return max(20, round(100 / fps) * 10)


def gif_chunks(clip: IndexedClip, fps: float, keep: list[int] | None = None) -> Iterator[bytes]:
    """The bytes of an infinitely looping GIF of the clip's frames (or of ``keep``, a list of frame
    numbers), one frame at a time: header and first frame, then one chunk per frame, then the trailer.

    Frame after frame stores only the bounding box of the pixels that changed, and inside it marks the
    unchanged ones transparent (an index that none of the changed pixels uses), with "do not dispose", so
    a viewer shows exactly the original frame. Every frame is written, even one identical to the last
    (as a 1x1 patch), so the GIF has as many frames as asked for.
    """
    from PIL import GifImagePlugin

    frames = [clip.frames[i] for i in keep] if keep is not None else clip.frames
    duration = gif_duration(fps)
    pal = np.zeros((256, 3), np.uint8)
    pal[: clip.colours] = clip.palette
    first = Image.fromarray(frames[0])
    first.putpalette(pal.tobytes())  # L -> P with the clip's palette, written as the global colour table
    header, _ = GifImagePlugin.getheader(first, None, {"loop": 0, "duration": duration})
    yield b"".join([*header, *GifImagePlugin.getdata(first, (0, 0), duration=duration, disposal=1)])
    for prev, f in zip(frames, frames[1:], strict=False):
        changed = f != prev
        rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
        if rows.size == 0:  # same as the last frame: a 1x1 patch repeating one pixel keeps the frame count
            yield b"".join(GifImagePlugin.getdata(Image.fromarray(f[:1, :1]), (0, 0), duration=duration, disposal=1))
            continue
        y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        patch, mask = f[y0:y1, x0:x1].copy(), changed[y0:y1, x0:x1]
        params: dict = {"duration": duration, "disposal": 1}
        if not mask.all():
            free = np.flatnonzero(np.bincount(patch[mask], minlength=256) == 0)
            if free.size:  # else all 256 indices are needed: store the box as it is
                patch[~mask] = params["transparency"] = int(free[-1])
        yield b"".join(GifImagePlugin.getdata(Image.fromarray(patch), (int(x0), int(y0)), **params))
    yield b";"


def gif_bytes(clip: IndexedClip, fps: float, keep: list[int] | None = None) -> bytes:
    """An infinitely looping GIF of the clip (see ``gif_chunks``) in memory."""
    return b"".join(gif_chunks(clip, fps, keep))


def gif_bytes_within(
    clip: IndexedClip, fps: float, keep: list[int], limit: int | None, estimate: bool = False
) -> tuple[bytes | None, int]:
    """(GIF bytes, size) if it fits in ``limit`` bytes, else (None, its size).

    With ``estimate``, encoding stops as soon as the limit is passed and the size is extrapolated from
    the frames written: a GIF 2x over its limit costs half an encode to find out, not a whole one. (Early
    frames of a training clip are the noisiest, so the estimate runs high: ~15% on the benchmark.)
    """
    chunks: list[bytes] = []
    size = 0
    for i, c in enumerate(gif_chunks(clip, fps, keep)):
        chunks.append(c)
        size += len(c)
        if estimate and limit is not None and size > limit:
            done = min(i + 1, len(keep))
            return None, round(size * len(keep) / done)
    return (b"".join(chunks) if limit is None or size <= limit else None), size


def _even(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    if h % 2 or w % 2:
        frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return frame


def write_mp4(frames: list[np.ndarray], path: Path, fps: float) -> Path:
    """H.264 (libx264, yuv420p) MP4 of the same frames, index first (``FASTSTART``); odd sizes are padded to even
    (the codec needs it)."""
    from fractions import Fraction

    import av

    first = _even(frames[0])
    try:
        with av.open(str(path), "w", options=FASTSTART) as container:
            stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
            stream.width, stream.height = first.shape[1], first.shape[0]
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "20", "preset": "veryfast"}
            for f in frames:
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(_even(f)[..., :3]), format="rgb24")
                container.mux(stream.encode(vf))
            container.mux(stream.encode(None))
    except (OSError, av.FFmpegError) as e:
        raise GifError(f"{path}: cannot write the MP4 ({e})") from None
    return path


def encode_gif(
    frames: Frames, path: Path, fps: float = DEFAULT_FPS, max_size: str | int | None = DEFAULT_MAX_SIZE
) -> GifResult:
    """Write a looping GIF; if it exceeds ``max_size``, give up palette, frames or scale until it fits.

    The clip always gets one palette and delta frames (``gif_chunks``), which is lossless. Beyond that,
    first the palette shrinks: halved, or straight to 32 colours when more than 2x over (on a real digit
    run 256 -> 32 grey levels halved the GIF and is hard to see); then frames are dropped (keeping the
    last), size being about proportional to the frame count; once 12 frames are left, frames are
    scaled down (not earlier: smoothing nearest-neighbour-zoomed digits made a GIF larger, not smaller).
    Every reduction is recorded in ``GifResult.actions`` for the user. Quantized frames are reused
    across attempts, and while the palette can still shrink an attempt stops encoding once it passes
    the limit (its size then extrapolated, shown with a ~).
    """
    if not frames:
        raise GifError(f"{path}: no frames to write")
    limit = parse_size(max_size)
    colours, step, scale = 256, 1, 1.0
    actions: list[str] = []
    cache_key, clip = None, None
    while True:
        if cache_key != (colours, scale):
            clip = quantize_clip(frames if scale == 1.0 else _Scaled(frames, scale), colours)
            cache_key = (colours, scale)
        idx = list(range(0, len(frames), step))
        if idx[-1] != len(frames) - 1:
            idx.append(len(frames) - 1)  # always end on the final state
        # while the palette can still shrink, an estimate decides (stop once over); frame dropping needs the size
        data, size = gif_bytes_within(clip, fps / step, idx, limit, estimate=colours > MIN_COLOURS)
        if data is not None:
            break
        ratio = size / limit
        over = f"{'~' if colours > MIN_COLOURS else ''}{_human(size)} > {_human(limit)}"
        pixels = min(clip.frames[0].shape)
        if colours > MIN_COLOURS:
            colours = MIN_COLOURS if ratio > 2 else colours // 2  # far off: one re-quantization, not three
            actions.append(f"{over}: palette reduced to {colours} colours")
        elif (new_step := min(step * max(2, int(np.ceil(ratio * 1.05))), max(1, (len(frames) - 1) // 11))) > step:
            step = new_step
            kept = len(range(0, len(frames), step)) + ((len(frames) - 1) % step != 0)
            actions.append(
                f"{over}: kept 1 frame in {step} ({len(frames)} -> {kept}, always the last), "
                f"at {fps / step:.3g} fps to keep the duration"
            )
        elif pixels > 48:
            scale *= max(0.5, 0.95 / np.sqrt(ratio))
            actions.append(f"{over}: scaled frames to {scale:.0%}")
        else:
            raise GifError(
                f"{path}: cannot fit under --max-size {max_size} even at {len(idx)} small frames; raise --max-size"
            )
    try:
        path.write_bytes(data)
    except OSError as e:
        raise GifError(f"{path}: cannot write ({e.strerror})") from None
    h, w = clip.frames[0].shape
    return GifResult(path, len(idx), w, h, colours, len(data), actions)


def video_gif(
    video: Path, path: Path, *, width: int | None = None, max_size: str | int | None = DEFAULT_MAX_SIZE
) -> GifResult:
    """A looping GIF of a video file (a rendered scene) through ``encode_gif``, at its frame rate, ``width`` pixels
    wide (default: the video's). The video is decoded again on each pass instead of held in memory."""
    frames = VideoFrames(video, width)
    return encode_gif(frames, path, frames.fps, max_size)


# -- frames --------------------------------------------------------------------------------------
def auto_scale(width: int, target: int = 480) -> int:
    """Integer zoom that brings a sample grid to about ``target`` pixels wide (28-px digits: x2)."""
    return max(1, round(target / max(1, width)))


def progress_frames(run: Run, scale: float | None = None) -> list[np.ndarray]:
    """One frame per readable snapshot (damaged ones skipped with a warning): the fixed-noise grid (images) or
    the toy's samples and D, captioned with the step."""
    frames = []
    if run.kind == "image":
        k = None
        for snap in run.iter_snapshots(keys=(SNAPSHOT.fake,)):  # damaged snapshots are skipped, with a warning
            grid = to_rgb(tile(snap.fake))
            k = k or (scale if scale else auto_scale(grid.shape[1]))
            frames.append(caption(upscale_frame(grid, k), f"step {snap.step}"))
    elif run.kind == "toy2d":
        ext, real = run.fixed.field_extent, run.real
        size = round(384 * (scale or 1))
        for snap in run.iter_snapshots(keys=(SNAPSHOT.fake, SNAPSHOT.field)):
            frames.append(caption(toy2d_frame(snap.field, real, snap.fake, ext, size), f"step {snap.step}"))
    else:
        ext, real = run.fixed.field_extent, run.real
        size = (round(480 * (scale or 1)), round(270 * (scale or 1)))
        for snap in run.iter_snapshots(keys=(SNAPSHOT.fake, SNAPSHOT.field)):
            frames.append(caption(toy1d_frame(real, snap.fake, snap.field, ext, size), f"step {snap.step}"))
    return frames


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation between rows of ``a`` and ``b`` (keeps Gaussian noise at a typical norm);
    falls back to linear where the vectors are (anti)parallel or the noise has fewer than 3 dimensions."""
    t = np.asarray(t, np.float64)[:, None, None]
    a64, b64 = a.astype(np.float64)[None], b.astype(np.float64)[None]
    lin = (1 - t) * a64 + t * b64
    if a.shape[-1] < 3:
        return lin.astype(np.float32)
    na, nb = np.linalg.norm(a64, axis=-1, keepdims=True), np.linalg.norm(b64, axis=-1, keepdims=True)
    cos = np.clip((a64 * b64).sum(-1, keepdims=True) / np.maximum(na * nb, 1e-12), -1, 1)
    omega = np.arccos(cos)
    so = np.sin(omega)
    ok = so > 1e-6
    sl = (np.sin((1 - t) * omega) * a64 + np.sin(t * omega) * b64) / np.where(ok, so, 1)
    return np.where(ok, sl, lin).astype(np.float32)


def walk_latents(
    noise: np.ndarray, walkers: int, keyframes: int = WALK_KEYFRAMES, per_leg: int = WALK_FRAMES_PER_LEG
) -> np.ndarray:
    """Latent codes of a closed walk: (frames, walkers, noise_dim), visiting fixed noise vectors in turn.

    Walker i visits noise[i], noise[i + s], noise[i + 2s], ... (s = N // keyframes) and returns to
    noise[i], so the GIF loops without a jump.
    """
    n = len(noise)
    stride = max(1, n // keyframes)
    keys = [noise[(np.arange(walkers) + k * stride) % n] for k in range(keyframes)]
    t = np.arange(per_leg) / per_leg
    legs = [slerp(keys[k], keys[(k + 1) % keyframes], t) for k in range(keyframes)]
    return np.concatenate(legs, axis=0)


#: Loads a run's trained G: ``load_g(run_dir)`` is (z -> G(z) in the snapshot layout, the checkpoint's step). The
#: command passes gan_train's (``gan_train.checkpoints.trained_generator``): the pipeline itself never imports torch.
LoadG = Callable[[Path], tuple[Callable[[np.ndarray], np.ndarray], int]]


def interpolation_frames(run: Run, load_g: LoadG, scale: float | None = None) -> tuple[list[np.ndarray], int]:
    """Frames of a latent walk through the final checkpoint's G, and the checkpoint's step."""
    generate, ck_step = load_g(run.path)
    noise = run.fixed.noise
    noise_dim = noise.shape[-1]
    if run.kind == "image":
        walkers = min(16, len(noise))
        z = walk_latents(noise, walkers)
        imgs = generate(z.reshape(-1, z.shape[-1])).reshape(z.shape[0], walkers, *run.real.shape[1:])
        k = None
        frames = []
        for f in imgs:
            grid = to_rgb(tile(f))
            k = k or (scale if scale else auto_scale(grid.shape[1], 320))
            frames.append(caption(upscale_frame(grid, k), f"latent walk, G at step {ck_step}"))
        return frames, ck_step
    walkers = min(8, len(noise))
    if noise_dim == 1:  # a 1-D latent: sweep it from -3 to 3 and back
        sweep = np.concatenate([np.linspace(-3, 3, 24), np.linspace(3, -3, 24)[1:-1]])
        z = (sweep[:, None, None] + np.linspace(-0.5, 0.5, walkers)[None, :, None]).astype(np.float32)
    else:
        z = walk_latents(noise, walkers)
    pts = generate(z.reshape(-1, z.shape[-1])).reshape(z.shape[0], walkers, -1)
    cloud = generate(noise)
    ext, real = run.fixed.field_extent, run.real
    frames = []
    colours = [OKABE_ITO[c] for c in ("blue", "vermillion", "green", "purple", "sky", "yellow", "orange", "black")]
    for i, p in enumerate(pts):
        if run.kind == "toy2d":
            size = round(384 * (scale or 1))
            img = toy2d_frame(None, real, cloud, ext, size)
            trail = pts[max(0, i - 6) : i + 1]
            for w in range(walkers):
                px = to_pixels(trail[:, w], ext, size)
                draw_points(img, px[:-1], colours[w % len(colours)], 1.5)
                draw_points(img, px[-1:], colours[w % len(colours)], 5, outline=ROLE["real"])
        else:
            size2 = (round(480 * (scale or 1)), round(270 * (scale or 1)))
            img = toy1d_frame(real, cloud, None, ext, size2)
            xs = (p[:, 0] - ext[0]) / (ext[1] - ext[0]) * (size2[0] - 1)
            for w, x in enumerate(xs):
                if np.isfinite(x):
                    x0 = int(np.clip(x, 0, size2[0] - 2))
                    img[:, x0 : x0 + 2] = rgb(colours[w % len(colours)])
        where = f" z = {float(z[i, walkers // 2, 0]):+.1f}" if noise_dim == 1 else ""
        frames.append(caption(img, f"latent walk{where}, G at step {ck_step}"))
    return frames, ck_step


# -- the command ---------------------------------------------------------------------------------
def make_gifs(
    run: Run,
    out_dir: Path | None = None,
    *,
    fps: float = DEFAULT_FPS,
    scale: float | None = None,
    max_size: str | int | None = DEFAULT_MAX_SIZE,
    mp4: bool = False,
    progress: bool = True,
    results: list[GifResult] | None = None,
    load_g: LoadG | None = None,
) -> list[Path]:
    """Write progress.gif and interpolation.gif (and .mp4 twins with ``mp4``) into out_dir.

    interpolation.gif walks through the run's trained G, loaded by ``load_g`` (the command passes gan_train's); without
    it, or without a checkpoint, only progress.gif is made.

    Default out_dir: outputs/gifs/<run>/. ``scale`` zooms frames (default: digits x2, larger images x1,
    toys 384 px); ``results`` (a list) collects a GifResult per GIF, including size reductions.
    """
    if not (0 < fps <= 100):
        raise GifError(f"--fps {fps}: use a value between 0 and 100 (e.g. 10)")
    if scale is not None and not (0 < scale <= 16):
        raise GifError(f"--scale {scale}: use a value between 0 and 16 (e.g. 2)")
    parse_size(max_size)  # reject a bad --max-size before any work
    run.fixed  # noqa: B018  a damaged fixed.npz is refused before any work
    run.snapshot_steps()  # so is a run without a readable snapshot
    with output_folder(out_dir, "gifs", run, GifError) as folder:  # a refused or failed command leaves nothing
        return _make_gifs(
            run,
            folder,
            fps=fps,
            scale=scale,
            max_size=max_size,
            mp4=mp4,
            progress=progress,
            results=results,
            load_g=load_g,
        )


def _make_gifs(
    run: Run,
    out_dir: Path,
    *,
    fps: float,
    scale: float | None,
    max_size: str | int | None,
    mp4: bool,
    progress: bool,
    results: list[GifResult] | None,
    load_g: LoadG | None,
) -> list[Path]:
    """The encoding and writing half of ``make_gifs``, once every option is checked and out_dir exists."""
    written: list[Path] = []

    def emit(name: str, frames: list[np.ndarray]) -> None:
        res = encode_gif(frames, out_dir / f"{name}.gif", fps, max_size)
        written.append(res.path)
        if results is not None:
            results.append(res)
        if progress:
            for line in res.report():
                print(f"  {line}", file=sys.stderr)
        if mp4:
            written.append(write_mp4(frames, out_dir / f"{name}.mp4", fps))
            if progress:
                print(f"  {name}.mp4: {len(frames)} frames", file=sys.stderr)

    # the latent walk first: a damaged checkpoint is refused before any file is written or announced
    has_g = load_g is not None and (run.path / CHECKPOINT_FILE).is_file()
    walk = interpolation_frames(run, load_g, scale)[0] if has_g else None
    emit("progress", progress_frames(run, scale))
    if walk is not None:
        emit("interpolation", walk)
    else:  # said even with --quiet: a file the user may expect is missing
        why = f"has no {CHECKPOINT_FILE}" if load_g is not None else "was given no loader of its trained G (load_g)"
        print(
            f"note: {run.name} {why}: interpolation.gif (the latent walk through the trained G) skipped",
            file=sys.stderr,
        )
    return written
