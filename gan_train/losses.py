"""GAN objectives on discriminator logits. Each returns (loss_d, loss_g) pieces separately.

- bce: the non-saturating loss of Goodfellow et al. (G maximises log D(G(z))).
- minimax: the original saturating G loss log(1 - D(G(z))): its gradient vanishes once D wins.
- lsgan: least squares (Mao et al.); hinge (Lim & Ye, Miyato et al.); wgan-gp (Gulrajani et al.).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def d_loss(loss: str, real: torch.Tensor, fake: torch.Tensor, real_label: float) -> torch.Tensor:
    real, fake = real.float(), fake.float()
    if loss in ("bce", "minimax"):
        return F.binary_cross_entropy_with_logits(real, torch.full_like(real, real_label)) + (
            F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
        )
    if loss == "lsgan":
        return 0.5 * ((real - real_label) ** 2).mean() + 0.5 * (fake**2).mean()
    if loss == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    if loss == "wgan-gp":
        return fake.mean() - real.mean()
    raise ValueError(loss)


def g_loss(loss: str, fake: torch.Tensor) -> torch.Tensor:
    fake = fake.float()
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    if loss == "minimax":
        return -F.softplus(fake).mean()  # = mean log(1 - sigmoid(fake)), minimised by G
    if loss == "lsgan":
        return 0.5 * ((fake - 1) ** 2).mean()
    if loss in ("hinge", "wgan-gp"):
        return -fake.mean()
    raise ValueError(loss)


def gradient_penalty(d: nn.Module, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """(||grad D(x_hat)|| - 1)^2 on interpolates ``eps * real + (1 - eps) * fake`` (eps: one weight per row).

    The caller draws ``eps`` so that several processes can take their rows of one global draw. The gradient
    is taken out of place (``autograd.grad`` with ``create_graph``) and the penalty joins D's loss before its
    one ordinary backward: the pattern DistributedDataParallel supports (pytorch/pytorch#63812).
    """
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    out = d(x_hat)
    (grad,) = torch.autograd.grad(out.float().sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
