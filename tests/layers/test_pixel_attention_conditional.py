"""PixelNormalization, SelfAttention and ConditionalBatchNormalization against numpy."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_stable.layers import (ConditionalBatchNormalization, PixelNormalization, SelfAttention,
                                 SpectralNormalization)


def test_pixel_normalization_matches_numpy():
    x = np.random.RandomState(0).normal(size=(3, 4, 4, 5)).astype("float32") * 7
    y = PixelNormalization()(x).numpy()
    expected = x / np.sqrt((x.astype("float64") ** 2).mean(-1, keepdims=True) + 1e-8)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose((y.astype("float64") ** 2).mean(-1), 1.0, rtol=1e-5)
    y1 = PixelNormalization(axis=1, epsilon=0.5)(x).numpy()
    np.testing.assert_allclose(y1, x / np.sqrt((x.astype("float64") ** 2).mean(1, keepdims=True) + 0.5),
                               rtol=1e-5, atol=1e-6)


def test_pixel_normalization_bad_arguments():
    with pytest.raises(ValueError, match="epsilon"):
        PixelNormalization(epsilon=0)
    with pytest.raises(ValueError, match="axis"):
        PixelNormalization(axis="channels")
    with pytest.raises(ValueError, match="`axis`"):
        PixelNormalization(axis=0)(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="rank >= 2"):
        PixelNormalization()(np.ones((3,), "float32"))


def _numpy_attention(x, wf, wg, wh, wv, gamma):
    n, c = x.shape[0], x.shape[-1]
    flat = x.reshape(n, -1, c).astype("float64")
    out = np.empty_like(flat)
    for b in range(n):
        f, g, h = flat[b] @ wf, flat[b] @ wg, flat[b] @ wh
        positions = len(flat[b])
        for j in range(positions):
            s = np.array([f[i] @ g[j] for i in range(positions)])   # s_ij for all i
            beta = np.exp(s - s.max()) / np.exp(s - s.max()).sum()   # β_{j,i}
            o = (beta[:, None] * h).sum(0) @ wv
            out[b, j] = flat[b, j] + gamma * o
    return out.reshape(x.shape)


def test_self_attention_matches_the_paper_and_starts_as_identity():
    rng = np.random.RandomState(1)
    x = rng.normal(size=(2, 3, 4, 16)).astype("float32")
    layer = SelfAttention(value_channels=4)
    np.testing.assert_array_equal(layer(x).numpy(), x)  # γ = 0 at initialisation
    assert float(layer.gamma.numpy()) == 0.0
    wf, wg = rng.normal(size=(16, 2)) * 0.3, rng.normal(size=(16, 2)) * 0.3  # C̄ = C/8 = 2
    wh, wv = rng.normal(size=(16, 4)) * 0.3, rng.normal(size=(4, 16)) * 0.3
    for sub, w in ((layer.f, wf), (layer.g, wg), (layer.h, wh), (layer.v, wv)):
        sub.kernel.assign(w.astype("float32"))
    layer.gamma.assign(0.7)
    np.testing.assert_allclose(layer(x).numpy(), _numpy_attention(x, wf, wg, wh, wv, 0.7), rtol=1e-4, atol=1e-5)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) ** 2)
    grads = tape.gradient(loss, layer.trainable_variables)
    assert len(grads) == 5 and all(g is not None and np.abs(g.numpy()).max() > 0 for g in grads)


def test_self_attention_with_spectral_normalization_on_sequences():
    x = np.random.RandomState(2).normal(size=(2, 5, 8)).astype("float32")  # rank 3: [batch, positions, C]
    layer = SelfAttention(key_channels=3, spectral_normalization=True)
    layer(x, training=True)
    assert all(isinstance(sub, SpectralNormalization) for sub in (layer.f, layer.g, layer.h, layer.v))
    layer.gamma.assign(1.0)
    u_before = layer.f.u.numpy().copy()
    y = layer(x, training=True).numpy()
    assert np.abs(layer.f.u.numpy() - u_before).max() > 0  # training calls reach the wrapped projections
    wf, wg, wh, wv = (np.asarray(s.normalized_kernel()) for s in (layer.f, layer.g, layer.h, layer.v))
    np.testing.assert_allclose(layer(x).numpy(), _numpy_attention(x, wf, wg, wh, wv, 1.0), rtol=1e-4, atol=1e-5)
    assert y.shape == x.shape


def test_self_attention_bad_arguments():
    with pytest.raises(ValueError, match="key_channels"):
        SelfAttention(key_channels=0)
    with pytest.raises(ValueError, match="value_channels"):
        SelfAttention(value_channels=-3)
    with pytest.raises(ValueError, match="rank >= 3"):
        SelfAttention()(np.ones((2, 8), "float32"))


def _numpy_cbn(x, gamma_rows, beta_rows, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axes), x.var(axes)
    shape = (len(x),) + (1,) * (x.ndim - 2) + (-1,)
    return (x - mean) / np.sqrt(var + eps) * gamma_rows.reshape(shape) + beta_rows.reshape(shape), mean, var


def test_conditional_batch_normalization_matches_numpy():
    rng = np.random.RandomState(3)
    x = rng.normal(2.0, 3.0, size=(6, 3, 3, 4)).astype("float32")
    labels = np.array([0, 2, 1, 2, 0, 1])
    layer = ConditionalBatchNormalization(num_classes=3, momentum=0.9)
    layer.build([x.shape, labels.shape])
    gamma, beta = rng.uniform(0.5, 2, (3, 4)), rng.normal(size=(3, 4))
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    y = layer([x, labels], training=True).numpy()
    expected, mean, var = _numpy_cbn(x.astype("float64"), gamma[labels], beta[labels])
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * var, rtol=1e-5, atol=1e-6)
    # the same rows from [batch, 1] ids and from one-hot labels; soft labels mix the rows
    np.testing.assert_allclose(layer([x, labels[:, None]], training=True).numpy(), expected, rtol=1e-4, atol=1e-4)
    one_hot = np.eye(3, dtype="float32")[labels]
    np.testing.assert_allclose(layer([x, one_hot], training=True).numpy(), expected, rtol=1e-4, atol=1e-4)
    soft = np.full((6, 3), 1 / 3, "float32")
    mixed, _, _ = _numpy_cbn(x.astype("float64"), np.tile(gamma.mean(0), (6, 1)), np.tile(beta.mean(0), (6, 1)))
    np.testing.assert_allclose(layer([x, soft], training=True).numpy(), mixed, rtol=1e-4, atol=1e-4)
    # inference: the moving statistics (now after four updates)
    moving_mean, moving_var = layer.moving_mean.numpy(), layer.moving_variance.numpy()
    np.testing.assert_allclose(moving_mean, (1 - 0.9 ** 4) * mean, rtol=1e-5, atol=1e-5)
    inference = (x - moving_mean) / np.sqrt(moving_var + 1e-3) * gamma[labels][:, None, None] \
        + beta[labels][:, None, None]
    np.testing.assert_allclose(layer([x, labels]).numpy(), inference, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), moving_mean)  # no update in inference


def test_conditional_batch_normalization_in_a_functional_model_under_xla():
    z, y = keras.Input((3,)), keras.Input((), dtype="int32")
    h = keras.layers.Reshape((2, 2, 2))(keras.layers.Dense(8)(z))
    out = ConditionalBatchNormalization(num_classes=5)([h, y])
    model = keras.Model([z, y], out)
    zs, ys = np.random.RandomState(4).normal(size=(4, 3)).astype("float32"), np.array([4, 0, 1, 4])
    eager = model([zs, ys], training=True).numpy()
    xla = tf.function(lambda a, b: model([a, b], training=True), jit_compile=True)(zs, ys).numpy()
    np.testing.assert_allclose(xla, eager, rtol=1e-5, atol=1e-5)


def test_conditional_batch_normalization_bad_arguments():
    with pytest.raises(ValueError, match="num_classes"):
        ConditionalBatchNormalization(num_classes=0)
    with pytest.raises(ValueError, match="momentum"):
        ConditionalBatchNormalization(3, momentum=1.0)
    with pytest.raises(ValueError, match="epsilon"):
        ConditionalBatchNormalization(3, epsilon=-1e-3)
    x = np.ones((2, 4), "float32")
    with pytest.raises(ValueError, match=r"list \[x, labels\]"):
        ConditionalBatchNormalization(3)(x)
    with pytest.raises(ValueError, match="`labels` must be class ids"):
        ConditionalBatchNormalization(3)([x, np.zeros((2, 2), "float32")])
    with pytest.raises(ValueError, match="`labels` must be class ids"):
        ConditionalBatchNormalization(3)([x, np.zeros((2, 1, 1), "int32")])
    with pytest.raises(ValueError, match="floating `labels`"):
        ConditionalBatchNormalization(3)([x, np.zeros((2,), "float32")])
    with pytest.raises(ValueError, match="rank >= 2"):
        ConditionalBatchNormalization(3)([np.ones((2,), "float32"), np.zeros((2,), "int32")])
