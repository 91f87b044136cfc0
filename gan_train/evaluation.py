"""How good is G, measured while it trains: which measures a run gets, the real reference they compare against
(built once per run), and one evaluation as rows of evals.jsonl (docs/run-format.md).

- 1-D toy: exact Wasserstein-1 and Kolmogorov-Smirnov distance to the true N(4, 0.5^2).
- 2-D toys: sliced Wasserstein distance to held-out real samples, with the real-vs-real floor at the same size;
  rings: share of arc bins hit and of samples near an arc; 8 Gaussians: modes captured and high-quality share.
- images: Fréchet distance, KID, precision and recall in a feature space (gan_train/features.py), and for the
  digits space the histogram of the digits G draws, with the samples recognisable as a digit apart
  (``measures.recognised_classes``: on the real digits' manifold and classified with confidence 0.9 or more).

G is evaluated on its own fixed noise batch (``samples`` draws from a generator of its own, the same at every
evaluation, so the values differ only by what G learned) and draws no random numbers from training's streams:
a resumed run evaluates exactly as an uninterrupted one.
"""

from __future__ import annotations

import warnings
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from gan_train import measures
from gan_train.config import Config
from gan_train.datasets import GAUSSIAN_MEAN, GAUSSIAN_STD, TOYS
from ganviz.errors import GanvizError
from ganviz.format import DIGIT_DATASETS, EVALS

NO_SPACE = "none"


def resolve_space(cfg: Config) -> str | None:
    """The feature space of an image run's measures: ``eval_space``, or for 'auto' the digits classifier for
    digit data and the FID Inception network for colour data when its weights are already on this machine
    (None, with a one-line note, when they are not: ``ganviz eval RUN --space inception`` adds them later)."""
    if cfg.kind != "image" or cfg.eval_space == NO_SPACE:
        return None
    if cfg.eval_space != "auto":
        return cfg.eval_space
    if cfg.dataset in DIGIT_DATASETS:
        return "digits"
    from gan_train.features import inception_available

    if inception_available():
        return "inception"
    warnings.warn(
        "no image quality measures for this run: the FID Inception weights are not on this machine "
        "('ganviz eval RUN --space inception' downloads them once and measures the trained G)",
        stacklevel=2,
    )
    return None


def row(step: int, measure: str, value: float | None, **extra: Any) -> dict[str, Any]:
    """One line of evals.jsonl: the declared fields (ganviz/format.py: EVALS) in their order."""
    out = {EVALS.step: step, EVALS.measure: measure, EVALS.value: value, EVALS.space: None}
    out[EVALS.n_fake], out[EVALS.n_real] = None, None
    out.update(extra)
    return out


class Evaluator:
    """The measures of one run. Build once (it draws and embeds the real reference), then call with G at a step.

    ``data`` is the training set as the run holds it (uint8 NHWC images or float32 points); ``device`` where G is.
    """

    def __init__(
        self, cfg: Config, data: np.ndarray, device: torch.device, samples: int | None = None, space: str | None = None
    ):
        self.cfg, self.device, self.kind = cfg, device, cfg.kind
        self.samples = samples or cfg.eval_samples
        gen = torch.Generator().manual_seed(cfg.seed + 31337)  # G's evaluation noise, the same every time
        self.noise = torch.randn(self.samples, cfg.noise_dim, generator=gen).to(device)
        self.space_name = space if space is not None else resolve_space(cfg)
        self.space = None
        rng = np.random.default_rng(cfg.seed + 65537)  # the real reference: its own stream too
        if self.kind == "toy2d":
            real = TOYS[cfg.dataset](3 * self.samples, rng)  # held out: fresh draws, never trained on
            self.real = torch.from_numpy(real[: self.samples]).to(device)
            self.held_out = torch.from_numpy(real[self.samples :])  # for the floor, computed when first needed
        elif self.kind == "image" and self.space_name is not None:
            from gan_train.features import get_space

            self.space = get_space(self.space_name, device)
            idx = rng.choice(len(data), size=min(self.samples, len(data)), replace=False)
            real = torch.from_numpy(np.ascontiguousarray(data[np.sort(idx)]))
            self.real_features = self.space.features(real).double()
            self.real_stats = measures.feature_stats(self.real_features)
            self.real_classes = self.space.classes(real) if self.space.head is not None else None

    @cached_property
    def floor(self) -> measures.SlicedFloor:
        """2-D toys: the sliced distance between two real samples of this size (once per run, at the first
        evaluation: a recorded loop computes it on its writer's thread, not in the loop)."""
        return measures.sliced_wasserstein_floor(self.held_out, self.samples)

    @property
    def measures(self) -> list[str]:
        """The names of the measures this run records (run.json lists them)."""
        if self.kind == "toy1d":
            return ["w1", "ks"]
        if self.kind == "toy2d":
            extra = {"rings": ["arc_bins_hit", "near_arc"], "8gaussians": ["modes_captured", "high_quality"]}
            return ["sliced_w1", *extra.get(self.cfg.dataset, [])]
        if self.space is None:
            return []
        return ["fd", "kid", "precision", "recall", *(["classes"] if self.real_classes is not None else [])]

    @torch.no_grad()
    def generate(self, g: nn.Module) -> Tensor:
        """G's outputs on the evaluation noise, in blocks: uint8 NHWC images or float points, on the device."""
        out = []
        for start in range(0, len(self.noise), 500):
            x = self.call(g, self.noise[start : start + 500], start).float()
            if self.kind == "image":
                x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1)
            out.append(x)
        return torch.cat(out)

    def call(self, g: nn.Module, z: Tensor, start: int) -> Tensor:
        """G on the evaluation noise ``z`` (rows ``start`` on); a recorded loop's conditional G also takes labels."""
        return g(z)

    def __call__(self, g: nn.Module, step: int) -> list[dict[str, Any]]:
        """The rows of one evaluation of ``g`` at ``step``."""
        return self.rows(self.generate(g), step)

    def rows(self, fake: Tensor, step: int) -> list[dict[str, Any]]:
        """The rows of one evaluation from G's outputs ``fake`` (``generate``); no random numbers drawn from
        training's streams (a recorded loop measures them on its writer's thread)."""
        n = len(fake)
        if self.kind == "toy1d":
            fit = measures.normal_fit(fake, GAUSSIAN_MEAN, GAUSSIAN_STD)
            ref = f"N({GAUSSIAN_MEAN:g}, {GAUSSIAN_STD:g}^2)"
            return [row(step, "w1", fit.w1, n_fake=n, reference=ref), row(step, "ks", fit.ks, n_fake=n, reference=ref)]
        if self.kind == "toy2d":
            return self._toy2d(fake, step)
        if self.space is None:
            return []
        return self._images(fake, step)

    def _toy2d(self, fake: Tensor, step: int) -> list[dict[str, Any]]:
        n, m = len(fake), len(self.real)
        sw = measures.sliced_wasserstein(fake, self.real)
        floor = {"floor": self.floor.mean, "floor_std": self.floor.std}
        rows = [row(step, "sliced_w1", sw.value, n_fake=n, n_real=m, **floor)]
        if self.cfg.dataset == "rings":
            cov = measures.rings_coverage(fake)
            rows += [row(step, "arc_bins_hit", cov.bins_hit, n_fake=n), row(step, "near_arc", cov.near_arc, n_fake=n)]
        elif self.cfg.dataset == "8gaussians":
            cov = measures.gaussians8_coverage(fake)
            rows += [
                row(step, "modes_captured", cov.modes_captured, n_fake=n, counts=list(cov.counts), off=cov.off),
                row(step, "high_quality", cov.high_quality, n_fake=n),
            ]
        return rows

    def _images(self, fake: Tensor, step: int) -> list[dict[str, Any]]:
        assert self.space is not None
        feats = self.space.features(fake).double()
        n, m, space = len(fake), len(self.real_features), self.space_name
        fd = measures.frechet_distance(feats, self.real_stats)
        k = measures.kid(feats, self.real_features)
        pr = measures.precision_recall(self.real_features, feats)
        common = {EVALS.space: space, EVALS.n_fake: n, EVALS.n_real: m}
        rows = [
            row(step, "fd", fd.value, **common),
            row(step, "kid", k.mean, std=k.std, **common),
            row(step, "precision", pr.precision, k=pr.k, **common),
            row(step, "recall", pr.recall, k=pr.k, **common),
        ]
        if self.real_classes is not None:
            ref = torch.bincount(self.real_classes, minlength=10)
            probs = self.space.class_probabilities(feats)
            hist = measures.class_histogram(probs.argmax(1), 10, ref)
            sure = measures.recognised_classes(probs, measures.on_manifold(self.real_features, feats, k=pr.k))
            extra = {"recognised": list(sure.counts), "unrecognised": sure.unrecognised, "confidence": sure.confidence}
            rows.append(
                row(step, "classes", hist.classes_present, counts=list(hist.counts), kl=hist.kl, **extra, **common)
            )
        return rows


def evaluator_or_none(cfg: Config, data: np.ndarray, device: torch.device) -> Evaluator | None:
    """The run's Evaluator, or None when it records no measures (``eval_every`` -1, or an image run without a
    feature space). A feature space the user named that cannot be built is a one-line error."""
    if cfg.eval_every < 0:
        return None
    ev = Evaluator(cfg, data, device)
    return ev if ev.measures else None


def _key(r: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(r.get(f) for f in (EVALS.step, EVALS.measure, EVALS.space, EVALS.n_fake, EVALS.n_real))


def _measured(new: dict[str, Any], have: dict[tuple[Any, ...], set[str]]) -> bool:
    """Whether ``new`` was measured before: a row with its key and every field it has (a row recorded before a
    field existed, e.g. ``classes`` without ``recognised``, is measured again; readers take the later row)."""
    fields = have.get(_key(new))
    return fields is not None and set(new) <= fields


def evaluate_run(
    run_dir: Path, space: str | None = None, samples: int | None = None, device: str = "auto"
) -> list[dict[str, Any]]:
    """Measure a run's final checkpoint (``ganviz eval RUN``) and append the new rows to its evals.jsonl (rows
    measured before with the same step, space and sample counts are not repeated, unless the earlier row lacks a
    field measured now; when nothing is new they return empty).

        ``space`` picks the image feature space (default: the run's own, else 'auto'); a run trained without
        measures, or in another space, gets them now. The run is locked while its files change (a run still training
        refuses), run.json lists the new measures, and a run of format 1 becomes format 2 (it now has evals.jsonl).
    """
    from dataclasses import replace

    from gan_train.checkpoints import load_generator
    from gan_train.datasets import load_dataset
    from gan_train.distributed import pick_device
    from ganviz.format import EVALS_FILE, FORMAT_VERSION, RUN_FILE, RUN_JSON
    from ganviz.lock import RunLock
    from ganviz.validate import read_eval_rows, read_run_json
    from ganviz.writer import RunWriter, atomic_write_json

    g, cfg, step = load_generator(run_dir, why="'ganviz eval' measures the trained generator")
    if space is not None:
        cfg = replace(cfg, eval_space=space)
    elif cfg.eval_space == NO_SPACE:
        cfg = replace(cfg, eval_space="auto")
    dev = pick_device(device)
    data = load_dataset(cfg)
    ev = Evaluator(cfg, data.array, dev, samples)
    if not ev.measures:
        raise GanvizError(f"{run_dir}: no feature space for this image run; pass --space digits or --space inception")
    g.to(dev).train()  # as training measures it: BatchNorm on batch statistics
    with RunLock(run_dir):
        have: dict[tuple[Any, ...], set[str]] = {}
        for r in read_eval_rows(run_dir / EVALS_FILE):
            have.setdefault(_key(r), set()).update(r)
        rows = [r for r in ev(g, step) if not _measured(r, have)]  # measured before: the same value again
        if not rows:
            return []
        info = read_run_json(run_dir)
        listed = info.get(RUN_JSON.evals) or {"file": EVALS_FILE, "every": 0, "samples": ev.samples, "space": None}
        listed["measures"] = list(dict.fromkeys([*listed.get("measures", []), *ev.measures]))
        info.update(
            {RUN_JSON.evals: listed, RUN_JSON.format_version: max(info[RUN_JSON.format_version], FORMAT_VERSION)}
        )
        writer = RunWriter(run_dir)
        writer.append_evals(rows)
        writer.close()
        atomic_write_json(run_dir / RUN_FILE, info)
    return rows
