"""DCGAN generator and discriminator (Radford et al. 2016) for 28x28, 32x32 and 64x64 images."""
import keras
import numpy as np

from tfgan_stable.layers import Pack
from tfgan_stable.nets import _common
from tfgan_stable.nets.resnet import upsample

# Image side -> side of the first feature map of G (and the last of D). Each step doubles/halves it.
_FIRST_SIDE = {28: 7, 32: 4, 64: 4}
SUPPORTED_SIZES = tuple(_FIRST_SIDE)


def dcgan_generator(latent_dim, image_shape=(28, 28, 1), width=1.0, norm="batch", init="normal",
                    upsampling="transpose", name="dcgan_generator"):
    """The DCGAN generator: project z, then fractionally strided convolutions up to the image size.

    z -> Dense -> reshape to s0 x s0 x (C·2^(n-1)) -> norm -> ReLU, then n-1 blocks of
    [Conv2DTranspose(4x4, stride 2) halving the channels -> norm -> ReLU], and a last
    Conv2DTranspose(4x4, stride 2) to the image channels with tanh, so samples lie in [-1, 1].
    C = round(64 · width). For 64x64: 4x4x512 -> 8x8x256 -> 16x16x128 -> 32x32x64 -> 64x64xc (as in the
    paper, which uses 1024 channels at 4x4 for LSUN); for 32x32: 4x4x256 -> ... -> 32x32xc; for 28x28:
    7x7x128 -> 14x14x64 -> 28x28xc. Weights start from N(0, 0.02). Layers followed by a normalisation
    have no bias.

    Args:
      latent_dim: size of z (positive int).
      image_shape: (side, side, channels) with side 28, 32 or 64 (e.g. (28, 28, 1), (32, 32, 3),
        (64, 64, 3); (28, 28, 3) suits stacked MNIST).
      width: channel multiplier (> 0); 1.0 gives the paper's widths, small values give tiny test nets.
      norm: "batch" (the paper), "sync_batch" (batch statistics over all replicas under `tf.distribute`,
        so the step matches single-device training), "layer" or "none".
      init: kernel initialiser, "normal" (N(0, 0.02)) or "orthogonal" (see `techniques.OrthogonalRegularization`).
      upsampling: how each x2 step upsamples (`nets.upsample`): "transpose" (the paper's Conv2DTranspose
        4x4/2), "upsample_conv" (nearest x2 then Conv2D 3x3) or "pixel_shuffle" (Conv2D 3x3 to 4x channels
        then depth-to-space).
      name: model name.

    Returns:
      A functional `keras.Model` mapping [batch, latent_dim] to images [batch, *image_shape] in [-1, 1].
    """
    latent_dim = _common.check_positive_int(latent_dim, "latent_dim")
    side, channels = _check_image_shape(image_shape)
    base = _base_channels(width)
    norm = _common.check_norm(norm)
    first, steps = _FIRST_SIDE[side], int(np.log2(side // _FIRST_SIDE[side]))
    filters = base * 2 ** (steps - 1)
    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(first * first * filters, use_bias=norm == "none", kernel_initializer=_common.init(init),
                           name="project")(z)
    x = keras.layers.Reshape((first, first, filters), name="reshape")(x)
    x = _normalise_and_activate(x, norm, keras.layers.ReLU, "0")
    for i in range(1, steps):
        filters //= 2
        x = upsample(x, filters, f"deconv_{i}", upsampling, init, use_bias=norm == "none")
        x = _normalise_and_activate(x, norm, keras.layers.ReLU, str(i))
    images = upsample(x, channels, "images", upsampling, init, activation="tanh", dtype="float32")
    return keras.Model(z, images, name=name)


def dcgan_discriminator(image_shape=(28, 28, 1), width=1.0, norm="batch", packing=1, init="normal",
                        name="dcgan_discriminator"):
    """The DCGAN discriminator: strided convolutions with LeakyReLU(0.2), then a linear logit.

    n blocks of [Conv2D(4x4, stride 2) -> norm -> LeakyReLU(0.2)] with C, 2C, 4C, ... channels
    (C = round(64 · width)), no normalisation on the first block (as in the paper), then flatten and
    Dense(1). The output is a raw logit (no sigmoid), so any loss family can use it. The shapes mirror
    `dcgan_generator`: 64x64 -> 32x32xC -> ... -> 4x4x8C; 28x28 -> 14x14xC -> 7x7x2C.
    Use norm="none" or "layer" for losses with per-example gradient penalties (WGAN-GP), where batch
    statistics would couple the examples. With `packing` = m > 1 it is PacGAN's packed discriminator:
    `layers.Pack(m)` stacks m images along the channels first, one logit per m images.

    Args:
      image_shape: (side, side, channels) with side 28, 32 or 64.
      width: channel multiplier (> 0).
      norm: "batch" (the paper), "sync_batch", "layer" or "none".
      packing: m, images per discriminator input (1 = no packing).
      init: kernel initialiser, "normal" (N(0, 0.02)) or "orthogonal" (see `techniques.OrthogonalRegularization`).
      name: model name.

    Returns:
      A functional `keras.Model` mapping images [batch, *image_shape] to logits [batch / packing, 1].
    """
    side, channels = _check_image_shape(image_shape)
    base = _base_channels(width)
    norm = _common.check_norm(norm)
    packing = _common.check_positive_int(packing, "packing")
    steps = int(np.log2(side // _FIRST_SIDE[side]))
    images = keras.Input((side, side, channels), name="images")
    x = Pack(packing, name="pack")(images) if packing > 1 else images
    for i in range(steps):
        block_norm = "none" if i == 0 else norm
        x = keras.layers.Conv2D(base * 2 ** i, 4, strides=2, padding="same", use_bias=block_norm == "none",
                                kernel_initializer=_common.init(init), name=f"conv_{i}")(x)
        x = _normalise_and_activate(x, block_norm, lambda name: keras.layers.LeakyReLU(0.2, name=name), str(i))
    x = keras.layers.Flatten(name="flatten")(x)
    logits = keras.layers.Dense(1, kernel_initializer=_common.init(init), dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)


def _normalise_and_activate(x, norm, activation, suffix):
    layer = _common.norm_layer(norm, f"norm_{suffix}")
    if layer is not None:
        x = layer(x)
    return activation(name=f"act_{suffix}")(x)


def _check_image_shape(image_shape):
    shape = _common.image_shape(image_shape)
    side, other, channels = shape
    if side != other or side not in _FIRST_SIDE or channels <= 0:
        raise ValueError(f"`image_shape` {shape} is not supported: the DCGAN nets take square images of side "
                         f"{' / '.join(map(str, SUPPORTED_SIZES))} with at least one channel, e.g. (28, 28, 1), "
                         f"(32, 32, 3) or (64, 64, 3)")
    return side, channels


def _base_channels(width):
    if isinstance(width, bool) or not isinstance(width, (int, float, np.integer, np.floating)) or not width > 0:
        raise ValueError(f"`width` must be a positive number (channel multiplier), got {width!r}")
    return max(1, int(round(64 * width)))
