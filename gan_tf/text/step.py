"""One train step of the language model, and one of the GAN, on one batch of real texts.

Read them beside the pictures' step (gan_tf/step.py): a forward pass under a tape, then for each network
`tape.gradient` and `optimizer.apply_gradients`, with a banner naming what it optimises.

    (1) Language model: minimise -log p(x_t+1 | x_<=t) over the real texts' tokens (maximum likelihood).
    (2) Update D: maximise log D(x_<=t) + log(1 - D(G_<=t)) at every position of real and written texts.
    (3) Update G: maximise the discounted rewards R_t of the tokens it writes, r_t = D's logit at t, by the
        policy gradient with a baseline, - kl_weight KL(G || language model).

G's texts are written with its own distribution (temperature 1, sample.Writer), so (3) is on-policy: the
REINFORCE of SeqGAN (Yu et al. 2017) with ScratchGAN's per-position rewards and a baseline instead of
Monte Carlo roll-outs (d'Autume et al. 2019), which costs one written text a real one. The GAN lab's
other ways reach in through the config: RelGAN's Gumbel-softmax (D reads G's softened tokens and G learns
through them), SeqGAN's roll-outs, feature matching. As in the pictures' step, D and G learn from one
forward pass, both gradients taken before either update.

Like the pictures' step, these are plain Python over a runtime.state.TrainingState; runtime/compiled.py
compiles them, and `average` turns per-text losses into the batch's mean.
"""

import tensorflow as tf

from gan_tf.text import data
from gan_tf.text import losses
from gan_tf.text import models
from gan_tf.text import sample

# Streams of the GAN step's own random numbers, from (seed, step).
WRITE, ROLLOUT = 1, 2


def language_model_step(state, tokens, average=tf.reduce_mean):
    """(1) One step of maximum likelihood on a batch of token ids int32 (B, T); returns {"language_model": loss}."""
    model, optimizer = state.networks["language_model"], state.optimizers["language_model"]
    inputs, targets = tokens[:, :-1], tokens[:, 1:]  # Each position guesses the token after it.
    with tf.GradientTape() as tape:
        loss = average(losses.language_model_loss(model(inputs, training=True), targets))
        scaled_loss = optimizer.scale_loss(loss)

    # (1) Update the language model: minimise -log p(x_t+1 | x_<=t).
    gradients = tape.gradient(scaled_loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return {"language_model": loss}


def gan_step(state, config, real_tokens, average=tf.reduce_mean):
    """(2) and (3) on a batch of real token ids int32 (B, T): G writes as many texts, starting as the real ones do
    (the same classes), D judges both, and both learn. Returns {"generator": loss, "discriminator": loss}."""
    generator, discriminator = state.networks["generator"], state.networks["discriminator"]
    writer = sample.Writer(generator, config)
    seed, write_seed = step_seeds(state, config)
    fake_tokens = writer.write_ids(real_tokens[:, 0], write_seed)  # G's own texts, at temperature 1.
    fake_inputs, fake_targets = fake_tokens[:, :-1], fake_tokens[:, 1:]
    real_mask, fake_mask = losses.target_mask(real_tokens[:, 1:]), losses.target_mask(fake_targets)

    with tf.GradientTape() as generator_tape, tf.GradientTape() as discriminator_tape:
        generator_logits = generator(fake_inputs, training=False)  # No dropout: the policy that wrote them.
        fakes_as_read = fake_tokens
        if config.gumbel_temperature:  # D reads G's softened tokens, through which G learns.
            fakes_as_read = softened_tokens(config, generator_logits, fake_tokens, write_seed)
        (real_logits, real_features), (fake_logits, fake_features) = models.discriminate_both(
            discriminator, real_tokens, fakes_as_read
        )
        # D's score at position t judges the text through token t: positions 1.. hold the written tokens.
        discriminator_loss = average(
            losses.discriminator_loss(real_logits[:, 1:], fake_logits[:, 1:], real_mask, fake_mask)
        )
        generator_loss = average(
            generator_objective(state, config, writer, generator_logits, fake_tokens, fake_logits, seed)
        )
        if config.feature_matching:  # A mean over the replica's batch: divided by the replicas, not the batch.
            generator_loss += config.feature_matching * tf.nn.scale_regularization_loss(
                losses.feature_matching_loss(
                    tf.stop_gradient(losses.masked_mean_features(real_features[:, 1:], real_mask)),
                    losses.masked_mean_features(fake_features[:, 1:], fake_mask),
                )
            )
        scaled_discriminator_loss = state.optimizers["discriminator"].scale_loss(discriminator_loss)
        scaled_generator_loss = state.optimizers["generator"].scale_loss(generator_loss)

    # (2) Update D: maximise log D(x_<=t) + log(1 - D(G_<=t)).
    gradients_of_discriminator = discriminator_tape.gradient(
        scaled_discriminator_loss, discriminator.trainable_variables
    )
    state.optimizers["discriminator"].apply_gradients(
        zip(gradients_of_discriminator, discriminator.trainable_variables)
    )

    # (3) Update G: maximise the rewards of its tokens, near the language model.
    gradients_of_generator = generator_tape.gradient(scaled_generator_loss, generator.trainable_variables)
    state.optimizers["generator"].apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
    return {"generator": generator_loss, "discriminator": discriminator_loss}


def step_seeds(state, config):
    """The GAN step's stateless seeds, int64 (2,): the step's own, (config.seed, step), and the one G writes with."""
    seed = tf.stack([tf.constant(config.seed, tf.int64), tf.cast(state.step, tf.int64)])
    return seed, tf.random.experimental.stateless_fold_in(seed, WRITE)


def generator_objective(state, config, writer, generator_logits, fake_tokens, fake_logits, seed):
    """G's per-text loss: the policy gradient of D's rewards (or, with Gumbel-softmax, D's verdict itself), plus
    kl_weight KL(G || language model) when G started from it."""
    fake_targets = fake_tokens[:, 1:]
    mask = losses.target_mask(fake_targets)
    if config.gumbel_temperature:
        loss = losses.generator_adversarial_loss(fake_logits[:, 1:], mask)
    else:
        if config.rollouts:
            returns = rollout_rewards(state, config, writer, fake_tokens, seed) * mask
        else:
            returns = losses.discounted_returns(tf.stop_gradient(fake_logits[:, 1:]), mask, config.discount)
        # The baseline: the batch's mean return at each position, over the texts that reach it.
        baseline = tf.reduce_sum(returns * mask, axis=0) / tf.maximum(tf.reduce_sum(mask, axis=0), 1.0)
        log_probabilities = losses.token_log_probabilities(generator_logits, fake_targets)
        loss = losses.policy_gradient_loss(log_probabilities, returns, baseline, mask)
    if config.pretrain == "on" and config.kl_weight:
        reference_logits = state.kept["reference"](fake_tokens[:, :-1], training=False)
        loss += config.kl_weight * losses.kl_divergence(generator_logits, reference_logits, mask)
    return loss


def softened_tokens(config, generator_logits, fake_tokens, write_seed):
    """RelGAN's Gumbel-softmax (Nie et al. 2019): softmax((logits + g) / temperature) of each written token, with
    the very noise g that drew it (so its argmax is the token written), float32 (B, T, V); position 0, and
    the positions after a text's end, keep their tokens as one-hot."""
    batch_size, length = tf.shape(fake_tokens)[0], config.sequence_length
    vocabulary_size = data.vocabulary_size(config.vocabulary)
    noise = sample.gumbel_noise(write_seed, batch_size, length, vocabulary_size)[:, 1:]  # Tokens 1..T-1.
    soft = tf.nn.softmax((tf.cast(generator_logits, tf.float32) + noise) / config.gumbel_temperature)
    hard = tf.one_hot(fake_tokens, vocabulary_size)
    written = tf.concat([tf.zeros_like(fake_tokens[:, :1], bool), fake_tokens[:, 1:] != data.PAD_ID], axis=1)
    soft = tf.concat([hard[:, :1], soft], axis=1)
    return tf.where(written[..., tf.newaxis], soft, hard)


def rollout_rewards(state, config, writer, fake_tokens, seed):
    """SeqGAN's Monte Carlo rewards (Yu et al. 2017): token t's is D's mean verdict, as the probability
    sigmoid(logit) at its last position, on config.rollouts completions of the text up to t, written by G.
    float32 (B, T - 1), for tokens 1..T-1; the last token's is D's verdict on the text itself."""
    batch_size, length = tf.shape(fake_tokens)[0], config.sequence_length
    discriminator = state.networks["discriminator"]
    positions = tf.range(length)[tf.newaxis, :]
    rewards = tf.TensorArray(tf.float32, size=length - 1)
    for position in tf.range(1, length):
        forced = tf.where(positions <= position, fake_tokens, -1)  # The text up to `position`, then G's words.
        verdicts = tf.zeros((batch_size,))
        for rollout in range(config.rollouts):
            rollout_seed = tf.random.experimental.stateless_fold_in(seed, ROLLOUT * 2**20 + rollout * 2**10)
            rollout_seed = tf.random.experimental.stateless_fold_in(rollout_seed, tf.cast(position, tf.int64))
            completed = writer.write_ids(fake_tokens[:, 0], rollout_seed, forced=forced)
            logits, _ = models.discriminate(discriminator, completed, training=False)
            last = tf.reduce_sum(tf.cast(completed != data.PAD_ID, tf.int32), axis=1) - 1
            verdicts += tf.sigmoid(tf.gather(logits, last, batch_dims=1)) / config.rollouts
        rewards = rewards.write(position - 1, verdicts)
    return tf.stop_gradient(tf.transpose(rewards.stack()))
