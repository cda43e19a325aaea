"""Autoencoder discriminators (EBGAN, BEGAN): D maps a sample to its reconstruction, of the same shape."""
import keras
import numpy as np

from tfgan_stable.nets import _common
from tfgan_stable.nets.dcgan import _FIRST_SIDE, _base_channels, _check_image_shape, _normalise_and_activate
from tfgan_stable.nets.mlp import _check_activation

#: The name of the bottleneck layer, whose output (the code) `techniques.PullingAway` reads.
CODE_LAYER = "code"


def autoencoder_discriminator(image_shape=(28, 28, 1), code_dim=64, width=1.0, norm="none", activation="elu",
                              init="normal", name="autoencoder_discriminator"):
    """A convolutional autoencoder discriminator for images (EBGAN, Zhao et al. 2017; BEGAN, Berthelot et al. 2017).

    Encoder: n blocks of [Conv2D(4x4, stride 2) -> norm -> activation] with C, 2C, 4C, ... channels
    (C = round(64 · width)), then flatten and a linear Dense(code_dim) named "code", the bottleneck.
    Decoder: Dense back to the encoder's last feature map -> activation, then n − 1 blocks of
    [Conv2DTranspose(4x4, stride 2) halving the channels -> norm -> activation] and a last
    Conv2DTranspose(4x4, stride 2) to the image channels with tanh, so the reconstruction lies in the
    images' range [-1, 1]. Shapes mirror the DCGAN nets: 28x28 -> 14x14xC -> 7x7x2C -> code -> 7x7x2C
    -> 14x14xC -> 28x28; 32x32 goes down to 4x4x4C. As in BEGAN's nets, ELU activations and no
    normalisation by default (EBGAN's nets use batch norm; `norm="batch"` gives that).

    Args:
      image_shape: (side, side, channels) with side 28, 32 or 64.
      code_dim: width of the bottleneck (positive int).
      width: channel multiplier (> 0); small values give tiny test nets.
      norm: "none" (default), "batch", "sync_batch" or "layer" (not on the first encoder block).
      activation: any Keras activation name for the hidden layers ("elu" as in BEGAN).
      init: kernel initialiser, "normal" (N(0, 0.02)) or "orthogonal".
      name: model name.

    Returns:
      A functional `keras.Model` mapping images [batch, *image_shape] to reconstructions of the same shape.
    """
    side, channels = _check_image_shape(image_shape)
    code_dim = _common.check_positive_int(code_dim, "code_dim")
    base = _base_channels(width)
    norm = _common.check_norm(norm)
    activation = _check_activation(activation)
    first, steps = _FIRST_SIDE[side], int(np.log2(side // _FIRST_SIDE[side]))

    def act(name):
        return keras.layers.Activation(activation, name=name)

    images = keras.Input((side, side, channels), name="images")
    x = images
    for i in range(steps):
        block_norm = "none" if i == 0 else norm
        x = keras.layers.Conv2D(base * 2 ** i, 4, strides=2, padding="same", use_bias=block_norm == "none",
                                kernel_initializer=_common.init(init), name=f"conv_{i}")(x)
        x = _normalise_and_activate(x, block_norm, act, f"enc_{i}")
    x = keras.layers.Flatten(name="flatten")(x)
    code = keras.layers.Dense(code_dim, kernel_initializer=_common.init(init), name=CODE_LAYER)(x)
    filters = base * 2 ** (steps - 1)
    x = keras.layers.Dense(first * first * filters, kernel_initializer=_common.init(init), name="expand")(code)
    x = act("act_expand")(x)
    x = keras.layers.Reshape((first, first, filters), name="reshape")(x)
    for i in range(1, steps):
        filters //= 2
        x = keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=norm == "none",
                                         kernel_initializer=_common.init(init), name=f"deconv_{i}")(x)
        x = _normalise_and_activate(x, norm, act, f"dec_{i}")
    reconstructions = keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same", activation="tanh",
                                                   kernel_initializer=_common.init(init), dtype="float32",
                                                   name="reconstructions")(x)
    return keras.Model(images, reconstructions, name=name)


def mlp_autoencoder(input_dim=2, units=(128, 128), code_dim=16, activation="elu", init="normal",
                    name="mlp_autoencoder"):
    """A fully connected autoencoder discriminator for the 2-D toy mixtures (EBGAN, BEGAN).

    x -> [Dense -> activation] per `units` -> linear Dense(code_dim) named "code" -> [Dense ->
    activation] per reversed `units` -> linear Dense(input_dim). The output is linear because the toy
    samples are not bounded to [-1, 1]; no normalisation.

    Args:
      input_dim: size of a sample (2 for the toys).
      units: hidden widths of the encoder (the decoder mirrors them).
      code_dim: width of the bottleneck.
      activation: any Keras activation name for the hidden layers.
      init: kernel initialiser, "normal" (N(0, 0.02)) or "orthogonal".
      name: model name.

    Returns:
      A functional `keras.Model` mapping [batch, input_dim] to reconstructions [batch, input_dim].
    """
    input_dim = _common.check_positive_int(input_dim, "input_dim")
    units = _common.check_units(units)
    code_dim = _common.check_positive_int(code_dim, "code_dim")
    activation = _check_activation(activation)
    x = keras.Input((input_dim,), name="x")
    h = x
    for i, width in enumerate(units):
        h = keras.layers.Dense(width, activation=activation, kernel_initializer=_common.init(init),
                               name=f"enc_{i}")(h)
    h = keras.layers.Dense(code_dim, kernel_initializer=_common.init(init), name=CODE_LAYER)(h)
    for i, width in enumerate(reversed(units)):
        h = keras.layers.Dense(width, activation=activation, kernel_initializer=_common.init(init),
                               name=f"dec_{i}")(h)
    out = keras.layers.Dense(input_dim, kernel_initializer=_common.init(init), dtype="float32",
                             name="reconstructions")(h)
    return keras.Model(x, out, name=name)

