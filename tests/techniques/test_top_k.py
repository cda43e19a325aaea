"""TopK: G's update against a numpy computation that keeps the k best-rated fakes; schedule; arguments."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tests.reference import LATENT, check_one_update, compiled, tanh_critic, tanh_critic_numpy, weights64

T = ts.techniques


def linear_generator(seed=2):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(2, bias_initializer="random_normal")])


@pytest.mark.parametrize("step, kept", [(3, 4), (7, 2)])
def test_top_k_in_one_generator_update(step, kept):
    """TopK(ν = 0.25, γ = 0.5, T = 2) at generator step t keeps k = ⌈8·max(ν, γ^⌊t/2⌋)⌉ of 8 fakes (t = 3:
    4, t = 7: 2): G descends the mean NS loss softplus(−D(G(z))) over the k fakes with the highest D."""
    lr = 0.3
    g, d = linear_generator(), tanh_critic()
    gan = compiled(ts.NonSaturatingGAN(g, d, latent_dim=LATENT, techniques=[
        T.TopK(min_fraction=0.25, decay=0.5, decay_steps=2)]), 0.0)
    gan.g_optimizer.learning_rate.assign(lr)  # D stays as it is
    gan.g_optimizer.iterations.assign(step)
    x = np.random.RandomState(7).uniform(-1, 1, (8, 2))
    critic = weights64(d)
    z = gan._noise(2, step, tf.constant(x, tf.float32)).named("z").latent(LATENT).numpy().astype(np.float64)
    wg, bg = weights64(g)
    order = np.argsort(-tanh_critic_numpy(critic, z @ wg + bg))
    best = order[:kept]  # the selection is a constant of the update, made at the current weights

    def loss(p):
        scores = tanh_critic_numpy(critic, z @ p[0] + p[1])
        return np.mean(np.logaddexp(0.0, -scores[best]))

    want_loss = loss([wg, bg])
    logs = check_one_update(gan, x, g, loss, lr)
    np.testing.assert_allclose(float(logs["g_loss"]), want_loss, rtol=1e-5)


def test_the_kept_share_falls_geometrically_to_its_floor():
    top_k = T.TopK(min_fraction=0.3, decay=0.8, decay_steps=10)
    steps = np.array([0, 9, 10, 25, 40, 50, 60, 1000])
    want = np.maximum(0.3, 0.8 ** (steps // 10))
    np.testing.assert_allclose([float(top_k.fraction(s)) for s in steps], want, rtol=1e-6)


def test_ties_keep_every_tied_fake_and_average_over_them():
    """With losses (1, 2, 2, 5) and k = 2 the two tied 2s are both at the threshold: 3 kept, mean (1+2+2)/3."""
    top_k = T.TopK(min_fraction=0.5, decay=0.5, decay_steps=1)

    class Context:
        step = tf.constant(3, tf.int64)  # max(0.5, 0.5³): k = 2 of 4

    weighted = top_k.reweight_generator_loss(tf.constant([2.0, 5.0, 1.0, 2.0]), Context())
    np.testing.assert_allclose(weighted.numpy(), np.array([2.0, 0.0, 1.0, 2.0]) * 4 / 3, rtol=1e-6)


def test_a_replacing_technique_leaves_top_k_nothing_to_select():
    """With feature matching replacing the family loss, G's loss is the feature term alone (TopK is inert)."""
    def g_loss(techniques):
        g, d = linear_generator(), keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, name="hidden"),
                                                     keras.layers.Dense(1)])
        gan = compiled(ts.NonSaturatingGAN(g, d, latent_dim=LATENT, techniques=techniques), 0.1)
        gan.g_optimizer.iterations.assign(5)
        return float(gan.train_step(tf.constant(np.ones((8, 2)), tf.float32))["g_loss"])

    replace = lambda: T.FeatureMatching("hidden", replace=True)  # noqa: E731
    assert g_loss([replace(), T.TopK(0.25, decay=0.5, decay_steps=1)]) == g_loss([replace()])


@pytest.mark.parametrize("kwargs, match", [
    ({"min_fraction": 0.0}, "min_fraction"), ({"min_fraction": 1.5}, "min_fraction"),
    ({"decay": 0.0}, "decay"), ({"decay": True}, "decay"), ({"decay_steps": 0}, "decay_steps"),
    ({"decay_steps": 2.5}, "decay_steps")])
def test_bad_arguments_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        T.TopK(**kwargs)


def test_serialises_with_its_arguments():
    top_k = T.TopK(min_fraction=0.4, decay=0.9, decay_steps=7, name="keep_best")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(top_k))
    assert (type(restored), restored.name, restored.min_fraction, restored.decay, restored.decay_steps) == \
        (T.TopK, "keep_best", 0.4, 0.9, 7)
