"""Label tricks of the cross-entropy families: soft real/fake target ranges and flipping, per example (per
pack), as a training step really uses them and in the per-example loss, against numpy."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts

LATENT = 3


def sig(t):
    return 1.0 / (1.0 + np.exp(-t))


def bce(logit, t):
    return -(t * np.log(sig(logit)) + (1 - t) * np.log(1 - sig(logit)))


def test_a_training_step_uses_the_drawn_soft_and_flipped_targets_of_each_example():
    """Real example j is the one-hot e_j, fakes are 0, D is a zero linear critic (every logit 0), SGD. Then
    D's kernel after one step is w_j = −lr·(½ − t_real,j)/n, which reveals every real target, and its bias
    b = −lr·mean(1 − t_real − t_fake) the mean fake target. Expected targets: t_real ~ U(0.7, 1.2),
    t_fake ~ U(0, 0.3), swapped where the flip draw is below p, from the family's per-example draws."""
    n, lr, p = 64, 1.0, 0.25
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(n, kernel_initializer="zeros")])
    d = keras.Sequential([keras.Input((n,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    gan = ts.MinimaxGAN(g, d, latent_dim=LATENT, seed=11, label_noise=p, real_label_range=(0.7, 1.2),
                        fake_label_range=(0.0, 0.3))
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(0.0))
    real = tf.eye(n)
    gan.train_step(real)
    family = gan._noise(1, 0, real).named("family")
    flip = family.uniform().numpy() < p
    t_real = 0.7 + 0.5 * family.named("real_label").uniform().numpy().astype(np.float64)
    t_fake = 0.3 * family.named("fake_label").uniform().numpy().astype(np.float64)
    t_real, t_fake = np.where(flip, t_fake, t_real), np.where(flip, t_real, t_fake)
    w, b = d.weights[0].numpy()[:, 0].astype(np.float64), float(d.weights[1].numpy()[0])
    np.testing.assert_allclose(0.5 + w * n / lr, t_real, atol=1e-5)
    np.testing.assert_allclose(1 - (0.5 + w * n / lr).mean() + b / lr, t_fake.mean(), atol=1e-5)
    assert 5 <= flip.sum() <= 30  # some examples are flipped, most are not
    assert t_real[~flip].min() >= 0.7 and t_real[~flip].max() <= 1.2 and t_real[~flip].max() > 1.0
    assert t_real[flip].max() <= 0.3


@pytest.mark.parametrize("packing", [1, 2])
def test_per_example_loss_against_numpy(packing):
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(2)])
    pack = [ts.layers.Pack(packing)] if packing > 1 else []
    d = keras.Sequential([keras.Input((2,)), *pack, keras.layers.Dense(1)])
    gan = ts.NonSaturatingGAN(g, d, latent_dim=LATENT, label_noise=0.3, real_label_range=(0.7, 1.2),
                              fake_label_range=(0.0, 0.3))
    rng = np.random.RandomState(1)
    u = {k: rng.uniform(size=8).astype(np.float32) for k in ("flip", "real", "fake")}
    r, f = rng.normal(size=8 // packing), rng.normal(size=8 // packing)
    got = gan.discriminator_loss(tf.constant(r, tf.float32), tf.constant(f, tf.float32), 0,
                                 {k: tf.constant(v) for k, v in u.items()}).numpy()
    first = {k: v[::packing].astype(np.float64) for k, v in u.items()}  # each pack takes its first draw
    t_real, t_fake = 0.7 + 0.5 * first["real"], 0.3 * first["fake"]
    flip = first["flip"] < 0.3
    t_real, t_fake = np.where(flip, t_fake, t_real), np.where(flip, t_real, t_fake)
    np.testing.assert_allclose(got, bce(r, t_real) + bce(f, t_fake), rtol=1e-5)
    # One-sided smoothing alone: a fixed real target, no noise drawn.
    smooth = ts.MinimaxGAN(g, d, latent_dim=LATENT, real_label=0.9)
    assert smooth.discriminator_noise(None, None) is None
    np.testing.assert_allclose(smooth.discriminator_loss(tf.constant(r, tf.float32), tf.constant(f, tf.float32), 0,
                                                         None).numpy(), bce(r, 0.9) + bce(f, 0.0), rtol=1e-5)


@pytest.mark.parametrize("cls", [ts.MinimaxGAN, ts.NonSaturatingGAN, ts.DRAGAN])
def test_cross_entropy_families_train_and_round_trip_with_label_tricks(cls):
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    gan = cls(g, d, latent_dim=LATENT, label_noise=0.1, real_label_range=(0.7, 1.2), fake_label_range=(0.0, 0.3))
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(gan)))
    clone = keras.saving.deserialize_keras_object(config)
    keys = ("real_label", "label_noise", "real_label_range", "fake_label_range")
    assert {k: clone.get_config()[k] for k in keys} == {k: gan.get_config()[k] for k in keys}
    assert type(clone) is cls
    assert (clone.real_label_range, clone.fake_label_range, clone.label_noise) == ((0.7, 1.2), (0.0, 0.3), 0.1)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3), run_eagerly=True)
    x = np.random.RandomState(0).uniform(-1, 1, (16, 2)).astype(np.float32)
    history = gan.fit(x, batch_size=8, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in history.values()), history


@pytest.mark.parametrize("kwargs, name", [
    ({"real_label_range": (1.2, 0.7)}, "real_label_range"), ({"real_label_range": (0.7,)}, "real_label_range"),
    ({"real_label_range": 0.9}, "real_label_range"), ({"fake_label_range": (0.0, float("nan"))}, "fake_label_range"),
    ({"fake_label_range": ("0", "0.3")}, "fake_label_range"),
    ({"real_label": 0.9, "real_label_range": (0.7, 1.2)}, "real_label_range"),
    ({"label_noise": 1.5}, "label_noise")])
def test_bad_label_arguments_name_the_argument(kwargs, name):
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=name):
        ts.MinimaxGAN(g, d, latent_dim=LATENT, **kwargs)
