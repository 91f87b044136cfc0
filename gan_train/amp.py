"""Whether a run computes in bf16 (autocast) or fp32: decided once per machine, recorded in run.json.

CUDA: bf16 (tensor cores). CPU: bf16 only for image models, only where the CPU computes bf16 natively
(AVX512-BF16 or AMX, and oneDNN allowed to use them: ``ONEDNN_MAX_CPU_ISA=AVX2`` forbids it), and only when a
short probe of DCGAN-shaped convolutions runs faster in bf16 than in fp32 on this machine; elsewhere bf16 is
emulated and slower. The probe's verdict is cached per machine (CPU model, instruction-set settings, torch
version, threads) beside the dataset cache, so it costs its ~1 s once.

``--set amp=off`` refuses bf16, ``--set amp=bf16`` forces it; ``GANVIZ_AMP=off|bf16`` does the same for
every run that leaves ``amp`` at ``auto`` (test suites and benchmarks that need one arithmetic everywhere).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ganviz.errors import GanvizError
from ganviz.writer import atomic_write_json

AMP_ENV = "GANVIZ_AMP"
SPEEDUP_NEEDED = 1.1  # bf16 must beat fp32 by this factor in the probe: a tie is not worth the rounding


@dataclass(frozen=True)
class AmpChoice:
    """What a run computes in, and why (the ``amp`` entry of run.json)."""

    setting: str  # the config's amp: auto, bf16 or off
    used: str  # bf16 or off
    reason: str

    @property
    def bf16(self) -> bool:
        return self.used == "bf16"

    def to_json(self) -> dict[str, str]:
        return {"setting": self.setting, "used": self.used, "reason": self.reason}


def choose_amp(setting: str, device: torch.device, image: bool, cache_dir: Path | None = None) -> AmpChoice:
    """The run's arithmetic for the ``amp`` setting on ``device``; ``cache_dir`` keeps the CPU probe's verdict."""
    if setting in ("bf16", "off"):
        return AmpChoice(setting, setting, f"--set amp={setting}")
    forced = os.environ.get(AMP_ENV, "").strip()
    if forced:
        if forced not in ("bf16", "off"):
            raise GanvizError(f"{AMP_ENV}={forced}: choose off or bf16, or unset it to let ganviz decide")
        return AmpChoice(setting, forced, f"{AMP_ENV}={forced}")
    if device.type == "cuda":
        return AmpChoice(setting, "bf16", "CUDA: bf16 autocast by default")
    if device.type != "cpu":
        return AmpChoice(setting, "off", f"{device.type}: fp32 by default")
    if not image:
        return AmpChoice(setting, "off", "CPU, 2-D toy: models too small for bf16 to pay")
    native = native_bf16()
    if not native:
        return AmpChoice(setting, "off", "CPU without native bf16 (no AVX512-BF16/AMX, or oneDNN limited below it)")
    ratio, cached = cpu_probe(cache_dir)
    verdict = "bf16" if ratio >= SPEEDUP_NEEDED else "off"
    how = "cached probe" if cached else "probe"
    return AmpChoice(setting, verdict, f"CPU with {native}: bf16 {ratio:.2f}x the speed of fp32 ({how})")


def native_bf16() -> str:
    """The CPU feature that computes bf16 natively and that oneDNN may use, or '' when there is none."""
    if not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
        return ""
    if torch.cpu._is_amx_tile_supported():
        return "AMX"
    return "AVX512-BF16" if torch.cpu._is_avx512_bf16_supported() else ""


def machine_key() -> str:
    """What makes two machines compute alike here: the CPU, the kernel choices the environment makes, torch."""
    parts = [
        _cpu_model(),
        platform.machine(),
        torch.__version__,
        str(torch.get_num_threads()),
        torch.backends.cpu.get_cpu_capability(),
        *(f"{k}={os.environ.get(k, '')}" for k in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")),
    ]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def cpu_probe(cache_dir: Path | None) -> tuple[float, bool]:
    """fp32 time / bf16 time of the probe on this machine, and whether it came from the cache."""
    path = cache_dir / f"amp-{machine_key()}.json" if cache_dir is not None else None
    if path is not None:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            return float(json.loads(path.read_text())["fp32_over_bf16"]), True
    ratio = probe_speedup()
    if path is not None:
        with contextlib.suppress(GanvizError):  # the cache is optional: unwritable means probing again next time
            atomic_write_json(path, {"fp32_over_bf16": ratio, "cpu": _cpu_model(), "torch": torch.__version__})
    return ratio, False


def probe_speedup(rounds: int = 5) -> float:
    """fp32 / bf16 best time of a DCGAN-like discriminator's forward and backward, channels-last, batch 32.

    Rounds alternate the two arithmetics, so a machine busy with other work slows both alike.
    """
    torch_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(0)
        net = _probe_net().to(memory_format=torch.channels_last)
        x = torch.randn(32, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    finally:
        torch.random.set_rng_state(torch_state)  # a run's random streams must not depend on whether it probed
    times: dict[bool, list[float]] = {False: [], True: []}
    for i in range(rounds + 1):
        for bf16 in (False, True):
            t = _time_pass(net, x, bf16)
            if i:  # the first round warms oneDNN's kernel caches
                times[bf16].append(t)
    return min(times[False]) / min(times[True])  # the least disturbed pass of each: other work only adds time


def _probe_net() -> nn.Module:
    layers: list[nn.Module] = []
    for c_in, c_out in ((3, 64), (64, 128), (128, 256)):
        layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers, nn.Conv2d(256, 1, 4, 1, 0, bias=False))


def _time_pass(net: nn.Module, x: torch.Tensor, bf16: bool) -> float:
    ctx = torch.autocast("cpu", torch.bfloat16) if bf16 else contextlib.nullcontext()
    t0 = time.perf_counter()
    with ctx:
        out = net(x)
    out.float().mean().backward()
    net.zero_grad(set_to_none=True)
    return time.perf_counter() - t0
