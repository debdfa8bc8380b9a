"""The config: validation, resolution on resume, and its file beside the checkpoints."""

import dataclasses
import json

import pytest

from gan_tf import config as config_lib
from gan_tf.runtime import errors


@pytest.mark.parametrize(
    "field, value",
    [
        ("epochs", 0),
        ("batch_size", -1),
        ("latent_dim", 0),
        ("generator_learning_rate", 0.0),
        ("generator_learning_rate", float("nan")),
        ("adam_beta_1", 1.0),
        ("batchnorm_momentum", 0.0),
    ],
)
def test_bad_values_name_their_flag(field, value):
    with pytest.raises(errors.UserError, match=config_lib.flag(field)):
        config_lib.resolve({field: value})


def test_new_run_starts_from_the_preset_and_applies_overrides():
    config = config_lib.resolve({"epochs": 3}, preset="tiny")
    assert config == dataclasses.replace(config_lib.PRESETS["tiny"], epochs=3)


def test_resume_keeps_saved_architecture_and_takes_new_training_settings():
    saved = config_lib.Config(latent_dim=16)
    config = config_lib.resolve({"epochs": 20, "latent_dim": 16}, saved=saved)
    assert config.latent_dim == 16 and config.epochs == 20


def test_resume_refuses_another_architecture():
    with pytest.raises(errors.UserError, match="--latent-dim 16, not 32.*--fresh"):
        config_lib.resolve({"latent_dim": 32}, saved=config_lib.Config(latent_dim=16))


def test_save_and_load_round_trip(tmp_path):
    config = config_lib.Config(latent_dim=12, epochs=4)
    config_lib.save(config, tmp_path)
    assert config_lib.load(tmp_path) == config
    assert config_lib.load(tmp_path / "missing") is None


def test_a_config_saved_before_conditional_runs_existed_loads_as_unconditional(tmp_path):
    values = dataclasses.asdict(config_lib.Config(conditional="off"))
    del values["conditional"]
    (tmp_path / config_lib.CONFIG_FILENAME).write_text(json.dumps(values))
    assert config_lib.load(tmp_path) == config_lib.Config(conditional="off")


def test_load_refuses_a_foreign_config(tmp_path):
    (tmp_path / config_lib.CONFIG_FILENAME).write_text(json.dumps({"learning_rate": 0.1}))
    with pytest.raises(errors.UserError, match="not a gan_tf config"):
        config_lib.load(tmp_path)


def test_the_gan_labs_flags_that_do_not_fit_together_are_refused():
    with pytest.raises(errors.UserError, match="--label-smoothing applies to --loss non-saturating and least-squares"):
        config_lib.resolve({"loss": "hinge", "label_smoothing": 0.1})
    with pytest.raises(errors.UserError, match="--clusters is for --conditional off"):
        config_lib.resolve({"clusters": 10})
    with pytest.raises(errors.UserError, match="--loss must be one of"):
        config_lib.resolve({"loss": "wasserstein"})
    with pytest.raises(errors.UserError, match="--critic-steps must be a whole number from 1"):
        config_lib.resolve({"critic_steps": 0})


def test_an_unconditional_run_starts_from_the_unconditional_defaults_and_flags_still_win():
    unconditional = config_lib.resolve({"conditional": "off"})
    assert {
        name: getattr(unconditional, name) for name in config_lib.UNCONDITIONAL_DEFAULTS
    } == config_lib.UNCONDITIONAL_DEFAULTS
    assert config_lib.resolve({"conditional": "off", "clusters": 0}).clusters == 0
    assert config_lib.resolve({}).clusters == 0  # The conditional default has its digits.
    assert config_lib.resolve({"conditional": "off"}, preset="tiny").clusters == 0  # Presets are kept as they are.


@pytest.mark.parametrize("name, value", [("architecture", "mlp"), ("spectral_norm", "on"), ("generator_average", 0.9)])
def test_the_gan_labs_architecture_flags_are_fixed_once_saved(name, value):
    with pytest.raises(errors.UserError, match="drop the flag to resume"):
        config_lib.resolve({name: value}, saved=config_lib.Config())
    assert config_lib.resolve({"loss": "hinge", "augment": "on"}, saved=config_lib.Config()).loss == "hinge"
