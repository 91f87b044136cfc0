"""The one error type users see: the CLI prints its message as a single line and exits non-zero."""


class GanvizError(Exception):
    """A problem the user can fix; the message names the file or option and what to do."""


def first_line(e: BaseException) -> str:
    """``Type: first line of the message`` (cut at 160 characters), for one-line errors that wrap another."""
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:160]}" if text else type(e).__name__
