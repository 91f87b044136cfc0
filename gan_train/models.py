"""Generators and discriminators: MLPs for toys and vanilla GANs, the standard DCGAN for images.

Discriminators return raw logits (N,); losses decide how to read them.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_train.config import Config
from gan_train.losses import LOSSES


def _mlp(sizes: list[int], act: nn.Module, dropout: float = 0.0) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers += [nn.Linear(a, b), act]
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return layers


class MLPGenerator(nn.Module):
    def __init__(self, noise_dim: int, hidden: tuple[int, ...], out_shape: tuple[int, ...], image: bool):
        super().__init__()
        self.out_shape = out_shape
        layers = _mlp([noise_dim, *hidden, math.prod(out_shape)], nn.LeakyReLU(0.2))
        if image:
            layers.append(nn.Tanh())  # images live in [-1, 1]; toy points are unbounded
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.flatten(1)).view(-1, *self.out_shape)


class MLPDiscriminator(nn.Module):
    def __init__(self, in_dim: int, hidden: tuple[int, ...], dropout: float):
        super().__init__()
        self.net = nn.Sequential(*_mlp([in_dim, *hidden, 1], nn.LeakyReLU(0.2), dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).view(-1)


def _dcgan_plan(image_size: int) -> tuple[int, int]:
    """(start size, number of 2x up-samplings) so that start * 2**n == image_size."""
    start = 7 if image_size == 28 else 4
    return start, int(round(math.log2(image_size // start)))


class DCGANGenerator(nn.Module):
    """Radford et al.'s DCGAN generator; for 64x64: z -> 512x4x4 -> 256x8 -> 128x16 -> 64x32 -> 3x64."""

    def __init__(self, noise_dim: int, ngf: int, channels: int, image_size: int):
        super().__init__()
        start, n = _dcgan_plan(image_size)
        ch = ngf * 2 ** (n - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(noise_dim, ch, start, 1, 0, bias=False),
            nn.BatchNorm2d(ch),
            nn.ReLU(True),
        ]
        for _ in range(n - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))


class DCGANDiscriminator(nn.Module):
    """Mirror of the generator; ``norm='layer'`` swaps BatchNorm for a per-sample norm (WGAN-GP needs it)."""

    def __init__(self, ndf: int, channels: int, image_size: int, norm: str = "batch"):
        super().__init__()
        start, n = _dcgan_plan(image_size)
        layers: list[nn.Module] = [nn.Conv2d(channels, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        ch = ndf
        for _ in range(n - 1):
            norm_layer = nn.BatchNorm2d(ch * 2) if norm == "batch" else nn.GroupNorm(1, ch * 2)
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), norm_layer, nn.LeakyReLU(0.2, True)]
            ch *= 2
        layers.append(nn.Conv2d(ch, 1, start, 1, 0, bias=False))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


def dcgan_init(m: nn.Module) -> None:
    """Weights from N(0, 0.02), norm scales from N(1, 0.02), as in the DCGAN paper."""
    if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d | nn.GroupNorm):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def sample_shape(cfg: Config) -> tuple[int, ...]:
    """Shape of one sample: (C,H,W) for images, (1,) or (2,) for toys."""
    if cfg.kind == "toy1d":
        return (1,)
    if cfg.kind == "toy2d":
        return (2,)
    return (cfg.channels, cfg.image_size, cfg.image_size)


def build_models(cfg: Config) -> tuple[nn.Module, nn.Module]:
    shape = sample_shape(cfg)
    if cfg.arch == "mlp":
        g = MLPGenerator(cfg.noise_dim, cfg.g_hidden, shape, image=cfg.kind == "image")
        d = MLPDiscriminator(math.prod(shape), cfg.d_hidden, cfg.d_dropout)
        return g, d
    norm = LOSSES[cfg.loss].d_norm
    g = DCGANGenerator(cfg.noise_dim, cfg.ngf, cfg.channels, cfg.image_size)
    d = DCGANDiscriminator(cfg.ndf, cfg.channels, cfg.image_size, norm)
    g.apply(dcgan_init)
    d.apply(dcgan_init)
    return g, d


def layer_names(model: nn.Module) -> list[str]:
    """Names of the modules that own parameters, in forward order: the rows of gradient-norm plots."""
    return [name for name, m in model.named_modules() if any(True for _ in m.parameters(recurse=False))]
