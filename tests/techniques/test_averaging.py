"""Weight averages over training (historical averaging, EMA) against numpy recursions on recorded weights."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tests.reference import LATENT, compiled

T = ts.techniques


def nets():
    keras.utils.set_random_seed(4)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(8, activation="tanh"),
                          keras.layers.BatchNormalization(), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
    return g, d


class Recorder(keras.callbacks.Callback):
    """Keeps the trained nets' weights after every step."""

    def __init__(self):
        super().__init__()
        self.generator, self.discriminator, self.latents = [], [], []

    def on_train_batch_end(self, batch, logs=None):
        self.generator.append([w.numpy().astype(np.float64) for w in self.model.generator.weights])
        self.latents += [t.z.numpy().astype(np.float64) for t in self.model.techniques if isinstance(t, LatentRecorder)]
        self.discriminator.append([w.numpy().astype(np.float64) for w in self.model.discriminator.trainable_weights])


class LatentRecorder(T.Technique):
    """Keeps the latent batch of the last generator update (to replay the EMA generator's statistics)."""

    def attach(self, gan):
        self.z = self.add_weight(shape=(8, LATENT), initializer="zeros", trainable=False, name="z")
        super().attach(gan)

    def after_generator_update(self, gan, ctx):
        self.z.assign(ctx.z)


def fit(technique, steps=5):
    g, d = nets()
    techniques = technique if isinstance(technique, list) else [technique]
    gan = compiled(ts.NonSaturatingGAN(g, d, latent_dim=LATENT, techniques=techniques), 0.2)
    initial = ([w.numpy().astype(np.float64) for w in g.weights],
               [w.numpy().astype(np.float64) for w in d.trainable_weights])
    recorder = Recorder()
    x = np.random.RandomState(0).uniform(-1, 1, (8 * steps, 2)).astype(np.float32)
    history = gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(8), epochs=1, verbose=0, callbacks=[recorder])
    return gan, initial, recorder, history


def test_historical_averaging_keeps_the_mean_of_past_weights():
    """θ̄ after t updates is the mean of θ₀ … θ_t; the term is w·‖θ − θ̄‖² before each update."""
    gan, (g0, d0), recorder, _ = fit(T.HistoricalAveraging(weight=0.5, player="both"))
    technique = gan.techniques[0]
    d_history = [d0] + recorder.discriminator
    g_trainable = [i for i, w in enumerate(gan.generator.weights) if w.trainable]
    g_history = [[g0[i] for i in g_trainable]] + [[s[i] for i in g_trainable] for s in recorder.generator]
    for player, history in (("discriminator", d_history), ("generator", g_history)):
        want = [np.mean([snapshot[i] for snapshot in history], axis=0) for i in range(len(history[0]))]
        for got, expected in zip(technique.means[player], want):
            np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)
        assert float(technique.counts[player].numpy()) == len(history)
    # The term of the last D update: θ₄ against the mean of θ₀ … θ₄ (logged values are epoch means,
    # so recompute the last step's from a fresh step with lr 0 instead).
    gan.d_optimizer.learning_rate.assign(0.0)
    gan.g_optimizer.learning_rate.assign(0.0)
    gan.reset_metrics()
    logs = gan.train_step(tf.zeros((8, 2)))
    theta, mean = d_history[-1], [np.mean([s[i] for s in d_history], axis=0) for i in range(len(d_history[0]))]
    np.testing.assert_allclose(float(logs["d_historical_averaging"]),
                               0.5 * sum(np.sum((a - b) ** 2) for a, b in zip(theta, mean)), rtol=1e-4)


@pytest.mark.parametrize("start_step", [0, 3])
def test_ema_follows_the_recursion_and_is_what_generate_and_export_use(start_step, tmp_path):
    """θ̄_t = d·θ̄_{t−1} + (1 − d)·θ_t from update `start_step` on (copies before); the averaged G's BN
    statistics follow its own activations on each update's z: μ̄ ← m·μ̄ + (1 − m)·mean(h), likewise the
    variance, with h = tanh(z·W̄ + b̄) the input of its BN layer (not the trained G's statistics)."""
    decay, momentum = 0.7, 0.99  # Keras' BatchNormalization default momentum
    gan, (g0, _), recorder, _ = fit([T.EMA(decay=decay, start_step=start_step), LatentRecorder()])
    trainable = [w.trainable for w in gan.generator.weights]  # kernel, bias, γ, β, μ̄, σ̄², kernel, bias
    assert trainable == [True, True, True, True, False, False, True, True]
    average = g0
    for t, (snapshot, z) in enumerate(zip(recorder.generator, recorder.latents), start=1):
        average = [(decay * a + (1 - decay) * w) if train and t > start_step else (w if train else a)
                   for a, w, train in zip(average, snapshot, trainable)]
        h = np.tanh(z @ average[0] + average[1])
        average[4] = momentum * average[4] + (1 - momentum) * h.mean(axis=0)
        average[5] = momentum * average[5] + (1 - momentum) * h.var(axis=0)
    assert not np.allclose(average[4], recorder.generator[-1][4], atol=1e-4)  # not the trained G's statistics
    ema = gan.techniques[0].average
    for got, expected in zip(ema.weights, average):
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert gan.sampler is ema
    z = np.random.RandomState(1).normal(size=(4, LATENT)).astype(np.float32)
    np.testing.assert_allclose(gan.generate(z=z).numpy(), ema(z, training=False).numpy(), rtol=1e-6)
    np.testing.assert_allclose(gan.generate(z=z, raw=True).numpy(), gan.generator(z, training=False).numpy(),
                               rtol=1e-6)
    assert not np.allclose(gan.generate(z=z).numpy(), gan.generate(z=z, raw=True).numpy())
    gan.export_generator(str(tmp_path / "ema"))
    served = tf.saved_model.load(str(tmp_path / "ema")).signatures["serving_default"](z=tf.constant(z))["images"]
    np.testing.assert_allclose(served.numpy(), ema(z, training=False).numpy(), rtol=1e-5, atol=1e-6)
