"""`ganviz demo` end to end on tiny settings: both runs trained, and plots, GIFs, scenes and README images
made from them."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from pipeline.cli import main
from pipeline.demo import DemoResult, run_demo, write_assets
from pipeline.run import Run

TINY = {
    "device": "cpu",
    "ngf": 8,
    "ndf": 8,
    "batch_size": 16,
    "snapshot_every": 5,
    "n_fixed": 16,
    "toy_fixed": 128,
    "field_resolution": 24,
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: pytest.MonkeyPatch):
    work = tmp_path_factory.mktemp("demo")
    monkeypatch_module.chdir(work)  # plots, GIFs and videos go to ./outputs by default
    res = run_demo(
        work / "outputs" / "runs",
        digits_steps=20,
        toy_steps=20,
        progress=False,
        echo=lambda s: None,
        overrides=TINY,
        render_size=(160, 5),
    )
    return work, res


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


pytestmark = pytest.mark.xdist_group("demo")


def test_demo_trains_both_runs(demo):
    _, res = demo
    digits, toy = Run.load(res.digits), Run.load(res.toy)
    assert (digits.variant, toy.variant) == ("dcgan-digits", "toy-8gaussians")
    assert digits.status == toy.status == "finished" and toy.kind == "toy2d"
    assert toy.evals.measures == ["sliced_w1", "modes_captured", "high_quality"]  # what docs/mode-collapse.md reads
    assert digits.metrics["step"].tolist() == list(range(1, 21))
    assert digits.steps[0] == 0 and digits.steps[-1] == 20


def test_demo_outputs_land_under_outputs(demo):
    work, res = demo
    for group in ("plots", "gifs", "videos"):
        files = res.files[group]
        assert files, group
        for f in files:
            assert f.is_file() and f.stat().st_size > 0
            assert (work / "outputs") in f.resolve().parents
    names = {p.name for p in res.files["videos"]}
    # every built-in scene, the 2-D one from the toy run; mode_collapse from the digits run's class histograms
    assert names == {
        "NoiseToImage.mp4",
        "CounterfeiterAndPolice.mp4",
        "GradientFlow.mp4",
        "DecisionField.mp4",
        "TrainingCurves.mp4",
        "ModeCollapse.mp4",
    }
    field = next(p for p in res.files["videos"] if p.name == "DecisionField.mp4")
    assert res.toy.name in str(field)
    plots = {p.name for p in res.files["plots"]}
    assert {"samples.png", "toy2d_field.png", "scores.pdf", "losses.svg"} <= plots
    with av.open(str(next(p for p in res.files["videos"] if p.name == "NoiseToImage.mp4"))) as box:
        s = box.streams.video[0]
        assert s.codec_context.name == "h264" and s.codec_context.pix_fmt == "yuv420p"


def test_readme_assets_come_from_the_runs_given(designed_image: Path, tmp_path: Path):
    """write_assets on designed runs (known content, so 'the GIF moves' does not hang on what 20 training steps
    learned) and videos rendered from them: names, formats, and each asset shows its run or its videos."""
    from designed import make_designed_run
    from test_scenes import region

    from pipeline.frames import caption
    from pipeline.render import builtin_scene_path, render_file
    from pipeline.video import still_indices
    from scenes import distribution

    toy = make_designed_run(tmp_path / "toy", "toy2d", n=64, total_steps=60, snapshot_every=20)
    tiny = {"out": tmp_path / "videos", "progress": False, "pixel_width": 160, "frame_rate": 5}
    videos = [
        *render_file(builtin_scene_path("distribution"), Run.load(toy), **tiny),
        *render_file(builtin_scene_path("morph"), Run.load(toy), **tiny),
    ]
    res = DemoResult(designed_image, toy, files={"videos": videos})
    files = write_assets(res, tmp_path / "img", scene_width=160, scene_fps=5)
    names = ["samples-early-late.png", "scores.png", "progress.gif", "distribution.gif", "scenes.png"]
    assert [f.name for f in files] == names
    with Image.open(files[0]) as im:
        assert im.width > im.height  # two grids side by side: start and end
    with Image.open(files[2]) as gif:
        assert gif.n_frames == len(Run.load(designed_image).steps) and gif.info.get("loop") == 0
    gif = Image.open(files[3])
    assert gif.info.get("loop") == 0 and gif.n_frames > 10 and gif.width == 160
    frames = []
    for i in range(gif.n_frames):
        gif.seek(i)
        frames.append(np.asarray(gif.convert("RGB"), dtype=np.int16))
    # 'moves': once drawn, D's field and the points keep changing (frame 0 is the empty background)
    box = [region(f, distribution.BOX_CENTER, distribution.BOX_SIZE, distribution.BOX_SIZE) for f in frames]
    second = box[len(box) // 2 :]
    assert max(np.abs(second[0] - b).mean() for b in second[1:]) > 5
    # the contact sheet: a row per video of 4 stills spread over it (the last is its last frame), each labelled
    sheet = np.asarray(Image.open(files[4]).convert("RGB"))
    for row, video in enumerate(videos):
        with av.open(str(video)) as box_:
            decoded = [f.to_ndarray(format="rgb24") for f in box_.decode(video=0)]
        for k, i in enumerate(still_indices(len(decoded), 4)):
            cell = caption(decoded[i], f"{video.stem}, {i / 5:.1f} s")
            h, w = cell.shape[:2]
            y, x = 8 + row * (h + 8), 8 + k * (w + 8)
            np.testing.assert_array_equal(sheet[y : y + h, x : x + w], cell)
    assert sheet.shape[0] == 8 + 2 * (h + 8)


def test_readme_assets_need_the_scenes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """--assets with --no-scenes is refused before anything is trained; write_assets says why without videos."""
    from pipeline.errors import GanvizError

    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["demo", "--no-scenes", "--assets", "img", "--quiet"])
    assert r.exit_code == 1 and r.output.strip() == (
        "error: --assets img: its contact sheet and GIF show the scenes; drop --no-scenes"
    )
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(GanvizError, match="the demo rendered no scenes"):
        write_assets(DemoResult(tmp_path / "d", tmp_path / "r"), tmp_path / "img")
    assert list(tmp_path.iterdir()) == []


def test_cli_demo_without_scenes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
    r = CliRunner().invoke(main, ["demo", "--steps", "10", "--toy-steps", "10", "--no-scenes", "--quiet", *sets])
    assert r.exit_code == 0, r.output
    assert "scenes skipped" in r.output
    assert (tmp_path / "outputs" / "runs" / "demo-dcgan-digits" / "run.json").is_file()
    assert (tmp_path / "outputs" / "plots" / "demo-toy-8gaussians" / "toy2d_field.png").is_file()


def test_cli_demo_bad_option_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["demo", "--steps", "10", "--set", "no_such_field=1", "--quiet"])
    assert r.exit_code != 0
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "no_such_field" in lines[0]


def test_cli_demo_out_puts_everything_there_and_a_second_demo_writes_beside(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
    args = ["demo", "--steps", "5", "--toy-steps", "5", "--no-scenes", "--quiet", *sets]
    for _ in range(2):
        r = CliRunner().invoke(main, [*args, "-o", "elsewhere"])
        assert r.exit_code == 0, r.output
    out = tmp_path / "elsewhere"
    for name in ("demo-dcgan-digits", "demo-dcgan-digits-2", "demo-toy-8gaussians", "demo-toy-8gaussians-2"):
        assert (out / "runs" / name / "run.json").is_file(), name
    assert (out / "plots" / "demo-dcgan-digits-2" / "samples.png").is_file()
    assert (out / "gifs" / "demo-toy-8gaussians-2" / "progress.gif").is_file()
    assert "elsewhere/plots/demo-dcgan-digits-2" in r.output  # it says where the second demo's files went
    assert not (tmp_path / "outputs").exists()  # nothing under ./outputs


def test_cli_demo_older_root_option_puts_outputs_beside_the_runs(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
    r = CliRunner().invoke(
        main, ["demo", "--steps", "5", "--toy-steps", "5", "--no-scenes", "--quiet", *sets, "--root", "mine/runs"]
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "mine" / "runs" / "demo-toy-8gaussians" / "run.json").is_file()
    assert (tmp_path / "mine" / "plots" / "demo-toy-8gaussians" / "toy2d_field.png").is_file()
    assert not (tmp_path / "outputs").exists()
    r = CliRunner().invoke(main, ["demo", "--root", "a", "-o", "b", "--no-scenes", "--quiet"])
    assert r.exit_code != 0 and r.stderr.startswith("error: --root is the older way")
