"""The variants make compare trains: names for sets of flags, in either mode. No TensorFlow here, so
the command line checks --variants at once."""

from gan_tf import config as config_lib
from gan_tf.runtime import errors
from gan_tf.runtime import settings

# One variant per flag of the GAN lab, over each mode's defaults; "default" is the mode's defaults alone.
VARIANTS = {
    "default": {},
    "least-squares": {"loss": "least-squares"},
    "hinge": {"loss": "hinge"},
    "non-saturating": {"loss": "non-saturating"},  # The digits' loss, where another is the default.
    # As in the paper: five critic updates per G update, and no batch normalisation in the critic, whose
    # gradient penalty is taken image by image.
    "wasserstein-gp": {"loss": "wasserstein-gp", "critic_steps": 5, "discriminator_batchnorm": "off"},
    "spectral-norm": {"spectral_norm": "on"},
    "label-smoothing": {"label_smoothing": 0.1, "loss": "non-saturating"},  # A loss with targets to smooth.
    "feature-matching": {"feature_matching": 1.0},
    "mlp": {"architecture": "mlp"},
    "augment": {"augment": "on"},
    "generator-average": {"generator_average": 0.999},
    # The class at every layer of G (its batch normalisation's gains) and in D's verdict (a projection), or
    # only beside G's and D's inputs: each is the default of some pictures (config.COLOUR_DEFAULTS).
    "projection": {"class_conditioning": "projection"},
    "concatenate": {"class_conditioning": "concatenate"},
    # D names the class of real pictures from its projection, and G draws pictures it names as asked (AC-GAN's term).
    "class-loss": {"class_conditioning": "projection", "class_loss": 1.0},
    # Unconditional only: the self-conditioning on clusters switched off, or on where it is off (colour pictures).
    "no-clusters": {"clusters": 0},
    "clusters": {"clusters": config_lib.UNCONDITIONAL_DEFAULTS["clusters"]},
}
MODES = {"on": "conditional", "off": "unconditional"}

# The text lab (tools/compare_text.py): each trick of the text GAN alone, over the text defaults (the policy
# gradient with per-position rewards and a baseline, the KL term), beside "language-model", the baseline.
TEXT_VARIANTS = {
    "default": {},
    "no-kl": {"kl_weight": 0.0},  # The policy gradient alone: nothing keeps G near the language model.
    "gumbel-softmax": {"gumbel_temperature": 1.0},  # RelGAN: D's verdict reaches G through softened tokens.
    "feature-matching": {"gumbel_temperature": 1.0, "feature_matching": 1.0},  # Needs a gradient through D.
    "rollouts": {"rollouts": 1},  # SeqGAN's Monte Carlo rewards, one completion a token (the paper: 16).
    "no-pretraining": {"pretrain": "off"},  # ScratchGAN: G from scratch, for as many tokens as the model saw.
}
TEXT_LANGUAGE_MODEL = "language-model"


def check_variant(variant):
    """Raises UserError unless `variant` names a picture variant (MODE/NAME) or a text one."""
    if variant == TEXT_LANGUAGE_MODEL or variant in TEXT_VARIANTS:
        return
    if "/" not in variant:
        raise errors.UserError(
            f"--variants {variant!r}: name a text variant ({', '.join([TEXT_LANGUAGE_MODEL, *TEXT_VARIANTS])}) or a "
            f"picture one as MODE/NAME, e.g. unconditional/hinge."
        )
    variant_config(variant)


def variant_config(variant, facts=None):
    """The Config of a variant named "<conditional|unconditional>/<name>[+<name>...]", e.g. "unconditional/hinge+augment",
    for pictures with these facts (data.facts(); None: MNIST's digits).

    Raises:
      UserError: an unknown mode or name.
    """
    mode, _, names = variant.partition("/")
    if mode not in MODES.values() or not names:
        raise errors.UserError(
            f"--variants {variant!r}: name a variant as MODE/NAME, MODE one of "
            f"{', '.join(MODES.values())}, e.g. unconditional/hinge or conditional/hinge+augment."
        )
    changes = {"conditional": "on" if mode == "conditional" else "off"}
    for name in names.split("+"):
        if name not in VARIANTS:
            raise errors.UserError(f"--variants {variant!r}: unknown variant {name!r}; known: {', '.join(VARIANTS)}.")
        changes.update(VARIANTS[name])
    config = config_lib.resolve(changes)
    return config if facts is None else config_lib.with_pictures(config, facts, changes)


def default_variants(labelled=True, facts=None):
    """make compare's default list for pictures with these facts (None: MNIST's digits): in each mode, its
    defaults and every variant that changes them and applies to it (so unconditional/spectral-norm, already a
    default of that mode, and conditional/clusters are left out). Pictures without classes get the unconditional
    ones only."""
    names = []
    for mode in MODES.values() if labelled else ["unconditional"]:
        default = variant_config(f"{mode}/default", facts)
        names += [
            f"{mode}/{name}" for name in VARIANTS if name == "default" or changes(f"{mode}/{name}", default, facts)
        ]
    return names


def changes(variant, default, facts):
    """Whether `variant` applies to its mode on these pictures (its flags are a valid run) and differs from `default`."""
    try:
        return variant_config(variant, facts) != default
    except errors.UserError:  # E.g. clusters told the class, or a class loss without labels.
        return False


def flags(config, facts=None):
    """The flags that make `config` differ from its mode's defaults on pictures with these facts (None: MNIST's
    digits), as a command line would give them."""
    default = variant_config(f"{MODES[config.conditional]}/default", facts)
    return " ".join(
        f"{settings.flag(field.name)} {getattr(config, field.name)}"
        for field in config_lib.flag_fields()
        if getattr(config, field.name) != getattr(default, field.name)
    )
