"""Named feature spaces for the image measures: uint8 (N,H,W,C) batches, the run format's layout, in; (N, F)
features on the device out (gan_train.measures compares them).

- ``digits``: a small CNN trained once on the embedded MNIST digits (4,000 of them; 100 per digit held out) and
  cached under the dataset cache folder. Its penultimate layer gives 128 features, its logits the digit G drew.
  Runs at 32 or 64 px are resized to its 28.
- ``inception``: the standard FID network (pytorch-fid's port of TensorFlow's Inception v3; 2,048 features).
  Optional: ``pip install 'ganviz[inception]'``; its weights are fetched once into torch's hub cache.

``get_space(name, device)`` builds one; ``SPACES`` is the registry.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlparse

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_train.datasets import default_cache_dir, load_digits_with_labels
from ganviz.errors import GanvizError, first_line
from ganviz.writer import atomic_write_with


class FeatureError(GanvizError):
    """A feature space that is unknown, cannot be built (package or weights missing) or gets unusable images."""


@dataclass
class FeatureSpace:
    """A network from images to features (and, where it has a ``head``, to class logits), in eval mode on a device.

    ``net`` takes float (B, channels, size, size) images in [0, 1]; ``size`` None leaves the size to the network.
    Grey images are repeated to RGB and RGB images averaged to grey as ``channels`` asks.
    """

    name: str
    net: nn.Module
    device: torch.device
    size: int | None
    channels: int
    head: nn.Module | None = None
    batch_size: int = 256

    def __post_init__(self) -> None:
        for m in (self.net, self.head):
            if m is not None:
                m.to(self.device).eval().requires_grad_(False)

    def _prepare(self, images: Tensor) -> Tensor:
        x = images.to(self.device).permute(0, 3, 1, 2).float() / 255.0
        if x.shape[1] != self.channels:
            x = x.mean(1, keepdim=True) if self.channels == 1 else x.expand(-1, self.channels, -1, -1)
        if self.size is not None and x.shape[-2:] != (self.size, self.size):
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", antialias=True, align_corners=False)
        return x

    def _batches(self, images: np.ndarray | Tensor) -> list[Tensor]:
        t = torch.as_tensor(images)
        if t.dtype != torch.uint8 or t.ndim != 4 or t.shape[-1] not in (1, 3) or len(t) == 0:
            raise FeatureError(
                f"feature space '{self.name}': expected uint8 images (N,H,W,C) with C 1 or 3, "
                f"got {t.dtype} {tuple(t.shape)}"
            )
        return list(torch.split(t, self.batch_size))

    @torch.no_grad()
    def features(self, images: np.ndarray | Tensor) -> Tensor:
        """float32 (N, F) features on the device, a batch of ``batch_size`` images at a time."""
        return torch.cat([self.net(self._prepare(b)).float() for b in self._batches(images)])

    @torch.no_grad()
    def classes(self, images: np.ndarray | Tensor) -> Tensor:
        """int64 (N,) most likely class per image (spaces with a classifier head only)."""
        if self.head is None:
            raise FeatureError(f"feature space '{self.name}' has no classes")
        return torch.cat([self.head(self.net(self._prepare(b))).argmax(1) for b in self._batches(images)])

    @torch.no_grad()
    def class_probabilities(self, features: Tensor) -> Tensor:
        """float64 (N, classes) softmax probabilities from ``features`` this space computed (classifier head only):
        their argmax is ``classes`` of the same images."""
        if self.head is None:
            raise FeatureError(f"feature space '{self.name}' has no classes")
        return torch.softmax(self.head(features.to(self.device).float()).double(), 1)


# -- digits: a classifier trained on the embedded MNIST digits ---------------------------------------------------
HELD_OUT_PER_DIGIT = 100  # the last 100 of each digit in the file (it is sorted by label) are never trained on
DIGITS_CACHE_FORMAT = "ganviz digits classifier 1"  # bump when DigitsNet changes: old caches are then retrained


def _conv(c_in: int, c_out: int, kernel: int, stride: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


class DigitsNet(nn.Module):
    """Three conv layers (28 -> 14 -> 7 px by stride, cheap on a CPU) and a 128-unit hidden layer: ``body``, the
    features; ``head``: the 10 digit logits."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *_conv(1, 32, 5, 2),
            *_conv(32, 64, 3, 2),
            *_conv(64, 64, 3, 1),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 128),
            nn.ReLU(),
        )
        self.head = nn.Linear(128, 10)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


@dataclass(frozen=True)
class DigitsRecipe:
    """How the digits classifier is trained. The cache is keyed by it: a file from another recipe is never used."""

    epochs: int = 15
    batch_size: int = 128
    lr: float = 3e-3  # peak of a one-cycle schedule (Adam)
    seed: int = 0

    def key(self) -> str:
        return hashlib.sha1(json.dumps([DIGITS_CACHE_FORMAT, asdict(self)]).encode()).hexdigest()[:12]


@dataclass
class DigitsClassifier:
    """The trained network (CPU), its accuracy on the held-out digits and how long training took (seconds)."""

    net: DigitsNet
    held_out_accuracy: float
    train_seconds: float
    from_cache: bool


def digits_split() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(train images, train labels, held-out images, held-out labels): float (N,1,28,28) in [0, 1], int64 (N,)."""
    images, labels = load_digits_with_labels()
    held = np.zeros(len(labels), bool)
    for digit in range(10):
        held[np.flatnonzero(labels == digit)[-HELD_OUT_PER_DIGIT:]] = True
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    y = torch.from_numpy(labels)
    return x[~held], y[~held], x[held], y[held]


def _jitter(x: Tensor, g: torch.Generator) -> Tensor:
    """Small random rotations (±8.6°), scalings (±10 %) and shifts (±2 px) per image: 4,000 digits go further."""
    n = len(x)
    angle, scale = (torch.rand(n, generator=g) * 2 - 1) * 0.15, 1 + (torch.rand(n, generator=g) * 2 - 1) * 0.1
    shift = (torch.rand(n, 2, generator=g) * 2 - 1) * 0.15
    cos, sin = scale * angle.cos(), scale * angle.sin()
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    return F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), align_corners=False)


def train_digits_classifier(recipe: DigitsRecipe = DigitsRecipe()) -> DigitsClassifier:
    """Train DigitsNet on the CPU from the recipe's seed (same seed, machine and torch thread count: same weights),
    leaving the caller's global random state as it was (a training run that evaluates G stays reproducible)."""
    start = time.perf_counter()
    x, y, x_held, y_held = digits_split()
    g = torch.Generator().manual_seed(recipe.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        net = DigitsNet()
    steps_per_epoch = len(x) // recipe.batch_size
    opt = torch.optim.Adam(net.parameters(), recipe.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, recipe.lr, total_steps=recipe.epochs * steps_per_epoch)
    net.train()
    for _ in range(recipe.epochs):
        order = torch.randperm(len(x), generator=g)
        for s in range(steps_per_epoch):
            batch = order[s * recipe.batch_size : (s + 1) * recipe.batch_size]
            loss = F.cross_entropy(net(_jitter(x[batch], g)), y[batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
    net.eval()
    with torch.no_grad():
        accuracy = float((net(x_held).argmax(1) == y_held).double().mean())
    return DigitsClassifier(net, accuracy, time.perf_counter() - start, from_cache=False)


def _read_digits_cache(path: Path, recipe: DigitsRecipe) -> DigitsClassifier | None:
    """The cached classifier, or None when the file is missing, damaged, foreign or from another recipe."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)  # a planted pickle is refused, never run
        if saved["format"] != DIGITS_CACHE_FORMAT or saved["recipe"] != asdict(recipe):
            return None
        net = DigitsNet()
        net.load_state_dict(saved["state"])
        return DigitsClassifier(net.eval(), float(saved["held_out_accuracy"]), float(saved["train_seconds"]), True)
    except Exception:  # torch reports a damaged or foreign file in many ways; every one means "train again"
        return None


def digits_classifier(recipe: DigitsRecipe = DigitsRecipe(), cache_dir: Path | None = None) -> DigitsClassifier:
    """The digits classifier from ``cache_dir`` (default: the dataset cache folder), trained and cached if missing.

    A damaged or foreign cache file is retrained (with a warning) and replaced, atomically.
    """
    path = Path(cache_dir if cache_dir is not None else default_cache_dir()) / f"digits-classifier-{recipe.key()}.pt"
    cached = _read_digits_cache(path, recipe)
    if cached is not None:
        return cached
    if path.exists():
        warnings.warn(f"{path}: not a usable digits classifier (damaged or foreign); training it again", stacklevel=2)
    trained = train_digits_classifier(recipe)
    saved = {
        "format": DIGITS_CACHE_FORMAT,
        "recipe": asdict(recipe),
        "state": trained.net.state_dict(),
        "held_out_accuracy": trained.held_out_accuracy,
        "train_seconds": trained.train_seconds,
    }
    try:
        atomic_write_with(path, lambda f: torch.save(saved, f))
    except GanvizError as e:  # the cache only saves time
        warnings.warn(f"digits classifier not cached ({e})", stacklevel=2)
    return trained


def digits_space(
    device: torch.device, recipe: DigitsRecipe = DigitsRecipe(), cache_dir: Path | None = None
) -> FeatureSpace:
    clf = digits_classifier(recipe, cache_dir)
    return FeatureSpace("digits", clf.net.body, device, size=28, channels=1, head=clf.net.head, batch_size=500)


# -- inception: the FID network, through pytorch-fid ------------------------------------------------------------
def inception_weights_path(url: str) -> Path:
    """Where torch's hub cache keeps the weights at ``url`` ($TORCH_HOME/hub/checkpoints/<file name>)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name


def _fetch_inception_weights(url: str) -> Path:
    """The weight file, downloaded once; a failed download leaves no file and no folder it made behind."""
    path = inception_weights_path(url)
    if path.is_file():
        return path
    made = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if sys.stderr.isatty():
            print(f"downloading the FID Inception weights (~92 MB) into {path} ...", file=sys.stderr, flush=True)
        torch.hub.download_url_to_file(url, str(path), progress=sys.stderr.isatty())  # via a .partial file
    except Exception as e:
        for p in made:  # innermost first; only folders this call made, and only while empty
            with contextlib.suppress(OSError):
                p.rmdir()
        raise FeatureError(
            f"feature space 'inception': could not download its weights ({first_line(e)}); "
            f"download {url} and save it as {path}"
        ) from None
    return path


class _PooledInception(nn.Module):
    """pytorch-fid's InceptionV3 returns a list of (B, 2048, 1, 1) blocks; the features are the pooled (B, 2048)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)[0].flatten(1)


#: pytorch-fid's FID_WEIGHTS_URL (tests/test_features.py checks they agree): read here without importing pytorch-fid,
#: which imports torchvision's models (~0.3 s of every image run's start-up that has no weights to use)
FID_WEIGHTS_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth"
)


def inception_available() -> bool:
    """Whether the inception space can be built without downloading: pytorch-fid installed, its weights on disk."""
    return importlib.util.find_spec("pytorch_fid") is not None and inception_weights_path(FID_WEIGHTS_URL).is_file()


def inception_space(device: torch.device) -> FeatureSpace:
    try:
        from pytorch_fid import inception as fid
    except ImportError:
        raise FeatureError(
            "feature space 'inception' needs pytorch-fid: pip install 'ganviz[inception]' (or pip install pytorch-fid)"
        ) from None
    path = _fetch_inception_weights(fid.FID_WEIGHTS_URL)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)  # tensors only, unlike torch.hub's loader
        # pytorch-fid builds its network and loads the weights through torch.hub; hand it the ones loaded above
        with mock.patch.object(fid, "load_state_dict_from_url", lambda *args, **kwargs: state):
            net = fid.InceptionV3([fid.InceptionV3.BLOCK_INDEX_BY_DIM[2048]], resize_input=True, normalize_input=True)
    except Exception as e:
        raise FeatureError(
            f"{path}: not the FID Inception weights ({first_line(e)}); delete it to download it "
            f"again, or replace it with {fid.FID_WEIGHTS_URL}"
        ) from None
    return FeatureSpace("inception", _PooledInception(net), device, size=None, channels=3, batch_size=64)


SPACES: dict[str, Callable[..., FeatureSpace]] = {"digits": digits_space, "inception": inception_space}


def get_space(name: str, device: torch.device | str = "cpu", **options: Any) -> FeatureSpace:
    """The feature space ``name`` on ``device``; ``options`` go to its builder (digits: ``recipe``, ``cache_dir``)."""
    build = SPACES.get(name)
    if build is None:
        raise FeatureError(f"unknown feature space '{name}'; choose from: {', '.join(SPACES)}")
    return build(torch.device(device), **options)
