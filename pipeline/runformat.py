"""The run format's declaration moved to ganviz/format.py (the package both stages import); these names stay
importable from here for code written against pipeline.runformat."""

from ganviz.format import *  # noqa: F403  (every name of the declaration)
