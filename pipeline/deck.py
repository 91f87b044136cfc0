"""A deck of slides, written three ways a teacher presents: an HTML deck (reveal.js) that opens from the file system
with no network, a PowerPoint file with each video embedded, and one MP4 for a video player.

A deck is cards (a heading and a few lines: the title, a lesson's question, the closing summary) and videos (a
scene's acts, pipeline/slides.py), each with speaker notes. reveal.js is not part of this repository: scripts/setup.sh
downloads its release from the npm registry (checksum verified) into the virtual environment, and ``write_html``
copies the few files a deck needs beside it, so the deck folder is whole on its own (a USB stick, no network).
"""

from __future__ import annotations

import html
import os
import shutil
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ganviz.errors import GanvizError
from pipeline.video import FASTSTART, VideoFrames, contact_sheet

#: the scenes' background, so cards and videos read as one deck
BACKGROUND = "#101018"
TEXT = "#ECECEC"
MUTED = "#A0A0AA"
#: reveal.js files a deck uses, relative to the installed release (scripts/setup.sh: $VENV/share/ganviz/reveal.js)
REVEAL_FILES = (
    "LICENSE",
    "dist/reset.css",
    "dist/reveal.css",
    "dist/reveal.js",
    "dist/theme/black.css",
    "dist/theme/fonts/source-sans-pro",
    "plugin/notes/notes.js",
)
CARD_SECONDS = 4.0  # how long the MP4 holds a card
DECK_SIZE = (1280, 720)  # the HTML deck's and the PowerPoint slide's logical size (16:9)


class DeckError(GanvizError):
    """A deck that cannot be written (reveal.js not installed, a video missing)."""


@dataclass(frozen=True)
class Slide:
    """A card (``video`` None: ``title`` over ``lines``) or a video (``title`` names it), with speaker notes."""

    title: str
    lines: tuple[str, ...] = ()
    video: Path | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deck:
    title: str
    slides: tuple[Slide, ...]

    @property
    def videos(self) -> list[Path]:
        return [s.video for s in self.slides if s.video is not None]


def reveal_dir() -> Path:
    """Where scripts/setup.sh installed reveal.js: ``$GANVIZ_REVEAL_DIR``, else ``<venv>/share/ganviz/reveal.js``."""
    return Path(os.environ.get("GANVIZ_REVEAL_DIR") or Path(sys.prefix) / "share" / "ganviz" / "reveal.js")


def _copy_reveal(dest: Path) -> None:
    source = reveal_dir()
    missing = [f for f in REVEAL_FILES if not (source / f).exists()]
    if missing:
        raise DeckError(f"{source}: reveal.js is not installed (no {missing[0]}); run `make setup` to install it")
    for name in REVEAL_FILES:
        src, dst = source / name, dest / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copyfile(src, dst)


def media_name(k: int, video: Path) -> str:
    """The name of the deck's ``k``-th video in its media folder: two lessons may draw the same scene, whose acts
    have the same file names in their own folders."""
    return f"{k:02d}-{video.name}"


def posters(deck: Deck, media: Path) -> dict[Path, Path]:
    """A poster for each video: its last frame (where the act has said what it says), as
    ``media/<nn>-<video>.png``."""
    out = {}
    for k, video in enumerate(deck.videos, 1):
        clip = VideoFrames(video)
        (frame,) = clip.pick([len(clip) - 1])
        out[video] = media / Path(media_name(k, video)).with_suffix(".png")
        Image.fromarray(frame).save(out[video])
    return out


# -- HTML (reveal.js) -----------------------------------------------------------------------------------------------
def _section(slide: Slide, video: str | None, poster: str | None) -> str:
    notes = "".join(f"<p>{html.escape(n)}</p>" for n in slide.notes)
    aside = f'<aside class="notes">{notes}</aside>' if notes else ""
    if slide.video is None:
        lines = "".join(f"<p>{html.escape(line)}</p>" for line in slide.lines)
        long = ' class="long"' if long_card(slide) else ""
        return f"<section{long}><h2>{html.escape(slide.title)}</h2>{lines}{aside}</section>"
    return (
        f'<section data-title="{html.escape(slide.title)}">'
        f'<video data-autoplay muted playsinline preload="auto" src="{video}" poster="{poster}"'
        f' width="{DECK_SIZE[0]}" height="{DECK_SIZE[1]}"></video>{aside}</section>'
    )


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="reveal/dist/reset.css">
<link rel="stylesheet" href="reveal/dist/reveal.css">
<link rel="stylesheet" href="reveal/dist/theme/black.css">
<style>
.reveal-viewport {{ background: {background}; }}
.reveal h2 {{ color: {text}; text-transform: none; font-size: 64px; }}
.reveal p {{ color: {muted}; font-size: 34px; }}
.reveal section.long h2 {{ font-size: 44px; }}
.reveal section.long p {{ font-size: 21px; text-align: left; margin: 6px 60px; }}
.reveal video {{ display: block; margin: 0; max-width: 100%; max-height: 100%; }}
</style>
</head>
<body>
<div class="reveal"><div class="slides">
{sections}
</div></div>
<script src="reveal/dist/reveal.js"></script>
<script src="reveal/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({{ width: {width}, height: {height}, margin: 0, hash: true, center: true,
  controls: true, progress: true, slideNumber: "c/t", transition: "none", plugins: [RevealNotes] }});
</script>
</body>
</html>
"""


def write_html(deck: Deck, folder: Path, shown: dict[Path, Path] | None = None) -> Path:
    """``folder/index.html`` with ``folder/media/`` (the videos and their posters: ``shown``, else made) and
    ``folder/reveal/``: arrow keys move, S opens the speaker view with the notes, each video plays when its slide
    opens."""
    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    _copy_reveal(folder / "reveal")
    shown = shown or posters(deck, media)
    sections = []
    k = 0
    for slide in deck.slides:
        video = poster = None
        if slide.video is not None:
            k += 1
            video, poster = f"media/{media_name(k, slide.video)}", f"media/{shown[slide.video].name}"
            shutil.copyfile(slide.video, folder / video)
            if shown[slide.video].parent.resolve() != media.resolve():
                shutil.copyfile(shown[slide.video], folder / poster)
        sections.append(_section(slide, video, poster))
    page = PAGE.format(
        title=html.escape(deck.title),
        sections="\n".join(sections),
        background=BACKGROUND,
        text=TEXT,
        muted=MUTED,
        width=DECK_SIZE[0],
        height=DECK_SIZE[1],
    )
    index = folder / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


# -- PowerPoint -----------------------------------------------------------------------------------------------------
def write_pptx(deck: Deck, path: Path, shown: dict[Path, Path]) -> Path:
    """A 16:9 PowerPoint file: a card is text on the scenes' background, a video slide is the act's MP4 embedded as a
    movie over the whole slide (its poster ``shown[video]``: the act's last frame, see ``posters``); every slide
    carries its notes. PowerPoint, Keynote and Impress play a movie when it is clicked."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Emu, Pt

    prs = Presentation()
    prs.slide_width, prs.slide_height = Emu(12192000), Emu(6858000)  # 13.333 x 7.5 in
    blank = prs.slide_layouts[6]
    for slide in deck.slides:
        page = prs.slides.add_slide(blank)
        page.background.fill.solid()
        page.background.fill.fore_color.rgb = RGBColor.from_string(BACKGROUND[1:])
        if slide.video is not None:
            movie = page.shapes.add_movie(
                str(slide.video), 0, 0, prs.slide_width, prs.slide_height,
                poster_frame_image=str(shown[slide.video]), mime_type="video/mp4",
            )  # fmt: skip
            movie.name = slide.title
        else:
            width = prs.slide_width - Emu(1828800)
            box = page.shapes.add_textbox(Emu(914400), Emu(1600000), width, prs.slide_height - Emu(2400000))
            frame = box.text_frame
            frame.word_wrap = True
            for k, (words, size, colour) in enumerate(
                [(slide.title, 40, TEXT), *((line, 14 if long_card(slide) else 22, MUTED) for line in slide.lines)]
            ):
                para = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
                para.text = words
                para.font.size, para.font.color.rgb = Pt(size), RGBColor.from_string(colour[1:])
                para.space_after = Pt(12)
        page.notes_slide.notes_text_frame.text = "\n".join(slide.notes)
    prs.save(str(path))
    return path


# -- one MP4 --------------------------------------------------------------------------------------------------------
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from matplotlib import font_manager

    try:
        return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)
    except OSError:
        return ImageFont.load_default(size=size)


def long_card(slide: Slide) -> bool:
    """A card with more to read than a question (the summary of the numbers): set smaller everywhere."""
    return sum(len(line) for line in slide.lines) > 240


def card_image(slide: Slide, size: tuple[int, int]) -> np.ndarray:
    """A card as an RGB frame of ``size``: its heading and lines, wrapped, on the scenes' background."""
    w, h = size
    img = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(img)
    long = long_card(slide)
    big, small = _font(max(8, h // (16 if long else 12))), _font(max(6, h // (34 if long else 22)))
    y = h * (0.1 if long else 0.2)
    chars = 95 if long else 60
    for words, font, colour, n in [(slide.title, big, TEXT, 36), *((li, small, MUTED, chars) for li in slide.lines)]:
        for line in textwrap.wrap(words, n) or [""]:
            draw.text((w * 0.07, y), line, fill=colour, font=font)
            y += font.size * 1.3
        y += font.size * 0.4
    return np.asarray(img)


def write_mp4(deck: Deck, path: Path, *, fps: float | None = None, size: tuple[int, int] | None = None) -> Path:
    """The whole deck as one H.264 MP4 (index first): each card held ``CARD_SECONDS``, each video as it is (scaled
    to the first video's size and frame rate where another differs)."""
    import av

    clips = [VideoFrames(v) for v in deck.videos]
    size = size or (clips[0].size if clips else DECK_SIZE)
    fps = fps or (clips[0].fps if clips else 15.0)
    rate = round(fps) if abs(fps - round(fps)) < 1e-6 else fps
    with av.open(str(path), "w", format="mp4", options=FASTSTART) as out:
        stream = out.add_stream("libx264", rate=rate, options={"crf": "23", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"

        def put(rgb: np.ndarray) -> None:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            for packet in stream.encode(frame.reformat(size[0], size[1], format="yuv420p")):
                out.mux(packet)

        for slide in deck.slides:
            if slide.video is None:
                card = card_image(slide, size)
                for _ in range(int(round(CARD_SECONDS * fps))):
                    put(card)
            else:
                for frame in VideoFrames(slide.video, width=size[0]):
                    put(frame)
        for packet in stream.encode():
            out.mux(packet)
    return path


def write_sheet(deck: Deck, shown: dict[Path, Path], path: Path, columns: int = 6, width: int = 320) -> Path:
    """A contact sheet of the deck: every slide, a card as the MP4 shows it, a video by its poster, numbered."""
    frames = []
    for slide in deck.slides:
        if slide.video is None:
            frames.append(card_image(slide, (width, width * 9 // 16)))
        else:
            frames.append(np.asarray(Image.open(shown[slide.video]).convert("RGB").resize((width, width * 9 // 16))))
    labels = [f"{k}. {s.title}" for k, s in enumerate(deck.slides, 1)]
    contact_sheet(frames, labels, columns, width).save(path)
    return path


def write_deck(deck: Deck, folder: Path) -> dict[str, Path]:
    """All three forms into ``folder``: index.html (with media/ and reveal/), lecture.pptx and lecture.mp4; and
    slides.png, a contact sheet of the slides."""
    missing = [v for v in deck.videos if not v.is_file()]
    if missing:
        raise DeckError(f"{missing[0]}: video not found; render the lesson again")
    (folder / "media").mkdir(parents=True, exist_ok=True)
    shown = posters(deck, folder / "media")
    html_path = write_html(deck, folder, shown)
    return {
        "html": html_path,
        "pptx": write_pptx(deck, folder / "lecture.pptx", shown),
        "mp4": write_mp4(deck, folder / "lecture.mp4"),
        "sheet": write_sheet(deck, shown, folder / "slides.png"),
    }
