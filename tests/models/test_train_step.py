"""One train_step with SGD on linear nets equals the update derived by hand from each family's formula."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts

LATENT, BATCH, LR = 3, 8, 0.1


def sig(t):
    return 1.0 / (1.0 + np.exp(-t))


# Derivatives of the per-example losses with respect to the logits, worked out by hand from each formula:
# (dL_D/dD(x), dL_D/dD(G(z)), dL_G/dD(G(z))).
FAMILIES = {
    "ns": (lambda: {"cls": ts.NonSaturatingGAN},
           lambda r, f: (-sig(-r), sig(f)), lambda f: -sig(-f)),
    "minimax_smoothed": (lambda: {"cls": ts.MinimaxGAN, "real_label": 0.9},
                         lambda r, f: (sig(r) - 0.9, sig(f)), lambda f: -sig(f)),
    "lsgan": (lambda: {"cls": ts.LSGAN, "fake_target": -1.0, "real_target": 1.0, "generator_target": 0.5},
              lambda r, f: (r - 1.0, f + 1.0), lambda f: f - 0.5),
    "wgan": (lambda: {"cls": ts.WGAN, "n_critic": 1, "clip_value": 100.0},
             lambda r, f: (-np.ones_like(r), np.ones_like(f)), lambda f: -np.ones_like(f)),
    "hinge": (lambda: {"cls": ts.HingeGAN},
              lambda r, f: (-(r < 1).astype(float), (f > -1).astype(float)), lambda f: -np.ones_like(f)),
}


def linear_nets():
    keras.utils.set_random_seed(7)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(2, bias_initializer="random_normal")])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="random_normal",
                                                                 bias_initializer="random_normal")])
    return g, d


def step_latent(gan, stream, step):
    return gan._noise(stream, step, tf.zeros([BATCH])).named("z").latent(LATENT).numpy().astype(np.float64)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_one_step_matches_hand_derivation(family):
    make, d_grads, g_grad = FAMILIES[family]
    kwargs = make()
    cls = kwargs.pop("cls")
    g, d = linear_nets()
    gan = cls(g, d, latent_dim=LATENT, seed=11, **kwargs)
    gan.compile(d_optimizer=keras.optimizers.SGD(LR), g_optimizer=keras.optimizers.SGD(LR))
    x = np.random.RandomState(1).uniform(-1, 1, (BATCH, 2))
    wg, bg = (v.numpy().astype(np.float64) for v in g.weights)
    wd, bd = (v.numpy().astype(np.float64) for v in d.weights)
    z_d, z_g = step_latent(gan, 1, 0), step_latent(gan, 2, 0)

    logs = gan.train_step(tf.constant(x, tf.float32))

    fake = z_d @ wg + bg
    r, f = (x @ wd + bd)[:, 0], (fake @ wd + bd)[:, 0]
    dr, df = d_grads(r, f)
    wd1 = wd - LR * (x.T @ dr[:, None] + fake.T @ df[:, None]) / BATCH
    bd1 = bd - LR * (dr.sum() + df.sum()) / BATCH
    fake_g = z_g @ wg + bg
    dfake = g_grad((fake_g @ wd1 + bd1)[:, 0])[:, None] * wd1[:, 0][None, :] / BATCH
    wg1, bg1 = wg - LR * z_g.T @ dfake, bg - LR * dfake.sum(0)

    for got, want in zip(d.weights + g.weights, [wd1, bd1, wg1, bg1]):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
    assert set(logs) >= {"d_loss", "g_loss", "d_real", "d_fake"}


def test_wgan_clips_critic_weights_after_each_update():
    g, d = linear_nets()
    gan = ts.WGAN(g, d, latent_dim=LATENT, clip_value=0.01, n_critic=2)
    gan.compile(d_optimizer=keras.optimizers.SGD(1.0), g_optimizer=keras.optimizers.SGD(0.1))
    gan.train_step(tf.constant(np.random.RandomState(2).uniform(-1, 1, (BATCH, 2)), tf.float32))
    weights = np.concatenate([w.numpy().ravel() for w in d.weights])
    assert np.max(np.abs(weights)) <= 0.01 + 1e-7
    assert np.sum(np.isclose(np.abs(weights), 0.01)) >= 1  # the large SGD step really hit the bound
    assert int(gan.d_optimizer.iterations.numpy()) == 2 and int(gan.g_optimizer.iterations.numpy()) == 1


@pytest.mark.parametrize("cls", [ts.WGANGP, ts.DRAGAN])
def test_penalised_families_are_finite_when_real_equals_fake(cls):
    """Real data equal to G(z) and a constant critic make the penalty's gradient norm exactly 0."""
    keras.utils.set_random_seed(3)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(2, kernel_initializer="zeros",
                                                                      bias_initializer="zeros")])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    gan = cls(g, d, latent_dim=LATENT, n_critic=1)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    logs = gan.train_step(tf.zeros((BATCH, 2)))
    penalty = logs["gradient_penalty" if cls is ts.WGANGP else "dragan_penalty"]
    np.testing.assert_allclose(float(penalty), 10.0, rtol=1e-6)  # λ·(0 − 1)²
    for v in d.weights + g.weights:
        assert np.all(np.isfinite(v.numpy()))
    assert all(np.isfinite(float(v)) for v in logs.values())


def test_gradient_penalty_value_matches_hand_computation():
    """For a linear critic the gradient at any point is its kernel: penalty = λ(‖w‖ − 1)²."""
    g, d = linear_nets()
    gan = ts.WGANGP(g, d, latent_dim=LATENT, n_critic=1, penalty_weight=10.0)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
    logs = gan.train_step(tf.constant(np.random.RandomState(4).uniform(-1, 1, (BATCH, 2)), tf.float32))
    w = d.weights[0].numpy().astype(np.float64)
    np.testing.assert_allclose(float(logs["gradient_penalty"]), 10 * (np.linalg.norm(w) - 1) ** 2, rtol=1e-5)


def test_lsgan_fake_target_schedule():
    ramp = ts.schedules.LinearRamp(0.0, 0.5, begin_step=10, end_step=20)
    np.testing.assert_allclose([float(ramp(s)) for s in (0, 10, 15, 20, 100)], [0, 0, 0.25, 0.5, 0.5])
    g, d = linear_nets()
    gan = ts.LSGAN(g, d, latent_dim=LATENT, fake_target=ramp)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
    gan.d_optimizer.iterations.assign(15)
    logs = gan.train_step(tf.zeros((BATCH, 2)))
    np.testing.assert_allclose(float(logs["fake_target"]), 0.25)
    with pytest.raises(ValueError, match="begin_step"):
        ts.schedules.LinearRamp(0.0, 1.0, begin_step=5, end_step=5)


def test_evaluate_and_validation_report_the_family_losses():
    """A zero critic outputs 0 everywhere: LSGAN's losses are then ½(0 − 1)² + ½(0 − 0)² = ½ and ½(0 − 1)² = ½."""
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    gan = ts.LSGAN(g, d, latent_dim=LATENT)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
    x = np.random.RandomState(0).uniform(-1, 1, (32, 2)).astype(np.float32)
    result = gan.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    np.testing.assert_allclose([result["d_loss"], result["g_loss"], result["d_real"]], [0.5, 0.5, 0.0], atol=1e-7)
    weights = [w.numpy().copy() for w in gan.weights]
    history = gan.fit(x, batch_size=8, epochs=1, verbose=0, validation_data=(x,))
    assert np.isclose(history.history["val_d_loss"][0], 0.5)
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(weights, gan.weights))  # lr 0: nothing moved


def packed_linear_nets(m):
    g, _ = linear_nets()
    d = keras.Sequential([keras.Input((2,)), ts.layers.Pack(m),
                          keras.layers.Dense(1, kernel_initializer="random_normal", bias_initializer="random_normal")])
    return g, d


def test_one_step_with_a_packed_discriminator_averages_over_packs():
    """PacGAN, m = 2: D(x_2i, x_2i+1) = [x_2i, x_2i+1]·w + b; the losses are means over the BATCH / 2 packs."""
    m, packs = 2, BATCH // 2
    g, d = packed_linear_nets(m)
    gan = ts.NonSaturatingGAN(g, d, latent_dim=LATENT, seed=11)
    gan.compile(d_optimizer=keras.optimizers.SGD(LR), g_optimizer=keras.optimizers.SGD(LR))
    x = np.random.RandomState(1).uniform(-1, 1, (BATCH, 2))
    wg, bg = (v.numpy().astype(np.float64) for v in g.weights)
    wd, bd = (v.numpy().astype(np.float64) for v in d.weights)
    z_d, z_g = step_latent(gan, 1, 0), step_latent(gan, 2, 0)

    gan.train_step(tf.constant(x, tf.float32))

    xp, fake = x.reshape(packs, 2 * m), (z_d @ wg + bg).reshape(packs, 2 * m)
    dr, df = -sig(-(xp @ wd + bd)[:, 0]), sig((fake @ wd + bd)[:, 0])
    wd1 = wd - LR * (xp.T @ dr[:, None] + fake.T @ df[:, None]) / packs
    bd1 = bd - LR * (dr.sum() + df.sum()) / packs
    fake_g = (z_g @ wg + bg).reshape(packs, 2 * m)
    dfake = (-sig(-(fake_g @ wd1 + bd1)[:, 0]))[:, None] * wd1[:, 0][None, :] / packs  # [packs, 2m]
    dfake = dfake.reshape(BATCH, 2)
    wg1, bg1 = wg - LR * z_g.T @ dfake, bg - LR * dfake.sum(0)
    for got, want in zip(d.weights + g.weights, [wd1, bd1, wg1, bg1]):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)


def test_gradient_penalty_of_a_packed_critic_is_taken_per_pack():
    """A linear critic on packs of 4 has gradient w ∈ R^8 per pack: penalty λ(‖w‖ − 1)², not per-sample halves."""
    g, d = packed_linear_nets(4)
    gan = ts.WGANGP(g, d, latent_dim=LATENT, n_critic=1, penalty_weight=10.0)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
    logs = gan.train_step(tf.constant(np.random.RandomState(4).uniform(-1, 1, (BATCH, 2)), tf.float32))
    w = d.weights[0].numpy().astype(np.float64)
    assert w.shape == (8, 1)
    np.testing.assert_allclose(float(logs["gradient_penalty"]), 10 * (np.linalg.norm(w) - 1) ** 2, rtol=1e-5)


def test_label_noise_of_a_packed_discriminator_uses_each_packs_first_draw():
    g, d = packed_linear_nets(2)
    gan = ts.MinimaxGAN(g, d, latent_dim=LATENT, label_noise=0.5)
    u = tf.constant([0.1, 0.9, 0.8, 0.2, 0.3, 0.3], tf.float32)  # per example; the 3 packs draw 0.1, 0.8, 0.3
    r, f = np.array([1.0, -2.0, 0.5]), np.array([-1.5, 2.5, 0.25])
    got = gan.discriminator_loss(tf.constant(r, tf.float32), tf.constant(f, tf.float32), 0, u).numpy()
    swap = np.array([True, False, True])  # u < 0.5
    real_t, fake_t = np.where(swap, 0.0, 1.0), np.where(swap, 1.0, 0.0)
    bce = lambda logit, t: -(t * np.log(sig(logit)) + (1 - t) * np.log(1 - sig(logit)))
    np.testing.assert_allclose(got, bce(r, real_t) + bce(f, fake_t), rtol=1e-5)
