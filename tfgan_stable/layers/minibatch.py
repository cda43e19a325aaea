"""Layers that let the discriminator look at a whole minibatch: minibatch discrimination and stddev."""
import keras
import tensorflow as tf
from keras import ops

from tfgan_stable.layers import _common


@keras.saving.register_keras_serializable(package="tfgan_stable")
class MinibatchDiscrimination(keras.layers.Layer):
    """Minibatch discrimination: appends features measuring how close each example is to the others.

    Salimans et al. 2016, "Improved Techniques for Training GANs". For features f(x_i) ∈ R^A of the n
    examples of a batch, a learned tensor T ∈ R^{A×B×C} gives matrices M_i = f(x_i)·T ∈ R^{B×C}; for
    each of the B kernels
        c_b(x_i, x_j) = exp(−‖M_{i,b} − M_{j,b}‖₁),    o(x_i)_b = Σ_{j=1..n} c_b(x_i, x_j),
    and the output is concat(f(x_i), o(x_i)) ∈ R^{A+B}. A generator that collapses onto a few modes
    produces batches whose examples are close to each other, which these features expose. The sum
    includes j = i, which adds exactly 1 to every o(x_i)_b (a constant the next layer's bias absorbs).

    Which examples j ranges over: the examples of the same call on the same replica. Under a
    `tf.distribute` strategy with R replicas and global batch G, each replica compares its G/R examples
    among themselves; gathering all replicas' M would need a cross-replica collective inside the loss
    computation, which cannot run in the XLA-compiled, nested `tf.function` of the GAN step. So the
    features of an N-replica run equal those of a single-device run with batch G/R (use the per-replica
    batch size you would use on one device). The GAN base model calls the discriminator separately on
    the real and on the generated batch, so each comparison is within real or within generated data.

    Args:
      num_kernels: B, the number of similarity features appended (positive integer).
      kernel_dim: C, the dimension of each kernel's projection (positive integer).
      kernel_initializer: initializer of T (default N(0, 0.05²), small so that exp(−L1) starts informative).
      kernel_regularizer: optional regulariser of T.
      **kwargs: base `Layer` arguments.

    Input: [batch, A] features (flatten feature maps first). Output: [batch, A + num_kernels].

    Example:
      ```python
      x = keras.layers.Flatten()(feature_maps)
      x = MinibatchDiscrimination(num_kernels=50, kernel_dim=5)(x)
      logits = keras.layers.Dense(1)(x)
      ```
    """

    def __init__(self, num_kernels, kernel_dim, kernel_initializer=None, kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = _common.check_positive_int(num_kernels, "num_kernels")
        self.kernel_dim = _common.check_positive_int(kernel_dim, "kernel_dim")
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or keras.initializers.RandomNormal(stddev=0.05))
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        _common.check_rank(input_shape, 2, "MinibatchDiscrimination", max_rank=2,
                           what="features (flatten feature maps first)")
        if input_shape[-1] is None:
            raise ValueError(f"MinibatchDiscrimination needs a known feature size, got {tuple(input_shape)}")
        self.kernel = self.add_weight(shape=(int(input_shape[-1]), self.num_kernels, self.kernel_dim),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      name="kernel")
        self.built = True

    def call(self, inputs):
        features, kernels, dim = inputs.shape[-1], self.num_kernels, self.kernel_dim
        m = ops.matmul(inputs, ops.reshape(self.kernel, (features, kernels * dim)))
        m = ops.reshape(m, (-1, kernels, dim))                                          # [n, B, C]
        l1 = ops.sum(ops.abs(ops.expand_dims(m, 1) - ops.expand_dims(m, 0)), axis=-1)   # [n, n, B]
        similarity = ops.sum(ops.exp(-l1), axis=1)                                       # [n, B]
        return ops.concatenate([inputs, similarity], axis=-1)

    def compute_output_shape(self, input_shape):
        last = None if input_shape[-1] is None else input_shape[-1] + self.num_kernels
        return (*input_shape[:-1], last)

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_kernels": self.num_kernels, "kernel_dim": self.kernel_dim,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        })
        return config


@keras.saving.register_keras_serializable(package="tfgan_stable")
class MinibatchStdDev(keras.layers.Layer):
    """Minibatch standard deviation: appends one feature, the average spread of the example's group.

    Karras et al. 2018, "Progressive Growing of GANs for Improved Quality, Stability, and Variation".
    The batch is split into groups of `group_size` consecutive examples (the last group is smaller when
    the batch size is not a multiple; a batch smaller than `group_size` is one group). For a group g,
    every feature (and position) gets its standard deviation over the group,
        s_g = √(mean_{i∈g} (x_i − mean_{i∈g} x_i)² + ε),
    these are averaged over all features and positions into one number, and that number is appended
    to each example of the group as an extra channel (constant over positions). A generator with too
    little variety produces small values, which the discriminator can detect.

    Groups are formed within the examples of one call on one replica (see `MinibatchDiscrimination`
    for why); with R replicas, keep the per-replica batch a multiple of `group_size`.

    Args:
      group_size: examples per group (integer >= 2).
      epsilon: added to the variance before the square root (> 0).
      **kwargs: base `Layer` arguments.

    Input: [batch, ..., channels] (rank >= 2, channels last). Output: channels + 1.

    Example:
      ```python
      x = MinibatchStdDev(group_size=4)(feature_maps)   # [n, 4, 4, 512] -> [n, 4, 4, 513]
      ```
    """

    def __init__(self, group_size=4, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.group_size = _common.check_positive_int(group_size, "group_size", minimum=2)
        self.epsilon = _common.check_positive_float(epsilon, "epsilon")

    def build(self, input_shape):
        _common.check_rank(input_shape, 2, "MinibatchStdDev")
        self.built = True

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        n = tf.shape(x)[0]
        group_size = tf.minimum(self.group_size, n)
        groups = (n + group_size - 1) // group_size
        ids = tf.range(n) // group_size
        counts = tf.cast(tf.math.unsorted_segment_sum(tf.ones([n]), ids, groups), "float32")
        counts = tf.reshape(counts, [-1] + [1] * (len(x.shape) - 1))
        mean = tf.math.unsorted_segment_sum(x, ids, groups) / counts
        centred = x - tf.gather(mean, ids)
        variance = tf.math.unsorted_segment_sum(tf.square(centred), ids, groups) / counts
        spread = tf.reduce_mean(tf.sqrt(variance + self.epsilon), axis=list(range(1, len(x.shape))))  # [groups]
        feature = tf.gather(spread, ids)                                                           # [n]
        feature = tf.reshape(feature, [-1] + [1] * (len(x.shape) - 1))
        feature = feature * tf.ones_like(x[..., :1])
        return tf.concat([inputs, tf.cast(feature, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        last = None if input_shape[-1] is None else input_shape[-1] + 1
        return (*input_shape[:-1], last)

    def get_config(self):
        config = super().get_config()
        config.update({"group_size": self.group_size, "epsilon": self.epsilon})
        return config
