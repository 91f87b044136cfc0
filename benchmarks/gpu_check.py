"""The GPU check: what a lent GPU machine should measure about ganviz's training, within a fixed time budget.

Runs, each part in a process of its own with a share of ``--budget`` (default 440 s, under the 8 minutes the check
is allowed; time a part leaves unused goes to the next): (a) ganviz's loop against the plain reference loop of
train_throughput.py (same model, data and batch; interleaved rounds, medians), (b) img/s in fp32, bf16 autocast,
``--compile`` and both, (c) the quality measures' share of a run, (d) a snapshot's share of step time and (e) one
short ``ganviz train --nproc N`` run. A part stops before a round that would overrun its share, and is killed at
the end of its share; the results file says which. Writes one markdown file in the format of benchmarks/results.

    bash benchmarks/gpu_check.sh                          # the GPU (default: CUDA when present)
    bash benchmarks/gpu_check.sh --device cpu --quick     # toy sizes, well under a minute: the tested path
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gpu_check_parts import stop_group
from gpu_check_report import report

ROOT = Path(__file__).resolve().parents[1]
PARTS_SCRIPT = Path(__file__).resolve().parent / "gpu_check_parts.py"
#: each part's share of the budget (prep: the JPEG folder and ganviz's one-time decode of it)
SHARES = {"prep": 0.08, "loop": 0.27, "precision": 0.31, "measures": 0.17, "snapshot": 0.05, "ddp": 0.12}
#: sizes by where the check runs: the standard DCGAN-64 on a GPU, train_throughput's defaults on a CPU, toys quick
SIZES = {
    "cuda": dict(ngf=64, batch=512, images=8192, steps=200, warmup=20, rounds=3, precision_rounds=3, snap_every=40),
    "cpu": dict(ngf=16, batch=64, images=1024, steps=100, warmup=10, rounds=3, precision_rounds=2, snap_every=50),
    "quick": dict(ngf=8, batch=16, images=64, steps=4, warmup=2, rounds=1, precision_rounds=1, snap_every=2),
}
MEASURES = {"cuda": ("dcgan-digits", 0, 1), "cpu": ("dcgan-digits", 300, 1), "quick": ("toy-rings", 20, 1)}
DDP = {"cuda": (100, 20), "cpu": (40, 10), "quick": (4, 2)}  # (timed steps, warm-up steps)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto", help="auto (cuda when present), cuda, cuda:N or cpu")
    p.add_argument("--quick", action="store_true", help="toy sizes (seconds): the path the tests run")
    p.add_argument("--out", type=Path, help="results file (default benchmarks/results/gpu-check-<device>.md)")
    p.add_argument("--budget", type=float, default=440.0, help="seconds for all parts together (default 440)")
    p.add_argument("--workdir", type=Path, help="keep JPEGs, cache and runs here (default: a temporary folder)")
    for name in ("ngf", "batch", "images", "steps", "warmup", "rounds", "precision_rounds", "snap_every"):
        p.add_argument(f"--{name.replace('_', '-')}", type=int, help="override the size for this device")
    p.add_argument("--workers", type=int, help="the reference loop's DataLoader workers (textbook: 2; --quick: 0)")
    p.add_argument("--compile-backend", help="torch.compile backend (default inductor; eager with --quick on CPU)")
    p.add_argument("--measures-variant", help="the run whose measures (c) times (default: dcgan-digits, the demo's)")
    p.add_argument("--measures-steps", type=int, help="its steps (0: the variant's own)")
    p.add_argument("--threads", type=int, default=0, help="torch threads on CPU (0: torch's default)")
    p.add_argument("--in-process", action="store_true", help="run the parts in this process (no budget kill)")
    p.add_argument("--parts", default=",".join(SHARES), help="comma-separated subset of: " + ", ".join(SHARES))
    args = p.parse_args(argv)
    unknown = set(args.parts.split(",")) - set(SHARES)
    if unknown:
        p.error(f"--parts: unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(SHARES)}")
    if args.budget < 10:
        p.error("--budget: give at least 10 seconds")
    return args


def resolve(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Every setting the parts read, from the device's sizes and the options given."""
    import torch

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(f"error: --device {device}: CUDA is not available here; use --device cpu")
    kind = "quick" if args.quick else ("cuda" if device.startswith("cuda") else "cpu")
    workers = args.workers if args.workers is not None else (0 if kind == "quick" else 2)
    s: dict[str, Any] = {**SIZES[kind], "device": device, "kind": kind, "workers": workers}
    s.update({k: v for k in SIZES[kind] if (v := getattr(args, k)) is not None})
    if s["steps"] % s["warmup"] or s["snap_every"] % s["warmup"]:
        raise SystemExit("error: --warmup must divide --steps and --snap-every (ganviz times whole metric blocks)")
    s["measures_variant"], s["measures_steps"], s["measures_rounds"] = MEASURES[kind]
    if args.measures_variant:
        s["measures_variant"] = args.measures_variant
    if args.measures_steps is not None:
        s["measures_steps"] = args.measures_steps
    s["ddp_steps"], s["ddp_warmup"] = DDP[kind]
    s["ddp_cpu_ngf"], s["ddp_cpu_batch"] = (8, 16) if kind == "quick" else (16, 64)
    quick_cpu = kind == "quick" and device == "cpu"
    s["compile_backend"] = args.compile_backend or ("eager" if quick_cpu else "inductor")
    # the matrix product that gives the arithmetic ceiling, and the direct snapshot timing (steps, repeats)
    s["matmul_n"], s["snapshot_timing"] = (512, (2, 2)) if kind == "quick" else (2048, (10, 5))
    s["threads"], s["budget"], s["in_process"] = args.threads, args.budget, args.in_process
    s["folder"] = str(work / f"jpegs-{s['images']}")  # kept in a --workdir and used again
    s["runs"] = tempfile.mkdtemp(dir=work, prefix="runs-")  # new for every check
    return s


def run_part(name: str, s: dict[str, Any], work: Path, seconds: float) -> dict[str, Any]:
    """One part in its own process, killed (with its children) at ``seconds``; returns what it wrote."""
    settings, result = work / f"settings-{name}.json", work / f"part-{name}.json"
    margin = min(0.1 * seconds, 20.0)  # for what the part does after its last round
    settings.write_text(json.dumps({**s, "deadline": time.time() + seconds - margin}))
    start = time.perf_counter()
    if s["in_process"]:
        rc = in_process(name, settings, result)
    else:
        rc = in_subprocess(name, settings, result, seconds)
    data = json.loads(result.read_text()) if result.exists() else {}
    data.update(name=name, budget_s=seconds, used_s=time.perf_counter() - start, rc=rc)
    if rc is None:
        data["stopped"] = f"killed at its budget of {seconds:.0f} s; what it measured before is shown"
    elif rc != 0:
        data["stopped"] = f"failed (exit code {rc}); see the output above"
    return data


def in_subprocess(name: str, settings: Path, result: Path, seconds: float) -> int | None:
    """The part's exit code, or None when it was killed (with every process it started) at ``seconds``."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        [sys.executable, str(PARTS_SCRIPT), name, str(settings), str(result)], env=env, start_new_session=True
    ) as proc:
        try:
            return proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            stop_group(proc)
            return None
        except BaseException:  # Ctrl-C, or SIGTERM (from gpu_check.sh's last guard): the part runs in its own session
            stop_group(proc)
            raise


def in_process(name: str, settings: Path, result: Path) -> int:
    """The part run here (--in-process: one import of torch for all parts; the budget only stops rounds)."""
    import traceback

    import gpu_check_parts

    try:
        gpu_check_parts.run(name, settings, result)
    except Exception:
        traceback.print_exc()
        return 1
    return 0


def run_all(args: argparse.Namespace, s: dict[str, Any], work: Path) -> dict[str, dict[str, Any]]:
    """The parts in order, each with its share of the budget plus what earlier parts left unused."""
    chosen = [p for p in SHARES if p in args.parts.split(",") or p == "prep"]
    total = sum(SHARES[p] for p in chosen)
    start, slack, results = time.perf_counter(), 0.0, {}
    for name in chosen:
        share = args.budget * SHARES[name] / total
        left = args.budget - (time.perf_counter() - start)
        seconds = min(share + slack, left)
        print(f"== {name}: up to {seconds:.0f} s (elapsed {time.perf_counter() - start:.0f} s)", file=sys.stderr)
        if seconds < 3:
            results[name] = {"name": name, "budget_s": seconds, "used_s": 0.0, "stopped": "not run: no time left"}
            continue
        results[name] = run_part(name, s, work, seconds)
        slack = max(0.0, share + slack - results[name]["used_s"])
        used = results[name]["used_s"]
        status = results[name].get("stopped") or "complete"
        print(f"== {name}: {used:.1f} s of {seconds:.0f} s, {status}", file=sys.stderr)
    return results


def default_out(results: dict[str, dict[str, Any]], device: str) -> Path:
    info = results.get("prep", {}).get("machine", {})
    tag = re.sub(r"[^a-z0-9]+", "-", str(info.get("gpu") or device).lower()).strip("-")
    return ROOT / "benchmarks" / "results" / f"gpu-check-{tag}.md"


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("error: stopped by SIGTERM"))  # ends the running part too
    t0, started = time.perf_counter(), dt.datetime.now(dt.UTC)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="ganviz-gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["GANVIZ_CACHE_DIR"] = str(work / "cache")  # the parts' dataset cache, out of the checkout
    try:
        s = resolve(args, work)
        results = run_all(args, s, work)
        out = args.out or default_out(results, s["device"])
        if out.is_dir():  # --out "$OUT" on the GPU machine
            out = out / default_out(results, s["device"]).name
        command = "bash benchmarks/gpu_check.sh " + " ".join(sys.argv[1:] if argv is None else argv)
        end_load = os.getloadavg() if hasattr(os, "getloadavg") else None
        text = report(s, results, command, started, time.perf_counter() - t0, end_load)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(text)
        print(f"results written to {out} ({time.perf_counter() - t0:.0f} s in all)", file=sys.stderr)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
