"""gan_train/optim.py: the trainer's Adam computes what torch.optim.Adam(fused=True) computes, bit for bit, reads
and writes its checkpoint format both ways, fires torch's global step hooks, and `ganviz train` never imports
torch._dynamo (the 1.1-1.9 s of start-up it exists to save)."""

from __future__ import annotations

import copy
import gc
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

from gan_train import optim
from gan_train.optim import Adam, make_adam

ROOT = Path(__file__).resolve().parents[1]


def _net(seed: int = 0, channels_last: bool = False) -> nn.Module:
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1), nn.BatchNorm2d(8), nn.LeakyReLU(0.2), nn.Conv2d(8, 1, 4, 1, 0))
    return net.to(memory_format=torch.channels_last) if channels_last else net


def _train(net: nn.Module, opt, steps: int, seed: int = 1, start: int = 0) -> list[float]:  # noqa: ANN001
    """``steps`` updates on batches drawn from ``seed``; returns the losses (for equality, not for learning)."""
    losses = []
    for i in range(start, start + steps):
        gen = torch.Generator().manual_seed(seed * 1000 + i)
        x = torch.randn(6, 3, 8, 8, generator=gen)
        opt.zero_grad(set_to_none=True)
        loss = net(x).square().mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _same(a: nn.Module, b: nn.Module) -> None:
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y), name


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize(("lr", "betas", "weight_decay"), [(2e-4, (0.5, 0.999), 0.0), (1e-2, (0.9, 0.99), 0.1)])
def test_same_arithmetic_as_torch_fused_adam(channels_last, lr, betas, weight_decay):
    ours, theirs = _net(channels_last=channels_last), _net(channels_last=channels_last)
    a = Adam(ours.parameters(), lr, betas, weight_decay=weight_decay)
    b = torch.optim.Adam(theirs.parameters(), lr, betas=betas, weight_decay=weight_decay, fused=True)
    assert _train(ours, a, 6) == _train(theirs, b, 6)
    _same(ours, theirs)
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        for key in ("step", "exp_avg", "exp_avg_sq"):
            assert torch.equal(a.state[p][key], b.state[q][key]), key
        assert a.state[p]["exp_avg"].stride() == b.state[q]["exp_avg"].stride()  # channels-last kept


def test_state_dict_is_torch_adams_format():
    ours, theirs = _net(), _net()
    a, b = (
        Adam(ours.parameters(), 2e-4, (0.5, 0.999)),
        torch.optim.Adam(theirs.parameters(), 2e-4, (0.5, 0.999), fused=True),
    )
    _train(ours, a, 2), _train(theirs, b, 2)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    assert sa["state"].keys() == sb["state"].keys()
    for i, kept in sb["state"].items():
        assert kept.keys() == sa["state"][i].keys()
        for key, t in kept.items():
            assert (t.dtype, t.device, t.shape) == (sa["state"][i][key].dtype, sa["state"][i][key].device, t.shape)
            assert torch.equal(t, sa["state"][i][key])


@pytest.mark.parametrize("direction", ["torch to ours", "ours to torch"])
def test_checkpoints_move_between_the_two_and_training_goes_on_identically(tmp_path, direction):
    """A run checkpointed before this class (torch.optim.Adam's state) resumes under it, and the other way round:
    saved with torch.save, loaded with weights_only=True as checkpoints are."""

    def torch_adam(n: nn.Module) -> torch.optim.Adam:
        return torch.optim.Adam(n.parameters(), 1e-3, (0.5, 0.999), fused=True)

    def ours_adam(n: nn.Module) -> Adam:
        return Adam(n.parameters(), 1e-3, (0.5, 0.999))

    first, second = (torch_adam, ours_adam) if direction == "torch to ours" else (ours_adam, torch_adam)
    net, straight = _net(), _net()
    opt = first(net)
    _train(net, opt, 3)
    torch.save({"net": net.state_dict(), "opt": opt.state_dict()}, tmp_path / "ckpt.pt")
    state = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    resumed = _net(seed=5)
    resumed.load_state_dict(state["net"])
    opt2 = second(resumed)
    opt2.load_state_dict(state["opt"])
    after = _train(resumed, opt2, 4, start=3)

    ref_opt = first(straight)
    assert _train(straight, ref_opt, 7)[3:] == after
    _same(resumed, straight)


def test_a_rescue_that_lowers_the_learning_rate_is_obeyed():
    """The trainer's resume writes lr into param_groups after loading (a rescue lowers it); step reads it there."""
    ours, theirs = _net(), _net()
    a, b = (
        Adam(ours.parameters(), 1e-2, (0.5, 0.999)),
        torch.optim.Adam(theirs.parameters(), 1e-2, (0.5, 0.999), fused=True),
    )
    for opt in (a, b):
        opt.param_groups[0]["lr"] = 1e-4
    _train(ours, a, 3), _train(theirs, b, 3)
    _same(ours, theirs)
    a.load_state_dict(copy.deepcopy(b.state_dict()))
    assert a.param_groups[0]["lr"] == 1e-4


def test_parameters_without_gradients_are_left_alone_and_zero_grad_keeps_tensors_when_asked():
    net = _net()
    frozen = net[0].weight
    frozen.requires_grad_(False)
    before = frozen.clone()
    opt = Adam(net.parameters(), 1e-2, (0.5, 0.999))
    _train(net, opt, 2)
    assert torch.equal(frozen, before) and frozen not in opt.state
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    opt.zero_grad(set_to_none=False)
    assert all(
        g is p.grad and not g.any()
        for g, p in zip(grads, [p for p in net.parameters() if p.grad is not None], strict=True)
    )
    opt.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_torch_global_step_hooks_fire_around_each_step():
    """The Recorder measures layer norms from torch's global pre-step hook: it must see this optimiser step."""
    net = _net()
    opt = Adam(net.parameters(), 1e-3, (0.5, 0.999))
    seen = []
    pre = register_optimizer_step_pre_hook(lambda o, a, k: seen.append(("pre", o, net[0].weight.clone())))
    post = register_optimizer_step_post_hook(lambda o, a, k: seen.append(("post", o, net[0].weight.clone())))
    try:
        _train(net, opt, 2)
    finally:
        pre.remove(), post.remove()
    assert [(when, o) for when, o, _ in seen] == [("pre", opt), ("post", opt)] * 2
    assert not torch.equal(seen[0][2], seen[1][2])  # the update happened between them


def test_a_state_dict_for_other_parameters_is_refused():
    opt = Adam(_net().parameters(), 1e-3, (0.5, 0.999))
    other = torch.optim.Adam(nn.Linear(2, 2).parameters(), fused=True)
    with pytest.raises(ValueError, match=r"parameters in 1 group\(s\) does not fit this Adam's one group of 6"):
        opt.load_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam([], 1e-3)


def test_make_adam_uses_torch_where_the_fused_kernel_is_missing(monkeypatch):
    params = list(_net().parameters())
    assert type(make_adam(params, 1e-3, (0.5, 0.999), torch.device("cpu"))) is Adam
    assert type(make_adam(params, 1e-3, (0.5, 0.999), torch.device("meta"))) is torch.optim.Adam
    monkeypatch.delattr(torch, "_fused_adam_")
    assert type(make_adam(params, 1e-3, (0.5, 0.999), torch.device("cpu"))) is torch.optim.Adam
    assert optim.FUSED_DEVICES == ("cpu", "cuda")


def test_ganviz_train_never_imports_torch_dynamo(tmp_path):
    """The whole command, in a fresh interpreter: the image trainer's start-up must not pay for torch._dynamo."""
    code = textwrap.dedent(
        f"""
        import sys
        from pipeline.cli import main
        try:
            main(["train", "dcgan-digits", "--device", "cpu", "--steps", "2", "--snapshot-every", "1", "--quiet",
                  "--set", "ngf=8", "--set", "ndf=8", "--set", "eval_every=-1", "-o", {str(tmp_path / "run")!r}])
        except SystemExit as e:
            assert not e.code, e.code
        print("dynamo" if "torch._dynamo" in sys.modules else "no dynamo")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "no dynamo"
    assert (tmp_path / "run" / "run.json").is_file()


def test_the_command_freezes_the_heap_before_the_interpreter_tears_down(monkeypatch):
    import ganviz.__main__ as entry
    import pipeline.cli

    monkeypatch.setattr(pipeline.cli, "OWN_PROCESS", False)
    monkeypatch.setattr(pipeline.cli, "main", lambda: (_ for _ in ()).throw(SystemExit(0)))
    gc.unfreeze()
    with pytest.raises(SystemExit):
        entry.main()
    frozen = gc.get_freeze_count()
    gc.unfreeze()
    assert frozen > 0 and pipeline.cli.OWN_PROCESS


@pytest.mark.parametrize("own_process", [True, False])
def test_torch_is_imported_without_collections_and_frozen_only_in_the_commands_process(monkeypatch, own_process):
    import pipeline.cli

    monkeypatch.setattr(pipeline.cli, "OWN_PROCESS", own_process)
    gc.unfreeze()
    seen = []
    with pipeline.cli.no_collection():
        seen.append(gc.isenabled())
        made = [[] for _ in range(10)]
    frozen = gc.get_freeze_count()
    gc.unfreeze()
    assert seen == [False] and gc.isenabled() and made
    assert (frozen > 0) == own_process
    gc.disable()
    try:
        with pipeline.cli.no_collection():
            pass
        assert not gc.isenabled()  # a caller's own choice is kept
    finally:
        gc.enable()
        gc.unfreeze()
