"""scenes/readouts.py, the one source of the numbers scenes show, against values known without it: hand-worked
cases, brute-force means and the truth check's oracle (tests/truth.py), which reads the run's files with json and
numpy alone. Fast (no rendering): these are the tests mutation testing runs for this module (docs/mutation.md)."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import truth
from designed import make_designed_run

from ganviz.reader import Run
from scenes import readouts as r


@pytest.fixture(scope="module")
def toy2d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A designed 2-D run: 120 logged steps, snapshots every 20 (tests/designed.py)."""
    return make_designed_run(tmp_path_factory.mktemp("readouts") / "toy2d", "toy2d", total_steps=120, n=16)


def steps_of(n: int) -> SimpleNamespace:
    """What ``window`` reads of a run: its logged steps."""
    return SimpleNamespace(metrics=SimpleNamespace(step=np.arange(n)))


# -- registration ----------------------------------------------------------------------------------------------------
def test_reads_claims_and_constant_register_what_a_number_stands_for() -> None:
    mob = SimpleNamespace()
    assert r.reads(mob, "metric:d_fake", step=30, average=4, run=r.OTHER, scale=100.0) is mob
    assert mob.readings == (r.Reading("metric:d_fake", step=30, average=4, run="other", scale=100.0),)
    plain = r.reads(SimpleNamespace(), "step")
    assert plain.readings == (r.Reading("step", None, 1, "run", 1.0, None),)
    a, b = r.Reading("metric:accuracy", shown="98"), r.Reading("step", shown="1,530")
    assert r.claims(mob, a, b) is mob and mob.readings == (a, b)
    label = r.constant(SimpleNamespace(readings=(a,)))
    assert label.readings == () and label.constant is True


def test_claim_prints_the_scaled_value_and_registers_that_text() -> None:
    shown, reading = r.claim("metric:accuracy", 0.8234, "{:.1f}", step=30, average=4, scale=100)
    assert shown == "82.3"
    assert reading == r.Reading("metric:accuracy", step=30, average=4, run="run", scale=100, shown="82.3")
    assert r.claim("step", 1530.4) == ("1530", r.Reading("step", shown="1530"))  # default: whole numbers
    assert r.claim("metric:d_fake", float("nan"))[0] == "nan"  # printed as Python prints it


# -- the averaging rule ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("logged", "width"), [(0, 1), (1, 1), (99, 1), (100, 2), (149, 2), (150, 3), (3000, 60)])
def test_window_is_two_percent_of_the_logged_steps_and_at_least_one(logged: int, width: int) -> None:
    assert r.window(steps_of(logged)) == width


def test_average_words_name_the_width() -> None:
    assert r.average_words(0) == r.average_words(1) == "each step"
    assert r.average_words(2) == "2-step average"
    assert r.average_words(1500) == "1,500-step average"


def brute_trailing_mean(v: np.ndarray, width: int) -> np.ndarray:
    """The definition, one index at a time: the mean of the finite values among the last ``width`` up to i."""
    out = []
    for i in range(len(v)):
        last = v[max(0, i - width + 1) : i + 1]
        last = last[np.isfinite(last)]
        out.append(last.mean() if last.size else np.nan)
    return np.array(out)


@pytest.mark.parametrize("width", [1, 2, 3, 7, 40])
def test_trailing_mean_is_the_mean_of_the_last_finite_values(width: int) -> None:
    v = np.random.default_rng(0).normal(size=30)
    v[[0, 1, 5, 6, 7, 8, 9, 20]] = np.nan  # a leading gap, a gap wider than some windows, a lone one
    v[12] = np.inf  # not finite: skipped like NaN
    np.testing.assert_allclose(r.trailing_mean(v, width), brute_trailing_mean(v, width), rtol=1e-12, equal_nan=True)


def test_trailing_mean_sums_in_float64() -> None:
    """float32 values (a run's arrays may be) are averaged in float64: running sums of 4,000 values in float32 would
    lose about 1e-4 of a window's mean."""
    v = np.random.default_rng(1).uniform(100, 101, 4000).astype(np.float32)
    want = brute_trailing_mean(v.astype(np.float64), 9)
    np.testing.assert_allclose(r.trailing_mean(v, 9), want, rtol=1e-10)


def test_trailing_mean_hand_worked() -> None:
    got = r.trailing_mean(np.array([2.0, np.nan, 4.0, 9.0, 1.0]), 2)
    np.testing.assert_allclose(got, [2.0, 2.0, 4.0, 6.5, 5.0])
    assert np.isnan(r.trailing_mean(np.array([np.nan, np.nan]), 3)).all()
    assert r.trailing_mean([1, 2, 3], 1).tolist() == [1.0, 2.0, 3.0]  # lists of ints are read as float64


# -- a run's values at a step, against the truth check's oracle --------------------------------------------------------
@pytest.mark.parametrize("column", ["d_fake", "loss_g", "accuracy", "gap"])
def test_metric_at_is_the_run_files_value(toy2d: Path, column: str) -> None:
    run = Run.load(toy2d)
    for average in (1, 4):
        for step in (0, 1, 2, 37, 60.5, 120, 500):
            want = truth.expected(str(toy2d), f"metric:{column}", int(step), average)
            got = r.metric_at(run, column, step, average)
            assert got == pytest.approx(want, rel=1e-12, nan_ok=True), (column, average, step)


def test_derived_columns_and_series(toy2d: Path) -> None:
    run = Run.load(toy2d)
    m = run.metrics
    np.testing.assert_allclose(r.metric(run, "accuracy"), (m["acc_real"] + m["acc_fake"]) / 2)
    np.testing.assert_allclose(r.metric(run, "gap"), m["d_real"] - m["d_fake"])
    assert r.metric(run, "epoch").dtype == np.float64  # an integer column is read as float64
    steps, values = r.series(run, "d_real")
    assert steps is m.step and np.array_equal(values, m["d_real"])
    for width in (2, 5):
        steps, smooth = r.series(run, "d_real", width)
        np.testing.assert_allclose(smooth, brute_trailing_mean(np.asarray(m["d_real"]), width), rtol=1e-12)
    assert r.metric_at(run, "d_real", 37) == truth.expected(str(toy2d), "metric:d_real", 37)  # default: as logged


def test_at_is_the_last_logged_value_up_to_the_step() -> None:
    steps, values = np.array([10, 20, 30]), np.array([1.0, 2.0, 3.0])
    assert math.isnan(r.at(steps, values, 9.5))  # before the first logged step nothing is known
    assert [r.at(steps, values, s) for s in (10, 19.5, 20, 20 - 1e-10, 29, 30, 1000)] == [1, 1, 2, 2, 2, 3, 3]
    assert r.at(steps, values, 20 - 1e-9) == 2  # a frame's step a hair under a logged one, as float arithmetic gives


# -- snapshots ----------------------------------------------------------------------------------------------------
def test_snapshot_stat_hand_worked() -> None:
    v = np.array([[4.0, np.nan], [1.0, 10.0], [np.inf, 2.0]])  # raveled: 4, nan, 1, 10, inf, 2
    assert r.snapshot_stat(v, "mean") == pytest.approx(17 / 4)
    assert r.snapshot_stat(v, "median") == pytest.approx(3.0)
    assert r.snapshot_stat(v, "max") == 10.0
    assert r.snapshot_stat(v, "item3") == 10.0 and math.isnan(r.snapshot_stat(v, "item1"))
    # spread3 of 6 entries: indices round(0, 2.5, 5) = 0, 2, 5 -> 4, 1, 2
    assert r.snapshot_stat(v, "spread3") == pytest.approx(7 / 3)
    assert r.snapshot_stat(np.arange(5.0), "spread9") == 2.0  # k > n: all entries, once each
    assert r.snapshot_stat(np.array([7.0, 1.0, 1.0, 5.0]), "spread2") == 6.0  # the first and the last
    assert math.isnan(r.snapshot_stat(np.array([np.nan, np.inf]), "mean"))


@pytest.mark.parametrize("statistic", ["mean", "median", "max", "item5", "spread4", "spread40"])
def test_snapshot_stat_is_the_oracle_value(toy2d: Path, statistic: str) -> None:
    run = Run.load(toy2d)
    for step in run.steps:
        snap = run.read_snapshot(step, ("d_fake",))
        want = truth.expected(str(toy2d), f"snapshot:d_fake:{statistic}", step)
        assert r.snapshot_stat(snap.get("d_fake"), statistic) == pytest.approx(want, rel=1e-12), (step, statistic)


def test_snapshot_accuracy_is_the_oracle_value(toy2d: Path) -> None:
    run = Run.load(toy2d)
    steps, values = r.snapshot_accuracy(run)
    assert steps.tolist() == run.steps and steps.dtype == np.int64 and values.dtype == np.float64
    np.testing.assert_allclose(values, [truth._snapshot_accuracy(str(toy2d), s) for s in run.steps], rtol=1e-12)


def test_snapshot_accuracy_at_the_boundary_and_without_scores(tmp_path: Path) -> None:
    """D is right on a real sample scored above 0.5 and on a fake scored at or below it: at step 0 real scores
    (0.5, 0.6, NaN) are right 1 of 2 finite, fake scores (0.5, 0.7, 0.2, inf) 2 of 3: accuracy (1/2 + 2/3) / 2. Left
    out: step 20, whose real scores are all NaN, and step 40, which has no fake scores; the snapshots after them
    count. Step 60's samples are damaged, its scores not: only the scores are read."""
    path = make_designed_run(tmp_path / "run", "toy2d", total_steps=80, snapshot_every=20, n=4)
    files = sorted((path / "snapshots").glob("step_*.npz"))
    edits = {0: ([0.5, 0.6, np.nan, np.nan], [0.5, 0.7, 0.2, np.inf]), 1: ([np.nan] * 4, [0.1] * 4), 2: None}
    for i, scores in edits.items():
        with np.load(files[i]) as z:
            arrays = {k: z[k] for k in z.files}
        if scores is None:
            del arrays["d_fake"]
        else:
            arrays["d_real"], arrays["d_fake"] = np.array(scores[0]), np.array(scores[1])
        np.savez(files[i], **arrays)
    with zipfile.ZipFile(files[3]) as z:
        start = z.getinfo("grid_fake.npy").header_offset
    data = bytearray(files[3].read_bytes())
    data[start + 300 : start + 340] = bytes(40)  # inside the samples' compressed bytes
    files[3].write_bytes(bytes(data))
    steps, values = r.snapshot_accuracy(Run.load(path))
    assert steps.tolist() == [0, 60, 80]
    assert values[0] == pytest.approx((1 / 2 + 2 / 3) / 2)
    gone = make_designed_run(tmp_path / "gone", "toy2d", total_steps=40, snapshot_every=20, n=4, drop=("d_real",))
    steps, values = r.snapshot_accuracy(Run.load(gone))
    assert steps.tolist() == [] and steps.dtype == np.int64 and values.dtype == np.float64


# -- quality measures ---------------------------------------------------------------------------------------------
MODES = {"measure": "modes_captured", "value": 6, "counts": [5, 0, 3, 2], "n_fake": 20, "off": 10, "high": None}
DIGITS = {"measure": "recognised", "value": 2, "n_fake": 10, "recognised": [4, 0, 1], "unrecognised": 5}


@pytest.mark.parametrize(
    ("row", "part", "want"),
    [
        (MODES, "", 6.0),
        ({**MODES, "off": 7}, "share_off", 0.35),  # the row's own count, where it has one
        ({**MODES, "value": None}, "", math.nan),
        (MODES, "counts2", 3.0),
        (MODES, "share0", 0.25),
        (MODES, "share_off", 0.5),
        ({k: v for k, v in MODES.items() if k != "off"}, "share_off", 0.5),  # recorded before 'off': n - counts
        ({**{k: v for k, v in MODES.items() if k != "off"}, "measure": "sliced"}, "share_off", math.nan),
        (MODES, "share_missing", math.nan),
        (DIGITS, "share_recognised2", 0.1),
        (DIGITS, "share_unrecognised", 0.5),
        (DIGITS, "present_recognised", 2.0),
        (DIGITS, "present_other", math.nan),
        (MODES, "n_fake", 20.0),
        (MODES, "high", math.nan),
        (MODES, "absent", math.nan),
        (MODES, "absent1", math.nan),  # six letters and a digit: not a 'counts'/'share' index
        ({"n_fake": 10, "X": 4}, "share_X", 0.4),  # any count of the row
        ({**MODES, "n_fake": 0}, "share0", math.nan),  # no samples: no share
        ({**MODES, "n_fake": None}, "share0", math.nan),
    ],
)
def test_eval_part_hand_worked(row: dict, part: str, want: float) -> None:
    assert r.eval_part(row, part) == pytest.approx(want, nan_ok=True)


def test_eval_part_without_a_row_is_unknown() -> None:
    assert r.eval_part(MODES) == 6.0  # no part: the row's value
    assert math.isnan(r.eval_part(None)) and math.isnan(r.eval_part(None, "counts0"))


def test_percent_prints_whole_percent_or_a_dash() -> None:
    assert [r.percent(f) for f in (0.984, 0.126, 0.0, 1.0)] == ["98", "13", "0", "100"]
    assert r.percent(float("nan")) == r.percent(float("inf")) == "–"
