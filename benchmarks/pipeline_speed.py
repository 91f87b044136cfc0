"""How fast are `ganviz plots` and `ganviz gif` on a big run? Prints a table with the goals next to the numbers.

The run is synthesised by writing the run format directly (docs/run-format.md): 100,000 metric rows,
200 snapshots of 64 samples that go from faint noise to their targets, and a small DCGAN checkpoint
(ngf=16) for the latent walk. ``--content digits`` (default; what `make demo` shows) uses 64 real MNIST
digits as targets, ``--content colour`` 64x64 RGB blobs. Nothing is trained: the timings are the pipeline's.

    python benchmarks/pipeline_speed.py [--rows 100000] [--snapshots 200] [--content digits|colour] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from pipeline.run import Run  # noqa: E402
from pipeline.runformat import FIXED, FORMAT_VERSION, METRIC_COLUMNS, METRICS, RUN_FILE, RUN_JSON, SNAPSHOT  # noqa: E402

N_FIXED, SIZE, NOISE_DIM = 64, 64, 100


def targets(content: str, rng: np.random.Generator) -> np.ndarray:
    """What the synthetic G converges to: 64 real MNIST digits (as in `make demo`) or colour blobs, in [0, 1]."""
    if content == "digits":
        from gan_train.config import get_variant
        from gan_train.datasets import load_dataset

        data = load_dataset(get_variant("dcgan-digits"), cache_dir=None).array
        return data[rng.choice(len(data), N_FIXED, replace=False)].astype(np.float64) / 255
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    target = np.empty((N_FIXED, SIZE, SIZE, 3))
    for i in range(N_FIXED):
        img = np.ones((SIZE, SIZE, 3)) * rng.uniform(0.2, 0.8, 3)
        for _ in range(3):
            cx, cy, r = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.08, 0.25)
            w = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
            img = img * (1 - w) + w * rng.uniform(0, 1, 3)
        target[i] = img
    return target


def synth_run(path: Path, rows: int, snapshots: int, content: str = "digits", seed: int = 0) -> Path:
    """Write a run folder of the given size, with plausible curves and images, through the run format's own
    writer and declarations (ganviz/format.py), as training would."""
    import torch

    from gan_train.config import Config, get_variant
    from gan_train.models import build_models
    from gan_train.snapshots import LayerNorms, RunWriter, cpu_copy

    rng = np.random.default_rng(seed)
    cfg = get_variant("dcgan-digits" if content == "digits" else "dcgan-celeba")
    cfg_d = {**cfg.to_dict(), "ngf": 16, "ndf": 16, "steps": rows, "n_fixed": N_FIXED, "device": "cpu"}
    g, d = build_models(Config.from_dict(cfg_d))
    layers_g, layers_d = LayerNorms(g).names, LayerNorms(d).names
    every = max(1, rows // (snapshots - 1))
    steps = sorted({*range(0, rows, every), rows})[: snapshots - 1] + [rows]
    info = {
        RUN_JSON.format_version: FORMAT_VERSION,
        RUN_JSON.variant: cfg.variant,
        RUN_JSON.kind: "image",
        RUN_JSON.config: cfg_d,
        RUN_JSON.seed: seed,
        RUN_JSON.device: "cpu",
        RUN_JSON.status: "finished",
        RUN_JSON.total_steps: rows,
        RUN_JSON.steps_per_epoch: 1000,
        RUN_JSON.snapshot_every: every,
        RUN_JSON.checkpoint_every: every,
        RUN_JSON.layers_g: layers_g,
        RUN_JSON.layers_d: layers_d,
        RUN_JSON.last_step: rows,
        RUN_JSON.metric_columns: list(METRIC_COLUMNS),
        RUN_JSON.resumed: [],
        RUN_JSON.started: dt.datetime.now().astimezone().isoformat(),
        RUN_JSON.dataset: {"source": "synthetic", "size": 0, "skipped": 0},
    }
    writer = RunWriter(path, save_checkpoint=torch.save)
    writer.write_info(info)

    t = np.arange(1, rows + 1)
    decay = np.exp(-t / (rows / 5))
    m = METRICS
    cols = {
        m.step: t,
        m.epoch: (t - 1) // 1000,
        m.loss_d: 0.6 + 0.7 * decay + 0.15 * rng.standard_normal(rows),
        m.loss_g: 2.0 - decay + 0.4 * rng.standard_normal(rows),
        m.d_real: np.clip(0.7 + 0.1 * rng.standard_normal(rows), 0, 1),
        m.d_fake: np.clip(0.3 + 0.2 * decay + 0.1 * rng.standard_normal(rows), 0, 1),
        m.d_fake_after: np.clip(0.35 + 0.1 * rng.standard_normal(rows), 0, 1),
        m.acc_real: np.clip(0.8 + 0.1 * rng.standard_normal(rows), 0, 1),
        m.acc_fake: np.clip(0.75 + 0.1 * rng.standard_normal(rows), 0, 1),
        m.grad_norm_g: np.abs(2 + rng.standard_normal(rows)),
        m.grad_norm_d: np.abs(3 + rng.standard_normal(rows)),
        m.lr_g: np.full(rows, 2e-4),
        m.lr_d: np.full(rows, 2e-4),
        m.time: t * 0.01,
        m.samples_per_s: np.full(rows, 1e4),
    }
    for start in range(0, rows, 10_000):  # blocks, as training appends them
        block = range(start, min(rows, start + 10_000))
        writer.append_metrics([{c: cols[c][i].item() for c in METRIC_COLUMNS} for i in block])

    # snapshots go from faint noise around grey to the targets
    target = targets(content, rng)
    noise = rng.standard_normal((N_FIXED, NOISE_DIM)).astype(np.float32)
    writer.write_fixed({FIXED.noise: noise, FIXED.real: (target * 255).astype(np.uint8)})
    for k, s in enumerate(steps):
        a = k / max(1, len(steps) - 1)
        img = a * target + (1 - a) * 0.5 + (1 - a) * 0.06 * rng.standard_normal(target.shape)
        nan = np.nan if s == 0 else 1
        writer.write_snapshot(
            s,
            {
                SNAPSHOT.step: np.array(s),
                SNAPSHOT.epoch: np.array(s // 1000),
                SNAPSHOT.fake: (np.clip(img, 0, 1) * 255).astype(np.uint8),
                SNAPSHOT.d_fake: rng.uniform(0, 1, N_FIXED).astype(np.float32),
                SNAPSHOT.d_real: rng.uniform(0, 1, N_FIXED).astype(np.float32),
                SNAPSHOT.grad_norm_g: np.abs(rng.standard_normal(len(layers_g))).astype(np.float32) * nan,
                SNAPSHOT.grad_norm_d: np.abs(rng.standard_normal(len(layers_d))).astype(np.float32) * nan,
            },
        )
    opt = [torch.optim.Adam(net.parameters()) for net in (g, d)]
    writer.write_checkpoint(
        cpu_copy(
            {
                "step": rows,
                "time": 0.0,
                "g": g.state_dict(),
                "d": d.state_dict(),
                "opt_g": opt[0].state_dict(),
                "opt_d": opt[1].state_dict(),
                "rng": {"torch": torch.get_rng_state()},
            }
        )
    )
    writer.close()
    return path


def fit512(frame: np.ndarray) -> np.ndarray:
    """Crop or pad (white) a frame to exactly 512 x 512, keeping the step caption at the top."""
    out = np.full((512, 512, 3), 255, np.uint8)
    h, w = min(512, frame.shape[0]), min(512, frame.shape[1])
    out[:h, :w] = frame[:h, :w]
    return out


class Clock(float):
    """Wall seconds that also carry the CPU seconds spent: on a shared machine CPU time is the steadier number."""

    cpu: float

    def __format__(self, spec: str) -> str:
        return f"{float(self):{spec}} s wall, {self.cpu:{spec}} s CPU"


def clock(wall: float, cpu: float) -> Clock:
    c = Clock(wall)
    c.cpu = cpu
    return c


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(fn, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN201
    """Wall and CPU time of a call, CPU including worker processes it started and joined."""
    t, c = time.perf_counter(), time.process_time() + _children_cpu()
    out = fn(*a, **kw)
    return out, clock(time.perf_counter() - t, time.process_time() + _children_cpu() - c)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--snapshots", type=int, default=200)
    ap.add_argument(
        "--content",
        choices=["digits", "colour"],
        default="digits",
        help="digits: 64 real 28x28 MNIST digits (the demo); colour: 64 RGB 64x64 blob images",
    )
    ap.add_argument("--keep", type=Path, help="write the synthetic run here and keep it (reused if it exists)")
    ap.add_argument("--no-imageio", action="store_true", help="skip the slow imageio comparison")
    ap.add_argument("--no-cli", action="store_true", help="skip timing the CLI in a subprocess")
    args = ap.parse_args()

    from pipeline.gifs import encode_gif, make_gifs, progress_frames
    from pipeline.plots import make_plots

    load0 = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    tmp = Path(tempfile.mkdtemp(prefix="ganviz-bench-"))
    run_dir = args.keep or tmp / "run"
    if args.keep and (args.keep / RUN_FILE).is_file():
        print(f"reusing the synthetic run in {run_dir} (delete it to synthesise a new one)")
    else:
        _, t_synth = timed(synth_run, run_dir, args.rows, args.snapshots, args.content)
        print(
            f"synthetic run: {args.rows} metric rows, {args.snapshots} snapshots of 64 {args.content} samples "
            f"in {run_dir} ({t_synth:.1f})"
        )
    table: list[tuple[str, str, str]] = []

    run = Run.load(run_dir)
    m, t = timed(lambda: run.metrics)
    table.append((f"Run.metrics ({len(m['step'])} rows)", f"{t:.2f}", ""))
    import matplotlib.pyplot  # noqa: F401 - imported once up front, so both make_plots rows time the same work

    # the overlapped default first: any one-off warm-up (font cache, mathtext) then counts against it
    for jobs, how in ((2, "default: metrics parsed in a forked process meanwhile"), (1, "jobs=1, in-process")):
        run = Run.load(run_dir)  # a fresh Run: parsing metrics.jsonl is part of the time
        paths, t = timed(make_plots, run, tmp / "plots", progress=False, jobs=jobs)
        table.append(
            (
                f"make_plots, {how}: {len(paths)} files (png+pdf+svg, 200 dpi), incl. reading metrics",
                f"{t:.2f}",
                "<= 5 s",
            )
        )

    run = Run.load(run_dir)
    res: list = []
    paths, t = timed(make_gifs, run, tmp / "gifs", progress=False, results=res)
    table.append(
        (f"make_gifs: {', '.join(f'{r.path.name} {r.frames} fr {r.width}x{r.height}' for r in res)}", f"{t:.2f}", "")
    )

    frames = [fit512(f) for f in progress_frames(run)[:: max(1, args.snapshots // 100)][:100]]
    size = f"{len(frames)} frames {frames[0].shape[1]}x{frames[0].shape[0]}"
    r, t = timed(encode_gif, frames, tmp / "g100-free.gif", 10, None)
    table.append(
        (
            f"GIF {size}, one palette + delta frames, no size limit (lossless for grey)",
            f"{t:.2f}, {r.size / 1e6:.2f} MB, {r.frames} frames",
            "",
        )
    )
    r, t = timed(encode_gif, frames, tmp / "g100.gif", 10, "5MB")
    note = f"; {'; '.join(r.actions)}" if r.actions else ""
    table.append(
        (
            f"GIF {size}, fitted to --max-size 5MB",
            f"{t:.2f}, {r.size / 1e6:.2f} MB, {r.frames} frames {r.width}x{r.height}, {r.colours} colours{note}",
            "<= 2 s, <= 5 MB",
        )
    )
    if not args.no_imageio:
        import imageio.v3 as iio

        def imageio_default() -> int:
            buf = io.BytesIO()
            iio.imwrite(buf, np.stack(frames), extension=".gif", loop=0, duration=100)
            return len(buf.getvalue())

        nbytes, t_io = timed(imageio_default)
        table.append(
            (
                "same frames, imageio default quantizer",
                f"{t_io:.2f}, {nbytes / 1e6:.2f} MB",
                f"{t_io.cpu / t.cpu:.1f}x the CPU time",
            )
        )

    if not args.no_cli:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        for cmd in (
            ["plots", str(run_dir), "--out", str(tmp / "cli-plots"), "--quiet"],
            ["gif", str(run_dir), "--out", str(tmp / "cli-gifs"), "--quiet"],
        ):
            t0, c0 = time.perf_counter(), _children_cpu()
            subprocess.run([sys.executable, "-m", "pipeline.cli", *cmd], check=True, env=env, capture_output=True)
            t = clock(time.perf_counter() - t0, _children_cpu() - c0)
            table.append(
                (
                    f"`ganviz {cmd[0]}` end to end (process start, imports)",
                    f"{t:.2f}",
                    "<= 5 s" if cmd[0] == "plots" else "",
                )
            )

    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(
        f"\nmachine: {os.cpu_count()} CPUs, load averages (1/5/15 min) at the start {load0}, at the end {load}, "
        f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}"
    )
    w = max(len(a) for a, _, _ in table)
    print(f"| {'what':<{w}} | measured | goal |\n|{'-' * (w + 2)}|---|---|")
    for a, b, c in table:
        print(f"| {a:<{w}} | {b} | {c} |")
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
