"""Adam for the built-in trainer: torch's fused Adam kernel and torch.optim.Adam's checkpoint format, without
torch.optim's Python layer.

Why: every method of ``torch.optim.Optimizer`` (``add_param_group``, ``zero_grad``, ``step``, ``state_dict``)
imports ``torch._dynamo`` on first use, and that import is 1.1-1.9 s of a run's start-up on a 2-core CPU, about a
third of what the 32 steps of the whole-process benchmark's epoch take (docs/speed.md). This class calls the same
kernel ``torch.optim.Adam(fused=True)`` calls, so the arithmetic is bit for bit the same (tests/test_optim.py),
and it reads and writes the same ``state_dict``, so checkpoints move either way between the two. It honours
torch's global step hooks (``register_optimizer_step_pre_hook``), which the Recorder measures layer norms by.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import torch
from torch.optim import optimizer as torch_optimizer

# the kernel torch.optim.Adam(fused=True) calls, on the devices it has it for
FUSED_DEVICES = ("cpu", "cuda")
# what torch.optim.Adam keeps in each param group besides lr, betas, eps and weight_decay (its state_dict has them)
_TORCH_GROUP = {
    "amsgrad": False,
    "maximize": False,
    "foreach": None,
    "capturable": False,
    "differentiable": False,
    "fused": True,
    "decoupled_weight_decay": False,
}


def make_adam(
    params: Iterable[torch.nn.Parameter], lr: float, betas: tuple[float, float], device: torch.device
) -> Adam | torch.optim.Adam:
    """This module's Adam where torch has the fused kernel for ``device``, torch.optim.Adam elsewhere."""
    if device.type in FUSED_DEVICES and hasattr(torch, "_fused_adam_"):
        return Adam(params, lr, betas)
    return torch.optim.Adam(params, lr, betas=betas)


class Adam:
    """Adam (Kingma & Ba) over one group of parameters, as ``torch.optim.Adam(params, lr, betas, fused=True)``.

    ``param_groups``, ``state``, ``zero_grad``, ``step``, ``state_dict`` and ``load_state_dict`` behave as
    torch's, and a rescue that edits ``param_groups[0]["lr"]`` works as it does there. It is not a
    ``torch.optim.Optimizer``: torch's LR schedulers and per-instance hooks refuse or lack it (the trainer uses
    neither).
    """

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        params = list(params)
        if not params:
            raise ValueError("Adam got an empty parameter list")
        group = {"params": params, "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        self.param_groups: list[dict[str, Any]] = [group | _TORCH_GROUP]
        self.state: defaultdict[torch.Tensor, dict[str, torch.Tensor]] = defaultdict(dict)

    def __repr__(self) -> str:
        group = self.param_groups[0]
        return f"Adam(lr={group['lr']}, betas={group['betas']}, fused kernel, {len(group['params'])} tensors)"

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.param_groups[0]["params"]:
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad.detach_()
                else:
                    p.grad.requires_grad_(False)
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient; torch's global pre- and post-step hooks fire around
        it, as they do around ``torch.optim.Optimizer.step``."""
        for hook in tuple(torch_optimizer._global_optimizer_pre_hooks.values()):
            hook(self, (), {})
        group = self.param_groups[0]
        by_kind: dict[tuple[torch.device, torch.dtype], list[list[torch.Tensor]]] = {}
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise RuntimeError("Adam does not support sparse gradients")
            state = self.state[p]
            if not state:
                state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            lists = by_kind.setdefault((p.device, p.dtype), [[], [], [], [], []])
            for held, t in zip(lists, (p, p.grad, state["exp_avg"], state["exp_avg_sq"], state["step"]), strict=True):
                held.append(t)
        beta1, beta2 = group["betas"]
        for params, grads, exp_avgs, exp_avg_sqs, steps in by_kind.values():
            torch._foreach_add_(steps, 1)
            torch._fused_adam_(
                params, grads, exp_avgs, exp_avg_sqs, [], steps, lr=group["lr"], beta1=beta1, beta2=beta2,
                weight_decay=group["weight_decay"], eps=group["eps"], amsgrad=False, maximize=False,
            )  # fmt: skip
        for hook in tuple(torch_optimizer._global_optimizer_post_hooks.values()):
            hook(self, (), {})

    def state_dict(self) -> dict[str, Any]:
        """torch.optim.Adam's format: state keyed by the parameter's index, groups holding indices."""
        params = self.param_groups[0]["params"]
        index = {id(p): i for i, p in enumerate(params)}
        group = {k: v for k, v in self.param_groups[0].items() if k != "params"}
        return {
            "state": {index[id(p)]: dict(s) for p, s in self.state.items() if s},
            "param_groups": [group | {"params": list(range(len(params)))}],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load what ``state_dict`` (this class's or torch.optim.Adam's, one group) wrote for these parameters."""
        groups = state_dict["param_groups"]
        params = self.param_groups[0]["params"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(params):
            raise ValueError(
                f"optimiser state for {[len(g['params']) for g in groups]} parameters in {len(groups)} group(s) "
                f"does not fit this Adam's one group of {len(params)}"
            )
        self.state = defaultdict(dict)
        for index, saved in zip(groups[0]["params"], params, strict=True):
            kept = state_dict["state"].get(index)
            if kept is None:
                continue
            self.state[saved] = {
                "step": torch.as_tensor(kept["step"], dtype=torch.float32).to(saved.device),
                "exp_avg": kept["exp_avg"].to(saved.device, saved.dtype),
                "exp_avg_sq": kept["exp_avg_sq"].to(saved.device, saved.dtype),
            }
        self.param_groups[0].update({k: v for k, v in groups[0].items() if k != "params"})
