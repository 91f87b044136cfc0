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
