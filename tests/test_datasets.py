"""Real loaders on tiny data written in each dataset's own on-disk format."""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import pytest
from datafiles import write_cifar_bin, write_cifar_py, write_jpegs, write_mnist

from gan_train.config import get_variant
from gan_train.datasets import DataError, box_muller, decode_image, load_dataset, load_digits, toy_rings


def cfg_for(variant: str, root, **kw):
    return replace(get_variant(variant), data_root=str(root), **kw)


def test_embedded_digits_are_real_mnist():
    x = load_digits()
    assert x.shape == (5000, 28, 28, 1) and x.dtype == np.uint8
    # real handwriting: mostly black background, bright strokes, centred mass
    assert 0.1 < (x > 128).mean() < 0.3
    assert x[:, :4].mean() < 2 and x[:, 10:18, 10:18].mean() > 60


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_torchvision_layout(tmp_path, gz):
    imgs = write_mnist(tmp_path, n=50, gz=gz)
    data = load_dataset(cfg_for("vanilla-mnist", tmp_path), cache_dir=None)
    assert data.array.shape == (50, 28, 28, 1)
    np.testing.assert_array_equal(data.array[..., 0], imgs)


def test_mnist_missing_names_the_path(tmp_path):
    with pytest.raises(DataError, match=r"MNIST/raw/train-images-idx3-ubyte.*download=true"):
        load_dataset(cfg_for("vanilla-mnist", tmp_path), cache_dir=None)


def test_cifar_python_batches(tmp_path):
    imgs = write_cifar_py(tmp_path)
    data = load_dataset(cfg_for("dcgan-cifar", tmp_path), cache_dir=None)
    assert data.array.shape == (40, 32, 32, 3)
    np.testing.assert_array_equal(data.array, imgs)


def test_cifar_binary_batches(tmp_path):
    imgs = write_cifar_bin(tmp_path)
    data = load_dataset(cfg_for("dcgan-cifar", tmp_path), cache_dir=None)
    np.testing.assert_array_equal(data.array, imgs)


def test_cifar_refuses_a_malicious_pickle(tmp_path):
    d = tmp_path / "cifar-10-batches-py"
    d.mkdir()
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (d / "data_batch_1").write_bytes(pickle.dumps({b"data": Evil()}))
    with pytest.raises(DataError, match="not a CIFAR-10 python batch"):
        load_dataset(cfg_for("dcgan-cifar", tmp_path), cache_dir=None)
    assert not marker.exists()


@pytest.mark.parametrize("layout", ["celeba/img_align_celeba", "img_align_celeba", "."])
def test_celeba_layouts(tmp_path, layout):
    write_jpegs(tmp_path / layout, n=6)
    data = load_dataset(cfg_for("dcgan-celeba", tmp_path, image_size=32), cache_dir=None)
    assert data.array.shape == (6, 32, 32, 3)


def test_celeba_missing_says_where_it_looked(tmp_path):
    with pytest.raises(DataError, match=r"celeba/img_align_celeba.*unzip"):
        load_dataset(cfg_for("dcgan-celeba", tmp_path), cache_dir=None)


def test_image_folder_recursive_with_cache(tmp_path):
    write_jpegs(tmp_path / "imgs" / "a", n=4, size=(80, 60))
    write_jpegs(tmp_path / "imgs" / "b", n=3, size=(60, 80), ext=".png")
    cfg = cfg_for("dcgan-celeba", tmp_path / "imgs", dataset="folder", image_size=16)
    first = load_dataset(cfg, cache_dir=tmp_path / "cache")
    assert first.array.shape == (7, 16, 16, 3)
    cached = list((tmp_path / "cache").glob("folder-16px-*.npy"))
    assert len(cached) == 1
    second = load_dataset(cfg, cache_dir=tmp_path / "cache")
    assert "cached" in second.source
    np.testing.assert_array_equal(np.asarray(second.array), first.array)


def test_folder_skips_and_counts_corrupt_images(tmp_path):
    write_jpegs(tmp_path / "imgs", n=3, size=(40, 40))
    (tmp_path / "imgs" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    cfg = cfg_for("dcgan-celeba", tmp_path / "imgs", dataset="folder", image_size=16)
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        data = load_dataset(cfg, cache_dir=None)
    assert data.skipped == 1 and len(data.array) == 3


def test_decode_resizes_shorter_side_and_centre_crops(tmp_path):
    (p,) = write_jpegs(tmp_path, n=1, size=(178, 218))
    img = decode_image(p, 64, 3)
    assert img.shape == (64, 64, 3)
    # the red channel ramps left to right across the crop
    assert img[:, -1, 0].mean() > img[:, 0, 0].mean() + 100


def test_box_muller_is_standard_normal():
    z = box_muller(np.random.default_rng(0), 200_000)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert abs((np.abs(z) < 1).mean() - 0.6827) < 0.005


def test_rings_are_two_offset_semicircles():
    p = toy_rings(20_000, np.random.default_rng(0))
    left, right = p[p[:, 0] < 0], p[p[:, 0] > 0]
    # left half is centred at y=+10, right half at y=-10, both radius ~10
    assert abs(left[:, 1].mean() - 10) < 0.5 and abs(right[:, 1].mean() + 10) < 0.5
    r_left = np.hypot(left[:, 0], left[:, 1] - 10)
    assert abs(r_left.mean() - 10) < 0.1 and abs(r_left.std() - 1) < 0.1
