"""The text networks, each a keras.Sequential of small layers: a causal Transformer language model (which is
also the GAN's generator) and a discriminator that scores a text at every position.

    token ids (B, T) -> TokenAndPositionEmbedding -> TransformerBlock x L -> LayerNormalization -> Dense
                                                                                  -> logits (B, T, V)  (language model)
                                                                                  -> logits (B, T, 1)  (discriminator)

A block is nanoGPT's two lines, x = x + attention(norm(x)); x = x + feed_forward(norm(x)), with Keras's
MultiHeadAttention(use_causal_mask=True): position t reads positions 0..t only, so the logits at t are the
model's guess of token t + 1 from the tokens before it, and the discriminator's score at t is its verdict on
the text's first t + 1 tokens (the reward of token t, in the GAN). The language model ends in the vocabulary's
logits, the discriminator in one logit a position (real = 1, fake = 0).

Writing a text runs the same layers one position at a time (decode_step), keeping each block's keys and
values of the positions before (a cache): a text of T tokens costs one pass, not T.
"""

import keras
import tensorflow as tf

from gan_tf.text import data


class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token ids (B, T) -> float (B, T, C): each token's embedding plus its position's (keras-io's miniature GPT).

    It also reads distributions over the vocabulary (B, T, V) in place of ids, as the mix of the tokens'
    embeddings, for RelGAN's Gumbel-softmax (call()).
    """

    def __init__(self, vocabulary_size, sequence_length, dim, **kwargs):
        super().__init__(**kwargs)
        self.token_embedding = keras.layers.Embedding(vocabulary_size, dim)
        self.position_embedding = keras.layers.Embedding(sequence_length, dim)

    def call(self, tokens):
        positions = self.position_embedding(tf.range(tf.shape(tokens)[1]))
        if tokens.dtype.is_floating:  # Distributions over the vocabulary: their mix of embeddings.
            return tf.einsum("btv,vc->btc", tokens, self.token_embedding.embeddings) + positions
        return self.token_embedding(tokens) + positions

    def embed_one(self, tokens, position):
        """Token ids (B,) at one position -> float (B, 1, C)."""
        position = self.position_embedding(tf.convert_to_tensor(position))
        return (self.token_embedding(tokens) + position)[:, tf.newaxis, :]


class TransformerBlock(keras.layers.Layer):
    """x = x + attention(norm(x)); x = x + feed_forward(norm(x)): float (B, T, C) -> (B, T, C), causal."""

    def __init__(self, dim, heads, feed_forward_dim, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.attention_norm = keras.layers.LayerNormalization(epsilon=1e-5)
        self.attention = keras.layers.MultiHeadAttention(heads, dim // heads, dropout=dropout)
        self.feed_forward_norm = keras.layers.LayerNormalization(epsilon=1e-5)
        self.feed_forward = keras.Sequential(
            [
                keras.layers.Dense(feed_forward_dim, activation="gelu"),
                keras.layers.Dense(dim),
                keras.layers.Dropout(dropout),
            ]
        )
        self.attention_dropout = keras.layers.Dropout(dropout)

    def call(self, x, training=False):
        normed = self.attention_norm(x)
        attended = self.attention(normed, normed, use_causal_mask=True, training=training)
        x = x + self.attention_dropout(attended, training=training)
        return x + self.feed_forward(self.feed_forward_norm(x), training=training)

    def decode(self, x, cache, position):
        """One position of call(), in inference mode: x float (B, 1, C) at `position`, with the keys and values
        of the positions before it in `cache` ((B, T, heads, head_dim) each); returns (output (B, 1, C), cache)."""
        normed = self.attention_norm(x)
        keys = set_position(cache[0], position, self.attention.key_dense(normed)[:, 0])
        values = set_position(cache[1], position, self.attention.value_dense(normed)[:, 0])
        seen = tf.range(tf.shape(keys)[1]) <= position  # (T,): this position and those before it.
        mask = tf.broadcast_to(seen[tf.newaxis, tf.newaxis, :], (tf.shape(x)[0], 1, tf.shape(keys)[1]))
        query = self.attention.query_dense(normed)
        attended, _ = self.attention._compute_attention(query, keys, values, mask, training=False)
        x = x + self.attention.output_dense(attended)
        return x + self.feed_forward(self.feed_forward_norm(x)), (keys, values)


def build_language_model(config, name="language_model"):
    """Token ids int32 (None, T) -> logits (None, T, V): the guess of the next token at every position."""
    vocabulary_size = data.vocabulary_size(config.vocabulary)
    model = keras.Sequential(name=name)
    model.add(keras.Input((None,), dtype="int32"))
    model.add(TokenAndPositionEmbedding(vocabulary_size, config.sequence_length, config.embedding_dim))
    for _ in range(config.layers):
        model.add(TransformerBlock(config.embedding_dim, config.heads, config.feed_forward_dim, config.dropout))
    model.add(keras.layers.LayerNormalization(epsilon=1e-5))
    model.add(keras.layers.Dense(vocabulary_size, dtype="float32"))  # Logits in float32, for a stable softmax.
    assert model.output_shape == (None, None, vocabulary_size)
    return model


def build_discriminator(config):
    """Token ids int32 (None, T), or distributions over the vocabulary -> one logit a position (None, T, 1):
    > 0 means "the text so far looks real"."""
    dim = config.discriminator_dim
    model = keras.Sequential(name="discriminator")
    model.add(keras.Input((None,), dtype="int32"))
    model.add(TokenAndPositionEmbedding(data.vocabulary_size(config.vocabulary), config.sequence_length, dim))
    for _ in range(config.discriminator_layers):
        model.add(TransformerBlock(dim, config.heads, 4 * dim))
    model.add(keras.layers.LayerNormalization(epsilon=1e-5))
    model.add(keras.layers.Dense(1, dtype="float32"))
    assert model.output_shape == (None, None, 1)
    return model


def discriminate(discriminator, tokens, training=True):
    """D's per-position logits and its features of every position: (logits float32 (B, T), features (B, T, C)).

    Layer by layer, as discriminator(tokens), so that feature matching sees the layer before the last and D
    reads distributions over the vocabulary as well as ids.
    """
    features = tokens
    for layer in discriminator.layers[:-1]:
        features = layer(features, training=training)
    return discriminator.layers[-1](features)[..., 0], features


def empty_cache(model, batch_size):
    """Each block's keys and values, zero, for decode_step: a list of ((B, T, heads, head_dim), ...)."""
    caches = []
    for block in blocks(model):
        attention = block.attention
        shape = (batch_size, model.layers[0].position_embedding.input_dim, attention.num_heads, attention.key_dim)
        caches.append((tf.zeros(shape), tf.zeros(shape)))
    return caches


def set_position(tensor, position, values):
    """`tensor` (B, T, ...) with every text's entry at `position` set to `values` (B, ...), the rest as it was:
    how the writing loop fills its caches and its tokens, one position at a time."""
    batch_size = tf.shape(values)[0]
    rows = tf.stack([tf.range(batch_size), tf.fill([batch_size], tf.cast(position, tf.int32))], axis=1)
    return tf.tensor_scatter_nd_update(tensor, rows, values)


def blocks(model):
    return [layer for layer in model.layers if isinstance(layer, TransformerBlock)]


def decode_step(model, tokens, position, caches):
    """The model's logits for the position after `position`, from the token at `position`: (logits (B, V), caches).

    Args:
      tokens: int32 (B,), the tokens at `position`; caches: empty_cache() after the positions before.
    """
    x = model.layers[0].embed_one(tokens, position)
    new_caches = []
    for block, cache in zip(blocks(model), caches, strict=True):
        x, cache = block.decode(x, cache, position)
        new_caches.append(cache)
    for layer in model.layers[1 + len(new_caches) :]:  # The last norm, and the logits.
        x = layer(x)
    return x[:, 0, :], new_caches
