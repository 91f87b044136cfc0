"""The run format is declared once (ganviz/format.py): the declaration matches docs/run-format.md, what
training writes, and the reader's typed accessors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from designed import make_designed_run

from pipeline.run import Fixed, Metrics, Run, Snapshot
from pipeline.runformat import EVALS, FIXED, METRICS, RUN_JSON, SNAPSHOT, Fields

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "run-format.md").read_text(encoding="utf-8")


def documented(heading: str) -> list[str]:
    """The names (in backticks) of the first column of the first table under ``heading`` in docs/run-format.md."""
    section = DOC.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    table = re.search(r"^\|.*?(?=\n\n|\Z)", section, flags=re.M | re.S).group(0)
    names: list[str] = []
    for row in re.findall(r"^\| (.+?) \|", table, flags=re.M):
        names += [n for n in re.findall(r"`([a-z_0-9]+)`", row)]
    return names


FILES = [
    ("run.json", RUN_JSON),
    ("metrics.jsonl", METRICS),
    ("evals.jsonl", EVALS),
    ("fixed.npz", FIXED),
    ("snapshots/step_XXXXXXXX.npz", SNAPSHOT),
]


@pytest.mark.parametrize(("heading", "fields"), FILES)
def test_the_docs_list_exactly_the_declared_fields(heading: str, fields: Fields) -> None:
    assert sorted(documented(heading)) == sorted(fields.names)


def test_a_field_is_named_by_attribute() -> None:
    assert (SNAPSHOT.fake, FIXED.noise, METRICS.loss_d, RUN_JSON.kind) == ("fake", "noise", "loss_d", "kind")
    with pytest.raises(AttributeError, match="no field 'nope'"):
        SNAPSHOT.nope  # noqa: B018
    assert SNAPSHOT.for_kind("image") == ("step", "epoch", "fake", "d_fake", "d_real", "grad_norm_g", "grad_norm_d")
    assert set(SNAPSHOT.for_kind("toy2d")) == set(SNAPSHOT.names) - {"labels"}
    assert SNAPSHOT.for_kind("image", conditional=True)[-1] == "labels"


@pytest.mark.parametrize("fixture", ["image_run", "toy2d_run", "toy1d_run"])
def test_training_writes_the_declared_fields(fixture: str, request: pytest.FixtureRequest) -> None:
    """capture() (every snapshot), fixed.npz, metrics.jsonl and run.json of real training runs."""
    path = request.getfixturevalue(fixture)
    run = Run.load(path)
    for step in run.steps:
        assert sorted(run.read_snapshot(step).arrays) == sorted(SNAPSHOT.for_kind(run.kind)), step
    assert sorted(run.fixed) == sorted(FIXED.for_kind(run.kind))
    first = json.loads((path / "metrics.jsonl").read_text().splitlines()[0])
    assert list(first) == list(METRICS.names)
    info = json.loads((path / "run.json").read_text())
    assert set(info) <= set(RUN_JSON.names), set(info) - set(RUN_JSON.names)
    # diverged / torchrun / a crashed loop / a loop's own columns
    optional = {RUN_JSON.diverged_at, RUN_JSON.world_size, RUN_JSON.error, RUN_JSON.extra_metrics}
    assert set(RUN_JSON.names) - set(info) == optional


def test_a_recorded_conditional_loop_writes_the_declared_fields(tmp_path: Path) -> None:
    """The Recorder's run: every snapshot and fixed.npz with the conditional arrays, and only declared run.json
    fields."""
    import torch
    from torch import nn

    from gan_train import Recorder

    class Cond(nn.Module):
        def __init__(self, n_in: int, n_out: int):
            super().__init__()
            self.embed, self.lin = nn.Embedding(3, 2), nn.Linear(n_in + 2, n_out)

        def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return self.lin(torch.cat([x, self.embed(y)], 1))

    g, d = Cond(3, 2), Cond(2, 1)
    labels = torch.arange(6) % 3
    conditional = {"fixed_labels": labels, "real_labels": labels, "n_fixed": 6}
    with Recorder(tmp_path / "r", g, d, real=torch.randn(6, 2), noise_dim=3, snapshot_every=1, **conditional) as rec:
        rec.step(loss_d=1.0)
    run = Run.load(tmp_path / "r")
    for step in run.steps:
        assert sorted(run.read_snapshot(step).arrays) == sorted(SNAPSHOT.for_kind("toy2d", conditional=True)), step
    assert sorted(run.fixed) == sorted(FIXED.for_kind("toy2d", conditional=True))
    assert set(run.info) <= set(RUN_JSON.names), set(run.info) - set(RUN_JSON.names)
    for name in SNAPSHOT.names[1:]:
        np.testing.assert_array_equal(getattr(run.snapshot("end"), name), run.snapshot("end")[name])
    for name in FIXED.names:
        np.testing.assert_array_equal(getattr(run.fixed, name), run.fixed[name])


def test_every_declared_array_has_a_typed_accessor(designed_toy2d: Path) -> None:
    run = Run.load(designed_toy2d)
    snap = run.snapshot("end")
    assert snap.step == int(snap[SNAPSHOT.step])  # the dataclass field
    for name in SNAPSHOT.names[1:]:
        assert isinstance(getattr(Snapshot, name), property), name
    for name in SNAPSHOT.for_kind("toy2d")[1:]:
        np.testing.assert_array_equal(getattr(snap, name), snap[name])
    assert snap.labels is None and run.fixed.labels is None  # conditional GANs' arrays (see above)
    for name in FIXED.names:
        assert isinstance(getattr(Fixed, name), property), name
    for name in FIXED.for_kind("toy2d"):
        np.testing.assert_array_equal(getattr(run.fixed, name), run.fixed[name])
    assert isinstance(run.metrics, Metrics)
    for name in METRICS.names:
        np.testing.assert_array_equal(getattr(run.metrics, name), run.metrics[name])


def test_image_runs_have_no_toy_arrays(designed_image: Path) -> None:
    run = Run.load(designed_image)
    snap = run.snapshot("end")
    assert snap.field is None and snap.grid_fake is None
    assert run.fixed.field_extent is None and run.fixed.grid_noise is None


def test_older_runs_without_layer_shapes_or_fake_grad_read_as_unknown(tmp_path: Path) -> None:
    """A run recorded before layer shapes, types and fake_grad existed reads, with None in their place; so does
    a run.json whose shapes do not fit its layers."""
    old = Run.load(
        make_designed_run(
            tmp_path / "old",
            "toy2d",
            drop=(SNAPSHOT.fake_grad, RUN_JSON.layer_shapes_g, RUN_JSON.layer_types_d),
        )
    )
    assert old.snapshot("end").fake_grad is None and old.snapshot("end").grid_fake is not None
    assert [(x.type, x.shape) for x in old.layers("g")] == [("Linear", None)] * 4
    assert [(x.type, x.shape) for x in old.layers("d")] == [(None, (n,)) for n in (128, 256, 128, 1)]
    old.info[RUN_JSON.layer_shapes_d] = [[128], [256]]  # two shapes for four layers
    assert [x.shape for x in old.layers("d")] == [None] * 4
    old.info[RUN_JSON.layer_shapes_d] = [[128], [256], [128], ["1"]]
    assert [x.shape for x in old.layers("d")] == [None] * 4
