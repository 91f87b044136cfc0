import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from gan_train.config import DATASETS, TOY_DATASETS, VARIANTS, Config, ConfigError, apply_overrides, get_variant
from gan_train.datasets import TOYS
from pipeline.cli import main


def test_every_variant_is_valid_and_named():
    for name, cfg in VARIANTS.items():
        assert cfg.variant == name and cfg.description
        apply_overrides(cfg, {})  # validates


def test_toy_8gaussians_trains_on_the_registered_toy():
    cfg = get_variant("toy-8gaussians")
    assert cfg.dataset == "8gaussians" and cfg.arch == "mlp" and cfg.kind == "toy2d"
    assert cfg.dataset in DATASETS and cfg.dataset in TOY_DATASETS and cfg.dataset in TOYS


def test_ganviz_variants_lists_every_variant():
    res = CliRunner().invoke(main, ["variants"])
    assert res.exit_code == 0, res.output
    listed = {line.split()[0]: line.split(None, 1)[1] for line in res.output.splitlines()}
    assert set(listed) == set(VARIANTS) and "toy-8gaussians" in listed
    assert listed["toy-8gaussians"] == VARIANTS["toy-8gaussians"].description
    starts = {len(line) - len(line.split(None, 1)[1]) for line in res.output.splitlines()}
    assert len(starts) == 1  # the descriptions form one column, past the longest name


def test_overrides_from_strings_are_typed():
    cfg = apply_overrides(
        get_variant("toy-rings"),
        {"lr_d": "1e-4", "steps": "50", "g_hidden": "64,64", "channels_last": "false", "loss": "hinge"},
    )
    assert cfg.lr_d == 1e-4 and cfg.steps == 50 and cfg.g_hidden == (64, 64)
    assert cfg.channels_last is False and cfg.loss == "hinge"


def test_unknown_variant_suggests_closest():
    with pytest.raises(ConfigError, match="did you mean 'dcgan-celeba'"):
        get_variant("dcgan-celeb")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("lr_dd", "1", "did you mean 'lr_d'"),
        ("steps", "many", "expected int"),
        ("loss", "bcee", "did you mean 'bce'"),
        ("batch_size", "0", "at least 1"),
        ("compile", "maybe", "expected bool"),
    ],
)
def test_bad_overrides_are_one_line(key, value, message):
    with pytest.raises(ConfigError, match=message) as e:
        apply_overrides(get_variant("toy-rings"), {key: value})
    assert "\n" not in str(e.value)


def test_round_trip_through_json_dict():
    cfg = get_variant("dcgan-celeba")
    assert Config.from_dict(cfg.to_dict()) == cfg


def test_explicit_epochs_win_over_a_variants_steps():
    cfg = apply_overrides(get_variant("toy-quadratic"), {"epochs": "2"})  # the variant sets steps=3000
    assert (cfg.steps, cfg.epochs) == (0, 2)
    both = apply_overrides(get_variant("toy-quadratic"), {"epochs": 2, "steps": 50})  # both given: steps win
    assert (both.steps, both.epochs) == (50, 2)


def documented_settings() -> dict[str, tuple[str, str]]:
    """docs/mode-collapse.md's table of the two settings: field -> (toy-8gaussians's value, which covers all 8
    modes; toy-8gaussians-bce's, which collapses), as written there."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "mode-collapse.md").read_text()
    section = text.split("## The two settings", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| `([^`]+)` \| `([^`]+)` \|", section, re.M)
    return {key: (covers, collapses) for key, covers, collapses in rows}


def test_the_8gaussians_variants_are_the_documented_settings():
    table = documented_settings()
    assert {"loss", "noise_dim", "lr_g", "lr_d", "d_dropout", "batch_size", "steps"} <= set(table)
    covers, collapses = get_variant("toy-8gaussians"), get_variant("toy-8gaussians-bce")
    assert apply_overrides(covers, {k: value for k, (value, _) in table.items()}) == covers
    as_documented = apply_overrides(covers, {k: value for k, (_, value) in table.items()})
    assert as_documented == replace(collapses, variant=covers.variant, description=covers.description)
    differ = {k for k, v in covers.to_dict().items() if v != collapses.to_dict()[k]}
    assert differ == {"variant", "description", "loss", "lr_g", "lr_d"}  # what the page says they differ in
