"""Reading checkpoint.pt: the one safe loader (training's resume uses it too) and the run's generator, for
outputs that need G on new noise (latent walks).

Only this module touches torch on the pipeline side; plots and the other GIFs import it lazily or not at all.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_train.config import Config
from gan_train.models import build_models
from gan_train.snapshots import to_uint8_images
from ganviz.errors import RunError, first_line
from ganviz.format import CHECKPOINT_FILE
from ganviz.validate import read_run_json

CHECKPOINT_KEYS = ("step", "time", "g", "d", "opt_g", "opt_d", "rng")


def load_checkpoint(path: Path, device: torch.device | str, then: str = "it cannot be resumed") -> dict[str, Any]:
    """Load a checkpoint as tensors and plain containers only: a planted pickle is refused, never run.

    Every failure is a one-line ``RunError`` naming ``path``; ``then`` says what the failure means for the
    caller.
    """
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as e:
        if "global" in str(e).lower():  # names a function or class to call: the way a pickle runs code
            raise RunError(
                f"{path}: refused to load: it holds objects other than tensors (a pickle that could run "
                f"code); {then}, use checkpoints written by ganviz"
            ) from None
        raise RunError(f"{path}: damaged checkpoint (not a torch file); {then}") from None
    except Exception as e:  # torch reports a damaged zip in many ways
        raise RunError(f"{path}: damaged checkpoint ({first_line(e)}); {then}") from None
    missing = [k for k in CHECKPOINT_KEYS if not isinstance(state, dict) or k not in state]
    if missing:
        raise RunError(f"{path}: not a ganviz checkpoint (missing {', '.join(missing)}); {then}")
    return state


def load_generator(
    run_dir: str | Path, why: str = "the latent walk needs the trained generator"
) -> tuple[torch.nn.Module, Config, int]:
    """(G with the checkpoint's weights on the CPU, the run's config, the checkpoint's step); ``why`` ends the
    one-line error when there is no usable checkpoint."""
    run_dir = Path(run_dir)
    info = read_run_json(run_dir)
    f = run_dir / CHECKPOINT_FILE
    if not f.is_file():
        raise RunError(f"{f}: no checkpoint in this run; {why}")
    cfg = Config.from_dict(info.get("config", {}))
    state = load_checkpoint(f, "cpu", then=why)
    try:
        g, _ = build_models(cfg)
        g.load_state_dict(state["g"])
    except (RuntimeError, KeyError, ValueError) as e:
        raise RunError(f"{f}: does not match the run's config ({type(e).__name__})") from None
    return g, cfg, int(state.get("step", 0))


def trained_generator(run_dir: str | Path) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    """(z -> G(z) in the snapshot layout, the checkpoint's step): the trained G for the latent walk of
    ``ganviz gif`` (pipeline/gifs.py takes it as ``load_g``, so the pipeline never imports torch)."""
    g, cfg, step = load_generator(run_dir)
    return (lambda z: generate(g, cfg, z)), step


@torch.no_grad()
def generate(g: torch.nn.Module, cfg: Config, z: np.ndarray, batch: int = 1024) -> np.ndarray:
    """G(z) in the snapshot layout: uint8 (N,H,W,C) images or float32 (N,D) points.

    BatchNorm runs in training mode, as snapshots are taken, so a walk looks like the progress frames;
    ``z`` is fed in large chunks to keep its batch statistics close to a normal noise batch.
    """
    g.train()
    outs = []
    zt = torch.from_numpy(np.ascontiguousarray(z, np.float32))
    for chunk in torch.tensor_split(zt, max(1, -(-len(zt) // batch))):  # equal-sized chunks
        x = g(chunk)
        outs.append(to_uint8_images(x) if cfg.kind == "image" else x.float().numpy())
    return np.concatenate(outs, axis=0)
