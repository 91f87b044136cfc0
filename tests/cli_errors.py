"""The one check every test of a refused command makes: the CLI's own handler ended it in one line."""

from __future__ import annotations

from click.testing import Result


def one_line_error(res: Result, *needles: str) -> str:
    """Exit 1 through the CLI's handler (SystemExit, no traceback), exactly one line on stderr, starting 'error: ' and
    holding each of ``needles``; returns that line."""
    assert res.exit_code == 1, res.output
    assert isinstance(res.exception, SystemExit), f"uncaught {res.exception!r}"
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]
