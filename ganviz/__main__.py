"""The ``ganviz`` command's entry (``python -m ganviz`` too): the one module of this package above the layers.

It checks first that ``gan_train``, ``pipeline`` and ``scenes`` are the packages installed beside it (generic names:
another distribution may install one of them), so that a clash is one line naming both folders rather than a
confusing import error deep in a command, then runs the CLI (pipeline/cli.py).
"""

from __future__ import annotations

import gc
import sys

from ganviz import name_clashes


def main() -> None:
    clashes = name_clashes()
    if clashes:
        print(
            f"Error: {clashes[0]} (uninstall the other distribution or use a separate virtual environment)",
            file=sys.stderr,
        )
        raise SystemExit(1)
    import pipeline.cli

    pipeline.cli.OWN_PROCESS = True
    try:
        pipeline.cli.main()
    finally:
        # the interpreter's last collections would walk every object torch made (its ops, its modules): moved out
        # of their reach, a `ganviz train` ends 0.4 s sooner (docs/speed.md); the process frees its memory anyway
        gc.freeze()


if __name__ == "__main__":
    main()
