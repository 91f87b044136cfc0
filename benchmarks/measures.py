"""How good is the digits classifier, and how long does each measure of gan_train.measures take on the CPU?

Prints three tables: the digits classifier trained from scratch (held-out accuracy over 1,000 digits, training
time), the time of one evaluation of each measure at the sample counts training will use (toys: 512 samples;
digits: 64 to 1,000 images), and what one evaluation costs against the training time of a small CPU run, so the
evaluation interval can be sized (goal: at most 5 % of training time at every 10th snapshot). Times are medians
over ``--repeats``; real-side statistics (features and covariance of the real images, the sliced floor) are
computed once per run, and are listed apart.

    python benchmarks/measures.py [--repeats 7] [--train-steps 200] [--threads N] [--inception]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from gan_train import measures  # noqa: E402
from gan_train.datasets import load_digits_with_labels, toy_8gaussians, toy_rings  # noqa: E402
from gan_train.features import DigitsRecipe, FeatureSpace, digits_classifier, get_space  # noqa: E402

TOY_N = 512  # the toys' fixed batch (toy_fixed)
IMAGE_NS = (64, 256, 1000)  # the images' fixed batch (n_fixed = 64) up to 1,000 generated images
RUN_STEPS = 3000  # the demo variants' length; ~100 snapshots, so every 10th snapshot is every 300 steps
EVALS_PER_RUN = RUN_STEPS // 300 + 1


def median_seconds(fn: Callable[..., object], args: tuple[object, ...], repeats: int) -> float:
    fn(*args)  # warm-up: first-call allocations, lazy imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ms(s: float) -> str:
    return f"{s * 1000:9.1f} ms"


def train_seconds_per_step(variant: str, steps: int) -> float:
    """Seconds per training step of a variant on the CPU, from the run's own clock (metrics.jsonl 'time')."""
    from gan_train.config import apply_overrides, get_variant
    from gan_train.train import train
    from pipeline.run import Run

    cfg = apply_overrides(get_variant(variant), {"device": "cpu", "steps": steps, "snapshot_every": steps})
    with tempfile.TemporaryDirectory() as d:
        run = Run.load(train(cfg, out=Path(d) / variant, progress=False))
        return float(run.metrics["time"][-1]) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--train-steps", type=int, default=200, help="steps timed per variant for the overhead table")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--inception", action="store_true", help="also time the inception space (needs pytorch-fid)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    r = args.repeats
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"{torch.get_num_threads()} torch threads, load average at start {os.getloadavg()[0]:.2f}\n")  # fmt: skip

    # -- the digits classifier -------------------------------------------------------------------------------------
    with tempfile.TemporaryDirectory() as cache:
        clf = digits_classifier(DigitsRecipe(), Path(cache))
    print("| digits classifier | held-out accuracy | training time |\n| --- | --- | --- |")
    print(f"| {DigitsRecipe()} | {clf.held_out_accuracy:.1%} (1,000 digits) | {clf.train_seconds:.1f} s |\n")

    # -- one evaluation of each measure -----------------------------------------------------------------------------
    rows: list[tuple[str, int | None, str, float]] = []  # (group, images per evaluation, what, seconds)

    def add(
        group: str, n: int | None, what: str, fn: Callable[..., object], *fn_args: object, repeats: int = r
    ) -> None:
        rows.append((group, n, what, median_seconds(fn, fn_args, repeats)))

    rng = np.random.default_rng(0)
    x1 = torch.from_numpy(rng.normal(4.0, 0.5, TOY_N))
    add("toy gaussian", None, f"normal_fit, {TOY_N}", measures.normal_fit, x1, 4.0, 0.5)
    toys = (("rings", toy_rings, measures.rings_coverage), ("8gaussians", toy_8gaussians, measures.gaussians8_coverage))
    for name, make, cover in toys:
        real, fake, pool = (torch.from_numpy(make(k * TOY_N, rng)) for k in (1, 1, 2))
        add(f"toy {name}", None, f"sliced_wasserstein, {TOY_N} vs {TOY_N}, 256 directions",
            measures.sliced_wasserstein, fake, real)  # fmt: skip
        add(f"toy {name}", None, f"{cover.__name__}, {TOY_N}", cover, fake)
        add(f"toy {name} (once per run)", None, f"sliced_wasserstein_floor, {TOY_N}, 8 splits",
            measures.sliced_wasserstein_floor, pool, TOY_N)  # fmt: skip

    images, _ = load_digits_with_labels()
    space = FeatureSpace("digits", clf.net.body, torch.device("cpu"), 28, 1, head=clf.net.head, batch_size=500)
    real_images = images[rng.permutation(len(images))[:1000]]
    real_feats = space.features(real_images)
    real_stats = measures.feature_stats(real_feats)
    add("digits (once per run)", None, "features + feature_stats of 1,000 real images",
        lambda x: measures.feature_stats(space.features(x)), real_images)  # fmt: skip
    for n in IMAGE_NS:
        fake = images[rng.permutation(len(images))[:n]]
        feats, real_n = space.features(fake), real_feats[:n]
        add("digits", n, f"features + classes, {n} images", lambda x: (space.features(x), space.classes(x)), fake)
        add("digits", n, f"frechet_distance, {n} vs 1,000 (real stats)", measures.frechet_distance, feats, real_stats)
        add("digits", n, f"kid, {n} vs {n}, 50 subsets", measures.kid, feats, real_n)
        add("digits", n, f"precision_recall k=3, {n} vs {n}", measures.precision_recall, real_n, feats)
    if args.inception:
        inception = get_space("inception", "cpu")  # fetches its weights (~92 MB) on first use
        rgb = np.repeat(images[:64], 3, axis=-1)
        add("inception", 64, "features, 64 images", inception.features, rgb, repeats=max(1, r // 3))
    print("| measure | what, samples | CPU time per evaluation |\n| --- | --- | --- |")
    for group, _, what, s in rows:
        print(f"| {group} | {what} | {ms(s)} |")

    # -- against training time -----------------------------------------------------------------------------------
    print(f"\n| run | training s/step (CPU) | one evaluation | overhead at every 10th snapshot "
          f"({EVALS_PER_RUN} evaluations in {RUN_STEPS} steps) |\n| --- | --- | --- | --- |")  # fmt: skip
    cases = [("toy-gaussian", "toy gaussian", None), ("toy-rings", "toy rings", None)]
    cases += [("dcgan-digits", "digits", n) for n in IMAGE_NS]
    step_time = {v: train_seconds_per_step(v, args.train_steps) for v in dict.fromkeys(c[0] for c in cases)}
    for variant, group, n in cases:
        one = sum(s for g, k, _, s in rows if g == group and k == n)
        share = EVALS_PER_RUN * one / (RUN_STEPS * step_time[variant])
        label = f"{variant}, " + (f"{n} images" if n else f"{TOY_N} samples")
        print(f"| {label} | {step_time[variant] * 1000:.1f} ms | {ms(one).strip()} | {share:.2%} |")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
