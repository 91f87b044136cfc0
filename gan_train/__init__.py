"""Training: GAN variants as small configs, a readable loop, and snapshots of what the networks do.

``from gan_train import Recorder`` records a training loop of one's own (gan_train/recorder.py); it is imported on
first use, so reading the configs (the CLI's help) does not import torch.
"""

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "Recorder":
        from gan_train.recorder import Recorder

        return Recorder
    raise AttributeError(f"module 'gan_train' has no attribute {name!r}")
