"""Bad input: every mistake is one `error: ...` line and a non-zero exit, never a traceback.

Also the security half of issue 6: files in a run are never unpickled, and run folders cannot
escape where they were asked to go.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_errors import one_line_error
from click.testing import CliRunner, Result
from datafiles import write_jpegs, write_mnist

from pipeline.cli import main
from pipeline.run import Run, RunError, RunWarning

TINY_IMAGES = [
    "--batch-size",
    "4",
    "--steps",
    "2",
    "--device",
    "cpu",
    "--quiet",
    "--set",
    "ngf=4",
    "--set",
    "ndf=4",
    "--set",
    "n_fixed=4",
    "--set",
    "image_size=16",
]


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["train", *args])


@pytest.fixture
def run_copy(toy1d_run: Path, tmp_path: Path) -> Path:
    """A private copy of a real finished run, to damage."""
    return Path(shutil.copytree(toy1d_run, tmp_path / "run"))


# -- config ---------------------------------------------------------------------------------------
def test_unknown_variant_suggests_the_closest_name():
    one_line_error(cli("dcgan-celbea"), "unknown variant 'dcgan-celbea'", "did you mean 'dcgan-celeba'?")


@pytest.mark.parametrize(
    ("setting", "needles"),
    [
        ("lr=1e-3", ("--set lr: unknown option", "did you mean")),
        ("steps=many", ("--set steps=many", "expected int")),
        ("compile=perhaps", ("expected bool",)),
        ("g_hidden=a,b", ("comma-separated integers",)),
        ("lr_d=-1", ("must be positive",)),
        ("novalue", ("expected KEY=VALUE",)),
    ],
)
def test_bad_set_is_one_line(setting, needles):
    one_line_error(cli("toy-gaussian", "--set", setting), *needles)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--loss", "foo"], "error: --loss foo: unknown loss"),
        (["--set", "loss=foo"], "error: --set loss=foo: unknown"),
        (["--dataset", "nope"], "error: --dataset nope: unknown dataset"),
        (["--batch-size", "0"], "error: --batch-size 0:"),
    ],
)
def test_errors_name_the_option_the_user_typed(args, needle):
    assert one_line_error(cli("toy-gaussian", *args)).startswith(needle)


def test_epochs_on_the_command_line_win_over_a_variants_steps(tmp_path):
    res = cli(
        "toy-quadratic",
        "--epochs",
        "1",
        "--batch-size",
        "2500",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        str(tmp_path / "r"),
    )
    assert res.exit_code == 0, res.output
    run = Run.load(tmp_path / "r")
    assert run.info["total_steps"] == 4 and list(run.metrics["step"]) == [1, 2, 3, 4]  # 10,000 samples / 2,500


# -- data -----------------------------------------------------------------------------------------
def test_missing_dataset_folder(tmp_path):
    one_line_error(cli("dcgan-celeba", "--data-root", str(tmp_path / "nope"), *TINY_IMAGES), "CelebA not found")
    one_line_error(
        cli("dcgan-celeba", "--dataset", "folder", "--data-root", str(tmp_path / "nope"), *TINY_IMAGES),
        "no such folder",
    )


def test_empty_dataset_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    one_line_error(
        cli("dcgan-celeba", "--dataset", "folder", "--data-root", str(tmp_path / "empty"), *TINY_IMAGES),
        "no images found",
    )


def test_one_corrupt_jpeg_is_skipped_and_counted(tmp_path):
    """Documented behaviour: unreadable images are left out, counted in run.json, and warned about."""
    files = write_jpegs(tmp_path / "faces", n=6, size=(24, 30))
    files[2].write_bytes(files[2].read_bytes()[:200])  # cut mid-scan, as an interrupted download does
    res = cli(
        "dcgan-celeba",
        "--dataset",
        "folder",
        "--data-root",
        str(tmp_path / "faces"),
        *TINY_IMAGES,
        "--out",
        str(tmp_path / "run"),
    )
    assert res.exit_code == 0, res.output
    assert "warning: " in res.stderr and "skipped 1 unreadable image file(s) of 6" in res.stderr
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["dataset"]["skipped"] == 1 and info["dataset"]["size"] == 5


def test_disk_full_while_caching_a_dataset_only_warns(tmp_path, monkeypatch):
    from gan_train.config import apply_overrides, get_variant
    from gan_train.datasets import load_dataset

    write_jpegs(tmp_path / "faces", n=4, size=(24, 30))

    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)
    cfg = apply_overrides(get_variant("dcgan-celeba"), {"dataset": "folder", "data_root": str(tmp_path / "faces")})
    with pytest.warns(UserWarning, match="dataset cache not written .*disk full"):
        data = load_dataset(cfg, cache_dir=tmp_path / "cache")
    assert len(data.array) == 4 and not list((tmp_path / "cache").iterdir())  # no temp file left either


def test_all_images_corrupt(tmp_path):
    for f in write_jpegs(tmp_path / "faces", n=3, size=(24, 30)):
        f.write_bytes(b"not a jpeg at all")
    one_line_error(
        cli("dcgan-celeba", "--dataset", "folder", "--data-root", str(tmp_path / "faces"), *TINY_IMAGES),
        "none of the 3 image files could be decoded",
    )


@pytest.mark.parametrize(("variant", "name"), [("vanilla-mnist", "MNIST"), ("dcgan-cifar", "CIFAR-10")])
def test_download_without_network_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, variant, name):
    """torchvision tries every mirror, prints each failure and raises a long traceback after making its folders."""
    import urllib.error
    import urllib.request

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    root = tmp_path / "data"
    (root / "other").mkdir(parents=True)  # the user's folder may hold other things: they stay
    res = cli(variant, "--data-root", str(root), "--set", "download=true", *TINY_IMAGES[:6])
    one_line_error(res, f"--set download=true: could not download {name}", "name resolution", "--data-root")
    assert res.stdout == ""
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == ["other"]
    res = cli(variant, "--data-root", str(tmp_path / "new"), "--set", "download=true", *TINY_IMAGES[:6])
    one_line_error(res, "could not download")
    assert not (tmp_path / "new").exists()


def test_truncated_mnist_file(tmp_path):
    write_mnist(tmp_path / "data", n=20, gz=True)
    f = tmp_path / "data" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz"
    f.write_bytes(gzip.compress(gzip.decompress(f.read_bytes())[:5000]))
    one_line_error(cli("vanilla-mnist", "--data-root", str(tmp_path / "data"), *TINY_IMAGES[:6]), "truncated IDX file")


# -- resume ---------------------------------------------------------------------------------------
def test_resume_of_a_non_run(tmp_path):
    one_line_error(cli("--resume", str(tmp_path / "missing")), "not a run folder")
    (tmp_path / "empty").mkdir()
    one_line_error(cli("--resume", str(tmp_path / "empty")), "not a run folder", "run.json")
    (tmp_path / "file.txt").write_text("hello")
    one_line_error(cli("--resume", str(tmp_path / "file.txt")), "not a run folder")


def test_resume_of_a_newer_format_version(run_copy):
    info = json.loads((run_copy / "run.json").read_text())
    (run_copy / "run.json").write_text(json.dumps({**info, "format_version": 99}))
    one_line_error(cli("--resume", str(run_copy)), "format version 99 is newer", "upgrade ganviz")
    with pytest.raises(RunError, match="newer"):
        Run.load(run_copy)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_resume_with_a_damaged_checkpoint(run_copy, damage):
    ckpt = run_copy / "checkpoint.pt"
    data = ckpt.read_bytes()
    garbage = np.random.default_rng(0).bytes(4096)
    ckpt.write_bytes({"truncate": data[: len(data) // 2], "garbage": garbage, "empty": b""}[damage])
    one_line_error(cli("--resume", str(run_copy)), "checkpoint.pt", "cannot be resumed")


def test_resume_without_a_checkpoint(run_copy):
    (run_copy / "checkpoint.pt").unlink()
    one_line_error(cli("--resume", str(run_copy)), "no checkpoint.pt")


def test_resume_with_damaged_or_missing_metrics(run_copy):
    """Resuming (here: extending the finished run) would carry a hole in metrics.jsonl forward silently, so it is
    refused."""
    f = run_copy / "metrics.jsonl"
    lines = f.read_bytes().splitlines(keepends=True)
    f.write_bytes(b"".join(lines[:5]) + b"{garbage\n" + b"".join(lines[6:]))
    one_line_error(cli("--resume", str(run_copy), "--steps", "80"), "line 6 is damaged")
    f.write_bytes(b"".join(lines[:5]) + b"".join(lines[6:]))
    one_line_error(cli("--resume", str(run_copy), "--steps", "80"), "cannot be resumed without a gap")
    f.unlink()
    one_line_error(cli("--resume", str(run_copy), "--steps", "80"), "has 0 of the 60 steps")


def test_resume_refuses_to_change_what_the_checkpoint_depends_on(run_copy):
    one_line_error(
        cli("--resume", str(run_copy), "--set", "g_hidden=8,8", "--seed", "5"), "cannot change g_hidden, seed"
    )
    one_line_error(cli("toy-gaussian", "--resume", str(run_copy)), "drop the VARIANT")
    one_line_error(cli("--resume", str(run_copy), "--out", str(run_copy.parent / "x")), "drop --out/--name")


def test_truncated_or_corrupt_snapshot_raises_run_error(run_copy):
    """Asked for by step, a damaged snapshot is an error; listing leaves it out (tests/test_damaged_runs.py)."""
    run = Run.load(run_copy)
    steps = run.steps
    f = run_copy / "snapshots" / f"step_{steps[3]:08d}.npz"
    f.write_bytes(f.read_bytes()[:300])
    with pytest.raises(RunError, match=r"step_0+\d+\.npz: unreadable or damaged \.npz"):
        run.snapshot(steps[3])
    g = run_copy / "snapshots" / f"step_{steps[4]:08d}.npz"
    data = bytearray(g.read_bytes())
    data[len(data) // 2] ^= 0xFF
    g.write_bytes(bytes(data))
    with pytest.raises(RunError, match="damaged"):
        run.snapshot(steps[4])
    assert run.snapshot("end").fake.shape[0] > 0  # the rest of the run still reads
    with pytest.warns(RunWarning, match="skipped"):
        assert run.steps == steps[:3] + steps[5:]  # found damaged: left out from now on


# -- output folder --------------------------------------------------------------------------------
def test_out_not_writable(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    one_line_error(cli("toy-gaussian", "--steps", "2", "--quiet", "--out", str(blocker / "run")), "cannot write")
    one_line_error(cli("toy-gaussian", "--steps", "2", "--quiet", "--out", str(blocker)), "not a folder")


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs a Linux /sys (read-only to everyone)")
def test_out_on_a_read_only_filesystem():
    one_line_error(
        cli("toy-gaussian", "--steps", "2", "--quiet", "--out", "/sys/ganviz-run"),
        "not writable",
        "choose another --out",
    )


def drop_write_override() -> None:
    """In a child process of root: give up the capabilities that let root write into folders it may not write
    (CAP_DAC_OVERRIDE, and CAP_FOWNER that would let it chmod them), so mode bits apply as to any user.

    Dropped from the bounding set with prctl(PR_CAPBSET_DROP); the exec that follows then grants root only
    what is left."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 3):  # CAP_DAC_OVERRIDE, CAP_FOWNER
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) refused")


def test_out_in_a_read_only_folder(tmp_path):
    """A folder the user may not write to. Root may write anywhere, so as root (CI) the command runs in a child
    process that has given up root's right to ignore permissions."""
    import subprocess
    import sys

    (tmp_path / "ro").mkdir(mode=0o555)
    out = str(tmp_path / "ro" / "run")
    args = ["train", "toy-gaussian", "--steps", "2", "--quiet", "--device", "cpu", "--out", out]
    if os.geteuid() != 0:
        one_line_error(CliRunner().invoke(main, args), "not writable", "choose another --out")
        return
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=drop_write_override,
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and "not writable" in lines[0] and "choose another --out" in lines[0]
    assert list((tmp_path / "ro").iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [["--name", "../escaped"], ["--name", "a/b"], ["--name", ".hidden"], ["--out", "outputs/runs/../../escaped"]],
)
def test_run_names_cannot_escape_outputs(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_line_error(cli("toy-gaussian", "--steps", "2", "--quiet", *args))
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "outputs").exists()


# -- security: nothing in a run is unpickled ------------------------------------------------------
class Planted:
    """A pickle payload: unpickling it calls os.mkdir(marker), so we can see whether it ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_planted_pickle_in_checkpoint_is_refused(run_copy, tmp_path):
    marker = tmp_path / "pwned"
    state = torch.load(run_copy / "checkpoint.pt", weights_only=True)
    torch.save({**state, "step": Planted(marker)}, run_copy / "checkpoint.pt")
    one_line_error(cli("--resume", str(run_copy)), "refused to load", "could run code")
    assert not marker.exists()
    torch.load(run_copy / "checkpoint.pt", weights_only=False)  # the payload is live: a plain load runs it
    assert marker.exists()


@pytest.mark.parametrize("damage", ["planted", "garbage"])
def test_gif_latent_walk_refuses_a_planted_or_damaged_checkpoint_in_one_line(damage, run_copy, tmp_path):
    """`ganviz gif` loads G through the same checkpoint loader as --resume."""
    marker = tmp_path / "pwned"
    ckpt = run_copy / "checkpoint.pt"
    if damage == "planted":
        torch.save({**torch.load(ckpt, weights_only=True), "g": Planted(marker)}, ckpt)
    else:
        ckpt.write_bytes(b"garbage")
    res = CliRunner().invoke(main, ["gif", str(run_copy), "--out", str(tmp_path / "gifs"), "--quiet"])
    needle = "refused to load" if damage == "planted" else "damaged checkpoint"
    one_line_error(res, "checkpoint.pt", needle, "the latent walk needs the trained generator")
    assert not marker.exists()


def test_planted_pickle_in_snapshot_and_fixed_is_refused(run_copy, tmp_path):
    marker = tmp_path / "pwned"
    run = Run.load(run_copy)
    snap = run_copy / "snapshots" / f"step_{run.steps[-1]:08d}.npz"
    np.savez(snap, fake=np.array([Planted(marker)], dtype=object))
    with pytest.raises(RunError, match="damaged"):
        run.snapshot("end")
    (run_copy / "fixed.npz").write_bytes(pickle.dumps(Planted(marker)))
    with pytest.raises(RunError, match="damaged"):
        run.fixed  # noqa: B018
    assert not marker.exists()
    np.load(snap, allow_pickle=True)["fake"]  # the payload is live: allow_pickle=True runs it
    assert marker.exists()
