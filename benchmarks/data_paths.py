"""The two data paths, and the one-time decode: streamed batches against the in-memory set, ganviz's decode against
torchvision's ImageFolder + DataLoader.

(a) Training: ganviz's step (``train_step``, DCGAN 64 px) fed by ``Batches`` (the whole uint8 set copied onto the
device) and by ``StreamedBatches`` (batches gathered from the memory-mapped cache by a background thread), on a
synthetic cache ``.npy`` of ``--images`` 64x64 images; the same model, seed and steps, the paths interleaved per
round, medians over rounds. Also the raw batch-delivery rate of each path with no training. The cache file was
just written, so the page cache holds it: streaming reads come from RAM, and what is measured is the gather and the
thread, not the disk (dropping the page cache needs root, which this machine does not give).

(b) Decoding: ``--jpegs`` CelebA-shaped JPEGs (178x218 RGB) decoded and resized to 64 px (shorter side to 64,
centre crop) once: ganviz's ``decode_into_cache`` (threads, straight into the memory-mapped cache) against
torchvision's ``ImageFolder`` + ``DataLoader(num_workers=--workers)`` with ``Resize(64)``, ``CenterCrop(64)``,
``PILToTensor`` iterated once; interleaved rounds, medians.

    OMP_NUM_THREADS=1 python benchmarks/data_paths.py                       # CPU defaults
    python benchmarks/data_paths.py --device cuda --ngf 64 --batch 512 --images 262144
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.train_throughput import fresh_models, machine  # noqa: E402
from gan_train.batches import Batches, StreamedBatches, dataset_on_device  # noqa: E402
from gan_train.config import Config, apply_overrides, get_variant  # noqa: E402
from gan_train.datasets import decode_into_cache, list_images  # noqa: E402
from gan_train.trainer import Trainer, train_step  # noqa: E402


def synthetic_cache(path: Path, n: int, size: int = 64, seed: int = 0) -> np.ndarray:
    """n uint8 size x size RGB images written in chunks into a memory-mapped .npy (as a decoded cache is)."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(n, size, size, 3))
    rng = np.random.default_rng(seed)
    for i in range(0, n, 4096):
        out[i : i + 4096] = rng.integers(0, 256, (min(4096, n - i), size, size, 3), dtype=np.uint8)
    out.flush()
    del out
    return np.load(path, mmap_mode="r")


def celeba_jpegs(folder: Path, n: int, seed: int = 0) -> None:
    """n 178x218 colour JPEGs (gradients, a blob and noise, so they compress like photos), in one class folder."""
    from PIL import Image

    sub = folder / "all"
    sub.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:218, 0:178].astype(np.float32)
    yy, xx = yy / 218, xx / 178
    for i in range(n):
        a, b, c = rng.uniform(0, 255, 3)
        img = np.stack([a * xx + (255 - a) * yy, b * (1 - xx), c * yy], axis=-1)
        cy, cx, r = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), rng.uniform(0.15, 0.3)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(0, 255, 3)
        img += rng.normal(0, 8, img.shape)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(sub / f"{i + 1:06d}.jpg", quality=90)


def bench_config(args: argparse.Namespace) -> Config:
    overrides = {"dataset": "folder", "image_size": 64, "ngf": args.ngf, "ndf": args.ngf, "batch_size": args.batch}
    return apply_overrides(get_variant("dcgan-celeba"), {**overrides, "device": args.device, "amp": "off"})


def make_source(path: str, array: np.ndarray, cfg: Config, device: torch.device) -> Batches | StreamedBatches:
    if path == "in-memory":
        return Batches(dataset_on_device(array, device), cfg.batch_size, cfg.seed, True)
    return StreamedBatches(array, cfg.batch_size, cfg.seed, True, device=device)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def training_rate(path: str, array: np.ndarray, cfg: Config, device: torch.device, args: argparse.Namespace) -> float:
    """img/s of ganviz's step fed by one path, over ``args.steps`` steps after ``args.warmup``."""
    g, d, opt_g, opt_d = fresh_models(cfg, device, torch.channels_last)
    t = Trainer.from_parts(cfg, g, d, opt_g, opt_d)
    t.noise_gen.manual_seed(1)
    source = make_source(path, array, cfg, device)
    try:
        for step in range(1, args.warmup + args.steps + 1):
            if step == args.warmup + 1:
                sync(device)
                start = time.perf_counter()
            z = torch.randn(cfg.batch_size, cfg.noise_dim, generator=t.noise_gen, device=device)
            train_step(t, source(step), z, update_d=True)
        sync(device)
        return args.steps * cfg.batch_size / (time.perf_counter() - start)
    finally:
        source.close()


def delivery_rate(path: str, array: np.ndarray, cfg: Config, device: torch.device, steps: int) -> float:
    """img/s of batches handed to the loop with no training (the first 10 untimed: the copy, the thread's start)."""
    source = make_source(path, array, cfg, device)
    try:
        for step in range(1, 11):
            source(step)
        sync(device)
        start = time.perf_counter()
        for step in range(11, 11 + steps):
            x = source(step)
        if device.type == "cuda":
            x.sum().item()  # the last copy and gather have landed
        return steps * cfg.batch_size / (time.perf_counter() - start)
    finally:
        source.close()


def ganviz_decode(folder: Path, cache: Path) -> float:
    files = list_images(folder)
    start = time.perf_counter()
    arr, _ = decode_into_cache(cache, files, 64, 3)
    rate = len(arr) / (time.perf_counter() - start)
    del arr
    cache.unlink()
    return rate


def torchvision_decode(folder: Path, workers: int) -> float:
    import torchvision.datasets as dsets
    import torchvision.transforms as T

    tf = T.Compose([T.Resize(64), T.CenterCrop(64), T.PILToTensor()])
    start = time.perf_counter()
    images = dsets.ImageFolder(str(folder), transform=tf)
    loader = torch.utils.data.DataLoader(images, batch_size=64, num_workers=workers)
    n = sum(len(x) for x, _ in loader)
    return n / (time.perf_counter() - start)


def interleaved(rounds: int, jobs: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {name: [] for name in jobs}
    for r in range(rounds):
        for name, job in jobs.items():
            out[name].append(job())
            print(f"round {r + 1}: {name} {out[name][-1]:.1f} img/s", file=sys.stderr, flush=True)
    return out


def table(title: str, results: dict[str, list[float]], base: str) -> list[str]:
    """Medians, ranges, the ratio of medians and the median of the per-round ratios (each round's pair ran
    back to back, so the second is the steadier on a shared machine)."""
    ref = statistics.median(results[base])
    lines = [
        f"| {title} | img/s (median) | min - max | vs {base} | per-round ratio (median) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, rates in results.items():
        med = statistics.median(rates)
        paired = statistics.median(r / b for r, b in zip(rates, results[base], strict=True))
        lines.append(
            f"| {name} | {med:,.0f} | {min(rates):,.0f} - {max(rates):,.0f} | {med / ref:.2f}x | {paired:.2f}x |"
        )
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--images", type=int, default=32768, help="64x64 images in the synthetic cache")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--ngf", type=int, default=16, help="DCGAN width (ngf = ndf); the standard model is 64")
    p.add_argument("--steps", type=int, default=30, help="timed training steps per path and round")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--deliver", type=int, default=200, help="batches timed per path for the delivery rate")
    p.add_argument("--jpegs", type=int, default=3000, help="CelebA-shaped JPEGs for the decode rate")
    p.add_argument("--workers", type=int, default=2, help="DataLoader workers of torchvision's decode")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workdir", type=Path, help="keep the cache and JPEGs here (default: a temp folder)")
    args = p.parse_args()
    device = torch.device(args.device)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="ganviz-data-paths-"))
    work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    try:
        lines = run_all(args, device, work)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print("\n".join(lines))
    load = " ".join(f"{x:.2f}" for x in load_before), " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nLoad average (1, 5, 15 min) before: {load[0]}; after: {load[1]}.")


def run_all(args: argparse.Namespace, device: torch.device, work: Path) -> list[str]:
    cfg = bench_config(args)
    array = synthetic_cache(work / "cache.npy", args.images)
    paths = ("in-memory", "streamed")
    train = interleaved(args.rounds, {p: lambda p=p: training_rate(p, array, cfg, device, args) for p in paths})
    n = args.deliver
    deliver = interleaved(args.rounds, {p: lambda p=p: delivery_rate(p, array, cfg, device, n) for p in paths})
    folder = work / "celeba"
    if not folder.exists():
        celeba_jpegs(folder, args.jpegs)
    decode = interleaved(
        args.rounds,
        {
            f"torchvision ImageFolder + DataLoader ({args.workers} workers)": lambda: torchvision_decode(
                folder, args.workers
            ),
            "ganviz decode_into_cache": lambda: ganviz_decode(folder, work / "decoded.npy"),
        },
    )
    mb = array.nbytes / 2**20
    return [
        f"Machine: {machine(device)}",
        f"(a) DCGAN 64x64, ngf=ndf={args.ngf}, batch {args.batch}, fp32, channels-last; {args.images:,} synthetic "
        f"images ({mb:,.0f} MB uint8 cache .npy, held by the page cache); {args.steps} timed steps after "
        f"{args.warmup} per path and round; delivery: {args.deliver} batches; {args.rounds} interleaved rounds",
        "",
        *table("training (train_step) fed by", train, "in-memory"),
        "",
        *table("batch delivery, no training", deliver, "in-memory"),
        "",
        f"(b) {args.jpegs:,} CelebA-shaped JPEGs (178x218 RGB, quality 90) decoded and resized to 64x64 once, "
        f"{args.rounds} interleaved rounds",
        "",
        *table("one-time decode", decode, f"torchvision ImageFolder + DataLoader ({args.workers} workers)"),
    ]


if __name__ == "__main__":
    main()
