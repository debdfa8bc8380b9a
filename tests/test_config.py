"""The picture GAN's config: validation from each field's marks, resolution on resume, and its file beside the checkpoints."""

import dataclasses
import json

import pytest

from gan_tf import config as config_lib
from gan_tf import mnist
from gan_tf.runtime import checkpoints
from gan_tf.runtime import errors
from gan_tf.runtime import settings


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("epochs", 0, "--epochs must be a whole number from 1 to 100,000, got 0."),
        ("batch_size", -1, "--batch-size must be a whole number from 1 to 60,000, got -1."),
        ("latent_dim", 0, "--latent-dim must be a whole number from 1 to 4,096, got 0."),
        ("generator_learning_rate", 0.0, "--generator-learning-rate must be a number in (0, 1], got 0.0."),
        ("generator_learning_rate", float("nan"), "--generator-learning-rate must be a number in (0, 1], got nan."),
        ("adam_beta_1", 1.0, "--adam-beta-1 must be a number in [0, 1), got 1.0."),
        ("batchnorm_momentum", 0.0, "--batchnorm-momentum must be a number in (0, 1), got 0.0."),
        ("image_size", 48, "--image-size must be one of 28, 32, 64, got 48."),
        ("loss", "wasserstein", "--loss must be one of non-saturating, least-squares, hinge, wasserstein-gp"),
        ("checkpoint_every_seconds", -1.0, "--checkpoint-every-seconds must be a number in [0, 604800], got -1.0."),
    ],
)
def test_each_value_is_checked_against_the_values_its_field_states(field, value, message):
    with pytest.raises(errors.UserError) as raised:
        config_lib.resolve({field: value})
    assert str(raised.value).startswith(message)
    with pytest.raises(errors.UserError, match=settings.flag(field)):  # Alone, before a config is put together.
        settings.check_values(config_lib.Config, {field: value})


def test_every_field_states_its_reason_and_the_architecture_is_marked_beside_it():
    for field in dataclasses.fields(config_lib.Config):
        assert field.metadata["why"].endswith("."), field.name
    architecture = settings.architecture_fields(config_lib.Config)
    assert {"image_size", "channels", "class_names", "latent_dim", "clusters", "generator_average"} <= set(architecture)
    assert not {"epochs", "batch_size", "loss", "generator_learning_rate", "jit_compile"} & set(architecture)
    # The settings every kind of run shares are RunSettings', apart from the picture GAN's.
    shared = {field.name for field in dataclasses.fields(settings.RunSettings)}
    assert {"epochs", "batch_size", "seed", "keep_checkpoints", "mixed_precision"} <= shared
    assert not {"latent_dim", "loss", "frame_grid", "generator_learning_rate"} & shared


def test_new_run_starts_from_the_preset_and_applies_overrides():
    config = config_lib.resolve({"epochs": 3}, preset="tiny")
    assert config == dataclasses.replace(config_lib.PRESETS["tiny"], epochs=3)


def test_a_new_run_takes_its_pictures_facts_and_pictures_without_classes_make_it_unconditional():
    facts = {"image_size": 28, "channels": 1, "class_names": (), "data": "/strokes"}
    config = config_lib.with_pictures(config_lib.resolve({}), facts)
    assert (config.image_size, config.channels, config.class_names, config.data) == (28, 1, (), "/strokes")
    assert config.conditional == "off" and config.clusters == config_lib.UNCONDITIONAL_DEFAULTS["clusters"]
    asked = {"spectral_norm": "off"}
    unconditional = config_lib.with_pictures(config_lib.resolve(asked), facts, asked)
    assert unconditional.spectral_norm == "off" and unconditional.clusters == 100  # A flag still wins.
    facts = {**facts, "image_size": 32, "channels": 3}
    tiny = config_lib.with_pictures(config_lib.resolve({}, preset="tiny"), facts, preset="tiny")
    assert tiny.conditional == "off" and tiny.clusters == 0  # Presets are kept as they are.
    with pytest.raises(errors.UserError, match="--conditional on needs pictures with classes"):
        config_lib.with_pictures(config_lib.resolve({"conditional": "on"}), facts, {"conditional": "on"})


@pytest.mark.parametrize("size, channels", [(32, 3), (64, 3), (64, 1)])
def test_colour_pictures_and_larger_ones_take_their_own_defaults_and_digits_keep_theirs(size, channels):
    facts = {"image_size": size, "channels": channels, "class_names": ("cat", "dog"), "data": "/pets"}
    for asked, mode in [({}, "on"), ({"conditional": "off"}, "off")]:
        config = config_lib.with_pictures(config_lib.resolve(asked), facts, asked)
        for name, value in config_lib.COLOUR_DEFAULTS[mode].items():
            assert getattr(config, name) == value
    asked = {"class_conditioning": "concatenate"}
    concatenated = config_lib.with_pictures(config_lib.resolve(asked), facts, asked)
    assert concatenated.class_conditioning == "concatenate" and concatenated.class_loss == 0  # It needs the projection.
    tiny = config_lib.with_pictures(config_lib.resolve({}, preset="tiny"), facts, preset="tiny")
    assert tiny.class_conditioning == "concatenate"  # Presets are kept as they are.
    digits = {"image_size": 28, "channels": 1, "class_names": mnist.DIGIT_NAMES, "data": "mnist"}
    assert config_lib.with_pictures(config_lib.resolve({}), digits) == dataclasses.replace(
        config_lib.Config(), data="mnist"
    )


def test_resume_keeps_saved_architecture_and_takes_new_training_settings():
    saved = config_lib.Config(latent_dim=16)
    config = config_lib.resolve({"epochs": 20, "latent_dim": 16}, saved=saved)
    assert config.latent_dim == 16 and config.epochs == 20


def test_resume_refuses_another_architecture_another_preset_and_other_pictures():
    with pytest.raises(errors.UserError, match="--latent-dim 16, not 32.*--fresh"):
        config_lib.resolve({"latent_dim": 32}, saved=config_lib.Config(latent_dim=16))
    with pytest.raises(errors.UserError, match="--preset tiny has other networks than the run"):
        config_lib.resolve({}, saved=config_lib.Config(), preset="tiny")
    assert config_lib.resolve({}, saved=config_lib.PRESETS["tiny"], preset="tiny") == config_lib.PRESETS["tiny"]
    unconditional = config_lib.resolve({"conditional": "off"})  # With the unconditional defaults.
    assert config_lib.resolve({"conditional": "off"}, saved=unconditional, preset="default") == unconditional
    saved = config_lib.Config(data="/digits")
    with pytest.raises(errors.UserError, match="pictures with 28 pixels a side .* these have 32"):
        config_lib.with_pictures(config_lib.resolve({}, saved=saved), {"image_size": 32, "data": "/digits"})


def test_save_and_load_round_trip(tmp_path):
    config = config_lib.Config(latent_dim=12, epochs=4, class_names=("cat", "dog"))
    config_lib.save(config, tmp_path)
    assert config_lib.load(tmp_path) == config
    assert config_lib.load(tmp_path / "missing") is None


def test_configs_saved_by_older_versions_load(tmp_path):
    values = dataclasses.asdict(config_lib.Config(conditional="off", refine_first_map="on"))
    del values["conditional"]  # Saved before conditional runs existed: unconditional.
    values["refine_7x7"] = values.pop("refine_first_map")  # The setting's old name.
    checkpoints.settings_path(tmp_path).write_text(json.dumps(values))
    assert config_lib.load(tmp_path) == config_lib.Config(conditional="off", refine_first_map="on")


def test_load_refuses_a_foreign_config(tmp_path):
    checkpoints.settings_path(tmp_path).write_text(json.dumps({"learning_rate": 0.1}))
    with pytest.raises(errors.UserError, match="not a gan_tf config"):
        config_lib.load(tmp_path)
    checkpoints.settings_path(tmp_path).write_text("[1, 2]")
    with pytest.raises(errors.UserError, match="not a gan_tf config"):
        config_lib.load(tmp_path)


def test_the_gan_labs_flags_that_do_not_fit_together_are_refused():
    with pytest.raises(errors.UserError, match="--label-smoothing applies to --loss non-saturating and least-squares"):
        config_lib.resolve({"loss": "hinge", "label_smoothing": 0.1})
    with pytest.raises(errors.UserError, match="--clusters is for --conditional off"):
        config_lib.resolve({"clusters": 10})
    with pytest.raises(errors.UserError, match="--critic-steps must be a whole number from 1"):
        config_lib.resolve({"critic_steps": 0})
    with pytest.raises(errors.UserError, match="are all 0, so nothing would be saved"):
        config_lib.resolve({"checkpoint_every_epochs": 0, "checkpoint_every_seconds": 0.0})
    asked = {"class_loss": 1.0}  # The class read from a projection: colour pictures' default, not the digits'.
    digits = {"image_size": 28, "channels": 1, "class_names": mnist.DIGIT_NAMES, "data": "mnist"}
    with pytest.raises(errors.UserError, match="--class-loss reads the class from a projection discriminator"):
        config_lib.with_pictures(config_lib.resolve(asked), digits, asked)
    colour = {**digits, "image_size": 32, "channels": 3, "data": "/photos"}
    assert config_lib.with_pictures(config_lib.resolve(asked), colour, asked).class_conditioning == "projection"
    with pytest.raises(errors.UserError, match="--class-loss needs labels to name"):
        config_lib.resolve({"conditional": "off", "clusters": 0, **asked})
    with pytest.raises(errors.UserError, match="--class-conditioning projection needs labels to project on"):
        config_lib.resolve({"conditional": "off", "clusters": 0, "class_conditioning": "projection"})
    unlabelled = {**colour, "class_names": ()}  # A colour folder without classes: no clusters by default.
    with pytest.raises(errors.UserError, match="--class-loss needs labels to name"):
        config_lib.with_pictures(config_lib.resolve(asked), unlabelled, asked)


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


@pytest.mark.parametrize(
    "values, inside, outside",
    [
        (settings.interval("(0, 1]"), [1e-9, 0.5, 1.0, 1], [0.0, 1.0000001, -1.0, float("nan"), True, "0.5"]),
        (settings.interval("[0, 1)"), [0.0, 0, 0.999], [1.0, -1e-9]),
        (settings.whole(0, 6), [0, 6], [-1, 7, 2.0, True]),
        (settings.one_of("on", "off"), ["on", "off"], ["On", "", None]),
    ],
)
def test_the_kinds_of_values_a_setting_takes(values, inside, outside):
    assert all(value in values for value in inside)
    assert not any(value in values for value in outside)
