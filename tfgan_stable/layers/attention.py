"""Self-attention over the positions of a feature map (SAGAN)."""
import keras
from keras import ops

from tfgan_stable.layers import _common
from tfgan_stable.layers.spectral_normalization import SpectralNormalization


@keras.saving.register_keras_serializable(package="tfgan_stable")
class SelfAttention(keras.layers.Layer):
    """Self-attention: every position of a feature map attends to every other position.

    Zhang et al. 2019, "Self-Attention Generative Adversarial Networks" (SAGAN). With x_i ∈ R^C the
    features at position i and learned 1×1 projections f, g, h to C̄ channels and v back to C,
        s_ij = f(x_i)ᵀ g(x_j),    β_{j,i} = exp(s_ij) / Σ_k exp(s_kj),
        o_j = v(Σ_i β_{j,i} h(x_i)),    y_j = x_j + γ·o_j,
    so output position j mixes the features of all positions i it attends to. γ is a learned scalar
    initialised at 0: the layer starts as the identity and the network learns how much non-local
    evidence to use. The paper uses C̄ = C/8 for all of f, g, h. The projections have no bias.

    Args:
      key_channels: C̄ of f and g (default max(1, C // 8)).
      value_channels: channels of h (default max(1, C // 8), as in the paper; BigGAN uses C // 2).
      spectral_normalization: wrap the four projections in `SpectralNormalization`, as SAGAN does in
        both networks.
      kernel_initializer: initializer of the projections.
      **kwargs: base `Layer` arguments.

    Input: [batch, ..., C] of rank >= 3 (e.g. [batch, height, width, C]); all axes between the batch and
    the channels are positions. Output: the same shape.

    Example:
      ```python
      x = keras.layers.Conv2D(64, 4, strides=2, padding="same")(images)   # [n, 16, 16, 64]
      x = SelfAttention(spectral_normalization=True)(x)
      ```
    """

    def __init__(self, key_channels=None, value_channels=None, spectral_normalization=False,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.key_channels = None if key_channels is None else _common.check_positive_int(
            key_channels, "key_channels")
        self.value_channels = None if value_channels is None else _common.check_positive_int(
            value_channels, "value_channels")
        self.spectral_normalization = bool(spectral_normalization)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def _projection(self, units, name):
        dense = keras.layers.Dense(units, use_bias=False, kernel_initializer=self.kernel_initializer, name=name)
        return SpectralNormalization(dense, name=f"sn_{name}") if self.spectral_normalization else dense

    def build(self, input_shape):
        rank = _common.check_rank(input_shape, 3, "SelfAttention",
                                  what="feature maps [batch, positions..., channels]")
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"SelfAttention needs a known number of channels, got input shape {tuple(input_shape)}")
        channels = int(channels)
        key = self.key_channels or max(1, channels // 8)
        value = self.value_channels or max(1, channels // 8)
        flat = (None, None, channels)
        self.f = self._projection(key, "f")
        self.g = self._projection(key, "g")
        self.h = self._projection(value, "h")
        self.v = self._projection(channels, "v")
        for layer in (self.f, self.g, self.h):
            layer.build(flat)
        self.v.build((None, None, value))
        self.gamma = self.add_weight(shape=(), initializer="zeros", name="gamma")
        self._rank = rank
        self.built = True

    def call(self, inputs, training=None):
        shape = ops.shape(inputs)
        channels = inputs.shape[-1]
        x = ops.reshape(inputs, (shape[0], -1, channels))                # [n, P, C]
        keys = self.f(x)                              # f(x_i): [n, P, C̄]
        queries = self.g(x)                           # g(x_j): [n, P, C̄]
        logits = ops.matmul(queries, ops.transpose(keys, (0, 2, 1)))     # [n, j, i] = s_ij
        attention = ops.softmax(ops.cast(logits, "float32"), axis=-1)   # β_{j,i}, normalised over i
        attended = ops.matmul(ops.cast(attention, x.dtype), self.h(x))  # [n, P, C_h]
        o = self.v(attended)                          # [n, P, C]
        y = x + ops.cast(self.gamma, x.dtype) * o
        return ops.reshape(y, shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"key_channels": self.key_channels, "value_channels": self.value_channels,
                       "spectral_normalization": self.spectral_normalization,
                       "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)})
        return config
