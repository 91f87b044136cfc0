"""Seconds to render each built-in scene at -q low (goal: <= 60 s each on a 2-core CPU machine).

    python benchmarks/render_times.py                      # trains small digits + rings runs first
    python benchmarks/render_times.py --run RUN --run-2d TOY2D_RUN [--compare RUN] [-q low]

Prints one table row per scene: the run it drew, seconds, frames and the video's size.
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

GOAL_S = 60.0


def small_runs(root: Path) -> tuple[Path, Path]:
    """A small digits run and a small rings run, trained here (CPU) when none are given."""
    from gan_train.config import apply_overrides, get_variant
    from gan_train.train import train

    digits = apply_overrides(get_variant("dcgan-digits"), {"device": "cpu", "steps": 300, "ngf": 16, "ndf": 16})
    rings = apply_overrides(get_variant("toy-rings"), {"device": "cpu", "steps": 600})
    return train(digits, out=root / "digits", progress=False), train(rings, out=root / "rings", progress=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, help="run for every scene (default: train a small digits run)")
    ap.add_argument("--run-2d", type=Path, help="2-D toy run for distribution (default: train a small rings run)")
    ap.add_argument("--compare", type=Path, help="second run for gradient_flow's comparison")
    ap.add_argument("-q", "--quality", default="low", choices=["low", "medium", "high", "4k"])
    ap.add_argument("--out", type=Path, help="where videos go (default: a temporary folder)")
    args = ap.parse_args()

    import av
    import manim  # noqa: F401  (imported once here, so the first scene's time is its own)

    from pipeline.errors import GanvizError
    from pipeline.render import builtin_scene_path, builtin_scenes, render_file, scene_kinds
    from pipeline.run import Run

    tmp = Path(tempfile.mkdtemp(prefix="ganviz-bench-"))
    if args.run is None or args.run_2d is None:
        print("training small runs for the benchmark ...", file=sys.stderr, flush=True)
        d, r = small_runs(tmp / "runs")
        args.run = args.run or d
        args.run_2d = args.run_2d or r
    run, run_2d = Run.load(args.run), Run.load(args.run_2d)
    compare = Run.load(args.compare) if args.compare else None
    out = args.out or tmp / "videos"

    rows = []
    for name in builtin_scenes():
        path = builtin_scene_path(name)
        use = run_2d if scene_kinds(path) and run.kind not in scene_kinds(path) else run
        t0 = time.perf_counter()
        try:
            (video,) = render_file(
                path,
                use,
                quality=args.quality,
                out=out / use.name,
                progress=False,
                compare=compare if name == "gradient_flow" else None,
            )
        except GanvizError as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(1)
        secs = time.perf_counter() - t0
        with av.open(str(video)) as box:
            s = box.streams.video[0]
            frames = sum(1 for _ in box.decode(video=0))
            size = f"{s.width}x{s.height}"
        rows.append((name, use.name, secs, frames, size))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"render times at -q {args.quality} (cpus={os.cpu_count()}, load avg 1 min {load:.1f})")
    print(f"| {'scene':<16} | {'run':<28} | {'seconds':>7} | {'frames':>6} | {'size':>9} | goal <= {GOAL_S:.0f} s |")
    print(f"|{'-' * 18}|{'-' * 30}|{'-' * 9}|{'-' * 8}|{'-' * 11}|{'-' * 15}|")
    for name, rname, secs, frames, size in rows:
        ok = "ok" if secs <= GOAL_S else "SLOW"
        print(f"| {name:<16} | {rname:<28} | {secs:7.1f} | {frames:6d} | {size:>9} | {ok:<13} |")


if __name__ == "__main__":
    main()
