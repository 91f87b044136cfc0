"""Is the built-in trainer slower in one source tree than in another? Paired, interleaved rounds of the same run.

Each round trains the same variant for the same steps once in each tree (in a fresh process, 1 torch thread, no
quality measures), in alternating order, and reads the training time of steps 21..N from the run's own
metrics.jsonl (start-up and the first block, with step 0's snapshot and checkpoint, left out). It prints each
round, the median time per tree, and the median of the per-round ratios: on a machine shared with other jobs
the rounds drift a lot, and pairing is what keeps the comparison fair.

    git archive OLD_COMMIT | tar -x -C /tmp/before
    python benchmarks/trainer_ab.py /tmp/before . --variant toy-rings --steps 1000 --rounds 6
    python benchmarks/trainer_ab.py /tmp/before . --variant dcgan-digits --steps 100 --set ngf=16 --set ndf=16
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TRAIN = """
import sys, torch
torch.set_num_threads(1)
from gan_train.config import apply_overrides, get_variant
from gan_train.train import train
variant, steps, out, *sets = sys.argv[1:]
over = {"device": "cpu", "steps": steps, "eval_every": "-1", **dict(kv.split("=", 1) for kv in sets)}
train(apply_overrides(get_variant(variant), over), out=out, progress=False)
"""
FIRST_TIMED = 20  # the first block (log_every's default) holds start-up work


def train_seconds(tree: Path, variant: str, steps: int, sets: list[str]) -> float:
    out = Path(tempfile.mkdtemp(prefix="trainer-ab-")) / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = [sys.executable, "-c", TRAIN, variant, str(steps), str(out), *sets]
    subprocess.run(args, cwd=tree, env=env, check=True, stderr=subprocess.DEVNULL)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    first = next(r for r in rows if r["step"] == FIRST_TIMED)
    return rows[-1]["time"] - first["time"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path, help="source tree A (e.g. an older commit, unpacked)")
    ap.add_argument("after", type=Path, help="source tree B")
    ap.add_argument("--variant", default="toy-rings")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    if args.steps <= FIRST_TIMED:
        ap.error(f"--steps must be above {FIRST_TIMED}")
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    times: dict[str, list[float]] = {k: [] for k in trees}
    for r in range(args.rounds):
        for k in list(trees) if r % 2 == 0 else list(trees)[::-1]:
            times[k].append(train_seconds(trees[k], args.variant, args.steps, args.sets))
            print(f"round {r + 1} {k}: {times[k][-1]:.3f} s for steps {FIRST_TIMED + 1}..{args.steps}", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    pairs = [a / b for a, b in zip(times["after"], times["before"], strict=True)]
    print(
        f"{args.variant}, {args.steps} steps {' '.join(args.sets)}: median before {med['before']:.3f} s, after "
        f"{med['after']:.3f} s; after/before of the medians {med['after'] / med['before']:.3f}, median of the "
        f"paired rounds {statistics.median(pairs):.3f} (rounds: {' '.join(f'{p:.2f}' for p in pairs)})"
    )


if __name__ == "__main__":
    main()
