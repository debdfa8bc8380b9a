"""The text networks' shapes, the cached decoding against the full causal pass, and the writer's promises."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_tf.runtime import compiled
from gan_tf.runtime import speed as speed_lib
from gan_tf.text import config as config_lib
from gan_tf.text import data
from gan_tf.text import models
from gan_tf.text import sample
from gan_tf.text import step as step_lib
from gan_tf.text import train

TEXTS = ("春风又绿江南岸，", "明月何时照我还。", "床前明月光", "Hello, world.")


@pytest.fixture(scope="module")
def config():
    vocabulary = data.vocabulary_of(TEXTS, ("poems", "sayings"))
    tiny = dataclasses.replace(config_lib.PRESETS["tiny"], dropout=0.0)
    return dataclasses.replace(tiny, vocabulary=vocabulary, sequence_length=12, class_names=("poems", "sayings"))


@pytest.fixture(scope="module")
def model(config):
    keras.utils.set_random_seed(3)
    return models.build_language_model(config)


def test_shapes(config, model):
    ids = data.encode(TEXTS, [0, 0, 0, 1], config.vocabulary, config.sequence_length, config.class_names)
    vocabulary_size = data.vocabulary_size(config.vocabulary)
    assert model(ids).shape == (4, 12, vocabulary_size)
    discriminator = models.build_discriminator(config)
    logits, features = models.discriminate(discriminator, ids)
    assert logits.shape == (4, 12) and features.shape == (4, 12, config.discriminator_dim)
    # Distributions over the vocabulary are read as the mix of their tokens' embeddings: one-hot ones as the ids.
    one_hot_logits, _ = models.discriminate(discriminator, tf.one_hot(ids, vocabulary_size))
    np.testing.assert_allclose(one_hot_logits.numpy(), logits.numpy(), atol=1e-5)
    # Real and written texts judged in one pass get the verdicts each gets alone.
    (real, _), (fake, fake_features) = models.discriminate_both(discriminator, ids[:2], ids[2:], training=False)
    np.testing.assert_allclose(real.numpy(), logits.numpy()[:2], atol=1e-5)
    np.testing.assert_allclose(fake.numpy(), logits.numpy()[2:], atol=1e-5)
    np.testing.assert_allclose(fake_features.numpy(), features.numpy()[2:], atol=1e-5)


def test_position_t_reads_only_the_tokens_before_it(config, model):
    ids = data.encode(TEXTS[:1], [0], config.vocabulary, config.sequence_length, config.class_names)
    changed = ids.copy()
    changed[0, 5:] = data.ids_of("光光光光光光光", config.vocabulary)
    np.testing.assert_allclose(model(changed)[0, :5].numpy(), model(ids)[0, :5].numpy(), atol=1e-5)


def test_the_layer_normalisation_and_its_gradient_are_keras_s(model):
    norm = models.blocks(model)[0].attention_norm
    norm.gamma.assign(tf.random.stateless_normal(norm.gamma.shape, seed=(0, 2)))
    norm.beta.assign(tf.random.stateless_normal(norm.beta.shape, seed=(0, 3)))
    x = tf.random.stateless_normal((3, 5, norm.gamma.shape[0]), seed=(0, 4)) * 3.0 + 1.0
    upstream = tf.random.stateless_normal(x.shape, seed=(0, 5))

    def value_and_gradient(normalise):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = normalise(x)
        return y, tape.gradient(y, [x, norm.gamma, norm.beta], output_gradients=upstream)

    keras_layer_norm = lambda x: keras.ops.layer_normalization(x, norm.gamma, norm.beta, epsilon=norm.epsilon)  # noqa: E731
    ours, theirs = value_and_gradient(norm), value_and_gradient(keras_layer_norm)
    np.testing.assert_allclose(ours[0].numpy(), theirs[0].numpy(), atol=1e-5)
    for our_gradient, their_gradient in zip(ours[1], theirs[1], strict=True):  # x's written out, gamma's, beta's.
        np.testing.assert_allclose(our_gradient.numpy(), their_gradient.numpy(), rtol=1e-4, atol=1e-5)


def test_a_blocks_attention_is_keras_multi_head_attention_with_its_weights(model):
    block = models.blocks(model)[0]
    x = tf.random.stateless_normal((3, 7, block.attention.query_dense.kernel.shape[0]), seed=(0, 1))
    keras_attention = block.attention(x, x, use_causal_mask=True, training=False)
    np.testing.assert_allclose(block.attend(x).numpy(), keras_attention.numpy(), atol=1e-5)


def test_decoding_one_position_at_a_time_gives_the_full_passs_logits(config, model):
    ids = data.encode(TEXTS, [0, 0, 0, 1], config.vocabulary, config.sequence_length, config.class_names)
    full = model(ids, training=False).numpy()
    decoder = models.Decoder(model)
    caches = decoder.empty_cache(len(ids))
    for position in range(config.sequence_length):
        logits, caches = decoder.decode_step(tf.constant(ids[:, position]), position, caches)
        np.testing.assert_allclose(logits.numpy(), full[:, position], atol=1e-4)


def test_decoding_in_bfloat16_follows_the_full_pass(config):
    keras.utils.set_random_seed(3)
    with speed_lib.dtype_policy("bfloat16"):
        model = models.build_language_model(config)
    ids = data.encode(TEXTS, [0, 0, 0, 1], config.vocabulary, config.sequence_length, config.class_names)
    full = model(ids, training=False).numpy()
    decoder = models.Decoder(model)
    caches = decoder.empty_cache(len(ids))
    for position in range(4):
        logits, caches = decoder.decode_step(tf.constant(ids[:, position]), position, caches)
        assert logits.dtype == tf.float32
        np.testing.assert_allclose(logits.numpy(), full[:, position], atol=0.1)


def test_the_same_seed_writes_the_same_texts_whatever_else_is_written(config, model):
    writer = sample.Writer(model, config)
    ten = sample.write(writer, 10, seed=4)
    assert sample.write(writer, 10, seed=4) == ten and sample.write(writer, 3, seed=4) == ten[:3]
    assert sample.write(writer, 10, seed=5) != ten
    ids = writer.write_ids(tf.fill([50], data.END_ID + 1), tf.constant([1, 2], tf.int64)).numpy()
    never = sample.never_written(config)
    assert not never[ids[:, 1:]][ids[:, 1:] != data.PAD_ID].any()  # No UNK or start token after position 0.
    for row in ids:  # After END, only padding.
        ends = np.flatnonzero(row == data.END_ID)
        assert not len(ends) or (row[ends[0] + 1 :] == data.PAD_ID).all()


def test_a_tiny_temperature_or_top_k_of_one_writes_the_likeliest_tokens(config, model):
    writer = sample.Writer(model, config)
    greedy = sample.write(writer, 4, seed=0, top_k=1)
    assert sample.write(writer, 4, seed=9, top_k=1) == greedy
    assert sample.write(writer, 4, seed=9, temperature=1e-4) == greedy
    assert sample.write(writer, 4, seed=9, top_p=1e-6) == greedy
    # Greedy by hand: the argmax of the full pass, position after position.
    ids = np.full((1, config.sequence_length), data.PAD_ID, np.int32)
    ids[0, 0] = data.END_ID + 1
    never = sample.never_written(config)
    for position in range(config.sequence_length - 1):
        logits = np.where(never, -np.inf, model(ids).numpy()[0, position])
        ids[0, position + 1] = np.argmax(logits)
        if ids[0, position + 1] == data.END_ID:
            break
    assert greedy[0] == data.decode(ids, config.vocabulary)[0]


def test_a_prompt_is_carried_on_and_an_acrostic_begins_the_lines(config, model):
    writer = sample.Writer(model, config)
    assert all(text.startswith("明月") for text in sample.write(writer, 5, seed=1, prompt="明月"))
    for text in sample.write(writer, 20, seed=1, acrostic="春明"):
        assert text[:1] == "春"
        ends = [index for index, character in enumerate(text[:-1]) if character in sample.LINE_ENDS]
        if ends:  # The second line begins with the second character.
            assert text[ends[0] + 1] == "明", text


def test_the_filter_keeps_the_top_k_and_the_nucleus():
    logits = tf.math.log(tf.constant([[0.5, 0.3, 0.15, 0.05]]))
    assert np.isinf(sample.filtered(logits, top_k=2).numpy()[0]).tolist() == [False, False, True, True]
    # The nucleus of 0.7: 0.5 alone is less, 0.5 + 0.3 reaches it.
    assert np.isinf(sample.filtered(logits, top_p=0.7).numpy()[0]).tolist() == [False, False, True, True]
    np.testing.assert_allclose(sample.filtered(logits, temperature=2.0).numpy(), logits.numpy() / 2)


def test_no_gradient_of_a_step_is_summed_from_more_than_two_parts(config):
    # A tensor used three or more times gets its gradient as TensorFlow's AddN of as many parts, which sums them in
    # an order that depends on which part's memory is free first: two runs of one step could differ in the last bits.
    speed = speed_lib.resolve(config, on_gpu=False)
    language_model = train.build_language_model_state(config)
    gan = train.build_gan_state(config, language_model.networks["language_model"].get_weights())
    batch = tf.TensorSpec((config.batch_size, config.sequence_length), tf.int32)
    for state, step in [(language_model, step_lib.language_model_step), (gan, train.gan_step(config))]:
        graph = tf.function(compiled.make_train_step(step, state, speed)).get_concrete_function(batch).graph
        sums = [len(op.inputs) for op in graph.get_operations() if op.type == "AddN"]
        assert sums and max(sums) == 2, sums
