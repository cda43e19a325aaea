"""Unrolled: the look-ahead D and G's update through it against numpy; the optimizers' rules against Keras.

Every family, 2 replicas and saving are tested together with the other techniques of issue 10 in
test_augment.py (every family) and test_replay.py (2 replicas, `.keras` round trip with XLA).
"""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tfgan_stable.techniques.unrolled import Unrolled, _FunctionalRule

LATENT = 3


def sig(t):
    return 1.0 / (1.0 + np.exp(-t))


def softplus(t):
    return np.logaddexp(0.0, t)


def linear_nets(seed=0):
    keras.utils.set_random_seed(seed)
    init = keras.initializers.RandomNormal(stddev=0.7, seed=seed)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(2, kernel_initializer=init,
                                                                      bias_initializer=init)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer=init, bias_initializer=init)])
    return g, d


def ns_d_gradient(w, b, x, f):
    """Gradient of mean_i softplus(−D(x_i)) + softplus(D(f_i)) for the linear critic D(x) = x·w + b."""
    dr, df = x @ w + b, f @ w + b
    return (-sig(-dr)[:, None] * x + sig(df)[:, None] * f).mean(0), (-sig(-dr) + sig(df)).mean()


def numpy_unroll(w, b, x, f, lr, k):
    for _ in range(k):
        gw, gb = ns_d_gradient(w, b, x, f)
        w, b = w - lr * gw, b - lr * gb
    return w, b


OPTIMIZERS = {
    "sgd": lambda: keras.optimizers.SGD(0.1),
    "sgd_nesterov_decay_clip": lambda: keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01,
                                                            clipnorm=0.5),
    "adam_schedule": lambda: keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.01, 1, 0.5),
                                                   beta_1=0.5),
    "rmsprop_centered_momentum": lambda: keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "rmsprop": lambda: keras.optimizers.RMSprop(0.01),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_functional_update_rules_equal_the_keras_optimizers(name):
    """Three functional updates from a non-fresh optimizer state equal three real `apply_gradients`."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    variables = model.trainable_variables
    opt = OPTIMIZERS[name]()
    opt.build(variables)
    rng = np.random.RandomState(0)
    grads = [[tf.constant(rng.normal(size=v.shape), tf.float32) for v in variables] for _ in range(4)]
    opt.apply_gradients(zip(grads[0], variables))  # momenta, moments and the step count are no longer initial
    rule = _FunctionalRule(opt, variables)
    weights, state = [tf.convert_to_tensor(v) for v in variables], rule.initial_state()
    for i in range(3):
        weights, state = rule.apply(weights, grads[i + 1], state, opt.iterations + i)
    before = [v.numpy() for v in variables]
    for i in range(3):
        opt.apply_gradients(zip(grads[i + 1], variables))
    for w, v, b in zip(weights, variables, before):
        np.testing.assert_allclose(w.numpy(), v.numpy(), rtol=1e-5, atol=1e-6)
        assert np.abs(v.numpy() - b).max() > 1e-3


def test_lookahead_weights_equal_numpy_and_leave_d_untouched():
    g, d = linear_nets()
    gan = ts.NonSaturatingGAN(g, d, latent_dim=LATENT, techniques=[Unrolled(steps=3)])
    gan.compile(d_optimizer=keras.optimizers.SGD(0.3), g_optimizer=keras.optimizers.SGD(0.1))
    rng = np.random.RandomState(1)
    x, f = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    before = [v.numpy() for v in d.weights]
    weights = gan.techniques[0].unrolled_weights(gan, tf.constant(x, tf.float32), tf.constant(f, tf.float32))
    w0, b0 = (v.astype(np.float64) for v in before)
    w, b = numpy_unroll(w0[:, 0], b0[0], x, f, 0.3, 3)
    np.testing.assert_allclose(weights[0].numpy()[:, 0], w, rtol=1e-5)
    np.testing.assert_allclose(weights[1].numpy()[0], b, rtol=1e-5)
    for v, b in zip(d.weights, before):
        np.testing.assert_array_equal(v.numpy(), b)
    assert int(gan.d_optimizer.iterations.numpy()) == 0


@pytest.mark.parametrize("through", [True, False])
def test_generator_update_uses_the_lookahead_discriminator(through):
    """One train_step, k = 1, SGD, NS loss, linear G and D. D's update is the ordinary one (and the G
    update leaves D alone); G's update is −lr·∇ of mean softplus(−D_θ'(G(z))) with
    θ' = θ − lr_D·∇L_D(θ; x, G(z)), differentiated through θ' (Metz et al.) or with θ' held fixed.
    Numpy: finite differences."""
    lr_d, lr_g, batch = 0.5, 0.2, 6
    g, d = linear_nets(seed=3)
    gan = ts.NonSaturatingGAN(g, d, latent_dim=LATENT, seed=2,
                              techniques=[Unrolled(steps=1, backprop_through_unroll=through)])
    gan.compile(d_optimizer=keras.optimizers.SGD(lr_d), g_optimizer=keras.optimizers.SGD(lr_g))
    x = np.random.RandomState(4).normal(size=(batch, 2))
    real = tf.constant(x, tf.float32)
    z_d = gan._noise(1, 0, real).named("z").latent(LATENT).numpy().astype(np.float64)
    z_g = gan._noise(2, 0, real).named("z").latent(LATENT).numpy().astype(np.float64)
    A, c = (v.numpy().astype(np.float64) for v in g.weights)
    w, b = (v.numpy().astype(np.float64) for v in d.weights)
    w, b = w[:, 0], b[0]
    gan.train_step(real)

    # D: the ordinary NS update on G's fakes of the D update (untouched by the G update's look-ahead).
    gw, gb = ns_d_gradient(w, b, x, z_d @ A + c)
    w1, b1 = w - lr_d * gw, b - lr_d * gb
    np.testing.assert_allclose(d.weights[0].numpy()[:, 0], w1, rtol=1e-5)
    np.testing.assert_allclose(d.weights[1].numpy()[0], b1, rtol=1e-5)

    def g_loss(A, c, frozen=None):
        f = z_g @ A + c
        w2, b2 = numpy_unroll(w1, b1, x, f if frozen is None else frozen, lr_d, 1)
        return softplus(-(f @ w2 + b2)).mean()

    f0 = z_g @ A + c
    loss = (lambda A, c: g_loss(A, c)) if through else (lambda A, c: g_loss(A, c, frozen=f0))
    grads, h = [], 1e-6
    for which, p in enumerate((A, c)):
        grad = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            up, down = p.copy(), p.copy()
            up[i] += h
            down[i] -= h
            args_up = (up, c) if which == 0 else (A, up)
            args_down = (down, c) if which == 0 else (A, down)
            grad[i] = (loss(*args_up) - loss(*args_down)) / (2 * h)
        grads.append(grad)
    np.testing.assert_allclose(g.weights[0].numpy(), A - lr_g * grads[0], atol=2e-6)
    np.testing.assert_allclose(g.weights[1].numpy(), c - lr_g * grads[1], atol=2e-6)
    # The two choices differ measurably here, so the comparison above tells them apart.
    other = (lambda A, c: g_loss(A, c, frozen=f0)) if through else (lambda A, c: g_loss(A, c))
    alt = (other(A, c + np.array([h, 0])) - other(A, c - np.array([h, 0]))) / (2 * h)
    assert abs(alt - grads[1][0]) > 1e-3
    np.testing.assert_allclose(d.weights[0].numpy()[:, 0], w1, rtol=1e-5)  # still D's own update only


def test_config_round_trip():
    t = Unrolled(steps=3, backprop_through_unroll=False, name="look")
    clone = Unrolled.from_config(t.get_config())
    assert clone.get_config() == t.get_config() == {"name": "look", "steps": 3, "backprop_through_unroll": False}


@pytest.mark.parametrize("kwargs, name", [({"steps": 0}, "steps"), ({"steps": 2.0}, "steps"),
                                          ({"steps": True}, "steps"),
                                          ({"backprop_through_unroll": 1}, "backprop_through_unroll")])
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Unrolled(**kwargs)


def test_an_optimizer_without_a_functional_rule_is_refused():
    g, d = linear_nets()
    gan = ts.NonSaturatingGAN(g, d, latent_dim=LATENT, techniques=[Unrolled(steps=1)])
    gan.compile(d_optimizer=keras.optimizers.Adagrad(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    with pytest.raises(ValueError, match="d_optimizer"):
        gan.train_step(tf.zeros((4, 2)))


def test_a_weight_with_zero_gradient_under_adam_keeps_the_generator_finite():
    """A maxout piece that no sample selects has an exactly zero gradient, so the look-ahead Adam's second
    moment v is 0 there, and differentiating √v gave ∞ · 0 = NaN in G's first update (seen with XLA on
    the grid benchmark's maxout MLP). With derivative 0 there (the subgradient of |g| at 0), G's update
    is finite, and the same with and without XLA."""
    results = {}
    for compiled in (False, True):
        keras.utils.set_random_seed(0)
        gan = ts.NonSaturatingGAN(
            ts.nets.mlp_generator(2), ts.nets.mlp_discriminator(),
            latent_dim=2, seed=0, techniques=[Unrolled(steps=1)])
        gan.compile(d_optimizer=keras.optimizers.Adam(1e-4, 0.5), g_optimizer=keras.optimizers.Adam(1e-4, 0.5),
                    jit_compile=compiled)
        start = [w.numpy() for w in gan.generator.weights]
        gan.fit(ts.data.toy_dataset("grid25", batch_size=100, seed=0), epochs=1, steps_per_epoch=1, verbose=0)
        results[compiled] = [w.numpy() for w in gan.generator.weights]
        assert all(np.isfinite(w).all() for w in results[compiled]), compiled
        assert max(np.abs(a - b).max() for a, b in zip(results[compiled], start)) > 1e-5  # G moved (lr 1e-4)
    for a, b in zip(results[False], results[True]):
        np.testing.assert_allclose(a, b, atol=1e-6)
