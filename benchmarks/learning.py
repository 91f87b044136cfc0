"""Does the demo's toy GAN learn? Trains a 2-D toy on this CPU and prints what its samples cover, snapshot by snapshot.

What a few thousand training steps learn depends on the CPU's kernels, so the test suite never asserts it; this
script shows it on the machine at hand. Measured with gan_train/measures.py on G's fixed-noise samples (512
points) at evenly spread snapshots:

- toy-rings: ``rings_coverage``: share of the 2 x 24 arc bins hit (goal >= 90 %) and share of samples within
  2 std of an arc (goal >= 80 %; real data: 95 %)
- toy-8gaussians: ``gaussians8_coverage``: modes captured (goal 8 of 8) and the share of high-quality samples
  (within 3 std of a mode; real data: 98.9 %); "most on" is the mode nearest to most samples, and their share
  (a collapsed G puts nearly all of them near one mode; real data: 12.5 % per mode)
- both: sliced Wasserstein distance to the fixed real batch (``sliced_wasserstein``), and what a perfect G
  would read with 512 samples (``sliced_wasserstein_floor``)

    python benchmarks/learning.py                        # the toy run of `ganviz demo`, seed 0
    python benchmarks/learning.py --seeds 0,1,2,3,4      # the same for five seeds, and a summary
    python benchmarks/learning.py --toy toy-8gaussians --seeds 0,1,2 --set loss=bce
    python benchmarks/learning.py --toy toy-rings --steps 3000 --set lr_g=2e-4 --set lr_d=2e-4
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402


def measure(run_dir: Path, rows: int) -> tuple[str, list[tuple[int, str, str, str, str]], bool, str]:
    """(dataset, table rows (step, measure 1, measure 2, measure 3, sliced W), goal met at the end, end summary)."""
    import torch

    from gan_train.datasets import TOYS, gaussians8_modes
    from gan_train.measures import gaussians8_coverage, rings_coverage, sliced_wasserstein, sliced_wasserstein_floor
    from pipeline.run import Run

    run = Run.load(run_dir)
    dataset = run.config["dataset"]
    real = torch.from_numpy(run.real)
    table, met, summary = [], False, ""
    steps = run.spread_steps(rows)
    for step in steps:
        fake = torch.from_numpy(run.snapshot(step).fake)
        sw = f"{sliced_wasserstein(fake, real).value:.3f}"
        if dataset == "rings":
            c = rings_coverage(fake)
            cells = (f"{100 * c.bins_hit:.0f} %", f"{100 * c.arc_bins_hit[0]:.0f} / {100 * c.arc_bins_hit[1]:.0f} %")
            cells += (f"{100 * c.near_arc:.0f} %",)
            met = c.bins_hit >= 0.9 and c.near_arc >= 0.8
            summary = f"bins hit {100 * c.bins_hit:.0f} %, near an arc {100 * c.near_arc:.0f} %"
        elif dataset == "8gaussians":
            c = gaussians8_coverage(fake)
            nearest = torch.cdist(fake.double(), torch.from_numpy(gaussians8_modes())).argmin(1)
            per_mode = torch.bincount(nearest, minlength=8)
            top = int(per_mode.argmax())
            cells = (f"{c.modes_captured} of 8", f"{100 * c.high_quality:.0f} %")
            cells += (f"mode {top}: {100 * int(per_mode[top]) / len(fake):.0f} %",)
            met = c.modes_captured == 8
            summary = f"{c.modes_captured} of 8 modes, high quality {100 * c.high_quality:.0f} %"
        else:
            raise SystemExit(f"{run_dir}: dataset {dataset!r} has no coverage measure (use rings or 8gaussians)")
        table.append((step, *cells, sw))
    rng = np.random.default_rng(12345)
    pool = torch.from_numpy(TOYS[dataset](4 * len(real), rng))
    floor = sliced_wasserstein_floor(pool, len(real))
    summary += f" (sliced W floor {floor.mean:.3f} +- {floor.std:.3f})"
    return dataset, table, met, summary


HEADERS = {
    "rings": ("step", "arc bins hit", "left / right arc", "near an arc", "sliced W"),
    "8gaussians": ("step", "modes captured", "high quality", "most on", "sliced W"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toy", default="demo", help="'demo' (the toy run of ganviz demo) or a 2-D toy variant")
    ap.add_argument("--steps", type=int, help="training steps (default: the run's own)")
    ap.add_argument("--seeds", default="0", help="comma-separated seeds, one run each (default 0)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE", help="config override")
    ap.add_argument("--rows", type=int, default=11, help="snapshots per table (default 11)")
    ap.add_argument("--keep", type=Path, help="write the runs under this folder instead of a temporary one")
    args = ap.parse_args()

    import torch

    from gan_train.config import apply_overrides, get_variant
    from gan_train.train import train
    from pipeline.demo import demo_configs

    torch.set_num_threads(1)
    overrides: dict[str, str | int] = {"device": "cpu"}
    for kv in args.sets:
        key, sep, value = kv.partition("=")
        if not sep:
            raise SystemExit(f"--set {kv}: expected KEY=VALUE")
        overrides[key] = value
    if args.steps is not None:
        overrides["steps"] = args.steps
    base = demo_configs()[1] if args.toy == "demo" else get_variant(args.toy)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        for seed in seeds:
            cfg = apply_overrides(base, {**overrides, "seed": seed})
            out = root / f"{cfg.variant}-seed{seed}"
            t0 = time.perf_counter()
            train(cfg, out=out, progress=sys.stderr.isatty())
            seconds = time.perf_counter() - t0
            dataset, table, met, summary = measure(out, args.rows)
            changed = {k: v for k, v in cfg.to_dict().items() if v != base.to_dict()[k] and k not in ("seed", "device")}
            print(f"\n{cfg.variant}, {cfg.steps} steps, loss {cfg.loss}, seed {seed}, CPU, 1 thread: {seconds:.0f} s")
            if changed:
                print("overrides: " + ", ".join(f"{k}={v}" for k, v in changed.items()))
            print()
            head = HEADERS[dataset]
            print("| " + " | ".join(head) + " |\n|" + " ---: |" * len(head))
            for row in table:
                print("| " + " | ".join(str(x) for x in row) + " |")
            results.append((seed, summary, met, seconds))
    goal = "8 of 8 modes" if dataset == "8gaussians" else ">= 90 % arc bins hit and >= 80 % near an arc"
    print(f"\nat the last snapshot (goal: {goal})\n")
    print("| seed | end | goal met | training s |\n| ---: | --- | --- | ---: |")
    for seed, summary, met, seconds in results:
        print(f"| {seed} | {summary} | {'yes' if met else 'no'} | {seconds:.0f} |")
    print(f"\ngoal met in {sum(r[2] for r in results)} of {len(results)} runs")


if __name__ == "__main__":
    main()
