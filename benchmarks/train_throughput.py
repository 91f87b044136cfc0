"""Training throughput: ganviz's loop against a plain reference loop, on the same JPEG folder, model and batch.

The reference is the textbook way to train a DCGAN: torchvision ImageFolder + DataLoader decoding and
resizing JPEGs every step, fp32, NCHW, torch.optim.Adam, and ``.item()`` logging after every step. ganviz
is ``gan_train.train.train`` on the same folder (dataset ``folder``): it decodes the folder once into a
uint8 cache, trains from memory, and keeps metrics on the device. Both build the model with
``gan_train.models.build_models`` from the same config.

Each round runs every configuration once, interleaved, and the table reports medians over rounds, so a
noisy machine biases all of them alike. Timing excludes ``--warmup`` steps (cuDNN autotuning, DataLoader
worker start-up, compilation). ganviz's time comes from its own ``metrics.jsonl``: the ``time`` column is
exact at the end of every logged block (a host sync), and ``log_every`` is set to ``--warmup`` so the
measured window starts and ends on block boundaries.

    OMP_NUM_THREADS=1 python benchmarks/train_throughput.py                  # CPU, small model
    python benchmarks/train_throughput.py --device cuda --ngf 64 --batch 512 --steps 300 --images 8192
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gan_train.config import Config, apply_overrides, get_variant  # noqa: E402
from gan_train.models import build_models  # noqa: E402
from gan_train.train import train  # noqa: E402


def make_jpeg_folder(folder: Path, n: int, size: int = 64, seed: int = 0) -> None:
    """n synthetic size x size colour JPEGs (smooth gradients + blobs + noise, so they compress like photos)."""
    from PIL import Image

    sub = folder / "all"  # ImageFolder wants one sub-folder per class
    sub.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for i in range(n):
        a, b, c = rng.uniform(0, 255, 3)
        img = np.stack([a * xx + (255 - a) * yy, b * (1 - xx), c * yy], axis=-1)
        cy, cx, r = rng.uniform(0.2, 0.8, 2).tolist() + [rng.uniform(0.05, 0.25)]
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(0, 255, 3)
        img += rng.normal(0, 8, img.shape)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(sub / f"{i:06d}.jpg", quality=90)


def bench_config(args: argparse.Namespace, folder: Path) -> Config:
    return apply_overrides(
        get_variant("dcgan-celeba"),
        {
            "dataset": "folder",
            "data_root": str(folder),
            "image_size": 64,
            "ngf": args.ngf,
            "ndf": args.ngf,
            "batch_size": args.batch,
            "device": args.device,
            "seed": 0,
            "amp": args.amp,
        },
    )


def fresh_models(
    cfg: Config, device: torch.device, memory_format: torch.memory_format = torch.contiguous_format
) -> tuple[torch.nn.Module, torch.nn.Module, torch.optim.Optimizer, torch.optim.Optimizer]:
    """G, D (seed 0, as ganviz builds them) on ``device`` and their plain Adam optimisers."""
    torch.manual_seed(0)
    g, d = (m.to(device, memory_format=memory_format) for m in build_models(cfg))
    adam = torch.optim.Adam
    return (
        g,
        d,
        adam(g.parameters(), cfg.lr_g, betas=(cfg.beta1, cfg.beta2)),
        adam(d.parameters(), cfg.lr_d, betas=(cfg.beta1, cfg.beta2)),
    )


def reference_step(g, d, opt_g, opt_d, real: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One textbook DCGAN iteration (pytorch/examples' order): D on real and detached fake, then G."""
    fake = g(z)
    d.zero_grad()
    out_real, out_fake = d(real), d(fake.detach())
    loss_d = F.binary_cross_entropy_with_logits(out_real, torch.ones_like(out_real)) + (
        F.binary_cross_entropy_with_logits(out_fake, torch.zeros_like(out_fake))
    )
    loss_d.backward()
    opt_d.step()
    g.zero_grad()
    out = d(fake)
    loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
    loss_g.backward()
    opt_g.step()
    return loss_d, loss_g


def reference_loop(cfg: Config, folder: Path, args: argparse.Namespace, device: torch.device) -> float:
    """The textbook DCGAN loop; returns images/s over the steps after warm-up."""
    import torchvision.datasets as dsets
    import torchvision.transforms as T

    tf = T.Compose([T.Resize(64), T.CenterCrop(64), T.ToTensor(), T.Normalize((0.5,) * 3, (0.5,) * 3)])
    ds = dsets.ImageFolder(str(folder), transform=tf)
    loader = torch.utils.data.DataLoader(
        ds,
        batch_size=cfg.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=args.workers,
        pin_memory=device.type == "cuda",
        persistent_workers=args.workers > 0,
    )
    g, d, opt_g, opt_d = fresh_models(cfg, device)
    total, step, t_start = args.warmup + args.steps, 0, 0.0
    log: list[tuple[float, float]] = []
    while step < total:
        for real, _ in loader:
            real = real.to(device, non_blocking=True)
            z = torch.randn(real.shape[0], cfg.noise_dim, device=device)
            loss_d, loss_g = reference_step(g, d, opt_g, opt_d, real, z)
            log.append((loss_d.item(), loss_g.item()))  # textbook logging: a host sync every step
            step += 1
            if step == args.warmup:
                t_start = time.perf_counter()
            if step == total:
                break
    return args.steps * cfg.batch_size / (time.perf_counter() - t_start)


def ganviz_loop(cfg: Config, out: Path, args: argparse.Namespace, snap_every: int, ckpt_every: int) -> float:
    """ganviz's own training loop; returns images/s between the end of warm-up and the last step."""
    total = args.warmup + args.steps
    cfg = apply_overrides(
        cfg, {"steps": total, "log_every": args.warmup, "snapshot_every": snap_every, "checkpoint_every": ckpt_every}
    )
    run = train(cfg, out=out, progress=False)
    rows = {r["step"]: r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())}
    return args.steps * cfg.batch_size / (rows[total]["time"] - rows[args.warmup]["time"])


def snapshot_cost(cfg: Config, device: torch.device, steps: int = 10, repeats: int = 5) -> tuple[float, float, float]:
    """Median (train step, snapshot capture, snapshot write) in seconds, timed directly on ganviz's own code.

    A second, less noise-prone view of the snapshot overhead: on a busy machine the interleaved runs above
    differ by more than a snapshot costs.
    """
    import contextlib
    import io

    from gan_train.snapshots import LayerNorms, Probe, capture
    from gan_train.trainer import Trainer, to_model_input, train_step

    g, d, opt_g, opt_d = fresh_models(cfg, device, torch.channels_last)
    images = torch.randint(0, 256, (cfg.batch_size, 64, 64, 3), dtype=torch.uint8, device=device)
    real = to_model_input(images, True)
    fixed = {"noise": torch.randn(cfg.n_fixed, cfg.noise_dim, device=device), "real": real[: cfg.n_fixed]}
    autocast = (lambda: torch.autocast("cuda", torch.bfloat16)) if device.type == "cuda" else contextlib.nullcontext
    trainer = Trainer.from_parts(cfg, g, d, opt_g, opt_d, autocast=autocast)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    rows = []
    for _ in range(repeats):
        sync()
        t = time.perf_counter()
        for _ in range(steps):
            z = torch.randn(cfg.batch_size, cfg.noise_dim, device=device)
            train_step(trainer, real, z, True)
        sync()
        t_step = (time.perf_counter() - t) / steps
        norms = LayerNorms(g)(), LayerNorms(d)()
        t = time.perf_counter()
        snap = capture(g, d, Probe.of(cfg), fixed, *norms, 1, 0)
        t_capture = time.perf_counter() - t
        t = time.perf_counter()
        np.savez_compressed(io.BytesIO(), **snap)
        rows.append((t_step, t_capture, time.perf_counter() - t))
    return tuple(statistics.median(col) for col in zip(*rows, strict=True))  # type: ignore[return-value]


def snapshot_cost_in_runs(runs: list[Path], every: int, block: int, first: int) -> tuple[float, float, int]:
    """Snapshot cost measured inside the runs that took them, paired against neighbouring blocks.

    ``time`` is exact at the end of each metrics block. The block that starts at a snapshot step holds that
    snapshot's capture (and most of the writer thread's work); its extra time over the mean of the blocks just
    before and after it (only before, for the last) is one snapshot's cost. Neighbours rather than the run's
    median because a shared machine's speed drifts by tens of per cent within a run. Returns (median extra
    seconds per snapshot, median seconds per step, snapshots seen), pooled over ``runs``; blocks before step
    ``first`` (warm-up) are ignored. Blocks must not straddle snapshot steps (``block`` divides ``every``).
    """
    extras, steps_s = [], []
    for run in runs:
        rows = {r["step"]: r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())}
        ends = [s for s in sorted(rows) if s >= first and (s % block == 0 or s == max(rows))]
        t = [(a, (rows[b]["time"] - rows[a]["time"]) / (b - a)) for a, b in zip(ends, ends[1:], strict=False)]
        steps_s.append(statistics.median(per for _, per in t))
        for k, (a, per) in enumerate(t):
            around = [t[j][1] for j in (k - 1, k + 1) if 0 <= j < len(t)]
            if a % every == 0 and around:
                extras.append((per - statistics.mean(around)) * block)
    if not extras:  # no snapshot inside the timed steps (--steps below --snap-every)
        return math.nan, statistics.median(steps_s), 0
    return statistics.median(extras), statistics.median(steps_s), len(extras)


def step_flops(cfg: Config, device: torch.device) -> tuple[float, float]:
    """Floating-point operations per image of one iteration: (reference step, ganviz step), counted by torch.

    ``FlopCounterMode`` counts the convolutions and matrix products (forward and backward), which are nearly
    all of the arithmetic. ganviz's step does a little less: G's step asks D for input gradients only.
    """
    from torch.utils.flop_counter import FlopCounterMode

    from gan_train.trainer import Trainer, train_step

    real = torch.rand(cfg.batch_size, cfg.channels, cfg.image_size, cfg.image_size, device=device) * 2 - 1
    z = torch.randn(cfg.batch_size, cfg.noise_dim, device=device)
    g, d, opt_g, opt_d = fresh_models(cfg, device)
    with FlopCounterMode(display=False) as ref:
        reference_step(g, d, opt_g, opt_d, real, z)
    g, d, opt_g, opt_d = fresh_models(cfg, device)
    with FlopCounterMode(display=False) as ours:
        train_step(Trainer.from_parts(cfg, g, d, opt_g, opt_d), real, z, True)
    return ref.get_total_flops() / cfg.batch_size, ours.get_total_flops() / cfg.batch_size


def matmul_rate(device: torch.device, n: int = 2048, repeats: int = 10, bf16: bool | None = None) -> tuple[float, str]:
    """FLOP/s of a large square matrix product on this device: the arithmetic ceiling a training loop can
    approach, in the precision ganviz trains in (``bf16``; by default bf16 on CUDA, fp32 on CPU). Median of
    ``repeats``."""
    dtype = torch.bfloat16 if (device.type == "cuda" if bf16 is None else bf16) else torch.float32
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    times = []
    for _ in range(repeats + 2):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t = time.perf_counter()
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times[2:]), str(dtype).removeprefix("torch.")


def machine(device: torch.device) -> str:
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        cpu = platform.processor() or platform.machine()
        name = f"CPU {cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch thread(s)"
    load = "n/a"
    if hasattr(os, "getloadavg"):
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{name}; torch {torch.__version__}; load average {load}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--images", type=int, default=1024, help="synthetic JPEGs in the folder")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--ngf", type=int, default=16, help="DCGAN width (ngf = ndf); the standard model is 64")
    p.add_argument("--steps", type=int, default=100, help="timed steps per configuration (after warm-up)")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps first; must divide --steps")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workers", type=int, default=2, help="DataLoader workers of the reference loop")
    p.add_argument("--snap-every", type=int, default=50)
    p.add_argument("--amp", default="auto", help="ganviz's amp setting: auto (what a run picks), off or bf16")
    p.add_argument("--compile", action="store_true", help="add a row: ganviz with torch.compile (compiles each round)")
    p.add_argument("--workdir", type=Path, help="keep the JPEGs, cache and runs here (default: a temp folder)")
    args = p.parse_args()
    if args.steps % args.warmup:
        p.error("--warmup must divide --steps (ganviz's timing window ends on metric blocks)")
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: CUDA is not available here")

    work = args.workdir or Path(tempfile.mkdtemp(prefix="ganviz-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    folder = work / f"jpegs-{args.images}"
    if not folder.exists():
        make_jpeg_folder(folder, args.images)
    runs = Path(tempfile.mkdtemp(dir=work, prefix="runs-"))  # fresh each time: runs and ganviz's cache
    os.chdir(runs)  # ganviz caches decoded datasets under ./outputs/cache
    cfg = bench_config(args, folder)

    never = 10**9
    t = time.perf_counter()
    train(apply_overrides(cfg, {"steps": 1, "snapshot_every": never}), out=runs / "first", progress=False)
    first_pass = time.perf_counter() - t  # decodes the folder into the cache once (plus start-up)
    amp = json.loads((runs / "first" / "run.json").read_text())["amp"]  # what ganviz's runs use, and why

    configs = {
        "reference (ImageFolder+DataLoader, fp32, .item() per step)": lambda i: reference_loop(
            cfg, folder, args, device
        ),
        "ganviz, no snapshots": lambda i: ganviz_loop(cfg, runs / f"plain-{i}", args, never, never),
        f"ganviz, snapshots every {args.snap_every}": lambda i: ganviz_loop(
            cfg, runs / f"snap-{i}", args, args.snap_every, never
        ),
        f"ganviz, snapshots + checkpoints every {args.snap_every}": lambda i: ganviz_loop(
            cfg, runs / f"ckpt-{i}", args, args.snap_every, args.snap_every
        ),
    }
    if args.compile:
        compiled = apply_overrides(cfg, {"compile": True})
        configs["ganviz --compile, no snapshots"] = lambda i: ganviz_loop(
            compiled, runs / f"comp-{i}", args, never, never
        )
    results: dict[str, list[float]] = {k: [] for k in configs}
    for i in range(args.rounds):
        for name, fn in configs.items():
            results[name].append(fn(i))
            print(f"round {i + 1}/{args.rounds}  {name}: {results[name][-1]:.1f} img/s", file=sys.stderr)

    flops_ref, flops_ours = step_flops(cfg, device)
    flops = {k: flops_ref if k.startswith("reference") else flops_ours for k in configs}
    peak, peak_dtype = matmul_rate(device, bf16=amp["used"] == "bf16")
    med = {k: statistics.median(v) for k, v in results.items()}
    ref, plain = med[next(iter(configs))], med["ganviz, no snapshots"]
    print(f"\nMachine: {machine(device)}")
    print(
        f"Model: DCGAN 64x64, ngf=ndf={args.ngf}, batch {args.batch}, {args.images} synthetic JPEGs, "
        f"{args.steps} timed steps after {args.warmup} warm-up, median of {args.rounds} interleaved rounds; "
        f"reference DataLoader workers: {args.workers}; ganviz amp={amp['setting']}: {amp['used']} "
        f"({amp['reason']}), channels_last\n"
    )
    print("| loop | img/s (median) | min - max | vs reference | vs ganviz no snapshots | GFLOP/s | of matmul |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, vals in results.items():
        m = med[name]
        rate = m * flops[name]
        print(
            f"| {name} | {m:,.0f} | {min(vals):,.0f} - {max(vals):,.0f} | {m / ref:.2f}x | "
            f"{(plain / m - 1) * 100:+.1f} % time | {rate / 1e9:,.1f} | {rate / peak * 100:.0f} % |"
        )
    print(
        f"\nArithmetic per image and iteration (torch FlopCounterMode): reference {flops_ref / 1e9:.3f} GFLOP, "
        f"ganviz {flops_ours / 1e9:.3f} GFLOP. Matrix-product ceiling of this device in ganviz's precision "
        f"({peak_dtype}, 2048x2048 @ 2048x2048, same threads): {peak / 1e9:,.1f} GFLOP/s. A loop in that "
        f"precision cannot beat the reference by more than (ceiling / reference's GFLOP/s) x (reference FLOP / "
        f"ganviz FLOP) = {peak / (med[next(iter(configs))] * flops_ref) * flops_ref / flops_ours:.1f}x."
    )
    t_step, t_capture, t_write = snapshot_cost(cfg, device)
    every = args.snap_every
    print(
        f"\nSnapshot cost timed directly (median of 5): train step {t_step * 1e3:.1f} ms; capture on the "
        f"training thread {t_capture * 1e3:.1f} ms (= {t_capture / (every * t_step) * 100:.2f} % of {every} "
        f"steps); compress+write {t_write * 1e3:.1f} ms on the writer thread "
        f"(= {t_write / (every * t_step) * 100:.2f} % if it had to share the core)"
    )
    extra, per_step, n_snaps = snapshot_cost_in_runs(
        [runs / f"snap-{i}" for i in range(args.rounds)], every, args.warmup, args.warmup
    )
    if not n_snaps:
        print(
            f"No snapshot inside the {args.steps} timed steps: raise --steps above --snap-every {every} for "
            "the in-run estimate"
        )
    else:
        print_in_run_cost(extra, per_step, n_snaps, every, runs, args)
    print(f"\nOne-time decode of the folder into ganviz's uint8 cache (+ start-up, 1 step): {first_pass:.1f} s")


def print_in_run_cost(
    extra: float, per_step: float, n_snaps: int, every: int, runs: Path, args: argparse.Namespace
) -> None:
    print(
        f"Snapshot cost inside the snapshot runs (block after each snapshot vs its neighbour blocks, "
        f"median of {n_snaps}): {extra * 1e3:+.0f} ms per snapshot = {extra / (every * per_step) * 100:+.2f} % "
        f"of {every} steps ({per_step * 1e3:.1f} ms/step)"
    )
    floor, _, _ = snapshot_cost_in_runs(
        [runs / f"plain-{i}" for i in range(args.rounds)], every, args.warmup, args.warmup
    )
    print(
        f"The same estimate on the runs without snapshots (its noise floor): {floor * 1e3:+.0f} ms = "
        f"{floor / (every * per_step) * 100:+.2f} %"
    )


if __name__ == "__main__":
    main()
