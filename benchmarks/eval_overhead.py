"""What the quality measures add to training time: the demo variants trained with the default evaluation interval
against the same training with no measures (``eval_every=-1``), in interleaved rounds on the CPU.

A round trains each variant twice, once each way, in alternating order; the table shows the median wall time of the
whole ``train()`` call (set-up, the real reference the measures build once per run, every evaluation, the final
one) and the ratio of the medians. On a machine shared with other work that ratio swings with the load, so the runs
with measures also clock the measures themselves (building the real reference and every evaluation, on the
training thread): their share of the same run's wall time is the overhead, unaffected by load that changes between
runs. The digits classifier is trained once per machine and cached; it is built before timing starts and its
one-time cost is printed apart.

    OMP_NUM_THREADS=1 python benchmarks/eval_overhead.py [--rounds 3] [--steps N] [--variants dcgan-digits,...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from gan_train import evaluation  # noqa: E402
from gan_train.config import apply_overrides, get_variant  # noqa: E402
from gan_train.train import train  # noqa: E402

#: seconds spent in the measures (building the Evaluator, every evaluation) since the last reset
clock = {"seconds": 0.0}


def clocked(fn):  # noqa: ANN001, ANN201 (wraps a method of Evaluator)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            clock["seconds"] += time.perf_counter() - start

    return wrapper


evaluation.Evaluator.__init__ = clocked(evaluation.Evaluator.__init__)
evaluation.Evaluator.__call__ = clocked(evaluation.Evaluator.__call__)

DEFAULT_VARIANTS = ("dcgan-digits", "toy-8gaussians")  # the demo's two runs


def timed_run(variant: str, steps: int | None, evals: bool, root: Path) -> tuple[float, float, int]:
    """Wall seconds of one training run, the seconds of it spent in the measures, and the number of evaluations."""
    overrides: dict[str, object] = {"device": "cpu"}
    if steps:
        overrides["steps"] = steps
    if not evals:
        overrides["eval_every"] = -1
    cfg = apply_overrides(get_variant(variant), overrides)
    out = root / f"{variant}-{'evals' if evals else 'plain'}-{time.monotonic_ns()}"
    clock["seconds"] = 0.0
    start = time.perf_counter()
    train(cfg, out=out, progress=False)
    seconds = time.perf_counter() - start
    evals_file = out / "evals.jsonl"
    lines = evals_file.read_text().splitlines() if evals_file.exists() else []
    return seconds, clock["seconds"], len({json.loads(line)["step"] for line in lines})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=0, help="training steps (0: each variant's own, as the demo trains)")
    ap.add_argument("--variants", default=",".join(DEFAULT_VARIANTS))
    args = ap.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    print(
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{torch.get_num_threads()} torch threads, load average at start {os.getloadavg()[0]:.2f}\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["GANVIZ_CACHE_DIR"] = str(root / "cache")
        from gan_train.features import DigitsRecipe, digits_classifier

        start = time.perf_counter()
        clf = digits_classifier(DigitsRecipe(), root / "cache")
        print(
            f"digits classifier, once per machine: {time.perf_counter() - start:.1f} s "
            f"(held-out accuracy {clf.held_out_accuracy:.1%})\n"
        )
        times: dict[tuple[str, bool], list[float]] = {(v, e): [] for v in variants for e in (True, False)}
        counts: dict[str, int] = {}
        shares: dict[str, list[float]] = {v: [] for v in variants}
        for r in range(args.rounds):
            for v in variants:
                for evals in (r % 2 == 0, r % 2 == 1):  # alternate which goes first
                    seconds, in_measures, n = timed_run(v, args.steps, evals, root)
                    times[(v, evals)].append(seconds)
                    if evals:
                        counts[v] = n
                        shares[v].append(in_measures / (seconds - in_measures))
                    how = f"with measures ({in_measures:.1f} s in them)" if evals else "without measures"
                    print(f"round {r + 1} {v:16} {seconds:7.1f} s {how}, load {os.getloadavg()[0]:.1f}")
    print("\n| variant | steps | evaluations | without measures | with measures | ratio | measures / rest of run |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for v in variants:
        plain, with_evals = statistics.median(times[(v, False)]), statistics.median(times[(v, True)])
        steps = args.steps or get_variant(v).steps
        share = statistics.median(shares[v])
        print(
            f"| {v} | {steps} | {counts[v]} | {plain:.1f} s | {with_evals:.1f} s | {with_evals / plain:.3f}x "
            f"| {share:.1%} |"
        )


if __name__ == "__main__":
    main()
