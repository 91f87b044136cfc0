"""What ``Recorder(..., measure=...)`` adds to a loop of one's own: a recorded DCGAN loop on the embedded digits
(``--measure digits``, the textbook loop of docs/record-your-gan.md with its per-sample scores) or an MLP loop on
the 8 Gaussians (``--measure 8gaussians``), recorded with and without the measures, in alternating order.

As benchmarks/eval_overhead.py does for the built-in trainer, the run with measures also clocks the measures
themselves (building the real reference once, every measurement, on the loop's thread): their share of the rest of
the same run is the overhead, which does not move with the machine's load the way two separate runs' times do.
The measures default to every 10th snapshot; ``--snapshot-every 30`` with 3,000 steps is the built-in demo's
cadence (11 measurements). The digits classifier is trained once per machine and cached, before timing starts.

    OMP_NUM_THREADS=1 python benchmarks/recorder_measure_overhead.py [--measure digits] [--steps 600] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from gan_train import Recorder, loop_measures  # noqa: E402
from gan_train.datasets import load_digits_with_labels, toy_8gaussians  # noqa: E402

#: seconds since the last reset: on the loop's thread (building the reference, G's samples at each measurement),
#: and on the writer's thread (the measures of those samples), which the loop does not wait for
clock = {"loop": 0.0, "writer": 0.0}


def clocked(fn, where: str):  # noqa: ANN001, ANN201 (wraps a method of LoopEvaluator)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            clock[where] += time.perf_counter() - start

    return wrapper


loop_measures.LoopEvaluator.__init__ = clocked(loop_measures.LoopEvaluator.__init__, "loop")
loop_measures.LoopEvaluator.generate = clocked(loop_measures.LoopEvaluator.generate, "loop")
loop_measures.LoopEvaluator.rows = clocked(loop_measures.LoopEvaluator.rows, "writer")


def nets(measure: str, nz: int) -> tuple[nn.Module, nn.Module]:
    if measure == "digits":
        g = nn.Sequential(
            nn.ConvTranspose2d(nz, 128, 7, 1, 0, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
            nn.ConvTranspose2d(64, 1, 4, 2, 1, bias=False), nn.Tanh(),
        )  # fmt: skip
        d = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2, True),
            nn.Conv2d(128, 1, 7, 1, 0, bias=False),
        )  # fmt: skip
        return g, d
    g = nn.Sequential(nn.Linear(nz, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))
    d = nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 1))
    return g, d


def timed_loop(args: argparse.Namespace, measured: bool, out: Path) -> tuple[float, float, float, int]:
    """Wall seconds of one recorded loop, the seconds of it on the loop's and the writer's thread in the measures,
    and the number of measurements."""
    dev = torch.device(args.device)
    torch.manual_seed(0)
    if args.measure == "digits":
        images = torch.from_numpy(load_digits_with_labels()[0]).permute(0, 3, 1, 2)
        data, nz, shape = images.float() / 127.5 - 1, 64, (64, 1, 1)
    else:
        data, nz, shape = torch.from_numpy(toy_8gaussians(10_000, np.random.default_rng(0))), 16, (16,)
    data = data.to(dev)
    g, d = (m.to(dev) for m in nets(args.measure, nz))
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    kwargs = {"measure": args.measure} if measured else {}
    clock.update(loop=0.0, writer=0.0)
    start = time.perf_counter()
    noise, every, total, batch = torch.randn(64, *shape, device=dev), args.snapshot_every, args.steps, args.batch_size
    rec = Recorder(
        out,
        g,
        d,
        real=data[:64],
        fixed_noise=noise,
        snapshot_every=every,
        total_steps=total,
        batch_size=batch,
        **kwargs,
    )
    with rec:
        for _ in range(args.steps):
            real = data[torch.randint(0, len(data), (args.batch_size,), device=dev)]
            fake = g(torch.randn(args.batch_size, *shape, device=dev))
            out_real, out_fake = d(real).view(-1), d(fake.detach()).view(-1)
            loss_d = F.softplus(-out_real).mean() + F.softplus(out_fake).mean()
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            out_after = d(fake).view(-1)
            loss_g = F.softplus(-out_after).mean()
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            rec.step(loss_d=loss_d, loss_g=loss_g, d_real=out_real, d_fake=out_fake, d_fake_after=out_after)
    seconds = time.perf_counter() - start
    n = len({line.split(",")[0] for line in (out / "evals.jsonl").read_text().splitlines()}) if measured else 0
    return seconds, clock["loop"], clock["writer"], n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--measure", default="digits", choices=("digits", "8gaussians"))
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--snapshot-every", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    gpu = torch.cuda.get_device_name() if args.device.startswith("cuda") else ""
    print(
        f"torch {torch.__version__}, {gpu or platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{torch.get_num_threads()} torch threads, load average at start {os.getloadavg()[0]:.2f}\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ.setdefault("GANVIZ_CACHE_DIR", str(root / "cache"))  # the digits classifier: not in the checkout
        if args.measure == "digits":
            from gan_train.features import digits_classifier

            start = time.perf_counter()
            clf = digits_classifier()
            print(f"digits classifier, once per machine: {time.perf_counter() - start:.1f} s "
                  f"(held-out accuracy {clf.held_out_accuracy:.1%})\n")  # fmt: skip
        plain, with_measures, shares, totals = [], [], [], []
        for r in range(args.rounds):
            for measured in (r % 2 == 0, r % 2 == 1):
                seconds, loop, writer, n = timed_loop(args, measured, root / f"{r}-{measured}")
                (with_measures if measured else plain).append(seconds)
                if measured:
                    shares.append(loop / (seconds - loop))
                    totals.append((loop + writer) / (seconds - loop))
                how = f"with measures ({n} measurements: {loop:.2f} s loop's thread, {writer:.2f} s writer's)"
                print(
                    f"round {r + 1}: {seconds:7.1f} s {how if measured else 'without'}, load {os.getloadavg()[0]:.1f}"
                )
    head = "| loop | device | steps | without measures | with measures | ratio | loop's thread in them / rest |"
    print(f"\n{head} all measure work / rest |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    a, b = float(np.median(plain)), float(np.median(with_measures))
    print(f"| {args.measure} | {gpu or args.device} | {args.steps} | {a:.1f} s | {b:.1f} s | {b / a:.3f}x "
          f"| {float(np.median(shares)):.1%} | {float(np.median(totals)):.1%} |")  # fmt: skip


if __name__ == "__main__":
    main()
