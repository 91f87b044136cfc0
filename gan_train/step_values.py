"""What a loop hands ``Recorder.step``, read into one metrics row: D's per-sample outputs become its mean score and
accuracy (on the device, no host sync), single numbers are kept as given, and names of the loop's own become extra
columns (docs/record-your-gan.md: "What rec.step takes").

How ``d_output`` reads D's scores:

- a tensor of more than one element is D's output per sample (any shape, e.g. (B,) or (B, 1)): a ``logit`` D's
  pass through a sigmoid, a ``probability`` D's are kept, a ``critic``'s are kept raw; the row gets their mean and,
  for ``d_real``/``d_fake`` of a logit or probability D, the share D calls real (score above 0.5) or fake.
- a single number (a float, or a tensor of one element) is already D's *mean score*: for a logit or probability D
  the mean probability of real, for a critic its mean raw value. A mean of logits cannot stand in for it: the
  mean of sigmoid(x) is not sigmoid(mean x), and no rule recovers one from the other, so a logit D hands its
  per-sample logits (or ``D(x).sigmoid().mean()``). A recorded mean outside [0, 1] for a logit or probability D
  (a mean of logits, most likely) stops the loop in one line when its block is written (``check_scores``).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import torch

from ganviz.errors import GanvizError
from ganviz.format import METRIC_COLUMNS, METRICS

#: The metrics.jsonl columns a loop may hand over (``StepMetrics``'s fields, in this order).
HANDED = (
    METRICS.loss_d,
    METRICS.loss_g,
    METRICS.d_real,
    METRICS.d_fake,
    METRICS.d_fake_after,
    METRICS.acc_real,
    METRICS.acc_fake,
)
#: D's score columns, and the accuracy column each one's per-sample outputs give (what D got right on them).
SCORES = {METRICS.d_real: METRICS.acc_real, METRICS.d_fake: METRICS.acc_fake, METRICS.d_fake_after: None}
#: Columns the Recorder fills itself; a loop cannot hand them (``step`` and ``epoch`` are ``step``'s own arguments).
FILLED = tuple(c for c in METRIC_COLUMNS if c not in HANDED)
#: An extra column's name: a Python identifier of at most 64 characters (it is a keyword argument of ``step``).
EXTRA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")  # \Z: "$" would let a name end in a newline
MAX_EXTRAS = 64


class StepValueError(GanvizError):
    """``Recorder.step`` was handed a value it cannot record; the message names the argument."""


def single(name: str, value: object) -> torch.Tensor | float | None:
    """A value that must be one number: a one-element tensor (detached, as float32 of shape (1,)), a float, or
    None (missing)."""
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise StepValueError(
                f"Recorder.step({name}=...): a single number, got a tensor of shape {tuple(value.shape)}"
            )
        return value.detach().reshape(1).float()
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StepValueError(f"Recorder.step({name}=...): a number or a tensor, got {type(value).__name__}") from None


def per_sample(name: str, out: torch.Tensor, d_output: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(D's mean score, the share of samples D judged right or None) from its per-sample outputs ``out``, both
    (1,) tensors on ``out``'s device. Right is "real" for ``d_real``, "fake" for ``d_fake``; a critic has no
    verdict, and ``d_fake_after`` no accuracy column."""
    x = out.detach().float().flatten()
    if d_output == "logit":
        score, says_real = x.sigmoid(), x > 0
    else:
        score, says_real = x, x > 0.5
    acc = None
    if d_output != "critic" and SCORES[name] is not None:
        right = says_real if name == METRICS.d_real else ~says_real
        acc = right.float().mean().reshape(1)
    return score.mean().reshape(1), acc


def read_step(values: dict[str, Any], d_output: str) -> tuple[dict[str, torch.Tensor | float | None], list[str]]:
    """This step's values by column (tensors stay on their device), and the names among them that are the loop's
    own (extra columns). An accuracy derived from per-sample scores gives way to one handed over."""
    row: dict[str, torch.Tensor | float | None] = {}
    derived: dict[str, torch.Tensor] = {}
    extras = []
    for name, value in values.items():
        if name in FILLED:
            raise StepValueError(
                f"Recorder.step({name}=...): the Recorder fills {name} itself; name your own value differently"
            )
        if name not in HANDED:
            if not EXTRA_NAME.match(name):
                raise StepValueError(f"Recorder.step({name!r}=...): a column name is a Python identifier of 1-64 chars")
            extras.append(name)
        if name in SCORES and isinstance(value, torch.Tensor) and value.numel() > 1:
            row[name], acc = per_sample(name, value, d_output)
            if acc is not None:
                derived[SCORES[name]] = acc  # type: ignore[index]
        else:
            row[name] = single(name, value)
    for column, acc in derived.items():
        if row.get(column) is None:
            row[column] = acc
    return row, extras


def check_scores(rows: list[dict[str, Any]], d_output: str) -> None:
    """Stop at a recorded mean score outside [0, 1] when D's scores are probabilities: it is no probability of
    real (most likely a mean of a logit D's outputs, see the module's docstring)."""
    if d_output == "critic":
        return
    for r in rows:
        for name in SCORES:
            v = r.get(name)
            if isinstance(v, float) and math.isfinite(v) and not -1e-6 <= v <= 1 + 1e-6:
                hint = (
                    "hand D's per-sample logits (d_real=D(x)) or their mean probability (D(x).sigmoid().mean()); a "
                    "mean of logits is no probability"
                    if d_output == "logit"
                    else "a D that returns logits needs d_output='logit'"
                )
                raise StepValueError(
                    f"Recorder.step({name}=...): {v:.4g} at step {r[METRICS.step]} is not a probability of real "
                    f"(d_output={d_output!r}); {hint}, or a critic's raw values d_output='critic'"
                )


def padded(host: np.ndarray, width: int) -> np.ndarray:
    """A row's host values widened to ``width`` columns (extra columns that appeared after it: missing)."""
    return host if len(host) >= width else np.concatenate([host, np.full(width - len(host), np.nan)])
