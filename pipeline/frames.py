"""Raster frames drawn straight from snapshot arrays with numpy and Pillow (no matplotlib).

GIFs need hundreds of frames in about a second, so frames are composed as uint8 arrays here rather than
rendered through a plotting library; the publication plots reuse ``tile`` for their sample grids.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

#: Okabe & Ito's colour-blind-safe palette: the one palette of every plot and GIF.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
#: Which colour means what, everywhere: G and generated samples vs D and real samples.
ROLE = {"g": OKABE_ITO["blue"], "d": OKABE_ITO["vermillion"], "real": OKABE_ITO["black"], "fake": OKABE_ITO["orange"]}
FIELD_CMAP = "cividis"  # perceptually uniform and readable with every colour-vision deficiency


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def tile(images: np.ndarray, ncols: int | None = None, pad: int = 2, pad_value: int = 255) -> np.ndarray:
    """Lay out (N,H,W,C) uint8 images in a near-square grid with ``pad`` pixels between and around them."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    n, h, w, c = images.shape
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), pad_value, np.uint8)
    for i in range(n):
        r, q = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        out[y : y + h, x : x + w] = images[i]
    return out


def to_rgb(img: np.ndarray) -> np.ndarray:
    """Grayscale (H,W) or (H,W,1) -> (H,W,3); RGB passes through."""
    if img.ndim == 2:
        img = img[..., None]
    return np.repeat(img, 3, axis=2) if img.shape[2] == 1 else img[..., :3]


def upscale(img: np.ndarray, scale: float) -> np.ndarray:
    """Resize by ``scale``: integer factors repeat pixels (crisp digits), others go through Pillow."""
    if scale == 1:
        return img
    if float(scale).is_integer() and scale > 1:
        k = int(scale)
        return np.repeat(np.repeat(img, k, axis=0), k, axis=1)
    h, w = img.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(img).resize(size, Image.Resampling.LANCZOS if scale < 1 else Image.NEAREST))


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one fixed-size bitmap font
        return ImageFont.load_default()


def caption(img: np.ndarray, text: str, height: int | None = None) -> np.ndarray:
    """Put a white band with ``text`` above an RGB frame (the step number on every GIF frame)."""
    h, w = img.shape[:2]
    height = height or max(14, min(40, w // 14))
    band = Image.new("RGB", (w, height), (255, 255, 255))
    ImageDraw.Draw(band).text((4, height // 2), text, fill=(0, 0, 0), font=_font(int(height * 0.7)), anchor="lm")
    return np.concatenate([np.array(band), img], axis=0)


@lru_cache(maxsize=2)
def _lut(name: str) -> np.ndarray:
    from matplotlib import colormaps

    return (colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).round().astype(np.uint8)


def field_image(field: np.ndarray, size: int) -> np.ndarray:
    """D's score grid (row 0 = lowest y) as an RGB image of ``size`` x ``size``, top row = highest y."""
    idx = np.clip(np.nan_to_num(field, nan=0.5) * 255, 0, 255).astype(np.uint8)
    img = _lut(FIELD_CMAP)[idx[::-1]]
    return np.array(Image.fromarray(img).resize((size, size), Image.Resampling.BILINEAR))


def to_pixels(points: np.ndarray, extent: np.ndarray, size: int) -> np.ndarray:
    """Data coordinates -> pixel (x, y) in a ``size`` square showing ``extent`` = [xmin, xmax, ymin, ymax]."""
    x = (points[:, 0] - extent[0]) / (extent[1] - extent[0]) * (size - 1)
    y = (extent[3] - points[:, 1]) / (extent[3] - extent[2]) * (size - 1)
    return np.stack([x, y], axis=1)


def draw_points(img: np.ndarray, pts: np.ndarray, colour: str, radius: float, outline: str | None = None) -> None:
    """Draw dots in place (points outside the frame are clipped by Pillow)."""
    pil = Image.fromarray(img)
    draw = ImageDraw.Draw(pil)
    fill, edge = rgb(colour), rgb(outline) if outline else None
    for x, y in pts[np.isfinite(pts).all(axis=1)]:
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill, outline=edge)
    img[...] = np.array(pil)


def toy2d_frame(
    field: np.ndarray | None, real: np.ndarray, fake: np.ndarray, extent: np.ndarray, size: int = 384
) -> np.ndarray:
    """The 2-D toy at one step: D's field behind, real points (black) and generated points (orange)."""
    img = field_image(field, size) if field is not None else np.full((size, size, 3), 255, np.uint8)
    r = max(1.0, size / 256)
    draw_points(img, to_pixels(real, extent, size), ROLE["real"], r)
    draw_points(img, to_pixels(fake, extent, size), ROLE["fake"], r + 0.5, outline=OKABE_ITO["black"])
    return img


def hist_density(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Histogram normalised by *all* samples, so mass that G puts outside the window shows as missing.

    (numpy's density=True renormalises within the window, and divides by zero when nothing falls in it.)
    """
    x = x[np.isfinite(x)]
    counts, _ = np.histogram(x, edges)
    return counts / max(1, len(x)) / np.diff(edges)


def toy1d_frame(
    real: np.ndarray,
    fake: np.ndarray,
    field: np.ndarray | None,
    extent: np.ndarray,
    size: tuple[int, int] = (480, 270),
    bins: int = 48,
) -> np.ndarray:
    """The 1-D toy at one step: real (grey) and generated (orange) histograms, D's score as a blue line."""
    w, h = size
    pil = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(pil)
    edges = np.linspace(extent[0], extent[1], bins + 1)
    hr, hf = hist_density(real.ravel(), edges), hist_density(fake.ravel(), edges)
    top = max(hr.max(initial=0), hf.max(initial=0), 1e-9) * 1.1
    bw = w / bins
    for i in range(bins):
        x0 = i * bw
        draw.rectangle((x0, h - 1 - hr[i] / top * (h - 10), x0 + bw - 1, h - 1), fill=(200, 200, 200))
    for i in range(bins):
        x0 = i * bw
        y = h - 1 - hf[i] / top * (h - 10)
        draw.rectangle((x0 + bw * 0.25, y, x0 + bw * 0.75, h - 1), fill=rgb(ROLE["fake"]))
    if field is not None and len(field):
        xs = np.linspace(0, w - 1, len(field))
        ys = h - 1 - np.clip(np.nan_to_num(field, nan=0.5), 0, 1) * (h - 10)
        draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=rgb(OKABE_ITO["blue"]), width=2)
        draw.line((0, h - 1 - 0.5 * (h - 10), w, h - 1 - 0.5 * (h - 10)), fill=(120, 120, 120), width=1)
    return np.array(pil)
