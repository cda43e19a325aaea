"""Virtual batch normalisation (Salimans et al. 2016) with reference statistics stored per layer."""
import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgan_stable.layers import _common


@keras.saving.register_keras_serializable(package="tfgan_stable")
class VirtualBatchNormalization(keras.layers.Layer):
    """Virtual batch normalisation: each example is normalised with a fixed reference batch plus itself.

    Salimans et al. 2016, "Improved Techniques for Training GANs". Batch normalisation makes an
    example's output depend on the other examples of its batch; VBN removes that coupling. With the
    reference batch's mean μ_ref and mean square s_ref (per feature) and n reference examples, an
    example x with its own mean m(x) and mean square q(x) (over its non-feature axes, e.g. the pixels
    of a feature map; m(x) = x for a vector) is normalised with
        μ = (1/(n+1))·m(x) + (n/(n+1))·μ_ref,    s = (1/(n+1))·q(x) + (n/(n+1))·s_ref,
        y = γ·(x − μ)/√(s − μ² + ε) + β,
    that is, with the statistics of the reference batch extended by x. γ and β are learned. The
    reference batch itself is normalised with its own statistics only (μ_ref, s_ref), as in the paper.

    What the reference batch means deep inside a network. The paper fixes a batch of network INPUTS
    (e.g. latent vectors z_ref for a generator) once; the statistics that a VBN layer needs are those of
    that batch's activations AT THIS LAYER, which depend on every weight before it. This layer stores
    them (μ_ref, s_ref, n) as non-trainable variables; `set_reference_batch(network, inputs_ref)` runs
    the network on the reference inputs and makes every VBN layer, in forward order, record the
    statistics of the activations it receives and normalise the reference batch with them, so each
    later layer records the activations of a reference pass through the whole network. For a VBN layer
    used on its own, `layer.set_reference(x_ref)` takes x_ref at this layer directly.

    The paper recomputes the reference pass with the current weights at every step and backpropagates
    through μ_ref and s_ref. Here they are constants between refreshes (like batch normalisation's
    moving statistics): refresh them after weight updates with `RefreshReferenceBatch(network,
    inputs_ref)` as a `fit` callback (every k steps), or by calling `set_reference_batch` again. The
    output for an example never depends on the other examples of its batch, training and inference
    compute the same function, and a SavedModel stores the statistics as variables, so an exported
    generator needs nothing else.

    Distribution: the statistics are sync-on-read variables (see `tfgan_stable.layers`). Set the
    reference outside `strategy.run` (the usual case: the value goes to every replica), or inside it
    with the same reference batch on every replica; the copies are then identical, and checkpoints
    store and restore the statistics themselves.

    Using the layer before a reference has been set raises a ValueError.

    Args:
      axis: the feature axis (default -1, channels last).
      epsilon: added to the variance (> 0).
      center: learn the offset β.
      scale: learn the scale γ.
      beta_initializer: initializer of β.
      gamma_initializer: initializer of γ.
      **kwargs: base `Layer` arguments.

    Example:
      ```python
      z = keras.Input((64,))
      x = keras.layers.Dense(7 * 7 * 64, use_bias=False)(z)
      x = keras.layers.Reshape((7, 7, 64))(x)
      x = keras.layers.ReLU()(VirtualBatchNormalization()(x))
      images = keras.layers.Conv2DTranspose(1, 4, strides=4, padding="same", activation="tanh")(x)
      generator = keras.Model(z, images)
      z_ref = tfgan_stable.sampling.latent_normal(128, 64, seed=1)   # chosen once
      set_reference_batch(generator, z_ref)
      gan.fit(data, callbacks=[RefreshReferenceBatch(generator, z_ref)])
      ```
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"`axis` must be an integer (the feature axis), got {axis!r}")
        self.axis = int(axis)
        self.epsilon = _common.check_positive_float(epsilon, "epsilon")
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)
        self.supports_masking = True
        self._recording = False
        self._recorded = False
        self._has_reference = False

    def build(self, input_shape):
        rank = _common.check_rank(input_shape, 2, "VirtualBatchNormalization")
        self._axis = _common.check_axis(self.axis, rank, "VirtualBatchNormalization")
        channels = input_shape[self._axis]
        if channels is None:
            raise ValueError(f"VirtualBatchNormalization needs a known size on the feature axis {self.axis}, "
                             f"got input shape {tuple(input_shape)}")
        self._rank = rank
        self._reduce_axes = tuple(a for a in range(1, rank) if a != self._axis)
        channels = int(channels)
        self.gamma = self.add_weight(shape=(channels,), initializer=self.gamma_initializer, name="gamma") \
            if self.scale else None
        self.beta = self.add_weight(shape=(channels,), initializer=self.beta_initializer, name="beta") \
            if self.center else None
        self.reference_mean = _common.replica_local_variable("reference_mean", (channels,), "zeros")
        self.reference_mean_square = _common.replica_local_variable("reference_mean_square", (channels,), "ones")
        self.reference_size = _common.replica_local_variable("reference_size", (), "zeros")
        self.built = True

    # ------------------------------------------------------------------ reference statistics
    def _broadcast(self, per_feature):
        shape = [1] * self._rank
        shape[self._axis] = -1
        return ops.reshape(per_feature, shape)

    def _normalize(self, x, mean, mean_square):
        variance = ops.maximum(mean_square - ops.square(mean), 0.0)
        y = (x - mean) * ops.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            y = y * self._broadcast(ops.cast(self.gamma, "float32"))
        if self.beta is not None:
            y = y + self._broadcast(ops.cast(self.beta, "float32"))
        return y

    def _record(self, x):
        """Stores the statistics of the reference batch x and normalises x with them."""
        axes = (0,) + self._reduce_axes
        mean = ops.mean(x, axis=axes)
        mean_square = ops.mean(ops.square(x), axis=axes)
        self.reference_mean.assign(mean)
        self.reference_mean_square.assign(mean_square)
        self.reference_size.assign(ops.cast(ops.shape(x)[0], "float32"))
        self._recorded = True
        self._has_reference = True
        return self._normalize(x, self._broadcast(mean), self._broadcast(mean_square))

    def set_reference(self, reference):
        """Sets the reference batch of this layer: `reference` holds the layer's INPUTS for it.

        Use `set_reference_batch(network, inputs)` when the layer sits inside a network.

        Returns:
          The reference batch normalised with its own statistics (what the next layer would receive).
        """
        reference = ops.convert_to_tensor(reference)
        if not self.built:
            self.build(tuple(reference.shape))
        if len(reference.shape) != self._rank or reference.shape[0] == 0:
            raise ValueError(f"`reference` must be a non-empty batch shaped like the layer's inputs (rank "
                             f"{self._rank}), got shape {tuple(reference.shape)}")
        return self._record(ops.cast(reference, "float32"))

    def _check_reference(self):
        if self._has_reference:
            return
        try:
            with tf.init_scope():  # read the value eagerly, also while a tf.function is being traced
                size = float(np.asarray(ops.convert_to_numpy(self.reference_size.value)))
        except (TypeError, ValueError, NotImplementedError, tf.errors.OpError):
            return  # a symbolic value (e.g. mapped by a StatelessScope) cannot be checked here
        if size <= 0:
            raise ValueError(f"VirtualBatchNormalization {self.name!r} has no reference batch: call "
                             f"tfgan_stable.layers.set_reference_batch(network, reference_inputs) (or "
                             f"layer.set_reference(x_ref) for a layer used on its own) before using it")
        self._has_reference = True

    # ------------------------------------------------------------------ Layer API
    def call(self, inputs, training=None):
        x = ops.cast(inputs, "float32")
        if self._recording:
            y = self._record(x)
        else:
            self._check_reference()
            n = ops.convert_to_tensor(self.reference_size)
            new = 1.0 / (n + 1.0)
            mean = ops.mean(x, axis=self._reduce_axes, keepdims=True) if self._reduce_axes else x
            mean_square = ops.mean(ops.square(x), axis=self._reduce_axes, keepdims=True) \
                if self._reduce_axes else ops.square(x)
            mean = new * mean + (1.0 - new) * self._broadcast(ops.convert_to_tensor(self.reference_mean))
            mean_square = new * mean_square + (1.0 - new) * self._broadcast(
                ops.convert_to_tensor(self.reference_mean_square))
            y = self._normalize(x, mean, mean_square)
        return ops.cast(y, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
            "beta_initializer": keras.initializers.serialize(self.beta_initializer),
            "gamma_initializer": keras.initializers.serialize(self.gamma_initializer),
        })
        return config


def _vbn_layers(network):
    if not isinstance(network, keras.layers.Layer):
        raise ValueError(f"`network` must be a Keras model or layer, got {type(network).__name__}")
    return [layer for layer in network._flatten_layers(include_self=True, recursive=True)
            if isinstance(layer, VirtualBatchNormalization)]


def set_reference_batch(network, inputs):
    """Records the reference statistics of every `VirtualBatchNormalization` layer inside `network`.

    Runs `network(inputs, training=False)` once; each VBN layer stores the mean and mean square of the
    activations it receives (the reference batch's activations at that layer, with the current weights)
    and passes them on normalised with those statistics alone. Call it before training (or before the
    first use of the network) and again whenever the reference statistics should follow the weights
    (see `RefreshReferenceBatch`). Under `tf.distribute`, call it outside `strategy.run`; every replica
    gets the same statistics. A layer reached several times in one forward pass keeps the last.

    Args:
      network: a Keras model (or layer) containing VBN layers.
      inputs: the reference batch of the network's INPUTS (e.g. z_ref for a generator), chosen once and
        reused: a fixed batch, e.g. 64–256 examples.

    Returns:
      The network's outputs for the reference batch.

    Example:
      ```python
      z_ref = tfgan_stable.sampling.latent_normal(128, latent_dim, seed=1)
      set_reference_batch(generator, z_ref)
      ```
    """
    layers = _vbn_layers(network)
    if not layers:
        raise ValueError(f"`network` {network.name!r} contains no VirtualBatchNormalization layer")
    for layer in layers:
        layer._recording, layer._recorded = True, False
    try:
        outputs = network(inputs, training=False)
    finally:
        for layer in layers:
            layer._recording = False
    missed = [layer.name for layer in layers if not layer._recorded]
    if missed:
        raise ValueError(f"the forward pass of `network` on `inputs` did not reach the VBN layers {missed}; "
                         f"give the inputs of the network that contains them")
    return outputs


class RefreshReferenceBatch(keras.callbacks.Callback):
    """A `fit` callback that re-records the VBN reference statistics of `network` every k training steps.

    Between refreshes the statistics are constants; refreshing after the weight updates keeps them
    those of the reference batch under the current weights, as in Salimans et al. 2016 (where the
    reference batch goes through the network at every step). Each refresh is one forward pass of the
    reference batch, compiled once as a `tf.function`.

    The steps are the model's optimizer steps (the generator's for a GAN), not calls of the callback:
    the refresh follows the step that is a multiple of k. With `steps_per_execution` = m > 1, Keras calls
    callbacks once per m steps, so the refresh comes after the execution that holds that step (exactly
    after it when k is a multiple of m and the epochs are too). Because the schedule is a function of the
    step counter, a run resumed by `keras.callbacks.BackupAndRestore` refreshes at the same steps as an
    uninterrupted one; at the first step of a `fit` that starts at a multiple of k the refresh is made
    again (it gives the same statistics for the same weights), so the resumed statistics are right
    whether the backup was written before or after the refresh.

    Args:
      network: the model containing the VBN layers (e.g. the generator).
      inputs: the reference batch of the network's inputs (e.g. z_ref), the same as given to
        `set_reference_batch`.
      every_n_steps: refresh after every this many training steps (integer >= 1).

    Example:
      ```python
      set_reference_batch(generator, z_ref)
      gan.fit(dataset, epochs=5, callbacks=[RefreshReferenceBatch(generator, z_ref)])
      ```
    """

    def __init__(self, network, inputs, every_n_steps=1):
        super().__init__()
        if not _vbn_layers(network):
            raise ValueError(f"`network` {network.name!r} contains no VirtualBatchNormalization layer")
        self.network = network
        self.inputs = tf.convert_to_tensor(inputs)
        self.every_n_steps = _common.check_positive_int(every_n_steps, "every_n_steps")
        self._refresh = tf.function(lambda: set_reference_batch(self.network, self.inputs))
        self._begin = None
        self._first = True

    def _step(self):
        """The model's training step: its generator optimizer's iterations (a GAN) or its optimizer's."""
        optimizer = getattr(self.model, "g_optimizer", None) or self.model.optimizer
        return int(optimizer.iterations.numpy())

    def on_train_begin(self, logs=None):
        self._first = True

    def on_train_batch_begin(self, batch, logs=None):
        self._begin = self._step()
        if self._first:  # after any restore: a refresh due at the restored step is made (again)
            self._first = False
            if self._begin > 0 and self._begin % self.every_n_steps == 0:
                self._refresh()

    def on_train_batch_end(self, batch, logs=None):
        end = self._step()
        begin = end - 1 if self._begin is None else self._begin
        if end // self.every_n_steps > begin // self.every_n_steps:
            self._refresh()
