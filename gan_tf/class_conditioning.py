"""How the class shapes the picture (--class-conditioning projection): Keras layers for G and D that pass
the label along inside the one tensor a keras.Sequential carries.

Told the class only at its input (the one-hot beside z, and ten constant channels beside the image in D,
as keras-io's conditional GAN does), a generator of photographs learns to let the noise decide the picture
and the label only its tint. Two changes make the class matter at every layer:

- In G, class-conditional batch normalisation (de Vries et al. 2017; BigGAN, Brock et al. 2019): each
  BatchNormalization's gain and offset are chosen by the class, so the class steers every block's maps.
- In D, the projection discriminator (Miyato & Koyama 2018): D reads the image alone, and the class enters
  its verdict as an inner product, logit = w . phi(x) + b + embed(y) . phi(x), where phi(x) are D's last
  features. D asks "is this a real picture of class y", not "is this real" beside "does it fit y".

The tensor between two blocks is the block's own output with the label code appended on its last axis:
(B, F + L) for a vector, (B, H, W, C + L) for a map, the code the same at every pixel; L is the size of the
code the network reads (models.generator_inputs(), models.discriminator_inputs()). WithLabel splits the code
off, runs a block's layers on the features (its class batch normalisation reading the code), and appends the
code again, so the networks stay Sequentials with one input. The split and the join copy the map, so they
happen once a block, not once a layer: each of G's blocks is a WithLabel, and D's blocks are one together.
"""

import keras
import tensorflow as tf


def split(tensor, label_size):
    """(features (..., F), code (B, L)): the two halves of a labelled tensor (..., F + L)."""
    features, code = tf.split(tensor, [tensor.shape[-1] - label_size, label_size], axis=-1)
    while len(code.shape) > 2:  # A map carries the same code at every pixel: read it at the first.
        code = code[:, 0]
    return features, tf.stop_gradient(code)  # The label is given, not learned: no gradient goes back through it.


def join(features, code):
    """The labelled tensor (..., F + L) of features (..., F) and code (B, L)."""
    code = tf.cast(code, features.dtype)
    for _ in range(len(features.shape) - 2):
        code = code[:, tf.newaxis]  # (B, 1, ..., 1, L), then copied to every pixel.
    return tf.concat([features, code * tf.ones_like(features[..., :1])], axis=-1)


def features_shape(shape, label_size):
    """The shape of a labelled tensor's features, from the labelled tensor's `shape`."""
    return tuple(shape[:-1]) + (shape[-1] - label_size,)


class WithLabel(keras.layers.Layer):
    """`layers` applied one after the other to a labelled tensor's features, which are split from the code once
    and joined to it again once at the end (unless keep_label is False: G's last block, whose output is the
    picture). A ClassBatchNormalization among them reads the code; every other layer, the features alone."""

    def __init__(self, layers, label_size, keep_label=True, **kwargs):
        super().__init__(**kwargs)
        self.label_size, self.keep_label, self.count = label_size, keep_label, len(layers)
        for index, layer in enumerate(layers):  # An attribute each: a checkpoint saves what attributes hold, not lists.
            setattr(self, f"layer_{index}", layer)

    @property
    def sublayers(self):
        """The layers, in order."""
        return [getattr(self, f"layer_{index}") for index in range(self.count)]

    def build(self, input_shape):
        shape = features_shape(input_shape, self.label_size)
        for layer in self.sublayers:
            layer.build(shape)
            shape = tuple(layer.compute_output_shape(shape))

    def call(self, inputs, training=None):
        features, code = split(inputs, self.label_size)
        for layer in self.sublayers:
            if isinstance(layer, ClassBatchNormalization):
                features = layer(features, code, training=training)
            else:
                features = layer(features, training=training)
        return join(features, code) if self.keep_label else features

    def compute_output_shape(self, input_shape):
        shape = features_shape(input_shape, self.label_size)
        for layer in self.sublayers:
            shape = tuple(layer.compute_output_shape(shape))
        return shape[:-1] + (shape[-1] + self.label_size,) if self.keep_label else shape


class ClassBatchNormalization(keras.layers.Layer):
    """BatchNormalization whose gain and offset depend on the class: features (..., C) and code (B, L) ->
    features (..., C), inside a WithLabel.

    y = (1 + code . G) * (x - mean) / std + code . B, with G and B of shape (L, C) starting at zero, so that
    at the start every class gets BatchNormalization's gain 1 and offset 0. With a one-hot code, row y of G
    and B are class y's gain and offset (BigGAN's class embeddings).
    """

    def __init__(self, label_size, momentum, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.label_size = label_size
        self.normalization = keras.layers.BatchNormalization(
            momentum=momentum, center=False, scale=False, synchronized=synchronized
        )

    def build(self, input_shape):
        self.normalization.build(input_shape)
        channels = input_shape[-1]
        self.gains = self.add_weight(shape=(self.label_size, channels), initializer="zeros", name="gains")
        self.offsets = self.add_weight(shape=(self.label_size, channels), initializer="zeros", name="offsets")

    def call(self, features, code=None, training=None):
        normalized = self.normalization(features, training=training)
        code = tf.cast(code, normalized.dtype)
        gain = 1.0 + tf.matmul(code, tf.cast(self.gains, normalized.dtype))  # (B, C)
        offset = tf.matmul(code, tf.cast(self.offsets, normalized.dtype))
        for _ in range(len(features.shape) - 2):
            gain, offset = gain[:, tf.newaxis], offset[:, tf.newaxis]
        return gain * normalized + offset

    def compute_output_shape(self, input_shape):
        return input_shape


class ClassProjection(keras.layers.Layer):
    """The projection discriminator's last layer: labelled features (B, F + L) -> one logit (B, 1).

    logit = w . phi + b + (code . V) . phi, with V of shape (L, F): the first two terms judge the picture,
    the last whether it looks like its class. `score` is the Dense(1) layer computing w . phi + b, wrapped in
    spectral normalisation when D's other layers are.
    """

    def __init__(self, label_size, score, **kwargs):
        super().__init__(**kwargs)
        self.label_size, self.score = label_size, score

    def build(self, input_shape):
        features = input_shape[-1] - self.label_size
        self.score.build(features_shape(input_shape, self.label_size))
        self.embeddings = self.add_weight(
            shape=(self.label_size, features), initializer="glorot_uniform", name="embeddings"
        )

    def call(self, inputs, training=None):
        features, code = split(inputs, self.label_size)
        embedded = tf.matmul(tf.cast(code, features.dtype), tf.cast(self.embeddings, features.dtype))  # (B, F)
        return self.score(features, training=training) + tf.reduce_sum(embedded * features, axis=-1, keepdims=True)

    def class_logits(self, features, codes):
        """How much D's features (B, F) look like each label, whose codes are the rows of `codes` (L', L): the
        class term of the verdict for every label at once, (B, L'), logits of the label an --class-loss names."""
        embedded = tf.matmul(tf.cast(codes, features.dtype), tf.cast(self.embeddings, features.dtype))  # (L', F)
        return tf.matmul(features, embedded, transpose_b=True)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (1,)
