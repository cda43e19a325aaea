"""Each loss against its paper formula computed independently in numpy (float64) on fixed logits."""
import numpy as np
import pytest
import tensorflow as tf

from tfgan_stable import losses

RNG = np.random.RandomState(0)
REAL = RNG.normal(0.5, 2.0, size=16).astype(np.float32)
FAKE = RNG.normal(-0.5, 2.0, size=16).astype(np.float32)


def sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t.astype(np.float64)))


def bce(logits, target):
    p = sigmoid(logits)
    return -(target * np.log(p) + (1 - target) * np.log(1 - p))


def close(tensor, expected):
    np.testing.assert_allclose(np.asarray(tensor), expected, rtol=1e-5, atol=1e-5)


def test_minimax_discriminator_with_one_sided_label_smoothing():
    close(losses.minimax_discriminator_loss(REAL, FAKE), -np.log(sigmoid(REAL)) - np.log(1 - sigmoid(FAKE)))
    close(losses.minimax_discriminator_loss(REAL, FAKE, real_targets=0.9),
          bce(REAL, 0.9) + bce(FAKE, 0.0))


def test_minimax_discriminator_per_example_targets():
    real_t = np.where(np.arange(16) % 3 == 0, 0.0, 0.9)
    fake_t = np.where(np.arange(16) % 3 == 0, 0.9, 0.0)
    close(losses.minimax_discriminator_loss(REAL, FAKE, real_t, fake_t), bce(REAL, real_t) + bce(FAKE, fake_t))


def test_generator_losses():
    close(losses.minimax_generator_loss(FAKE), np.log(1 - sigmoid(FAKE)))
    close(losses.non_saturating_generator_loss(FAKE), -np.log(sigmoid(FAKE)))


def test_least_squares():
    close(losses.least_squares_discriminator_loss(REAL, FAKE),
          0.5 * (REAL.astype(np.float64) - 1) ** 2 + 0.5 * FAKE.astype(np.float64) ** 2)
    close(losses.least_squares_discriminator_loss(REAL, FAKE, a=-1.0, b=1.0),
          0.5 * (REAL.astype(np.float64) - 1) ** 2 + 0.5 * (FAKE.astype(np.float64) + 1) ** 2)
    close(losses.least_squares_generator_loss(FAKE, c=0.0), 0.5 * FAKE.astype(np.float64) ** 2)
    close(losses.least_squares_generator_loss(FAKE), 0.5 * (FAKE.astype(np.float64) - 1) ** 2)


def test_wasserstein_and_hinge():
    close(losses.wasserstein_discriminator_loss(REAL, FAKE), FAKE.astype(np.float64) - REAL)
    close(losses.wasserstein_generator_loss(FAKE), -FAKE.astype(np.float64))
    close(losses.hinge_discriminator_loss(REAL, FAKE),
          np.maximum(0, 1 - REAL.astype(np.float64)) + np.maximum(0, 1 + FAKE.astype(np.float64)))


def test_losses_accept_column_logits_and_return_per_example():
    out = losses.hinge_discriminator_loss(REAL[:, None], FAKE[:, None])
    assert out.shape == (16,)


def test_gradient_norm_penalty_formula_and_zero_gradient():
    grads = RNG.normal(size=(4, 3, 3, 2)).astype(np.float32)
    grads[1] = 0.0
    norms = np.sqrt((grads.astype(np.float64).reshape(4, -1) ** 2).sum(1))
    close(losses.gradient_norm_penalty(grads), (norms - 1) ** 2)
    x = tf.constant(grads)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = tf.reduce_sum(losses.gradient_norm_penalty(x))
    g = tape.gradient(value, x).numpy()
    assert np.all(np.isfinite(g))
    assert np.all(g[1] == 0.0)
    # d/dg (|g| - 1)^2 = 2 (|g| - 1) g / |g|
    expected = 2 * (norms[0] - 1) * grads[0] / norms[0]
    np.testing.assert_allclose(g[0], expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("bad", [np.zeros((4, 2), np.float32), np.zeros((2, 2, 1), np.float32)])
def test_bad_logit_shapes(bad):
    with pytest.raises(ValueError, match="real_logits"):
        losses.hinge_discriminator_loss(bad, np.zeros(4, np.float32))


def test_integer_logits_rejected():
    with pytest.raises(TypeError, match="fake_logits"):
        losses.non_saturating_generator_loss(np.zeros(4, np.int32))
