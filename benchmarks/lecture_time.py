"""How long `ganviz lecture` takes from nothing: trains its four runs, renders its six lessons act by act and
writes the deck, in a fresh folder (a fresh dataset cache too, unless --cache names one), as a teacher's first call.

    python benchmarks/lecture_time.py                      # --size small: the goal is 12 minutes on 2 CPU cores
    python benchmarks/lecture_time.py --size large --keep outputs/lecture-bench

Prints the wall time of each stage (from the command's own progress lines), the CPU seconds, the load average
before and after, and the deck's size; a second call in the same folder (--again) shows what reuse saves.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(folder: Path, size: str, extra: list[str], env: dict[str, str]) -> list[tuple[float, str]]:
    """Run the lecture in ``folder``; (seconds since start, line) for each progress line."""
    cmd = [sys.executable, "-m", "ganviz", "lecture", "--size", size, "--quiet", *extra]
    cmd += ["--root", str(folder / "runs"), "-o", str(folder / "deck")]
    t0 = time.perf_counter()
    lines = []
    with subprocess.Popen(cmd, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as p:
        assert p.stdout is not None
        for line in p.stdout:
            lines.append((time.perf_counter() - t0, line.rstrip()))
            print(f"{lines[-1][0]:7.1f} s  {lines[-1][1]}", flush=True)
    if p.returncode:
        sys.exit(f"ganviz lecture failed (exit {p.returncode})")
    lines.append((time.perf_counter() - t0, "done"))
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="small", choices=["small", "large"])
    ap.add_argument("--keep", type=Path, help="Folder to run in and keep (default: a temporary one)")
    ap.add_argument("--cache", type=Path, help="Dataset/classifier cache to use (default: a fresh one)")
    ap.add_argument("--again", action="store_true", help="Then run it a second time in the same folder")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="lecture-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GANVIZ_CACHE_DIR": str(args.cache or folder / "cache")}
    load0 = os.getloadavg()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = run(folder, args.size, [], env)
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    load1 = os.getloadavg()
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    total = lines[-1][0]
    deck = sum(f.stat().st_size for f in (folder / "deck").rglob("*") if f.is_file())
    print(f"\nlecture --size {args.size}: {total / 60:.1f} min wall ({total:.0f} s), {cpu:.0f} CPU s")
    print(f"{os.cpu_count()} CPUs")
    print(f"load average before {load0[0]:.1f}, after {load1[0]:.1f} (1 min); deck {deck / 1e6:.1f} MB in {folder}")
    if args.again:
        again = run(folder, args.size, [], env)[-1][0]
        print(f"second call (runs and acts reused): {again:.0f} s")


if __name__ == "__main__":
    main()
