"""Progressively growing nets: the fade-in maths, what D sees at each level, the schedule inside `fit`."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tfgan_stable.layers import growth_at, set_growth

SHAPE, CHANNELS, LATENT = (16, 16, 1), (8, 8, 4), 6


def nets():
    keras.utils.set_random_seed(0)
    return (ts.nets.progressive_generator(LATENT, SHAPE, CHANNELS),
            ts.nets.progressive_discriminator(SHAPE, CHANNELS))


def test_schedule_follows_the_paper_s_stable_then_fade_phases():
    expected = {0: (0, 1.0), 2: (0, 1.0), 3: (1, 0.0), 4: (1, 0.5), 5: (1, 1.0), 7: (1, 1.0), 8: (2, 0.0),
                9: (2, 0.5), 10: (2, 1.0), 1000: (2, 1.0)}
    assert {t: growth_at(t, 3, stable_steps=3, fade_steps=2) for t in expected} == expected


def _up(image, side):
    factor = side // image.shape[1]
    return image.repeat(factor, axis=1).repeat(factor, axis=2)


@pytest.mark.parametrize("level, alpha", [(0, 0.3), (1, 0.3), (2, 0.75), (2, 1.0)])
def test_generator_shows_the_active_level_faded_over_the_previous(level, alpha):
    g, _ = nets()
    z = np.random.default_rng(1).normal(size=(4, LATENT)).astype("float32")
    rgb = keras.Model(g.inputs, [g.get_layer(f"to_rgb_{l}").output for l in range(3)])(z)
    rgb = [_up(np.asarray(r), 16) for r in rgb]
    blend = rgb[0] if level == 0 else alpha * rgb[level] + (1 - alpha) * rgb[level - 1]
    assert set_growth(g, level, alpha) == 1
    np.testing.assert_allclose(g(z).numpy(), np.tanh(blend), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("level, alpha", [(0, 1.0), (1, 0.4), (1, 1.0), (2, 0.6)])
def test_discriminator_sees_the_image_only_at_the_active_level_s_resolution(level, alpha):
    """At level λ (any fade) D's logit depends on x only through its area-downsampling to 4·2^λ: replacing x
    by that downsampling, upsampled back, changes nothing; at the full level with α = 1 it does."""
    _, d = nets()
    x = np.random.default_rng(2).uniform(-1, 1, (4, *SHAPE)).astype("float32")
    side = 4 * 2 ** level
    coarse = _up(x.reshape(4, side, 16 // side, side, 16 // side, 1).mean(axis=(2, 4)), 16)
    set_growth(d, level, alpha)
    np.testing.assert_allclose(d(coarse).numpy(), d(x).numpy(), rtol=1e-5, atol=1e-5)
    if level < 2:  # the full level sees the detail that the coarse image lacks
        set_growth(d, 2, 1.0)
        assert np.abs(d(coarse).numpy() - d(x).numpy()).max() > 1e-3


class Record(keras.callbacks.Callback):
    """(level, alpha) of G and D seen by each batch, and the top level's toRGB weights after each batch."""

    def __init__(self):
        super().__init__()
        self.seen, self.top = [], []

    def on_train_batch_begin(self, batch, logs=None):
        gan = self.model
        self.seen.append([(int(l.level.numpy()), round(float(l.alpha.numpy()), 6))
                          for net in (gan.generator, gan.discriminator) for l in net._flatten_layers()
                          if isinstance(l, ts.layers.GrowingInput | ts.layers.GrowingOutput)])

    def on_train_batch_end(self, batch, logs=None):
        self.top.append(self.model.generator.get_layer("to_rgb_2").kernel.numpy().copy())


def test_a_fit_grows_to_the_full_resolution_and_exports_it(tmp_path):
    g, d = nets()
    gan = ts.NonSaturatingGAN(g, d, latent_dim=LATENT)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, 0.5), g_optimizer=keras.optimizers.Adam(1e-3, 0.5))
    before = g.get_layer("to_rgb_2").kernel.numpy().copy()
    record = Record()
    x = np.random.default_rng(3).uniform(-1, 1, (12 * 8, *SHAPE)).astype("float32")
    history = gan.fit(x, batch_size=8, epochs=1, verbose=0, shuffle=False,
                      callbacks=[ts.callbacks.ProgressiveGrowing(stable_steps=3, fade_steps=2), record]).history
    assert np.isfinite(history["d_loss"][-1]) and np.isfinite(history["g_loss"][-1])
    for step, states in enumerate(record.seen):  # every growing layer of both nets follows the schedule
        assert set(states) == {growth_at(step, 3, 3, 2)}, (step, states)
    assert [s[0] for s in record.seen][-1] == (2, 1.0)
    alphas = [s[0][1] for s in record.seen if s[0][0] == 1]
    assert alphas[:2] == [0.0, 0.5] and alphas[-1] == 1.0  # the fade-in runs 0 -> 1
    # the top level gets no gradient before it is faded in (steps 0-7), and trains once it is
    np.testing.assert_array_equal(record.top[7], before)
    assert not np.array_equal(record.top[-1], before)
    loaded = tf.saved_model.load(gan.export_generator(str(tmp_path / "gen")))
    z = ts.export.seed_latents([5, 6], LATENT)
    np.testing.assert_allclose(loaded.signatures["sample"](seed=tf.constant([5, 6], tf.int64))["images"].numpy(),
                               g(z).numpy(), atol=1e-5)
    reloaded = keras.models.load_model(_saved(g, tmp_path))  # the growth state is saved with the net
    np.testing.assert_allclose(reloaded(z).numpy(), g(z).numpy(), atol=1e-6)


def _saved(model, tmp_path):
    path = str(tmp_path / "g.keras")
    model.save(path)
    return path


def test_bad_shapes_and_schedules_are_refused():
    with pytest.raises(ValueError, match="4·2"):
        ts.nets.progressive_generator(LATENT, (28, 28, 1), CHANNELS)
    with pytest.raises(ValueError, match="one width per resolution"):
        ts.nets.progressive_discriminator(SHAPE, (8, 8))
    with pytest.raises(ValueError, match="fade_steps"):
        ts.callbacks.ProgressiveGrowing(stable_steps=3, fade_steps=0)
