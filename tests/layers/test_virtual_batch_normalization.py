"""VirtualBatchNormalization against numpy: the reference+example statistics, deep references, errors."""
import keras
import numpy as np
import pytest

from tfgan_stable.layers import RefreshReferenceBatch, VirtualBatchNormalization, set_reference_batch

EPS = 1e-3


def _numpy_vbn(x, ref, gamma, beta, axis=-1, eps=EPS):
    """Salimans et al. 2016, written per example with explicit loops over the batch."""
    x, ref = np.moveaxis(x, axis, -1).astype("float64"), np.moveaxis(ref, axis, -1).astype("float64")
    c = x.shape[-1]
    ref_mean = ref.reshape(-1, c).mean(0)
    ref_sq = (ref ** 2).reshape(-1, c).mean(0)
    n = len(ref)
    out = np.empty_like(x)
    for i in range(len(x)):
        xi = x[i].reshape(-1, c)
        mu = xi.mean(0) / (n + 1) + n / (n + 1) * ref_mean
        sq = (xi ** 2).mean(0) / (n + 1) + n / (n + 1) * ref_sq
        out[i] = (gamma * (x[i] - mu) / np.sqrt(sq - mu ** 2 + eps) + beta)
    ref_out = gamma * (ref - ref_mean) / np.sqrt(ref_sq - ref_mean ** 2 + eps) + beta
    return np.moveaxis(out, -1, axis), np.moveaxis(ref_out, -1, axis), ref_mean, ref_sq


@pytest.mark.parametrize("shape,axis", [((6, 5), -1), ((4, 3, 3, 5), -1), ((4, 5, 3, 3), 1)])
def test_output_matches_numpy(shape, axis):
    rng = np.random.RandomState(0)
    ref = rng.normal(1.0, 2.0, size=(7,) + shape[1:]).astype("float32")
    x = rng.normal(-0.5, 1.5, size=shape).astype("float32")
    layer = VirtualBatchNormalization(axis=axis)
    ref_normalized = layer.set_reference(ref).numpy()
    gamma, beta = rng.uniform(0.5, 2, 5), rng.normal(size=5)
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    expected, expected_ref, ref_mean, ref_sq = _numpy_vbn(x, ref, gamma, beta, axis=axis)
    for training in (True, False):  # training and inference compute the same function
        np.testing.assert_allclose(layer(x, training=training).numpy(), expected, rtol=1e-4, atol=1e-4)
    _, expected_ref_unit, _, _ = _numpy_vbn(x, ref, 1.0, 0.0, axis=axis)
    np.testing.assert_allclose(ref_normalized, expected_ref_unit, rtol=1e-4, atol=1e-4)  # ref: own stats only
    np.testing.assert_allclose(layer.reference_mean.numpy(), ref_mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.reference_mean_square.numpy(), ref_sq, rtol=1e-5, atol=1e-5)
    assert float(layer.reference_size.numpy()) == 7.0


def test_an_example_does_not_depend_on_the_rest_of_its_batch():
    rng = np.random.RandomState(1)
    layer = VirtualBatchNormalization()
    layer.set_reference(rng.normal(size=(16, 4, 4, 3)).astype("float32"))
    x = rng.normal(size=(8, 4, 4, 3)).astype("float32")
    full = layer(x, training=True).numpy()
    for i in (0, 5):
        np.testing.assert_allclose(layer(x[i:i + 1], training=True).numpy()[0], full[i], rtol=1e-5, atol=1e-6)
    other = np.concatenate([x[:1], 10 * rng.normal(size=(3, 4, 4, 3)).astype("float32")])
    np.testing.assert_allclose(layer(other).numpy()[0], full[0], rtol=1e-5, atol=1e-6)


def _deep_generator():
    keras.utils.set_random_seed(3)
    z = keras.Input((4,))
    h = keras.layers.Dense(2 * 2 * 6, name="project")(z)
    h = keras.layers.Reshape((2, 2, 6))(h)
    h = keras.layers.ReLU()(VirtualBatchNormalization(name="vbn_1")(h))
    h = keras.layers.Conv2D(3, 1, name="conv")(h)
    h = VirtualBatchNormalization(name="vbn_2")(h)
    return keras.Model(z, keras.layers.Activation("tanh")(h))


def test_reference_batch_deep_in_a_network_records_the_activations_at_each_layer():
    g = _deep_generator()
    z_ref = np.random.RandomState(2).normal(size=(9, 4)).astype("float32")
    out = set_reference_batch(g, z_ref).numpy()
    # independent forward pass of the reference batch: each VBN normalises it with its own statistics
    w, b = g.get_layer("project").get_weights()
    h1 = (z_ref @ w + b).reshape(9, 2, 2, 6)
    _, n1, mean1, sq1 = _numpy_vbn(h1, h1, 1.0, 0.0)
    kernel, bias = g.get_layer("conv").get_weights()
    h2 = np.maximum(n1, 0) @ kernel[0, 0] + bias
    _, n2, mean2, sq2 = _numpy_vbn(h2, h2, 1.0, 0.0)
    for name, mean, sq in (("vbn_1", mean1, sq1), ("vbn_2", mean2, sq2)):
        layer = g.get_layer(name)
        np.testing.assert_allclose(layer.reference_mean.numpy(), mean, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(layer.reference_mean_square.numpy(), sq, rtol=1e-4, atol=1e-5)
        assert float(layer.reference_size.numpy()) == 9.0
    np.testing.assert_allclose(out, np.tanh(n2), rtol=1e-4, atol=1e-5)
    # afterwards a batch is normalised with "reference + itself" at each layer
    z = np.random.RandomState(4).normal(size=(3, 4)).astype("float32")
    e1, _, _, _ = _numpy_vbn((z @ w + b).reshape(3, 2, 2, 6), h1, 1.0, 0.0)
    e2, _, _, _ = _numpy_vbn(np.maximum(e1, 0) @ kernel[0, 0] + bias, h2, 1.0, 0.0)
    np.testing.assert_allclose(g(z).numpy(), np.tanh(e2), rtol=1e-4, atol=1e-5)


def test_refresh_callback_follows_the_weights_during_fit():
    g = _deep_generator()
    z_ref = np.random.RandomState(2).normal(size=(9, 4)).astype("float32")
    set_reference_batch(g, z_ref)
    before = g.get_layer("vbn_1").reference_mean.numpy().copy()
    g.compile(keras.optimizers.SGD(0.5), "mse")
    rng = np.random.RandomState(5)
    x, y = rng.normal(size=(8, 4)).astype("float32"), rng.uniform(-1, 1, (8, 2, 2, 3)).astype("float32")
    g.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[RefreshReferenceBatch(g, z_ref, every_n_steps=2)])
    after = g.get_layer("vbn_1").reference_mean.numpy()
    assert np.abs(after - before).max() > 1e-3  # the project layer moved, so did its reference statistics
    w, b = g.get_layer("project").get_weights()
    expected = (z_ref @ w + b).reshape(-1, 6).mean(0)  # = the statistics under the final weights
    np.testing.assert_allclose(after, expected, rtol=1e-4, atol=1e-5)


def test_use_before_a_reference_raises():
    layer = VirtualBatchNormalization()
    with pytest.raises(ValueError, match="has no reference batch"):
        layer(np.zeros((2, 3), "float32"))
    g = _deep_generator()  # building a functional model does not need the reference
    with pytest.raises(ValueError, match="has no reference batch"):
        g(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="has no reference batch"):
        g.predict(np.zeros((2, 4), "float32"), verbose=0)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="rank >= 2"):
        VirtualBatchNormalization().set_reference(np.zeros((5,), "float32"))
    with pytest.raises(ValueError, match="rank >= 2"):
        VirtualBatchNormalization()(np.zeros((5,), "float32"))
    with pytest.raises(ValueError, match="`axis`"):
        VirtualBatchNormalization(axis=0).set_reference(np.zeros((5, 2), "float32"))
    with pytest.raises(ValueError, match="`axis`"):
        VirtualBatchNormalization(axis=1.0)
    with pytest.raises(ValueError, match="`epsilon`"):
        VirtualBatchNormalization(epsilon=0)
    layer = VirtualBatchNormalization()
    layer.set_reference(np.ones((4, 3), "float32"))
    with pytest.raises(ValueError, match="`reference`"):
        layer.set_reference(np.ones((4, 3, 1), "float32"))
    with pytest.raises(ValueError, match="no VirtualBatchNormalization"):
        set_reference_batch(keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)]), np.ones((2, 2)))
    with pytest.raises(ValueError, match="no VirtualBatchNormalization"):
        RefreshReferenceBatch(keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)]), np.ones((2, 2)))
    with pytest.raises(ValueError, match="every_n_steps"):
        RefreshReferenceBatch(_deep_generator(), np.ones((2, 4)), every_n_steps=0)


def test_refresh_callback_counts_training_steps_not_executions():
    """With steps_per_execution=2, every_n_steps=2 refreshes after steps 2, 4, 6, 8 (not every 2nd call)."""
    g = _deep_generator()
    z_ref = np.random.RandomState(2).normal(size=(9, 4)).astype("float32")
    set_reference_batch(g, z_ref)
    g.compile(keras.optimizers.SGD(0.1), "mse", steps_per_execution=2)
    callback = RefreshReferenceBatch(g, z_ref, every_n_steps=2)
    refreshed_at, refresh = [], callback._refresh

    def counting_refresh():
        refreshed_at.append(int(g.optimizer.iterations.numpy()))
        return refresh()

    callback._refresh = counting_refresh
    rng = np.random.RandomState(5)
    x, y = rng.normal(size=(16, 4)).astype("float32"), rng.uniform(-1, 1, (16, 2, 2, 3)).astype("float32")
    g.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False, callbacks=[callback])  # 8 steps, 4 executions
    assert refreshed_at == [2, 4, 6, 8]
