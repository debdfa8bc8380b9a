"""Every setting of a text run, in one dataclass, with the reason for each default beside it.

A text run trains two models in two phases, each resumable on its own: a language model by maximum
likelihood (`--epochs`), then a GAN whose generator starts from it (`--gan-epochs`). Like the pictures'
config (gan_tf/config.py) it is saved as config.json beside the checkpoints, with "kind": "text", and the
saved architecture wins when a run resumes. The settings every kind of run shares are RunSettings'.
"""

import dataclasses

from gan_tf.runtime import errors
from gan_tf.runtime import settings
from gan_tf.runtime.settings import ON_OFF
from gan_tf.runtime.settings import interval
from gan_tf.runtime.settings import of_data
from gan_tf.runtime.settings import setting
from gan_tf.runtime.settings import whole

KIND = "text"
SIZE = whole(1, 4096)


@dataclasses.dataclass(frozen=True)
class TextConfig(settings.RunSettings):
    # --- The texts: fixed once a run has saved a checkpoint. ---
    kind: str = of_data(KIND, "What the run learns from: texts.", architecture=False)
    data: str = of_data("", "Where the texts come from: 'fortunes' or a path.", architecture=False)
    class_names: tuple = of_data((), "The texts' classes (their sub-folders), in label order; () for none.")
    vocabulary: tuple = of_data((), "The tokens: the end token, the start tokens, then the characters.", repr=False)
    sequence_length: int = of_data(0, "Token ids per text: the longest training text, with its start and end.")
    max_length: int = setting(
        100,
        "The longest text kept, in characters; longer ones are skipped and counted (the fortunes' short ones).",
        whole(1, 10_000),
        architecture=True,
    )

    # --- The networks: fixed once a run has saved a checkpoint. ---
    embedding_dim: int = setting(
        192, "Width of the Transformer: 3.7 M weights with the quatrains' 5,000 characters, quick on a CPU.", SIZE,
        architecture=True,
    )  # fmt: skip
    heads: int = setting(
        4,
        "Attention heads of each block; each looks at embedding_dim / heads numbers.",
        whole(1, 64),
        architecture=True,
    )
    layers: int = setting(
        4, "Transformer blocks of the language model (and so of the generator).", whole(1, 48), architecture=True
    )
    feed_forward_dim: int = setting(
        768, "Width of each block's feed-forward layer: four times the embedding, as in GPT.", SIZE, architecture=True
    )
    dropout: float = setting(
        0.1, "Dropout in the language model's blocks, against learning a few thousand texts by heart.",
        interval("[0, 1)"), architecture=True,
    )  # fmt: skip
    discriminator_dim: int = setting(
        128, "Width of the discriminator, a smaller causal Transformer.", SIZE, architecture=True
    )
    discriminator_layers: int = setting(2, "Transformer blocks of the discriminator.", whole(1, 48), architecture=True)

    # --- The language model's training: may change when a run resumes. ---
    epochs: int = setting(
        8, "Epochs of the language model (a resumed run trains up to this many), each every training text once.",
        whole(1, 100_000),
    )  # fmt: skip
    batch_size: int = setting(64, "Texts per step.", whole(1, 60_000))
    learning_rate: float = setting(1e-3, "Adam step size of the language model.", interval("(0, 1]"))

    # --- The GAN: its generator starts as the language model. ---
    gan_epochs: int = setting(
        2, "Epochs of the GAN after the language model's, each every training text once as D's real examples.",
        whole(0, 100_000),
    )  # fmt: skip
    generator_learning_rate: float = setting(
        1e-5, "Adam step size of the generator: small, as it starts from a trained language model.", interval("(0, 1]")
    )
    discriminator_learning_rate: float = setting(1e-4, "Adam step size of the discriminator.", interval("(0, 1]"))
    kl_weight: float = setting(
        1.0,
        "Weight of KL(generator || language model) per token in G's loss, which keeps the generator near the "
        "language model it started from.",
        interval("[0, 1000]"),
    )
    discount: float = setting(
        0.9,
        "How much a token's reward counts rewards of the tokens after it: R_t = r_t + discount R_t+1 "
        "(ScratchGAN's per-position rewards).",
        interval("[0, 1]"),
    )
    gumbel_temperature: float = setting(
        0.0,
        "Above 0: RelGAN's Gumbel-softmax instead of the policy gradient: D reads G's softened tokens at this "
        "temperature and G learns through them (Nie et al. 2019); 0: the policy gradient.",
        interval("[0, 100]"),
    )
    rollouts: int = setting(
        0,
        "Above 0: SeqGAN's Monte Carlo roll-outs (Yu et al. 2017): a token's reward is D's verdict on this many "
        "completions of its prefix (slow: a sampling pass a roll-out and a position); 0: D's score at each position.",
        whole(0, 64),
    )
    feature_matching: float = setting(
        0.0,
        "Weight of feature matching on D's embedding of a text, |mean f(real) - mean f(fake)|^2, in G's loss "
        "(Salimans et al. 2016; the quotes GAN of the articles); 0: none.",
        interval("[0, 1000]"),
    )
    pretrain: str = setting(
        "on",
        "on: the generator starts as the language model; off: from scratch, with no KL term (ScratchGAN, "
        "d'Autume et al. 2019).",
        ON_OFF,
    )
    frame_texts: int = setting(8, "Texts written from the same seeds after every epoch, for the frames.", whole(1, 100))

    def validate(self):
        """Raises UserError naming the first setting that cannot work, alone or with another; returns the config."""
        super().validate()
        if self.embedding_dim % self.heads:
            raise errors.UserError(
                f"--embedding-dim {self.embedding_dim} does not split into --heads {self.heads}: pick a multiple."
            )
        if self.discriminator_dim % self.heads:
            raise errors.UserError(
                f"--discriminator-dim {self.discriminator_dim} does not split into --heads {self.heads}: pick a multiple."
            )
        if self.feature_matching and not self.gumbel_temperature:
            raise errors.UserError(
                "--feature-matching needs --gumbel-temperature above 0: D's features of written tokens reach G only "
                "through the Gumbel-softmax's softened tokens."
            )
        if self.gumbel_temperature and self.rollouts:
            raise errors.UserError(
                "--gumbel-temperature and --rollouts are two ways for G to learn from D: give one of them."
            )
        return self


PRESETS = {
    "default": TextConfig(),
    # What the tests use: a few seconds a phase on tiny texts.
    "tiny": TextConfig(
        embedding_dim=16,
        heads=2,
        layers=1,
        feed_forward_dim=32,
        discriminator_dim=8,
        discriminator_layers=1,
        epochs=2,
        gan_epochs=1,
        batch_size=8,
        frame_texts=2,
    ),
}


def flag_fields():
    """The fields that are flags of `train`."""
    return settings.flag_fields(TextConfig)


def resolve(overrides, saved=None, preset=None):
    """The config that `train` with these flags runs, before its texts are read (as config.resolve)."""
    if saved is None:
        return dataclasses.replace(PRESETS[preset or "default"], **overrides).validate()
    settings.refuse_other_architecture(saved, overrides)
    if preset is not None:
        facts = {name: getattr(saved, name) for name in ("class_names", "vocabulary", "sequence_length")}
        if not settings.same_architecture(saved, dataclasses.replace(PRESETS[preset], **overrides, **facts)):
            raise errors.UserError(
                f"--preset {preset} has other networks than the run saved here: drop --preset to resume "
                f"that run, or add --fresh to start over."
            )
    return dataclasses.replace(saved, **overrides).validate()


def with_texts(config, texts, where):
    """`config` completed by the facts of the training texts (text/data.py): their classes, vocabulary and
    sequence length, and where they come from. A config that knows its texts already (a resumed run's) must get
    texts of the same classes; its vocabulary and length stay, and characters it lacks are read as UNK."""
    from gan_tf.text import data

    if config.vocabulary:
        if tuple(texts.class_names) != config.class_names:
            raise errors.UserError(
                f"the run was trained on texts of the classes {', '.join(config.class_names) or 'none'} "
                f"({config.data}), but these have {', '.join(texts.class_names) or 'none'}: give the run's texts, "
                f"or add --fresh (or use another --checkpoint-dir) to start a new run."
            )
        return config
    facts = {
        "class_names": tuple(texts.class_names),
        "vocabulary": data.vocabulary_of(texts.texts, texts.class_names),
        "sequence_length": data.sequence_length(texts.texts),
        "data": where,
    }
    return dataclasses.replace(config, **facts).validate()


def from_values(values, path):
    """The TextConfig of config.json's values (lists made tuples again).

    Raises:
      UserError: values this program did not write.
    """
    values = dict(
        values, class_names=tuple(values.get("class_names", ())), vocabulary=tuple(values.get("vocabulary", ()))
    )
    try:
        return TextConfig(**values).validate()
    except (ValueError, TypeError) as error:
        raise errors.UserError(
            f"{path} is not a gan_tf config ({error}): point --checkpoint-dir at a gan_tf run, "
            f"or add --fresh to start a new run there."
        ) from None
