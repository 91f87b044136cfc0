"""The run format's checks (ganviz/validate.py) against files written by hand in the documented format
(docs/run-format.md): each rule's bound on both sides, the row and the reason a damaged file is refused with, and
the cut last line a crash leaves, which is dropped with a warning."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from ganviz.errors import RunError, RunWarning
from ganviz.format import FORMAT_VERSION, METRIC_COLUMNS
from ganviz.validate import (
    _first_bad_eval,
    first_bad_metrics_row,
    read_eval_rows,
    read_metrics_columns,
    read_metrics_rows,
    read_run_json,
)

BIG = 2**62  # the first integer the format refuses


def run_json(tmp_path: Path, text: str) -> Path:
    (tmp_path / "run.json").write_text(text, encoding="utf-8")
    return tmp_path


def refused(tmp_path: Path, info: object) -> str:
    with pytest.raises(RunError) as e:
        read_run_json(run_json(tmp_path, json.dumps(info)))
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{tmp_path / 'run.json'}: ")
    return msg.split(": ", 1)[1]


def test_run_json_versions_from_1_to_the_current_one_read(tmp_path: Path) -> None:
    assert FORMAT_VERSION == 3
    for v in (1, 2, 3):
        assert read_run_json(run_json(tmp_path, json.dumps({"format_version": v, "kind": "toy2d"})))["kind"] == "toy2d"
    assert refused(tmp_path, {"format_version": 4}) == (
        "run format version 4 is newer than this ganviz reads (3); upgrade ganviz"
    )
    assert refused(tmp_path, {"format_version": 0}) == (
        "format_version 0 is not a ganviz run format (versions start at 1)"
    )
    assert refused(tmp_path, {"format_version": -2}).startswith("format_version -2 is not")
    assert refused(tmp_path, {"format_version": True}) == "format_version must be an integer, got True"
    assert refused(tmp_path, {"format_version": "3"}) == "format_version must be an integer, got '3'"
    assert refused(tmp_path, {"format_version": 3.0}) == "format_version must be an integer, got 3.0"


def test_a_file_that_is_no_run_json_is_named(tmp_path: Path) -> None:
    with pytest.raises(RunError, match=r"not a run folder \(no run.json\); pass a folder made by 'ganviz train'$"):
        read_run_json(tmp_path)
    assert refused(tmp_path, [1, 2]) == "not a ganviz run.json (no format_version)"
    assert refused(tmp_path, {"kind": "image"}) == "not a ganviz run.json (no format_version)"
    for text in ('{"format_version": 3', "\xff"):
        with pytest.raises(RunError, match=r"run.json: damaged run.json \("):
            read_run_json(run_json(tmp_path, text))
    (tmp_path / "run.json").write_bytes(b'{"format_version": 3, "variant": "\xff"}')
    with pytest.raises(RunError, match=r"run.json: damaged run.json \("):
        read_run_json(tmp_path)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("total_steps", "10", "an integer, got str"),
        ("total_steps", True, "an integer, got bool"),
        ("total_steps", 1.5, "an integer, got float"),
        ("checkpoint_seconds", "60", "a number, got str"),
        ("checkpoint_seconds", False, "a number, got bool"),
        ("config", [], "an object, got list"),
        ("layers_g", {}, "a list, got dict"),
        ("variant", 3, "a string, got int"),
        ("status", None, "a string, got NoneType"),
    ],
)
def test_a_run_json_field_of_the_wrong_type_is_damage(tmp_path: Path, key: str, value: object, words: str) -> None:
    assert refused(tmp_path, {"format_version": 3, key: value}) == f"'{key}' should be {words}; run.json is damaged"


def test_a_run_json_field_of_its_type_reads(tmp_path: Path) -> None:
    info = {"format_version": 3, "checkpoint_seconds": 60, "total_steps": 10, "config": {}, "layers_g": [], "x": True}
    assert read_run_json(run_json(tmp_path, json.dumps(info))) == info
    info["checkpoint_seconds"] = 2.5
    assert read_run_json(run_json(tmp_path, json.dumps(info)))["checkpoint_seconds"] == 2.5


def row(step: object, **kw: object) -> dict:
    return {"step": step, "epoch": 0, **{c: 0.5 for c in METRIC_COLUMNS[2:]}, **kw}


@pytest.mark.parametrize(
    ("rows", "verdict"),
    [
        ([], None),
        ([row(1), row(2), row(7)], None),
        ([row(1), row(BIG - 1, epoch=BIG - 1, loss_d=BIG - 1, loss_g=1 - BIG)], None),
        ([row(1, loss_d=None, loss_g=1e300, d_real=-3)], None),
        ([row(1), [1]], (1, "not a JSON object")),
        ([row(0), row(1)], (0, "step 0 does not follow step 0")),
        ([row(1, loss_d=1), row(2, loss_d=True)], (1, "'loss_d' is not a number")),
        ([row(1), "x"], (1, "not a JSON object")),
        ([row(1), row("2")], (1, "'step' is not a step number")),
        ([row(1), row(True)], (1, "'step' is not a step number")),
        ([row(1), row(2.0)], (1, "'step' is not a step number")),
        ([row(1), row(BIG)], (1, "'step' is not a step number")),
        ([row(1), {"epoch": 0}], (1, "'step' is not a step number")),
        ([row(1), row(2, epoch=-1)], (1, "'epoch' is not a step number")),
        ([row(1), row(2, epoch=BIG)], (1, "'epoch' is not a step number")),
        ([row(-1)], (0, "'step' is not a step number")),
        ([row(0)], (0, "step 0 does not follow step 0")),
        ([row(1), row(1)], (1, "step 1 does not follow step 1")),
        ([row(1), row(3), row(2)], (2, "step 2 does not follow step 3")),
        ([row(1, loss_d=True)], (0, "'loss_d' is not a number")),
        ([row(1), row(2, samples_per_s="9")], (1, "'samples_per_s' is not a number")),
        ([row(1), row(2, lr_d=BIG)], (1, "'lr_d' is not a number")),
        ([row(1), row(2, lr_d=-BIG)], (1, "'lr_d' is not a number")),
        ([row(1), row(2, time=[1])], (1, "'time' is not a number")),
        # the first bad row wins, and within a row the rules go in order: object, step, epoch, order, columns
        ([row(1), row(3, loss_d="x"), row(2)], (1, "'loss_d' is not a number")),
        ([row(1), row(1), row(2, loss_g="x")], (1, "step 1 does not follow step 1")),
        ([row(1), row(2, loss_g="x"), row("x")], (1, "'loss_g' is not a number")),
        ([row("x", epoch=-1, loss_d="x")], (0, "'step' is not a step number")),
        ([row(1), row(2, epoch=-1, loss_d="x")], (1, "'epoch' is not a step number")),
        ([row(2), row(1, epoch=-1)], (1, "'epoch' is not a step number")),
        ([row(5, loss_d="x"), row(1)], (0, "'loss_d' is not a number")),
        ([row(1, loss_d="x"), row(2, loss_g="y")], (0, "'loss_d' is not a number")),
        ([row(1), row(2, loss_g="y"), row(3, loss_d="x")], (1, "'loss_g' is not a number")),
        ([row(1), row(2), 7, row(1)], (2, "not a JSON object")),
    ],
)
def test_the_first_bad_metrics_row_and_why(rows: list, verdict: tuple | None) -> None:
    assert first_bad_metrics_row(rows) == verdict


def lines(*rows: object) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in rows)


def read(fn, f: Path):  # noqa: ANN001, ANN202
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn(f)
    return out, [(x.category, str(x.message)) for x in w]


def test_metrics_rows_skip_blank_lines_and_name_the_damaged_line(tmp_path: Path) -> None:
    f = tmp_path / "metrics.jsonl"
    f.write_bytes(b"\n \t\x0b\x0c\r\n" + lines(row(1), row(2)) + b"  \n")
    assert read(read_metrics_rows, f) == ([row(1), row(2)], [])
    f.write_bytes(b"\n" + lines(row(1)) + b"{oops\n" + lines(row(3)))
    with pytest.raises(RunError) as e:
        read_metrics_rows(f)
    assert str(e.value) == f"{f}: line 3 is damaged (not valid JSON); the metrics file is corrupt"
    f.write_bytes(lines(row(1), row(3), row(2)))
    with pytest.raises(RunError, match=r"metrics.jsonl: line 3 is damaged \(step 2 does not follow step 3\); the metr"):
        read_metrics_rows(f)
    f.write_bytes(lines(row(1), row(2)) + b"{oops\n")  # ended by a newline: written whole, so damaged
    with pytest.raises(RunError, match=r"line 3 is damaged \(not valid JSON\)"):
        read_metrics_rows(f)


def test_a_cut_last_line_is_dropped_with_one_warning(tmp_path: Path) -> None:
    f = tmp_path / "metrics.jsonl"
    for tail, why in (
        (b'{"step": 3, "lo', "not valid JSON"),
        (json.dumps(row(1)).encode(), "step 1 does not follow step 2"),
    ):
        f.write_bytes(lines(row(1), row(2)) + tail)
        rows, said = read(read_metrics_rows, f)
        assert rows == [row(1), row(2)]
        assert said == [(RunWarning, f"{f}: ignoring truncated last line ({why})")]
    f.write_bytes(b'{"step": 1, "ep')  # the only line, cut short
    assert read(read_metrics_rows, f) == ([], [(RunWarning, f"{f}: ignoring truncated last line (not valid JSON)")])


def test_bytes_that_are_no_utf8_json_are_damage_wherever_they_are(tmp_path: Path) -> None:
    f = tmp_path / "metrics.jsonl"
    for bad in (b"\x00", json.dumps(row(2)).encode()[:-1] + b"\xff}", b"\x00" + json.dumps(row(2)).encode()):
        f.write_bytes(lines(row(1), bad, row(3)))
        with pytest.raises(RunError, match=r"line 2 is damaged \(not valid JSON\)"):
            read_metrics_rows(f)
    f.write_bytes(lines(row(1), {"step": 2, "epoch": 0, "note": "caf\u00e9"}))  # UTF-8 beyond ASCII reads
    assert read_metrics_rows(f)[1]["note"] == "caf\u00e9"
    f.write_bytes(
        lines(row(1), b"\xef\xbb\xbf" + json.dumps(row(2)).encode())
    )  # a line with a BOM reads, as JSON allows
    assert read_metrics_rows(f) == [row(1), row(2)]


def test_a_line_reads_as_json_reads_it_from_bytes(tmp_path: Path) -> None:
    """Line by line, as json.loads reads bytes: a UTF-16 line reads; a line of a whitespace JSON does not know is
    damage, not a blank line."""
    f = tmp_path / "metrics.jsonl"
    f.write_bytes(json.dumps(row(1)).encode("utf-16-le"))
    assert read(read_metrics_rows, f) == ([row(1)], [])
    for odd in ("\x1c", "\u00a0", "\u2028"):
        f.write_bytes(lines(row(1), odd.encode(), row(2)))
        with pytest.raises(RunError, match=r"line 2 is damaged \(not valid JSON\)"):
            read_metrics_rows(f)


def test_a_missing_metrics_file_is_no_rows_and_an_unreadable_one_is_named(tmp_path: Path) -> None:
    assert read_metrics_rows(tmp_path / "metrics.jsonl") == []
    (tmp_path / "metrics.jsonl").mkdir()
    with pytest.raises(RunError, match=r"metrics.jsonl: cannot read \(Is a directory\)$"):
        read_metrics_rows(tmp_path / "metrics.jsonl")


def test_metrics_columns_hold_each_rows_value_or_nan(tmp_path: Path) -> None:
    f = tmp_path / "metrics.jsonl"
    f.write_bytes(
        lines(
            row(1, loss_d=2, gp=0.25, k=1),
            row(2, epoch=1, loss_d=None, gp=None, lr=3, k=2),
            {"step": 4, "epoch": 1, "k": 4},
        )
    )
    m = read_metrics_columns(f, ("gp", "lr", "w", "k"))
    assert m["k"].dtype == np.float64 and m["k"].tolist() == [1.0, 2.0, 4.0]  # whole numbers too read as floats
    assert m.step.dtype == np.int64 and m.step.tolist() == [1, 2, 4] and m.epoch.tolist() == [0, 1, 1]
    assert m.loss_d.dtype == np.float64 and np.array_equal(m.loss_d, [2.0, np.nan, np.nan], equal_nan=True)
    assert np.array_equal(m["gp"], [0.25, np.nan, np.nan], equal_nan=True) and m["gp"].dtype == np.float64
    assert np.array_equal(m["lr"], [np.nan, 3.0, np.nan], equal_nan=True)
    assert np.isnan(m["w"]).all() and len(m["w"]) == 3
    assert list(m) == [*METRIC_COLUMNS, "gp", "lr", "w", "k"]
    assert "gp" not in read_metrics_columns(f)


@pytest.mark.parametrize("bad", ["high", True, [1.0], {"v": 1}])
def test_a_column_of_the_loops_own_must_hold_numbers(tmp_path: Path, bad: object) -> None:
    f = tmp_path / "metrics.jsonl"
    f.write_bytes(lines(row(1, gp=1.0), row(2, gp=2), row(3, gp=bad)))
    with pytest.raises(RunError) as e:
        read_metrics_columns(f, ("gp",))
    assert str(e.value) == f"{f}: row 3: 'gp' is not a number; the metrics file is corrupt"


def ev(step: object, measure: object = "sliced_w1", **kw: object) -> dict:
    return {"step": step, "measure": measure, "value": 0.5, "space": None, "n_fake": 100, "n_real": 100, **kw}


@pytest.mark.parametrize(
    ("rows", "verdict"),
    [
        ([], None),
        ([ev(0), ev(0, "modes_captured", counts=[1, 2], off=3), ev(5, value=None, kl=None), ev(BIG - 1)], None),
        ([ev(0, std=1, floor=0.5, floor_std=0, k=3, reference="N(4, 0.25)", kl=2, space="digits")], None),
        ([ev(0, n_real=None, n_fake=None, value=2)], None),
        ([ev(0), [1]], (1, "not a JSON object")),
        ([ev(-1)], (0, "'step' is not a step number")),
        ([ev(BIG)], (0, "'step' is not a step number")),
        ([ev(True)], (0, "'step' is not a step number")),
        ([ev(1.0)], (0, "'step' is not a step number")),
        ([ev(5), ev(5), ev(4)], (2, "step 4 comes after step 5")),
        ([ev(0, "")], (0, "'measure' is not a measure name")),
        ([ev(0, None)], (0, "'measure' is not a measure name")),
        ([ev(0, 3)], (0, "'measure' is not a measure name")),
        ([ev(0, value=True)], (0, "'value' has the wrong type")),
        ([ev(0, value="0.5")], (0, "'value' has the wrong type")),
        ([ev(0, value=BIG)], (0, "'value' has the wrong type")),
        ([ev(0, value=-BIG)], (0, "'value' has the wrong type")),
        ([ev(0, space=1)], (0, "'space' has the wrong type")),
        ([ev(0, n_fake=1.0)], (0, "'n_fake' has the wrong type")),
        ([ev(0, n_real="9")], (0, "'n_real' has the wrong type")),
        ([ev(0, std=None)], (0, "'std' has the wrong type")),
        ([ev(0, floor="x")], (0, "'floor' has the wrong type")),
        ([ev(0, floor_std=None)], (0, "'floor_std' has the wrong type")),
        ([ev(0, counts=[1]), ev(0, counts="12")], (1, "'counts' has the wrong type")),
        ([ev(0, kl="inf")], (0, "'kl' has the wrong type")),
        ([ev(0, k=3.0)], (0, "'k' has the wrong type")),
        ([ev(0, reference=None)], (0, "'reference' has the wrong type")),
        ([ev(1), ev(0, "x", value="bad")], (1, "step 0 comes after step 1")),
        ([ev(2, "")], (0, "'measure' is not a measure name")),
    ],
)
def test_the_first_bad_evals_row_and_why(rows: list, verdict: tuple | None) -> None:
    assert _first_bad_eval(rows) == verdict


def test_evals_rows_name_the_damaged_line_and_drop_a_cut_last_one(tmp_path: Path) -> None:
    f = tmp_path / "evals.jsonl"
    assert read_eval_rows(f) == []
    f.write_bytes(lines(ev(0), ev(5, value="x"), ev(10)))
    with pytest.raises(RunError) as e:
        read_eval_rows(f)
    assert str(e.value) == (
        f"{f}: line 2 is damaged ('value' has the wrong type); the quality measures file is damaged or not ganviz's"
    )
    f.write_bytes(lines(ev(0), ev(5)) + b'{"step": 10, "mea')
    assert read(read_eval_rows, f) == (
        [ev(0), ev(5)],
        [(RunWarning, f"{f}: ignoring truncated last line (not valid JSON)")],
    )
