"""Rebuild a run's generator from checkpoint.pt, for outputs that need G on new noise (latent walks).

Only this module touches torch on the pipeline side; plots and the other GIFs import it lazily or not at all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gan_train.config import Config
from gan_train.models import build_models
from gan_train.snapshots import to_uint8_images
from pipeline.run import CHECKPOINT_FILE, RunError, read_run_json


def load_generator(run_dir: str | Path) -> tuple[torch.nn.Module, Config, int]:
    """(G with the checkpoint's weights on the CPU, the run's config, the checkpoint's step)."""
    run_dir = Path(run_dir)
    info = read_run_json(run_dir)
    f = run_dir / CHECKPOINT_FILE
    if not f.is_file():
        raise RunError(f"{f}: no checkpoint in this run; the latent walk needs the trained generator")
    cfg = Config.from_dict(info.get("config", {}))
    try:
        state = torch.load(f, map_location="cpu", weights_only=True)
        g, _ = build_models(cfg)
        g.load_state_dict(state["g"])
    except (RuntimeError, KeyError, OSError, EOFError, ValueError) as e:
        raise RunError(f"{f}: unreadable or does not match the run's config ({type(e).__name__})") from None
    return g, cfg, int(state.get("step", 0))


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
