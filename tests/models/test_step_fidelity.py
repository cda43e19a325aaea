"""The step does what the papers' algorithms do, checked against independent numpy computations.

- n_critic > 1: each critic update takes its own part of the batch (WGAN / WGAN-GP Algorithm 1).
- Spectral normalisation: one power iteration per discriminator update, one σ̂ for all of its D calls.
- WGAN-GP and DRAGAN: one D update of a non-linear critic (its input gradient differs from point to point),
  packed or not: ε and α are drawn per pack.
- Label noise: the targets a training step really uses are swapped at the requested rate.

Numpy gradients are central finite differences (tests/reference.py).
"""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tests.reference import (LATENT, check_one_update, compiled, constant_generator, ns_discriminator_loss,
                             numeric_gradient, sig, tanh_critic, tanh_critic_input_gradient,
                             tanh_critic_numpy, weights64)


# ---------------------------------------------------------------------------------------------- n_critic
@pytest.mark.parametrize("reuse", [False, True])
def test_critic_updates_take_disjoint_parts_of_the_batch(reuse):
    """NS-GAN, n_critic = 2, batch 16: update i sees examples i, i + 2, ... (or all 16 with reuse_real_batch)."""
    lr, fake_value = 0.5, np.array([0.3, -0.4])
    d = tanh_critic()
    gan = compiled(ts.NonSaturatingGAN(constant_generator(fake_value), d, latent_dim=LATENT, n_critic=2,
                                       reuse_real_batch=reuse), lr)
    x = np.random.RandomState(0).uniform(-1, 1, (16, 2))
    params = weights64(d)

    logs = gan.train_step(tf.constant(x, tf.float32))

    parts = [x, x] if reuse else [x[0::2], x[1::2]]
    losses, d_real = [], []
    for real in parts:
        def loss(p, real=real):
            return ns_discriminator_loss(lambda t: tanh_critic_numpy(p, t), real, fake_value[None, :])
        losses.append(loss(params))
        d_real.append(np.mean(sig(tanh_critic_numpy(params, real))))
        params = [p - lr * g for p, g in zip(params, numeric_gradient(loss, params))]
    for got, want in zip(d.weights, params):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
    # Logged discriminator values are means over the two updates, not the last update's.
    np.testing.assert_allclose(float(logs["d_loss"]), np.mean(losses), rtol=1e-5)
    np.testing.assert_allclose(float(logs["d_real"]), np.mean(d_real), rtol=1e-5)
    assert int(gan.d_optimizer.iterations.numpy()) == 2 and int(gan.g_optimizer.iterations.numpy()) == 1


def test_a_batch_that_cannot_be_split_over_the_critic_updates_is_a_clear_error():
    gan = compiled(ts.WGANGP(constant_generator([0.0, 0.0]), tanh_critic(), latent_dim=LATENT, n_critic=5), 0.1)
    x = np.zeros((64, 2), np.float32)
    with pytest.raises(ValueError, match=r"multiple of 5.*n_critic=5.*reuse_real_batch"):
        gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(32), epochs=1, verbose=0)
    packed = compiled(ts.WGANGP(constant_generator([0.0, 0.0]), tanh_critic(packing=2), latent_dim=LATENT,
                                n_critic=2), 0.1)
    with pytest.raises(ValueError, match=r"multiple of 4.*packs 2 samples"):
        packed.fit(tf.data.Dataset.from_tensor_slices(x).batch(6), epochs=1, verbose=0)
    reused = compiled(ts.WGANGP(constant_generator([0.0, 0.0]), tanh_critic(), latent_dim=LATENT, n_critic=5,
                                reuse_real_batch=True), 0.1)
    reused.fit(tf.data.Dataset.from_tensor_slices(x).batch(32), epochs=1, verbose=0)  # no split: any batch


# ---------------------------------------------------------------------------------------------- spectral norm
def power_iteration(matrix, u, eps=1e-12):
    v = matrix @ u
    v = v / (np.linalg.norm(v) + eps)
    u = matrix.T @ v
    return u / (np.linalg.norm(u) + eps)


def sn_critic():
    keras.utils.set_random_seed(9)
    sn = ts.layers.SpectralNormalization(keras.layers.Dense(6, kernel_initializer="random_normal",
                                                            bias_initializer="random_normal"))
    return keras.Sequential([keras.Input((2,)), sn, keras.layers.Activation("tanh"),
                             keras.layers.Dense(1, use_bias=False, kernel_initializer="random_normal")]), sn


def test_spectral_norm_advances_once_per_discriminator_update():
    """With lr 0 the kernel stays W: after one step with n_critic = 2, u = PI(PI(u0)), whatever D is called for."""
    d, sn = sn_critic()
    gan = compiled(ts.WGANGP(constant_generator([0.1, 0.2]), d, latent_dim=LATENT, n_critic=2), 0.0)
    kernel, u0 = sn.layer.kernel.numpy().astype(np.float64), sn.u.numpy().astype(np.float64)
    gan.train_step(tf.constant(np.random.RandomState(1).uniform(-1, 1, (8, 2)), tf.float32))
    u = u0 / np.linalg.norm(u0)
    iterates = [u]
    for _ in range(6):
        iterates.append(power_iteration(kernel, iterates[-1]))
    np.testing.assert_allclose(sn.u.numpy(), iterates[2], rtol=1e-5, atol=1e-6)
    # The check can fail: two more iterations (as calls on real, fake, penalty points and in G's
    # update would make) move u by far more than the tolerance.
    assert np.abs(iterates[2] - iterates[4]).max() > 1e-3


def test_spectral_norm_real_and_fake_logits_share_one_sigma():
    """One NS D update with an SN layer equals numpy with σ̂ = ‖W u₁‖ for real and fake, u₁ = PI(u₀)."""
    lr, fake_value = 0.5, np.array([0.7, -0.2])
    d, sn = sn_critic()
    gan = compiled(ts.NonSaturatingGAN(constant_generator(fake_value), d, latent_dim=LATENT), lr)
    x = np.random.RandomState(2).uniform(-1, 1, (8, 2))
    w, c, a = (v.astype(np.float64) for v in (sn.layer.kernel.numpy(), sn.layer.bias.numpy(), d.weights[-1].numpy()))
    u0 = sn.u.numpy().astype(np.float64)
    u1 = power_iteration(w, u0 / np.linalg.norm(u0))

    def critic(p, t):
        w, c, a = p
        return (np.tanh(t @ (w / np.linalg.norm(w @ u1)) + c) @ a)[:, 0]

    def loss(p):
        return ns_discriminator_loss(lambda t: critic(p, t), x, fake_value[None, :])

    params = [w, c, a]
    want = [p - lr * g for p, g in zip(params, numeric_gradient(loss, params))]
    gan.train_step(tf.constant(x, tf.float32))
    for got, expected in zip([sn.layer.kernel, sn.layer.bias, d.weights[-1]], want):
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------- penalties
def step_noise(gan, real, purpose, stream=1, step=0):
    """The draws of one purpose in the first discriminator update (stream 1, step 0) of a train_step."""
    return gan._noise(stream, step, tf.constant(real, tf.float32)).named(purpose)


def packed(x, m):
    """numpy `layers.Pack`: m consecutive rows side by side."""
    return x.reshape(len(x) // m, -1)


@pytest.mark.parametrize("m", [1, 2])
def test_one_wgan_gp_update_of_a_nonlinear_critic(m):
    """L_D = mean D(fake pack) − D(real pack) + λ(‖∇D(x̂)‖ − 1)², x̂ = ε·real pack + (1 − ε)·fake pack."""
    lr, batch, lam = 0.1, 8, 10.0
    keras.utils.set_random_seed(2)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(2, bias_initializer="random_normal")])
    d = tanh_critic(packing=m)
    gan = compiled(ts.WGANGP(g, d, latent_dim=LATENT, n_critic=1, penalty_weight=lam), lr)
    x = np.random.RandomState(3).uniform(-1, 1, (batch, 2))
    wg, bg = weights64(g)
    z = step_noise(gan, x, "z").latent(LATENT).numpy().astype(np.float64)
    eps = step_noise(gan, x, "gradient_penalty").uniform([1]).numpy().astype(np.float64)
    eps = np.repeat(eps[::m], m, axis=0)  # one ε per pack: its first example's draw
    fake = z @ wg + bg
    points = packed(eps * x + (1 - eps) * fake, m)

    def loss(p):
        grad_norm = np.linalg.norm(tanh_critic_input_gradient(p, points), axis=1)
        critic = lambda t: tanh_critic_numpy(p, packed(t, m))
        return np.mean(critic(fake) - critic(x)) + lam * np.mean((grad_norm - 1) ** 2)

    logs = check_one_update(gan, x, d, loss, lr)
    assert np.isfinite(float(logs["gradient_penalty"]))


@pytest.mark.parametrize("m", [1, 2])
def test_one_dragan_update_of_a_nonlinear_critic(m):
    """L_D = NS loss + λ(‖∇D(x̂)‖ − 1)², x̂ = x + α·c·std(x)·u with u ~ U[0, 1] per element, α per pack."""
    lr, batch, lam, scale = 0.1, 8, 10.0, 0.5
    fake_value = np.array([0.25, -0.5])
    d = tanh_critic(packing=m)
    gan = compiled(ts.DRAGAN(constant_generator(fake_value), d, latent_dim=LATENT, penalty_weight=lam,
                             perturbation_scale=scale), lr)
    x = np.random.RandomState(4).uniform(-1, 1, (batch, 2))
    noise = step_noise(gan, x, "dragan_penalty")
    u = noise.uniform([2]).numpy().astype(np.float64)
    alpha = noise.uniform([1]).numpy().astype(np.float64)
    alpha = np.repeat(alpha[::m], m, axis=0)
    points = packed(x + alpha * scale * x.std() * u, m)
    fakes = np.repeat(fake_value[None, :], batch, axis=0)

    def loss(p):
        grad_norm = np.linalg.norm(tanh_critic_input_gradient(p, points), axis=1)
        critic = lambda t: tanh_critic_numpy(p, packed(t, m))
        return ns_discriminator_loss(critic, x, fakes) + lam * np.mean((grad_norm - 1) ** 2)

    check_one_update(gan, x, d, loss, lr)


# ---------------------------------------------------------------------------------------------- label noise
def test_label_noise_of_a_training_step_swaps_targets_at_the_requested_rate():
    """Real x = 1, fakes = −1, a zero linear critic (logits 0), SGD: the kernel's first step is
    −lr · mean(t_fake − t_real) = −lr · 0.9 · (2·p̂ − 1), where p̂ is the fraction of swapped examples."""
    batch, lr, p = 4000, 0.1, 0.25
    d = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    gan = compiled(ts.MinimaxGAN(constant_generator([-1.0]), d, latent_dim=LATENT, real_label=0.9,
                                 label_noise=p, seed=4), lr)
    gan.train_step(tf.ones((batch, 1)))
    swapped = (1 - float(d.weights[0].numpy()[0, 0]) / (0.9 * lr)) / 2
    # ±5 binomial standard errors; the draw is seeded, so this passes or fails deterministically.
    assert abs(swapped - p) < 5 * np.sqrt(p * (1 - p) / batch), swapped
    counts = swapped * batch
    assert abs(counts - round(counts)) < 0.05  # an integer number of swapped examples: per-example swaps
