"""MinibatchDiscrimination and MinibatchStdDev against element-by-element numpy computations."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_stable.layers import MinibatchDiscrimination, MinibatchStdDev


def _numpy_minibatch_discrimination(f, t):
    n, (a, b, c) = len(f), t.shape
    m = np.einsum("na,abc->nbc", f.astype("float64"), t.astype("float64"))  # M_i = f(x_i)·T
    o = np.zeros((n, b))
    for i in range(n):
        for j in range(n):
            for k in range(b):
                o[i, k] += np.exp(-np.sum(np.abs(m[i, k] - m[j, k])))
    return np.concatenate([f, o], axis=1)


def test_minibatch_discrimination_matches_the_formula():
    rng = np.random.RandomState(0)
    f = rng.normal(size=(6, 7)).astype("float32")
    layer = MinibatchDiscrimination(num_kernels=4, kernel_dim=3)
    layer.build((None, 7))
    t = rng.normal(scale=0.3, size=(7, 4, 3)).astype("float32")
    layer.kernel.assign(t)
    y = layer(f).numpy()
    assert y.shape == (6, 11)
    expected = _numpy_minibatch_discrimination(f, t)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert np.all(y[:, 7:] >= 1.0 - 1e-6)  # the j = i term contributes exactly exp(0) = 1
    # j ranges over the examples of the call: a sub-batch gives its own features
    np.testing.assert_allclose(layer(f[:3]).numpy(), _numpy_minibatch_discrimination(f[:3], t), rtol=1e-5, atol=1e-6)
    # identical examples (mode collapse) give the largest possible value n in every feature
    collapsed = layer(np.repeat(f[:1], 5, axis=0)).numpy()
    np.testing.assert_allclose(collapsed[:, 7:], 5.0, rtol=1e-6)


def test_minibatch_discrimination_gradient_and_xla():
    rng = np.random.RandomState(1)
    f = tf.constant(rng.normal(size=(5, 4)).astype("float32"))
    layer = MinibatchDiscrimination(3, 2)
    eager = layer(f).numpy()
    np.testing.assert_allclose(tf.function(layer, jit_compile=True)(f).numpy(), eager, rtol=1e-5, atol=1e-6)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(f)[:, 4:])
    grad = tape.gradient(loss, layer.kernel)
    assert grad is not None and np.all(np.isfinite(grad.numpy())) and np.abs(grad.numpy()).max() > 0


def test_minibatch_discrimination_bad_arguments():
    for kwargs, name in (({"num_kernels": 0, "kernel_dim": 3}, "num_kernels"),
                         ({"num_kernels": 2, "kernel_dim": -1}, "kernel_dim"),
                         ({"num_kernels": 2.5, "kernel_dim": 3}, "num_kernels")):
        with pytest.raises(ValueError, match=name):
            MinibatchDiscrimination(**kwargs)
    with pytest.raises(ValueError, match="rank 2"):
        MinibatchDiscrimination(2, 3)(np.zeros((4, 3, 3, 2), "float32"))
    with pytest.raises(ValueError, match="rank 2"):
        keras.Sequential([keras.Input((5, 5, 1)), MinibatchDiscrimination(2, 3)])


def _numpy_stddev(x, group_size, eps=1e-8):
    x = x.astype("float64")
    n = len(x)
    g = min(group_size, n)
    feature = np.empty(n)
    for start in range(0, n, g):
        group = x[start:start + g]
        std = np.sqrt(((group - group.mean(0)) ** 2).mean(0) + eps)
        feature[start:start + g] = std.mean()
    extra = np.broadcast_to(feature.reshape((n,) + (1,) * (x.ndim - 1)), x.shape[:-1] + (1,))
    return np.concatenate([x, extra], axis=-1)


@pytest.mark.parametrize("n", [8, 6, 3], ids=["multiple", "smaller_last_group", "batch_below_group"])
def test_minibatch_stddev_matches_numpy(n):
    rng = np.random.RandomState(2)
    x = rng.normal(size=(n, 3, 3, 5)).astype("float32") * np.arange(1, n + 1).reshape(-1, 1, 1, 1)
    layer = MinibatchStdDev(group_size=4)
    y = layer(x).numpy()
    assert y.shape == (n, 3, 3, 6)
    np.testing.assert_allclose(y, _numpy_stddev(x, 4), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tf.function(layer, jit_compile=True)(x).numpy(), y, rtol=1e-5, atol=1e-6)


def test_minibatch_stddev_on_vectors_and_collapse():
    x = np.random.RandomState(3).normal(size=(4, 6)).astype("float32")
    np.testing.assert_allclose(MinibatchStdDev(2)(x).numpy(), _numpy_stddev(x, 2), rtol=1e-5, atol=1e-6)
    same = MinibatchStdDev(4)(np.repeat(x[:1], 4, axis=0)).numpy()
    np.testing.assert_allclose(same[:, -1], np.sqrt(1e-8), rtol=1e-4)  # a collapsed group has no spread


def test_minibatch_stddev_bad_arguments():
    for value in (1, 0, -2, 2.0):
        with pytest.raises(ValueError, match="group_size"):
            MinibatchStdDev(group_size=value)
    with pytest.raises(ValueError, match="epsilon"):
        MinibatchStdDev(epsilon=-1.0)
    with pytest.raises(ValueError, match="rank >= 2"):
        MinibatchStdDev()(np.zeros((4,), "float32"))
