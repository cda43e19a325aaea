"""Loss terms and input transforms of the techniques: one update against an independent numpy computation."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tests.reference import (LATENT, check_one_update, compiled, constant_generator, ns_discriminator_loss,
                             numeric_gradient, tanh_critic, tanh_critic_input_gradient, tanh_critic_numpy,
                             weights64)

T = ts.techniques


def linear_generator(seed=2):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(2, bias_initializer="random_normal")])


def draws(gan, x, purpose, stream=1):
    """The draws of `purpose` in the first update of `stream` (1: discriminator, 2: generator)."""
    return gan._noise(stream, 0, tf.constant(x, tf.float32)).named(purpose)


@pytest.mark.parametrize("cls, on", [(T.R1, "real"), (T.R2, "fake")])
def test_r1_and_r2_penalties_in_one_discriminator_update(cls, on):
    """L_D = NS loss + (γ/2)·mean ‖∇ₓD‖² at the real (R1) or generated (R2) inputs, non-linear critic."""
    lr, gamma, fake_value = 0.1, 3.0, np.array([0.4, -0.3])
    d = tanh_critic()
    gan = compiled(ts.NonSaturatingGAN(constant_generator(fake_value), d, latent_dim=LATENT,
                                       techniques=[cls(gamma)]), lr)
    x = np.random.RandomState(5).uniform(-1, 1, (8, 2))
    fakes = np.repeat(fake_value[None, :], 8, axis=0)
    points = x if on == "real" else fakes

    def loss(p):
        squared = np.sum(tanh_critic_input_gradient(p, points) ** 2, axis=1)
        return ns_discriminator_loss(lambda t: tanh_critic_numpy(p, t), x, fakes) + 0.5 * gamma * np.mean(squared)

    check_one_update(gan, x, d, loss, lr)


def test_instance_noise_in_one_discriminator_update():
    """D sees x + σ(t)·ε and G(z) + σ(t)·ε', σ(t) = σ₀(1 − t/T): at t = 30 of T = 60, σ = σ₀/2."""
    lr, sigma0 = 0.2, 0.4
    g, d = linear_generator(), tanh_critic()
    gan = compiled(ts.NonSaturatingGAN(g, d, latent_dim=LATENT, techniques=[T.InstanceNoise(sigma0, 60)]), lr)
    gan.g_optimizer.iterations.assign(30)
    x = np.random.RandomState(6).uniform(-1, 1, (8, 2))
    wg, bg = weights64(g)
    fake = draws(gan, x, "z").latent(LATENT).numpy() @ wg + bg
    noise = draws(gan, x, "instance_noise")
    eps_real, eps_fake = (noise.normal([2]).numpy().astype(np.float64) for _ in range(2))
    real_in, fake_in = x + 0.5 * sigma0 * eps_real, fake + 0.5 * sigma0 * eps_fake

    def loss(p):
        return ns_discriminator_loss(lambda t: tanh_critic_numpy(p, t), real_in, fake_in)

    check_one_update(gan, x, d, loss, lr)
    sigma = T.InstanceNoise(sigma0, 60).sigma
    np.testing.assert_allclose([float(sigma(t)) for t in (0, 30, 60, 90)], [sigma0, sigma0 / 2, 0, 0], atol=1e-7)


def test_orthogonal_regularization_of_the_generator():
    """With a constant critic G's family gradient is 0, so one G update is −lr·β·∇Σ‖WᵀW ⊙ (1 − I)‖²_F."""
    lr, beta = 0.05, 0.5
    keras.utils.set_random_seed(3)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(4, kernel_initializer="random_normal"),
                          keras.layers.Dense(2, kernel_initializer="random_normal")])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    gan = compiled(ts.NonSaturatingGAN(g, d, latent_dim=LATENT, techniques=[T.OrthogonalRegularization(beta)]), 0.0)
    gan.g_optimizer.learning_rate.assign(lr)  # D stays a constant critic
    kernels = [w.numpy().astype(np.float64) for w in (g.layers[0].kernel, g.layers[1].kernel)]

    def term(ws):
        return beta * sum(np.sum(((w.T @ w) * (1 - np.eye(w.shape[1]))) ** 2) for w in ws)

    want = [w - lr * gr for w, gr in zip(kernels, numeric_gradient(term, kernels))]
    logs = gan.train_step(tf.zeros((8, 2)))
    np.testing.assert_allclose(float(logs["orthogonal_regularization"]), term(kernels), rtol=1e-5)
    for layer, expected in zip(g.layers, want):
        np.testing.assert_allclose(layer.kernel.numpy(), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("replace", [True, False])
def test_feature_matching_in_one_generator_update(replace):
    """L_G = w·‖mean f(x) − mean f(G(z))‖² (+ the NS loss unless replaced), f = D's hidden tanh layer."""
    lr, weight = 0.3, 2.0
    g = linear_generator()
    keras.utils.set_random_seed(5)
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="tanh", name="hidden",
                                                                 bias_initializer="random_normal"),
                          keras.layers.Dense(1, kernel_initializer="random_normal")])
    gan = compiled(ts.NonSaturatingGAN(g, d, latent_dim=LATENT, techniques=[
        T.FeatureMatching("hidden", weight=weight, replace=replace)]), 0.0)
    gan.g_optimizer.learning_rate.assign(lr)
    x = np.random.RandomState(7).uniform(-1, 1, (8, 2))
    w1, c1, a, b = weights64(d)
    z = draws(gan, x, "z", stream=2).latent(LATENT).numpy().astype(np.float64)

    def loss(p):
        fake = z @ p[0] + p[1]
        features = lambda t: np.tanh(t @ w1 + c1)
        term = weight * np.sum((features(x).mean(0) - features(fake).mean(0)) ** 2)
        return term if replace else term + np.mean(np.logaddexp(0.0, -(features(fake) @ a + b)[:, 0]))

    check_one_update(gan, x, g, loss, lr)


@pytest.mark.parametrize("make, match", [
    (lambda: T.InstanceNoise(-0.1), "stddev"), (lambda: T.InstanceNoise(0.1, decay_steps=0), "decay_steps"),
    (lambda: T.R1(-1.0), "gamma"), (lambda: T.OrthogonalRegularization(-1.0), "beta"),
    (lambda: T.OrthogonalRegularization(player="critic"), "player"), (lambda: T.FeatureMatching(""), "layer"),
    (lambda: T.FeatureMatching("h", weight=-2.0), "weight"), (lambda: T.HistoricalAveraging(-1.0), "weight"),
    (lambda: T.EMA(decay=1.0), "decay"), (lambda: T.EMA(start_step=-1), "start_step")])
def test_bad_arguments_name_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_an_unknown_feature_layer_is_a_clear_error():
    with pytest.raises(ValueError, match="'nope' .* not a layer of the discriminator"):
        ts.NonSaturatingGAN(linear_generator(), tanh_critic(), latent_dim=LATENT,
                            techniques=[T.FeatureMatching("nope")])


def test_two_techniques_with_one_name_are_refused():
    with pytest.raises(ValueError, match="distinct names"):
        ts.NonSaturatingGAN(linear_generator(), tanh_critic(), latent_dim=LATENT, techniques=[T.R1(), T.R1()])
