"""Does a 2-D toy GAN learn, or collapse? Trains it on this CPU for the given seeds and prints what each run
recorded in its evals.jsonl (gan_train/evaluation.py: G's 1,000 evaluation samples, every 10th snapshot).

What a few thousand training steps learn depends on the CPU's kernels, so the test suite never asserts it; this
script shows it on the machine at hand (docs/mode-collapse.md quotes its tables).

- toy-8gaussians: modes captured (goal 8 of 8), the share of high-quality samples (within 3 std of a mode; real
  data: 98.9 %) and, from the snapshot at that step (G's fixed noise batch), the mode nearest to most samples and
  their share (real data: 12.5 % each; a collapsed G has nearly all of them nearest one mode, even when none is
  close enough to count as high quality; a G that hops between modes names another mode from row to row)
- toy-rings: the share of the 2 x 24 arc bins hit (goal >= 90 %) and of samples near an arc (goal >= 80 %)
- both: sliced Wasserstein distance to held-out real samples, and what a perfect G would read (the floor)

    python benchmarks/learning.py                                   # the demo's toy run, seed 0
    python benchmarks/learning.py --seeds 0,1,2,3,4                 # five seeds, and the curves side by side
    python benchmarks/learning.py --seeds 0,1,2,3,4 --set loss=bce  # the same settings with the plain GAN loss
    python benchmarks/learning.py --toy toy-rings --steps 3000
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

#: Per dataset: the table's columns after the step, and the goal in words.
COLUMNS = {
    "8gaussians": ("modes captured", "high quality", "nearest mode of most samples", "sliced W1 (floor)"),
    "rings": ("arc bins hit", "near an arc", "sliced W1 (floor)"),
}
GOALS = {"8gaussians": "8 of 8 modes", "rings": ">= 90 % arc bins hit and >= 80 % near an arc"}
#: A G with at least this share of its samples nearest one mode has collapsed onto it.
COLLAPSED = 0.9


def pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def nearest_mode(fake: np.ndarray) -> tuple[int, float]:
    """The mode nearest to most of G's samples, and their share: a collapsed G has nearly all on one mode (real
    data: 12.5 % each), even when none is close enough to count as high quality."""
    from gan_train.datasets import gaussians8_modes

    nearest = np.linalg.norm(fake[:, None, :] - gaussians8_modes()[None], axis=-1).argmin(1)
    per_mode = np.bincount(nearest, minlength=8)
    top = int(per_mode.argmax())
    return top, float(per_mode[top] / len(fake))


def curve(run_dir: Path) -> tuple[str, list[tuple[int, tuple[str, ...]]], dict[int, str], bool]:
    """(dataset, table rows (step, cells), the headline cell per step (modes captured, with the mode when G
    collapsed onto one; or arc bins hit), goal met at the last row), from the run's evals.jsonl; the nearest
    mode from its snapshots (G's fixed noise batch)."""
    from pipeline.run import Run

    run = Run.load(run_dir)
    dataset = run.config["dataset"]
    if dataset not in COLUMNS:
        raise SystemExit(f"error: {run_dir}: dataset {dataset!r} has no coverage measure (use rings or 8gaussians)")
    ev = run.evals
    sw = ev.get("sliced_w1")
    if sw is None:
        raise SystemExit(f"error: {run_dir}: no quality measures recorded (drop --set eval_every=-1)")
    rows, headline, met = [], {}, False
    for i, step in enumerate(sw.steps.tolist()):
        dist = f"{sw.values[i]:.3f} ({sw.rows[i]['floor']:.3f})"
        if dataset == "8gaussians":
            captured, hq = int(ev.get("modes_captured").values[i]), ev.get("high_quality").values[i]
            near, headline[step] = "", str(captured)
            if step in run.steps:
                top, share = nearest_mode(run.snapshot(step).fake)
                near = f"{top}: {pct(share)}"
                headline[step] += f" (on {top})" if share >= COLLAPSED else ""
            cells = (f"{captured} of 8", pct(hq), near, dist)
            met = captured == 8
        else:
            bins, near_arc = ev.get("arc_bins_hit").values[i], ev.get("near_arc").values[i]
            cells = (pct(bins), pct(near_arc), dist)
            headline[step], met = pct(bins), bins >= 0.9 and near_arc >= 0.8
        rows.append((step, cells))
    return dataset, rows, headline, met


def markdown(head: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + " ---: |" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toy", default="demo", help="'demo' (the toy run of ganviz demo) or a 2-D toy variant")
    ap.add_argument("--steps", type=int, help="training steps (default: the variant's)")
    ap.add_argument("--seeds", default="0", help="comma-separated seeds, one run each (default 0)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE", help="config override")
    ap.add_argument("--keep", type=Path, help="write the runs under this folder instead of a temporary one")
    args = ap.parse_args()

    import torch

    from gan_train.config import ConfigError, apply_overrides, get_variant
    from gan_train.train import train
    from pipeline.demo import DEMO_TOY

    torch.set_num_threads(1)
    overrides: dict[str, str | int] = {"device": "cpu"}
    for kv in args.sets:
        key, sep, value = kv.partition("=")
        if not sep:
            raise SystemExit(f"error: --set {kv}: expected KEY=VALUE")
        overrides[key] = value
    if args.steps is not None:
        overrides["steps"] = args.steps
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        base = get_variant(DEMO_TOY if args.toy == "demo" else args.toy)
        cfgs = [apply_overrides(base, {**overrides, "seed": seed}) for seed in seeds]
    except (ValueError, ConfigError) as e:
        raise SystemExit(f"error: {e}") from None
    changed = {k: v for k, v in cfgs[0].to_dict().items() if v != base.to_dict()[k] and k not in ("seed", "device")}
    setting = f"{base.variant}, {cfgs[0].steps} steps, loss {cfgs[0].loss}" + "".join(
        f", {k}={v}" for k, v in changed.items() if k not in ("steps", "loss")
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        for cfg in cfgs:
            out = root / f"{cfg.variant}{'' if cfg.loss == base.loss else '-' + cfg.loss}-seed{cfg.seed}"
            t0, c0 = time.perf_counter(), time.process_time()
            train(cfg, out=out, progress=sys.stderr.isatty())
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            dataset, rows, headline, met = curve(out)
            print(f"\n{setting}, seed {cfg.seed}: {seconds:.0f} s training ({cpu:.0f} s CPU, 1 thread)\n")
            print(markdown(("step", *COLUMNS[dataset]), [(s, *cells) for s, cells in rows]))
            results.append((cfg.seed, headline, met, seconds))
    key = "modes captured" if dataset == "8gaussians" else "arc bins hit"
    steps = sorted({s for _, h, _, _ in results for s in h})
    note = f" ('on k': {pct(COLLAPSED)} or more of G's samples nearest mode k)" if dataset == "8gaussians" else ""
    print(f"\n{setting}: {key} per seed{note}\n")
    head = ("step", *(f"seed {seed}" for seed, *_ in results))
    print(markdown(head, [(s, *(h.get(s, "") for _, h, _, _ in results)) for s in steps]))
    print(f"\ngoal ({GOALS[dataset]}) met at the last step in {sum(r[2] for r in results)} of {len(results)} runs;")
    print("training seconds per run: " + ", ".join(f"{r[3]:.0f}" for r in results))


if __name__ == "__main__":
    main()
