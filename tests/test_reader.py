"""The reader (ganviz/reader.py) on a run folder written here by hand in the documented format: which snapshot a
step the user names resolves to, the steps picked for them, the run's description with its defaults, the layers and
their gradient norms, and a damaged snapshot named with the readable steps around it."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ganviz.errors import RunError, RunWarning
from ganviz.format import METRIC_COLUMNS
from ganviz.reader import Run

STEPS = (0, 5, 10, 15, 20)


def make_run(path: Path, steps: tuple[int, ...] = STEPS, rows: int = 20, **info: object) -> Path:
    """A 1-D toy run: run.json, ``rows`` metrics rows, a snapshot at each of ``steps`` whose gradient norms are
    (step, 10 * step) for G's two layers and (-step,) for D's one."""
    (path / "snapshots").mkdir(parents=True)
    base = {"format_version": 3, "kind": "toy1d", "variant": "hand", "layers_g": ["g.0", "g.1"], "layers_d": ["d.0"]}
    (path / "run.json").write_text(json.dumps({**base, **info}))
    lines = [{**dict.fromkeys(METRIC_COLUMNS), "step": s, "epoch": 0, "loss_d": s / 2} for s in range(1, rows + 1)]
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    for s in steps:
        np.savez(
            path / "snapshots" / f"step_{s:08d}.npz",
            step=np.int64(s),
            epoch=np.int64(0),
            fake=np.full((4, 1), s, np.float32),
            grad_norm_g=np.array([s, 10 * s], np.float32),
            grad_norm_d=np.array([-s], np.float32),
        )
    (path / "snapshots" / "notes.txt").write_text("not a snapshot")
    return path


def test_a_named_step_resolves_to_the_snapshot_at_or_before_it(tmp_path: Path) -> None:
    run = Run.load(make_run(tmp_path / "r"))
    for name in ("end", "last", "final", " END ", "Last", "FINAL"):
        assert run.resolve_step(name) == 20, name
    for name in ("start", "first", "begin", "Start", " BEGIN"):
        assert run.resolve_step(name) == 0, name
    assert [run.resolve_step(s) for s in (0, 4, 5, 14, "14", " 19 ", 20)] == [0, 0, 5, 10, 10, 15, 20]
    assert run.snapshot("7").step == 5 and run.snapshot(7).fake.tolist() == [[5.0]] * 4


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("middle", "step 'middle': expected a number, 'start' or 'end'"),
        ("2.5", "step '2.5': expected a number, 'start' or 'end'"),
        (-1, "step -1: steps start at 0"),
        ("-3", "step -3: steps start at 0"),
        (21, "step 21 is beyond this run's last snapshot (step 20)"),
        ("100", "step 100 is beyond this run's last snapshot (step 20)"),
    ],
)
def test_a_step_that_names_no_snapshot_is_refused(tmp_path: Path, step: object, message: str) -> None:
    run = Run.load(make_run(tmp_path / "r"))
    with pytest.raises(RunError) as e:
        run.resolve_step(step)
    assert str(e.value) == message


def test_a_damaged_step_asked_for_is_named_with_the_readable_ones_around_it(tmp_path: Path) -> None:
    path = make_run(tmp_path / "r")
    (path / "snapshots" / "step_00000010.npz").write_bytes(b"PK\x03\x04 cut")
    (path / "snapshots" / "step_00000015.npz").write_bytes(b"\x93NUMPY")
    run = Run.load(path)
    with pytest.raises(RunError) as e:
        run.resolve_step(12)
    assert str(e.value) == (
        f"{path / 'snapshots' / 'step_00000010.npz'}: unreadable or damaged .npz (BadZipFile: File is not a zip file); "
        "pick another step, e.g. 5 or 20"
    )
    with pytest.raises(RunError, match=r"step_00000015.npz: .*\(not an .npz archive \(a lone .npy array\)\); pick "
                       r"another step, e.g. 5 or 20$"):  # fmt: skip
        run.resolve_step(15)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert run.steps == [0, 5, 20]
    assert len(w) == 2 and all(x.category is RunWarning and str(x.message).endswith("; skipped") for x in w)
    assert run.damaged == {10: "BadZipFile: File is not a zip file", 15: "not an .npz archive (a lone .npy array)"}


def test_the_ends_damaged_leave_only_one_neighbour(tmp_path: Path) -> None:
    path = make_run(tmp_path / "r", steps=(0, 5, 10))
    (path / "snapshots" / "step_00000000.npz").write_bytes(b"junk")
    (path / "snapshots" / "step_00000010.npz").write_bytes(b"junk")
    run = Run.load(path)
    for step in ("start", "end"):
        with pytest.raises(RunError, match=r"not an .npz archive\); pick another step, e.g. 5$"):
            run.resolve_step(step)


def test_steps_picked_spread_evenly_with_the_first_and_the_last(tmp_path: Path) -> None:
    run = Run.load(make_run(tmp_path / "r", steps=tuple(range(0, 101, 10))))
    assert run.spread_steps(3) == [0, 50, 100]
    assert run.spread_steps(2) == [0, 100]
    assert run.spread_steps(5) == [0, 20, 50, 80, 100]  # positions 0, 2.5, 5, 7.5, 10 rounded half to even
    assert run.spread_steps(50) == list(range(0, 101, 10))
    assert run.snapshot_steps() == list(range(0, 101, 10))


def test_a_pick_that_cannot_be_read_moves_to_a_readable_one(tmp_path: Path) -> None:
    path = make_run(tmp_path / "r", steps=(0, 5, 10, 15, 20))
    flip_inside(big_snapshot(path, 20))  # found only when decompressed
    run = Run.load(path)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert run.spread_steps(3) == [0, 10, 15]
    assert len(w) == 1 and "step_00000020.npz" in str(w[0].message)
    assert 20 in run.damaged and run.steps == [0, 5, 10, 15]


def test_no_readable_snapshot_is_one_error(tmp_path: Path) -> None:
    path = make_run(tmp_path / "r", steps=(0, 5))
    for s in (0, 5):
        (path / "snapshots" / f"step_{s:08d}.npz").write_bytes(b"junk")
    run = Run.load(path)
    with pytest.raises(RunError) as e:
        run.spread_steps(3)
    assert str(e.value) == (
        f"{path}: every snapshot is damaged (2 files; step_00000000.npz: not an .npz archive); restore them or "
        "train the run again"
    )
    empty = Run.load(make_run(tmp_path / "e", steps=()))
    with pytest.raises(RunError, match=r"run has no snapshots yet; train longer or lower --snapshot-every$"):
        empty.resolve_step("end")


def test_the_run_describes_itself_with_its_defaults(tmp_path: Path) -> None:
    run = Run.load(make_run(tmp_path / "r", d_scores="critic", status="finished", total_steps=300, config={"a": 1}))
    assert (run.name, run.variant, run.kind, run.status, run.critic, run.total_steps) == (
        "r", "hand", "toy1d", "finished", True, 300
    )  # fmt: skip
    run.config["a"] = 2
    assert run.config == {"a": 1}  # a copy
    assert repr(run) == f"Run({str(tmp_path / 'r')!r}, variant='hand', kind='toy1d')"
    bare = Run(tmp_path / "r", {"format_version": 3})
    assert (bare.variant, bare.kind, bare.status, bare.critic, bare.config) == ("", "image", "unknown", False, {})
    assert not Run(tmp_path / "r", {"d_scores": "probability"}).critic


def test_total_steps_of_a_loop_that_did_not_say(tmp_path: Path) -> None:
    assert Run.load(make_run(tmp_path / "a", rows=23)).total_steps == 23  # metrics beyond the last snapshot
    assert Run.load(make_run(tmp_path / "b", rows=12)).total_steps == 20  # a snapshot beyond the last row
    assert Run.load(make_run(tmp_path / "c", rows=0, total_steps=0)).total_steps == 20


def test_the_loops_own_columns_are_listed_once_in_order(tmp_path: Path) -> None:
    run = Run(tmp_path, {"extra_metrics": ["gp", 3, "loss_d", "w", "gp", None]})
    assert run.extra_metrics == ("gp", "w")
    assert Run(tmp_path, {"extra_metrics": None}).extra_metrics == () and Run(tmp_path, {}).extra_metrics == ()


def test_layers_with_their_types_and_shapes_where_they_fit(tmp_path: Path) -> None:
    info = {"layers_g": ["a", "b"], "layer_types_g": ["Linear", "ReLU"], "layer_shapes_g": [[4], [2, 3]]}
    run = Run(tmp_path, info)
    assert [(x.name, x.type, x.shape) for x in run.layers("g")] == [("a", "Linear", (4,)), ("b", "ReLU", (2, 3))]
    assert run.layers("d") == []
    for types in (["Linear"], ["Linear", 3], "Linear"):
        assert [x.type for x in Run(tmp_path, {**info, "layer_types_g": types}).layers("g")] == [None, None]
    for shapes in ([[4]], [[4], [0, 3]], [[4], [True, 3]], [[4], [2.0]], [[4], 7], "x"):
        assert [x.shape for x in Run(tmp_path, {**info, "layer_shapes_g": shapes}).layers("g")] == [None, None]
    assert [x.name for x in Run(tmp_path, {"layers_d": "d0", "layer_types_d": []}).layers("d")] == []
    assert Run(tmp_path, {"layers_d": [1]}).layers("d")[0].name == "1"


def test_gradient_norms_per_layer_over_the_snapshots(tmp_path: Path) -> None:
    run = Run.load(make_run(tmp_path / "r"))
    norms = run.layer_grad_norms()
    steps, names, mat = norms["g"]
    assert steps.tolist() == list(STEPS) and names == ["g.0", "g.1"] and mat.dtype == np.float64
    assert mat.tolist() == [list(map(float, STEPS)), [10.0 * s for s in STEPS]]
    steps, names, mat = norms["d"]
    assert names == ["d.0"] and mat.tolist() == [[-float(s) for s in STEPS]]
    odd = Run.load(make_run(tmp_path / "o", layers_g=["only one"]))
    assert odd.layer_grad_norms()["g"][1] == ["layer 0", "layer 1"]  # names that do not fit are replaced
    none = Run.load(make_run(tmp_path / "n", steps=()))
    steps, names, mat = none.layer_grad_norms()["g"]
    assert steps.tolist() == [] and names == ["g.0", "g.1"] and mat.shape == (2, 0)


def test_a_run_has_data_from_its_first_valid_row_and_one_readable_snapshot(tmp_path: Path) -> None:
    assert Run.load(make_run(tmp_path / "r")).has_data()
    assert not Run.load(make_run(tmp_path / "n", steps=())).has_data()
    assert not Run.load(make_run(tmp_path / "e", rows=0)).has_data()
    bad = make_run(tmp_path / "b")
    (bad / "metrics.jsonl").write_text('{"step": 0, "epoch": 0}\n')
    assert not Run.load(bad).has_data()
    damaged = make_run(tmp_path / "d", steps=(0,))
    (damaged / "snapshots" / "step_00000000.npz").write_bytes(b"junk")
    assert not Run.load(damaged).has_data()


def test_a_folder_that_is_no_run_is_named(tmp_path: Path) -> None:
    with pytest.raises(RunError) as e:
        Run.load(tmp_path / "nope")
    assert (
        str(e.value)
        == f"{tmp_path / 'nope'}: not a run folder (no such directory); pass a folder made by 'ganviz train'"
    )
    with pytest.raises(RunError, match=r"no runs found; train one first with 'ganviz train VARIANT'$"):
        Run.latest(tmp_path)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "run.json").write_text("{}")
    with pytest.raises(RunError, match=r"no readable runs found; train one with 'ganviz train VARIANT'$"):
        Run.latest(tmp_path)
    make_run(tmp_path / "old", started="2026-01-01T00:00:00", status="finished")
    make_run(tmp_path / "new", steps=(), started="2026-02-01T00:00:00", status="running")
    assert Run.latest(tmp_path).name == "old"  # the newest has no snapshot yet
    (tmp_path / "old" / "metrics.jsonl").unlink()
    with pytest.raises(RunError) as e:
        Run.latest(tmp_path)
    assert str(e.value) == (
        f"{tmp_path}: no run has data yet (a metrics row and a snapshot); the latest, new, is 'running': wait until "
        "it has written some, or name a run"
    )


def test_checking_a_step_that_is_no_snapshot_names_the_missing_file(tmp_path: Path) -> None:
    run = Run.load(make_run(tmp_path / "r"))
    run.check_snapshot(5)  # readable: nothing said
    with pytest.raises(RunError) as e:
        run.check_snapshot(7)
    assert str(e.value) == f"{tmp_path / 'r' / 'snapshots' / 'step_00000007.npz'}: file not found"


def test_a_snapshot_loads_only_the_arrays_asked_for(tmp_path: Path) -> None:
    run = Run.load(make_run(tmp_path / "r"))
    assert sorted(run.snapshot("end", keys=["fake", "grad_norm_d"]).arrays) == ["fake", "grad_norm_d"]
    assert sorted(run.snapshot("end").arrays) == ["epoch", "fake", "grad_norm_d", "grad_norm_g", "step"]


def test_has_data_reads_one_line_of_at_most_1_mib_and_checks_the_newest_snapshot_first(tmp_path: Path) -> None:
    path = make_run(tmp_path / "r")
    (path / "snapshots" / "step_00000000.npz").write_bytes(b"junk")
    run = Run.load(path)
    assert run.has_data() and run.damaged == {}  # step 20 passed first: the older files were not opened
    first = {"step": 1, "epoch": 0}
    (path / "metrics.jsonl").write_bytes(b'{"step": 1,\r "epoch": 0}\n')  # JSON whitespace, read as bytes
    assert Run.load(path).has_data()
    (path / "metrics.jsonl").write_text(json.dumps({**first, "note": "x" * (3 << 19)}) + "\n")  # 1.5 MiB
    assert not Run.load(path).has_data()
    (path / "metrics.jsonl").write_text(json.dumps({**first, "note": "x" * (1 << 19)}) + "\n")  # 0.5 MiB
    assert Run.load(path).has_data()


def test_latest_orders_runs_by_start_time_those_without_one_last(tmp_path: Path) -> None:
    make_run(tmp_path / "b-undated")
    make_run(tmp_path / "a-dated", started="2026-03-01T10:00:00+00:00")
    assert Run.latest(tmp_path).name == "a-dated"
    make_run(tmp_path / "c-later", started="2026-03-02T10:00:00+00:00")
    assert Run.latest(tmp_path).name == "c-later"


def flip_inside(f: Path, member: str = "fake.npy") -> None:
    """A flipped byte inside one array's compressed bytes of an .npz: its directory stays intact."""
    with zipfile.ZipFile(f) as z:
        at = z.getinfo(member).header_offset + 30 + len(member) + 200
    data = bytearray(f.read_bytes())
    data[at] ^= 0xFF
    f.write_bytes(bytes(data))


def big_snapshot(path: Path, step: int) -> Path:
    f = path / "snapshots" / f"step_{step:08d}.npz"
    norms = {"grad_norm_g": np.array([step, 10 * step], np.float32), "grad_norm_d": np.array([-step], np.float32)}
    np.savez_compressed(f, step=np.int64(step), epoch=np.int64(0), fake=np.arange(4000.0), **norms)
    return f


def test_iterating_skips_what_cannot_be_read_and_loads_only_the_keys(tmp_path: Path) -> None:
    path = make_run(tmp_path / "r")
    np.savez(path / "snapshots" / "step_00000005.npz", step=np.int64(5), grad_norm_g=np.ones(2), grad_norm_d=np.ones(1))
    flip_inside(big_snapshot(path, 10))
    run = Run.load(path)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert run.steps == [0, 10, 15, 20]  # listing finds 5 lacks 'fake'
        got = [(s.step, sorted(s.arrays)) for s in run.iter_snapshots(steps=[0, 5, 10, 15], keys=["fake"])]
    assert got == [(0, ["fake"]), (15, ["fake"])]  # 5 known damaged, 10 fails to decompress
    assert sorted(run.damaged) == [5, 10] and len(w) == 2
    assert [s.step for s in run.iter_snapshots(steps=[20])] == [20]  # the steps given, not every step


def test_iterating_over_nothing_readable_is_one_error_naming_the_first_file(tmp_path: Path) -> None:
    path = make_run(tmp_path / "r")
    flip_inside(big_snapshot(path, 0))
    flip_inside(big_snapshot(path, 5))
    run = Run.load(path)
    with pytest.raises(RunError) as e:
        list(run.iter_snapshots(steps=[0, 5]))
    why = run.damaged[0]
    assert str(e.value) == (
        f"{path}: none of the 2 snapshots could be read (step_00000000.npz: {why}); restore them or train the run again"
    )
    with pytest.raises(RunError) as e:
        list(Run.load(path).iter_snapshots(steps=[7]))
    missing = path / "snapshots" / "step_00000007.npz"
    assert str(e.value) == (
        f"{path}: none of the 1 snapshots could be read (step_00000007.npz: {missing}: file not found); restore them "
        "or train the run again"
    )


def test_gradient_norms_read_only_the_norm_arrays(tmp_path: Path) -> None:
    """A snapshot whose samples are damaged still gives its gradient norms; a run.json without layer names gets
    numbered ones."""
    path = make_run(tmp_path / "r")
    flip_inside(big_snapshot(path, 10))
    steps, names, mat = Run.load(path).layer_grad_norms()["g"]
    assert steps.tolist() == list(STEPS) and mat[:, 2].tolist() == [10.0, 100.0]
    info = json.loads((path / "run.json").read_text())
    del info["layers_g"]
    (path / "run.json").write_text(json.dumps(info))
    assert Run.load(path).layer_grad_norms()["g"][1] == ["layer 0", "layer 1"]


def test_each_pick_is_decompressed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ganviz.reader

    reads = []
    real = ganviz.reader.read_npz_arrays
    monkeypatch.setattr(ganviz.reader, "read_npz_arrays", lambda p, k: reads.append(p.name) or real(p, k))
    run = Run.load(make_run(tmp_path / "r"))
    assert run.spread_steps(3) == [0, 10, 20] and len(reads) == 3
    assert run.spread_steps(3) == [0, 10, 20] and len(reads) == 3  # verified once per file


def test_iterating_over_files_known_damaged_is_one_error(tmp_path: Path) -> None:
    path = make_run(tmp_path / "r")
    for s in (0, 5):
        (path / "snapshots" / f"step_{s:08d}.npz").write_bytes(b"junk")
    run = Run.load(path)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert run.steps == [10, 15, 20]  # listing found both
    with pytest.raises(RunError) as e:
        list(run.iter_snapshots(steps=[0, 5]))
    assert str(e.value) == (
        f"{path}: none of the 2 snapshots could be read (step_00000000.npz: not an .npz archive); restore them or "
        "train the run again"
    )


def test_each_damaged_file_is_warned_about_once_and_only_while_another_reads(tmp_path: Path) -> None:
    path = make_run(tmp_path / "r", steps=(0, 5))
    (path / "snapshots" / "step_00000000.npz").write_bytes(b"junk")
    run = Run.load(path)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert run.steps == [5] and run.steps == [5]
    assert [str(x.message) for x in w] == [
        f"{path / 'snapshots' / 'step_00000000.npz'}: unreadable or damaged .npz (not an .npz archive); skipped"
    ]
    (path / "snapshots" / "step_00000005.npz").write_bytes(b"junk")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert Run.load(path).steps == []  # nothing readable: no warnings, the error that follows says it
    assert w == []


def test_reading_a_damaged_snapshot_marks_it_damaged(tmp_path: Path) -> None:
    path = make_run(tmp_path / "r")
    flip_inside(big_snapshot(path, 10))
    run = Run.load(path)  # nothing listed yet
    with pytest.raises(RunError) as e:
        run.read_snapshot(10)
    assert str(e.value) == f"{path / 'snapshots' / 'step_00000010.npz'}: unreadable or damaged .npz ({run.damaged[10]})"
    assert list(run.damaged) == [10]
    with pytest.warns(RunWarning, match=r"step_00000010.npz: unreadable or damaged .npz"):
        assert run.steps == [0, 5, 15, 20]
