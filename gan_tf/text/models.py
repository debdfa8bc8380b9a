"""The text networks, each a keras.Sequential of small layers: a causal Transformer language model (which is
also the GAN's generator) and a discriminator that scores a text at every position.

    token ids (B, T) -> TokenAndPositionEmbedding -> TransformerBlock x L -> LayerNormalization -> Dense
                                                                                  -> logits (B, T, V)  (language model)
                                                                                  -> logits (B, T, 1)  (discriminator)

A block is nanoGPT's two lines, x = x + attention(norm(x)); x = x + feed_forward(norm(x)), its attention what
Keras's MultiHeadAttention(use_causal_mask=True) computes, with its weights: position t reads positions 0..t only,
so the logits at t are the model's guess of token t + 1 from the tokens before it, and the discriminator's score
at t is its verdict on the text's first t + 1 tokens (the reward of token t, in the GAN). The language model ends
in the vocabulary's logits, the discriminator in one logit a position (real = 1, fake = 0).

Each tensor here reaches the loss by at most two paths. A tensor used three times gets its gradient as
TensorFlow's AddN of three parts, summed in an order that depends on which part's memory is free first, so
that two runs of one step could differ in the last bits (docs/guarantees.md). So the layer normalisation's
gradient is written out as one operation (standardise), and the query, key and value are one matrix product.

Writing a text runs the same layers one position at a time (Decoder), keeping each block's keys and
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


def standardise(x, epsilon):
    """(x - mean) / sqrt(variance + epsilon) over the last axis of float32 x, with its gradient as one operation."""

    @tf.custom_gradient
    def forward(x):
        mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
        inverse = tf.math.rsqrt(variance + epsilon)
        standardised = (x - mean) * inverse

        def backward(upstream):  # Its derivative, for each vector of C values: (g - mean(g) - y mean(g y)) / sigma.
            centred = upstream - tf.reduce_mean(upstream, axis=-1, keepdims=True)
            return inverse * (centred - standardised * tf.reduce_mean(upstream * standardised, axis=-1, keepdims=True))

        return standardised, backward

    return forward(x)


def normalise(x, gamma, beta, epsilon):
    """Layer normalisation of x (..., C), computed in float32: standardise(x) * gamma + beta, float32."""
    return standardise(tf.cast(x, tf.float32), epsilon) * tf.cast(gamma, tf.float32) + tf.cast(beta, tf.float32)


class LayerNormalization(keras.layers.LayerNormalization):
    """Keras's layer normalisation (its weights gamma and beta), through standardise()."""

    def call(self, x):
        return tf.cast(normalise(x, self.gamma, self.beta, self.epsilon), self.compute_dtype)


class TransformerBlock(keras.layers.Layer):
    """x = x + attention(norm(x)); x = x + feed_forward(norm(x)): float (B, T, C) -> (B, T, C), causal.

    self.attention, Keras's MultiHeadAttention, holds the attention's weights (its query, key, value and output
    projections, with its initialisation); attend() computes what its call(use_causal_mask=True) computes.
    """

    def __init__(self, dim, heads, feed_forward_dim, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.attention_norm = LayerNormalization(epsilon=1e-5)
        self.attention = keras.layers.MultiHeadAttention(heads, dim // heads)  # Its weights: see attend().
        self.attention_weights_dropout = keras.layers.Dropout(dropout)
        self.feed_forward_norm = LayerNormalization(epsilon=1e-5)
        self.feed_forward = keras.Sequential(
            [
                keras.layers.Dense(feed_forward_dim, activation="gelu"),
                keras.layers.Dense(dim),
                keras.layers.Dropout(dropout),
            ]
        )
        self.attention_dropout = keras.layers.Dropout(dropout)

    def build(self, input_shape):
        self.attention.build(input_shape, input_shape)

    def call(self, x, training=False):
        attended = self.attend(self.attention_norm(x), training)
        x = x + self.attention_dropout(attended, training=training)
        return x + self.feed_forward(self.feed_forward_norm(x), training=training)

    def attend(self, x, training=False):
        """Causal multi-head self-attention of x (B, T, C) -> (B, T, C): position t reads positions 0..t only."""
        batch_size, length = tf.shape(x)[0], tf.shape(x)[1]
        heads, head_dim = self.attention.num_heads, self.attention.key_dim
        kernel, bias = self.query_key_value(x.dtype)
        rows = tf.nn.bias_add(tf.matmul(tf.reshape(x, (batch_size * length, -1)), kernel), bias)  # (B T, 3 H D)
        query, key, value = tf.unstack(tf.transpose(tf.reshape(rows, (batch_size, length, 3, heads, head_dim)),
                                                    [2, 0, 3, 1, 4]))  # fmt: skip  # Each (B, H, T, D).
        scores = tf.matmul(query, key, transpose_b=True)  # (B, H, T, T): query position q, key position k.
        seen = tf.range(length)[:, tf.newaxis] >= tf.range(length)[tf.newaxis, :]  # k <= q.
        weights = tf.nn.softmax(tf.where(seen, scores, tf.cast(-1e9, scores.dtype)))
        weights = self.attention_weights_dropout(weights, training=training)
        attended = tf.reshape(tf.transpose(tf.matmul(weights, value), [0, 2, 1, 3]), (batch_size * length, -1))
        output = self.attention.output_dense
        projected = tf.matmul(attended, tf.cast(tf.reshape(output.kernel, (heads * head_dim, -1)), x.dtype))
        return tf.reshape(tf.nn.bias_add(projected, tf.cast(output.bias, x.dtype)), tf.shape(x))

    def query_key_value(self, dtype):
        """MultiHeadAttention's query, key and value projections as one kernel (C, 3 H D) and its bias (3 H D,),
        the query's scaled by 1 / sqrt(head_dim) as MultiHeadAttention scales the query."""
        attention = self.attention
        scale = tf.repeat([1.0 / attention.key_dim**0.5, 1.0, 1.0], attention.num_heads * attention.key_dim)
        projections = (attention.query_dense, attention.key_dense, attention.value_dense)
        dim = attention.query_dense.kernel.shape[0]
        kernel = tf.concat([tf.reshape(tf.cast(dense.kernel, tf.float32), (dim, -1)) for dense in projections], axis=1)
        bias = tf.concat([tf.reshape(tf.cast(dense.bias, tf.float32), (-1,)) for dense in projections], axis=0)
        return tf.cast(kernel * scale, dtype), tf.cast(bias * scale, dtype)


def build_language_model(config, name="language_model"):
    """Token ids int32 (None, T) -> logits (None, T, V): the guess of the next token at every position."""
    vocabulary_size = data.vocabulary_size(config.vocabulary)
    model = keras.Sequential(name=name)
    model.add(keras.Input((None,), dtype="int32"))
    model.add(TokenAndPositionEmbedding(vocabulary_size, config.sequence_length, config.embedding_dim))
    for _ in range(config.layers):
        model.add(TransformerBlock(config.embedding_dim, config.heads, config.feed_forward_dim, config.dropout))
    model.add(LayerNormalization(epsilon=1e-5))
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
    model.add(LayerNormalization(epsilon=1e-5))
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


def discriminate_both(discriminator, real_tokens, fake_tokens, training=True):
    """discriminate() of the real texts and of the written ones: ((logits, features) of real, of fake).

    Texts of the same kind (both token ids) go through D as one batch, which is quicker than two of half the
    size; each text's verdict is the same either way, since no layer mixes the texts of a batch.
    """
    if real_tokens.dtype != fake_tokens.dtype:  # Ids and distributions (Gumbel-softmax): one pass each.
        return discriminate(discriminator, real_tokens, training), discriminate(discriminator, fake_tokens, training)
    logits, features = discriminate(discriminator, tf.concat([real_tokens, fake_tokens], axis=0), training)
    batch_size = tf.shape(real_tokens)[0]
    return (logits[:batch_size], features[:batch_size]), (logits[batch_size:], features[batch_size:])


def blocks(model):
    return [layer for layer in model.layers if isinstance(layer, TransformerBlock)]


class Decoder:
    """A language model run one position at a time, to write texts: decode_step() takes the token at a position
    and gives the logits of the next, keeping each block's keys and values of the positions before (a cache),
    so that a text of T tokens costs one pass, not T.

    It computes what the model's layers compute in inference mode (no dropout), from their weights, read once
    when it is made (inside the writing function, before its loop) rather than at every position, and with
    each block's query, key and value projections as one matrix product: a position is a few small products
    on (B, C), where the time goes to the number of operations more than to their arithmetic.
    """

    def __init__(self, model):
        embedding, final_norm, to_logits = model.layers[0], model.layers[-2], model.layers[-1]
        self.token_embeddings = embedding.token_embedding.embeddings
        self.position_embeddings = embedding.position_embedding.embeddings
        self.blocks = [BlockWeights(block) for block in blocks(model)]
        self.final_norm = (final_norm.gamma, final_norm.beta, final_norm.epsilon)
        self.to_logits = (to_logits.kernel, to_logits.bias)
        self.dtype = self.blocks[0].dtype if self.blocks else tf.float32
        self.sequence_length = embedding.position_embedding.input_dim

    def empty_cache(self, batch_size):
        """Each block's keys and values, zero: a list of ((B, heads, T, head_dim), ...)."""
        return [
            (tf.zeros(shape, self.dtype), tf.zeros(shape, self.dtype))
            for shape in ((batch_size, block.heads, self.sequence_length, block.head_dim) for block in self.blocks)
        ]

    def decode_step(self, tokens, position, caches):
        """The logits (B, V) of the token after `position`, from the tokens int32 (B,) at `position` and the
        caches of the positions before it (empty_cache() at position 0); returns (logits, caches)."""
        x = tf.gather(self.token_embeddings, tokens) + tf.gather(self.position_embeddings, position)
        x = tf.cast(x, self.dtype)
        seen = tf.range(self.sequence_length) <= position  # (T,): this position and those before it.
        at_position = cache_entries(tf.shape(tokens)[0], self.blocks[0].heads, position)
        new_caches = []
        for block, cache in zip(self.blocks, caches, strict=True):
            x, cache = block.decode(x, cache, at_position, seen)
            new_caches.append(cache)
        x = normalise(x, *self.final_norm)
        kernel, bias = self.to_logits
        return tf.nn.bias_add(tf.matmul(tf.cast(x, kernel.dtype), kernel), bias), new_caches


class BlockWeights:
    """One TransformerBlock's weights, as tensors, and decode(): its call() at one position."""

    def __init__(self, block):
        attention, dtype = block.attention, block.compute_dtype
        self.dtype, self.heads, self.head_dim = dtype, attention.num_heads, attention.key_dim
        dim = attention.query_dense.kernel.shape[0]
        self.qkv_kernel, self.qkv_bias = block.query_key_value(dtype)  # (C, 3 heads head_dim), (3 heads head_dim,)
        self.out_kernel = tf.cast(tf.reshape(attention.output_dense.kernel, (-1, dim)), dtype)
        self.out_bias = tf.cast(attention.output_dense.bias, dtype)
        self.norms = [(norm.gamma, norm.beta, norm.epsilon) for norm in (block.attention_norm, block.feed_forward_norm)]
        self.feed_forward = [
            (tf.cast(dense.kernel, dtype), tf.cast(dense.bias, dtype), dense.activation)
            for dense in block.feed_forward.layers
            if isinstance(dense, keras.layers.Dense)
        ]

    def decode(self, x, cache, at_position, seen):
        """x (B, C) at a position; cache: the keys and values (B, heads, T, head_dim) of the positions before it;
        at_position: cache_entries() of this position; seen: bool (T,), the positions up to this one.
        Returns (output (B, C), the cache with this position's keys and values)."""
        batch_size = tf.shape(x)[0]
        normed = self.norm(x, 0)
        query, key, value = tf.split(tf.nn.bias_add(tf.matmul(normed, self.qkv_kernel), self.qkv_bias), 3, axis=-1)
        keys = tf.tensor_scatter_nd_update(cache[0], at_position, self.per_head(key))
        values = tf.tensor_scatter_nd_update(cache[1], at_position, self.per_head(value))
        scores = tf.matmul(self.per_head(query)[:, :, tf.newaxis, :], keys, transpose_b=True)  # (B, heads, 1, T)
        weights = tf.nn.softmax(tf.where(seen, scores, tf.cast(-1e9, scores.dtype)))
        attended = tf.reshape(tf.matmul(weights, values), (batch_size, -1))  # (B, heads head_dim)
        x = x + tf.nn.bias_add(tf.matmul(attended, self.out_kernel), self.out_bias)
        hidden = self.norm(x, 1)
        for kernel, bias, activation in self.feed_forward:
            hidden = activation(tf.nn.bias_add(tf.matmul(hidden, kernel), bias))
        return x + hidden, (keys, values)

    def norm(self, x, which):
        return tf.cast(normalise(x, *self.norms[which]), self.dtype)

    def per_head(self, x):
        """(B, heads head_dim) -> (B, heads, head_dim)."""
        return tf.reshape(x, (tf.shape(x)[0], self.heads, self.head_dim))


def cache_entries(batch_size, heads, position):
    """The indices int32 (B, heads, 3) of every text's and head's entry at `position` of a cache (B, heads, T, D)."""
    texts, heads = tf.meshgrid(tf.range(batch_size), tf.range(heads), indexing="ij")
    return tf.stack([texts, heads, tf.fill(tf.shape(texts), tf.cast(position, tf.int32))], axis=-1)


def set_position(tensor, position, values):
    """`tensor` (B, T, ...) with every text's entry at `position` set to `values` (B, ...), the rest as it was:
    how the writing loop fills its tokens, one position at a time."""
    batch_size = tf.shape(values)[0]
    rows = tf.stack([tf.range(batch_size), tf.fill([batch_size], tf.cast(position, tf.int32))], axis=1)
    return tf.tensor_scatter_nd_update(tensor, rows, values)
