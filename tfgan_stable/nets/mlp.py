"""Fully connected generator and discriminator for the 2-D toy mixtures (ring of 8, grid of 25)."""
import keras

from tfgan_stable.layers import Pack
from tfgan_stable.nets import _common


def mlp_generator(latent_dim, output_dim=2, units=(400, 400, 400, 400), norm="batch", activation="relu",
                  init="normal", name="mlp_generator"):
    """An MLP generator: z -> [Dense -> norm -> activation] x len(units) -> linear Dense(output_dim).

    The defaults are the toy generator of PacGAN (Lin et al. 2018, after VEEGAN): four hidden layers of
    400 units with batch normalisation and ReLU, a linear output and N(0, 0.02) initial weights; PacGAN
    feeds it a 2-D z ~ N(0, I). Hidden Dense layers have no bias when a normalisation follows (its shift
    makes a bias redundant).

    Args:
      latent_dim: size of z (positive int).
      output_dim: size of a sample (2 for the toys).
      units: hidden layer widths.
      norm: "batch", "sync_batch" (cross-replica statistics under `tf.distribute`), "layer" or "none".
      activation: any Keras activation name for the hidden layers.
      init: kernel initialiser, "normal" (N(0, 0.02)) or "orthogonal" (see `techniques.OrthogonalRegularization`).
      name: model name.

    Returns:
      A functional `keras.Model` mapping [batch, latent_dim] to [batch, output_dim].
    """
    latent_dim = _common.check_positive_int(latent_dim, "latent_dim")
    output_dim = _common.check_positive_int(output_dim, "output_dim")
    units = _common.check_units(units)
    norm = _common.check_norm(norm)
    activation = _check_activation(activation)
    z = keras.Input((latent_dim,), name="z")
    h = z
    for i, width in enumerate(units):
        h = keras.layers.Dense(width, use_bias=norm == "none", kernel_initializer=_common.init(init),
                               name=f"dense_{i}")(h)
        layer = _common.norm_layer(norm, f"norm_{i}")
        if layer is not None:
            h = layer(h)
        h = keras.layers.Activation(activation, name=f"act_{i}")(h)
    x = keras.layers.Dense(output_dim, kernel_initializer=_common.init(init), dtype="float32", name="out")(h)
    return keras.Model(z, x, name=name)


def mlp_discriminator(input_dim=2, units=(200, 200, 200), activation="maxout", maxout_pieces=5, packing=1,
                      init="normal", name="mlp_discriminator"):
    """An MLP discriminator: x -> hidden layers -> Dense(1), returning raw logits of shape [batch, 1].

    The defaults are PacGAN's toy discriminator (Lin et al. 2018, after VEEGAN): three hidden maxout layers
    (Goodfellow et al. 2013) of 200 units with 5 pieces each, h_j = max_k (W x + b)_{j,k}, no
    normalisation, N(0, 0.02) initial weights. With `packing` = m > 1 it is PacGAN's packed
    discriminator: a `layers.Pack(m)` first concatenates m samples, so the first Dense sees m·input_dim
    features and the model emits one logit per m samples.

    Args:
      input_dim: size of an input sample (2 for the toys).
      units: hidden layer widths.
      activation: "maxout", or any Keras activation name (e.g. "relu", "leaky_relu") for plain Dense layers.
      maxout_pieces: number of linear pieces per maxout unit (>= 2; only used with "maxout").
      packing: m, samples per discriminator input (1 = no packing).
      init: kernel initialiser, "normal" (N(0, 0.02)) or "orthogonal" (see `techniques.OrthogonalRegularization`).
      name: model name.

    Returns:
      A functional `keras.Model` mapping [batch, input_dim] to logits [batch / packing, 1].
    """
    input_dim = _common.check_positive_int(input_dim, "input_dim")
    packing = _common.check_positive_int(packing, "packing")
    units = _common.check_units(units)
    if activation == "maxout":
        maxout_pieces = _common.check_positive_int(maxout_pieces, "maxout_pieces")
        if maxout_pieces < 2:
            raise ValueError(f"`maxout_pieces` must be at least 2 (one piece is a linear layer), "
                             f"got {maxout_pieces}")
    else:
        activation = _check_activation(activation)
    x = keras.Input((input_dim,), name="x")
    h = Pack(packing, name="pack")(x) if packing > 1 else x
    for i, width in enumerate(units):
        if activation == "maxout":
            h = keras.layers.Dense(width * maxout_pieces, kernel_initializer=_common.init(init), name=f"dense_{i}")(h)
            h = keras.layers.Reshape((width, maxout_pieces), name=f"pieces_{i}")(h)
            # channels_first: pool over the last axis, i.e. take the max over each unit's pieces.
            h = keras.layers.GlobalMaxPooling1D(data_format="channels_first", name=f"maxout_{i}")(h)
        else:
            h = keras.layers.Dense(width, activation=activation, kernel_initializer=_common.init(init),
                                   name=f"dense_{i}")(h)
    logits = keras.layers.Dense(1, kernel_initializer=_common.init(init), dtype="float32", name="logits")(h)
    return keras.Model(x, logits, name=name)


def _check_activation(activation):
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError) as error:
        raise ValueError(f"`activation` must be a Keras activation name, got {activation!r}") from error
    return activation
