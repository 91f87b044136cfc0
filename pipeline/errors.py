"""The one error type users see: the CLI prints its message as a single line and exits non-zero."""


class GanvizError(Exception):
    """A problem the user can fix; the message names the file or option and what to do."""
