"""The reader moved to the ganviz package (the run format at the bottom: ganviz/reader.py, records.py, validate.py,
format.py); the renderer's hand-over to scenes is pipeline/current.py, a command's output folder pipeline/output.py.
Every name stays importable from here for scenes and code written against pipeline.run."""

from ganviz.errors import (  # noqa: F401
    RunError,
    RunWarning,
)
from ganviz.format import *  # noqa: F403  (every name of the declaration)
from ganviz.reader import (  # noqa: F401
    Run,
)
from ganviz.records import (  # noqa: F401
    DamagedNpz,
    Evals,
    EvalSeries,
    Fixed,
    Layer,
    Metrics,
    Snapshot,
    load_npz,
    npz_problem,
    read_npz_arrays,
)
from ganviz.validate import (  # noqa: F401
    first_bad_metrics_row,
    read_eval_rows,
    read_metrics_columns,
    read_metrics_rows,
    read_run_json,
)
from pipeline.current import RUN_ENV, current_run, handing_over, run_from_env  # noqa: F401
from pipeline.output import output_folder  # noqa: F401
