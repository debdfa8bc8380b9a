"""What the text networks minimise, as pure functions of logits, token ids and masks.

Conventions: token ids int32 (B, T); a mask float (B, T), 1 where a position holds a token that counts (the
pad id 0 never does); logits before the softmax. Each loss returns one value per text, (B,), summed over its
tokens and divided by their number, so that the train step can average texts over the global batch as the
pictures' step does (tf.nn.compute_average_loss).
"""

import tensorflow as tf

from gan_tf.text import data


def target_mask(targets):
    """1.0 where a target token counts, 0.0 at the pad id: float32 (B, T)."""
    return tf.cast(tf.not_equal(targets, data.PAD_ID), tf.float32)


def per_text_mean(values, mask):
    """The mean of `values` (B, T) over each text's counted positions: (B,)."""
    return tf.reduce_sum(values * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)


def token_log_probabilities(logits, tokens):
    """log p(token | the tokens before it) at every position: float32 (B, T), from logits (B, T, V)."""
    return -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tokens, logits=tf.cast(logits, tf.float32))


def language_model_loss(logits, targets):
    """The cross-entropy of each text's next tokens, -1/n sum_t log p(x_t+1 | x_<=t), over its n targets (pad left out).

    The loss of maximum likelihood, as nanoGPT's (the cross-entropy over the flattened logits, here per text).
    exp of its mean over tokens is the perplexity.

    Args:
      logits: float (B, T, V), the model's guesses at positions 0..T-1; targets: int32 (B, T), the tokens 1..T.
    Returns:
      float32 (B,).
    """
    return per_text_mean(-token_log_probabilities(logits, targets), target_mask(targets))


def discriminator_loss(real_logits, fake_logits, real_mask, fake_mask):
    """D's loss at every position of a real and a fake text, -[log D(x_<=t) + log(1 - D(G_<=t))], averaged over
    each text's positions: the binary cross-entropy of real prefixes against 1 and fake ones against 0.

    Args:
      real_logits, fake_logits: float (B, T), D's logit at each position; the masks float (B, T).
    Returns:
      float32 (B,).

    -log sigmoid(x) is softplus(-x) and -log(1 - sigmoid(x)) is softplus(x): each reads a logit once, so its gradient
    is one part (tf.nn.sigmoid_cross_entropy_with_logits reads it four times; text/models.py says why that matters).
    """
    real, fake = tf.math.softplus(-real_logits), tf.math.softplus(fake_logits)
    return per_text_mean(real, real_mask) + per_text_mean(fake, fake_mask)


def discounted_returns(rewards, mask, discount):
    """R_t = r_t + discount R_t+1 over each text's counted positions (0 beyond them): float32 (B, T).

    ScratchGAN (d'Autume et al. 2019, eq. 3) gives every token the discounted sum of the rewards from it on, so
    a token is credited for the text it leads to, and not for the text before it.
    """
    rewards = tf.cast(rewards, tf.float32) * mask
    reversed_returns = tf.scan(lambda later, reward: reward + discount * later, tf.reverse(tf.transpose(rewards), [0]))
    return tf.transpose(tf.reverse(reversed_returns, [0])) * mask


def policy_gradient_loss(log_probabilities, returns, baseline, mask):
    """REINFORCE with a baseline: -1/n sum_t (R_t - b_t) log p(x_t | x_<t), per text (Williams 1992; SeqGAN, Yu et
    al. 2017; ScratchGAN, d'Autume et al. 2019).

    Its gradient is the policy gradient: it raises the probability of the tokens whose return beats the
    baseline and lowers the others'. The returns and the baseline are constants (no gradient flows into them).

    Args:
      log_probabilities: float (B, T), log p of each sampled token under the generator, with gradients.
      returns: float (B, T), discounted_returns() of the discriminator's rewards; baseline: float (T,) or (B, T).
      mask: float (B, T), the sampled tokens that count.
    Returns:
      float32 (B,).
    """
    advantages = tf.stop_gradient(returns - baseline)
    return per_text_mean(-advantages * log_probabilities, mask)


def kl_divergence(logits, reference_logits, mask):
    """KL(p || q) per token, sum_v p(v) (log p(v) - log q(v)), averaged over each text's positions: float32 (B,).

    p is the generator's distribution over the next token, q the language model's, at the same positions of the
    same text: the KL term that keeps a fine-tuned generator near the model it started from (as in the
    quotes GAN of the articles, and in RL fine-tuning of language models). Computed over the whole vocabulary.
    """
    log_p = tf.nn.log_softmax(tf.cast(logits, tf.float32))
    log_q = tf.nn.log_softmax(tf.cast(tf.stop_gradient(reference_logits), tf.float32))
    return per_text_mean(tf.reduce_sum(tf.exp(log_p) * (log_p - log_q), axis=-1), mask)


def generator_adversarial_loss(fake_logits, mask):
    """G's loss when D's verdict reaches it directly (RelGAN's Gumbel-softmax): -log D(G_<=t) at each position
    (the non-saturating loss, as the pictures' generator's), per text: float32 (B,)."""
    return per_text_mean(tf.math.softplus(-fake_logits), mask)  # -log sigmoid(x), as in discriminator_loss.


def masked_mean_features(features, mask):
    """Each text's mean feature over its counted positions: float32 (B, C), from features (B, T, C)."""
    mask = tf.cast(mask, tf.float32)[..., tf.newaxis]
    return tf.reduce_sum(tf.cast(features, tf.float32) * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)


def feature_matching_loss(real_features, fake_features):
    """|mean f(real) - mean f(fake)|^2 averaged over the features: one scalar for the two batches (Salimans et al.
    2016), with f D's embedding of a text (masked_mean_features)."""
    difference = tf.reduce_mean(real_features, axis=0) - tf.reduce_mean(fake_features, axis=0)
    return tf.reduce_mean(tf.square(difference))
