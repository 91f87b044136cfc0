"""The documentation says what the code does: every documented command parses with the real CLI, and every
Python snippet names nothing it does not import or define."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest

from pipeline.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path, lang: str) -> list[tuple[int, str]]:
    """(line number, text) of each fenced code block of ``lang`` in a Markdown file."""
    out, text = [], path.read_text(encoding="utf-8")
    for m in re.finditer(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M):
        out.append((text[: m.start()].count("\n") + 2, m.group(1)))
    return out


def documented_commands() -> list[tuple[str, list[str]]]:
    """Every `ganviz ...` (or `python -m pipeline.cli ...`) command line in a bash block, as argv after the
    program name, with leading VAR=value assignments and trailing comments dropped."""
    found = []
    for doc in DOCS:
        for line_no, block in blocks(doc, "bash"):
            for i, line in enumerate(block.splitlines()):
                words = shlex.split(line, comments=True)
                while words and re.match(r"^[A-Z_]+=", words[0]):
                    words = words[1:]
                if words[:1] == ["ganviz"]:
                    args = words[1:]
                elif "pipeline.cli" in words:
                    args = words[words.index("pipeline.cli") + 1 :]
                else:
                    continue
                found.append((f"{doc.relative_to(ROOT)}:{line_no + i}", args))
    return found


COMMANDS = documented_commands()


def test_the_docs_document_commands() -> None:
    assert len(COMMANDS) > 20  # a broken extractor must not pass silently
    assert {args[0] for _, args in COMMANDS} >= {"train", "plots", "gif", "render", "variants"}


@pytest.mark.parametrize(("where", "args"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_documented_command_parses(where: str, args: list[str]) -> None:
    """Options exist, choices are valid, arguments fit: the command would start (it is not run)."""
    ctx = click.Context(main, info_name="ganviz")
    cmd = main.get_command(ctx, args[0])
    assert cmd is not None, f"{where}: no command 'ganviz {args[0]}'"
    try:
        cmd.make_context(args[0], list(args[1:]), parent=ctx)
    except click.UsageError as e:
        pytest.fail(f"{where}: ganviz {shlex.join(args)}: {e.format_message()}")


def test_python_snippets_import_what_they_use(tmp_path: Path) -> None:
    """Each ```python block, as a user would paste it, has no undefined name (ruff F821) and no syntax error."""
    snippets = [(f"{doc.relative_to(ROOT)}:{line}", code) for doc in DOCS for line, code in blocks(doc, "python")]
    assert len(snippets) >= 4
    for i, (where, code) in enumerate(snippets):
        f = tmp_path / f"snippet_{i}.py"
        f.write_text(code, encoding="utf-8")
        cmd = ["check", "--no-cache", "--isolated", "--select", "F821", "--output-format", "concise", str(f)]
        res = subprocess.run([sys.executable, "-m", "ruff", *cmd], capture_output=True, text=True)
        assert res.returncode == 0, f"{where}:\n{res.stdout}{res.stderr}"


# -- the example messages of docs/plots-and-gifs.md are the real ones ------------------------------------------
def example_messages(doc: Path, heading: str) -> list[str]:
    """The lines of the code blocks (no language) under ``heading`` of ``doc``."""
    text = doc.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return [ln for block in re.findall(r"^```\n(.*?)^```", section, flags=re.S | re.M) for ln in block.splitlines()]


def matches(doc_line: str, real: str) -> bool:
    """``...`` in a documented message stands for any text (an OS's or a library's wording)."""
    return re.fullmatch(".*".join(map(re.escape, doc_line.split("..."))), real) is not None


def test_the_documented_error_and_warning_lines_are_what_the_commands_print(tmp_path, monkeypatch) -> None:
    import zipfile

    from click.testing import CliRunner
    from designed import make_designed_run

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GANVIZ_RUN", raising=False)
    runs = Path("outputs/runs")

    def run_like_r(**kw: object) -> Path:
        """A fresh designed run at outputs/runs/r (3,000 steps: a snapshot every 30, or as given)."""
        import shutil

        shutil.rmtree(runs / "r", ignore_errors=True)
        return make_designed_run(runs / "r", "image", total_steps=3000, **{"snapshot_every": 30, **kw})

    def stderr(args: list[str], env: dict[str, str] | None = None) -> str:
        res = CliRunner(env=env).invoke(main, [*args, "--quiet"])
        return res.stderr.strip()

    def no_snapshots() -> str:
        r = run_like_r()
        for f in (r / "snapshots").iterdir():
            f.unlink()
        return stderr(["plots", str(r)])

    def all_damaged() -> str:
        r = run_like_r()
        for f in (r / "snapshots").iterdir():  # cut in half, as a crash or a full disk leaves them
            f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
        return stderr(["plots", str(r)])

    def fixed_damaged() -> str:
        r = run_like_r()
        f = r / "fixed.npz"
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
        return stderr(["plots", str(r)])

    def flipped(step: int) -> Path:
        r = run_like_r(snapshot_every=20)
        f = r / "snapshots" / f"step_{step:08d}.npz"
        data = bytearray(f.read_bytes())
        with zipfile.ZipFile(f) as z:
            info = z.getinfo("fake.npy")
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        data[start + info.compress_size - 1] ^= 0xFF  # the last byte of the data: inflates, fails its CRC
        f.write_bytes(bytes(data))
        return r

    def truncated_snapshot() -> str:
        r = run_like_r(snapshot_every=20)
        f = r / "snapshots" / "step_00000500.npz"
        f.write_bytes(f.read_bytes()[:100])
        return stderr(["gif", str(r), "-o", "g"]).splitlines()[0]

    def truncated_metrics() -> str:
        r = run_like_r()
        with open(r / "metrics.jsonl", "ab") as f:
            f.write(b'{"step": 3001, "loss')
        return stderr(["plots", str(r), "--format", "png", "--dpi", "20", "-o", "p"]).splitlines()[0]

    def empty_folder() -> str:
        (runs / "x").mkdir(parents=True)
        return stderr(["plots", str(runs / "x")])

    produce = {
        "error: outputs/runs/x: not a run folder (no run.json)": empty_folder,
        "error: GANVIZ_RUN=outputs/runs/y": lambda: stderr(["plots"], {"GANVIZ_RUN": "outputs/runs/y"}),
        "error: outputs/runs/r: run has no snapshots": no_snapshots,
        "error: outputs/runs/r: every snapshot is damaged": all_damaged,
        "error: outputs/runs/r/fixed.npz": fixed_damaged,
        "error: --steps 99999": lambda: stderr(["plots", str(run_like_r()), "--steps", "0,99999"]),
        "error: --steps 500": lambda: stderr(["plots", str(flipped(500)), "--steps", "0,500"]),
        "error: --format png,bmp": lambda: stderr(["plots", str(run_like_r()), "--format", "png,bmp"]),
        "error: --max-size big": lambda: stderr(["gif", str(run_like_r()), "--max-size", "big"]),
        "warning: outputs/runs/r/snapshots/step_00000500.npz": truncated_snapshot,
        "warning: outputs/runs/r/metrics.jsonl": truncated_metrics,
    }
    documented = example_messages(ROOT / "docs" / "plots-and-gifs.md", "## Errors")
    assert len(documented) == len(produce)
    for line in documented:
        key = next((k for k in produce if line.startswith(k)), None)
        assert key is not None, f"docs/plots-and-gifs.md: no check for the example {line!r}"
        real = produce[key]()
        assert matches(line, real), f"documented: {line}\nprinted:    {real}"
