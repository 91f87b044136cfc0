"""Training: GAN variants as small configs, a readable loop, and snapshots of what the networks do."""

__version__ = "0.1.0"
