"""read_metrics_columns (the column-wise checked path behind Run.metrics) accepts and rejects exactly what
the line-by-line reader read_metrics_rows does, with the same messages and warnings."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from pipeline.run import METRIC_COLUMNS, RunError, read_metrics_columns, read_metrics_rows


def _row(step: int, **kw: object) -> dict:
    r = {c: 0.5 for c in METRIC_COLUMNS}
    r.update({"step": step, "epoch": 0, **kw})
    return r


def _line(step: int, **kw: object) -> bytes:
    return json.dumps(_row(step, **kw)).encode()


GOOD = [_line(s) for s in (1, 2, 3)]
CASES = {
    "intact": b"\n".join(GOOD) + b"\n",
    "blank lines and CRLF": b"\r\n".join(GOOD) + b"\r\n\n  \n",
    "nulls, ints, NaN and extra keys": b"\n".join(
        [_line(1, loss_g=None, loss_d=2, extra="x"), b'{"step": 2, "epoch": 0, "loss_d": NaN}']
    ),
    "missing columns": b'{"step": 1, "epoch": 0}\n{"step": 5, "epoch": 1, "loss_g": 1e300}\n',
    "cut last line": b"\n".join([*GOOD, b'{"step": 4, "loss']),
    "bad last row without newline": b"\n".join([*GOOD, b'{"step": 4}']),
    "bool step": b"\n".join([GOOD[0], _line(2).replace(b'"step": 2', b'"step": true'), GOOD[2]]),
    "float step": b"\n".join([GOOD[0], _line(2).replace(b'"step": 2', b'"step": 2.0'), GOOD[2]]),
    "step zero": b"\n".join([_line(0), *GOOD]),
    "steps not ascending": b"\n".join([GOOD[1], GOOD[0], GOOD[2]]) + b"\n",
    "negative epoch": b"\n".join([GOOD[0], _line(2, epoch=-1), GOOD[2]]) + b"\n",
    "huge step": b"\n".join([GOOD[0], _line(2**63 + 5)]) + b"\n",
    "bool value": b"\n".join([_line(1, loss_g=True), *GOOD[1:]]) + b"\n",
    "string value": b"\n".join([_line(1, loss_g="1.0"), *GOOD[1:]]) + b"\n",
    "huge int value": b"\n".join([_line(1, loss_g=2**62), *GOOD[1:]]) + b"\n",
    "list row": b"\n".join([GOOD[0], b"[1, 2]", GOOD[2]]) + b"\n",
    "two rows on a line": b"\n".join([GOOD[0] + b" " + GOOD[1], GOOD[2]]) + b"\n",
    "UTF-8 BOM on a line": b"\n".join([GOOD[0], b"\xef\xbb\xbf" + GOOD[1], GOOD[2]]) + b"\n",
    "invalid UTF-8": b"\n".join([GOOD[0], _line(2, note="x").replace(b'"x"', b'"\xff"'), GOOD[2]]) + b"\n",
    "NUL byte": b"\n".join([GOOD[0], b"\x00" + GOOD[1], GOOD[2]]) + b"\n",
    "empty": b"",
}


def _outcome(fn, f: Path):  # noqa: ANN001, ANN202
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            res = fn(f)
        except RunError as e:
            res = f"RunError: {e}"
    return res, [str(x.message) for x in w]


@pytest.mark.parametrize("case", list(CASES))
def test_same_verdict_as_the_line_reader(case: str, tmp_path: Path) -> None:
    f = tmp_path / "metrics.jsonl"
    f.write_bytes(CASES[case])
    rows, row_warnings = _outcome(read_metrics_rows, f)
    cols, col_warnings = _outcome(read_metrics_columns, f)
    assert col_warnings == row_warnings
    if isinstance(rows, str):
        assert cols == rows
        return
    assert not isinstance(cols, str), cols
    for c in METRIC_COLUMNS:
        want = [r.get(c) for r in rows]
        dtype = np.int64 if c in ("step", "epoch") else np.float64
        ref = np.array([np.nan if v is None else v for v in want], dtype=dtype)
        assert cols[c].dtype == dtype and len(cols[c]) == len(rows)
        np.testing.assert_array_equal(cols[c], ref)


def test_missing_file_is_no_rows(tmp_path: Path) -> None:
    cols = read_metrics_columns(tmp_path / "metrics.jsonl")
    assert all(len(v) == 0 for v in cols.values()) and set(cols) == set(METRIC_COLUMNS)
