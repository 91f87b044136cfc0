"""The layers of docs/architecture.md hold: every module's imports (those inside functions too) are checked against
the doc's table, the run format imports nothing but numpy and the standard library, and a run reads in a process
where torch cannot be imported. A planted wrong-way import is caught."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ganviz", "gan_train", "pipeline", "scenes")
TORCH = ("torch", "torchvision")
# the run format's third-party imports: numpy, nothing else (the standard library is always allowed)
FORMAT_THIRD_PARTY = ("numpy",)


@dataclass(frozen=True)
class Layer:
    name: str
    modules: tuple[str, ...]  # a package ("pipeline": every module in it) or one module ("pipeline.cli")
    may_import: tuple[str, ...]  # the project's packages it may import
    torch: bool
    torch_exceptions: tuple[str, ...]  # modules of the layer allowed an (optional) torch import all the same


def doc_layers(doc: Path = ROOT / "docs" / "architecture.md") -> list[Layer]:
    """The table under '## Layers' in docs/architecture.md."""
    text = doc.read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|") and "`" in line]
    layers = []
    for row in rows:
        name, modules, imports, torch = [c.strip() for c in row.strip("|").split("|")]
        layers.append(
            Layer(
                name,
                tuple(re.findall(r"`([\w.]+)`", modules)),
                tuple(re.findall(r"`([\w.]+)`", imports)),
                torch.startswith("yes"),
                tuple(re.findall(r"`([\w.]+)`", torch)),
            )
        )
    assert layers, f"{doc}: no table under '## Layers'"
    return layers


def layer_of(module: str, layers: list[Layer]) -> Layer:
    """The layer naming ``module`` most specifically (``pipeline.cli`` before ``pipeline``)."""
    best: tuple[int, Layer] | None = None
    for layer in layers:
        for m in layer.modules:
            if module == m or module.startswith(m + "."):
                if best is None or len(m) > best[0]:
                    best = (len(m), layer)
    if best is None:
        raise AssertionError(f"{module}: in no layer of docs/architecture.md's table")
    return best[1]


def project_modules(root: Path = ROOT) -> dict[str, str]:
    """module name -> source, for every module of the project's packages."""
    found = {}
    for pkg in PACKAGES:
        for f in sorted((root / pkg).rglob("*.py")):
            parts = f.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = f.read_text(encoding="utf-8")
    return found


def imports_of(module: str, source: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import statement anywhere in ``source``, relative ones resolved."""
    out = []
    package = module if module in PACKAGES else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # 'from pkg import name': name may be a module of pkg (resolved by the longest module name that exists)
            out += [(node.lineno, f"{target}.{a.name}") for a in node.names]
    return out


def violations(modules: dict[str, str], layers: list[Layer]) -> list[str]:
    """One line per import that goes the wrong way: 'gan_train.x:12 imports pipeline.run (training may import ...)'."""
    stdlib = sys.stdlib_module_names
    bad = []
    for module, source in sorted(modules.items()):
        layer = layer_of(module, layers)
        for line, target in imports_of(module, source):
            top = target.split(".")[0]
            where = f"{module}:{line} imports {target}"
            if top in PACKAGES and top not in layer.may_import:
                bad.append(f"{where} ({layer.name} may import {', '.join(layer.may_import)})")
            elif top in TORCH and not layer.torch and module not in layer.torch_exceptions:
                bad.append(f"{where} ({layer.name} never imports torch)")
            elif (
                layer.name == "the run format"
                and top not in PACKAGES
                and top not in stdlib
                and top not in FORMAT_THIRD_PARTY
                and top != "__future__"
            ):
                bad.append(f"{where} (the run format imports numpy and the standard library only)")
    return bad


def import_cycles(modules: dict[str, str]) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a loop (lazy imports count: a loop broken only
    by importing inside a function is still two modules that cannot be read apart)."""
    graph: dict[str, set[str]] = {}
    for module, source in modules.items():
        deps = set()
        for _, target in imports_of(module, source):
            parts = target.split(".")
            named = [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
            hit = next((m for m in named if m in modules and m not in PACKAGES), None)
            if hit is not None and hit != module:
                deps.add(hit)
        graph[module] = deps

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    reached = {m: reach(m) for m in graph}
    loops = {tuple(sorted({m, *[o for o in reached[m] if m in reached[o]]})) for m in graph if m in reached[m]}
    return [list(group) for group in sorted(loops)]


def test_no_two_modules_import_each_other() -> None:
    assert import_cycles(project_modules()) == []
    planted = {"gan_train.a": "import gan_train.b\n", "gan_train.b": "import gan_train.c\n", "gan_train.c": ""}
    assert import_cycles(planted) == []
    planted["gan_train.c"] = "def f():\n    from gan_train import a\n"  # lazily, and by 'from package import'
    assert import_cycles(planted) == [["gan_train.a", "gan_train.b", "gan_train.c"]]


def test_the_doc_names_every_package_in_a_layer() -> None:
    layers = doc_layers()
    for pkg in PACKAGES:
        assert layer_of(pkg, layers).modules, pkg
    assert layer_of("pipeline.cli", layers).name == "the command"
    assert layer_of("pipeline.plots", layers).name == "pipeline"


def test_every_import_goes_the_way_of_the_layers() -> None:
    modules = project_modules()
    assert {"ganviz.reader", "gan_train.trainer", "pipeline.plots", "scenes.common"} <= modules.keys()
    assert violations(modules, doc_layers()) == []


@pytest.mark.parametrize(
    ("module", "source", "says"),
    [
        ("gan_train.planted", "def f():\n    from pipeline.plots import make_plots\n", "gan_train.planted:2 imports"),
        ("pipeline.planted", "import gan_train.trainer\n", "pipeline.planted:1 imports gan_train.trainer"),
        ("pipeline.planted", "def f():\n    import torch\n", "never imports torch"),
        ("ganviz.planted", "from pipeline import run\n", "ganviz.planted:1 imports pipeline"),
        ("ganviz.planted", "import matplotlib.pyplot as plt\n", "numpy and the standard library only"),
        ("scenes.planted", "from gan_train.models import build_models\n", "scenes.planted:1 imports"),
        ("gan_train.planted", "from ..pipeline import run\n", "gan_train.planted:1 imports pipeline.run"),
    ],
)
def test_a_planted_wrong_way_import_is_caught(module: str, source: str, says: str) -> None:
    modules = {**project_modules(), module: source}
    found = violations(modules, doc_layers())
    assert len(found) == 1 and says in found[0], found


def test_the_command_may_drive_training_but_the_pipeline_may_not() -> None:
    layers = doc_layers()
    ok = {"pipeline.cli": "def f():\n    from gan_train.train import train\n"}
    assert violations(ok, layers) == []
    assert violations({"pipeline.gifs": ok["pipeline.cli"]}, layers) != []


_READ_WITHOUT_TORCH = """
import sys
sys.modules["torch"] = None  # import torch now raises ImportError
sys.modules["torchvision"] = None
import numpy as np
from ganviz.reader import Run
from ganviz.writer import RunWriter
from ganviz.lock import is_training
import pipeline.run, pipeline.plots, pipeline.gifs, pipeline.frames, pipeline.runs, pipeline.export, pipeline.render
run = Run.load(sys.argv[1])
m = run.metrics
assert len(m.step) > 0 and np.isfinite(m.loss_d).any()
steps = run.steps
assert steps and run.snapshot(steps[-1]).fake.shape[0] == run.fixed.noise.shape[0]
assert run.layer_grad_norms()["g"][0].size and not is_training(run.path)
assert "torch" not in {k for k, v in sys.modules.items() if v is not None}
print("read", len(steps), "snapshots without torch")
"""


def test_a_run_reads_without_torch(designed_image: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _READ_WITHOUT_TORCH, str(designed_image)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "without torch" in proc.stdout


def test_a_foreign_package_of_a_stage_name_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another distribution's `scenes` earlier on sys.path: the command's start-up check names its folder."""
    from ganviz import name_clashes

    assert name_clashes() == []
    (tmp_path / "scenes").mkdir()
    (tmp_path / "scenes" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "scenes", raising=False)  # as at start-up: nothing imported yet
    clashes = name_clashes()
    assert len(clashes) == 1 and "'scenes' is not ganviz's" in clashes[0] and str(tmp_path) in clashes[0], clashes
