"""SpectralNormalization against numpy: σ vs SVD, one power-iteration step, gradients, errors."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_stable.layers import SpectralNormalization


def _kernel_with_singular_values(shape, singular_values, seed):
    """A kernel whose [prod(shape[:-1]), shape[-1]] matrix has the given singular values."""
    rng = np.random.RandomState(seed)
    rows, cols = int(np.prod(shape[:-1])), shape[-1]
    k = min(rows, cols)
    left, _ = np.linalg.qr(rng.normal(size=(rows, k)))
    right, _ = np.linalg.qr(rng.normal(size=(cols, k)))
    return (left * np.asarray(singular_values[:k])) @ right.T


def _numpy_step(matrix, u, iterations=1, eps=1e-12):
    """The layer's estimator, written independently: iterations from u, then σ̂ = ‖W u‖."""
    for _ in range(iterations):
        v = matrix @ u
        v = v / (np.linalg.norm(v) + eps)
        u = matrix.T @ v
        u = u / (np.linalg.norm(u) + eps)
    return u, np.linalg.norm(matrix @ u)


LAYERS = [
    ("dense", lambda: keras.layers.Dense(6), (3, 10)),
    ("conv2d", lambda: keras.layers.Conv2D(5, 3), (2, 7, 7, 4)),
    ("conv2d_transpose", lambda: keras.layers.Conv2DTranspose(5, 3, strides=2), (2, 4, 4, 3)),
    ("conv1d", lambda: keras.layers.Conv1D(4, 3), (2, 9, 3)),
    ("embedding", lambda: keras.layers.Embedding(12, 5), (2, 3)),
]


def _inputs(name, shape, seed=0):
    rng = np.random.RandomState(seed)
    if name == "embedding":
        return rng.randint(0, 12, size=shape)
    return rng.normal(size=shape).astype("float32")


@pytest.mark.parametrize("name,make,shape", LAYERS, ids=[l[0] for l in LAYERS])
def test_sigma_converges_to_largest_singular_value(name, make, shape):
    layer = SpectralNormalization(make(), power_iterations=40, seed=1)
    x = _inputs(name, shape)
    layer(x)  # builds
    kernel = layer._kernel_variable
    singular = [2.0, 1.0] + [0.9] * 20  # gap 2: the u error shrinks like (1/2)^40 — far below float32
    w = _kernel_with_singular_values(tuple(kernel.shape), singular, seed=2).reshape(kernel.shape)
    kernel.assign(w.astype("float32"))
    before = kernel.numpy().copy()
    layer(x, training=True)
    matrix = w.reshape(-1, w.shape[-1])
    top = np.linalg.svd(matrix, compute_uv=False)[0]
    assert abs(top - 2.0) < 1e-6
    assert abs(float(layer.sigma) - top) < 1e-5 * top  # float32 rounding of a 2-norm
    normalized = np.asarray(layer.normalized_kernel()).reshape(matrix.shape)
    assert abs(np.linalg.svd(normalized, compute_uv=False)[0] - 1.0) < 1e-5
    np.testing.assert_array_equal(kernel.numpy(), before)  # the trainable kernel is never overwritten


def test_spectral_norm_of_random_kernel_after_many_training_calls():
    layer = SpectralNormalization(keras.layers.Conv2D(8, 3), seed=3)
    x = _inputs("conv2d", (2, 6, 6, 4))
    step = tf.function(lambda: layer(x, training=True))
    for _ in range(300):  # one iteration per call, as in training
        step()
    matrix = layer._kernel_variable.numpy().reshape(-1, 8)
    top = np.linalg.svd(matrix, compute_uv=False)
    # error after k iterations ~ (s2/s1)^(2k); 300 single steps suffice for this random kernel's gap
    assert (top[1] / top[0]) ** 600 < 1e-6
    assert abs(float(layer.sigma) - top[0]) < 1e-4 * top[0]
    normalized = np.asarray(layer.normalized_kernel()).reshape(matrix.shape)
    assert abs(np.linalg.svd(normalized, compute_uv=False)[0] - 1.0) < 1e-3


def test_one_training_step_matches_numpy_and_inference_reuses_u():
    keras.utils.set_random_seed(0)
    layer = SpectralNormalization(keras.layers.Dense(4, activation="tanh"), power_iterations=2, seed=5)
    x = _inputs("dense", (5, 3))
    layer.build((None, 3))
    kernel, bias = layer.layer.kernel.numpy(), layer.layer.bias.numpy()
    layer.layer.bias.assign(np.arange(4, dtype="float32") * 0.1)
    bias = layer.layer.bias.numpy()
    u0 = layer.u.numpy().astype("float64")
    u1, sigma = _numpy_step(kernel.astype("float64"), u0, iterations=2)
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(y, np.tanh(x @ (kernel / sigma) + bias), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.u.numpy(), u1, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(layer.layer.kernel.numpy(), kernel)
    # inference: no update of u, and the same σ̂ = ‖W u‖ as the last training call
    y_inf = layer(x, training=False).numpy()
    np.testing.assert_allclose(layer.u.numpy(), u1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y_inf, y, rtol=1e-5, atol=1e-6)
    u_before = layer.u.numpy().copy()
    layer(x)  # default: inference
    np.testing.assert_array_equal(layer.u.numpy(), u_before)


def test_conv_output_equals_plain_conv_with_normalized_kernel():
    layer = SpectralNormalization(keras.layers.Conv2D(3, 3, padding="same"), seed=2)
    x = _inputs("conv2d", (2, 5, 5, 2))
    layer.build(x.shape)
    kernel = layer._kernel_variable.numpy()
    _, sigma = _numpy_step(kernel.reshape(-1, 3).astype("float64"), layer.u.numpy().astype("float64"))
    y = layer(x, training=True).numpy()
    plain = keras.layers.Conv2D(3, 3, padding="same")
    plain.build(x.shape)
    plain.set_weights([kernel / sigma, layer.layer.bias.numpy()])
    np.testing.assert_allclose(y, plain(x).numpy(), rtol=1e-5, atol=1e-5)


def test_gradient_flows_through_sigma():
    layer = SpectralNormalization(keras.layers.Dense(3, use_bias=False), seed=4)
    x = _inputs("dense", (4, 5), seed=1)
    layer.build((None, 5))
    w = layer.layer.kernel.numpy().astype("float64")
    u0 = layer.u.numpy().astype("float64")
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.sin(layer(x, training=True)))
    grad = tape.gradient(loss, layer.layer.kernel).numpy()
    u, sigma = _numpy_step(w, u0)
    np.testing.assert_allclose(u, layer.u.numpy(), rtol=1e-5, atol=1e-6)
    # y = x W/σ̂ with σ̂ = ‖W u‖ and u constant: dL/dW = G/σ̂ − <G, W>/σ̂² · v uᵀ, v = W u/σ̂, G = xᵀ cos(y)
    g = x.T @ np.cos(x @ (w / sigma))
    v = w @ u / sigma
    expected = g / sigma - (np.sum(g * w) / sigma ** 2) * np.outer(v, u)
    np.testing.assert_allclose(grad, expected, rtol=1e-4, atol=1e-5)


def test_xla_and_stateless_call_agree_with_eager():
    x = _inputs("conv2d", (2, 6, 6, 3))
    models = []
    for _ in range(3):
        keras.utils.set_random_seed(7)
        models.append(keras.Sequential([keras.Input((6, 6, 3)),
                                        SpectralNormalization(keras.layers.Conv2D(4, 3), seed=1),
                                        keras.layers.Flatten(), SpectralNormalization(keras.layers.Dense(1), seed=2)]))
    eager, xla, stateless = models
    y_eager = eager(x, training=True).numpy()
    y_xla = tf.function(lambda a: xla(a, training=True), jit_compile=True)(x).numpy()
    np.testing.assert_allclose(y_xla, y_eager, rtol=1e-5, atol=1e-6)
    for a, b in zip(eager.non_trainable_weights, xla.non_trainable_weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    # Keras' functional API: the u update comes back as a new non-trainable value, variables untouched
    u_before = [v.numpy().copy() for v in stateless.non_trainable_variables]
    y_sl, new_nt = stateless.stateless_call([v.value for v in stateless.trainable_variables],
                                            [v.value for v in stateless.non_trainable_variables], x, training=True)
    np.testing.assert_allclose(y_sl.numpy(), y_eager, rtol=1e-5, atol=1e-6)
    for a, b, c in zip(new_nt, eager.non_trainable_weights, u_before):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-5, atol=1e-6)
    for v, c in zip(stateless.non_trainable_variables, u_before):
        np.testing.assert_array_equal(v.numpy(), c)


def test_activity_regularizer_of_wrapped_layer_is_kept():
    layer = SpectralNormalization(keras.layers.Dense(2, activity_regularizer=keras.regularizers.L2(0.5)), seed=0)
    x = _inputs("dense", (3, 4))
    y = layer(x, training=True).numpy()
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 0.5 * np.sum(y ** 2) / len(x), rtol=1e-5)  # Keras: / batch


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "2"])
def test_power_iterations_must_be_positive_int(value):
    with pytest.raises(ValueError, match="power_iterations"):
        SpectralNormalization(keras.layers.Dense(2), power_iterations=value)


def test_epsilon_must_be_positive():
    with pytest.raises(ValueError, match="epsilon"):
        SpectralNormalization(keras.layers.Dense(2), epsilon=0.0)


def test_layer_must_be_a_keras_layer():
    with pytest.raises(ValueError, match="`layer` must be a Keras layer"):
        SpectralNormalization(lambda x: x)


@pytest.mark.parametrize("make", [lambda: keras.layers.BatchNormalization(),
                                  lambda: keras.layers.SeparableConv2D(2, 3)])
def test_layer_without_kernel_raises_at_build(make):
    layer = SpectralNormalization(make())
    with pytest.raises(ValueError, match="`layer` must keep its weight matrix in a `kernel`"):
        layer(np.zeros((1, 5, 5, 2), "float32"))


def test_built_layer_without_kernel_raises_at_construction():
    norm = keras.layers.LayerNormalization()
    norm.build((None, 3))
    for layer in (norm, keras.layers.ReLU()):  # weightless layers are built when created
        with pytest.raises(ValueError, match="`layer` must keep its weight matrix"):
            SpectralNormalization(layer)
