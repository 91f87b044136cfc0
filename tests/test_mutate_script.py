"""scripts/mutate.py (`make mutate`, docs/mutation.md) reads mutmut's verdicts and the equivalent lists as documented:
scores over the mutants that can be killed, and a stop on a stale list or a configuration that does not agree."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("mutate_script", ROOT / "scripts" / "mutate.py")
mutate = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = mutate  # its dataclasses look their module up
spec.loader.exec_module(mutate)

M = "gan_train.measures.x_kid__mutmut_"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout with mutmut's verdicts for gan_train/measures.py: 1 and 3 killed, 2 and 4 survived, 5 no tests,
    6 a timeout (mutmut's exit codes)."""
    monkeypatch.setattr(mutate, "ROOT", tmp_path)
    monkeypatch.setattr(mutate, "MUTANTS", tmp_path / "mutants")
    monkeypatch.setattr(mutate, "EQUIVALENT", tmp_path / "mutation" / "equivalent")
    meta = tmp_path / "mutants" / "gan_train" / "measures.py.meta"
    meta.parent.mkdir(parents=True)
    codes = {f"{M}1": 1, f"{M}2": 0, f"{M}3": 3, f"{M}4": 0, f"{M}5": 33, f"{M}6": 36}
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    (tmp_path / "mutation" / "equivalent").mkdir(parents=True)
    return tmp_path


def equivalents(tree: Path, text: str) -> None:
    (tree / "mutation" / "equivalent" / "gan_train.measures.txt").write_text(text)


def test_score_counts_kills_and_timeouts_over_the_mutants_that_can_be_killed(tree: Path) -> None:
    equivalents(tree, f"# a comment\n\n{M}4  # the same value either way\n")
    row = mutate.read_row("gan_train/measures.py")
    assert row.equivalent == {f"{M}4": "the same value either way"}
    assert (row.count("killed"), row.count("survived"), row.count("no tests"), row.count("timeout")) == (2, 1, 1, 1)
    assert row.score == pytest.approx(3 / 5) and row.survivors == [f"{M}2", f"{M}5"]
    line = mutate.table([row]).splitlines()[2]
    assert line == "| gan_train/measures.py | 6 | 2 | 1 | 1 | 1 | 1 | 0 | 60.0 % |"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"{M}9  # gone\n", f"stale, no such mutant: {M}9"),
        (f"{M}3  # killed now\n", f"stale, the tests kill these listed 'equivalent' mutants: {M}3"),
        (f"{M}2\n", "write '<mutant name>  # why it is equivalent'"),
    ],
)
def test_a_stale_or_malformed_list_stops_the_run(tree: Path, text: str, words: str) -> None:
    equivalents(tree, text)
    with pytest.raises(mutate.MutateError, match=rf"^mutation/equivalent/gan_train\.measures\.txt.*{words}"):
        mutate.read_row("gan_train/measures.py")


def test_the_configuration_must_agree(tmp_path: Path) -> None:
    modules, tests = mutate.load_config()  # the repository's own
    assert set(tests) <= set(modules) and "gan_train/measures.py" in tests
    assert mutate.chosen(modules, "gan_train.measures, scenes/readouts.py") == [
        "gan_train/measures.py",
        "scenes/readouts.py",
    ]
    with pytest.raises(mutate.MutateError, match="^MODULES: .*nowhere.py"):
        mutate.chosen(modules, "nowhere.py")
    bad = tmp_path / "pyproject.toml"
    bad.write_text(
        '[tool.mutmut]\nonly_mutate = ["a.py"]\npytest_add_cli_args_test_selection = ["tests/x.py"]\n'
        '[tool.ganviz.mutate.tests]\n"a.py" = ["tests/y.py"]\n'
    )
    with pytest.raises(mutate.MutateError, match=r"must be the union .* differs by \['tests/x.py', 'tests/y.py'\]"):
        mutate.load_config(bad)


def test_a_scope_scores_only_the_functions_it_names(tree: Path) -> None:
    """[tool.ganviz.mutate.scope]: the mutants outside the listed functions are neither run nor counted."""
    meta = tree / "mutants" / "gan_train" / "measures.py.meta"
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    codes |= {"gan_train.measures.x_kid_floor__mutmut_1": 0, "gan_train.measures.x_other__mutmut_1": None}
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    row = mutate.read_row("gan_train/measures.py", ["gan_train.measures.x_kid__mutmut_*"])
    assert sorted(row.verdicts) == [f"{M}{i}" for i in range(1, 7)]
    assert mutate.read_row("gan_train/measures.py").count("survived") == 3  # without a scope: all of it


def test_a_scope_must_name_mutants_of_its_module(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ganviz.mutate.scope]\n"gan_train/recorder.py" = ["gan_train.measures.x_kid__mutmut_*"]\n'
    )
    with pytest.raises(mutate.MutateError, match=r"scope\] gan_train/recorder.py: .* name no mutant of it"):
        mutate.load_scope(tmp_path / "pyproject.toml")
