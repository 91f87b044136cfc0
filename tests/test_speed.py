"""The fast paths give the same answers as the plain ones: cached data, resume, channels_last, compile, bf16."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import torch
from conftest import make_run
from datafiles import write_jpegs

import gan_train.datasets as datasets
from gan_train.config import apply_overrides, get_variant
from gan_train.datasets import decode_image, list_images, load_dataset
from gan_train.train import train
from gan_train.trainer import Batches
from pipeline.run import Run

TINY_IMAGE = {"steps": 6, "batch_size": 8, "ngf": 8, "ndf": 8, "n_fixed": 8, "log_every": 2}


def test_cached_dataset_equals_decoded_images(tmp_path, monkeypatch):
    files = write_jpegs(tmp_path / "imgs", n=6, size=(90, 70))
    cfg = apply_overrides(
        get_variant("dcgan-celeba"), {"dataset": "folder", "data_root": str(tmp_path / "imgs"), "image_size": 32}
    )
    decoded = np.stack([decode_image(f, 32, 3) for f in list_images(tmp_path / "imgs")])
    first = load_dataset(cfg, cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(first.array, decoded)

    # later loads read the memory-mapped cache and decode nothing
    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded a JPEG although the cache exists")

    monkeypatch.setattr(datasets, "decode_image", no_decoding)
    second = load_dataset(cfg, cache_dir=tmp_path / "cache")
    assert isinstance(second.array, np.memmap) and "(cached:" in second.source
    np.testing.assert_array_equal(np.asarray(second.array), decoded)
    monkeypatch.undo()

    # keyed by size, and by the files: another size or a changed file is decoded again
    load_dataset(apply_overrides(cfg, {"image_size": 16}), cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("folder-*.npy"))) == 2
    shutil.copy(files[1], files[0])
    os.utime(files[0], ns=(1, 1))
    third = load_dataset(cfg, cache_dir=tmp_path / "cache")
    assert "(cached:" not in third.source
    np.testing.assert_array_equal(third.array[0], third.array[1])


def test_one_epoch_of_batches_is_the_cached_set_normalised():
    """Batches built on the device hold every cached image once per epoch, scaled to [-1, 1]."""
    data = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (12, 4, 4, 3), dtype=np.uint8))
    batches = Batches(data, 4, seed=1, image=True)
    epoch = torch.cat([batches(s) for s in (1, 2, 3)])
    assert epoch.shape == (12, 3, 4, 4) and epoch.is_contiguous(memory_format=torch.channels_last)
    back = ((epoch + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1)
    as_rows = sorted(map(bytes, back.reshape(12, -1).numpy()))
    assert as_rows == sorted(map(bytes, data.reshape(12, -1).numpy()))
    assert not torch.equal(batches(4), batches(1))  # epoch 2 is another permutation


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    opts = {**TINY_IMAGE, "steps": 8, "snapshot_every": 4, "device": "cpu"}
    full = make_run(tmp_path / "full", "dcgan-digits", **opts)
    cfg = apply_overrides(get_variant("dcgan-digits"), opts)
    part = train(cfg, out=tmp_path / "part", progress=False, stop_after=4)
    assert Run.load(part).metrics["step"][-1] == 4
    train(None, resume=part, progress=False)  # type: ignore[arg-type]
    a, b = Run.load(full), Run.load(part)
    assert list(b.metrics["step"]) == list(range(1, 9)) and b.info["status"] == "finished"
    for col in ("loss_d", "loss_g", "d_real", "grad_norm_g"):
        np.testing.assert_allclose(b.metrics[col], a.metrics[col], rtol=1e-5, err_msg=col)
    np.testing.assert_array_equal(b.snapshot("end").fake, a.snapshot("end").fake)


def losses(path) -> np.ndarray:
    m = Run.load(path).metrics
    return np.stack([m["loss_d"], m["loss_g"]])


def test_channels_last_and_nchw_give_the_same_losses(tmp_path):
    cl = make_run(tmp_path / "cl", "dcgan-digits", channels_last=True, **TINY_IMAGE)
    nchw = make_run(tmp_path / "nchw", "dcgan-digits", channels_last=False, **TINY_IMAGE)
    np.testing.assert_allclose(losses(cl), losses(nchw), rtol=1e-4, atol=1e-5)


def test_bf16_autocast_stays_close_to_fp32(tmp_path):
    """Step 1 only: both start from the same weights and batch, so they differ by bf16 rounding alone (later steps
    train on different weights, and how far those drift apart depends on the CPU's kernels)."""
    opts = {**TINY_IMAGE, "steps": 1, "log_every": 1}
    fp32 = make_run(tmp_path / "fp32", "dcgan-digits", amp="off", **opts)
    bf16 = make_run(tmp_path / "bf16", "dcgan-digits", amp="bf16", **opts)
    np.testing.assert_allclose(losses(bf16), losses(fp32), rtol=0.05, atol=0.02)
    assert not np.array_equal(losses(bf16), losses(fp32))  # autocast really ran in bf16


def test_compiled_and_eager_give_the_same_losses(tmp_path, monkeypatch):
    """--compile goes through torch.compile (dynamo + AOT autograd). The suite uses the aot_eager backend:
    inductor's C++ build takes minutes on a loaded 2-core machine; the benchmark's --compile runs inductor."""
    real_compile = torch.compile
    calls = []

    def compile_aot_eager(model, **kwargs):
        calls.append(model)
        return real_compile(model, backend="aot_eager")

    monkeypatch.setattr(torch, "compile", compile_aot_eager)
    opts = {**TINY_IMAGE, "steps": 4, "log_every": 4}
    eager = make_run(tmp_path / "eager", "toy-quadratic", compile=False, **opts)
    compiled = make_run(tmp_path / "compiled", "toy-quadratic", compile=True, **opts)
    assert len(calls) == 2  # G and D
    np.testing.assert_allclose(losses(compiled), losses(eager), rtol=1e-4, atol=1e-5)


def test_a_folder_with_an_unreadable_image_is_cached_with_its_count(tmp_path, monkeypatch):
    """One bad file among good ones: decoded once, cached with the count, and the count still reported later."""
    files = write_jpegs(tmp_path / "imgs", n=5, size=(40, 40))
    files[1].write_bytes(b"not an image")
    cfg = apply_overrides(
        get_variant("dcgan-celeba"), {"dataset": "folder", "data_root": str(tmp_path / "imgs"), "image_size": 16}
    )
    with pytest.warns(UserWarning, match="skipped 1 unreadable image file"):
        first = load_dataset(cfg, cache_dir=tmp_path / "cache")
    assert first.skipped == 1 and len(first.array) == 4

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded an image although the cache exists")

    monkeypatch.setattr(datasets, "decode_image", no_decoding)
    with pytest.warns(UserWarning, match="skipped 1 unreadable image file"):
        second = load_dataset(cfg, cache_dir=tmp_path / "cache")
    assert "(cached:" in second.source and second.skipped == 1
    np.testing.assert_array_equal(np.asarray(second.array), first.array)


def test_cache_key_is_each_files_real_path_size_and_mtime(tmp_path):
    """The key takes one lstat per file yet equals hashing f.resolve() and f.stat() one by one (the key caches
    were written under), for a folder reached through a link and a file that is a link; touching a file, or
    pointing a link elsewhere, changes it."""
    import hashlib

    def per_file(files):
        h = hashlib.sha1(b"folder|32|3")
        for f in files:
            st = f.stat()
            h.update(f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        return h.hexdigest()[:16]

    real = write_jpegs(tmp_path / "real", n=3, size=(40, 40))
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "via").symlink_to(tmp_path / "real")  # a linked folder inside: rglob does not follow it
    shutil.copy(real[0], root / "sub" / "copy.jpg")
    (root / "sub" / "link.jpg").symlink_to(real[1])
    linked_root = tmp_path / "linked-root"
    linked_root.symlink_to(root)
    files = list_images(linked_root)
    assert [f.name for f in files] == ["copy.jpg", "link.jpg"]
    key = datasets._cache_key("folder", files, 32, 3)
    assert key == per_file(files)
    os.utime(root / "sub" / "copy.jpg", ns=(1, 1))
    assert datasets._cache_key("folder", files, 32, 3) == per_file(files) != key
    before = per_file(files)
    (root / "sub" / "link.jpg").unlink()
    (root / "sub" / "link.jpg").symlink_to(real[2])
    assert datasets._cache_key("folder", files, 32, 3) == per_file(files) != before
