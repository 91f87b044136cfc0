"""One source for every number a scene shows: a named quantity of a run, at a step, averaged by one rule.

A number on screen is the value of one *quantity* (a column of metrics.jsonl, a statistic of a snapshot's arrays, a
quality measure of evals.jsonl, or the step itself) at the step the frame shows. Where it is averaged, it is
averaged here, the same way in every scene (a trailing mean over the last ``window(run)`` logged steps), and the
scene says so on screen with ``average_words``. Scenes compute what they show through these functions, and *register*
what each number stands for (``reads`` for a changing number, ``claims`` for a caption's numbers, ``constant`` for a
label whose digits are layout: axis ticks, 'of 8'), so the truth test (tests/test_scene_truth.py) can check, at every
beat, that every number on screen is the run's value of its quantity at the step the footer shows.

Quantity names (``Reading.quantity``):

- ``step``: the step the frame shows (the footer's counter);
- ``metric:<column>``: a metrics.jsonl column (``accuracy`` is the mean of acc_real and acc_fake; ``gap`` is
  d_real - d_fake), at the last logged step up to the step shown, or averaged over the logged steps up to it;
- ``metric:<a>-<b>:<d>``: metric ``a`` less metric ``b``, each as printed to ``d`` decimals (arithmetic on screen is
  done with the numbers shown: '0.82 − 0.18 = 0.64' even where the unrounded gap is 0.645);
- ``snapshot:step``: the step of the latest snapshot up to the step shown (a thumbnail's 'G(z) at step 120');
- ``snapshot:accuracy``: D's accuracy on the fixed batches at the latest snapshot up to the step shown, derived from
  the snapshot's scores where a run recorded no ``acc_real``/``acc_fake`` (``snapshot_accuracy``): the mean of the
  share of the real batch D scores above 0.5 and the share of G's samples it scores at or below 0.5 (as the
  Recorder counts acc_fake, and as the scene's verdict marks do; finite scores only);
- ``snapshot:<array>:<statistic>``: a statistic of one array of the snapshot shown (``mean``, ``median``, ``max``,
  ``item<i>``: the i-th entry; ``spread<k>``: the mean of k entries spread evenly through the array, indices
  round(linspace(0, n - 1, k)) without repeats, all n when n <= k: the samples on a toy run's bill in
  scenes/adversarial.py);
- ``eval:<measure>[:<part>]``: a quality measure at the last measurement up to the step shown (``part``: a key of
  its row, or ``counts<i>`` / ``share<i>`` for one mode's or digit's count or share of all samples;
  ``share_<key>`` a count of the row over all samples (``share_off``, ``share_unrecognised``; a ``modes_captured``
  row recorded before ``off`` existed: ``n_fake`` minus its counts), ``share_<key><i>`` entry i of a list of the row
  over all samples (``share_recognised3``), ``present_<key>`` how many entries of a list are above 0
  (``present_recognised``: the digits G draws); NaN where the row lacks the key: ``eval_part``);
- ``phase:<structure|detail>``: the step of the first snapshot in that phase (common.phase_steps: the run has
  closed half, or 85 %, of the gap to the real batch it closed in all), where the morph's band for it begins;
- ``median:<column>``: the median of a metrics.jsonl column's finite values over all the run's logged steps (the
  whole run, whatever the step shown; GradientFlow's closing line, "median over the run");
- ``ratio:<column>``: ``median:<column>`` of the run over ``median:<column>`` of the run it is compared with, each
  first rounded as the screen prints it (three significant digits, whole numbers from 100 up), so that the ratio is
  the arithmetic of the two numbers shown (GradientFlow's headline "with minimax loss, G's gradient is 76× weaker":
  registered on the stronger run);
- ``config:<key>``: a setting of the run (run.json ``config``), the same at every step (e.g. ``config:noise_dim``,
  the length of G's noise vector, which DecisionField names when it says why it draws no noise grid);
- anything else a scene derives must be named in its own module and taught to the truth test's oracle.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pipeline.run import Run

#: the run a reading is of: the scene's run, or the run it is compared with (--compare)
RUN, OTHER = "run", "other"


@dataclass(frozen=True)
class Reading:
    """What one number on screen stands for.

    ``step`` None: the step the frame's footer shows (a counter that moves with it); otherwise the step named on
    screen beside the number ("by step 1,530: 98 %"). ``average`` 1: the value at that step; W > 1: the trailing
    mean over the last W logged steps up to it. ``scale`` 100 shows a fraction as a percent. ``shown`` is the text
    of the number as printed (captions: it must appear in the caption's text); for a DecimalNumber or Integer the
    probe reads it from the mobject."""

    quantity: str
    step: int | None = None
    average: int = 1
    run: str = RUN
    scale: float = 1.0
    shown: str | None = None


def reads(
    mob: Any, quantity: str, *, step: int | None = None, average: int = 1, run: str = RUN, scale: float = 1.0
) -> Any:
    """Register the changing number ``mob`` (a DecimalNumber/Integer) as showing ``quantity``; returns ``mob``."""
    mob.readings = (Reading(quantity, step, average, run, scale),)
    return mob


def claims(mob: Any, *readings: Reading) -> Any:
    """Register the numbers a caption (a Text, or a group of them) states: each reading's ``shown`` is how the value
    is printed in it. Returns ``mob``."""
    mob.readings = tuple(readings)
    return mob


def constant(mob: Any) -> Any:
    """Mark a label whose digits are part of the layout, not of the run at a step (axis ticks, '1/8', 'of 10')."""
    mob.readings = ()
    mob.constant = True
    return mob


def claim(quantity: str, value: float, fmt: str = "{:.0f}", **kw: Any) -> tuple[str, Reading]:
    """The text of ``value`` as ``fmt`` prints it (after ``scale``) and the reading that says what it is: a caption
    writes the text and registers the reading, so words and registration never drift apart."""
    reading = Reading(quantity, **kw)
    shown = fmt.format(value * reading.scale)
    return shown, replace(reading, shown=shown)


# -- the values --------------------------------------------------------------------------------------------------
def window(run: Run) -> int:
    """The steps every averaged number and bold curve of every scene is averaged over: 2 % of the logged steps
    (at least 1), so a run of 3,000 steps is averaged over 60."""
    return max(1, len(run.metrics.step) // 50)


def average_words(width: int) -> str:
    """How the screen names the average: '60-step average' (or 'each step' when nothing is averaged)."""
    return "each step" if width <= 1 else f"{width:,}-step average"


def metric(run: Run, column: str) -> np.ndarray:
    """A metrics.jsonl column, or one derived from columns: ``accuracy`` (D right on real and fake alike, 0.5 when
    it cannot tell) and ``gap`` (D(x) - D(G(z)))."""
    m = run.metrics
    if column == "accuracy":
        return (m["acc_real"] + m["acc_fake"]) / 2.0
    if column == "gap":
        return m["d_real"] - m["d_fake"]
    return np.asarray(m[column], np.float64)


def trailing_mean(values: np.ndarray, width: int) -> np.ndarray:
    """The mean of the last ``width`` values at each index, NaN ignored (D's metrics on steps it skipped).

    Trailing, not centred: a value drawn at a step never depends on steps after it."""
    v = np.asarray(values, np.float64)
    ok = np.isfinite(v)
    num = np.cumsum(np.where(ok, v, 0.0))
    den = np.cumsum(ok.astype(np.float64))
    num[width:] = num[width:] - num[:-width]  # width 1 too: the values themselves, not a running mean
    den[width:] = den[width:] - den[:-width]
    return np.where(den > 0, num / np.maximum(den, 1), np.nan)  # den >= 1 where it divides: no 0/0


def series(run: Run, column: str, average: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(logged steps, values) of a metric, averaged over ``average`` logged steps (1: as logged)."""
    values = metric(run, column)
    return run.metrics.step, (trailing_mean(values, average) if average > 1 else values)


def at(steps: np.ndarray, values: np.ndarray, step: float) -> float:
    """The value at the last logged step up to ``step``; NaN before the first one (nothing is known yet)."""
    i = int(np.searchsorted(steps, step + 1e-9, side="right")) - 1
    return float(values[i]) if i >= 0 else np.nan


def metric_at(run: Run, column: str, step: float, average: int = 1) -> float:
    """A metric at ``step`` (averaged over ``average`` logged steps up to it)."""
    return at(*series(run, column, average), step)


def snapshot_stat(values: np.ndarray, statistic: str) -> float:
    """A statistic of one snapshot array: mean, median, max (of the finite values), item<i> or spread<k> (the mean
    of k entries spread evenly through it)."""
    v = np.asarray(values, np.float64).ravel()
    if statistic.startswith("item"):
        return float(v[int(statistic[4:])])
    if statistic.startswith("spread"):
        k = int(statistic[6:])
        v = v[np.unique(np.linspace(0, len(v) - 1, min(k, len(v))).round().astype(int))]
        statistic = "mean"
    v = v[np.isfinite(v)]
    if not v.size:
        return np.nan
    return float({"mean": np.mean, "median": np.median, "max": np.max}[statistic](v))


def snapshot_accuracy(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """(snapshot steps, D's accuracy on the fixed batches there) from the snapshots' scores: what a run that recorded
    no accuracy column still says about D (``snapshot:accuracy``). Scores are probabilities of real (a logit D's are
    recorded through a sigmoid), so 0.5 is D's boundary; a critic has none. Snapshots without both scores, or whose
    scores are all non-finite, are left out."""
    steps, values = [], []
    for snap in run.iter_snapshots(keys=("d_real", "d_fake")):
        real, fake = snap.get("d_real"), snap.get("d_fake")
        if real is None or fake is None:
            continue
        real, fake = np.ravel(real), np.ravel(fake)  # compared with 0.5 in their own float type: exact
        real, fake = real[np.isfinite(real)], fake[np.isfinite(fake)]
        if real.size and fake.size:
            steps.append(snap.step)
            values.append((float(np.mean(real > 0.5)) + float(np.mean(fake <= 0.5))) / 2)
    return np.array(steps, np.int64), np.array(values, np.float64)


def eval_part(row: dict[str, Any] | None, part: str = "") -> float:
    """The value of ``eval:<measure>:<part>`` (module docstring) in one row of evals.jsonl; NaN without a row or
    where the row lacks what the part needs (a row recorded before the field existed)."""
    if row is None:
        return np.nan
    n = float(row.get("n_fake") or 0) or np.nan
    if not part:
        return np.nan if row.get("value") is None else float(row["value"])
    if part.startswith("present_"):
        items = row.get(part[8:])
        return np.nan if items is None else float(sum(1 for c in items if c > 0))
    if part.startswith("share_"):
        key = part[6:].rstrip("0123456789")
        index = part[6 + len(key) :]
        if key == "off" and "off" not in row and row.get("measure") == "modes_captured":
            return (n - float(sum(row["counts"]))) / n
        if key not in row:
            return np.nan
        return float(row[key][int(index)] if index else row[key]) / n
    for key in ("counts", "share"):
        if part.startswith(key) and part[len(key) :].isdigit():
            count = float(row["counts"][int(part[len(key) :])])
            return count if key == "counts" else count / n
    return np.nan if row.get(part) is None else float(row[part])


def percent(fraction: float) -> str:
    """A fraction as the whole percent the screen prints ('98'), '–' when unknown."""
    return "–" if not np.isfinite(fraction) else f"{100 * fraction:.0f}"
