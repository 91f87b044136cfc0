"""The one error type users see lives in ganviz/errors.py (the bottom package); importable from here too."""

from ganviz.errors import GanvizError, first_line  # noqa: F401
