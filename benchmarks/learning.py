"""Does the toy-rings GAN learn the two semicircles? Trains it (CPU, the variant's settings) and prints a table.

What a few training steps learn depends on the CPU's kernels, so the test suite never asserts it; this
script shows it on the machine at hand. Measured on G's fixed-noise samples at the first and last snapshot:

- energy distance to the fixed real batch (Székely; 0 iff same distribution), goal: end < 10 % of start
- share of samples on the left arc (x < -2) and on the right arc (x > 2), goal: > 25 % each
- where the arcs sit: mean y of the left samples > 3, of the right ones < -3 (left arc high, right arc low)
- D's mean scores over the last 300 steps, goal: within 0.1 of 0.45 (real label 0.9: D's best guess is 0.9/2)

    python benchmarks/learning.py [--steps 3000] [--seed 0] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402


def energy_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Székely's energy distance: 0 iff the two samples come from the same distribution."""

    def mean_dist(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)).mean())

    return 2 * mean_dist(x, y) - mean_dist(x, x) - mean_dist(y, y)


def rings_report(run_dir: Path) -> list[tuple[str, str, str, bool]]:
    """(measure, value, goal, met) rows for a finished toy-rings run."""
    from pipeline.run import Run

    run = Run.load(run_dir)
    real, first, last = run.real, run.snapshot("start").fake, run.snapshot("end").fake
    e0, e1 = energy_distance(real, first), energy_distance(real, last)
    left, right = last[last[:, 0] < -2], last[last[:, 0] > 2]
    m = run.metrics
    d_real, d_fake = float(np.nanmean(m["d_real"][-300:])), float(np.nanmean(m["d_fake"][-300:]))
    return [
        (
            "energy distance to real, start -> end",
            f"{e0:.3f} -> {e1:.3f} ({100 * e1 / e0:.1f} %)",
            "< 10 %",
            e1 < 0.1 * e0,
        ),
        (
            "samples on the left / right arc",
            f"{100 * len(left) / len(last):.0f} % / {100 * len(right) / len(last):.0f} %",
            "> 25 % each",
            len(left) > 0.25 * len(last) and len(right) > 0.25 * len(last),
        ),
        (
            "mean y, left / right arc",
            f"{left[:, 1].mean() if len(left) else np.nan:.1f} / {right[:, 1].mean() if len(right) else np.nan:.1f}",
            "> 3 / < -3",
            bool(len(left) and len(right) and left[:, 1].mean() > 3 and right[:, 1].mean() < -3),
        ),
        (
            "D(x), D(G(z)) over the last 300 steps",
            f"{d_real:.2f}, {d_fake:.2f}",
            "0.45 +- 0.1 each",
            abs(d_real - 0.45) < 0.1 and abs(d_fake - 0.45) < 0.1,
        ),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, help="write the run here instead of a temporary folder")
    args = ap.parse_args()

    import torch

    from gan_train.config import apply_overrides, get_variant
    from gan_train.train import train

    torch.set_num_threads(1)
    cfg = apply_overrides(
        get_variant("toy-rings"),
        {
            "device": "cpu",
            "steps": args.steps,
            "seed": args.seed,
            "snapshot_every": max(1, args.steps // 6),
            "toy_fixed": 512,
        },
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "rings"
        train(cfg, out=out, progress=True)
        rows = rings_report(out)
    print(f"\ntoy-rings, {args.steps} steps, seed {args.seed}, CPU ({torch.get_num_threads()} thread)\n")
    print("| measure | value | goal | met |\n| --- | --- | --- | --- |")
    for name, value, goal, met in rows:
        print(f"| {name} | {value} | {goal} | {'yes' if met else 'no'} |")


if __name__ == "__main__":
    main()
