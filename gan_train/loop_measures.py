"""Quality measures for a recorded loop (``Recorder(..., measure=...)``): ganviz's own measures
(gan_train/evaluation.py) of the loop's G, in the loop, since the Recorder holds G.

``measure`` names what to compare G with:

- data ganviz knows: ``"8gaussians"``, ``"rings"``, ``"quadratic"`` (2-D toys: sliced Wasserstein distance to fresh
  draws, and the toy's coverage measures), ``"gaussian"`` (1-D: exact W1 and KS distance to N(4, 0.5^2)). The loop's
  data must be ganviz's toy (gan_train.datasets.TOYS): the measures know where its modes and arcs are.
- an image feature space: ``"digits"`` (the small classifier trained on the embedded MNIST digits; 28x28 digits,
  other sizes resized) against ganviz's digits, or against ``measure_real``, the loop's own real images; or
  ``"inception"`` (the FID network, ``pip install 'ganviz[inception]'``) against ``measure_real``.
- 2-D points of the loop's own: ``"points"``, the sliced Wasserstein distance to ``measure_real`` (its first
  ``measure_samples`` points; the real-vs-real floor from the rest, which must be twice as many).

G is measured on noise of its own (the same at every measurement) with its buffers and the random streams left as
they were, so measuring changes nothing the loop trains on. Only G's outputs are made on the loop's thread; the
measures of them are computed on the run's writer thread (``RunWriter.append_evals_from``), so the loop does not
wait for them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from gan_train.config import TOY_DATASETS, Config
from gan_train.datasets import load_digits_with_labels
from gan_train.evaluation import Evaluator
from gan_train.snapshots import Probe, untouched
from ganviz.errors import GanvizError
from ganviz.format import EVALS_FILE, KIND_NAMES, RUN_JSON

#: What ``measure`` may name, and the kind of run it measures.
MEASURES = {**TOY_DATASETS, "points": "toy2d", "digits": "image", "inception": "image"}


class MeasureError(GanvizError):
    """``Recorder(measure=...)`` names a measure that does not fit the run; the message names the argument."""


class LoopEvaluator(Evaluator):
    """An ``Evaluator`` for a loop's G: noise of G's own input shape, a conditional G's labels (the fixed labels,
    repeated), and G left untouched by the measuring."""

    def __init__(
        self,
        cfg: Config,
        data: np.ndarray,
        device: torch.device,
        noise_shape: tuple[int, ...],
        labels: Tensor | None,
    ):
        super().__init__(cfg, data, device)
        if cfg.kind == "toy2d" and len(data):  # the loop's own points: G against the first, the floor from the rest
            self.real = torch.from_numpy(data[: self.samples]).float().to(device)
            self.held_out = torch.from_numpy(data[self.samples :]).float()
        gen = torch.Generator().manual_seed(cfg.seed + 31337)  # as the trainer's: its own stream, the same each time
        self.noise = torch.randn(self.samples, *noise_shape, generator=gen).to(device)
        self.labels = None if labels is None else labels.repeat(math.ceil(self.samples / len(labels)))[: self.samples]

    def call(self, g: nn.Module, z: Tensor, start: int) -> Tensor:
        return Probe.call(g, z, None if self.labels is None else self.labels[start : start + len(z)])

    def generate(self, g: nn.Module) -> Tensor:
        with untouched(g):
            return super().generate(g)


def loop_evaluator(
    measure: str,
    kind: str,
    noise: Tensor,
    labels: Tensor | None,
    seed: int,
    samples: int,
    real: Tensor | None,
) -> LoopEvaluator:
    """The evaluator ``measure`` asks for, for a run of ``kind`` whose G takes inputs like ``noise`` (on G's device);
    ``real`` the loop's own real images for an image space, or points for ``"points"``. Every refusal is one line
    naming the argument."""
    want = MEASURES.get(measure)
    if want is None:
        raise MeasureError(f"Recorder measure={measure!r}: use one of {', '.join(MEASURES)}")
    if want != kind:
        raise MeasureError(
            f"Recorder measure={measure!r} measures {KIND_NAMES[want]}, but real makes this {KIND_NAMES[kind]}"
        )
    if not isinstance(samples, int) or samples < 10:
        raise MeasureError(f"Recorder measure_samples={samples!r}: a whole number of samples, at least 10")
    if kind == "image":
        data, dataset = _reference(measure, real), "digits" if real is None else "folder"
    elif measure == "points":
        data, dataset = _points(real, samples), "quadratic"  # a 2-D toy measured by the sliced distance alone
    else:
        data, dataset = np.zeros((0, 2), np.float32), measure
    space = measure if kind == "image" else "none"
    cfg = Config(dataset=dataset, seed=seed, eval_samples=samples, eval_space=space, noise_dim=noise.shape[1])
    return LoopEvaluator(cfg, data, noise.device, tuple(noise.shape[1:]), labels)


def _reference(space: str, real: Tensor | None) -> np.ndarray:
    """The real images an image space compares G with, as uint8 (N, H, W, C)."""
    if real is None:
        if space != "digits":
            raise MeasureError(
                f"Recorder measure={space!r}: give measure_real (real images to compare G's with, as real)"
            )
        return load_digits_with_labels()[0]
    if not isinstance(real, Tensor) or real.dim() != 4 or real.shape[1] not in (1, 3) or len(real) < 10:
        shape = tuple(real.shape) if isinstance(real, Tensor) else type(real).__name__
        raise MeasureError(
            f"Recorder measure_real: expected at least 10 images (N, C, H, W) with C 1 or 3 in [-1, 1]; got {shape}"
        )
    x = ((real.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous().cpu().numpy()


def _points(real: Tensor | None, samples: int) -> np.ndarray:
    """The loop's own 2-D points that ``measure="points"`` compares G with, as float32 (N, 2)."""
    if not isinstance(real, Tensor) or real.dim() != 2 or real.shape[1] != 2 or len(real) < 3 * samples:
        shape = tuple(real.shape) if isinstance(real, Tensor) else type(real).__name__
        raise MeasureError(
            f"Recorder measure_real: measure='points' needs at least 3 x measure_samples = {3 * samples} real points "
            f"(N, 2) (G against {samples} of them, the floor from the rest); got {shape}"
        )
    return real.detach().float().cpu().numpy()


def evals_info(ev: LoopEvaluator, every: int) -> dict[str, Any]:
    """run.json's ``evals`` for a recorded loop's measures."""
    return {
        RUN_JSON.evals: {
            "file": EVALS_FILE,
            "every": every,
            "samples": ev.samples,
            "space": ev.space_name,
            "measures": ev.measures,
        }
    }
