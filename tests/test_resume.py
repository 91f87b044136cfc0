"""Crash safety: SIGKILL at random moments, Ctrl-C, stop_after, divergence and a full disk, then resume.

A resumed run must equal an uninterrupted one bitwise (CPU, fixed seed, one thread), except the
wall-clock columns. The kills happen at seeded random training steps; the tests poll the run's own
files instead of sleeping, so a loaded machine only makes them slower, never different.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from gan_train import optim as gan_optim
from gan_train.config import apply_overrides, get_variant
from gan_train.train import TrainingDiverged, TrainingInterrupted, train
from pipeline.cli import main
from pipeline.run import Run

ROOT = Path(__file__).resolve().parents[1]
WALL_CLOCK = ("time", "samples_per_s")
#: toy-gaussian, long enough that a kill at step < 180 always lands well before the end
CFG = {"steps": 300, "snapshot_every": 15, "checkpoint_every": 15, "log_every": 5, "toy_fixed": 64}
CLI_ARGS = [
    "toy-gaussian",
    "--device",
    "cpu",
    "--quiet",
    "--steps",
    "300",
    "--snapshot-every",
    "15",
    "--set",
    "checkpoint_every=15",
    "--set",
    "log_every=5",
    "--set",
    "toy_fixed=64",
]
TIMEOUT = 300  # seconds for any one wait: generous for a heavily loaded machine


def run_in_process(out: Path, variant: str = "toy-gaussian", **overrides: object) -> Path:
    cfg = apply_overrides(get_variant(variant), {"device": "cpu", **overrides})
    return train(cfg, out=out, progress=False)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The uninterrupted run every interrupted-and-resumed run must reproduce."""
    return Run.load(run_in_process(tmp_path_factory.mktemp("ref") / "run", **CFG))


def assert_same_run(got: Run, ref: Run) -> None:
    """Bitwise-equal metrics (but wall time), the same fixed batches and the same snapshots."""
    assert list(got.metrics["step"]) == list(range(1, ref.info["total_steps"] + 1))
    for col, ref_col in ref.metrics.items():
        if col not in WALL_CLOCK:
            np.testing.assert_array_equal(got.metrics[col], ref_col, err_msg=col)
    for key, arr in ref.fixed.items():
        np.testing.assert_array_equal(got.fixed[key], arr, err_msg=f"fixed.npz:{key}")
    assert got.steps == ref.steps
    for step in ref.steps:
        a, b = got.snapshot(step), ref.snapshot(step)
        assert set(a.arrays) == set(b.arrays)
        for key in b.arrays:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"snapshot {step}:{key}")
    assert got.status == "finished"
    assert not list(got.path.rglob("*.tmp")), "temp files left behind"


def last_step(path: Path) -> int:
    """Step of the last complete metrics line (0 if none yet)."""
    try:
        data = (path / "metrics.jsonl").read_bytes()
    except FileNotFoundError:
        return 0
    lines = data[: data.rfind(b"\n")].split(b"\n") if b"\n" in data else []
    return json.loads(lines[-1])["step"] if lines and lines[-1] else 0


def start_cli(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "train", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def resumes(path: Path) -> int:
    try:
        return len(json.loads((path / "run.json").read_text()).get("resumed", []))
    except (FileNotFoundError, ValueError):
        return -1


def wait_for_step(proc: subprocess.Popen, path: Path, step: int, resumed: int = 0) -> None:
    """Poll until this process has started (run.json lists ``resumed`` resumes) and logged ``step``.

    Waiting for run.json first matters after a resume: until the new process has cut metrics.jsonl back
    to its checkpoint, the file still holds the killed process's later steps.
    """
    deadline = time.monotonic() + TIMEOUT
    while resumes(path) != resumed or last_step(path) < step:
        if proc.poll() is not None:
            raise AssertionError(f"training ended (rc {proc.returncode}) before step {step}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"step {step} not reached in {TIMEOUT}s")
        time.sleep(0.002)


def check_readable(path: Path) -> int:
    """What a crash leaves must read cleanly: contiguous metric steps, every snapshot, the fixed batches."""
    run = Run.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a cut last metrics line is reported as a warning, and dropped
        steps = run.metrics["step"]
    assert list(steps) == list(range(1, len(steps) + 1))
    for s in run.steps:
        assert len(run.snapshot(s).fake) == len(run.fixed["noise"])
    return len(steps)


def test_sigkill_at_random_moments_then_resume_equals_uninterrupted(tmp_path, reference):
    path = tmp_path / "run"
    rng = np.random.default_rng(6)
    kill_at = sorted(rng.choice(np.arange(15, 180), size=3, replace=False).tolist())
    for i, step in enumerate(kill_at):
        proc = start_cli([*CLI_ARGS, "--out", str(path)] if i == 0 else ["--resume", str(path), "--quiet"])
        wait_for_step(proc, path, step, resumed=i)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == -signal.SIGKILL, "training finished before it could be killed"
        assert check_readable(path) >= step
        assert json.loads((path / "run.json").read_text())["status"] == "running"  # no one could mark it
    train(None, resume=path, progress=False)
    run = Run.load(path)
    assert [r["at_step"] for r in run.info["resumed"]] == sorted(r["at_step"] for r in run.info["resumed"])
    assert len(run.info["resumed"]) == 3 and all(r["at_step"] % 15 == 0 for r in run.info["resumed"])
    assert_same_run(run, reference)


def test_ctrl_c_saves_at_that_step_and_resume_equals_uninterrupted(tmp_path, reference):
    path = tmp_path / "run"
    proc = start_cli([*CLI_ARGS, "--out", str(path)])
    wait_for_step(proc, path, 61)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 1
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: SIGINT at step "), err
    step = int(err.split("at step ")[1].split(":")[0])
    info = json.loads((path / "run.json").read_text())
    assert info["status"] == "interrupted" and info["last_step"] == step >= 61
    assert check_readable(path) == step  # every step up to the interrupt is kept, none beyond
    assert torch.load(path / "checkpoint.pt", weights_only=True)["step"] == step
    train(None, resume=path, progress=False)
    assert_same_run(Run.load(path), reference)


def test_sigterm_stops_at_a_step_boundary_and_resume_equals_uninterrupted(tmp_path, reference):
    """In-process: a thread sends SIGTERM once step 30 is logged; the loop finishes that step and saves."""
    path, seen = tmp_path / "run", []
    previous = signal.signal(signal.SIGTERM, lambda *_: seen.append("late"))  # a late signal must not kill pytest

    def send() -> None:
        deadline = time.monotonic() + TIMEOUT
        while last_step(path) < 30 and time.monotonic() < deadline:
            time.sleep(0.002)
        os.kill(os.getpid(), signal.SIGTERM)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        with pytest.raises(TrainingInterrupted, match=r"^SIGTERM at step (\d+): checkpoint saved; continue with"):
            run_in_process(path, **CFG)
    finally:
        sender.join()
        signal.signal(signal.SIGTERM, previous)
    assert not seen
    info = json.loads((path / "run.json").read_text())
    assert info["status"] == "interrupted" and check_readable(path) == info["last_step"] >= 30
    train(None, resume=path, progress=False)
    assert_same_run(Run.load(path), reference)


def test_stop_after_saves_and_resume_equals_uninterrupted(tmp_path):
    """toy-rings: D dropout (global RNG) and D on every other batch (layer norms carried in the checkpoint: D is
    updated at odd steps, so the snapshot at 28, right after stopping at 27, shows D's norms from before the stop)."""
    kw = {
        "steps": 40,
        "snapshot_every": 7,
        "checkpoint_every": 10,
        "log_every": 4,
        "toy_fixed": 64,
        "field_resolution": 8,
    }
    ref = Run.load(run_in_process(tmp_path / "ref", "toy-rings", **kw))
    cfg = apply_overrides(get_variant("toy-rings"), {"device": "cpu", **kw})
    path = train(cfg, out=tmp_path / "run", progress=False, stop_after=27)
    info = json.loads((path / "run.json").read_text())
    assert info["status"] == "stopped" and info["last_step"] == 27 and check_readable(path) == 27
    train(None, resume=path, progress=False)
    assert_same_run(Run.load(path), ref)


class PoisonedAdam(gan_optim.Adam):
    """Adam that writes NaN into its first parameter after its ``at``-th step (G's optimiser only).

    Divergence made on purpose at a known step: with a huge learning rate the step at which floats overflow
    depends on the CPU's kernels."""

    made = 0
    at = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        type(self).made += 1
        self.is_g, self.steps = type(self).made == 1, 0  # train() builds G's optimiser first, then D's

    @torch.no_grad()
    def step(self) -> None:
        super().step()
        self.steps += 1
        if self.is_g and self.steps == self.at:
            self.param_groups[0]["params"][0].fill_(float("nan"))


@pytest.mark.parametrize(("every", "what", "poison_at", "bad"), [(1, "weights", 2, 2), (10, "loss", 3, 4)])
def test_divergence_stops_names_the_step_and_keeps_last_good_checkpoint(
    tmp_path, monkeypatch, every, what, poison_at, bad
):
    """G's weights turn NaN at the end of step ``poison_at`` (that step's losses are still finite): a checkpoint
    at that step sees NaN weights (every=1); otherwise the next step's loss is NaN and the metrics block that
    holds it stops training."""
    path = tmp_path / "run"
    monkeypatch.setattr(PoisonedAdam, "made", 0)
    monkeypatch.setattr(PoisonedAdam, "at", poison_at)
    monkeypatch.setattr(gan_optim, "Adam", PoisonedAdam)
    with pytest.raises(TrainingDiverged, match=rf"^{what} became NaN/inf at step {bad}; run marked diverged"):
        run_in_process(path, steps=50, checkpoint_every=every, log_every=5)
    # the CLI says so in one line (same poison, same step)
    monkeypatch.setattr(PoisonedAdam, "made", 0)
    res = CliRunner().invoke(
        main,
        [
            "train",
            "toy-gaussian",
            "--device",
            "cpu",
            "--quiet",
            "--steps",
            "50",
            "--set",
            f"checkpoint_every={every}",
            "--set",
            "log_every=5",
            "--out",
            str(tmp_path / "cli"),
        ],
    )
    assert res.exit_code == 1 and res.stderr.count("\n") == 1, res.output
    assert res.stderr.startswith(f"error: {what} became NaN/inf at step {bad}; run marked diverged")
    monkeypatch.undo()
    info = json.loads((path / "run.json").read_text())
    assert info["status"] == "diverged" and info["diverged_at"] == bad
    assert info["last_step"] == (bad - 1 if every == 1 else 0)
    state = torch.load(path / "checkpoint.pt", weights_only=True)
    assert state["step"] == info["last_step"]
    assert all(torch.isfinite(p).all() for p in [*state["g"].values(), *state["d"].values()])
    m = Run.load(path).metrics
    assert m["step"][-1] == bad
    if what == "loss":
        assert not np.isfinite([m["loss_d"][-1], m["loss_g"][-1]]).all()
        assert np.isfinite(m["loss_d"][:-1]).all()
    # the run resumes from the good checkpoint (a rescue would lower the learning rates) and finishes
    res = CliRunner().invoke(
        main, ["train", "--resume", str(path), "--quiet", "--set", "lr_g=1e-3", "--set", "lr_d=1e-3"]
    )
    assert res.exit_code == 0, res.output
    run = Run.load(path)
    assert run.status == "finished" and list(run.metrics["step"]) == list(range(1, 51))
    assert "diverged_at" not in run.info  # the rescue succeeded: nothing diverged in the run as it stands


def test_disk_full_is_one_line_and_the_run_stays_resumable(tmp_path, reference, monkeypatch):
    """The writer's fsync fails with ENOSPC after some writes, as on a full disk."""
    path, calls = tmp_path / "run", [0]
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls[0] += 1
        if calls[0] > 40:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    res = CliRunner().invoke(main, ["train", *CLI_ARGS, "--out", str(path)])
    monkeypatch.undo()
    assert res.exit_code == 1 and res.stderr.count("\n") == 1, res.stderr
    assert res.stderr.startswith("error: ") and "disk full" in res.stderr and "--resume" in res.stderr
    assert not list(path.rglob("*.tmp")), "temp files left behind"
    assert 0 < check_readable(path) < 300
    train(None, resume=path, progress=False)
    assert_same_run(Run.load(path), reference)


def test_a_second_process_cannot_resume_a_run_being_trained_and_a_killed_one_leaves_no_lock(tmp_path, reference):
    path = tmp_path / "run"
    proc = start_cli([*CLI_ARGS, "--out", str(path)])
    try:
        wait_for_step(proc, path, 20)  # past the checkpoint at step 15: resumable, and still training
        res = CliRunner().invoke(main, ["train", "--resume", str(path), "--quiet"])
        lines = res.stderr.strip().splitlines()
        assert res.exit_code != 0 and isinstance(res.exception, SystemExit), res.output
        assert len(lines) == 1 and f"another process (pid {proc.pid}) is training this run" in lines[0], lines
        assert proc.poll() is None, "the refused resume must not disturb the training process"
    finally:
        proc.kill()
        proc.wait()
    train(None, resume=path, progress=False)  # SIGKILL released the lock: nothing stale to clear by hand
    assert_same_run(Run.load(path), reference)


def checkpoint_steps(monkeypatch, path: Path, **overrides: object) -> list[int]:
    """Train toy-gaussian and return the steps of every checkpoint written (in order)."""
    from gan_train.snapshots import RunWriter

    steps: list[int] = []
    real = RunWriter.write_checkpoint

    def spy(self, state):  # noqa: ANN001, ANN202
        steps.append(int(state["step"]))
        return real(self, state)

    monkeypatch.setattr(RunWriter, "write_checkpoint", spy)
    run_in_process(path, **overrides)
    monkeypatch.undo()
    return steps


def test_a_short_run_checkpoints_at_start_and_end_but_snapshots_every_step(tmp_path, monkeypatch):
    """32 steps: ~100 snapshots per run means one per step, but a checkpoint is due only every
    checkpoint_seconds (60) of training, besides step 0 and the end."""
    assert checkpoint_steps(monkeypatch, tmp_path / "r", steps=32) == [0, 32]
    run = Run.load(tmp_path / "r")
    assert run.steps == list(range(33)) and run.info["checkpoint_every"] == 0
    assert run.info["checkpoint_seconds"] == 60


def test_checkpoint_seconds_zero_checkpoints_at_every_snapshot(tmp_path, monkeypatch):
    got = checkpoint_steps(monkeypatch, tmp_path / "r", steps=30, snapshot_every=7, checkpoint_seconds=0)
    assert got == [0, 7, 14, 21, 28, 30]


def test_time_based_checkpoints_fall_on_snapshots_once_the_interval_has_passed(tmp_path, monkeypatch):
    """With a clock that runs 1 s per reading (the recorder's and the metric blocks'), a 20 s interval checkpoints
    at some snapshots, never between."""
    import gan_train.recorder as recorder
    import gan_train.recording as recording

    class Clock:
        def __init__(self) -> None:
            self.now = 0.0

        def perf_counter(self) -> float:
            self.now += 1.0
            return self.now

        def __getattr__(self, name: str):  # noqa: ANN204
            return getattr(time, name)

    clock = Clock()
    monkeypatch.setattr(recording, "time", clock)
    monkeypatch.setattr(recorder, "time", clock)
    got = checkpoint_steps(monkeypatch, tmp_path / "r", steps=60, snapshot_every=3, checkpoint_seconds=20)
    assert got[0] == 0 and got[-1] == 60 and 2 < len(got) < 21
    assert all(s % 3 == 0 for s in got[:-1]) and got == sorted(set(got))


def test_time_column_continues_across_a_resume(tmp_path):
    path = train(
        apply_overrides(get_variant("toy-gaussian"), {"device": "cpu", **CFG}),
        out=tmp_path / "r",
        progress=False,
        stop_after=45,
    )
    stopped_at = torch.load(path / "checkpoint.pt", weights_only=True)["time"]
    train(None, resume=path, progress=False)
    m = Run.load(path).metrics
    t = m["time"]
    assert np.all(np.diff(t) >= 0), "time went backwards"
    assert t[45] >= stopped_at and t[44] <= stopped_at + 1e-3  # step 46 starts where the checkpoint left off


def test_resume_of_a_finished_run_changes_nothing(tmp_path):
    path = run_in_process(tmp_path / "r", steps=10)
    before = {p.name: p.read_bytes() for p in path.iterdir() if p.is_file() and p.name != ".lock"}
    res = CliRunner().invoke(main, ["train", "--resume", str(path), "--quiet"])
    assert res.exit_code == 0, res.output
    note = f"note: {path}: already finished at step 10; nothing to resume (extend it with --steps N)"
    assert res.stderr.strip() == note
    assert {p.name: p.read_bytes() for p in path.iterdir() if p.is_file() and p.name != ".lock"} == before
    assert Run.load(path).info["resumed"] == []


# -- a recorded loop of one's own that resumes from its own checkpoint ---------------------------------------------
#: A loop as a tutorial writes it: its own checkpoint every 10 steps (the Recorder flushed just before), resumed
#: from that checkpoint when it exists; argv: run folder, checkpoint file, total steps, step to SIGKILL itself at
#: (0: never), and how it tells the Recorder where it continues ("step": resume=N; "first": resume=True and step=).
OWN_LOOP = """
import os, signal, sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gan_train import Recorder
from gan_train.datasets import toy_8gaussians

run_dir, ckpt, how = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[5]
total, kill_at = int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(1)
torch.manual_seed(0)
data = torch.from_numpy(toy_8gaussians(2048, np.random.default_rng(0)))
G = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 2))
D = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
opt_g = torch.optim.Adam(G.parameters(), 1e-3, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), 1e-3, betas=(0.5, 0.999))
start = 0
if ckpt.exists():
    state = torch.load(ckpt)
    G.load_state_dict(state["G"]); D.load_state_dict(state["D"])
    opt_g.load_state_dict(state["opt_g"]); opt_d.load_state_dict(state["opt_d"])
    torch.set_rng_state(state["rng"])
    start = state["step"]
rec = Recorder(
    run_dir, G, D, real=data[:128], noise_dim=4, snapshot_every=5, log_every=4, total_steps=total,
    measure="8gaussians", measure_every=10, measure_samples=100, resume=start if how == "step" else True,
)
with rec:
    for step in range(start + 1, total + 1):
        real = data[torch.randint(0, len(data), (64,))]
        fake = G(torch.randn(64, 4))
        out_real, out_fake = D(real), D(fake.detach())
        loss_d = F.softplus(-out_real).mean() + F.softplus(out_fake).mean()
        opt_d.zero_grad(); loss_d.backward(); opt_d.step()
        out_after = D(fake)
        loss_g = F.softplus(-out_after).mean()
        opt_g.zero_grad(); loss_g.backward(); opt_g.step()
        rec.step(step=step, loss_d=loss_d, loss_g=loss_g, d_real=out_real, d_fake=out_fake, d_fake_after=out_after,
                 spread=fake.detach().std())
        if step % 10 == 0:
            rec.flush()
            state = {"G": G.state_dict(), "D": D.state_dict(), "opt_g": opt_g.state_dict(),
                     "opt_d": opt_d.state_dict(), "rng": torch.get_rng_state(), "step": step}
            torch.save(state, ckpt.with_suffix(".tmp")); os.replace(ckpt.with_suffix(".tmp"), ckpt)
        if step == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
"""
OWN_TOTAL = 40


def own_loop(tmp: Path, name: str, kill_at: int = 0, how: str = "step") -> subprocess.CompletedProcess:
    script = tmp / "own_loop.py"
    script.write_text(OWN_LOOP)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    args = [sys.executable, str(script), str(tmp / name), str(tmp / f"{name}.pt"), str(OWN_TOTAL), str(kill_at), how]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def own_reference(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("own")
    done = own_loop(tmp, "ref")
    assert done.returncode == 0, done.stderr
    return Run.load(tmp / "ref")


def assert_same_recorded_run(run: Run, reference: Run) -> None:
    """Every step once, in order, with the uninterrupted loop's values (but the wall clock); the same snapshots and
    measures."""
    m, ref = run.metrics, reference.metrics
    assert m.step.tolist() == list(range(1, OWN_TOTAL + 1))
    for col in [*ref, *m]:
        if col not in WALL_CLOCK:
            np.testing.assert_array_equal(m[col], ref[col], err_msg=col)
    assert run.steps == reference.steps == [*range(0, OWN_TOTAL + 1, 5)]
    for step in run.steps:
        a, b = run.snapshot(step), reference.snapshot(step)
        assert sorted(a.arrays) == sorted(b.arrays)
        for key in a.arrays:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{key} at step {step}")
    assert run.evals.rows == reference.evals.rows
    assert [r["step"] for r in run.evals.rows if r["measure"] == "sliced_w1"] == [0, 10, 20, 30, 40]


@pytest.mark.parametrize(("kill_at", "how"), [(27, "step"), (13, "first")])
def test_a_recorded_loop_killed_between_its_checkpoints_continues_its_run(tmp_path, own_reference, kill_at, how):
    """SIGKILL after step ``kill_at``, between the loop's checkpoints at 10k and 10k + 10: the run reads; restarted,
    the loop resumes from its checkpoint and the Recorder drops what came after it. The run then equals the
    uninterrupted one: steps 1..40 once each, the same values, snapshots and measures."""
    killed = own_loop(tmp_path, "run", kill_at, how)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a last line the kill cut short
        during = Run.load(tmp_path / "run")
        assert during.status == "running" and during.metrics.step.tolist()[: kill_at // 10 * 10] == [
            *range(1, kill_at // 10 * 10 + 1)
        ]
    resumed = own_loop(tmp_path, "run", 0, how)
    assert resumed.returncode == 0, resumed.stderr
    assert "warning" not in resumed.stderr.lower()  # flushed before each checkpoint: no step lost
    run = Run.load(tmp_path / "run")
    assert run.status == "finished" and run.extra_metrics == ("spread",)
    assert [(e["at_step"], e["status"]) for e in run.info["resumed"]] == [(kill_at // 10 * 10, "running")]
    assert_same_recorded_run(run, own_reference)
    assert not list((tmp_path / "run").rglob("*.tmp"))


def stand_in(path: Path, **kwargs: object):  # noqa: ANN201 (a Recorder)
    """The Recorder of a stand-in loop: fixed nets and real batch, no training."""
    from torch import nn

    from gan_train import Recorder

    torch.manual_seed(0)
    g, d = nn.Linear(2, 2), nn.Linear(2, 1)
    real = torch.arange(16.0).view(8, 2) / 8
    return Recorder(path, g, d, real=real, noise_dim=2, snapshot_every=5, log_every=3, **kwargs)


def record_steps(path: Path, steps: range, **kwargs: object) -> Run:
    """The stand-in loop's steps, with designed values (the step number)."""
    with stand_in(path, **kwargs) as rec:
        for s in steps:
            rec.step(step=s, loss_d=float(s), own=2.0 * s)
    return Run.load(path)


def test_steps_a_killed_loop_never_wrote_come_back_as_missing_rows(tmp_path):
    """The loop's checkpoint is at step 20 but only 17 rows reached the disk (no rec.flush() before it): steps 18-20
    are recorded as missing, with one warning, and the run goes on from 21 without a gap."""
    record_steps(tmp_path / "r", range(1, 18))
    with pytest.warns(UserWarning, match=r"steps 18-20 were handed over but not on disk .* recorded as missing"):
        run = record_steps(tmp_path / "r", range(21, 24), resume=20)
    m = run.metrics
    assert m.step.tolist() == list(range(1, 24))
    assert m.loss_d.tolist()[:17] == list(map(float, range(1, 18))) and np.isnan(m.loss_d[17:20]).all()
    assert m["own"].tolist()[20:] == [42.0, 44.0, 46.0] and np.isnan(m["own"][17:20]).all()
    assert run.info["resumed"][0]["lost_steps"] == 3 and run.info["resumed"][0]["status"] == "finished"
    assert run.steps == [0, 5, 10, 15, 17, 23]  # 17: where the first loop ended; 20 was never taken


def test_a_loop_continued_after_a_step_drops_later_rows_snapshots_and_measures(tmp_path):
    record_steps(tmp_path / "r", range(1, 13), measure="rings", measure_every=5, measure_samples=20)
    run = record_steps(tmp_path / "r", range(8, 10), resume=7, measure="rings", measure_every=5, measure_samples=20)
    assert run.metrics.step.tolist() == list(range(1, 10)) and run.metrics.loss_d.tolist() == list(range(1, 10))
    assert run.steps == [0, 5, 9] and sorted({r["step"] for r in run.evals.rows}) == [0, 5, 9]
    assert run.status == "finished" and run.info["total_steps"] == 9


def test_a_run_recorded_otherwise_is_not_continued(tmp_path):
    from pipeline.errors import GanvizError

    record_steps(tmp_path / "r", range(1, 4))
    before = (tmp_path / "r" / "metrics.jsonl").read_text()
    for kwargs, message in (
        ({"d_output": "critic"}, r"recorded with d_output 'logit', this Recorder 'critic'"),
        ({"seed": 3}, r"recorded with seed 0, this Recorder 3"),
    ):
        with pytest.raises(GanvizError, match=message) as e:
            record_steps(tmp_path / "r", range(3, 4), resume=2, **kwargs)
        assert "\n" not in str(e.value) and "record into a new folder" in str(e.value)
    from torch import nn

    from gan_train import Recorder

    other = Recorder(tmp_path / "r", nn.Linear(2, 2), nn.Linear(2, 1), real=torch.ones(8, 2), noise_dim=2, resume=2)
    with pytest.raises(GanvizError, match=r"fixed batch 'real' in fixed.npz, unlike this Recorder's"), other:
        pass
    assert (tmp_path / "r" / "metrics.jsonl").read_text() == before  # refused before anything changed
    assert Run.load(tmp_path / "r").status == "finished"


def test_resume_true_takes_the_step_from_the_first_rec_step(tmp_path):
    """Without ``step=`` the first rec.step cannot say where the run continues: one line. A loop with nothing left
    to do leaves the run as it was, finished again."""
    from pipeline.errors import GanvizError

    record_steps(tmp_path / "r", range(1, 4))
    rec = stand_in(tmp_path / "r", resume=True)
    with pytest.raises(GanvizError, match=r"resume=True\): the first rec.step after a resume needs step=") as e, rec:
        rec.step(loss_d=1.0)
    assert "\n" not in str(e.value)
    run = record_steps(tmp_path / "r", range(0), resume=True)
    assert run.status == "finished" and run.metrics.step.tolist() == [1, 2, 3] and run.steps == [0, 3]


def test_the_documented_resumable_loop_continues_its_run(tmp_path, monkeypatch):
    """docs/record-your-gan.md's loop with its own checkpoint, for 12 steps (checkpoint every 5), then run again: it
    resumes from step 10, and the run is the first one's, steps 11-12 redone the same way."""
    from test_recorder import doc_snippet

    changes = {"start, total, ckpt = 0, 3000,": "start, total, ckpt = 0, 12,", "step % 500": "step % 5"}
    changes |= {
        "snapshot_every=30": "snapshot_every=4",
        'measure="8gaussians",': 'measure="8gaussians", measure_samples=64,',
    }
    code = doc_snippet("docs/record-your-gan.md", "## Continuing after your own checkpoint", changes)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "record-your-gan.md", "exec"), {})
    first = Run.load(tmp_path / "outputs" / "runs" / "my-toy")
    first_metrics, first_end = first.metrics, first.snapshot("end").arrays
    exec(compile(code, "record-your-gan.md", "exec"), {})
    run = Run.load(tmp_path / "outputs" / "runs" / "my-toy")
    assert run.status == "finished" and [e["at_step"] for e in run.info["resumed"]] == [10]
    assert run.metrics.step.tolist() == list(range(1, 13)) and run.steps == [0, 4, 8, 12]
    for col in first_metrics:
        if col not in WALL_CLOCK:
            np.testing.assert_array_equal(run.metrics[col], first_metrics[col], err_msg=col)
    for key, value in first_end.items():
        np.testing.assert_array_equal(run.snapshot("end")[key], value, err_msg=key)
    assert np.isfinite(run.metrics.acc_real).all() and run.evals.get("modes_captured") is not None
