"""GAN objectives on discriminator outputs, one record per loss: the table ``LOSSES`` is the one place a loss is
described. Config validation, the CLI's help, the training step, snapshots and the models all read it, so adding a
loss is one ``Loss(...)`` entry (and a formula test in tests/test_losses.py).

- bce: the non-saturating loss of Goodfellow et al. (G maximises log D(G(z))).
- minimax: the original saturating G loss log(1 - D(G(z))): its gradient vanishes once D wins.
- lsgan: least squares (Mao et al.); hinge (Lim & Ye, Miyato et al.); wgan-gp (Gulrajani et al.).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the table is read by config and the CLI, which must not pay for importing torch
    from torch import Tensor, nn


@dataclass(frozen=True)
class Loss:
    """Everything the rest of ganviz needs to know about one GAN objective.

    ``d_loss(real, fake, real_label)`` and ``g_loss(fake)`` take D's raw outputs; ``score`` turns an output into
    a probability of *real* in [0, 1] (so runs with different losses plot on one axis) and ``says_real`` is
    D's verdict. ``penalty``: D's loss adds WGAN-GP's gradient penalty. ``d_norm``: the normalisation layer a
    DCGAN discriminator uses with this loss ('batch', or 'layer' where a per-sample gradient matters).
    """

    name: str
    help: str
    d_loss: Callable[[Tensor, Tensor, float], Tensor]
    g_loss: Callable[[Tensor], Tensor]
    score: Callable[[Tensor], Tensor] = lambda out: out.sigmoid()  # noqa: E731
    says_real: Callable[[Tensor], Tensor] = lambda out: out > 0.0  # noqa: E731
    penalty: bool = False
    d_norm: str = "batch"


def softplus(x: Tensor) -> Tensor:
    """log(1 + e^x), stable for large |x|: -log(1 - sigmoid(x)) = softplus(x), -log sigmoid(x) = softplus(-x)."""
    return x.clamp(min=0) + (-x.abs()).exp().log1p()


def bce_with_logits(x: Tensor, target: float) -> Tensor:
    """Mean binary cross-entropy of sigmoid(x) against one target value, from the logits."""
    return (softplus(x) - target * x).mean()


def _bce_d(real: Tensor, fake: Tensor, real_label: float) -> Tensor:
    return bce_with_logits(real, real_label) + bce_with_logits(fake, 0.0)


def _lsgan_d(real: Tensor, fake: Tensor, real_label: float) -> Tensor:
    return 0.5 * ((real - real_label) ** 2).mean() + 0.5 * (fake**2).mean()


def _hinge_d(real: Tensor, fake: Tensor, real_label: float) -> Tensor:
    return (1 - real).clamp(min=0).mean() + (1 + fake).clamp(min=0).mean()


def _critic_d(real: Tensor, fake: Tensor, real_label: float) -> Tensor:
    return fake.mean() - real.mean()


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            "bce",
            "non-saturating: G maximises log D(G(z))",
            _bce_d,
            lambda fake: bce_with_logits(fake, 1.0),
        ),
        Loss(
            "minimax",
            "saturating log(1 - D(G(z))), to show vanishing gradients",
            _bce_d,
            lambda fake: -softplus(fake).mean(),  # = mean log(1 - sigmoid(fake)), minimised by G
        ),
        Loss(
            "lsgan",
            "least squares, targets 0 and 1",
            _lsgan_d,
            lambda fake: 0.5 * ((fake - 1) ** 2).mean(),
            score=lambda out: out.clamp(0, 1),  # D's raw output: its targets are 0 and 1
            says_real=lambda out: out > 0.5,
        ),
        Loss("hinge", "hinge loss on D's output", _hinge_d, lambda fake: -fake.mean()),
        Loss(
            "wgan-gp",
            "Wasserstein critic with gradient penalty",
            _critic_d,
            lambda fake: -fake.mean(),
            penalty=True,
            d_norm="layer",
        ),
    )
}


def get_loss(name: str) -> Loss:
    return LOSSES[name]


def d_loss(loss: str, real: Tensor, fake: Tensor, real_label: float) -> Tensor:
    """D's loss on its outputs for real and generated samples (computed in float32 under autocast)."""
    return LOSSES[loss].d_loss(real.float(), fake.float(), real_label)


def g_loss(loss: str, fake: Tensor) -> Tensor:
    """G's loss on D's outputs for generated samples."""
    return LOSSES[loss].g_loss(fake.float())


def d_scores(loss: str, out: Tensor) -> Tensor:
    """D's output as a probability of real in [0, 1] for every loss, so runs compare on one axis."""
    return LOSSES[loss].score(out.float())


def d_says_real(loss: str, out: Tensor) -> Tensor:
    """D's verdict per sample: True where it calls the sample real."""
    return LOSSES[loss].says_real(out.float())


def gradient_penalty(d: nn.Module, real: Tensor, fake: Tensor, eps: Tensor) -> Tensor:
    """(||grad D(x_hat)|| - 1)^2 on interpolates ``eps * real + (1 - eps) * fake`` (eps: one weight per row).

    The caller draws ``eps`` so that several processes can take their rows of one global draw. The gradient
    is taken out of place (``autograd.grad`` with ``create_graph``) and the penalty joins D's loss before its
    one ordinary backward: the pattern DistributedDataParallel supports (pytorch/pytorch#63812).
    """
    import torch

    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    out = d(x_hat)
    (grad,) = torch.autograd.grad(out.float().sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
