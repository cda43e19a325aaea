"""Class-conditional generators and discriminators: MLPs for 2-D toys and DCGAN convnets for images.

Every net takes the class labels as a second input `labels`, integer class ids of shape [batch].

Generators: the label's embedding (a learned vector of `embedding_dim` per class) is concatenated to z
(Mirza & Osindero 2014), and with norm="conditional_batch" every normalisation is a class-conditional batch
normalisation (`layers.ConditionalBatchNormalization`: a per-class scale and offset, De Vries et al. 2017;
Miyato & Koyama 2018).

Discriminators, `conditioning`:
- "concat": the labels as extra input features (Mirza & Osindero 2014): the MLP concatenates the one-hot
  label to x; the convnet appends num_classes constant one-hot channels to the image.
- "projection" (Miyato & Koyama 2018, "cGANs with projection discriminator"): with φ(x) the features the
  logit is computed from, logit = ψ(φ(x)) + embed(y)ᵀφ(x), ψ a linear layer and embed a learned
  [num_classes, features] table.
"""
import keras
import numpy as np

from tfgan_stable.layers import ConditionalBatchNormalization
from tfgan_stable.nets import _common
from tfgan_stable.nets.dcgan import _FIRST_SIDE, _base_channels, _check_image_shape

CONDITIONINGS = ("concat", "projection")
GENERATOR_NORMS = (*_common.NORMS, "conditional_batch")


def _labels_input():
    return keras.Input((), dtype="int32", name="labels")


def _check_conditioning(conditioning):
    if conditioning not in CONDITIONINGS:
        raise ValueError(f"`conditioning` must be one of {CONDITIONINGS}, got {conditioning!r}")
    return conditioning


def _check_generator_norm(norm):
    if norm not in GENERATOR_NORMS:
        raise ValueError(f"`norm` must be one of {GENERATOR_NORMS}, got {norm!r}")
    return norm


def _embedding_dim(embedding_dim, num_classes):
    return num_classes if embedding_dim is None else _common.check_positive_int(embedding_dim, "embedding_dim")


def _latent_with_label(z, labels, num_classes, embedding_dim, init):
    embedded = keras.layers.Embedding(num_classes, embedding_dim, embeddings_initializer=_common.init(init),
                                      name="label_embedding")(labels)
    return keras.layers.Concatenate(name="z_and_label")([z, embedded])


def _normalise(x, labels, norm, num_classes, suffix):
    """`x` through the normalisation `norm` (class-conditional batch norm reads the labels)."""
    if norm == "conditional_batch":
        return ConditionalBatchNormalization(num_classes, momentum=0.9, epsilon=1e-5, name=f"norm_{suffix}")([x, labels])
    layer = _common.norm_layer(norm, f"norm_{suffix}")
    return x if layer is None else layer(x)


def _one_hot(labels, num_classes):
    """one_hot(y) [batch, num_classes], as a frozen identity embedding (a plain, serialisable layer)."""
    return keras.layers.Embedding(num_classes, num_classes, embeddings_initializer="identity", trainable=False,
                                  name="one_hot")(labels)


def _projection_logits(features, labels, num_classes, init):
    """logit = ψ(φ) + embed(y)ᵀφ for flat features φ [batch, F] (Miyato & Koyama 2018), in float32."""
    linear = keras.layers.Dense(1, kernel_initializer=_common.init(init), dtype="float32", name="logits_linear")(
        features)
    embedded = keras.layers.Embedding(num_classes, features.shape[-1], embeddings_initializer=_common.init(init),
                                      dtype="float32", name="projection_embedding")(labels)
    projected = keras.layers.Dot(axes=1, dtype="float32", name="projection")([embedded, features])
    return keras.layers.Add(dtype="float32", name="logits")([linear, projected])


def conditional_mlp_generator(latent_dim, num_classes, output_dim=2, units=(400, 400, 400, 400), norm="batch",
                              embedding_dim=None, activation="relu", init="normal",
                              name="conditional_mlp_generator"):
    """A conditional MLP generator: [z, embed(y)] -> [Dense -> norm -> activation] x len(units) -> Dense(output_dim).

    `mlp_generator` with the label's embedding concatenated to z; norm="conditional_batch" makes each
    normalisation class-conditional (`layers.ConditionalBatchNormalization`).

    Args:
      latent_dim: size of z.
      num_classes: number of classes.
      output_dim: size of a sample.
      units: hidden layer widths.
      norm: "batch", "sync_batch", "layer", "none" or "conditional_batch".
      embedding_dim: size of the label embedding (default num_classes).
      activation: Keras activation name of the hidden layers.
      init: kernel initialiser, "normal" (N(0, 0.02)) or "orthogonal".
      name: model name.

    Returns:
      A functional `keras.Model` with inputs [z [batch, latent_dim], labels [batch]] and output [batch, output_dim].
    """
    latent_dim = _common.check_positive_int(latent_dim, "latent_dim")
    num_classes = _common.check_positive_int(num_classes, "num_classes")
    output_dim = _common.check_positive_int(output_dim, "output_dim")
    units = _common.check_units(units)
    norm = _check_generator_norm(norm)
    embedding_dim = _embedding_dim(embedding_dim, num_classes)
    keras.activations.get(activation)
    z, labels = keras.Input((latent_dim,), name="z"), _labels_input()
    h = _latent_with_label(z, labels, num_classes, embedding_dim, init)
    for i, width in enumerate(units):
        h = keras.layers.Dense(width, use_bias=norm == "none", kernel_initializer=_common.init(init),
                               name=f"dense_{i}")(h)
        h = _normalise(h, labels, norm, num_classes, i)
        h = keras.layers.Activation(activation, name=f"act_{i}")(h)
    x = keras.layers.Dense(output_dim, kernel_initializer=_common.init(init), dtype="float32", name="out")(h)
    return keras.Model([z, labels], x, name=name)


def conditional_mlp_discriminator(num_classes, input_dim=2, units=(200, 200, 200), activation="leaky_relu",
                                  conditioning="projection", init="normal", name="conditional_mlp_discriminator"):
    """A conditional MLP discriminator: x (and y) -> [Dense -> activation] x len(units) -> logit [batch, 1].

    "concat": the first layer reads [x, one_hot(y)]. "projection": the last hidden layer's output is φ(x)
    and logit = ψ(φ(x)) + embed(y)ᵀφ(x) (Miyato & Koyama 2018).

    Args:
      num_classes: number of classes.
      input_dim: size of a sample.
      units: hidden layer widths.
      activation: Keras activation name of the hidden layers.
      conditioning: "concat" or "projection".
      init: kernel initialiser, "normal" (N(0, 0.02)) or "orthogonal".
      name: model name.

    Returns:
      A functional `keras.Model` with inputs [x [batch, input_dim], labels [batch]] and logits [batch, 1].
    """
    num_classes = _common.check_positive_int(num_classes, "num_classes")
    input_dim = _common.check_positive_int(input_dim, "input_dim")
    units = _common.check_units(units)
    conditioning = _check_conditioning(conditioning)
    keras.activations.get(activation)
    x, labels = keras.Input((input_dim,), name="x"), _labels_input()
    h = x
    if conditioning == "concat":
        h = keras.layers.Concatenate(name="x_and_label")([x, _one_hot(labels, num_classes)])
    for i, width in enumerate(units):
        h = keras.layers.Dense(width, activation=activation, kernel_initializer=_common.init(init),
                               name=f"dense_{i}")(h)
    if conditioning == "projection":
        logits = _projection_logits(h, labels, num_classes, init)
    else:
        logits = keras.layers.Dense(1, kernel_initializer=_common.init(init), dtype="float32", name="logits")(h)
    return keras.Model([x, labels], logits, name=name)


def conditional_dcgan_generator(latent_dim, num_classes, image_shape=(28, 28, 1), width=1.0, norm="batch",
                                embedding_dim=None, init="normal", name="conditional_dcgan_generator"):
    """The DCGAN generator (`nets.dcgan_generator`) on [z, embed(y)], optionally with class-conditional batch norm.

    [z, embed(y)] -> Dense -> reshape s0 x s0 x (C·2^(n-1)) -> norm -> ReLU, then n-1 blocks of
    [Conv2DTranspose(4x4, stride 2) -> norm -> ReLU] and a last Conv2DTranspose to the image with tanh, as in
    `dcgan_generator`. With norm="conditional_batch" each norm is `layers.ConditionalBatchNormalization`.

    Args:
      latent_dim: size of z.
      num_classes: number of classes.
      image_shape: (side, side, channels), side 28, 32 or 64.
      width: channel multiplier (> 0).
      norm: "batch", "sync_batch", "layer", "none" or "conditional_batch".
      embedding_dim: size of the label embedding (default num_classes).
      init: kernel initialiser, "normal" (N(0, 0.02)) or "orthogonal".
      name: model name.

    Returns:
      A functional `keras.Model` with inputs [z [batch, latent_dim], labels [batch]] and images in [-1, 1].
    """
    latent_dim = _common.check_positive_int(latent_dim, "latent_dim")
    num_classes = _common.check_positive_int(num_classes, "num_classes")
    side, channels = _check_image_shape(image_shape)
    base = _base_channels(width)
    norm = _check_generator_norm(norm)
    embedding_dim = _embedding_dim(embedding_dim, num_classes)
    first, steps = _FIRST_SIDE[side], int(np.log2(side // _FIRST_SIDE[side]))
    filters = base * 2 ** (steps - 1)
    z, labels = keras.Input((latent_dim,), name="z"), _labels_input()
    x = _latent_with_label(z, labels, num_classes, embedding_dim, init)
    x = keras.layers.Dense(first * first * filters, use_bias=norm == "none", kernel_initializer=_common.init(init),
                           name="project")(x)
    x = keras.layers.Reshape((first, first, filters), name="reshape")(x)
    x = keras.layers.ReLU(name="act_0")(_normalise(x, labels, norm, num_classes, 0))
    for i in range(1, steps):
        filters //= 2
        x = keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=norm == "none",
                                         kernel_initializer=_common.init(init), name=f"deconv_{i}")(x)
        x = keras.layers.ReLU(name=f"act_{i}")(_normalise(x, labels, norm, num_classes, i))
    images = keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same", activation="tanh",
                                          kernel_initializer=_common.init(init), dtype="float32", name="images")(x)
    return keras.Model([z, labels], images, name=name)


def conditional_dcgan_discriminator(num_classes, image_shape=(28, 28, 1), width=1.0, norm="batch",
                                    conditioning="projection", init="normal", name="conditional_dcgan_discriminator"):
    """The DCGAN discriminator (`nets.dcgan_discriminator`) conditioned on the labels.

    n blocks of [Conv2D(4x4, stride 2) -> norm -> LeakyReLU(0.2)] (no norm on the first), flatten to φ(x),
    then "projection": logit = ψ(φ(x)) + embed(y)ᵀφ(x) (Miyato & Koyama 2018); "concat": the image gets
    num_classes extra channels, channel k equal to 1 where y = k and 0 elsewhere, and logit = ψ(φ(x, y)).

    Args:
      num_classes: number of classes.
      image_shape: (side, side, channels), side 28, 32 or 64.
      width: channel multiplier (> 0).
      norm: "batch", "sync_batch", "layer" or "none".
      conditioning: "projection" or "concat".
      init: kernel initialiser, "normal" (N(0, 0.02)) or "orthogonal".
      name: model name.

    Returns:
      A functional `keras.Model` with inputs [images, labels [batch]] and logits [batch, 1].
    """
    num_classes = _common.check_positive_int(num_classes, "num_classes")
    side, channels = _check_image_shape(image_shape)
    base = _base_channels(width)
    norm = _common.check_norm(norm)
    conditioning = _check_conditioning(conditioning)
    steps = int(np.log2(side // _FIRST_SIDE[side]))
    images, labels = keras.Input((side, side, channels), name="images"), _labels_input()
    x = images
    if conditioning == "concat":
        maps = keras.layers.Reshape((1, 1, num_classes), name="label_pixel")(_one_hot(labels, num_classes))
        maps = keras.layers.UpSampling2D(side, name="label_channels")(maps)  # the one-hot at every pixel
        x = keras.layers.Concatenate(name="images_and_label")([images, maps])
    for i in range(steps):
        block_norm = "none" if i == 0 else norm
        x = keras.layers.Conv2D(base * 2 ** i, 4, strides=2, padding="same", use_bias=block_norm == "none",
                                kernel_initializer=_common.init(init), name=f"conv_{i}")(x)
        layer = _common.norm_layer(block_norm, f"norm_{i}")
        x = layer(x) if layer is not None else x
        x = keras.layers.LeakyReLU(0.2, name=f"act_{i}")(x)
    features = keras.layers.Flatten(name="flatten")(x)
    if conditioning == "projection":
        logits = _projection_logits(features, labels, num_classes, init)
    else:
        logits = keras.layers.Dense(1, kernel_initializer=_common.init(init), dtype="float32", name="logits")(features)
    return keras.Model([images, labels], logits, name=name)
