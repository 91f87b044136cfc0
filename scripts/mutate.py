"""Mutation testing of the modules that compute the numbers users read: `make mutate` (docs/mutation.md).

For each module of pyproject's ``[tool.mutmut] only_mutate`` (or of ``MODULES``, paths or dotted names, comma or
space separated), mutmut 3 runs in a fresh process on that module alone with the tests
``[tool.ganviz.mutate.tests]`` lists for it (so a module's run never pays for another module's tests). Then this
script reads the verdicts from mutants/, takes out the mutants listed as equivalent in
``mutation/equivalent/<dotted.module>.txt`` and prints a markdown table per module. It exits 1 when a module's score,
killed / (mutants - equivalent), is under 97 %, or when an equivalent list is stale: a listed mutant that no longer
exists or that the tests now kill (mutant names are numbered within their function, so an edit can renumber them).

Where only part of a module computes what users read, ``[tool.ganviz.mutate.scope]`` lists the functions in scope
as mutant-name globs: only those mutants are run and scored (e.g. the Recorder's value paths, not its file handling).

Environment: ``MODULES`` (a subset); ``MUTANTS`` (mutant names or globs of one module to run again, e.g. its
survivors after adding a test: reuses the mutants/ that module's last run left and reruns only those);
``MUTATE_CHILDREN`` (mutmut's parallel workers, default 1: the machine is shared); ``OMP_NUM_THREADS`` (default 1).
The last module's mutants stay in mutants/ for ``mutmut show NAME`` and ``mutmut browse``; every survivor's diff is
written to mutants/report.md.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "mutation" / "equivalent"
MUTANTS = ROOT / "mutants"
GOAL = 0.97
# mutmut's exit codes per verdict (mutmut.stats.status_by_exit_code, 3.8): 1 and 3 a failing test, 37 the type check
KILLED, SURVIVED, NO_TESTS, TIMEOUT = {1, 3, 37}, {0}, {5, 33}, {36, 24, -24, 152, 255}


class MutateError(Exception):
    """A configuration or an equivalent list that does not fit the code: one line, what to fix."""


@dataclass
class Row:
    module: str
    verdicts: dict[str, str]  # mutant name -> killed / survived / no tests / timeout / other
    equivalent: dict[str, str] = field(default_factory=dict)  # mutant name -> why

    def count(self, verdict: str) -> int:
        return sum(1 for name, v in self.verdicts.items() if v == verdict and name not in self.equivalent)

    @property
    def score(self) -> float:
        """Killed (a timeout counts: the mutant did not pass) over the mutants that can be killed."""
        live = len(self.verdicts) - len(self.equivalent)
        return 1.0 if live == 0 else (self.count("killed") + self.count("timeout")) / live

    @property
    def survivors(self) -> list[str]:
        return [n for n, v in self.verdicts.items() if v in ("survived", "no tests") and n not in self.equivalent]


def dotted(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def load_scope(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, list[str]]:
    """Per module, the mutant-name globs in scope (``[tool.ganviz.mutate.scope]``); a module not named: all of it."""
    tool = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]
    scope = {k: list(v) for k, v in tool["ganviz"]["mutate"].get("scope", {}).items()}
    for module, globs in scope.items():
        wrong = [g for g in globs if not g.startswith(dotted(module) + ".")]
        if wrong:
            raise MutateError(f"pyproject.toml: [tool.ganviz.mutate.scope] {module}: {wrong} name no mutant of it")
    return scope


def load_config(pyproject: Path = ROOT / "pyproject.toml") -> tuple[list[str], dict[str, list[str]]]:
    """(the modules mutmut mutates, the tests of each); the union of the tests must be mutmut's own selection."""
    tool = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]
    modules = list(tool["mutmut"]["only_mutate"])
    tests = {k: list(v) for k, v in tool["ganviz"]["mutate"]["tests"].items()}
    extra = sorted(set(tests) - set(modules))
    if extra:
        raise MutateError(f"pyproject.toml: [tool.ganviz.mutate.tests] names {extra}, not in [tool.mutmut] only_mutate")
    union = {t for files in tests.values() for t in files}
    selection = set(tool["mutmut"].get("pytest_add_cli_args_test_selection", []))
    if union != selection:
        raise MutateError(
            "pyproject.toml: [tool.mutmut] pytest_add_cli_args_test_selection must be the union of "
            f"[tool.ganviz.mutate.tests]; differs by {sorted(union ^ selection)}"
        )
    return modules, tests


def chosen(modules: list[str], wanted: str) -> list[str]:
    """The modules ``MODULES`` names (paths or dotted names), in the configuration's order; all when empty."""
    names = [w for w in wanted.replace(",", " ").split() if w]
    unknown = [w for w in names if w not in modules and w not in map(dotted, modules)]
    if unknown:
        raise MutateError(f"MODULES: {unknown} not in [tool.mutmut] only_mutate ({', '.join(modules)})")
    return [m for m in modules if not names or m in names or dotted(m) in names]


def read_equivalents(module: str) -> dict[str, str]:
    """``<mutant name>  # why`` per line of mutation/equivalent/<dotted.module>.txt; blank and # lines skipped."""
    path = EQUIVALENT / f"{dotted(module)}.txt"
    if not path.exists():
        return {}
    out = {}
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, _, why = text.partition("#")
        if not why.strip() or len(name.split()) != 1:
            raise MutateError(f"{path.relative_to(ROOT)}:{no}: write '<mutant name>  # why it is equivalent'")
        out[name.strip()] = why.strip()
    return out


def verdict(exit_code: int | None) -> str:
    if exit_code in KILLED:
        return "killed"
    if exit_code in SURVIVED:
        return "survived"
    if exit_code in NO_TESTS:
        return "no tests"
    if exit_code in TIMEOUT:
        return "timeout"
    return "no tests" if exit_code is None else "suspicious"  # None: mutmut stopped before running it


def read_row(module: str, scope: list[str] | None = None) -> Row:
    """The verdicts mutmut left in mutants/<module>.meta (those ``scope``'s globs match, when given), with the
    module's equivalents checked against them."""
    meta = MUTANTS / f"{module}.meta"
    if not meta.exists():
        raise MutateError(f"{meta.relative_to(ROOT)}: mutmut left no results for {module} (see its output above)")
    codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    if scope:
        codes = {n: c for n, c in codes.items() if any(fnmatch.fnmatchcase(n, g) for g in scope)}
    row = Row(module, {name: verdict(code) for name, code in codes.items()}, read_equivalents(module))
    where = f"mutation/equivalent/{dotted(module)}.txt"
    gone = [n for n in row.equivalent if n not in row.verdicts]
    if gone:
        raise MutateError(f"{where}: stale, no such mutant: {', '.join(gone)} (renumbered? see `mutmut show`)")
    killed = [n for n in row.equivalent if row.verdicts[n] in ("killed", "timeout")]
    if killed:
        raise MutateError(f"{where}: stale, the tests kill these listed 'equivalent' mutants: {', '.join(killed)}")
    return row


def run_module(module: str, tests: list[str], children: int, again: list[str], scope: list[str]) -> None:
    """mutmut on one module in a process of its own (mutmut keeps its state in module globals): from scratch (the
    mutants ``scope`` matches, or all), or only the mutants ``again`` names, on the mutants/ a previous run left."""
    if not again:
        shutil.rmtree(MUTANTS, ignore_errors=True)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    cmd = [sys.executable, __file__, "--one", module, str(children), ",".join(again or scope), *tests]
    subprocess.run(cmd, cwd=ROOT, env=env, check=False)


def one(module: str, children: int, again: str, tests: list[str]) -> None:
    """Inside the child: mutmut's own `run`, with its configuration narrowed to this module and its tests."""
    from mutmut.__main__ import _run
    from mutmut.configuration import config

    cfg = config()
    cfg.only_mutate = [module]
    cfg.pytest_add_cli_args_test_selection = tests
    _run([n for n in again.split(",") if n], children)


def survivor_diffs(row: Row) -> list[str]:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    os.chdir(ROOT)
    return [f"### {n}\n\n```diff\n{get_diff_for_mutant(n, path=row.module)}\n```\n" for n in row.survivors]


def table(rows: list[Row]) -> str:
    head = "| module | mutants | killed | survived | no tests / not run | equivalent | timeout | suspicious | score |"
    lines = [head, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        other = r.count("suspicious")
        cells = [len(r.verdicts), r.count("killed"), r.count("survived"), r.count("no tests"), len(r.equivalent)]
        cells += [r.count("timeout"), other]
        lines.append(f"| {r.module} | " + " | ".join(map(str, cells)) + f" | {100 * r.score:.1f} % |")
    return "\n".join(lines)


def main() -> int:
    if sys.argv[1:2] == ["--one"]:
        one(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:])
        return 0
    try:
        modules, tests = load_config()
        scope = load_scope()
        todo = chosen(modules, os.environ.get("MODULES", ""))
        missing = [m for m in todo if not tests.get(m)]
        if missing:
            raise MutateError(f"pyproject.toml: no tests listed in [tool.ganviz.mutate.tests] for {missing}")
        children = int(os.environ.get("MUTATE_CHILDREN", "1"))
        again = os.environ.get("MUTANTS", "").replace(",", " ").split()
        if again and (len(todo) != 1 or not (MUTANTS / f"{todo[0]}.meta").exists()):
            raise MutateError("MUTANTS reruns mutants of the module run last: name it in MODULES (run it first)")
        rows, diffs = [], []
        for module in todo:
            print(f"== mutmut: {module} with {' '.join(tests[module])}", flush=True)
            run_module(module, tests[module], children, again, scope.get(module, []))
            rows.append(read_row(module, scope.get(module)))
            diffs += survivor_diffs(rows[-1])
    except MutateError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    report = table(rows)
    (MUTANTS / "report.md").write_text(report + "\n\n## Survivors\n\n" + "\n".join(diffs), encoding="utf-8")
    print("\n" + report + "\n")
    for r in rows:
        for n in r.survivors:
            print(f"survived: {n}  (mutmut show {n}; diffs in mutants/report.md)")
    low = [r.module for r in rows if r.score < GOAL]
    if low:
        print(f"error: under {100 * GOAL:.0f} % of non-equivalent mutants killed: {', '.join(low)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
