"""Pixel-wise feature normalisation and class-conditional batch normalisation."""
import keras
import numpy as np
from keras import ops

from tfgan_stable.layers import _common


@keras.saving.register_keras_serializable(package="tfgan_stable")
class PixelNormalization(keras.layers.Layer):
    """Pixel-wise feature vector normalisation: each position's feature vector gets unit mean square.

    Karras et al. 2018, "Progressive Growing of GANs for Improved Quality, Stability, and Variation":
        b = a / √(mean_over_channels(a²) + ε)
    at every position (pixel) of every example separately, with no learned parameters. Used after
    each convolution of the generator instead of batch normalisation, it stops feature magnitudes from
    escalating when generator and discriminator compete.

    Args:
      axis: the feature (channel) axis, default -1.
      epsilon: added under the square root (> 0).
      **kwargs: base `Layer` arguments.

    Example:
      ```python
      x = keras.layers.Conv2D(128, 3, padding="same")(x)
      x = PixelNormalization()(keras.layers.LeakyReLU(0.2)(x))
      ```
    """

    def __init__(self, axis=-1, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"`axis` must be an integer (the feature axis), got {axis!r}")
        self.axis = int(axis)
        self.epsilon = _common.check_positive_float(epsilon, "epsilon")
        self.supports_masking = True

    def build(self, input_shape):
        rank = _common.check_rank(input_shape, 2, "PixelNormalization")
        self._axis = _common.check_axis(self.axis, rank, "PixelNormalization")
        self.built = True

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        y = x * ops.rsqrt(ops.mean(ops.square(x), axis=self._axis, keepdims=True) + self.epsilon)
        return ops.cast(y, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        return config


@keras.saving.register_keras_serializable(package="tfgan_stable")
class ConditionalBatchNormalization(keras.layers.Layer):
    """Class-conditional batch normalisation: batch statistics, then a per-class scale and offset.

    De Vries et al. 2017 and Miyato & Koyama 2018 (cGANs with projection discriminator), as used in the
    class-conditional generators of SN-GAN and BigGAN: x is normalised like batch normalisation,
        x̂ = (x − μ) / √(σ² + ε),
    with the batch's per-channel mean and variance in training and moving averages of them in inference,
    and then y = γ_y ⊙ x̂ + β_y, where γ_y and β_y are rows of learned [num_classes, channels] tables
    selected by the label y (γ starts at 1, β at 0). With one-hot or soft labels p the rows are mixed:
    γ = pᵀΓ, β = pᵀB (useful to interpolate between classes).

    How labels are passed: the layer is called on a list `[x, labels]`. `labels` is either integer class
    ids of shape [batch] or [batch, 1], or floating one-hot / soft labels of shape [batch, num_classes].

    Moving statistics (momentum m): moving ← m·moving + (1 − m)·batch statistic, updated in every call
    with `training=True`. Under `tf.distribute` each replica normalises with its own batch's statistics
    (like `BatchNormalization(synchronized=False)`; a cross-replica all-reduce cannot run inside the
    XLA-compiled step) and updates its own copy of the moving statistics, which are sync-on-read
    variables: checkpoints, `get_weights` and `.keras` files hold their mean over replicas, which is
    exactly the moving average of the replica-averaged batch means (and of the averaged per-replica
    variances); restoring sets every replica to it.

    Args:
      num_classes: number of classes (positive integer).
      axis: the feature axis (default -1).
      momentum: momentum of the moving statistics, in [0, 1).
      epsilon: added to the variance (> 0).
      **kwargs: base `Layer` arguments.

    Example:
      ```python
      z, y = keras.Input((128,)), keras.Input((), dtype="int32")
      x = keras.layers.Reshape((4, 4, 256))(keras.layers.Dense(4 * 4 * 256)(z))
      x = keras.layers.ReLU()(ConditionalBatchNormalization(num_classes=10)([x, y]))
      ```
    """

    def __init__(self, num_classes, axis=-1, momentum=0.99, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = _common.check_positive_int(num_classes, "num_classes")
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"`axis` must be an integer (the feature axis), got {axis!r}")
        self.axis = int(axis)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.integer, np.floating)) \
                or not 0.0 <= momentum < 1.0:
            raise ValueError(f"`momentum` must be a number in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self.epsilon = _common.check_positive_float(epsilon, "epsilon")

    def _split_shapes(self, input_shape):
        if not (isinstance(input_shape, (list, tuple)) and len(input_shape) == 2
                and all(isinstance(s, (list, tuple)) for s in input_shape)):
            raise ValueError(f"ConditionalBatchNormalization is called on a list [x, labels], got input "
                             f"shape {input_shape}")
        return tuple(input_shape[0]), tuple(input_shape[1])

    def build(self, input_shape):
        x_shape, label_shape = self._split_shapes(input_shape)
        rank = _common.check_rank(x_shape, 2, "ConditionalBatchNormalization", what="x")
        self._axis = _common.check_axis(self.axis, rank, "ConditionalBatchNormalization")
        self._check_label_shape(label_shape)
        channels = x_shape[self._axis]
        if channels is None:
            raise ValueError(f"ConditionalBatchNormalization needs a known size on the feature axis, got x "
                             f"shape {x_shape}")
        channels = int(channels)
        self._rank = rank
        self._reduce_axes = tuple(a for a in range(rank) if a != self._axis)
        self.gamma = self.add_weight(shape=(self.num_classes, channels), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(self.num_classes, channels), initializer="zeros", name="beta")
        self.moving_mean = _common.replica_local_variable("moving_mean", (channels,), "zeros")
        self.moving_variance = _common.replica_local_variable("moving_variance", (channels,), "ones")
        self.built = True

    def _check_label_shape(self, label_shape):
        if len(label_shape) not in (1, 2) or (len(label_shape) == 2 and label_shape[-1] not in
                                              (None, 1, self.num_classes)):
            raise ValueError(f"ConditionalBatchNormalization: `labels` must be class ids of shape [batch] or "
                             f"[batch, 1], or one-hot/soft labels of shape [batch, num_classes="
                             f"{self.num_classes}], got shape {label_shape}")

    def _broadcast(self, per_example_feature):
        """[batch, channels] → broadcastable against x."""
        shape = [1] * self._rank
        shape[0], shape[self._axis] = -1, per_example_feature.shape[-1]
        return ops.reshape(per_example_feature, shape)

    def _class_parameters(self, labels):
        gamma, beta = ops.cast(self.gamma, "float32"), ops.cast(self.beta, "float32")
        if "int" in str(labels.dtype):
            ids = ops.reshape(labels, (-1,))
            return ops.take(gamma, ids, axis=0), ops.take(beta, ids, axis=0)
        if len(labels.shape) != 2 or labels.shape[-1] != self.num_classes:
            raise ValueError(f"ConditionalBatchNormalization: floating `labels` must be one-hot/soft labels of "
                             f"shape [batch, {self.num_classes}] (integer dtype for class ids), got shape "
                             f"{tuple(labels.shape)}")
        probs = ops.cast(labels, "float32")
        return ops.matmul(probs, gamma), ops.matmul(probs, beta)

    def call(self, inputs, training=None):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError("ConditionalBatchNormalization is called on a list [x, labels]")
        x_in, labels = inputs
        x = ops.cast(x_in, "float32")
        if training:
            mean = ops.mean(x, axis=self._reduce_axes)
            variance = ops.mean(ops.square(x - self._per_channel(mean)), axis=self._reduce_axes)
            m = self.momentum
            self.moving_mean.assign(m * ops.convert_to_tensor(self.moving_mean) + (1.0 - m) * mean)
            self.moving_variance.assign(m * ops.convert_to_tensor(self.moving_variance) + (1.0 - m) * variance)
        else:
            mean = ops.convert_to_tensor(self.moving_mean)
            variance = ops.convert_to_tensor(self.moving_variance)
        normalized = (x - self._per_channel(mean)) * ops.rsqrt(self._per_channel(variance) + self.epsilon)
        gamma, beta = self._class_parameters(labels)
        y = normalized * self._broadcast(gamma) + self._broadcast(beta)
        return ops.cast(y, x_in.dtype)

    def _per_channel(self, values):
        shape = [1] * self._rank
        shape[self._axis] = -1
        return ops.reshape(values, shape)

    def compute_output_shape(self, input_shape):
        return self._split_shapes(input_shape)[0]

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"num_classes": self.num_classes, "axis": self.axis, "momentum": self.momentum,
                       "epsilon": self.epsilon})
        return config
