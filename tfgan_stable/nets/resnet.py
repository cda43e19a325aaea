"""ResNet generator and discriminator with spectral norm (SNGAN), BigGAN-style generator options, and the
x2 upsampling choice shared with the DCGAN generator."""
import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgan_stable.layers import SpectralNormalization
from tfgan_stable.nets import _common

#: The upsampling modes of `upsample` (and of the generators' `upsampling` argument).
UPSAMPLING = ("transpose", "upsample_conv", "pixel_shuffle")

# Image side -> side of the generator's first feature map; each residual up-block doubles it.
_FIRST_SIDE = {28: 7, 32: 4, 64: 4}
#: Channels of the SNGAN CIFAR-10 nets at width 1.0 (Miyato et al. 2018, appendix B.4, table 4).
GENERATOR_CHANNELS, DISCRIMINATOR_CHANNELS = 256, 128


@keras.saving.register_keras_serializable(package="tfgan_stable")
class PixelShuffle(keras.layers.Layer):
    """Depth-to-space ("sub-pixel" rearrangement; Shi et al. 2016, "Real-Time Single Image and Video
    Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural Network").

    [batch, H, W, r²·C] -> [batch, r·H, r·W, C] with out[b, r·h + i, r·w + j, c] = in[b, h, w, (r·i + j)·C + c]
    (the order of `tf.nn.depth_to_space`). After a convolution to r²·C channels it is an upsampling by r
    whose every output pixel has its own filter, without the uneven kernel overlap of a strided
    transposed convolution.

    Args:
      block_size: r (integer >= 2).
      **kwargs: base `Layer` arguments.
    """

    def __init__(self, block_size=2, **kwargs):
        super().__init__(**kwargs)
        if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 2:
            raise ValueError(f"`block_size` must be an integer >= 2, got {block_size!r}")
        self.block_size = int(block_size)

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None or input_shape[-1] % self.block_size ** 2:
            raise ValueError(f"PixelShuffle({self.block_size}) expects [batch, height, width, channels] with "
                             f"channels a multiple of {self.block_size ** 2}, got shape {tuple(input_shape)}")
        self.built = True

    def call(self, inputs):
        return tf.nn.depth_to_space(inputs, self.block_size)

    def compute_output_shape(self, input_shape):
        r = self.block_size
        return (input_shape[0], *(None if s is None else s * r for s in input_shape[1:3]), input_shape[3] // r ** 2)

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}


@keras.saving.register_keras_serializable(package="tfgan_stable")
class LatentChunks(keras.layers.Layer):
    """Splits z [batch, d] into `num_chunks` equal consecutive chunks [batch, d / num_chunks] (BigGAN's skip-z).

    Args:
      num_chunks: number of chunks (positive integer dividing d).
      **kwargs: base `Layer` arguments.
    """

    def __init__(self, num_chunks, **kwargs):
        super().__init__(**kwargs)
        self.num_chunks = _common.check_positive_int(num_chunks, "num_chunks")

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None or input_shape[-1] % self.num_chunks:
            raise ValueError(f"LatentChunks({self.num_chunks}) expects z of shape [batch, d] with d a multiple of "
                             f"{self.num_chunks}, got {tuple(input_shape)}")
        self.built = True

    def call(self, inputs):
        return ops.split(inputs, self.num_chunks, axis=-1)

    def compute_output_shape(self, input_shape):
        return [(input_shape[0], input_shape[1] // self.num_chunks)] * self.num_chunks

    def get_config(self):
        return {**super().get_config(), "num_chunks": self.num_chunks}


@keras.saving.register_keras_serializable(package="tfgan_stable")
class LinearConditionalBatchNormalization(keras.layers.Layer):
    """Batch normalisation whose gain and bias are linear functions of a conditioning vector (BigGAN).

    Brock et al. 2019, "Large Scale GAN Training for High Fidelity Natural Image Synthesis" (§3, skip-z
    and shared embedding): with x̂ = (x − μ) / √(σ² + ε) the normalised input,
        y = x̂ ⊙ (1 + W_γ c) + W_β c,
    where c [batch, d] is the block's conditioning vector (its chunk of z, the shared class embedding,
    or both concatenated) and W_γ, W_β [d, channels] are learned without biases, so a zero c gives plain
    normalisation. (`layers.ConditionalBatchNormalization` instead selects γ, β rows by class id.)
    μ, σ² are the batch statistics in training and moving averages in inference (Keras'
    `BatchNormalization(center=False, scale=False)` inside).

    Called on a list [x, c].

    Args:
      norm: the normalisation of x: "batch", "sync_batch" (global-batch statistics under
        `tf.distribute`), "layer" or "none".
      init: initialiser of W_γ and W_β, "normal" (N(0, 0.02)) or "orthogonal".
      **kwargs: base `Layer` arguments.
    """

    def __init__(self, norm="batch", init="normal", **kwargs):
        super().__init__(**kwargs)
        self.norm = _common.check_norm(norm)
        self.init = init
        self._initializer = _common.init(init)
        if norm == "layer":
            self.normalize = keras.layers.LayerNormalization(epsilon=1e-5, center=False, scale=False, name="norm")
        elif norm != "none":
            self.normalize = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, center=False, scale=False,
                                                             synchronized=norm == "sync_batch", name="norm")
        else:
            self.normalize = None

    def build(self, input_shape):
        if not (isinstance(input_shape, (list, tuple)) and len(input_shape) == 2
                and all(isinstance(s, (list, tuple)) for s in input_shape)):
            raise ValueError(f"LinearConditionalBatchNormalization is called on a list [x, c], got input shape "
                             f"{input_shape}")
        x_shape, c_shape = tuple(input_shape[0]), tuple(input_shape[1])
        if len(x_shape) < 2 or x_shape[-1] is None or len(c_shape) != 2 or c_shape[-1] is None:
            raise ValueError(f"LinearConditionalBatchNormalization expects x [batch, ..., channels] and c "
                             f"[batch, d] with known channels and d, got {x_shape} and {c_shape}")
        if self.normalize is not None:
            self.normalize.build(x_shape)
        shape = (int(c_shape[-1]), int(x_shape[-1]))
        self.gain_kernel = self.add_weight(shape=shape, initializer=self._initializer, name="gain_kernel")
        self.bias_kernel = self.add_weight(shape=shape, initializer=self._initializer, name="bias_kernel")
        self._x_rank = len(x_shape)
        self.built = True

    def call(self, inputs, training=None):
        x, c = inputs
        x_hat = x if self.normalize is None else self.normalize(x, training=training)
        c = ops.cast(c, x_hat.dtype)
        shape = (-1, *[1] * (self._x_rank - 2), x_hat.shape[-1])
        gain = ops.reshape(ops.matmul(c, ops.cast(self.gain_kernel, x_hat.dtype)), shape)
        bias = ops.reshape(ops.matmul(c, ops.cast(self.bias_kernel, x_hat.dtype)), shape)
        return x_hat * (1.0 + gain) + bias

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "norm": self.norm, "init": self.init}


def _wrap(layer, spectral_norm):
    """`layer`, or `layers.SpectralNormalization(layer)` named like it (the layer itself gets "_layer")."""
    if not spectral_norm:
        return layer
    name = layer.name
    layer.name = f"{name}_layer"
    return SpectralNormalization(layer, name=name, dtype=layer.dtype_policy)


def upsample(x, filters, name, upsampling="transpose", init="normal", spectral_norm=False, **conv_kwargs):
    """Doubles the height and width of `x` and maps it to `filters` channels, one of three ways.

    - "transpose": Conv2DTranspose(4x4, stride 2), as in DCGAN (Radford et al. 2016). Where the kernel
      overlaps unevenly it can leave checkerboard artefacts (Odena et al. 2016, "Deconvolution and
      Checkerboard Artifacts", Distill).
    - "upsample_conv": nearest-neighbour x2 then Conv2D(3x3), Odena et al.'s remedy (the SNGAN / BigGAN
      ResNet blocks).
    - "pixel_shuffle": Conv2D(3x3) to 4·filters channels then depth-to-space by 2 (`PixelShuffle`; Shi
      et al. 2016).

    The convolution is the layer called `name` (wrapped in `layers.SpectralNormalization` with
    `spectral_norm`); "upsample_conv" adds a layer `{name}_upsample` before it, "pixel_shuffle"
    `{name}_shuffle` after it.

    Args:
      x: a symbolic 4-D tensor [batch, height, width, channels].
      filters: output channels (positive integer).
      name: name of the convolution layer.
      upsampling: "transpose", "upsample_conv" or "pixel_shuffle".
      init: kernel initialiser, "normal" (N(0, 0.02)) or "orthogonal".
      spectral_norm: wrap the convolution in `layers.SpectralNormalization`.
      **conv_kwargs: further convolution arguments (use_bias, activation, dtype).

    Returns:
      The upsampled tensor [batch, 2·height, 2·width, filters].
    """
    if upsampling not in UPSAMPLING:
        raise ValueError(f"`upsampling` must be one of {UPSAMPLING}, got {upsampling!r}")
    filters = _common.check_positive_int(filters, "filters")
    kwargs = dict(padding="same", kernel_initializer=_common.init(init), name=name, **conv_kwargs)
    if upsampling == "transpose":
        return _wrap(keras.layers.Conv2DTranspose(filters, 4, strides=2, **kwargs), spectral_norm)(x)
    if upsampling == "upsample_conv":
        x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_upsample")(x)
        return _wrap(keras.layers.Conv2D(filters, 3, **kwargs), spectral_norm)(x)
    activation = kwargs.pop("activation", None)  # after the shuffle (it is pointwise, so either order works)
    dtype = kwargs.get("dtype")
    x = _wrap(keras.layers.Conv2D(4 * filters, 3, **kwargs), spectral_norm)(x)
    x = PixelShuffle(2, name=f"{name}_shuffle", dtype=dtype)(x)
    return x if activation is None else keras.layers.Activation(activation, name=f"{name}_act", dtype=dtype)(x)


def resnet_generator(latent_dim, image_shape=(32, 32, 3), width=1.0, upsampling="upsample_conv", norm="batch",
                     spectral_norm=False, num_classes=None, skip_z=False, shared_embedding_dim=128,
                     init="normal", name="resnet_generator"):
    """The SNGAN ResNet generator (Miyato et al. 2018, appendix B.4, table 4), with BigGAN-style options.

    Layout (C = round(256 · width); the paper's CIFAR-10 net is C = 256, z of 128 dimensions):
        z -> Dense(s0·s0·C) -> reshape s0 x s0 x C
          -> n residual up-blocks, C -> C channels, each doubling the side
          -> norm -> ReLU -> Conv2D(3x3, image channels) -> tanh.
    32x32: s0 = 4, n = 3 (4 -> 8 -> 16 -> 32); 64x64: s0 = 4, n = 4; 28x28: s0 = 7, n = 2.
    Up-block (He et al. 2016 pre-activation, as in SNGAN and Mimicry):
        main:     norm -> ReLU -> up(C) -> norm -> ReLU -> Conv2D(3x3, C)
        shortcut: nearest x2 -> Conv2D(1x1, C) (learnable),   output = main + shortcut,
    where up(C) is the `upsampling` choice (see `upsample`; SNGAN uses "upsample_conv"). Every
    convolution and the Dense have biases (as in the reference implementations). Samples are in [-1, 1].

    BigGAN options (Brock et al. 2019):
    - `num_classes`: the generator takes [z, labels] (integer class ids [batch]); a shared class
      embedding e(y) (`Embedding(num_classes, shared_embedding_dim)`, one table for all blocks) conditions
      both norms of every up-block through `LinearConditionalBatchNormalization`.
    - `skip_z`: z is split into n + 1 equal chunks; the first feeds the Dense, chunk i + 1 conditions the
      norms of up-block i (concatenated with e(y) when `num_classes` is given): gain 1 + W_γ c, bias W_β c.
      latent_dim must be a multiple of n + 1.
    - `init="orthogonal"`, and `spectral_norm=True` wraps the Dense and every convolution (BigGAN also
      uses spectral normalisation in G; the conditional norms' W_γ, W_β are not wrapped).
    The last norm (before the output convolution) is unconditional, as in SNGAN's and BigGAN's nets.

    Args:
      latent_dim: size of z (positive integer).
      image_shape: (side, side, channels), side 28, 32 or 64.
      width: channel multiplier (> 0); 1.0 gives C = 256.
      upsampling: "upsample_conv" (SNGAN), "transpose" or "pixel_shuffle".
      norm: "batch", "sync_batch", "layer" or "none".
      spectral_norm: wrap the Dense and the convolutions in `layers.SpectralNormalization`.
      num_classes: None (unconditional) or the number of classes (integer >= 2).
      skip_z: BigGAN's hierarchical latent (z chunks to every block).
      shared_embedding_dim: size of the shared class embedding (with `num_classes`; BigGAN uses 128).
      init: kernel initialiser, "normal" (N(0, 0.02)) or "orthogonal".
      name: model name.

    Returns:
      A functional `keras.Model` mapping z [batch, latent_dim] (and labels [batch] with `num_classes`) to
      images [batch, *image_shape] in [-1, 1].
    """
    latent_dim = _common.check_positive_int(latent_dim, "latent_dim")
    side, _, channels = _image_shape(image_shape, sides=tuple(_FIRST_SIDE))
    filters = _channels(width, GENERATOR_CHANNELS)
    if upsampling not in UPSAMPLING:
        raise ValueError(f"`upsampling` must be one of {UPSAMPLING}, got {upsampling!r}")
    norm = _common.check_norm(norm)
    _common.init(init)
    num_classes = _num_classes(num_classes)
    if not isinstance(skip_z, bool):
        raise ValueError(f"`skip_z` must be True or False, got {skip_z!r}")
    if not isinstance(spectral_norm, bool):
        raise ValueError(f"`spectral_norm` must be True or False, got {spectral_norm!r}")
    first = _FIRST_SIDE[side]
    blocks = int(np.log2(side // first))
    if skip_z and latent_dim % (blocks + 1):
        raise ValueError(f"with skip_z=True, z is split into {blocks + 1} equal chunks (one for the Dense and one "
                         f"per up-block of the {side}x{side} generator), so `latent_dim` must be a multiple of "
                         f"{blocks + 1}, got {latent_dim}")
    if num_classes is not None or skip_z:
        if norm == "none":
            raise ValueError("`norm`='none' leaves no normalisation to condition; with `num_classes` or skip_z use "
                             "'batch', 'sync_batch' or 'layer'")
    if num_classes is not None:
        shared_embedding_dim = _common.check_positive_int(shared_embedding_dim, "shared_embedding_dim")

    z = keras.Input((latent_dim,), name="z")
    inputs = [z]
    chunks = LatentChunks(blocks + 1, name="z_chunks")(z) if skip_z else [z]
    embedding = None
    if num_classes is not None:
        labels = keras.Input((), dtype="int32", name="labels")
        inputs.append(labels)
        embedding = keras.layers.Embedding(num_classes, shared_embedding_dim, embeddings_initializer=_common.init(
            init), name="shared_embedding")(labels)

    def condition(i):
        parts = ([chunks[i + 1]] if skip_z else []) + ([embedding] if embedding is not None else [])
        if len(parts) > 1:
            return keras.layers.Concatenate(name=f"condition_{i}")(parts)
        return parts[0] if parts else None

    x = _wrap(keras.layers.Dense(first * first * filters, kernel_initializer=_common.init(init), name="project"),
              spectral_norm)(chunks[0])
    x = keras.layers.Reshape((first, first, filters), name="reshape")(x)
    for i in range(blocks):
        x = _up_block(x, filters, condition(i), f"block_{i}", upsampling, norm, init, spectral_norm)
    x = _norm_act(x, None, norm, init, "out")
    images = _wrap(keras.layers.Conv2D(channels, 3, padding="same", activation="tanh", dtype="float32",
                                       kernel_initializer=_common.init(init), name="images"), spectral_norm)(x)
    return keras.Model(inputs if len(inputs) > 1 else z, images, name=name)


def _norm_act(x, c, norm, init, name):
    if c is not None:
        x = LinearConditionalBatchNormalization(norm, init, name=f"{name}_norm")([x, c])
    else:
        layer = _common.norm_layer(norm, f"{name}_norm")
        x = x if layer is None else layer(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def _up_block(x, filters, c, name, upsampling, norm, init, spectral_norm):
    h = _norm_act(x, c, norm, init, f"{name}_1")
    h = upsample(h, filters, f"{name}_conv_1", upsampling, init, spectral_norm)
    h = _norm_act(h, c, norm, init, f"{name}_2")
    h = _wrap(keras.layers.Conv2D(filters, 3, padding="same", kernel_initializer=_common.init(init),
                                  name=f"{name}_conv_2"), spectral_norm)(h)
    s = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_shortcut_upsample")(x)
    s = _wrap(keras.layers.Conv2D(filters, 1, kernel_initializer=_common.init(init), name=f"{name}_shortcut"),
              spectral_norm)(s)
    return keras.layers.Add(name=f"{name}_add")([h, s])


@keras.saving.register_keras_serializable(package="tfgan_stable")
class GlobalSumPooling2D(keras.layers.Layer):
    """Sum over the spatial positions: [batch, H, W, C] -> [batch, C] (SNGAN's ResNet discriminator).

    Args:
      **kwargs: base `Layer` arguments.
    """

    def call(self, inputs):
        return ops.sum(inputs, axis=(1, 2))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable(package="tfgan_stable")
class ProjectionTerm(keras.layers.Layer):
    """The projection discriminator's class term (Miyato & Koyama 2018, "cGANs with Projection
    Discriminator"): given φ(x) [batch, C] and the class embedding e(y) [batch, C], the per-example inner
    product e(y)ᵀφ(x), shape [batch, 1].

    Args:
      **kwargs: base `Layer` arguments.
    """

    def call(self, inputs):
        features, embedding = inputs
        return ops.sum(ops.cast(features, "float32") * ops.cast(embedding, "float32"), axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)


def resnet_discriminator(image_shape=(32, 32, 3), width=1.0, spectral_norm=True, num_classes=None, init="normal",
                         name="resnet_discriminator"):
    """The SNGAN ResNet discriminator (Miyato et al. 2018, appendix B.4, table 4), optionally with projection.

    Layout (C = round(128 · width); the paper's CIFAR-10 net is C = 128):
        optimized block (image -> C, /2) -> down-block (C -> C, /2) -> block (C -> C) -> block (C -> C)
          -> ReLU -> global sum pooling -> φ(x) [batch, C] -> Dense(1),
    so 32x32 -> 16x16 -> 8x8 -> 8x8 -> 8x8. Blocks (pre-activation, AvgPool 2x2 to downsample):
        optimized: main Conv3x3 -> ReLU -> Conv3x3 -> AvgPool,  shortcut AvgPool -> Conv1x1;
        down:      main ReLU -> Conv3x3 -> ReLU -> Conv3x3 -> AvgPool,  shortcut Conv1x1 -> AvgPool;
        block:     main ReLU -> Conv3x3 -> ReLU -> Conv3x3,  shortcut identity.
    No normalisation layers; with `spectral_norm` every convolution, the Dense and the class embedding
    are wrapped in `layers.SpectralNormalization` (its power iteration is driven by the GAN step). All
    have biases except the embedding.

    With `num_classes` it is the projection discriminator (Miyato & Koyama 2018): inputs [images,
    labels] (integer ids [batch]) and logit = Dense(φ(x)) + e(y)ᵀφ(x), with e = Embedding(num_classes, C)
    (`ProjectionTerm`).

    Args:
      image_shape: (height, width, channels), height and width multiples of 4.
      width: channel multiplier (> 0); 1.0 gives C = 128.
      spectral_norm: wrap the convolutions, the Dense and the embedding in `layers.SpectralNormalization`.
      num_classes: None, or the number of classes (integer >= 2) for the projection term.
      init: kernel initialiser, "normal" (N(0, 0.02)) or "orthogonal".
      name: model name.

    Returns:
      A functional `keras.Model` mapping images (and labels) to raw logits [batch, 1] in float32.
    """
    height, width_px, channels = _image_shape(image_shape, multiple=4)
    filters = _channels(width, DISCRIMINATOR_CHANNELS)
    if not isinstance(spectral_norm, bool):
        raise ValueError(f"`spectral_norm` must be True or False, got {spectral_norm!r}")
    _common.init(init)
    num_classes = _num_classes(num_classes)

    def conv(size, block_name):
        return _wrap(keras.layers.Conv2D(filters, size, padding="same", kernel_initializer=_common.init(init),
                                         name=block_name), spectral_norm)

    def pool(block_name):
        return keras.layers.AveragePooling2D(2, name=block_name)

    images = keras.Input((height, width_px, channels), name="images")
    # Optimized first block: no activation before the first convolution (the input is the image).
    h = conv(3, "block_0_conv_1")(images)
    h = conv(3, "block_0_conv_2")(keras.layers.ReLU(name="block_0_relu")(h))
    s = conv(1, "block_0_shortcut")(pool("block_0_shortcut_pool")(images))
    x = keras.layers.Add(name="block_0_add")([pool("block_0_pool")(h), s])
    for i, down in ((1, True), (2, False), (3, False)):
        h = conv(3, f"block_{i}_conv_1")(keras.layers.ReLU(name=f"block_{i}_relu_1")(x))
        h = conv(3, f"block_{i}_conv_2")(keras.layers.ReLU(name=f"block_{i}_relu_2")(h))
        if down:
            h = pool(f"block_{i}_pool")(h)
            s = pool(f"block_{i}_shortcut_pool")(conv(1, f"block_{i}_shortcut")(x))
        else:
            s = x
        x = keras.layers.Add(name=f"block_{i}_add")([h, s])
    x = keras.layers.ReLU(name="relu")(x)
    features = GlobalSumPooling2D(name="sum_pool")(x)
    logits = _wrap(keras.layers.Dense(1, kernel_initializer=_common.init(init), dtype="float32", name="logits"),
                   spectral_norm)(features)
    if num_classes is None:
        return keras.Model(images, logits, name=name)
    labels = keras.Input((), dtype="int32", name="labels")
    embedding = _wrap(keras.layers.Embedding(num_classes, filters, embeddings_initializer=_common.init(init),
                                             name="class_embedding"), spectral_norm)(labels)
    projection = ProjectionTerm(name="projection", dtype="float32")([features, embedding])
    logits = keras.layers.Add(name="logits_with_projection", dtype="float32")([logits, projection])
    return keras.Model([images, labels], logits, name=name)


def _image_shape(image_shape, sides=None, multiple=None):
    height, width, channels = _common.image_shape(image_shape)
    if min(height, width, channels) <= 0:
        raise ValueError(f"`image_shape` {(height, width, channels)} is not supported: sizes must be positive")
    if sides is not None and (height != width or height not in sides):
        raise ValueError(f"`image_shape` {(height, width, channels)} is not supported: the ResNet generator makes "
                         f"square images of side {' / '.join(map(str, sides))}, e.g. (32, 32, 3)")
    if multiple is not None and (height % multiple or width % multiple):
        raise ValueError(f"`image_shape` {(height, width, channels)} is not supported: height and width must be "
                         f"multiples of {multiple} (the discriminator halves them twice)")
    return height, width, channels


def _channels(width, full):
    if isinstance(width, bool) or not isinstance(width, (int, float, np.integer, np.floating)) or not width > 0:
        raise ValueError(f"`width` must be a positive number (channel multiplier), got {width!r}")
    return max(1, int(round(full * width)))


def _num_classes(num_classes):
    if num_classes is None:
        return None
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"`num_classes` must be None or an integer >= 2, got {num_classes!r}")
    return int(num_classes)
