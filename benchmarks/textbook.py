"""ganviz against the textbook loop, whole process, as a new user would time them.

The textbook loop is the PyTorch examples' `dcgan/main.py`, run unchanged from a copy the user passes with
`--reference` (it is not part of ganviz: fetch it from github.com/pytorch/examples). Both train DCGAN-64 for the same
epochs on the same folder of JPEGs with the same batch and widths; each round times, in fresh processes and in
alternating order, the reference and ganviz under each `--set amp=...` asked for. The table gives medians of the
whole processes' wall time (start-up, data, training, writing) and their ratio to the reference in the same rounds.

Before the rounds, one untimed run of each warms the page cache, ganviz's decoded-dataset cache and its once-per-
machine bf16 probe (a user's first run pays these once: printed separately).

    python benchmarks/textbook.py --reference ~/examples/dcgan/main.py
    python benchmarks/textbook.py --reference main.py --images 2048 --ngf 32 --rounds 3 --amp auto,off
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

from train_throughput import make_jpeg_folder  # noqa: E402


def reference_cmd(ref: Path, data: Path, out: Path, args: argparse.Namespace) -> list[str]:
    return [
        sys.executable, str(ref), "--dataset", "folder", "--dataroot", str(data), "--batchSize", str(args.batch),
        "--imageSize", "64", "--ngf", str(args.ngf), "--ndf", str(args.ngf), "--niter", str(args.epochs),
        "--outf", str(out), "--manualSeed", "1", "--workers", str(args.workers),
    ]  # fmt: skip


def ganviz_cmd(data: Path, out: Path, amp: str, args: argparse.Namespace) -> list[str]:
    return [
        sys.executable, "-m", "ganviz", "train", "dcgan-celeba", "--dataset", "folder", "--data-root", str(data),
        "--batch-size", str(args.batch), "--epochs", str(args.epochs), "--snapshot-every", str(args.snapshot_every),
        "--set", f"ngf={args.ngf}", "--set", f"ndf={args.ngf}", "--set", f"amp={amp}", "-o", str(out), "--quiet",
    ]  # fmt: skip


def timed(cmd: list[str], env: dict[str, str], out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:4])} ... failed:\n{done.stderr[-2000:]}")
    shutil.rmtree(out, ignore_errors=True)
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", type=Path, required=True, help="pytorch/examples dcgan/main.py, unchanged")
    ap.add_argument("--images", type=int, default=2048)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--ngf", type=int, default=32, help="ngf = ndf of both")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--snapshot-every", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2, help="the reference's DataLoader workers (its default: 2)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--amp", default="auto,off", help="ganviz's amp settings to time, comma-separated")
    args = ap.parse_args()
    if not args.reference.is_file():
        sys.exit(f"--reference {args.reference}: no such file (pytorch/examples' dcgan/main.py)")
    amps = args.amp.split(",")
    with tempfile.TemporaryDirectory(prefix="textbook-") as tmp:
        root = Path(tmp)
        data = root / "data"
        make_jpeg_folder(data, args.images)
        env = {**os.environ, "GANVIZ_CACHE_DIR": str(root / "cache"), "PYTHONPATH": str(Path(__file__).parents[1])}
        env.pop("GANVIZ_AMP", None)
        jobs = {"reference": reference_cmd(args.reference, data, root / "out", args)}
        jobs |= {f"ganviz amp={a}": ganviz_cmd(data, root / "out", a, args) for a in amps}
        # what every torch process pays before its first step: no program can beat the reference by more than
        # reference / this. The reference also pays torch._dynamo, which torch.optim imports on first use; ganviz
        # does not (gan_train/optim.py), so the second row is what the reference pays before its first step
        jobs["floor: import torch"] = [sys.executable, "-c", "import torch"]
        jobs["start-up of the reference: import torch, torch._dynamo"] = [
            sys.executable, "-c", "import torch, torch._dynamo",
        ]  # fmt: skip
        first = {name: timed(cmd, env, root / "out") for name, cmd in jobs.items()}  # warm-up, decode, probe
        times: dict[str, list[float]] = {name: [] for name in jobs}
        for r in range(args.rounds):
            order = list(jobs) if r % 2 == 0 else list(reversed(jobs))
            for name in order:
                times[name].append(timed(jobs[name], env, root / "out"))
            print(f"round {r + 1}: " + ", ".join(f"{n} {times[n][-1]:.1f} s" for n in jobs), file=sys.stderr)
    print_table(args, jobs, times, first)


def print_table(args: argparse.Namespace, jobs: dict, times: dict[str, list[float]], first: dict[str, float]) -> None:
    import torch

    ref = statistics.median(times["reference"])
    steps = args.epochs * (args.images // args.batch)
    print(
        f"# ganviz vs pytorch/examples dcgan/main.py, whole process\n\n"
        f"{args.images} JPEGs 64x64, batch {args.batch}, ngf = ndf = {args.ngf}, {args.epochs} epoch(s) = {steps} "
        f"steps, ganviz snapshots every {args.snapshot_every} steps; {os.cpu_count()} cores, torch "
        f"{torch.__version__}; load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; median of "
        f"{args.rounds} interleaved rounds\n\n"
        "| program | wall, median (range) | / reference | faster by | first run (decode, probe) |\n"
        "| --- | ---: | ---: | ---: | ---: |"
    )
    for name in jobs:
        med = statistics.median(times[name])
        if name.startswith("floor"):
            print(f"| {name} | {med:.2f} s | {med / ref:.2f} | at most {ref / med:.2f}x | |")
            continue
        if name.startswith("start-up"):
            print(f"| {name} | {med:.2f} s | {med / ref:.2f} | | |")
            continue
        print(
            f"| {name} | {med:.2f} s ({min(times[name]):.2f} - {max(times[name]):.2f}) | {med / ref:.2f} | "
            f"{ref / med:.2f}x | {first[name]:.2f} s |"
        )
    print("\nReference / program in each round (the rounds are interleaved, so each pair ran side by side):\n")
    for name in jobs:
        if name != "reference" and not name.startswith(("floor", "start-up")):
            pairs = [r / t for r, t in zip(times["reference"], times[name], strict=True)]
            print(f"- {name}: " + ", ".join(f"{x:.2f}x" for x in pairs) + f" (lowest {min(pairs):.2f}x)")


if __name__ == "__main__":
    main()
