"""Progressively growing generator and discriminator (Karras et al. 2018), built whole and grown by a schedule."""
import keras
import numpy as np

from tfgan_stable.layers.minibatch import MinibatchStdDev
from tfgan_stable.layers.normalization import PixelNormalization
from tfgan_stable.layers.progressive import GrowingInput, GrowingOutput
from tfgan_stable.nets import _common

_FIRST = 4


def _levels(image_shape, channels):
    try:
        side, other, colours = (int(d) for d in image_shape)
    except (TypeError, ValueError):
        raise ValueError(f"`image_shape` must be (side, side, channels), got {image_shape!r}") from None
    levels = int(np.log2(side // _FIRST)) + 1 if side >= _FIRST else 0
    if side != other or side < _FIRST or _FIRST * 2 ** (levels - 1) != side or colours <= 0:
        raise ValueError(f"`image_shape` must be square with side 4·2^k (4, 8, 16, 32, 64, ...), got {image_shape!r}")
    channels = _common.check_units(channels, "channels")
    if len(channels) != levels:
        raise ValueError(f"`channels` must give one width per resolution ({levels} for side {side}: 4x4 … "
                         f"{side}x{side}), got {channels!r}")
    return side, colours, levels, channels


def progressive_generator(latent_dim, image_shape=(32, 32, 1), channels=(128, 128, 64, 32),
                          name="progressive_generator"):
    """A generator that grows from 4x4 to `image_shape` (Karras et al. 2018, "Progressive growing of GANs").

    Built whole: z → Dense to 4x4 → conv 3x3 (level 0), then per level l ≥ 1 [nearest upsampling ×2 → conv
    3x3 → conv 3x3], every conv followed by LeakyReLU(0.2) and pixel normalisation (the paper's generator;
    its weight scaling at run time is left out). Each level has its own 1x1 "toRGB" convolution, and
    `layers.GrowingOutput` shows the active level's image, faded in over the previous level's, upsampled to
    the full side; tanh maps it to [-1, 1]. The level and fade are set by `callbacks.ProgressiveGrowing`
    (or `layers.set_growth`); levels above the active one get no gradient.

    Args:
      latent_dim: size of z.
      image_shape: (side, side, channels) with side 4·2^k (e.g. (32, 32, 1) for MNIST padded to 32x32).
      channels: feature maps per level, from 4x4 up (one per resolution).
      name: model name.

    Returns:
      A functional `keras.Model` mapping [batch, latent_dim] to images [batch, *image_shape] in [-1, 1].
    """
    latent_dim = _common.check_positive_int(latent_dim, "latent_dim")
    side, colours, levels, channels = _levels(image_shape, channels)

    def conv(x, width, name):
        x = keras.layers.Conv2D(width, 3, padding="same", name=name)(x)
        return PixelNormalization(name=f"{name}_pixel_norm")(keras.layers.LeakyReLU(0.2, name=f"{name}_act")(x))

    z = keras.Input((latent_dim,), name="z")
    x = PixelNormalization(name="z_norm")(z)
    x = keras.layers.Dense(_FIRST * _FIRST * channels[0], name="project")(x)
    x = keras.layers.Reshape((_FIRST, _FIRST, channels[0]), name="reshape")(x)
    x = PixelNormalization(name="project_pixel_norm")(keras.layers.LeakyReLU(0.2, name="project_act")(x))
    x = conv(x, channels[0], "conv_0")
    images = [keras.layers.Conv2D(colours, 1, name="to_rgb_0")(x)]
    for level in range(1, levels):
        x = keras.layers.UpSampling2D(2, name=f"up_{level}")(x)
        x = conv(conv(x, channels[level], f"conv_{level}a"), channels[level], f"conv_{level}b")
        images.append(keras.layers.Conv2D(colours, 1, name=f"to_rgb_{level}")(x))
    out = GrowingOutput(levels, name="growing_output")(images)
    out = keras.layers.Activation("tanh", dtype="float32", name="images")(out)
    return keras.Model(z, out, name=name)


def progressive_discriminator(image_shape=(32, 32, 1), channels=(128, 128, 64, 32), name="progressive_discriminator"):
    """The discriminator that grows with `progressive_generator` (Karras et al. 2018).

    Built whole: the full-size image is area-downsampled to every level's side (average pooling); each level
    l has a 1x1 "fromRGB" convolution, and `layers.GrowingInput` lets the image enter at the active level
    (faded in with the downsampled image entering one level lower); each block l ≥ 1 is [conv 3x3 → conv 3x3
    → average pooling ×2] down to level l − 1's side and width; level 0 adds the minibatch standard
    deviation feature (`layers.MinibatchStdDev`, the paper's), a 3x3 conv, flattens and gives a linear logit.
    LeakyReLU(0.2) everywhere, no normalisation (the paper's). At level λ the logit depends on the image
    only through its λ-level downsampling.

    Args:
      image_shape: (side, side, channels) with side 4·2^k.
      channels: feature maps per level, from 4x4 up (as the generator's).
      name: model name.

    Returns:
      A functional `keras.Model` mapping images [batch, *image_shape] to logits [batch, 1].
    """
    side, colours, levels, channels = _levels(image_shape, channels)

    def conv(x, width, name):
        return keras.layers.LeakyReLU(0.2, name=f"{name}_act")(
            keras.layers.Conv2D(width, 3, padding="same", name=name)(x))

    images = keras.Input((side, side, colours), name="images")
    below = None
    for level in reversed(range(levels)):
        factor = 2 ** (levels - 1 - level)
        scaled = keras.layers.AveragePooling2D(factor, name=f"downsample_{level}")(images) if factor > 1 else images
        here = keras.layers.LeakyReLU(0.2, name=f"from_rgb_{level}_act")(
            keras.layers.Conv2D(channels[level], 1, name=f"from_rgb_{level}")(scaled))
        x = GrowingInput(levels, level, name=f"growing_input_{level}")([here] if below is None else [here, below])
        if level > 0:
            x = conv(conv(x, channels[level], f"conv_{level}a"), channels[level - 1], f"conv_{level}b")
            below = keras.layers.AveragePooling2D(2, name=f"pool_{level}")(x)
    x = MinibatchStdDev(name="minibatch_stddev")(x)
    x = conv(x, channels[0], "conv_0")
    x = keras.layers.Flatten(name="flatten")(x)
    logits = keras.layers.Dense(1, dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)
