"""The run format's records as read (ganviz/records.py) and its names (ganviz/format.py), on files and rows made
here by hand: snapshot names and the steps they stand for, an .npz refused by its first bytes, the one-line reason
of a damaged one, and evals.jsonl grouped into series that never mix feature spaces or sample counts."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ganviz.errors import RunError
from ganviz.format import (
    EVAL_REQUIRED,
    RUN_JSON_TYPES,
    SNAPSHOT,
    SNAPSHOT_REQUIRED,
    snapshot_name,
    snapshot_step,
)
from ganviz.records import (
    DamagedNpz,
    Evals,
    Fixed,
    Metrics,
    Snapshot,
    _why,
    load_npz,
    npz_problem,
    read_npz_arrays,
)


def test_snapshot_names_sort_by_step_and_name_their_step() -> None:
    assert snapshot_name(0) == "step_00000000.npz" and snapshot_name(1234) == "step_00001234.npz"
    for step in (0, 7, 99_999_999):
        assert snapshot_step(snapshot_name(step)) == step
    for other in ("step_0000001.npz", "step_000000001.npz", "xstep_00000001.npz", "step_00000001.npz.tmp",
                  "step_0000000a.npz", "STEP_00000001.npz", "step_00000001.npy"):  # fmt: skip
        assert snapshot_step(other) is None, other


def test_the_declared_types_and_required_names() -> None:
    assert RUN_JSON_TYPES["format_version"] is int and RUN_JSON_TYPES["checkpoint_seconds"] == (int, float)
    assert RUN_JSON_TYPES["config"] is dict and RUN_JSON_TYPES["layers_g"] is list and RUN_JSON_TYPES["kind"] is str
    assert EVAL_REQUIRED == ("step", "measure", "value", "space", "n_fake", "n_real")
    assert SNAPSHOT_REQUIRED == ("fake", "grad_norm_g", "grad_norm_d")


def npz(path: Path, **arrays: np.ndarray) -> Path:
    np.savez_compressed(path, **arrays)
    return path


def test_an_npz_reads_only_the_keys_asked_for(tmp_path: Path) -> None:
    f = npz(tmp_path / "a.npz", fake=np.arange(3.0), grad_norm_g=np.ones(2), grad_norm_d=np.zeros(1))
    got = read_npz_arrays(f, ["fake", "grad_norm_d", "absent"])
    assert sorted(got) == ["fake", "grad_norm_d"] and got["fake"].tolist() == [0.0, 1.0, 2.0]
    assert sorted(load_npz(f)) == ["fake", "grad_norm_d", "grad_norm_g"]
    assert npz_problem(f) is None
    assert npz_problem(f, ("fake", "field", "d_real")) == "no 'field', 'd_real' array"
    assert npz_problem(tmp_path / "none.npz") == "file not found"
    with pytest.raises(RunError, match=r"none.npz: file not found$"):
        load_npz(tmp_path / "none.npz")


def test_an_array_of_python_objects_is_never_unpickled(tmp_path: Path) -> None:
    f = tmp_path / "obj.npz"
    np.savez(f, fake=np.zeros(2), obj=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(DamagedNpz, match=r"^ValueError: Object arrays cannot be loaded when allow_pickle=False"):
        read_npz_arrays(f, None)
    assert sorted(load_npz(f, ["fake"])) == ["fake"]  # only what is asked for is read


def test_what_is_no_npz_archive_is_refused_by_its_first_bytes(tmp_path: Path) -> None:
    lone = tmp_path / "lone.npz"
    np.save(lone.with_suffix(".npy"), np.arange(3))
    lone.write_bytes(lone.with_suffix(".npy").read_bytes())
    pickled = tmp_path / "pickled.npz"
    pickled.write_bytes(b"\x80\x04K\x01.")  # a pickle of 1
    for f, why in ((lone, "not an .npz archive (a lone .npy array)"), (pickled, "not an .npz archive")):
        assert npz_problem(f) == why
        with pytest.raises(DamagedNpz) as e:
            read_npz_arrays(f, None)
        assert e.value.why == why and str(e.value) == why
        with pytest.raises(RunError) as e:
            load_npz(f)
        assert str(e.value) == f"{f}: unreadable or damaged .npz ({why})"


def test_a_damaged_archive_is_one_line_naming_the_error(tmp_path: Path) -> None:
    good = npz(tmp_path / "good.npz", fake=np.arange(1000.0), grad_norm_g=np.ones(2), grad_norm_d=np.ones(2))
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:200])
    assert npz_problem(cut) == "BadZipFile: File is not a zip file"
    with pytest.raises(RunError, match=r"cut.npz: unreadable or damaged .npz \(BadZipFile: File is not a zip file\)$"):
        load_npz(cut)
    flipped = tmp_path / "flipped.npz"
    data = bytearray(good.read_bytes())
    data[200] ^= 0xFF  # inside the first array's compressed bytes: the zip directory at the end is intact
    flipped.write_bytes(bytes(data))
    assert npz_problem(flipped) is None  # the cheap check reads the directory and names only
    with pytest.raises(DamagedNpz) as e:
        read_npz_arrays(flipped, None)
    assert re.fullmatch(r"[A-Za-z]\w*: \S.*", e.value.why) and "\n" not in e.value.why  # 'Type: what'; any type
    assert read_npz_arrays(flipped, ["grad_norm_g"])["grad_norm_g"].tolist() == [1.0, 1.0]  # the rest still reads


def test_a_reason_is_one_line_of_at_most_160_characters() -> None:
    assert _why(ValueError("bad\n  thing\there")) == "ValueError: bad thing here"
    assert _why(KeyError()) == "KeyError"
    assert _why(OSError("x" * 160)) == "OSError: " + "x" * 160
    assert _why(OSError("x" * 161)) == "OSError: " + "x" * 157 + "..."


def test_records_name_what_they_lack() -> None:
    snap = Snapshot(40, {"epoch": np.array(3), "fake": np.zeros((2, 2))})
    assert snap.epoch == 3 and type(snap.epoch) is int and snap.get("field") is None and snap.get("x", 5) == 5
    with pytest.raises(RunError, match=r"^snapshot at step 40 has no array 'd_real'$"):
        snap.d_real  # noqa: B018
    assert snap.field is None and snap.grid_fake is None and snap.labels is None and snap.fake_grad is None
    fixed = Fixed(noise=np.ones(2))
    assert fixed.field_extent is None and fixed.labels is None and fixed.real_labels is None
    m = Metrics(loss_d=np.ones(2))
    assert m.loss_d.tolist() == [1.0, 1.0]
    with pytest.raises(AttributeError, match=r"^no metric column 'gp'$"):
        m.gp  # noqa: B018
    assert SNAPSHOT.d_real == "d_real"


def row(step: int, measure: str, value: float | None, space: str | None = None, n: int | None = 100) -> dict:
    return {"step": step, "measure": measure, "value": value, "space": space, "n_fake": n, "n_real": n}


def test_eval_series_never_mix_spaces_or_sample_counts() -> None:
    rows = [
        row(0, "fd", 9.0, "digits"),
        row(0, "fd", 90.0, "inception"),
        row(0, "sliced_w1", None, None),
        row(10, "fd", 5.0, "digits"),
        row(10, "fd", 4.0, "digits", n=5000),  # measured again on more samples: another series
        row(20, "fd", None, "digits"),
        row(20, "fd", 60.0, "inception"),
        {**row(20, "fd", 3.0, "digits"), "n_real": 50},
    ]
    evals = Evals(rows)
    assert bool(evals) and not Evals([]) and Evals([]).measures == [] and Evals([]).get("fd") is None
    assert evals.measures == ["fd", "sliced_w1"]
    keys = [(s.measure, s.space, s.n_fake, s.n_real) for s in evals.series]
    assert keys == [
        ("fd", "digits", 100, 100),
        ("fd", "inception", 100, 100),
        ("sliced_w1", None, 100, 100),
        ("fd", "digits", 5000, 5000),
        ("fd", "digits", 100, 50),
    ]
    digits = evals.get("fd", "digits")  # the one with the most rows
    assert digits.steps.dtype == np.int64 and digits.steps.tolist() == [0, 10, 20]
    assert digits.values.dtype == np.float64 and np.array_equal(digits.values, [9.0, 5.0, np.nan], equal_nan=True)
    assert digits.rows == (rows[0], rows[3], rows[5])
    assert evals.get("fd", "inception").values.tolist() == [90.0, 60.0]
    assert evals.get("fd").space == "digits"  # three rows beat two, whatever the space
    assert evals.get("sliced_w1").values.tolist()[0] != evals.get("sliced_w1").values.tolist()[0]  # NaN
    assert evals.get("kid") is None and evals.get("fd", "clip") is None
    assert Evals([{"step": 0, "measure": "w1", "value": 1.5}]).series[0].n_fake is None
    whole = Evals(
        [{"step": 0, "measure": "modes_captured", "value": 8}, {"step": 5, "measure": "modes_captured", "value": 7}]
    )
    assert whole.get("modes_captured").values.dtype == np.float64  # whole numbers too, so NaN can stand in a gap
