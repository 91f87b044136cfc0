"""Fuzz the run reader with truncations and byte flips of real run files: only RunError may come out."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.run import Run, RunError, read_metrics_rows


def read_everything(path: Path) -> None:
    """Touch every part of the run the way plots, GIFs and scenes do."""
    run = Run.load(path)
    _ = (run.name, run.variant, run.kind, run.status, run.config, repr(run))
    m = run.metrics
    assert all(len(col) == len(m["step"]) for col in m.values())
    for step in run.steps:
        snap = run.snapshot(step)
        _ = snap.fake, [snap[k] for k in snap.arrays]
    if run.steps:
        run.snapshot("end")
        run.snapshot("start")
    _ = run.fixed, run.real
    Run.latest(path.parent)


@pytest.fixture(scope="module")
def work(toy1d_run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A copy of a real run to damage, and the pristine bytes of the files the reader opens."""
    path = Path(shutil.copytree(toy1d_run, tmp_path_factory.mktemp("fuzz") / "run"))
    names = ["run.json", "metrics.jsonl", "fixed.npz"] + [f"snapshots/{p.name}" for p in (path / "snapshots").iterdir()]
    return path, {n: (path / n).read_bytes() for n in sorted(names)}


damage = st.tuples(
    st.sampled_from(["truncate", "flip", "both"]),
    st.floats(0, 1, exclude_max=True),  # where to cut, as a fraction of the length
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=6),
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(name_index=st.integers(0, 10_000), how=damage)
def test_damaged_run_raises_only_run_error(work, name_index, how):
    path, originals = work
    names = sorted(originals)
    name = names[name_index % len(names)]
    kind, cut, flips = how
    data = bytearray(originals[name])
    if kind in ("flip", "both"):
        for where, xor in flips:
            data[int(where * len(data))] ^= xor
    if kind in ("truncate", "both"):
        data = data[: int(cut * len(data))]
    (path / name).write_bytes(bytes(data))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read_everything(path)
    except RunError as e:
        assert "\n" not in str(e)  # the CLI prints it as one line
    finally:
        (path / name).write_bytes(originals[name])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=4,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(in_metrics=st.booleans(), pick=st.integers(0, 10_000), value=json_values)
def test_wrong_json_values_raise_only_run_error(work, in_metrics, pick, value):
    """Valid JSON with a wrong value somewhere: what byte flips rarely produce, and readers trip over."""
    path, originals = work
    name = "metrics.jsonl" if in_metrics else "run.json"
    if in_metrics:
        lines = originals[name].splitlines()
        row = json.loads(lines[pick % len(lines)])
        row[sorted(row)[pick % len(row)]] = value
        lines[pick % len(lines)] = json.dumps(row).encode()
        data = b"\n".join(lines) + b"\n"
    else:
        info = json.loads(originals[name])
        info[sorted(info)[pick % len(info)]] = value
        data = json.dumps(info).encode()
    (path / name).write_bytes(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read_everything(path)
    except RunError as e:
        assert "\n" not in str(e)
    finally:
        (path / name).write_bytes(originals[name])


def test_pristine_copy_reads(work):
    read_everything(work[0])


def test_cut_last_metrics_line_is_dropped_with_a_warning(work, tmp_path):
    data = work[1]["metrics.jsonl"]
    lines = data.splitlines(keepends=True)
    f = tmp_path / "metrics.jsonl"
    for cut in (1, 10, len(lines[-1]) // 2, len(lines[-1]) - 2):
        f.write_bytes(b"".join(lines[:-1]) + lines[-1][:cut])
        with pytest.warns(UserWarning, match="ignoring truncated last line"):
            rows = read_metrics_rows(f)
        assert [r["step"] for r in rows] == list(range(1, len(lines)))
    f.write_bytes(data[:-1])  # a complete last row that lost only its newline is kept
    assert len(read_metrics_rows(f)) == len(lines)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b'{"step": 3, "loss_d"', "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"step": "3", "epoch": 0}', "'step' is not a step number"),
        (b'{"step": 1, "epoch": 0}', "step 1 does not follow step 2"),
        (b'{"step": 30, "epoch": 0, "loss_d": "high"}', "'loss_d' is not a number"),
        (b'{"step": 30, "epoch": 0, "loss_g": [1]}', "'loss_g' is not a number"),
    ],
)
def test_damaged_middle_metrics_line_names_the_line(work, tmp_path, line, problem):
    lines = work[1]["metrics.jsonl"].splitlines(keepends=True)
    f = tmp_path / "metrics.jsonl"
    f.write_bytes(b"".join(lines[:2]) + line + b"\n" + b"".join(lines[3:]))
    with pytest.raises(RunError, match=rf"line 3 is damaged \({problem}"):
        read_metrics_rows(f)


def test_run_json_with_wrong_types(work, tmp_path):
    path = Path(shutil.copytree(work[0], tmp_path / "run"))
    info = json.loads(work[1]["run.json"])
    for key, bad in (("config", [1]), ("kind", 3), ("format_version", 0), ("started", None)):
        (path / "run.json").write_text(json.dumps({**info, key: bad}))
        with pytest.raises(RunError, match="run.json"):
            read_everything(path)
