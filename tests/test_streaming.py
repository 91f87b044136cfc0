"""Datasets bigger than memory: a run whose data does not fit its budget streams batches from the memory-mapped
cache and draws exactly what the in-memory path draws; the cache is decoded straight into its file."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_errors import one_line_error
from click.testing import CliRunner
from datafiles import blobs, write_jpegs

import gan_train.train as train_module
from gan_train.batches import (
    IN_MEMORY,
    STREAMED,
    Batches,
    DataPath,
    StreamedBatches,
    dataset_on_device,
    free_memory,
)
from gan_train.config import ConfigError, apply_overrides, get_variant, memory_size
from gan_train.datasets import decode_folder, decode_image, decode_into_cache, list_images, load_dataset
from gan_train.distributed import Ranks
from gan_train.train import train
from pipeline.cli import main
from pipeline.run import Run

#: 24 images of 16 px, batch 8: 3 steps per epoch, so 7 steps cross two epoch boundaries.
FOLDER_RUN = {"dataset": "folder", "image_size": 16, "batch_size": 8, "steps": 7, "ngf": 8, "ndf": 8}
FOLDER_RUN |= {"n_fixed": 8, "log_every": 2, "snapshot_every": 4, "eval_every": -1, "device": "cpu"}
COLUMNS = ("loss_d", "loss_g", "d_real", "d_fake", "d_fake_after", "grad_norm_g", "grad_norm_d")


def batch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "batches" and t.is_alive()]


def saved_memmap(tmp_path: Path, arr: np.ndarray) -> np.ndarray:
    np.save(tmp_path / "set.npy", arr)
    return np.load(tmp_path / "set.npy", mmap_mode="r")


# -- the two paths draw the same batches -------------------------------------------------------------------
#: CUDA adds the pinned-memory ring and the non_blocking copies (tests/test_features.py does the same).
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("ranks", [Ranks(), Ranks(1, 2, 1)], ids=["one-process", "rank-1-of-2"])
def test_streamed_batches_equal_in_memory_batches_across_epochs(tmp_path, ranks, device):
    """Images (uint8) from a memory-mapped file: steps 1-8 of 3 per epoch, then a jump back (a resume)."""
    arr, dev = blobs(20, 8, 3), torch.device(device)
    in_memory = Batches(dataset_on_device(arr, dev), 6, seed=3, image=True, ranks=ranks)
    streamed = StreamedBatches(saved_memmap(tmp_path, arr), 6, 3, image=True, ranks=ranks, device=dev, prefetch=2)
    try:
        for step in [*range(1, 9), 2, 3]:
            a, b = in_memory(step), streamed(step)
            assert a.shape == (6 // ranks.world, 3, 8, 8) and b.is_contiguous(memory_format=torch.channels_last)
            assert b.device == a.device and torch.equal(a, b), step
        assert not torch.equal(streamed(4), in_memory(1))  # epoch 2 is another permutation
    finally:
        streamed.close()
    assert not batch_threads()


def test_streamed_toy_points_equal_in_memory_ones():
    arr = np.random.default_rng(0).standard_normal((50, 2)).astype(np.float32)
    in_memory, streamed = Batches(torch.from_numpy(arr), 16, 0, image=False), StreamedBatches(arr, 16, 0, image=False)
    try:
        for step in range(1, 8):
            assert torch.equal(in_memory(step), streamed(step)), step
    finally:
        streamed.close()


def test_a_gather_reads_rows_in_sorted_order_and_keeps_the_permutations_order(tmp_path):
    class Recording(np.ndarray):
        def __getitem__(self, idx):
            reads.append(np.asarray(idx).copy())
            return np.asarray(self).__getitem__(idx)

    reads: list[np.ndarray] = []
    arr = blobs(30, 4, 1)
    streamed = StreamedBatches(arr.view(Recording), 10, seed=1, image=False)
    rows = streamed.order.rows(2).numpy()
    got = streamed.gather(2)
    assert list(reads[-1]) == sorted(rows) and list(rows) != sorted(rows)
    np.testing.assert_array_equal(got, arr[rows])


# -- whole runs --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("imgs")
    write_jpegs(root, n=24, size=(40, 40))
    return root


def folder_run(out: Path, folder: Path, data_memory: str, stop_after: int | None = None) -> Path:
    cfg = apply_overrides(get_variant("dcgan-celeba"), {**FOLDER_RUN, "data_root": str(folder)})
    return train(apply_overrides(cfg, {"data_memory": data_memory}), out=out, progress=False, stop_after=stop_after)


@pytest.fixture(scope="module")
def streamed_run(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Under a 1 KB budget: the 18 KB set streams."""
    return folder_run(tmp_path_factory.mktemp("runs") / "streamed", folder, "1K")


def test_a_run_under_a_tiny_budget_streams_and_trains_as_in_memory(streamed_run, folder, tmp_path):
    in_memory = folder_run(tmp_path / "in-memory", folder, "1G")
    a, b = Run.load(in_memory), Run.load(streamed_run)
    assert a.info["data"] == {"path": IN_MEMORY, "bytes": 24 * 16 * 16 * 3, "budget": 1 << 30}
    assert b.info["data"] == {"path": STREAMED, "bytes": 24 * 16 * 16 * 3, "budget": 1024}
    assert list(b.metrics["step"]) == list(range(1, 8))
    for col in COLUMNS:
        np.testing.assert_array_equal(b.metrics[col], a.metrics[col], err_msg=col)
    np.testing.assert_array_equal(b.snapshot("end").fake, a.snapshot("end").fake)
    assert not batch_threads()


def test_a_streamed_run_resumed_equals_an_uninterrupted_one(streamed_run, folder, tmp_path, capsys):
    part = folder_run(tmp_path / "part", folder, "1K", stop_after=4)  # mid-way through the second epoch
    assert Run.load(part).metrics["step"][-1] == 4
    capsys.readouterr()
    train(None, resume=part, progress=True)  # type: ignore[arg-type]
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("data:")]
    assert said == ["data: streamed from the memory-mapped cache (18.0 KB > 1.0 KB budget, --set data_memory)"]
    a, b = Run.load(streamed_run), Run.load(part)
    assert list(b.metrics["step"]) == list(range(1, 8)) and b.info["status"] == "finished"
    assert b.info["data"]["path"] == STREAMED
    for col in COLUMNS:
        np.testing.assert_allclose(b.metrics[col], a.metrics[col], rtol=1e-5, err_msg=col)
    np.testing.assert_array_equal(b.snapshot("end").fake, a.snapshot("end").fake)


def test_an_interrupted_streamed_run_leaves_no_thread(folder, tmp_path, monkeypatch):
    steps = []

    def interrupt(t, real, z, update_d):
        steps.append(1)
        if len(steps) == 3:
            raise KeyboardInterrupt
        return real_step(t, real, z, update_d)

    real_step = train_module.train_step
    monkeypatch.setattr(train_module, "train_step", interrupt)
    with pytest.raises(KeyboardInterrupt):
        folder_run(tmp_path / "run", folder, "1K")
    assert not batch_threads()


def test_an_error_in_the_streaming_thread_reaches_the_loop(tmp_path):
    class Unreadable(np.ndarray):
        def __getitem__(self, idx):
            raise OSError(errno.EIO, "Input/output error")

    streamed = StreamedBatches(blobs(8, 4, 1).view(Unreadable), 4, seed=0, image=True)
    with pytest.raises(OSError, match="Input/output error"):
        streamed(1)
    streamed.close()
    assert not batch_threads()


# -- the budget --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("auto", None),
        ("512M", 512 << 20),
        ("4G", 4 << 30),
        ("1.5GB", 3 << 29),
        ("2GiB", 2 << 30),
        ("1000", 1000),
        ("0", 0),
        ("64k", 64 << 10),
    ],
)
def test_memory_sizes(text, size):
    assert memory_size(text) == size


@pytest.mark.parametrize("text", ["lots", "", "-1G", "4X", "G", "1e3", "inf"])
def test_a_bad_budget_is_one_line_naming_the_option(text):
    with pytest.raises(ConfigError, match=rf"^--set data_memory={text}: expected 'auto' or a size such as 512M"):
        apply_overrides(get_variant("toy-gaussian"), {"data_memory": text})


def test_a_bad_budget_on_the_command_line_is_one_line():
    res = CliRunner().invoke(main, ["train", "toy-gaussian", "--set", "data_memory=4 gigs", "--device", "cpu"])
    one_line_error(res, "--set data_memory=4 gigs", "expected 'auto' or a size such as 512M")


def test_the_path_follows_the_budget_and_cpu_processes_each_hold_a_copy():
    arr = np.zeros((10, 10), np.uint8)  # 100 bytes
    cpu = torch.device("cpu")
    assert DataPath.choose(arr, cpu, "100").path == IN_MEMORY
    assert DataPath.choose(arr, cpu, "99").path == STREAMED
    assert DataPath.choose(arr, cpu, "150", Ranks(0, 2, 0)).path == STREAMED  # two copies of 100 bytes
    assert "streamed" in DataPath.choose(arr, cpu, "99").line()


def test_free_memory_reads_meminfo(tmp_path):
    (tmp_path / "meminfo").write_text("MemTotal:       16000000 kB\nMemFree: 100 kB\nMemAvailable:    8000000 kB\n")
    assert free_memory(torch.device("cpu"), tmp_path / "meminfo") == 8_000_000 * 1024
    assert free_memory(torch.device("cpu"), tmp_path / "missing") == 0


# -- decoding into the cache -------------------------------------------------------------------------------
def test_decoding_into_the_cache_equals_decoding_each_file(tmp_path):
    """Two unreadable files (the first and one in the middle) are left out; the rows are the readable files'
    images in order, in a valid .npy renamed into place (no temp file left), memory-mapped read-only."""
    files = write_jpegs(tmp_path / "imgs", n=7, size=(50, 36))
    for f in (files[0], files[4]):
        f.write_bytes(b"not an image")
    files = list_images(tmp_path / "imgs")
    expected = np.stack([decode_image(f, 16, 3) for f in files if f not in (files[0], files[4])])
    cache = tmp_path / "cache" / "set.npy"
    arr, skipped = decode_into_cache(cache, files, 16, 3)
    assert skipped == 2 and isinstance(arr, np.memmap) and not arr.flags.writeable
    np.testing.assert_array_equal(arr, expected)
    np.testing.assert_array_equal(np.load(cache), expected)  # header and length cut to the 5 rows
    assert [p.name for p in cache.parent.iterdir()] == ["set.npy"]
    in_ram, skipped_in_ram = decode_folder(files, 16, 3)
    np.testing.assert_array_equal(in_ram, expected)
    assert skipped_in_ram == 2


def test_decoding_writes_into_the_array_it_is_given(tmp_path):
    files = write_jpegs(tmp_path / "imgs", n=3, size=(20, 20))
    out = np.zeros((3, 8, 8, 3), np.uint8)
    arr, _ = decode_folder(files, 8, 3, out=out)
    assert np.shares_memory(arr, out) and out.any()


def test_a_cache_that_cannot_be_written_decodes_into_ram(tmp_path, monkeypatch):
    write_jpegs(tmp_path / "imgs", n=4, size=(20, 20))
    cfg = apply_overrides(get_variant("dcgan-celeba"), {"dataset": "folder", "data_root": str(tmp_path / "imgs")})

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", disk_full)  # the cache file's blocks are reserved before writing
    with pytest.warns(UserWarning, match="dataset cache not written.*disk full"):
        data = load_dataset(apply_overrides(cfg, {"image_size": 16}), cache_dir=tmp_path / "cache")
    assert data.array.shape == (4, 16, 16, 3) and not list((tmp_path / "cache").iterdir())
