"""DiffAugment against numpy (each policy, its draws, its gradient, a D update); every family trained with
the techniques of issue 10 together (DiffAugment, Unrolled, ExperienceReplay)."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tests.conditioning import is_conditional, labels_for
from tests.family_nets import make_gan
from tfgan_stable.distribute import StepNoise
from tfgan_stable.techniques.augment import DiffAugment
from tfgan_stable.techniques.replay import ExperienceReplay
from tfgan_stable.techniques.unrolled import Unrolled

LATENT = 3
H, W, C = 16, 8, 3  # shifts up to 2 rows / 1 column; an 8 x 4 cut-out


def sig(t):
    return 1.0 / (1.0 + np.exp(-t))


def attached(policy, shape=(H, W, C), **kwargs):
    t = DiffAugment(policy, **kwargs)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(int(np.prod(shape))), keras.layers.Reshape(shape)])
    d = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(1)])
    gan = ts.NonSaturatingGAN(g, d, latent_dim=LATENT, techniques=[t])
    return t, gan


def draws(t, n, seed=0):
    noise = StepNoise.for_replica(tf.constant([seed, 1], tf.int64), n)
    return t.draw(noise, tf.zeros((n, H, W, C)), "discriminator")


def numpy_augment(x, p, policy, cut=(H // 2, W // 2)):
    x = x.astype(np.float64).copy()
    n = len(x)
    for name in policy.split(","):
        if name == "color":
            x = x + p["brightness"].reshape(n, 1, 1, 1)
            m = x.mean(axis=3, keepdims=True)
            x = (x - m) * p["saturation"].reshape(n, 1, 1, 1) + m
            m = x.mean(axis=(1, 2, 3), keepdims=True)
            x = (x - m) * p["contrast"].reshape(n, 1, 1, 1) + m
        elif name == "translation":
            out = np.zeros_like(x)
            _, rows, cols, _ = x.shape
            for i, (th, tw) in enumerate(p["shift"]):  # out[h, w] = x[h + th, w + tw] where that exists
                out[i, max(-th, 0):rows - max(th, 0), max(-tw, 0):cols - max(tw, 0)] = \
                    x[i, max(th, 0):rows - max(-th, 0), max(tw, 0):cols - max(-tw, 0)]
            x = out
        else:
            for i, (r, c) in enumerate(p["corner"]):
                x[i, max(r, 0):max(r + cut[0], 0), max(c, 0):max(c + cut[1], 0)] = 0.0
    return x


def as_numpy(params):
    return {k: v.numpy() for k, v in params.items()}


def test_draws_cover_the_papers_ranges_independently_for_real_and_fake():
    t, _ = attached("color,translation,cutout")
    d = draws(t, 4000)
    real, fake = as_numpy(d["real"]), as_numpy(d["fake"])
    for p in (real, fake):
        for name, low, high in (("brightness", -0.5, 0.5), ("saturation", 0.0, 2.0), ("contrast", 0.5, 1.5)):
            assert p[name].shape == (4000, 1, 1, 1) and low <= p[name].min() and p[name].max() < high, name
            assert abs(p[name].mean() - (low + high) / 2) < 0.05, name
        assert sorted(set(p["shift"][:, 0])) == [-2, -1, 0, 1, 2] and sorted(set(p["shift"][:, 1])) == [-1, 0, 1]
        # Centre uniform over 0..H-1 (0..H for an even cut-out, as in the authors' code), corner = centre - cut // 2.
        assert sorted(set(p["corner"][:, 0])) == list(range(-4, H - 4 + 1))
        assert sorted(set(p["corner"][:, 1])) == list(range(-2, W - 2 + 1))
    assert np.abs(real["brightness"] - fake["brightness"]).max() > 0.5


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout", "cutout,color"])
def test_each_policy_against_numpy(policy):
    t, _ = attached(policy)
    x = np.random.RandomState(1).uniform(-1, 1, (64, H, W, C)).astype(np.float32)
    p = draws(t, 64, seed=3)["fake"]
    got = t.augment(tf.constant(x), p).numpy()
    np.testing.assert_allclose(got, numpy_augment(x, as_numpy(p), policy), atol=1e-5)
    assert np.abs(got - x).max() > 0.1


def test_the_augmentation_is_differentiable_with_the_numpy_gradient():
    """T is affine in x for fixed parameters: the gradient of Σ V·T(x) is checked by finite differences."""
    t, _ = attached("color,translation,cutout")
    rng = np.random.RandomState(2)
    x = rng.uniform(-1, 1, (2, H, W, C)).astype(np.float32)
    v = rng.normal(size=(2, H, W, C))
    p = draws(t, 2, seed=5)["real"]
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.reduce_sum(tf.constant(v, tf.float32) * t.augment(xt, p))
    grad = tape.gradient(y, xt).numpy()
    pn = as_numpy(p)
    want = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = 1.0
        want[i] = (v * (numpy_augment(x + e, pn, t.policy) - numpy_augment(x - e, pn, t.policy))).sum() / 2
    np.testing.assert_allclose(grad, want, atol=1e-4)
    assert np.count_nonzero(want) > x.size // 2


def test_a_discriminator_update_sees_real_and_fake_augmented_with_their_own_draws():
    """Linear D on flattened images, NS loss, SGD: D's step equals numpy's on T(x) and T(G(z))."""
    shape, lr = (8, 8, 1), 0.5
    keras.utils.set_random_seed(0)
    t, gan = attached("translation,cutout", shape=shape)
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(0.0))
    x = np.random.RandomState(3).uniform(-1, 1, (6, *shape)).astype(np.float32)
    real = tf.constant(x)
    noise = gan._noise(1, 0, real)
    z = noise.named("z").latent(LATENT)
    f = gan.generator(z).numpy().astype(np.float64)
    p = t.draw(noise.named(t.name), real, "discriminator")
    w, b = (v.numpy().astype(np.float64) for v in gan.discriminator.weights)
    gan.train_step(real)
    tr = numpy_augment(x, as_numpy(p["real"]), t.policy, cut=(4, 4)).reshape(6, -1)
    tf_ = numpy_augment(f, as_numpy(p["fake"]), t.policy, cut=(4, 4)).reshape(6, -1)
    dr, df = tr @ w[:, 0] + b[0], tf_ @ w[:, 0] + b[0]
    grad_w = (-sig(-dr)[:, None] * tr + sig(df)[:, None] * tf_).mean(0)
    grad_b = (-sig(-dr) + sig(df)).mean()
    np.testing.assert_allclose(gan.discriminator.weights[0].numpy()[:, 0], w[:, 0] - lr * grad_w, atol=1e-6)
    np.testing.assert_allclose(gan.discriminator.weights[1].numpy()[0], b[0] - lr * grad_b, atol=1e-6)


@pytest.mark.parametrize("name", sorted(ts.FAMILIES))
def test_every_family_trains_with_diff_augment_unrolled_and_replay(name):
    """Two steps of each family with the three techniques at once, on 8x8 images: finite logs, every
    player and the replay buffer move, and G's gradient passes through the augmentation and the unroll.
    A conditional family refuses replay (the buffer keeps no labels) and trains with the other two."""
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(64, activation="tanh"),
                          keras.layers.Reshape((8, 8, 1))])
    d = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(8, activation="tanh"),
                          keras.layers.Dense(1)])
    replay = ExperienceReplay(buffer_size=16, fraction=0.5)
    techniques = [DiffAugment(), Unrolled(steps=1), replay]
    if is_conditional(name):
        with pytest.raises(ValueError, match="ExperienceReplay cannot be used with the conditional family"):
            make_gan(name, g, d, latent_dim=LATENT, techniques=techniques)
        techniques = [DiffAugment(), Unrolled(steps=1)]
    gan = make_gan(name, g, d, latent_dim=LATENT, n_critic=1, techniques=techniques)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-2), run_eagerly=True)
    nets = gan.generator.weights + gan.discriminator.weights  # make_gan may wrap or replace the nets
    before = [v.numpy() for v in nets]
    x = np.random.RandomState(0).uniform(-1, 1, (16, 8, 8, 1)).astype(np.float32)
    y = labels_for(len(x)) if is_conditional(name) else None
    history = gan.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False).history
    assert all(np.isfinite(v[-1]) for v in history.values()), history
    for v, b in zip(nets, before):  # (a critic's output bias gets no gradient)
        assert "kernel" not in v.path or np.abs(v.numpy() - b).max() > 1e-4, v.path
    assert int(gan.d_optimizer.iterations.numpy()) == 2
    assert is_conditional(name) or int(replay.stored.numpy()) == 16


def test_config_round_trip():
    t = DiffAugment("cutout, translation", translation_ratio=0.25, cutout_ratio=0.375, name="aug")
    clone = DiffAugment.from_config(t.get_config())
    assert clone.get_config() == t.get_config()
    assert t.get_config() == {"name": "aug", "policy": "cutout,translation", "translation_ratio": 0.25,
                              "cutout_ratio": 0.375}


@pytest.mark.parametrize("kwargs, name", [({"policy": "colour"}, "policy"), ({"policy": "color,color"}, "policy"),
                                          ({"policy": 3}, "policy"), ({"translation_ratio": -0.1}, "translation_ratio"),
                                          ({"translation_ratio": 2}, "translation_ratio"),
                                          ({"cutout_ratio": "half"}, "cutout_ratio")])
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        DiffAugment(**kwargs)


def test_samples_that_are_not_images_are_refused_at_attach():
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="generator"):
        ts.NonSaturatingGAN(g, d, latent_dim=LATENT, techniques=[DiffAugment()])
