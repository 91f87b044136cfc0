"""The GAN objectives, checked against their formulas on hand-picked logits (no training involved).

Each loss is written out here independently with plain math, so a loss that silently computed another one
(e.g. every loss falling back to BCE) fails.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gan_train.config import LOSSES
from gan_train.losses import d_loss, d_says_real, d_scores, g_loss, gradient_penalty

REAL = [2.0, -0.5, 0.3]  # D's logits on three real samples
FAKE = [-1.5, 0.8, 0.0]  # and on three generated ones


def sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def expected_d(loss: str, label: float = 1.0) -> float:
    if loss in ("bce", "minimax"):  # -[y log D(x) + (1-y) log(1-D(x))] - log(1 - D(G(z)))
        bce_real = mean([-(label * math.log(sig(r)) + (1 - label) * math.log(1 - sig(r))) for r in REAL])
        return bce_real + mean([-math.log(1 - sig(f)) for f in FAKE])
    if loss == "lsgan":  # ½(D(x) - label)² + ½ D(G(z))²
        return 0.5 * mean([(r - label) ** 2 for r in REAL]) + 0.5 * mean([f**2 for f in FAKE])
    if loss == "hinge":  # max(0, 1 - D(x)) + max(0, 1 + D(G(z)))
        return mean([max(0.0, 1 - r) for r in REAL]) + mean([max(0.0, 1 + f) for f in FAKE])
    if loss == "wgan-gp":  # critic: D(G(z)) - D(x) (penalty added by the step)
        return mean(FAKE) - mean(REAL)
    raise AssertionError(loss)


def expected_g(loss: str) -> float:
    if loss == "bce":  # non-saturating: -log D(G(z))
        return mean([-math.log(sig(f)) for f in FAKE])
    if loss == "minimax":  # saturating: log(1 - D(G(z))), minimised
        return mean([math.log(1 - sig(f)) for f in FAKE])
    if loss == "lsgan":
        return 0.5 * mean([(f - 1) ** 2 for f in FAKE])
    if loss in ("hinge", "wgan-gp"):
        return -mean(FAKE)
    raise AssertionError(loss)


def t(xs: list[float]) -> torch.Tensor:
    return torch.tensor(xs, dtype=torch.float64)


@pytest.mark.parametrize("loss", LOSSES)
def test_d_and_g_losses_are_their_formulas(loss: str) -> None:
    assert d_loss(loss, t(REAL), t(FAKE), 1.0).item() == pytest.approx(expected_d(loss), rel=1e-6)
    assert g_loss(loss, t(FAKE)).item() == pytest.approx(expected_g(loss), rel=1e-6)


@pytest.mark.parametrize("loss", ["bce", "minimax", "lsgan"])
def test_one_sided_label_smoothing_moves_the_real_target(loss: str) -> None:
    assert d_loss(loss, t(REAL), t(FAKE), 0.9).item() == pytest.approx(expected_d(loss, 0.9), rel=1e-6)
    assert d_loss(loss, t(REAL), t(FAKE), 0.9).item() != pytest.approx(expected_d(loss, 1.0), rel=1e-3)


def test_the_five_losses_differ() -> None:
    """On the same logits no two losses give the same pair (D loss, G loss) but bce/minimax, whose D loss is one."""
    pairs = {
        loss: (round(d_loss(loss, t(REAL), t(FAKE), 1.0).item(), 6), round(g_loss(loss, t(FAKE)).item(), 6))
        for loss in LOSSES
    }
    assert len(set(pairs.values())) == len(LOSSES)
    assert pairs["bce"][0] == pairs["minimax"][0] and pairs["bce"][1] != pairs["minimax"][1]


def test_minimax_saturates_where_bce_does_not() -> None:
    """When D is sure a fake is fake (logit -8), minimax's G gradient vanishes and the non-saturating one does not."""
    grads = {}
    for loss in ("minimax", "bce"):
        x = torch.tensor([-8.0], requires_grad=True)
        g_loss(loss, x).backward()
        grads[loss] = abs(x.grad.item())
    assert grads["minimax"] == pytest.approx(sig(-8.0), rel=1e-4)  # d/dx log(1 - σ(x)) = -σ(x)
    assert grads["bce"] == pytest.approx(1 - sig(-8.0), rel=1e-4)  # d/dx -log σ(x) = σ(x) - 1
    assert grads["bce"] > 1000 * grads["minimax"]


@pytest.mark.parametrize("loss", LOSSES)
def test_scores_are_p_real_and_says_real_is_above_half(loss: str) -> None:
    out = t([-3.0, -0.2, 0.2, 0.7, 3.0])
    scores = d_scores(loss, out)
    if loss == "lsgan":  # raw output, clamped: targets are 0 and 1
        assert scores.tolist() == pytest.approx([0.0, 0.0, 0.2, 0.7, 1.0], abs=1e-6)
        assert d_says_real(loss, out).tolist() == [False, False, False, True, True]
    else:
        assert scores.tolist() == pytest.approx([sig(v) for v in out.tolist()], rel=1e-6)
        assert d_says_real(loss, out).tolist() == [False, False, True, True, True]


def test_gradient_penalty_of_a_linear_critic_is_its_slope_minus_one_squared() -> None:
    """D(x) = w·x has gradient w everywhere, so the penalty is (|w| - 1)² whatever the interpolates are."""
    d = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([[3.0, 0.0, 4.0, 0.0]]))  # |w| = 5
    real, fake = torch.randn(6, 4), torch.randn(6, 4)
    eps = torch.rand(6, 1)
    gp = gradient_penalty(lambda x: d(x).view(-1), real, fake, eps)
    assert gp.item() == pytest.approx(16.0, rel=1e-5)
    gp.backward()  # the penalty is differentiable in D's weights (create_graph), as WGAN-GP needs
    assert d.weight.grad is not None and torch.isfinite(d.weight.grad).all()
