"""Seconds to render each built-in scene at -q low and -q high (1080p60) on demo-sized runs, beside the goals.

    python benchmarks/render_times.py                          # trains the demo's two runs first
    python benchmarks/render_times.py --run RUN --run-2d TOY2D_RUN [--quality low,high] [--scenes morph,distribution]

The goals are for a 2-core CPU machine: at most 60 s a scene at -q low, at most 3 min at -q high. Each row is
printed as soon as its scene is rendered (MP4, as `ganviz render` writes it, index first); the table is printed
again at the end, with the machine's CPU count and 1-minute load average before and after. "CPU s" is the CPU
time of this process (all its threads, x264's included): on a machine shared with other work it shows what a
render costs when the wall time does not.
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

GOALS_S = {"low": 60.0, "high": 180.0}  # 2-core CPU
COLUMNS = [
    ("scene", 16),
    ("run", 18),
    ("quality", 18),
    ("seconds", 7),
    ("CPU s", 6),
    ("frames", 6),
    ("video", 8),
    ("goal (2 cores)", 17),
]
NUMBERS = ("seconds", "CPU s", "frames", "video")


def line(cells: list[str]) -> str:
    """A Markdown table row: text columns left-aligned, numbers right-aligned."""
    padded = [f"{c:>{w}}" if name in NUMBERS else f"{c:<{w}}" for c, (name, w) in zip(cells, COLUMNS, strict=True)]
    return "| " + " | ".join(padded) + " |"


def demo_runs(root: Path, steps: int | None) -> tuple[Path, Path]:
    """The runs `ganviz demo` trains (dcgan-digits and toy-8gaussians, the variants' steps unless ``steps``)."""
    from pipeline.demo import demo_configs, train_demo_runs

    digits, toy = train_demo_runs(root, demo_configs(steps, steps), progress=False)
    return digits, toy


def load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, help="run for every scene but the 2-D ones (default: train the demo's)")
    ap.add_argument("--run-2d", type=Path, help="2-D toy run for distribution (default: train the demo's)")
    ap.add_argument("--compare", type=Path, help="second run for gradient_flow's comparison")
    ap.add_argument("--steps", type=int, help="training steps of the runs trained here (default: the demo's)")
    ap.add_argument("--quality", default="low,high", help="comma-separated qualities (default: low,high)")
    ap.add_argument("--scenes", help="comma-separated built-in scenes (default: all)")
    ap.add_argument("--keep", type=Path, help="keep the videos (and trained runs) in this folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ganviz-bench-") as tmp:
        benchmark(args, args.keep or Path(tmp))


def benchmark(args: argparse.Namespace, work: Path) -> None:
    """Train the runs when none are given, render, print the table; runs and videos go under ``work``."""
    import av
    import manim  # noqa: F401  (imported once here, so the first scene's time is its own)

    from pipeline.errors import GanvizError
    from pipeline.render import QUALITIES, builtin_scene_path, builtin_scenes, render_file, scene_kinds
    from pipeline.run import Run

    qualities = args.quality.split(",")
    scenes = args.scenes.split(",") if args.scenes else builtin_scenes()
    unknown = [q for q in qualities if q not in QUALITIES] + [s for s in scenes if s not in builtin_scenes()]
    if unknown:
        sys.exit(f"error: unknown quality or scene: {', '.join(unknown)}")
    if args.run is None or args.run_2d is None:
        print("training the demo's runs for the benchmark ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        digits, toy = demo_runs(work / "runs", args.steps)
        print(f"  trained in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        args.run, args.run_2d = args.run or digits, args.run_2d or toy
    run, run_2d = Run.load(args.run), Run.load(args.run_2d)
    compare = Run.load(args.compare) if args.compare else None

    header = line([name for name, _ in COLUMNS])
    rule = "|" + "|".join("-" * (w + 2) for _, w in COLUMNS) + "|"
    rows = []
    load_before = load()
    print(f"cpus={os.cpu_count()}, load avg 1 min {load_before:.1f}", flush=True)
    print(header, rule, sep="\n", flush=True)
    for quality in qualities:
        w, h, fps = QUALITIES[quality]
        goal = GOALS_S.get(quality)
        for name in scenes:
            path = builtin_scene_path(name)
            kinds = scene_kinds(path)
            use = run_2d if kinds and run.kind not in kinds else run
            t0, cpu0 = time.perf_counter(), time.process_time()
            try:
                (video,) = render_file(
                    path,
                    use,
                    quality=quality,
                    out=work / "videos" / quality / use.name,
                    progress=False,
                    compare=compare if name == "gradient_flow" else None,
                )
            except GanvizError as e:
                sys.exit(f"error: {e}")
            secs, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            with av.open(str(video)) as box:
                frames = sum(1 for p in box.demux(video=0) if p.size)
            verdict = "" if goal is None else f"<= {goal:.0f} s: {'met' if secs <= goal else 'MISSED'}"
            size = f"{video.stat().st_size / 1e6:.2f} MB"
            cells = [
                name,
                use.name,
                f"{quality} {w}x{h}@{fps}",
                f"{secs:.1f}",
                f"{cpu:.0f}",
                str(frames),
                size,
                verdict,
            ]
            row = line(cells)
            rows.append(row)
            print(row, flush=True)
    print(f"\nrender times (cpus={os.cpu_count()}, load avg 1 min {load_before:.1f} before, {load():.1f} after)")
    print(header, rule, *rows, sep="\n")
    if args.keep:
        print(f"videos in {work / 'videos'}", file=sys.stderr)


if __name__ == "__main__":
    main()
