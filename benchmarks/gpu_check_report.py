"""The GPU check's results file (benchmarks/gpu_check.py): markdown in the format of benchmarks/results.

Every section is always there; a part that did not run, or stopped early, says so in its section instead of
leaving it out.
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

GOAL_RATIO = 2.0  # ganviz's loop against the reference, on one GPU
GOAL_IMG_S = 25_000  # DCGAN-64 (ngf = ndf = 64) on one H100
SECTIONS = (
    "Goals",
    "Time per part",
    "(a) ganviz's loop against the reference loop",
    "(b) fp32, bf16 autocast and torch.compile",
    "(c) the quality measures' share of a run",
    "(d) snapshot overhead",
    "(e) data-parallel run (ganviz train --nproc N)",
)


def med(rows: list[dict[str, float]], key: str = "img_s") -> float:
    return statistics.median(r[key] for r in rows)


def spread(rows: list[dict[str, float]], key: str = "img_s") -> str:
    vals = [r[key] for r in rows]
    return f"{min(vals):,.0f} - {max(vals):,.0f}"


def stopped_note(part: dict[str, Any]) -> list[str]:
    if not part:
        return ["Not run (left out with --parts).", ""]
    return [f"**Stopped**: {part['stopped']}.", ""] if part.get("stopped") else []


def nothing(part: dict[str, Any]) -> list[str]:
    """The end of a section without results: a part left out has said so already."""
    return ["Not measured.", ""] if part else []


def header(s: dict[str, Any], results: dict[str, Any], command: str, started: dt.datetime, end_load: Any) -> list[str]:
    m = results.get("prep", {}).get("machine", {})
    where = f"{m['gpu']} ({m['gpu_memory_gib']:.0f} GiB), {m['gpus']} GPU(s)" if m.get("gpu") else "no GPU used"
    load = " ".join(f"{x:.2f}" for x in m["load"]) if m.get("load") else "n/a"
    end = " ".join(f"{x:.2f}" for x in end_load) if end_load else "n/a"
    return [
        f"# GPU check, {started:%Y-%m-%d %H:%M} UTC (benchmarks/gpu_check.sh)",
        "",
        f"Machine: {where}; CPU {m.get('cpu', '?')}, {m.get('cpus', '?')} cores, {m.get('threads', '?')} torch "
        f"thread(s); Python {m.get('python', '?')}; torch {m.get('torch', '?')}, CUDA {m.get('cuda')}, "
        f"cuDNN {m.get('cudnn')}; load average {load} at the start, {end} at the end",
        f"Device: {s['device']}; model: DCGAN 64x64, ngf=ndf={s['ngf']}, batch {s['batch']}, {s['images']} synthetic "
        f"JPEGs; {s['steps']} timed steps after {s['warmup']} warm-up; reference DataLoader workers {s['workers']}; "
        f"torch.compile backend {s['compile_backend']}; budget {s['budget']:.0f} s",
        f"Command: `{command}`",
        "",
    ]


def goals(s: dict[str, Any], results: dict[str, Any]) -> list[str]:
    out = ["## Goals", "", "| goal | measured | result |", "| --- | --- | --- |"]
    on_gpu = s["device"].startswith("cuda")
    loop = results.get("loop", {}).get("rows", {})
    if loop.get("reference") and loop.get("ganviz"):
        ratio = med(loop["ganviz"]) / med(loop["reference"])
        verdict = ("PASS" if ratio >= GOAL_RATIO else "FAIL") + ("" if on_gpu else " (the goal is for a GPU)")
        out.append(f"| ganviz >= {GOAL_RATIO:.0f}x the reference loop on one GPU | {ratio:.2f}x | {verdict} |")
    else:
        out.append(f"| ganviz >= {GOAL_RATIO:.0f}x the reference loop on one GPU | not measured | - |")
    rows = {k: v for k, v in results.get("precision", {}).get("rows", {}).items() if v}
    if rows:
        best = max(rows, key=lambda k: med(rows[k]))
        rate = med(rows[best])
        h100 = "H100" in str(results.get("prep", {}).get("machine", {}).get("gpu", ""))
        applies = h100 and s["ngf"] == 64
        verdict = ("PASS" if rate >= GOAL_IMG_S else "FAIL") + ("" if applies else " (the goal is DCGAN-64 on an H100)")
        out.append(f"| DCGAN-64 >= {GOAL_IMG_S:,} img/s on an H100 | {rate:,.0f} img/s ({best}) | {verdict} |")
    else:
        out.append(f"| DCGAN-64 >= {GOAL_IMG_S:,} img/s on an H100 | not measured | - |")
    return [*out, ""]


def times(results: dict[str, Any], total: float) -> list[str]:
    out = ["## Time per part", "", "| part | budget | used | status |", "| --- | ---: | ---: | --- |"]
    for name, part in results.items():
        status = part.get("stopped") or "complete"
        out.append(f"| {name} | {part['budget_s']:.0f} s | {part['used_s']:.1f} s | {status} |")
    prep = results.get("prep", {})
    out += ["", f"Whole check: {total:.0f} s."]
    if "first_run_s" in prep:
        out.append(
            f"Writing the JPEG folder: {prep['jpeg_s']:.1f} s; ganviz's one-time decode of it into its cache, "
            f"with start-up and one step: {prep['first_run_s']:.1f} s."
        )
    imported = sorted({m for p in results.values() for m in p.get("not_on_device_imported", [])})
    out.append(
        "Modules the GPU machine lacks that the parts imported: " + (", ".join(imported) if imported else "none") + "."
    )
    return [*out, ""]


def loop_section(results: dict[str, Any]) -> list[str]:
    part = results.get("loop", {})
    out = ["## (a) ganviz's loop against the reference loop", "", *stopped_note(part)]
    rows = {k: v for k, v in part.get("rows", {}).items() if v}
    if not rows.get("reference"):
        return [*out, *nothing(part)]
    ref = med(rows["reference"])
    names = {
        "reference": "reference (ImageFolder + DataLoader, fp32, `.item()` per step)",
        "ganviz": "ganviz, default settings, no snapshots",
        "ganviz+snapshots": f"ganviz, a snapshot every {part.get('snap_every')} steps (see (d))",
    }
    out += ["| loop | img/s (median) | min - max | vs reference | rounds |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, vals in rows.items():
        out.append(f"| {names[name]} | {med(vals):,.0f} | {spread(vals)} | {med(vals) / ref:.2f}x | {len(vals)} |")
    if "matmul_flops" in part:
        out += [
            "",
            f"Arithmetic per image and iteration: reference {part['flops_ref'] / 1e9:.3f} GFLOP, ganviz "
            f"{part['flops_ours'] / 1e9:.3f} GFLOP; matrix-product ceiling "
            f"({part['matmul_dtype']}, n={part['matmul_n']}): "
            f"{part['matmul_flops'] / 1e12:,.3g} TFLOP/s; ganviz's loop runs at "
            f"{med(rows.get('ganviz', rows['reference'])) * part['flops_ours'] / part['matmul_flops']:.0%} of it.",
        ]
    return [*out, ""]


def precision_section(results: dict[str, Any]) -> list[str]:
    part = results.get("precision", {})
    out = ["## (b) fp32, bf16 autocast and torch.compile", "", *stopped_note(part)]
    rows = {k: v for k, v in part.get("rows", {}).items() if v}
    if not rows:
        return [*out, *nothing(part)]
    base = med(rows["fp32"]) if rows.get("fp32") else None
    out += [
        "| ganviz setting | img/s (median) | min - max | vs fp32 | whole train() call (median) | rounds |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, vals in rows.items():
        vs = f"{med(vals) / base:.2f}x" if base else "-"
        out.append(f"| {name} | {med(vals):,.0f} | {spread(vals)} | {vs} | {med(vals, 'wall_s'):.1f} s | {len(vals)} |")
    backend = part.get("compile_backend")
    cache = "; later rounds reuse inductor's on-disk cache" if backend == "inductor" else ""
    out += [
        "",
        f"The whole call includes set-up and warm-up, where torch.compile compiles (backend {backend}{cache}). "
        "On CUDA, fp32 convolutions and matrix products use TF32 (ganviz turns it on).",
    ]
    return [*out, ""]


def measures_section(s: dict[str, Any], results: dict[str, Any]) -> list[str]:
    part = results.get("measures", {})
    out = ["## (c) the quality measures' share of a run", "", *stopped_note(part)]
    with_m = part.get("rows", {}).get("with")
    if not with_m:
        return [*out, *nothing(part)]
    inside, wall = med(with_m, "measures_s"), med(with_m, "wall_s")
    without = part["rows"].get("without")
    whole = f"{med(without, 'wall_s'):.1f} s" if without else "not run"
    out += [
        "| variant | device | steps | evaluations | in the measures | rest of the run | share | run without measures |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {part['variant']} | {s['device']} | {part['steps']} | {with_m[0]['evaluations']} | {inside:.1f} s | "
        f"{wall - inside:.1f} s | {inside / (wall - inside):.1%} | {whole} |",
    ]
    if part.get("note"):
        out += ["", part["note"]]
    if "classifier_s" in part:
        out += ["", f"The digits classifier, once per machine (cached): {part['classifier_s']:.1f} s."]
    return [*out, ""]


def snapshot_section(results: dict[str, Any]) -> list[str]:
    part = results.get("snapshot", {})
    out = ["## (d) snapshot overhead", "", *stopped_note(part)]
    if "step_s" not in part:
        return [*out, *nothing(part)]
    every, step = part["every"], part["step_s"]
    out += [
        f"| what (one snapshot every {every} steps) | seconds | share of {every} steps' time |",
        "| --- | ---: | ---: |",
        f"| train step (median) | {step * 1e3:.2f} ms | - |",
        f"| capture, on the training thread | {part['capture_s'] * 1e3:.2f} ms | "
        f"{part['capture_s'] / (every * step):.2%} |",
        f"| compress + write, on the writer thread | {part['write_s'] * 1e3:.2f} ms | "
        f"{part['write_s'] / (every * step):.2%} |",
    ]
    in_run = results.get("loop", {}).get("in_run")
    if in_run and in_run["snapshots"]:
        per = every * in_run["step_s"]
        out.append(
            f"| inside the runs of (a): block after a snapshot vs its neighbours (median of {in_run['snapshots']}; "
            f"noise floor {in_run['floor_s'] / per:+.2%}) | {in_run['extra_s'] * 1e3:+.2f} ms | "
            f"{in_run['extra_s'] / per:+.2%} |"
        )
    return [*out, ""]


def ddp_section(results: dict[str, Any]) -> list[str]:
    part = results.get("ddp", {})
    out = ["## (e) data-parallel run (ganviz train --nproc N)", "", *stopped_note(part)]
    runs = part.get("runs", [])
    if not runs:
        return [*out, *nothing(part)]
    out += [
        "| processes | device | backend | ngf | global batch | timed steps | img/s | ran | wall |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for r in runs:
        ran = "yes" if r["rc"] == 0 else f"no: {' '.join(r['error'])[:120]}"
        rate = f"{r['img_s']:,.0f}" if "img_s" in r else "-"
        out.append(
            f"| {r['nproc']} | {r['device']} | {r['backend']} | {r['ngf']} | {r['batch']} | {r['steps']} | {rate} | "
            f"{ran} | {r['wall_s']:.1f} s |"
        )
    return [*out, ""]


def report(
    s: dict[str, Any], results: dict[str, Any], command: str, started: dt.datetime, total: float, end_load: Any
) -> str:
    lines = [
        *header(s, results, command, started, end_load),
        *goals(s, results),
        *times(results, total),
        *loop_section(results),
        *precision_section(results),
        *measures_section(s, results),
        *snapshot_section(results),
        *ddp_section(results),
    ]
    return "\n".join(lines)
