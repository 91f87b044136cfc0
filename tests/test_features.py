"""Feature spaces: the API on a tiny stand-in network, the digits classifier with a one-epoch budget (what it
learns is the benchmark's business: benchmarks/measures.py), and the inception space without ever downloading.
"""

from __future__ import annotations

import email.message
import pickle
import subprocess
import sys
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from gan_train.datasets import load_digits
from gan_train.features import (
    SPACES,
    DigitsRecipe,
    FeatureError,
    FeatureSpace,
    digits_classifier,
    get_space,
    inception_weights_path,
)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
QUICK = DigitsRecipe(epochs=1, batch_size=512)  # one pass, 7 steps: trains in about a second


class ChannelMeans(nn.Module):
    """A stand-in network whose features are the mean of each input channel: they show what it was fed."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean((2, 3))


def tiny_space(device: torch.device, name: str = "tiny", channels: int = 3, head: bool = True) -> FeatureSpace:
    return FeatureSpace(
        name,
        ChannelMeans(),
        device,
        size=8,
        channels=channels,
        head=nn.Linear(channels, 2) if head else None,
        batch_size=3,
    )


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SPACES, "tiny", tiny_space)
    monkeypatch.setitem(SPACES, "tiny-grey", lambda device: tiny_space(device, "tiny-grey", 1, head=False))


def images(n: int, size: int = 28, channels: int = 1, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, channels), dtype=np.uint8)


@pytest.mark.parametrize("device", DEVICES)
def test_a_space_plugged_into_the_registry_works_through_the_same_api(tiny: None, device: str) -> None:
    space = get_space("tiny", device)
    grey = np.full((7, 28, 28, 1), 255, np.uint8)
    f = space.features(grey)  # 28 px grey to 8 px RGB, in batches of 3 (3 + 3 + 1)
    assert f.shape == (7, 3) and f.dtype == torch.float32 and f.device.type == device
    assert torch.allclose(f, torch.ones_like(f))
    red = np.zeros((2, 32, 32, 3), np.uint8)
    red[..., 0] = 255
    assert torch.allclose(get_space("tiny-grey", device).features(red), torch.full((2, 1), 1 / 3, device=device))
    c = space.classes(torch.from_numpy(images(5, channels=3)))
    assert c.shape == (5,) and c.dtype == torch.int64
    x = images(10, size=16, channels=3)
    assert torch.equal(space.features(x), space.features(x))  # eval mode, no randomness
    assert torch.allclose(space.features(x), torch.cat([space.features(x[:4]), space.features(x[4:])]))


def test_unknown_spaces_bad_images_and_missing_classes_are_one_line_errors(tiny: None) -> None:
    with pytest.raises(FeatureError, match=r"unknown feature space 'incepton'; choose from: digits, inception") as e:
        get_space("incepton")
    assert "\n" not in str(e.value)
    space = get_space("tiny")
    for bad in (images(2).astype(np.float32), images(2)[..., 0], np.zeros((2, 8, 8, 4), np.uint8)):
        with pytest.raises(FeatureError, match=r"expected uint8 images \(N,H,W,C\)"):
            space.features(bad)
    with pytest.raises(FeatureError, match="'tiny-grey' has no classes"):
        get_space("tiny-grey").classes(images(2))


# -- digits ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
def test_digits_space_gives_features_and_classes_at_any_size(tmp_path: Path, device: str) -> None:
    state = torch.random.get_rng_state()
    space = get_space("digits", device, recipe=QUICK, cache_dir=tmp_path)
    assert torch.equal(torch.random.get_rng_state(), state)  # training left the caller's random stream alone
    digits = load_digits()[:50]
    f = space.features(digits)
    assert f.shape == (50, 128) and f.device.type == device and torch.isfinite(f).all()
    assert torch.equal(space.features(digits), f)
    assert torch.allclose(space.features(digits[10:13]), f[10:13], atol=1e-5)  # eval mode: no batch statistics
    for size in (32, 64):  # runs of MNIST at 32 or 64 px are resized to 28
        big = torch.nn.functional.interpolate(torch.from_numpy(digits).permute(0, 3, 1, 2).float(), size=size)
        big = big.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
        assert space.features(big).shape == (50, 128)
    c = space.classes(digits)
    assert c.shape == (50,) and int(c.min()) >= 0 and int(c.max()) <= 9


def test_digits_classifier_is_trained_once_and_deterministically(tmp_path: Path) -> None:
    first = digits_classifier(QUICK, tmp_path)
    assert not first.from_cache and 0 <= first.held_out_accuracy <= 1
    again = digits_classifier(QUICK, tmp_path)
    assert again.from_cache and again.held_out_accuracy == first.held_out_accuracy
    fresh = digits_classifier(QUICK, tmp_path / "elsewhere")  # same seed, same machine: the same weights
    for (name, a), b in zip(first.net.state_dict().items(), fresh.net.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert len(list(tmp_path.glob("digits-classifier-*.pt"))) == 1


class Planted:
    """A pickle that would create a file when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("kind", ["damaged", "foreign", "planted", "other-recipe"])
def test_a_bad_classifier_cache_is_retrained_not_trusted(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"digits-classifier-{QUICK.key()}.pt"
    marker = tmp_path / "pwned"
    if kind == "damaged":
        path.write_bytes(b"PK\x03\x04 not really a zip")
    elif kind == "foreign":
        torch.save({"weights": torch.zeros(3)}, path)
    elif kind == "planted":
        path.write_bytes(pickle.dumps({"format": Planted(marker)}, protocol=2))
    else:  # a real cache file, but of another recipe, under this recipe's name
        other = DigitsRecipe(epochs=1, batch_size=512, seed=1)
        digits_classifier(other, tmp_path)
        (tmp_path / f"digits-classifier-{other.key()}.pt").rename(path)
    with pytest.warns(UserWarning, match="not a usable digits classifier"):
        clf = digits_classifier(QUICK, tmp_path)
    assert not clf.from_cache and not marker.exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert digits_classifier(QUICK, tmp_path).from_cache  # replaced by a good one


# -- inception -----------------------------------------------------------------------------------------------------
def test_inception_without_pytorch_fid_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pytorch_fid", None)  # import pytorch_fid now raises ImportError
    with pytest.raises(FeatureError) as e:
        get_space("inception")
    assert str(e.value) == (
        "feature space 'inception' needs pytorch-fid: pip install 'ganviz[inception]' (or pip install pytorch-fid)"
    )


class BrokenDownload:
    """What urlopen returns on a connection that dies after 1,000 bytes."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.sent = False

    def __enter__(self) -> BrokenDownload:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def info(self) -> email.message.Message:
        return email.message.Message()  # no Content-Length

    def read(self, n: int) -> bytes:
        if self.sent:
            raise ConnectionResetError("connection reset by peer")
        self.sent = True
        return b"\0" * 1000


def test_inception_offline_is_one_line_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pytorch_fid")
    from pytorch_fid.inception import FID_WEIGHTS_URL

    home = tmp_path / "torch"
    monkeypatch.setenv("TORCH_HOME", str(home))
    calls = []
    monkeypatch.setattr(torch.hub, "urlopen", lambda *a, **k: calls.append(a) or BrokenDownload())
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("no other download path expected"))
    with pytest.raises(FeatureError) as e:
        get_space("inception")
    msg = str(e.value)
    target = home / "hub" / "checkpoints" / Path(FID_WEIGHTS_URL).name
    assert "\n" not in msg and calls, msg
    assert msg == (
        f"feature space 'inception': could not download its weights (ConnectionResetError: connection "
        f"reset by peer); download {FID_WEIGHTS_URL} and save it as {target}"
    )
    assert not home.exists()  # neither the half-written file nor the folders made for it


def test_inception_space_with_stand_in_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real network with random weights of the right shapes, loaded from torch's hub cache as the real ones are:
    pytorch-fid's Inception has torchvision's parameters (its blocks override forward only)."""
    pytest.importorskip("pytorch_fid")
    import torchvision
    from pytorch_fid.inception import FID_WEIGHTS_URL

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "urlopen", lambda *a, **k: pytest.fail("must not download"))
    path = inception_weights_path(FID_WEIGHTS_URL)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not weights")
    with pytest.raises(FeatureError, match=r"not the FID Inception weights .*delete it to download it again") as e:
        get_space("inception")
    assert "\n" not in str(e.value)
    torch.manual_seed(0)
    net = torchvision.models.inception_v3(weights=None, aux_logits=False, num_classes=1008, init_weights=False)
    torch.save(net.state_dict(), path)
    space = get_space("inception", "cpu")
    f = space.features(images(2, size=32, channels=3))
    assert f.shape == (2, 2048) and torch.isfinite(f).all()
    assert space.features(images(1, size=28, channels=1)).shape == (1, 2048)  # grey digits become RGB


def test_inception_availability_is_known_without_importing_pytorch_fid(tmp_path: Path, monkeypatch) -> None:
    """The start-up check names pytorch-fid's weight file itself; it must be the file pytorch-fid downloads."""
    pytest.importorskip("pytorch_fid")
    from pytorch_fid.inception import FID_WEIGHTS_URL

    import gan_train.features as features

    assert features.FID_WEIGHTS_URL == FID_WEIGHTS_URL
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert not features.inception_available()
    path = inception_weights_path(FID_WEIGHTS_URL)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"weights")
    assert features.inception_available()
    code = "import sys, gan_train.features as f; f.inception_available(); print('pytorch_fid' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
