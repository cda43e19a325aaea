"""Spectral normalisation (Miyato et al. 2018) as a wrapper that never overwrites the wrapped kernel."""
import contextlib

import keras
from keras import ops

from tfgan_stable.layers import _common

try:  # the active StatelessScope, to nest ours inside it (Keras has no public getter)
    from keras.src.backend.common.stateless_scope import get_stateless_scope
except ImportError:  # pragma: no cover - a Keras without it: nesting inside a stateless_call is unsupported
    def get_stateless_scope():
        return None

# Attribute names under which Keras layers keep their weight matrix (Dense/Conv* keep `_kernel` behind
# a `kernel` property, Conv*Transpose a plain `kernel`, Embedding `_embeddings` behind `embeddings`).
_KERNEL_ATTRIBUTES = ("_kernel", "kernel", "_embeddings", "embeddings")


def _find_kernel(layer):
    for attribute in _KERNEL_ATTRIBUTES:
        try:
            value = getattr(layer, attribute, None)
        except Exception:  # a property that needs state the layer does not have
            value = None
        if isinstance(value, keras.Variable):
            return value
    return None


def _l2_normalize(x, epsilon):
    return x / (ops.sqrt(ops.sum(ops.square(x))) + epsilon)


@keras.saving.register_keras_serializable(package="tfgan_stable")
class SpectralNormalization(keras.layers.Wrapper):
    """Spectral normalisation: the wrapped layer computes with W / σ(W) instead of its kernel W.

    Miyato et al. 2018, "Spectral Normalization for Generative Adversarial Networks". σ(W) is the
    largest singular value of the kernel reshaped to a matrix W_m of shape [prod(shape[:-1]), shape[-1]]
    (for Conv2D: [kh·kw·in, out]; Conv*Transpose and Embedding are reshaped by the same rule). Dividing
    by it makes the layer's linear map 1-Lipschitz in the sense of that matrix, which keeps a
    discriminator's gradients bounded.

    σ is estimated by power iteration with a persistent unit vector u of size shape[-1]. One advance
    runs `power_iterations` steps
        v ← W_m u / ‖W_m u‖,    u ← W_mᵀ v / ‖W_mᵀ v‖
    and stores u; every call uses σ̂ = ‖W_m u‖ from the stored u. On its own, the layer advances u in
    each call with `training=True`, once per training step of an ordinary model. Inside a
    `tfgan_stable.GAN` step, where D is called several times per update (real, fake, penalty points,
    the generator's loss), the step advances u itself: once per discriminator update, before its loss,
    so all of that update's calls and the following generator update share one σ̂ (and G's SN layers
    advance once per generator update); see `step_driven_power_iteration`. That is Algorithm 1 of
    the paper: one power iteration per update of W. With `training=False` (inference, export) u is only
    read, so the output is a deterministic function of the weights. u is a constant for the gradient
    (as in the paper), so ∂σ̂/∂W_m = v uᵀ. Because u is carried over between steps and W changes slowly,
    one iteration per update suffices; σ̂ ≤ σ always, and it converges to σ as the iterations
    accumulate. Before any advance u is random, so σ̂ is only a rough (under-)estimate.

    Unlike `keras.layers.SpectralNormalization`, the trainable kernel is never overwritten: W / σ̂ is
    computed on the fly and substituted for the kernel only for the duration of the wrapped layer's
    call (via `keras.StatelessScope`), so the optimizer always updates the raw W and the gradient flows
    through σ̂.

    Distribution: u is a sync-on-read variable updated with a plain per-replica assign, which is legal
    in the replica context, also inside an XLA-compiled `tf.function` nested in `strategy.run`. Every
    replica computes the same update from the same mirrored W and the same u, so the copies stay
    identical; checkpoints store u itself and restore it to every replica.

    Args:
      layer: a `keras.layers.Dense`, `Conv1D/2D/3D`, `Conv*Transpose`, `Embedding` or any layer that
        keeps its weight matrix in a `kernel` (or `embeddings`) variable. LoRA-enabled or quantized
        layers are not supported.
      power_iterations: power-iteration steps per training call (integer >= 1).
      epsilon: small constant added to norms before dividing (> 0).
      seed: optional integer seed of the initial random u.
      **kwargs: base `Layer` arguments (e.g. `name`).

    Example:
      ```python
      d = keras.Sequential([
          keras.Input((28, 28, 1)),
          SpectralNormalization(keras.layers.Conv2D(64, 4, strides=2, padding="same")),
          keras.layers.LeakyReLU(0.2),
          keras.layers.Flatten(),
          SpectralNormalization(keras.layers.Dense(1)),
      ])
      ```
    """

    def __init__(self, layer, power_iterations=1, epsilon=1e-12, seed=None, **kwargs):
        if not isinstance(layer, keras.layers.Layer):
            raise ValueError(f"`layer` must be a Keras layer with a kernel (e.g. Dense, Conv2D, Embedding), "
                             f"got {type(layer).__name__}")
        if getattr(layer, "lora_enabled", False) or getattr(layer, "quantization_mode", None) is not None:
            raise ValueError(f"`layer` {layer.name!r} is LoRA-enabled or quantized; SpectralNormalization "
                             f"needs a plain float kernel")
        if layer.built and _find_kernel(layer) is None:
            raise ValueError(self._no_kernel_message(layer))
        self.power_iterations = _common.check_positive_int(power_iterations, "power_iterations")
        self.epsilon = _common.check_positive_float(epsilon, "epsilon")
        if seed is not None:
            seed = _common.check_positive_int(seed, "seed", minimum=0)
        self.seed = seed
        super().__init__(layer, **kwargs)
        # False while a GAN step drives the power iteration (`step_driven_power_iteration`).
        self._advance_in_call = True

    @staticmethod
    def _no_kernel_message(layer):
        names = [w.name for w in layer.weights]
        return (f"`layer` must keep its weight matrix in a `kernel` or `embeddings` variable (Dense, Conv*, "
                f"Conv*Transpose, Embedding); {type(layer).__name__} {layer.name!r} has weights {names}")

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
        kernel = _find_kernel(self.layer)
        if kernel is None:
            raise ValueError(self._no_kernel_message(self.layer))
        if len(kernel.shape) < 2:
            raise ValueError(f"`layer` {self.layer.name!r}: the kernel must have rank >= 2, got shape "
                             f"{tuple(kernel.shape)}")
        self.u = _common.replica_local_variable(
            "u", (int(kernel.shape[-1]),), keras.initializers.RandomNormal(0.0, 1.0, seed=self.seed))
        self.built = True

    # ------------------------------------------------------------------ the normalised kernel
    @property
    def _kernel_variable(self):
        # Looked up on each use rather than stored: an attribute would make Keras and tf.train.Checkpoint
        # track the kernel a second time, under this wrapper.
        return _find_kernel(self.layer)

    def _matrix(self):
        kernel = self._kernel_variable
        raw = ops.convert_to_tensor(kernel)  # the mapped value if an outer StatelessScope is active
        matrix = ops.reshape(ops.cast(raw, "float32"), (-1, int(kernel.shape[-1])))
        return raw, matrix

    def _power_iteration(self, matrix, u):
        for _ in range(self.power_iterations):
            v = _l2_normalize(ops.matmul(matrix, u), self.epsilon)
            u = _l2_normalize(ops.matmul(v, matrix), self.epsilon)
        return u

    def _sigma(self, matrix, u):
        return ops.sqrt(ops.sum(ops.square(ops.matmul(matrix, u))))

    def _normalized(self, update):
        raw, matrix = self._matrix()
        u = ops.convert_to_tensor(self.u)  # this replica's copy
        if update:
            u = self._advance(matrix, u)
        else:
            u = _l2_normalize(u, self.epsilon)
        sigma = self._sigma(matrix, u)
        return ops.cast(ops.cast(raw, "float32") / (sigma + self.epsilon), raw.dtype), sigma

    def _advance(self, matrix, u):
        u = ops.stop_gradient(self._power_iteration(matrix, u))
        self.u.assign(u)
        return u

    def advance(self):
        """Runs `power_iterations` steps from the current kernel and stores u (what a training call does)."""
        self._advance(self._matrix()[1], ops.convert_to_tensor(self.u))

    @property
    def sigma(self):
        """The current estimate σ̂ = ‖W_m u‖ from the stored u (no power-iteration step)."""
        return self._normalized(update=False)[1]

    def normalized_kernel(self):
        """W / σ̂ as the wrapped layer sees it in inference (from the stored u)."""
        return self._normalized(update=False)[0]

    # ------------------------------------------------------------------ Layer API
    def call(self, inputs, training=None):
        kernel = self._kernel_variable
        w_sn, _ = self._normalized(update=bool(training) and self._advance_in_call)
        outer = get_stateless_scope()
        scope = keras.StatelessScope(initialize_variables=False, collect_losses=True)
        if outer is not None:  # keep the values the outer scope maps (e.g. a stateless_call of the model)
            scope.state_mapping.update(outer.state_mapping)
        scope.state_mapping[id(kernel)] = ops.cast(w_sn, kernel.dtype)
        with scope:
            outputs = self.layer(inputs)
        for loss in scope.losses:  # e.g. the wrapped layer's activity regulariser
            self.add_loss(loss)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"power_iterations": self.power_iterations, "epsilon": self.epsilon, "seed": self.seed})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)  # Wrapper.from_config pops "layer" from the dict it is given
        return super().from_config(config, custom_objects=custom_objects)


def spectral_normalization_layers(model):
    """The `SpectralNormalization` layers inside `model` (at any depth)."""
    return [layer for layer in model._flatten_layers(include_self=False)
            if isinstance(layer, SpectralNormalization)]


@contextlib.contextmanager
def step_driven_power_iteration(*models):
    """While active, the SN layers of `models` keep u fixed in training calls; the caller advances them.

    The GAN step traces its updates inside this context and calls `advance_power_iteration(net)` once
    before each update of that net, so every call of the net within one update sees the same σ̂.
    It only changes what is traced: a compiled step keeps the behaviour it was traced with.
    """
    layers = [layer for model in models for layer in spectral_normalization_layers(model)]
    previous = [layer._advance_in_call for layer in layers]
    for layer in layers:
        layer._advance_in_call = False
    try:
        yield
    finally:
        for layer, value in zip(layers, previous):
            layer._advance_in_call = value


def advance_power_iteration(model):
    """Advances u of every SN layer in `model` by one training call's power iterations."""
    for layer in spectral_normalization_layers(model):
        layer.advance()
