"""bf16 or fp32: the choice follows the setting, the device, the CPU's native bf16 and the probe, once per machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from conftest import make_run

import gan_train.amp as amp
from gan_train.amp import AMP_ENV, choose_amp, cpu_probe, machine_key, probe_speedup
from ganviz.errors import GanvizError

CPU = torch.device("cpu")


@pytest.fixture
def auto(monkeypatch, tmp_path):
    """'auto' as a user gets it (the suite pins GANVIZ_AMP=off), on a CPU said to compute bf16 natively."""
    monkeypatch.delenv(AMP_ENV, raising=False)
    monkeypatch.setattr(amp, "native_bf16", lambda: "AVX512-BF16")
    return tmp_path / "cache"


def cache_probe(cache, ratio: float) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    (cache / f"amp-{machine_key()}.json").write_text(json.dumps({"fp32_over_bf16": ratio}))


def test_an_explicit_setting_wins_over_everything(auto, monkeypatch):
    monkeypatch.setenv(AMP_ENV, "bf16")
    assert choose_amp("off", CPU, image=True, cache_dir=auto).used == "off"
    monkeypatch.setenv(AMP_ENV, "off")
    forced = choose_amp("bf16", torch.device("cuda"), image=False, cache_dir=auto)
    assert forced.bf16 and forced.reason == "--set amp=bf16"


def test_the_environment_decides_for_auto_and_a_bad_value_is_one_line(auto, monkeypatch):
    monkeypatch.setenv(AMP_ENV, "bf16")
    assert choose_amp("auto", CPU, image=False, cache_dir=auto).to_json() == {
        "setting": "auto",
        "used": "bf16",
        "reason": "GANVIZ_AMP=bf16",
    }
    monkeypatch.setenv(AMP_ENV, "fp16")
    with pytest.raises(GanvizError, match=r"^GANVIZ_AMP=fp16: choose off or bf16"):
        choose_amp("auto", CPU, image=True, cache_dir=auto)


def test_auto_takes_bf16_on_cuda_and_fp32_for_toys_and_cpus_without_native_bf16(auto, monkeypatch):
    assert choose_amp("auto", torch.device("cuda"), image=False, cache_dir=auto).used == "bf16"
    cache_probe(auto, 3.0)  # even a fast probe does not make bf16 worth it for a toy's MLPs
    assert choose_amp("auto", CPU, image=False, cache_dir=auto).used == "off"
    monkeypatch.setattr(amp, "native_bf16", lambda: "")
    plain = choose_amp("auto", CPU, image=True, cache_dir=auto)
    assert plain.used == "off" and "without native bf16" in plain.reason


@pytest.mark.parametrize(("ratio", "used"), [(0.8, "off"), (1.05, "off"), (1.1, "bf16"), (1.6, "bf16")])
def test_auto_on_a_native_cpu_follows_the_probe(auto, ratio, used):
    cache_probe(auto, ratio)
    choice = choose_amp("auto", CPU, image=True, cache_dir=auto)
    assert choice.used == used and f"{ratio:.2f}x" in choice.reason and "cached probe" in choice.reason


def test_the_probe_runs_once_per_machine(auto, monkeypatch):
    calls = []
    monkeypatch.setattr(amp, "probe_speedup", lambda: calls.append(1) or 1.5)
    assert cpu_probe(auto) == (1.5, False)
    assert cpu_probe(auto) == (1.5, True)
    assert len(calls) == 1
    other = "AVX512_CORE" if os.environ.get("ONEDNN_MAX_CPU_ISA") == "AVX2" else "AVX2"  # make test-cpus sets AVX2
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", other)  # another kernel choice is another machine: probed anew
    assert cpu_probe(auto) == (1.5, False) and len(calls) == 2
    assert len(list(auto.glob("amp-*.json"))) == 2


def test_an_unreadable_cache_is_probed_again_and_rewritten(auto, monkeypatch):
    auto.mkdir()
    (auto / f"amp-{machine_key()}.json").write_text("{not json")
    monkeypatch.setattr(amp, "probe_speedup", lambda: 0.7)
    assert cpu_probe(auto) == (0.7, False)
    assert json.loads((auto / f"amp-{machine_key()}.json").read_text())["fp32_over_bf16"] == 0.7


def test_the_probe_leaves_the_random_streams_as_they_were():
    torch.manual_seed(5)
    expected = torch.rand(4)
    torch.manual_seed(5)
    assert probe_speedup(rounds=1) > 0
    torch.testing.assert_close(torch.rand(4), expected, rtol=0, atol=0)


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN")
def test_onednn_held_below_avx512_has_no_native_bf16():
    """The setting `make test-cpus` uses: oneDNN may not use AVX512-BF16, so auto must stay fp32 there."""
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"}
    code = "from gan_train.amp import native_bf16; print(repr(native_bf16()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "''"


def test_run_json_records_the_choice(auto, tmp_path, monkeypatch):
    monkeypatch.setenv("GANVIZ_CACHE_DIR", str(auto))
    cache_probe(auto, 2.0)
    tiny = {"steps": 2, "batch_size": 8, "ngf": 8, "ndf": 8, "n_fixed": 8, "eval_every": -1}
    info = json.loads((make_run(tmp_path / "a", "dcgan-digits", **tiny) / "run.json").read_text())
    assert info["amp"] == {
        "setting": "auto",
        "used": "bf16",
        "reason": "CPU with AVX512-BF16: bf16 2.00x the speed of fp32 (cached probe)",
    }
    info = json.loads((make_run(tmp_path / "b", "dcgan-digits", amp="off", **tiny) / "run.json").read_text())
    assert info["amp"] == {"setting": "off", "used": "off", "reason": "--set amp=off"}
