"""The truth check: every number a scene shows is the run's value of the quantity it stands for, at the step shown.

Scenes register what each number on screen stands for (scenes/readouts.py: ``reads``, ``claims``, ``constant``);
the scene probe (tests/scene_probe.py) records those registrations with every mobject. This module recomputes each
registered value *from the run's files* (json and numpy, none of the scene's code) and compares it with what is
printed, to the digits printed. A shot fails where

- a number on screen (a DecimalNumber, an Integer, or a text with a digit in it) is not registered and not marked as
  layout (``constant``): nothing could say whether it is true;
- a registered number differs from the run's value of its quantity at its step (the footer's step unless the
  reading names one);
- a caption's registered number does not appear in its text (the words and the registration drifted apart).

Two readouts of one quantity can then never differ, and a caption never runs ahead of its counter.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scene_probe import Shot

NUMBER_KINDS = {"DecimalNumber", "Integer"}
TEXT_KINDS = {"Text", "MarkupText", "Paragraph"}
DIGIT = re.compile(r"\d")


# -- the oracle: a quantity's value read straight from the run's files -----------------------------------------------
@lru_cache(maxsize=64)
def _metrics(run: str) -> tuple[dict[str, Any], ...]:
    lines = (Path(run) / "metrics.jsonl").read_text().splitlines()
    return tuple(json.loads(line) for line in lines if line.strip())


@lru_cache(maxsize=64)
def _evals(run: str) -> tuple[dict[str, Any], ...]:
    f = Path(run) / "evals.jsonl"
    if not f.exists():
        return ()
    return tuple(json.loads(line) for line in f.read_text().splitlines() if line.strip())


@lru_cache(maxsize=256)
def _snapshot(run: str, step: int) -> dict[str, np.ndarray]:
    with np.load(Path(run) / "snapshots" / f"step_{step:08d}.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _snapshot_steps(run: str) -> list[int]:
    return sorted(int(p.stem[5:]) for p in (Path(run) / "snapshots").glob("step_*.npz"))


def _metric_value(row: dict[str, Any], column: str) -> float:
    def get(name: str) -> float:
        v = row.get(name)
        return float("nan") if v is None else float(v)

    if column == "accuracy":
        return (get("acc_real") + get("acc_fake")) / 2
    if column == "gap":
        return get("d_real") - get("d_fake")
    return get(column)


def _fixed_real(run: str) -> np.ndarray:
    with np.load(Path(run) / "fixed.npz", allow_pickle=False) as z:
        return z["real"]


def _gap_to_real(real: np.ndarray, fake: np.ndarray) -> float:
    """docs/scenes.md's gap of G's samples to the fixed real batch: images, the mean absolute difference of the mean
    images plus that of the std images (pixels in [0, 1]); toys, the mean distance from each of the first 256 fakes
    to its nearest real point plus from each real point to its nearest fake."""
    if fake.ndim == 4:
        f, r = fake.astype(np.float64) / 255.0, real.astype(np.float64) / 255.0
        return float(np.mean(np.abs(f.mean(0) - r.mean(0))) + np.mean(np.abs(f.std(0) - r.std(0))))
    f = fake.reshape(len(fake), -1)[:256].astype(np.float64)
    r = real.reshape(len(real), -1)[:256].astype(np.float64)
    dist = np.linalg.norm(f[:, None, :] - r[None, :, :], axis=-1)
    return float(dist.min(axis=1).mean() + dist.min(axis=0).mean())


def _phase_start(run: str, phase: str) -> float:
    """The first snapshot step at which the run had closed half ('structure') or 85 % ('detail') of the gap to the
    real batch it closed in all (the gap's running minimum); NaN where it never did, or closed under a quarter of
    its first gap (it stayed noise)."""
    steps = _snapshot_steps(run)
    real = _fixed_real(run)
    best, gaps = np.inf, []
    for t in steps:
        best = min(best, _gap_to_real(real, _snapshot(run, t)["fake"]))
        gaps.append(best)
    closed = [gaps[0] - g for g in gaps]
    if not (closed[-1] > 0.25 * gaps[0] and closed[-1] > 1e-9):
        return float("nan")
    share = {"structure": 0.5, "detail": 0.85}[phase]
    found = [t for t, done in zip(steps, closed, strict=True) if done / closed[-1] >= share]
    return float(found[0]) if found else float("nan")


def _snapshot_accuracy(run: str, step: int) -> float:
    """D's accuracy on the fixed batches at the latest snapshot up to ``step`` that holds finite scores of both: half
    the share of real samples scored above 0.5 plus half the share of G's scored at or below it."""
    for t in reversed([t for t in _snapshot_steps(run) if t <= step]):
        arrays = _snapshot(run, t)
        if "d_real" not in arrays or "d_fake" not in arrays:
            continue
        real, fake = (np.asarray(arrays[k], np.float64).ravel() for k in ("d_real", "d_fake"))
        real, fake = real[np.isfinite(real)], fake[np.isfinite(fake)]
        if len(real) and len(fake):
            return float(np.count_nonzero(real > 0.5) / len(real) + np.count_nonzero(fake <= 0.5) / len(fake)) / 2
    return float("nan")


def _median(run: str, column: str) -> float:
    values = [_metric_value(r, column) for r in _metrics(run)]
    finite = np.array([v for v in values if np.isfinite(v)])
    return float(np.median(finite)) if finite.size else float("nan")


def expected(run: str, quantity: str, step: int, average: int = 1, other: str | None = None) -> float:
    """The run's value of ``quantity`` at ``step`` (scenes/readouts.py names them), from its files alone; ``other``:
    the run a two-run quantity (``ratio:``) compares it with."""
    source, _, rest = quantity.partition(":")
    if source == "median":
        return _median(run, rest)
    if source == "ratio":  # of the two medians as printed: three significant digits, whole numbers from 100 up
        assert other is not None, f"{quantity} compares two runs: the scene was given one"
        a, b = _median(run, rest), _median(other, rest)
        return float(np.round(a, max(0, 2 - int(np.floor(np.log10(a)))))) / float(
            np.round(b, max(0, 2 - int(np.floor(np.log10(b)))))
        )
    if source == "step":
        return float(step)
    if source == "metric" and rest.count(":") == 1:  # 'a-b:d': two metrics as printed to d decimals, subtracted
        pair, decimals = rest.split(":")
        a, b = pair.split("-")
        shown = [float(f"{expected(run, f'metric:{c}', step, average):.{int(decimals)}f}") for c in (a, b)]
        return shown[0] - shown[1]
    if quantity == "snapshot:step":  # the step of the latest snapshot up to the step shown
        earlier = [s for s in _snapshot_steps(run) if s <= step]
        return float(earlier[-1]) if earlier else float("nan")
    if quantity == "snapshot:accuracy":
        return _snapshot_accuracy(run, step)
    if source == "phase":  # the first snapshot step in phase 'structure' or 'detail'
        return _phase_start(run, rest)
    if source == "config":
        value = json.loads((Path(run) / "run.json").read_text())["config"].get(rest)
        return float("nan") if value is None else float(value)
    if source == "metric":
        rows = [r for r in _metrics(run) if r["step"] <= step]
        values = [_metric_value(r, rest) for r in rows[-max(average, 1) :]]
        values = [v for v in values if np.isfinite(v)]
        return float(sum(values) / len(values)) if values else float("nan")
    if source == "snapshot":
        array, statistic = rest.split(":")
        shown = [s for s in _snapshot_steps(run) if s <= step]
        if not shown:
            return float("nan")
        v = np.asarray(_snapshot(run, shown[-1])[array], np.float64).ravel()
        if statistic.startswith("item"):
            return float(v[int(statistic[4:])])
        if statistic.startswith("spread"):  # k entries evenly spaced from the first to the last, each once
            k, n = int(statistic[6:]), len(v)
            chosen = sorted({round(j * (n - 1) / max(k - 1, 1)) for j in range(k)}) if k < n else range(n)
            v = v[list(chosen)]
            statistic = "mean"
        v = v[np.isfinite(v)]
        return float({"mean": np.mean, "median": np.median, "max": np.max}[statistic](v)) if v.size else float("nan")
    if source == "eval":
        measure, _, part = rest.partition(":")
        rows = [r for r in _evals(run) if r["measure"] == measure and r["step"] <= step]
        if not rows:
            return float("nan")
        row = rows[-1]
        if not part:
            return float("nan") if row["value"] is None else float(row["value"])
        if part.startswith("counts"):
            return float(row["counts"][int(part[6:])])
        n_fake = float(row["n_fake"])
        if part.startswith("present_"):  # how many entries of a list are above 0 (the digits G draws)
            return float(np.count_nonzero(row[part[8:]])) if part[8:] in row else float("nan")
        found = re.fullmatch(r"share_([a-z]+)(\d*)", part)
        if found:  # a count of the row, or one entry of a list of counts, over all the samples measured
            key, index = found.groups()
            if key not in row:  # recorded before the key existed: 'off' is what the counts leave, others unknown
                if key == "off" and measure == "modes_captured":
                    return (n_fake - float(np.sum(row["counts"]))) / n_fake
                return float("nan")
            return float(row[key][int(index)] if index else row[key]) / n_fake
        if part.startswith("share"):
            return float(row["counts"][int(part[5:])]) / n_fake
        return float(row[part])
    raise AssertionError(f"the truth check does not know the quantity {quantity!r} (teach tests/truth.py)")


# -- comparing what is printed with what is true -----------------------------------------------------------------------
def parse(shown: str) -> tuple[float, int] | None:
    """A printed number as (value, decimals): '1,530' -> (1530, 0), '−0.25' -> (-0.25, 2), '–' -> None (unknown)."""
    s = shown.strip().replace(",", "").replace("−", "-").replace("\u2009", "")
    if s in {"–", "-", "—", "n/a", "nan"}:
        return None
    m = re.fullmatch(r"[-+]?\d+(?:\.(\d+))?", s)
    assert m, f"not a number as printed: {shown!r}"
    return float(s), len(m.group(1) or "")


def agrees(shown: str, value: float) -> bool:
    """``shown`` is ``value`` to the digits printed (half a unit of the last digit; '–' for an unknown value)."""
    parsed = parse(shown)
    if parsed is None or not np.isfinite(value):
        return parsed is None and not np.isfinite(value)
    number, decimals = parsed
    return abs(number - value) <= 0.5 * 10.0**-decimals + 1e-9 * max(1.0, abs(value))


def footer_step(shot: Shot) -> int | None:
    """The step the frame shows: the visible number registered as ``step`` of the scene's run."""
    found = [
        m
        for m in shot.visible()
        if m.kind in NUMBER_KINDS and any(r.quantity == "step" and r.run == "run" for r in m.readings)
    ]
    return int(found[0].value) if found else None


def _inside(path: tuple[int, ...], ancestor: tuple[int, ...]) -> bool:
    return path[: len(ancestor)] == ancestor


def problems(shots: list[Shot], runs: dict[str, str]) -> list[str]:
    """What is untrue or unregistered on each shot; ``runs`` maps 'run' (and 'other') to run folders."""
    found: list[str] = []
    for shot in shots:
        step = footer_step(shot)
        visible = shot.visible()
        texts = [m for m in visible if m.kind in TEXT_KINDS | NUMBER_KINDS and m.fill_opacity > 0.05]
        owners = [m for m in shot.mobs if m.readings or m.constant]
        for m in texts:  # every number on screen stands for something
            if m.text is None or not DIGIT.search(m.text):
                continue
            if not any(_inside(m.path, o.path) for o in owners):
                found.append(f"t={shot.time:.1f}s: {m.text!r} is a number on screen that no reading registers")
        for owner in owners:
            words = " ".join(m.text or "" for m in texts if _inside(m.path, owner.path))
            if not owner.readings or not words:  # a reading off screen (faded out) says nothing
                continue
            for r in owner.readings:
                at = r.step if r.step is not None else step
                if at is None:
                    found.append(f"t={shot.time:.1f}s: {words!r} follows the footer, but no footer shows a step")
                    continue
                if r.run not in runs:
                    found.append(f"t={shot.time:.1f}s: {words!r} reads {r.run!r}, a run the scene was not given")
                    continue
                other = runs.get("other" if r.run == "run" else "run")
                truth = expected(runs[r.run], r.quantity, int(at), r.average, other) * r.scale
                shown = owner.text if owner.kind in NUMBER_KINDS else r.shown
                if shown is None:
                    found.append(f"t={shot.time:.1f}s: caption {words!r} registers {r.quantity} without its text")
                    continue
                if owner.kind not in NUMBER_KINDS and shown not in words:
                    found.append(f"t={shot.time:.1f}s: {words!r} registers {shown!r} ({r.quantity}), not in it")
                if not agrees(shown, truth):
                    avg = f", {r.average}-step average" if r.average > 1 else ""
                    found.append(
                        f"t={shot.time:.1f}s: {words!r} shows {shown} for {r.quantity} of the {r.run} at step {at}"
                        f"{avg}, but the run says {truth:.4g}"
                    )
    return sorted(set(found))
