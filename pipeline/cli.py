"""The `ganviz` command. Every user-facing failure is one line on stderr and a non-zero exit."""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ganviz.errors import GanvizError

OWN_PROCESS = False
"""True when the `ganviz` command owns the process (ganviz/__main__.py sets it), not a library caller or a test."""


@contextlib.contextmanager
def no_collection() -> Any:
    """Import torch without the garbage collector. The import makes ~190,000 objects, none of them garbage, and
    walking them is 0.2 s of a 2-core CPU's start-up (docs/speed.md). In the command's own process they are then
    frozen out of the collector's reach for good; a library caller's heap is left as it was."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if OWN_PROCESS:
            gc.freeze()
        if was:
            gc.enable()


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn GanvizError (and Ctrl-C) into a one-line message instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GanvizError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            sys.exit(130)

    return wrapper


def _warn_one_line(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    click.echo(f"warning: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ganviz")
def main() -> None:
    """ganviz: train GANs and turn real training into scenes, GIFs and plots."""
    warnings.showwarning = _warn_one_line


@main.command()
def variants() -> None:
    """List the built-in GAN variants."""
    from gan_train.config import describe_variants

    rows = describe_variants()
    width = max(len(name) for name, _ in rows)
    for name, desc in rows:
        click.echo(f"{name:<{width}}  {desc}")


def parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key.strip():
            raise GanvizError(f"--set {v}: expected KEY=VALUE, e.g. --set lr_d=1e-4")
        out[key.strip()] = val
    return out


def config_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The Config fields marked ``option`` become options of `train` (``batch_size`` -> ``--batch-size``), with
    the field's own help: gan_train/config.py is the one description of every setting."""
    from typing import get_type_hints

    from gan_train.config import OPTIONS, Config

    hints = get_type_hints(Config)
    for f in reversed(OPTIONS):
        fn = click.option(f"--{f.name.replace('_', '-')}", f.name, type=hints[f.name], help=f.metadata["help"])(fn)
    return fn


@main.command()
@click.argument("variant", required=False)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override any config field.")
@config_options
@click.option(
    "-o", "--out", type=click.Path(path_type=Path), help="Run folder (default: outputs/runs/<variant>-<time>)."
)
@click.option("--name", help="Run name under outputs/runs.")
@click.option("--resume", type=click.Path(path_type=Path), help="Continue a run from its last checkpoint.")
@click.option("--compile", "compile_", is_flag=True, default=None, help="torch.compile G and D.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--nproc", type=click.IntRange(min=1), help="Data-parallel over N processes (relaunches via torchrun).")
@friendly
def train(
    variant: str | None,
    sets: tuple[str, ...],
    resume: Path | None,
    out: Path | None,
    name: str | None,
    quiet: bool,
    compile_: bool | None,
    nproc: int | None,
    **opts: Any,
) -> None:
    """Train VARIANT (see `ganviz variants`) and record a run folder."""
    from gan_train.config import resolve_config

    with no_collection():
        from gan_train.train import train as run_training

    overrides: dict[str, Any] = parse_sets(sets)
    typed = {k: v for k, v in opts.items() if v is not None}
    overrides.update(typed)
    flags = {k: f"--{k.replace('_', '-')}" for k in typed}  # errors name the option the user typed
    if compile_:
        overrides["compile"] = True
    if nproc is not None and nproc > 1:
        if resume is None and variant is not None:  # fail fast, before starting the processes
            cfg = resolve_config(variant, overrides, flags)
            if cfg.batch_size % nproc:
                raise GanvizError(f"--batch-size {cfg.batch_size}: must be a multiple of the {nproc} processes")
        sys.exit(relaunch_with_torchrun(click.get_current_context(), nproc))

    if resume is not None:
        from gan_train.train import NothingToResume

        if variant is not None:
            raise GanvizError("--resume continues a run with its own variant; drop the VARIANT argument")
        if out is not None or name is not None:
            raise GanvizError("--resume continues the run in its own folder; drop --out/--name")
        try:
            path = run_training(
                None,
                resume=resume,
                resume_overrides=overrides,
                progress=not quiet,  # type: ignore[arg-type]
                flags=flags,
            )
        except NothingToResume as e:
            click.echo(f"note: {e}", err=True)
            return
    else:
        if variant is None:
            raise GanvizError("missing VARIANT; 'ganviz variants' lists them (or use --resume RUN)")
        cfg = resolve_config(variant, overrides, flags)
        path = run_training(cfg, out=out, name=name, progress=not quiet)
    if int(os.environ.get("RANK", "0")) == 0:
        click.echo(f"run written to {path}")
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # A rank of a torchrun launch leaves without interpreter finalisation: destroying gloo's threads there
        # sometimes aborts a rank ('terminate called without an active exception', 1 in ~10 runs on a loaded
        # 2-core machine) after its work is done, and torchrun then reports the whole run as failed.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def relaunch_with_torchrun(ctx: click.Context, nproc: int) -> int:
    """Run this same `train` command in ``nproc`` processes under torch.distributed.run; returns its exit code.

    The arguments are rebuilt from the parsed options (minus --nproc), so what each rank sees is exactly
    what the user typed.
    """
    import subprocess

    if "WORLD_SIZE" in os.environ:
        raise GanvizError("--nproc inside a torchrun launch: drop --nproc (torchrun already started the processes)")
    args: list[str] = []
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if param.name == "nproc" or value is None or value is False or value == ():
            continue
        if isinstance(param, click.Argument):
            args.append(str(value))
        elif param.is_flag:
            args.append(param.opts[0])
        else:
            for v in value if param.multiple else (value,):
                args += [param.opts[0], str(v)]
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        "-m",
        "pipeline.cli",
        "train",
        *args,
    ]
    # the ranks report failures as one 'error: ...' line each; torchrun's own traceback goes to a log file
    seen: set[str] = set()
    log: list[str] = []
    try:
        with subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, bufsize=1) as proc:
            assert proc.stderr is not None
            for line in proc.stderr:
                if line.startswith(("error:", "warning:")):
                    if line not in seen:
                        seen.add(line)
                        click.echo(line.rstrip("\n"), err=True)
                else:
                    log.append(line)
            rc = proc.wait()
    except KeyboardInterrupt:
        return 130
    if rc != 0 and not any(line.startswith("error:") for line in seen):
        import tempfile

        with tempfile.NamedTemporaryFile("w", prefix="ganviz-torchrun-", suffix=".log", delete=False) as f:
            f.writelines(log)
        click.echo(f"error: training with --nproc {nproc} failed (exit code {rc}); torchrun's log: {f.name}", err=True)
    return rc


# --- plots and GIFs (pipeline/plots.py, pipeline/gifs.py) ---------------------------------------
# One convention across commands: the run is RUN (an argument) or --run, the output folder -o/--out.
def run_choice(fn: Callable[..., Any]) -> Callable[..., Any]:
    """RUN as an argument, or --run RUN (render's spelling): either works on every command that reads a run."""
    fn = click.option(
        "--run",
        "run_opt",
        type=click.Path(path_type=Path),
        metavar="RUN",
        help="The run folder (same as the RUN argument).",
    )(fn)
    return click.argument("run", required=False, type=click.Path(path_type=Path))(fn)


def _run_path(run: Path | None, run_opt: Path | None) -> Path | None:
    if run is not None and run_opt is not None and run != run_opt:
        raise GanvizError(f"two runs given ({run} and --run {run_opt}); give the run once")
    return run if run is not None else run_opt


def _open_run(run: Path | None) -> Any:
    """The run a command works on: the one named, else $GANVIZ_RUN, else the latest with data under outputs/runs
    (``current_run`` says which on stderr)."""
    from ganviz.reader import Run
    from pipeline.current import current_run

    return Run.load(run) if run is not None else current_run()


@main.command()
@run_choice
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Output folder (default: outputs/plots/<run>/).")
@click.option("--format", "formats", default="png,pdf,svg", show_default=True, help="Comma-separated: png,pdf,svg.")
@click.option(
    "--style",
    type=click.Choice(["paper", "slides"]),
    default="paper",
    show_default=True,
    help="paper: small print fonts; slides: big fonts and lines.",
)
@click.option("--dpi", type=int, default=200, show_default=True, help="Resolution of the PNGs.")
@click.option("--at", help="Snapshot steps for the sample figures, e.g. 0,1000,end (default: 5 evenly spaced).")
@click.option("--steps", "steps_alias", hidden=True, help="Older spelling of --at.")
@click.option("--log", is_flag=True, help="Log axis for the losses (symlog when a loss goes negative).")
@click.option("--quiet", is_flag=True, help="Only print where the plots went.")
@friendly
def plots(
    run: Path | None,
    run_opt: Path | None,
    out: Path | None,
    formats: str,
    style: str,
    dpi: int,
    at: str | None,
    steps_alias: str | None,
    log: bool,
    quiet: bool,
) -> None:
    """Publication plots of RUN (default: $GANVIZ_RUN, else the latest run): PNG plus vector PDF/SVG."""
    from pipeline.plots import make_plots

    if at is not None and steps_alias is not None:
        raise GanvizError("--steps is the older spelling of --at; give one of them")
    r = _open_run(_run_path(run, run_opt))
    paths = make_plots(
        r,
        out,
        formats=formats,
        style=style,
        dpi=dpi,
        steps=at or steps_alias,
        log=log,
        progress=not quiet,
        steps_flag="--steps" if steps_alias else "--at",
    )
    click.echo(f"{len(paths)} files written to {paths[0].parent if paths else out}")


@main.command()
@run_choice
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Output folder (default: outputs/gifs/<run>/).")
@click.option("--fps", type=float, default=10.0, show_default=True, help="Frames per second.")
@click.option("--scale", type=float, help="Zoom frames (default: small digits x2, larger images x1, toys 384 px).")
@click.option(
    "--max-size",
    default="5MB",
    show_default=True,
    help="Shrink palette, frames, then scale until each GIF fits; 0 for no limit.",
)
@click.option("--mp4", is_flag=True, help="Also write H.264 MP4s of the same frames.")
@click.option("--quiet", is_flag=True, help="Only print where the GIFs went (and a GIF that was skipped).")
@friendly
def gif(
    run: Path | None,
    run_opt: Path | None,
    out: Path | None,
    fps: float,
    scale: float | None,
    max_size: str,
    mp4: bool,
    quiet: bool,
) -> None:
    """Looping GIFs of RUN (default: $GANVIZ_RUN, else the latest run): progress, latent walk, MP4s with --mp4."""
    from gan_train.checkpoints import trained_generator
    from pipeline.gifs import make_gifs

    r = _open_run(_run_path(run, run_opt))
    paths = make_gifs(
        r, out, fps=fps, scale=scale, max_size=max_size, mp4=mp4, progress=not quiet, load_g=trained_generator
    )
    click.echo(f"{len(paths)} files written to {paths[0].parent if paths else out}")


@main.command(name="eval")
@run_choice
@click.option(
    "--space",
    type=click.Choice(["digits", "inception"]),
    help="Images: the feature space (default: the run's own; inception downloads its weights once).",
)
@click.option("--samples", type=click.IntRange(min=10), help="Generated and real samples to compare (default 1000).")
@click.option("--device", default="auto", show_default=True, help="auto (CUDA when present), cpu, cuda or cuda:N.")
@friendly
def eval_(run: Path | None, run_opt: Path | None, space: str | None, samples: int | None, device: str) -> None:
    """Measure RUN's trained G (its final checkpoint) and add the values to its evals.jsonl."""
    from gan_train.evaluation import evaluate_run

    r = _open_run(_run_path(run, run_opt))
    rows = evaluate_run(r.path, space=space, samples=samples, device=device)
    if not rows:
        click.echo(f"note: {r.path}: already measured so at this checkpoint; nothing added", err=True)
        return
    for row in rows:
        extra = f" in the {row['space']} space" if row.get("space") else ""
        click.echo(f"{row['measure']:>14} {row['value']:.4g}  (step {row['step']:,}, {row['n_fake']:,} samples{extra})")
    click.echo(f"added to {r.path / 'evals.jsonl'}")


@main.command()
@click.option(
    "--root",
    type=click.Path(path_type=Path),
    default=Path("outputs/runs"),
    show_default=True,
    help="The folder of runs to list.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts) instead of a table.")
@friendly
def runs(root: Path, as_json: bool) -> None:
    """The runs under outputs/runs: variant, status, steps done, the last D(x) and D(G(z)), size on disk."""
    from pipeline import runs as listing

    found = listing.list_runs(root)
    if as_json:
        click.echo(listing.as_json(found))
    elif not found:
        click.echo(f"no runs under {root}; train one with 'ganviz train VARIANT'", err=True)
    else:
        click.echo(listing.table(found))


@main.command()
@run_choice
@click.option(
    "--tensorboard",
    "tb",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Write TensorBoard event files into DIR (needs: pip install 'ganviz[tensorboard]').",
)
@click.option("--csv", "csv_file", type=click.Path(path_type=Path), metavar="FILE", help="Write the metrics as CSV.")
@friendly
def export(run: Path | None, run_opt: Path | None, tb: Path | None, csv_file: Path | None) -> None:
    """Export RUN's numbers for other tools: TensorBoard event files and/or a CSV of the metrics."""
    from pipeline.export import export_csv, export_tensorboard

    if tb is None and csv_file is None:
        raise GanvizError("nothing to export: give --tensorboard DIR and/or --csv FILE")
    r = _open_run(_run_path(run, run_opt))
    if csv_file is not None:
        click.echo(f"metrics written to {export_csv(r, csv_file)}")
    if tb is not None:
        click.echo(f"TensorBoard events written to {export_tensorboard(r, tb)} (view: tensorboard --logdir {tb})")


# --- scenes (pipeline/render.py) ----------------------------------------------------------------
def whole_number(value: str | None, flag: str) -> int | None:
    """An option's whole number, or one line naming the option (click's own message is a usage block)."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise GanvizError(f"{flag} {value}: expected a whole number") from None


@main.command()
@click.argument("scene_file")
@run_choice
@click.option("-q", "--quality", type=click.Choice(["low", "medium", "high", "4k"]), default="low", show_default=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mp4", "gif", "webm", "png"]),
    default="mp4",
    show_default=True,
    help="png: the last frame as a still.",
)
@click.option(
    "--width",
    metavar="PIXELS",
    help="Render this many pixels wide (height 9/16 of it) instead of the quality's width: e.g. a GIF for a README.",
)
@click.option(
    "--max-size",
    metavar="SIZE",
    help="GIFs: shrink palette, frames, then scale until each fits, and say so (default 5MB; 0 for no limit).",
)
@click.option("--stills", metavar="N", help="Also write N stills spread over each scene and a contact sheet of them.")
@click.option("--scene", help="Render only this Scene class of the file.")
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Folder (default: outputs/videos/<run>/).")
@click.option("--compare", type=click.Path(path_type=Path), help="Second run to contrast (gradient_flow).")
@click.option(
    "--run-2d",
    "run_2d",
    type=click.Path(path_type=Path),
    help="A 2-D toy run for the scenes that need one (distribution) when RUN is not one.",
)
@click.option("--quiet", is_flag=True, help="No progress.")
@friendly
def render(
    scene_file: str,
    run: Path | None,
    run_opt: Path | None,
    quality: str,
    fmt: str,
    width: str | None,
    max_size: str | None,
    stills: str | None,
    scene: str | None,
    out: Path | None,
    compare: Path | None,
    run_2d: Path | None,
    quiet: bool,
) -> None:
    """Render SCENE_FILE (a .py file, a built-in name like 'morph', or 'all') from RUN (or --run)."""
    from ganviz.format import KIND_NAMES
    from ganviz.reader import Run
    from pipeline.gifs import DEFAULT_MAX_SIZE
    from pipeline.render import RenderOptions, render_all, render_file, resolve_scene_file, scene_kinds

    if max_size is not None and fmt != "gif":
        raise GanvizError(f"--max-size {max_size}: only GIFs are fitted to a size; add --format gif or drop it")
    pixel_width, n_stills = whole_number(width, "--width"), whole_number(stills, "--stills")
    max_size = DEFAULT_MAX_SIZE if max_size is None else max_size
    opts = RenderOptions(quality, fmt, not quiet, pixel_width, max_size=max_size, stills=n_stills)
    opts.check()  # before any run is read
    run_path = _run_path(run, run_opt)
    options = {"out": out, "compare": Run.load(compare) if compare is not None else None, "options": opts}
    runs_2d = Run.load(run_2d) if run_2d is not None else None
    if runs_2d is not None and runs_2d.kind != "toy2d":
        kind = KIND_NAMES.get(runs_2d.kind, runs_2d.kind)
        raise GanvizError(f"--run-2d {run_2d}: is {kind}; pass a 2-D toy run (e.g. from toy-rings)")
    if scene_file == "all":
        if scene is not None:
            raise GanvizError("--scene picks a class in one file; drop it with 'all'")
        files = render_all(_open_run(run_path), runs_2d=runs_2d, **options)
    else:
        path = resolve_scene_file(scene_file)
        kinds = scene_kinds(path)
        wants_2d = runs_2d is not None and "toy2d" in kinds
        if wants_2d and run_path is None:  # `ganviz render distribution --run-2d RINGS`
            target = runs_2d
        else:
            target = _open_run(run_path)
            if wants_2d and target.kind not in kinds:  # RUN cannot be drawn by this scene; the 2-D run can
                target = runs_2d
        files = render_file(path, target, scene=scene, **options)
    for f in files:
        click.echo(str(f))
    if getattr(files, "failed", None):  # render all drew the others and said which failed (its summary line)
        sys.exit(1)


# --- demo: train the embedded digits and make everything from it ---------------------------------
@main.command()
@click.option("--steps", type=int, help="Training steps for dcgan-digits (default: the variant's 3000).")
@click.option("--toy-steps", type=int, help="Training steps for toy-8gaussians (default: the variant's 6000).")
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="Folder for everything the demo makes: DIR/runs, DIR/plots, DIR/gifs, DIR/videos [default: outputs]",
)
@click.option(
    "--root",
    type=click.Path(path_type=Path),
    help="Older option: the folder of the two runs (plots, GIFs and videos go beside a folder named "
    "'runs', else into it).",
)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a config field of both runs.")
@click.option("--no-scenes", is_flag=True, help="Skip rendering the Manim scenes.")
@click.option("-q", "--quality", type=click.Choice(["low", "medium", "high", "4k"]), default="low", show_default=True)
@click.option(
    "--assets",
    type=click.Path(path_type=Path),
    help="Also write the README images (plots, GIFs, a contact sheet of every scene) into this folder.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@friendly
def demo(
    steps: int | None,
    toy_steps: int | None,
    out: Path | None,
    root: Path | None,
    sets: tuple[str, ...],
    no_scenes: bool,
    quality: str,
    assets: Path | None,
    quiet: bool,
) -> None:
    """Train on the embedded digits (and the 2-D 8-Gaussians toy), then make plots, GIFs and scenes."""
    from pipeline.demo import outputs_beside, run_demo, write_assets

    if out is not None and root is not None:
        raise GanvizError("--root is the older way to place the demo: give -o/--out or --root, not both")
    if assets is not None and no_scenes:
        raise GanvizError(f"--assets {assets}: its contact sheet and GIF show the scenes; drop --no-scenes")
    outputs = out if out is not None else outputs_beside(root) if root is not None else Path("outputs")
    res = run_demo(
        root or outputs / "runs",
        outputs=outputs,
        digits_steps=steps,
        toy_steps=toy_steps,
        scenes=not no_scenes,
        quality=quality,
        progress=not quiet,
        echo=click.echo,
        overrides=parse_sets(sets),
    )
    click.echo(f"runs: {res.digits}  {res.toy}")
    for group, files in res.files.items():
        folders = sorted({str(p.parent) for p in files})
        click.echo(f"{group}: {len(files)} files in {', '.join(folders)}")
    if assets is not None:
        copied = write_assets(res, assets)
        click.echo(f"README images: {', '.join(str(p) for p in copied)}")


# --- lecture: the lessons' runs, their scenes act by act, and a deck that presents offline ------------------
@main.command()
@click.option(
    "--size",
    type=click.Choice(["small", "large"]),
    help="small: runs and 480p video a 2-core CPU makes in about 12 minutes; large: the variants' own lengths and "
    "720p [default: large where CUDA is present, else small]",
)
@click.option("--run", "runs", multiple=True, metavar="LESSON=RUN", help="Your run for a lesson (repeatable).")
@click.option("--compare", "compares", multiple=True, metavar="LESSON=RUN", help="Your second run for a lesson.")
@click.option(
    "-o", "--out", type=click.Path(path_type=Path), help="Folder of the deck [default: outputs/lectures/lecture-SIZE]"
)
@click.option(
    "--root",
    type=click.Path(path_type=Path),
    default=Path("outputs") / "runs",
    show_default=True,
    help="Where the lecture's own runs are trained, and found again by a later call.",
)
@click.option(
    "-q", "--quality", type=click.Choice(["low", "medium", "high", "4k"]), help="Video quality [default: by size]"
)
@click.option("--width", metavar="PIXELS", help="Render this many pixels wide instead of the quality's width.")
@click.option("--fps", metavar="N", help="Frames per second instead of the quality's.")
@click.option("--lessons", metavar="LIST", help="Only these lessons, comma-separated (e.g. gradients,collapse).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a config field of the runs trained.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@friendly
def lecture(
    size: str | None,
    runs: tuple[str, ...],
    compares: tuple[str, ...],
    out: Path | None,
    root: Path,
    quality: str | None,
    width: str | None,
    fps: str | None,
    lessons: str | None,
    sets: tuple[str, ...],
    quiet: bool,
) -> None:
    """Train the runs a GAN lecture needs (or use yours), render its lessons act by act, write an offline deck.

    Lessons (LESSON names for --run/--compare): game, noise, equilibrium, gradients (--compare: the
    non-saturating run), collapse (--compare: the collapsing run), curves.
    """
    from pipeline.lecture import SIZES, default_size, parse_choice, run_lecture
    from pipeline.render import RenderOptions

    size = size or default_size()
    opts = RenderOptions(
        quality or SIZES[size].quality,
        progress=False,
        pixel_width=whole_number(width, "--width"),
        frame_rate=whole_number(fps, "--fps"),
    )
    opts.check()
    res = run_lecture(
        size=size,
        runs=parse_choice(runs, "--run"),
        compares=parse_choice(compares, "--compare"),
        out=out,
        root=root,
        options=opts,
        overrides=parse_sets(sets),
        lessons=tuple(k.strip() for k in lessons.split(",")) if lessons is not None else None,
        progress=not quiet,
        echo=click.echo,
    )
    click.echo(f"lecture: {res.slides} slides in {res.folder}")
    for kind in ("html", "pptx", "mp4"):
        click.echo(str(res.files[kind]))


if __name__ == "__main__":
    main()
