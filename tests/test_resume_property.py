"""The command that started a run resumes it, whatever its preset and architecture flags (hypothesis).

Each example draws a preset and architecture flags, trains one epoch with `train PRESET FLAGS
--epochs 1`, then gives the same command with `--epochs 2`: the run must continue, and end bitwise
where one uninterrupted `--epochs 2` run of the same command ends. The same run given a preset that
builds other networks is refused with the message that says what to do. The networks are kept
small by always drawing small filter counts, so each example trains in a few seconds.
"""

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import example
from hypothesis import given
from hypothesis import note
from hypothesis import settings
from hypothesis import strategies as st

from gan_tf import config as config_lib
from gan_tf.runtime import errors
from gan_tf.runtime import settings as settings_lib
from tests.conftest import error_line
from tests.conftest import fingerprint
from tests.conftest import gan_tf
from tests.conftest import saved_variables
from tests.conftest import write_mnist_npz

pytestmark = pytest.mark.slow  # Three short trainings an example.

SMALL_NETWORKS = {
    "--generator-filters": st.sampled_from(["2", "4"]),
    "--discriminator-filters": st.sampled_from(["2", "4"]),
    "--encoder-filters": st.sampled_from(["2", "4"]),
    "--projection-filters": st.sampled_from(["4", "8"]),
}
OTHER_ARCHITECTURE_FLAGS = {
    "--conditional": st.sampled_from(["on", "off"]),
    "--latent-dim": st.sampled_from(["4", "8"]),
    "--clusters": st.sampled_from(["3", "8"]),
    "--spectral-norm": st.sampled_from(["on", "off"]),
    "--generator-average": st.sampled_from(["0", "0.9"]),
    "--refine-first-map": st.sampled_from(["on", "off"]),
    "--kernel-size": st.sampled_from(["3", "4"]),
    "--discriminator-batchnorm": st.sampled_from(["on", "off"]),
    "--encoder": st.sampled_from(["on", "off"]),
    "--architecture": st.sampled_from(["dcgan", "mlp"]),
}
architecture_flags = st.fixed_dictionaries(SMALL_NETWORKS, optional=OTHER_ARCHITECTURE_FLAGS)


def overrides(flags):
    """The config overrides of `flags` ({"--latent-dim": "8"} -> {"latent_dim": 8}), as the command line makes them."""
    fields = {settings_lib.flag(field.name): field for field in dataclasses.fields(config_lib.Config)}
    return {fields[flag].name: fields[flag].type(value) for flag, value in flags.items()}


def train(root, preset, flags, epochs, name="run"):
    command = [
        "train",
        "--preset",
        preset,
        *[part for item in flags.items() for part in item],
        "--epochs",
        epochs,
        "--batch-size",
        16,
        "--data",
        root / "mnist.npz",
        "--checkpoint-dir",
        root / name / "checkpoints",
        "--output-dir",
        root / name / "outputs",
        "--no-progress",
    ]
    return gan_tf(*command)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(preset=st.sampled_from(sorted(config_lib.PRESETS)), flags=architecture_flags)
# The soak's case: the tiny preset, unconditional with clusters (and spectral normalisation).
@example(
    preset="tiny",
    flags={
        "--generator-filters": "4",
        "--discriminator-filters": "4",
        "--encoder-filters": "2",
        "--projection-filters": "8",
        "--conditional": "off",
        "--clusters": "8",
        "--spectral-norm": "on",
    },
)
def test_the_command_that_started_a_run_extends_it_bitwise(tmp_path_factory, preset, flags):
    try:
        config_lib.resolve(overrides(flags), None, preset)
    except errors.UserError:
        assume(False)  # Flags that no run can have (--clusters with --conditional on).
    note(f"train --preset {preset} {flags}")
    root = tmp_path_factory.mktemp("resume")
    write_mnist_npz(root / "mnist.npz", train_count=32)

    assert train(root, preset, flags, 1).returncode == 0
    resumed = train(root, preset, flags, 2)
    assert resumed.returncode == 0, resumed.stderr
    assert ": epoch 1, step 2" in resumed.stdout and "epoch 2/2" in resumed.stdout, resumed.stdout
    uninterrupted = train(root, preset, flags, 2, name="uninterrupted")
    assert uninterrupted.returncode == 0, uninterrupted.stderr
    expected, found = (
        saved_variables(root / "uninterrupted" / "checkpoints"),
        saved_variables(root / "run" / "checkpoints"),
    )
    assert sorted(found) == sorted(expected)
    assert [name for name in expected if not np.array_equal(found[name], expected[name])] == []

    # Another preset refuses the run when its networks differ (with these flags), and changes nothing.
    saved = config_lib.load(root / "run" / "checkpoints")
    for other in sorted(set(config_lib.PRESETS) - {preset}):
        try:
            other_config = config_lib.resolve(overrides(flags), None, other)
        except errors.UserError:
            continue
        if settings_lib.same_architecture(saved, other_config):
            continue
        before = fingerprint(root / "run")
        message = error_line(train(root, other, flags, 3))
        assert f"--preset {other} has other networks than the run saved here" in message
        assert "drop --preset to resume that run, or add --fresh to start over" in message
        assert fingerprint(root / "run") == before
