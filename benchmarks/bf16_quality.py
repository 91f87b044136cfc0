"""Does bf16 autocast train as well as fp32? The digits-space Fréchet distance and KID of bf16 runs against the
seed-to-seed spread of fp32 runs at the same step.

Trains `dcgan-digits` (the embedded 5,000 MNIST digits) once per seed with `--set amp=off` and once with
`--set amp=bf16`, and reads each run's evals.jsonl (G's 1,000 evaluation samples against 1,000 real digits in the
digits classifier's feature space, gan_train/evaluation.py). For each step it prints the fp32 runs' range over the
seeds, the bf16 runs' values, and whether the bf16 mean lies inside the fp32 range ("equal quality" in docs/speed.md:
the difference bf16 makes is no larger than the one a different seed makes).

    python benchmarks/bf16_quality.py                       # 3 seeds, 600 steps, measures every 200
    python benchmarks/bf16_quality.py --seeds 0,1,2,3,4 --steps 1500 --every 300 --out results.md
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

MEASURES = ("fd", "kid")
ARITHMETICS = ("off", "bf16")  # the config's amp values: fp32 and bf16 autocast


def train_one(out: Path, seed: int, amp: str, args: argparse.Namespace) -> dict[tuple[int, str], float]:
    """One run; its measures as {(step, measure): value}."""
    from gan_train.config import apply_overrides, get_variant
    from gan_train.train import train

    cfg = apply_overrides(
        get_variant("dcgan-digits"),
        {"device": "cpu", "seed": seed, "amp": amp, "steps": args.steps, "eval_every": args.every},
    )
    run = train(cfg, out=out, progress=False)
    rows = [json.loads(line) for line in (run / "evals.jsonl").read_text().splitlines() if line.strip()]
    return {(r["step"], r["measure"]): float(r["value"]) for r in rows if r["measure"] in MEASURES}


def table(results: dict[tuple[str, int], dict[tuple[int, str], float]], seeds: list[int]) -> list[str]:
    """Markdown rows: per step and measure, the fp32 range, each bf16 value, and the verdict."""
    steps = sorted({s for r in results.values() for (s, _) in r if s > 0})
    lines = [
        "| step | measure | fp32: min - max over seeds | fp32 mean | bf16 per seed | bf16 mean | in fp32 range |",
        "| ---: | --- | ---: | ---: | --- | ---: | --- |",
    ]
    for step in steps:
        for m in MEASURES:
            fp32 = np.array([results[("off", s)][(step, m)] for s in seeds])
            bf16 = np.array([results[("bf16", s)][(step, m)] for s in seeds])
            inside = fp32.min() <= bf16.mean() <= fp32.max()
            lines.append(
                f"| {step} | {m} | {fp32.min():.2f} - {fp32.max():.2f} | {fp32.mean():.2f} | "
                f"{', '.join(f'{v:.2f}' for v in bf16)} | {bf16.mean():.2f} | {'yes' if inside else '**no**'} |"
            )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (at least 2 give a spread)")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--every", type=int, default=200, help="steps between quality measures")
    ap.add_argument("--out", type=Path, help="also write the report to this markdown file")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    results: dict[tuple[str, int], dict[tuple[int, str], float]] = {}
    seconds: dict[str, list[float]] = {a: [] for a in ARITHMETICS}
    with tempfile.TemporaryDirectory(prefix="bf16-quality-") as tmp:
        os.environ.setdefault("GANVIZ_CACHE_DIR", str(Path(tmp) / "cache"))
        for seed in seeds:
            for amp in ARITHMETICS:  # interleaved: a busy spell of the machine slows both alike
                t0 = time.perf_counter()
                results[(amp, seed)] = train_one(Path(tmp) / f"{amp}-{seed}", seed, amp, args)
                seconds[amp].append(time.perf_counter() - t0)
                print(f"seed {seed}, amp={amp}: {seconds[amp][-1]:.0f} s", file=sys.stderr, flush=True)
    import torch

    report = [
        f"# bf16 vs fp32 quality: dcgan-digits, {args.steps} steps, seeds {args.seeds}",
        "",
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), load average before the table: "
        f"{open('/proc/loadavg').read().split()[0] if Path('/proc/loadavg').exists() else 'n/a'}",
        f"whole-run time, median over seeds: fp32 {np.median(seconds['off']):.0f} s, "
        f"bf16 {np.median(seconds['bf16']):.0f} s (measures included)",
        "",
        *table(results, seeds),
    ]
    print("\n".join(report))
    if args.out:
        args.out.write_text("\n".join(report) + "\n")


if __name__ == "__main__":
    main()
