"""Records a PyTorch Lightning GAN (manual optimisation, as Lightning's GAN tutorial trains one) as a ganviz run.

``LightningRecorder`` is a Lightning callback built on ``Recorder`` and its public API alone: it opens a Recorder on
the first training batch (the batch gives the real samples snapshots show beside G's), hands ``rec.step`` what
``training_step`` returned once per batch, and closes the run when training ends or raises. Gradient norms come from
the Recorder's optimiser step pre-hook, which fires under Lightning too: ``LightningOptimizer.step`` steps the torch
optimizer it wraps. Needs ``pip install 'ganviz[lightning]'`` (docs/record-your-gan.md).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gan_train.recorder import HANDED, Recorder, RecorderError

try:
    import lightning.pytorch as pl
except ImportError as e:  # an optional extra: say how to get it
    raise ImportError(f"gan_train.lightning needs Lightning ({e}); install it: pip install 'ganviz[lightning]'") from e

#: Recorder arguments the callback fills itself (the rest pass through as given)
_OWN = ("path", "g", "d", "real")
_RECORDER_ARGS = tuple(p for p in inspect.signature(Recorder).parameters if p not in _OWN and not p.startswith("_"))


class LightningRecorder(pl.Callback):
    """Records the LightningModule's GAN in the new (or empty) folder ``path``, on global rank zero only.

    - ``g``, ``d``: the module's attributes holding G and D (default ``generator``, ``discriminator``).
    - ``real``: a batch of real samples as G makes them; by default the first training batch (its first element
      when the batch is a tuple or list, as ``(images, labels)``).
    - ``values``: the keys of ``training_step``'s returned dict handed to ``Recorder.step`` (by default those of
      ``loss_d``, ``loss_g``, ``d_real``, ``d_fake``, ``d_fake_after``, ``acc_real``, ``acc_fake`` it holds;
      Lightning's own ``loss`` and any other key are left alone).
    - Every other keyword is the ``Recorder``'s (``d_output``, ``snapshot_every``, ``fixed_noise`` ...).
      ``noise_dim`` defaults to the module's ``hparams.latent_dim``, ``batch_size`` to the first batch's size,
      ``n_fixed`` to the Recorder's (64 images, 512 points) but at most the first batch's size,
      ``steps_per_epoch`` to the trainer's batches per epoch, ``total_steps`` to the batches of all epochs when
      the trainer runs by epochs.

    A step of the run is one training batch (one ``rec.step``), counted here: Lightning's ``global_step`` counts
    optimiser steps, two per batch for a GAN. The run ends ``finished``, ``stopped`` (something set
    ``trainer.should_stop``: early stopping, ``max_time``), ``interrupted`` (Ctrl-C) or ``crashed``.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        g: str = "generator",
        d: str = "discriminator",
        real: torch.Tensor | None = None,
        values: Sequence[str] | None = None,
        **recorder_args: Any,
    ):
        unknown = sorted(set(recorder_args) - set(_RECORDER_ARGS))
        if unknown:
            raise RecorderError(
                f"LightningRecorder({unknown[0]}=...): not a Recorder argument; use one of {', '.join(_RECORDER_ARGS)}"
            )
        self.path, self.g_attr, self.d_attr, self.real = Path(path), g, d, real
        self.values = tuple(values) if values is not None else HANDED
        self.recorder_args = recorder_args
        self.rec: Recorder | None = None
        self.recording = False
        self.batches = 0  # training batches recorded (the run's steps), not Lightning's optimiser steps

    # -- Lightning's hooks ------------------------------------------------------------------------------
    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.rec is not None:
            raise RecorderError(f"LightningRecorder {self.path}: records one fit; give the next fit a new recorder")

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if self.rec is None and trainer.is_global_zero:
            rec = self._recorder(trainer, pl_module, batch)
            rec.__enter__()  # the folder, run.json, fixed.npz, the hook and the step-0 snapshot
            self.rec, self.recording = rec, True

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.rec is None or not self.recording:
            return
        handed = outputs if isinstance(outputs, Mapping) else {}
        values = {k: _detached(handed[k]) for k in self.values if k in handed}
        self.batches += 1
        self.rec.step(epoch=trainer.current_epoch, **values)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.rec is None or not self.recording:
            return
        self.recording = False
        try:
            self.rec.close("stopped" if trainer.should_stop else "finished")
        except BaseException as e:  # a last write failed: the run says so, and the error goes on
            self.rec.__exit__(type(e), e, e.__traceback__)
            raise

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        """Training raised (or Ctrl-C): each recorded batch is kept; the run is ``crashed`` (``interrupted``)."""
        if self.rec is not None and self.recording:
            self.recording = False
            self.rec.__exit__(type(exception), exception, exception.__traceback__)

    # -- the Recorder -------------------------------------------------------------------------------------
    def _recorder(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any) -> Recorder:
        """The Recorder for this fit, its defaults taken from the module, the trainer and the first batch."""
        real = self.real if self.real is not None else _real_of(batch)
        args = dict(self.recorder_args)
        if args.get("fixed_noise") is None and args.get("noise_dim") is None:
            args["noise_dim"] = _latent_dim(pl_module)
        args.setdefault("batch_size", len(real))
        if args.get("fixed_noise") is None:  # the Recorder's number of fixed samples, at most one batch of them
            args.setdefault("n_fixed", min(len(real), 64 if real.dim() == 4 else 512))
        per_epoch = trainer.num_training_batches
        if isinstance(per_epoch, int) and per_epoch > 0:
            args.setdefault("steps_per_epoch", per_epoch)
            if trainer.max_steps in (-1, None) and trainer.max_epochs and trainer.max_epochs > 0:
                args.setdefault("total_steps", per_epoch * trainer.max_epochs)
        g, d = _net(pl_module, self.g_attr, "g"), _net(pl_module, self.d_attr, "d")
        return Recorder(self.path, g, d, real=real.to(next(g.parameters()).device), **args)


def _net(pl_module: pl.LightningModule, attr: str, arg: str) -> nn.Module:
    net = getattr(pl_module, attr, None)
    if not isinstance(net, nn.Module):
        raise RecorderError(
            f"LightningRecorder {arg}={attr!r}: {type(pl_module).__name__} has no module of that name; "
            f"pass {arg}='...' naming the attribute that holds {arg.upper()}"
        )
    return net


def _real_of(batch: Any) -> torch.Tensor:
    """The real samples of a training batch: the batch itself, or its first element (``(images, labels)``)."""
    real = batch[0] if isinstance(batch, tuple | list) and batch else batch
    if not isinstance(real, torch.Tensor):
        raise RecorderError(
            f"LightningRecorder: the training batch is a {type(batch).__name__}, not a tensor or a tuple starting "
            "with one; pass real=... (a batch of real samples as G makes them)"
        )
    return real.detach()


def _latent_dim(pl_module: pl.LightningModule) -> int:
    dim = getattr(pl_module, "hparams", {}).get("latent_dim")
    if not isinstance(dim, int):
        raise RecorderError(
            "LightningRecorder: the module has no hparams.latent_dim; pass noise_dim=... (or fixed_noise=...)"
        )
    return dim


def _detached(value: Any) -> Any:
    """A returned value as the Recorder takes it: tensors without their graph, anything else as it is."""
    return value.detach() if isinstance(value, torch.Tensor) else value


__all__ = ["LightningRecorder"]
