"""Tiny datasets written in the real on-disk formats (never downloaded)."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
from PIL import Image


def blobs(n: int, size: int, channels: int, seed: int = 0) -> np.ndarray:
    """uint8 (n,size,size,channels) images with a bright square at a random place: easy to check."""
    rng = np.random.default_rng(seed)
    out = rng.integers(0, 40, (n, size, size, channels), dtype=np.uint8)
    for img in out:
        y, x = rng.integers(0, size // 2, 2)
        img[y : y + size // 3, x : x + size // 3] = 230
    return out


def write_idx_images(path: Path, images: np.ndarray, gz: bool = False) -> Path:
    n, h, w = images.shape
    raw = struct.pack(">BBBB", 0, 0, 0x08, 3) + struct.pack(">III", n, h, w) + images.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)
    return path


def write_mnist(root: Path, n: int = 64, gz: bool = False) -> np.ndarray:
    """torchvision layout: root/MNIST/raw/train-images-idx3-ubyte[.gz]."""
    imgs = blobs(n, 28, 1)[..., 0]
    write_idx_images(root / "MNIST" / "raw" / "train-images-idx3-ubyte", imgs, gz)
    return imgs


def write_cifar_py(root: Path, n_per_batch: int = 20, batches: int = 2) -> np.ndarray:
    """root/cifar-10-batches-py/data_batch_K: pickled dicts with a (N, 3072) uint8 'data' array, CHW rows."""
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True, exist_ok=True)
    all_imgs = []
    for k in range(1, batches + 1):
        imgs = blobs(n_per_batch, 32, 3, seed=k)
        rows = imgs.transpose(0, 3, 1, 2).reshape(n_per_batch, -1)
        with open(d / f"data_batch_{k}", "wb") as f:
            pickle.dump({b"batch_label": b"batch", b"labels": [0] * n_per_batch, b"data": rows}, f, protocol=2)
        all_imgs.append(imgs)
    return np.concatenate(all_imgs)


def write_cifar_bin(root: Path, n_per_batch: int = 20, batches: int = 1) -> np.ndarray:
    """root/cifar-10-batches-bin/data_batch_K.bin: records of 1 label byte + 3072 CHW bytes."""
    d = root / "cifar-10-batches-bin"
    d.mkdir(parents=True, exist_ok=True)
    all_imgs = []
    for k in range(1, batches + 1):
        imgs = blobs(n_per_batch, 32, 3, seed=10 + k)
        chw = imgs.transpose(0, 3, 1, 2).reshape(n_per_batch, -1)
        rec = np.concatenate([np.zeros((n_per_batch, 1), np.uint8), chw], 1)
        (d / f"data_batch_{k}.bin").write_bytes(rec.tobytes())
        all_imgs.append(imgs)
    return np.concatenate(all_imgs)


def write_jpegs(folder: Path, n: int = 24, size: tuple[int, int] = (178, 218), ext: str = ".jpg") -> list[Path]:
    """Face-crop-sized colour JPEGs named like CelebA's (000001.jpg, ...)."""
    folder.mkdir(parents=True, exist_ok=True)
    w, h = size
    rng = np.random.default_rng(1)
    paths = []
    for i in range(n):
        arr = np.zeros((h, w, 3), np.uint8)
        arr[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
        arr[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
        arr[..., 2] = rng.integers(0, 255)
        p = folder / f"{i + 1:06d}{ext}"
        Image.fromarray(arr).save(p, quality=90)
        paths.append(p)
    return paths
