"""The errors of ganviz: one type users see (the CLI prints its message as a single line and exits non-zero), and
the run format's own."""


class GanvizError(Exception):
    """A problem the user can fix; the message names the file or option and what to do."""


def first_line(e: BaseException) -> str:
    """``Type: first line of the message`` (cut at 160 characters), for one-line errors that wrap another."""
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:160]}" if text else type(e).__name__


class RunError(GanvizError):
    """A run folder (or one of its files) is missing, damaged or of an unknown format."""


class RunWarning(UserWarning):
    """Something in a run was left out (a damaged snapshot, a cut-off metrics line); the rest still reads."""
