"""The `ganviz` command. Every user-facing failure is one line on stderr and a non-zero exit."""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pipeline.errors import GanvizError


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

    for name, desc in describe_variants():
        click.echo(f"{name:<15} {desc}")


def parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key.strip():
            raise GanvizError(f"--set {v}: expected KEY=VALUE, e.g. --set lr_d=1e-4")
        out[key.strip()] = val
    return out


@main.command()
@click.argument("variant", required=False)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override any config field.")
@click.option("--steps", type=int, help="Number of training steps (batches).")
@click.option("--epochs", type=int, help="Number of epochs (used when --steps is not given).")
@click.option("--batch-size", type=int)
@click.option("--seed", type=int)
@click.option("--device", help="auto (CUDA when present), cpu, cuda or cuda:N.")
@click.option("--data-root", help="Folder holding the dataset (MNIST, CIFAR-10, CelebA, images).")
@click.option("--dataset", help="Swap the dataset, e.g. 'folder' for any folder of images.")
@click.option("--loss", help="bce, minimax, lsgan, hinge or wgan-gp.")
@click.option("--snapshot-every", type=int, help="Steps between snapshots (default: ~100 per run).")
@click.option("--out", type=click.Path(path_type=Path), help="Run folder (default: outputs/runs/<variant>-<time>).")
@click.option("--name", help="Run name under outputs/runs.")
@click.option("--resume", type=click.Path(path_type=Path), help="Continue a run from its last checkpoint.")
@click.option("--compile", "compile_", is_flag=True, default=None, help="torch.compile G and D.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@friendly
def train(variant: str | None, sets: tuple[str, ...], resume: Path | None, out: Path | None, name: str | None,
          quiet: bool, compile_: bool | None, **opts: Any) -> None:  # fmt: skip
    """Train VARIANT (see `ganviz variants`) and record a run folder."""
    from gan_train.train import resolve_config
    from gan_train.train import train as run_training

    overrides: dict[str, Any] = parse_sets(sets)
    overrides.update({k: v for k, v in opts.items() if v is not None})
    if compile_:
        overrides["compile"] = True
    if resume is not None:
        if variant is not None:
            raise GanvizError("--resume continues a run with its own variant; drop the VARIANT argument")
        path = run_training(None, resume=resume, resume_overrides=overrides, progress=not quiet)  # type: ignore[arg-type]
    else:
        if variant is None:
            raise GanvizError("missing VARIANT; 'ganviz variants' lists them (or use --resume RUN)")
        cfg = resolve_config(variant, overrides)
        path = run_training(cfg, out=out, name=name, progress=not quiet)
    click.echo(f"run written to {path}")


# --- plots and GIFs (pipeline/plots.py, pipeline/gifs.py) ---------------------------------------
def _open_run(run: Path | None) -> Any:
    """RUN argument -> Run (default: the latest under outputs/runs)."""
    from pipeline.run import Run

    return Run.load(run) if run is not None else Run.latest()


@main.command()
@click.argument("run", required=False, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="Output folder (default: outputs/plots/<run>/).")
@click.option("--format", "formats", default="png,pdf,svg", show_default=True, help="Comma-separated: png,pdf,svg.")
@click.option("--style", type=click.Choice(["paper", "slides"]), default="paper", show_default=True,
              help="paper: small print fonts; slides: big fonts and lines.")  # fmt: skip
@click.option("--dpi", type=int, default=200, show_default=True, help="Resolution of the PNGs.")
@click.option("--steps", help="Snapshot steps for sample figures, e.g. 0,1000,end (default: 5 evenly spaced).")
@click.option("--log", is_flag=True, help="Log axis for the losses (symlog when a loss goes negative).")
@click.option("--quiet", is_flag=True, help="Only print where the plots went.")
@friendly
def plots(run: Path | None, out: Path | None, formats: str, style: str, dpi: int, steps: str | None, log: bool,
          quiet: bool) -> None:  # fmt: skip
    """Publication plots of RUN (default: the latest run): PNG plus vector PDF/SVG."""
    from pipeline.plots import make_plots

    r = _open_run(run)
    paths = make_plots(r, out, formats=formats, style=style, dpi=dpi, steps=steps, log=log, progress=not quiet)
    click.echo(f"{len(paths)} files written to {paths[0].parent if paths else out}")


@main.command()
@click.argument("run", required=False, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="Output folder (default: outputs/gifs/<run>/).")
@click.option("--fps", type=float, default=10.0, show_default=True, help="Frames per second.")
@click.option("--scale", type=float, help="Zoom frames (default: small digits x2, larger images x1, toys 384 px).")
@click.option("--max-size", default="5MB", show_default=True,
              help="Shrink palette, frames, then scale until each GIF fits; 0 for no limit.")  # fmt: skip
@click.option("--mp4", is_flag=True, help="Also write H.264 MP4s of the same frames.")
@click.option("--quiet", is_flag=True, help="Only print where the GIFs went.")
@friendly
def gif(run: Path | None, out: Path | None, fps: float, scale: float | None, max_size: str, mp4: bool,
        quiet: bool) -> None:  # fmt: skip
    """Looping GIFs of RUN (default: the latest run): progress, latent walk (and MP4s with --mp4)."""
    from pipeline.gifs import make_gifs

    r = _open_run(run)
    paths = make_gifs(r, out, fps=fps, scale=scale, max_size=max_size, mp4=mp4, progress=not quiet)
    click.echo(f"{len(paths)} files written to {paths[0].parent if paths else out}")




# --- scenes (pipeline/render.py) ----------------------------------------------------------------



# --- demo: train the embedded digits and make everything from it ---------------------------------



if __name__ == "__main__":
    main()
