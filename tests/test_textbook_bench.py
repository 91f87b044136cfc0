"""benchmarks/textbook.py's plumbing, at toy sizes with a stand-in for pytorch/examples' dcgan/main.py (ganviz does
not ship it): every program runs, the table has a row for each and every round's ratio is printed. What the
numbers are is the benchmark's business, never a test's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# takes the options the benchmark passes to dcgan/main.py and writes into --outf as the script does
STAND_IN = """
import argparse, pathlib
p = argparse.ArgumentParser()
for o in ("--dataset", "--dataroot", "--batchSize", "--imageSize", "--ngf", "--ndf", "--niter", "--outf",
          "--manualSeed", "--workers"):
    p.add_argument(o, required=True)
a = p.parse_args()
assert pathlib.Path(a.dataroot, "all").is_dir() and a.dataset == "folder"
pathlib.Path(a.outf, "netG_epoch_0.pth").write_bytes(b"stand-in")
"""


def test_textbook_benchmark_times_every_program_and_prints_each_rounds_ratio(tmp_path: Path) -> None:
    ref = tmp_path / "dcgan" / "main.py"
    ref.parent.mkdir()
    ref.write_text(STAND_IN)
    cmd = [sys.executable, str(ROOT / "benchmarks" / "textbook.py"), "--reference", str(ref), "--images", "32"]
    cmd += ["--batch", "16", "--ngf", "8", "--snapshot-every", "1", "--rounds", "1", "--amp", "off"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    rows = {r.split("|")[1].strip(): r for r in out.splitlines() if r.startswith("| ") and "---" not in r}
    assert list(rows) == [
        "program",
        "reference",
        "ganviz amp=off",
        "floor: import torch",
        "start-up of the reference: import torch, torch._dynamo",
    ]
    assert re.search(r"\| ganviz amp=off \| [\d.]+ s \([\d.]+ - [\d.]+\) \| [\d.]+ \| [\d.]+x \| [\d.]+ s \|", out)
    assert re.search(r"^- ganviz amp=off: [\d.]+x \(lowest [\d.]+x\)$", out, flags=re.M)
    assert len(re.findall(r"^round \d: reference [\d.]+ s, ganviz amp=off", done.stderr, flags=re.M)) == 1
