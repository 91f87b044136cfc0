"""`ganviz lecture`, tried as a teacher would: the deck from designed runs (tests/designed.py), nothing trained, at
160x90 and 5 fps. The HTML deck opens in headless Chromium from file:// with every other request blocked, the
PowerPoint file reads back with python-pptx, and the MP4 decodes end to end. The full lecture's time is a benchmark
(benchmarks/lecture_time.py), not a test."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_errors import one_line_error
from click.testing import CliRunner
from designed import collapse, cover, make_designed_run
from PIL import Image

from pipeline.cli import main
from pipeline.deck import Deck, Slide, media_name, reveal_dir, write_html
from pipeline.lecture import LESSONS, needed_runs, readouts, run_lecture
from pipeline.render import RenderOptions
from pipeline.slides import read_acts
from pipeline.video import VideoFrames

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TINY = RenderOptions(progress=False, pixel_width=160, frame_rate=5)
LESSONS_TRIED = ("noise", "collapse", "curves")

needs_reveal = pytest.mark.skipif(
    not (reveal_dir() / "dist" / "reveal.js").is_file(), reason=f"reveal.js not installed in {reveal_dir()}: make setup"
)


@pytest.fixture(scope="module")
def lecture(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Three lessons from designed runs: noise to image; mode collapse, covering against collapsing; the loss curves
    of the collapsing run."""
    if not (reveal_dir() / "dist" / "reveal.js").is_file():
        pytest.skip(f"reveal.js not installed in {reveal_dir()}: run make setup")
    base = tmp_path_factory.mktemp("lecture")
    image = make_designed_run(base / "digits", "image")
    covering = make_designed_run(base / "covering", "toy2d", n=64, modes=cover)
    collapsing = make_designed_run(base / "collapsing", "toy2d", n=64, modes=collapse, loss="bce", seed=1)
    res = run_lecture(
        size="small",
        runs={"noise": image, "collapse": covering, "curves": collapsing},
        compares={"collapse": collapsing},
        out=base / "deck",
        root=base / "runs",
        options=TINY,
        lessons=LESSONS_TRIED,
        echo=lambda line: None,
    )
    return {
        "res": res,
        "base": base,
        "runs": {"noise": image, "collapse": covering, "curves": collapsing},
        "collapsing": collapsing,
    }


def expected_slides(folder: Path) -> tuple[int, list]:
    """title + per lesson (question, acts, what it showed) + summary; and the acts in order."""
    acts = [a for key in LESSONS_TRIED for a in read_acts(folder / "acts" / key)]
    return 1 + 2 * len(LESSONS_TRIED) + len(acts) + 1, acts


@pytest.mark.xdist_group("lecture")
def test_nothing_is_trained_when_every_lesson_has_its_runs(lecture: dict) -> None:
    res = lecture["res"]
    assert res.trained == [] and not (lecture["base"] / "runs").exists()
    count, acts = expected_slides(res.folder)
    assert res.slides == count and len(acts) == 9  # morph, mode_collapse, training_curves: 3 acts each


@pytest.mark.xdist_group("lecture")
def test_pptx_has_each_act_as_a_movie_and_the_runs_numbers_in_its_notes(lecture: dict) -> None:
    from pptx import Presentation

    res = lecture["res"]
    count, acts = expected_slides(res.folder)
    prs = Presentation(str(res.files["pptx"]))
    slides = list(prs.slides)
    assert len(slides) == count
    movies = []
    for slide in slides:
        media = [s for s in slide.shapes if s.shape_type is not None and s.shape_type == 16]  # MSO_SHAPE_TYPE.MEDIA
        assert len(media) <= 1
        movies += media
        if media:  # the movie and its poster frame are in the package
            rels = {r.reltype.rsplit("/", 1)[-1] for r in slide.part.rels.values()}
            assert {"video", "media", "image"} <= rels, rels
    assert len(movies) == len(acts)
    notes = [s.notes_slide.notes_text_frame.text for s in slides]
    said = "\n".join(notes)
    for act in acts:  # every finding of every act, its numbers as the screen printed them, is in the notes
        for finding in act.findings:
            assert finding in said, finding
    # the loss curves lesson closes with what the mode collapse lesson's scene printed about the same run
    contrast = read_acts(res.folder / "acts" / "collapse")[-1].findings[-1]
    assert "of 8 modes" in contrast
    curves = [f for act in read_acts(res.folder / "acts" / "curves") for f in act.findings]
    curves_end = next(n for n in notes if "The same run" in n)
    assert curves_end.splitlines() == [*dict.fromkeys(curves), f"The same run in the mode collapse lesson: {contrast}"]
    assert notes[-1].count("\n") == len(LESSONS_TRIED) - 1  # the summary: one line per lesson


@pytest.mark.xdist_group("lecture")
def test_mp4_decodes_end_to_end_with_title_cards(lecture: dict) -> None:
    from pipeline.deck import CARD_SECONDS

    res = lecture["res"]
    count, acts = expected_slides(res.folder)
    clip = VideoFrames(res.files["mp4"])
    cards = count - len(acts)
    frames = sum(len(VideoFrames(a.video)) for a in acts) + cards * round(CARD_SECONDS * 5)
    assert clip.size == (160, 90) and clip.fps == 5
    assert len(clip) == frames
    decoded = sum(1 for _ in clip)  # every frame decodes
    assert decoded == frames
    first = next(iter(clip))
    assert first.max() > 150  # the title card's words are on it


@pytest.mark.xdist_group("lecture")
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh installs it)")
def test_html_deck_presents_offline_in_chromium(lecture: dict, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    res = lecture["res"]
    count, acts = expected_slides(res.folder)
    asked: list[str] = []

    def only_files(route) -> None:  # noqa: ANN001
        asked.append(route.request.url)
        route.continue_() if route.request.url.startswith("file://") else route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page(viewport={"width": 640, "height": 360})
            page.context.route("**/*", only_files)  # the speaker view's window too
            page.goto(res.files["html"].resolve().as_uri())
            page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=15000)
            assert page.evaluate("Reveal.getTotalSlides()") == count
            assert "Generative adversarial networks" in page.inner_text(".present")
            page.keyboard.press("ArrowRight")  # the first lesson's question
            page.keyboard.press("ArrowRight")  # its first act: the video plays by itself
            page.wait_for_function("Reveal.getIndices().h === 2")
            video = ".present video"
            page.wait_for_function(f"document.querySelector('{video}').currentTime > 0.4", timeout=15000)
            assert page.evaluate(f"document.querySelector('{video}').getAttribute('src')") == (
                f"media/{media_name(1, acts[0].video)}"
            )
            # the act's last frame on screen is the scene's: compare the page with the act's poster
            page.evaluate(
                f"(() => {{ const v = document.querySelector('{video}'); v.pause(); v.currentTime = v.duration; }})()"
            )
            page.wait_for_function(f"document.querySelector('{video}').seeking === false")
            shot = tmp_path / "slide.png"
            page.screenshot(path=str(shot))
            notes = page.evaluate("Array.from(document.querySelectorAll('.present aside.notes p'), p => p.textContent)")
            with page.expect_popup() as opened:  # S: reveal's speaker view, with this slide's notes
                page.keyboard.press("s")
            speaker = opened.value
            value = ".speaker-controls-notes .value"
            speaker.wait_for_function(f"(document.querySelector('{value}') || {{}}).textContent", timeout=15000)
            speaker_notes = speaker.inner_text(value)
        finally:
            browser.close()
    assert [u for u in asked if not u.startswith("file://")] == []
    # the speaker notes: the act's captions, word for word, then its counters as its last frame shows them
    assert notes[: len(acts[0].captions)] == list(acts[0].captions)
    assert notes[len(acts[0].captions) :] == [readouts(acts[0])]
    assert readouts(acts[0]).startswith("On screen: step 0")
    assert [line for line in speaker_notes.splitlines() if line.strip()] == notes
    poster_file = res.folder / "media" / Path(media_name(1, acts[0].video)).with_suffix(".png")
    poster = np.asarray(Image.open(poster_file).convert("L").resize((640, 360)))
    page_px = np.asarray(Image.open(shot).convert("L"))
    assert np.corrcoef(poster.ravel(), page_px.ravel())[0, 1] > 0.8


def test_lessons_train_only_the_runs_no_one_gave(tmp_path: Path) -> None:
    assert needed_runs({}, {}) == ["digits", "minimax", "toy", "toy-bce"]
    mine = {lesson.key: tmp_path for lesson in LESSONS}
    assert needed_runs(mine, {}) == ["digits", "toy-bce"]  # the compared runs of gradients and collapse
    assert needed_runs(mine, {"gradients": tmp_path, "collapse": tmp_path}) == []


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--run", "game"], ["--run game", "LESSON=RUN_FOLDER"]),
        (["--run", "chess=x"], ["unknown lesson 'chess'", "game, noise"]),
        (["--compare", "noise=RUN"], ["--compare noise=", "draws one run"]),
        (["--lessons", "game,chess"], ["--lessons game,chess", "choose from"]),
        (["--width", "wide"], ["--width wide", "whole number"]),
        (["--run", "collapse=RUN"], ["--run collapse=", "quality measures"]),
    ],
)
def test_bad_options_are_one_line(tmp_path: Path, args: list[str], needles: list[str], designed_image: Path) -> None:
    args = [a.replace("RUN", str(designed_image)) for a in args]
    res = CliRunner().invoke(main, ["lecture", "--root", str(tmp_path / "runs"), "-o", str(tmp_path / "d"), *args])
    one_line_error(res, *needles)
    assert not (tmp_path / "runs").exists()


def test_without_reveal_js_it_says_run_make_setup_before_training(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("GANVIZ_REVEAL_DIR", str(tmp_path / "none"))
    res = CliRunner().invoke(main, ["lecture", "--size", "small", "--root", str(tmp_path / "runs")])
    one_line_error(res, "reveal.js is not installed", "make setup")
    assert not (tmp_path / "runs").exists()


@pytest.mark.xdist_group("lecture")
def test_a_second_call_renders_nothing_it_has(lecture: dict) -> None:
    res = lecture["res"]
    acts = [a for key in LESSONS_TRIED for a in read_acts(res.folder / "acts" / key)]
    videos = {a.video: a.video.stat().st_mtime_ns for a in acts}
    again = run_lecture(
        size="small",
        runs=lecture["runs"],
        compares={"collapse": lecture["collapsing"]},
        out=res.folder,
        root=lecture["base"] / "runs",
        options=TINY,
        lessons=LESSONS_TRIED,
        echo=lambda line: None,
    )
    assert again.trained == [] and again.slides == res.slides
    assert {v: v.stat().st_mtime_ns for v in videos} == videos


def test_finished_lecture_runs_are_reused_not_trained(tmp_path: Path) -> None:
    from pipeline.lecture import run_folder, train_runs

    made = make_designed_run(run_folder(tmp_path, "toy", "small"), "toy2d", n=16, modes=cover)
    lines: list[str] = []
    found, trained = train_runs(["toy"], tmp_path, "small", echo=lines.append)
    assert found == {"toy": made} and trained == [] and lines == [f"lecture: run 1/1, {made} (reused)"]


@pytest.mark.xdist_group("lecture")
def test_two_lessons_of_one_scene_keep_their_own_videos(lecture: dict, tmp_path: Path) -> None:
    """Two lessons may draw the same scene (the equilibrium and the loss curves: TrainingCurves), whose acts have the
    same file names: each slide plays its own video and shows its own poster."""
    acts = read_acts(lecture["res"].folder / "acts" / "noise")
    first, second = tmp_path / "a" / "Scene-01-act.mp4", tmp_path / "b" / "Scene-01-act.mp4"
    for act, copy in ((acts[0], first), (acts[-1], second)):
        copy.parent.mkdir()
        shutil.copyfile(act.video, copy)
    page = write_html(Deck("two", (Slide("one", video=first), Slide("two", video=second))), tmp_path / "deck")
    text = page.read_text(encoding="utf-8")
    media = tmp_path / "deck" / "media"
    for k, source in enumerate((first, second), 1):
        assert f'src="media/{media_name(k, source)}"' in text
        assert (media / media_name(k, source)).read_bytes() == source.read_bytes()
    pictures = [np.asarray(Image.open(p)) for p in sorted(media.glob("*.png"))]
    assert len(pictures) == 2 and not np.array_equal(*pictures)
