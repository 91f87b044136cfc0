"""The run format's declaration moved to ganviz/format.py (the package both stages import); these names stay
importable from here for code written against pipeline.runformat."""

from ganviz.format import (  # noqa: F401
    CHECKPOINT_FILE,
    DEFAULT_ROOT,
    DIGIT_DATASETS,
    EVAL_REQUIRED,
    EVALS,
    EVALS_FILE,
    FIXED,
    FIXED_FILE,
    FORMAT_VERSION,
    KIND_NAMES,
    METRIC_COLUMNS,
    METRICS,
    METRICS_FILE,
    RUN_FILE,
    RUN_JSON,
    SNAPSHOT,
    SNAPSHOT_DIR,
    SNAPSHOT_REQUIRED,
    Field,
    Fields,
    snapshot_name,
    snapshot_step,
)
