"""The ImageGrid callback, driven by a tiny stand-in model with `latent_dim` and `generate`."""
import io

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgan_stable import sampling
from tfgan_stable.callbacks import ImageGrid
from tfgan_stable.images import image_grid


class StandIn(keras.Model):
    """Trains a one-unit regression; `generate` maps z to 8x8 RGB images whose colour depends on z."""

    latent_dim = 3

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.generated_from = []

    def call(self, x):
        return self.dense(x)

    def generate(self, num=None, z=None, seed=0, truncation=None):
        if z is None:  # as GAN.generate draws it
            z = sampling.latent_normal(num, self.latent_dim, seed, truncation)
        self.generated_from.append(np.asarray(z))
        return expected_images(z)


def expected_images(z):
    z = np.asarray(z, np.float32)
    return np.broadcast_to(np.tanh(z)[:, None, None, :], (len(z), 8, 8, 3))


def _fit(callback, epochs=4):
    model = StandIn()
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((4, 2), np.float32)
    model.fit(x, x[:, :1], epochs=epochs, batch_size=4, verbose=0, callbacks=[callback])
    return model


def test_writes_a_png_every_n_epochs_from_fixed_latents(tmp_path):
    model = _fit(ImageGrid(tmp_path / "samples", num_images=6, seed=3, every_n_epochs=2))
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["epoch_0002.png", "epoch_0004.png"]
    z = sampling.latent_normal(6, 3, 3).numpy()  # the same z as generate(num=6, seed=3)
    assert len(model.generated_from) == 2
    for used in model.generated_from:
        np.testing.assert_array_equal(used, z)
    with Image.open(tmp_path / "samples" / "epoch_0004.png") as png:
        written = np.asarray(png)
    expected = image_grid(expected_images(z))  # 6 images: 2 rows x 3 columns of 8x8
    assert written.shape == (16, 24, 3)
    np.testing.assert_array_equal(written, expected)


def test_tensorboard_image_summaries(tmp_path):
    _fit(ImageGrid(tmp_path / "png", num_images=4, seed=0, tensorboard_dir=tmp_path / "tb"), epochs=2)
    z = sampling.latent_normal(4, 3, 0).numpy()
    found = {}
    for event_file in (tmp_path / "tb").iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                if value.tag == "samples":
                    encoded = tf.make_ndarray(value.tensor)  # [width, height, png]
                    found[event.step] = np.asarray(Image.open(io.BytesIO(encoded[2])))
    assert sorted(found) == [1, 2]
    np.testing.assert_array_equal(found[2], image_grid(expected_images(z)))


def test_model_without_generate_is_rejected(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((4, 2), np.float32)
    with pytest.raises(TypeError, match="needs a model with a `latent_dim` attribute and a `generate"):
        model.fit(x, x[:, :1], epochs=1, verbose=0, callbacks=[ImageGrid(tmp_path)])


@pytest.mark.parametrize("kwargs, message", [
    (dict(directory=None), "`directory` must be a path"),
    (dict(directory="d", num_images=0), "`num_images` must be a positive integer"),
    (dict(directory="d", every_n_epochs=1.5), "`every_n_epochs` must be a positive integer"),
    (dict(directory="d", seed="s"), "`seed` must be an integer"),
    (dict(directory="d", tensorboard_dir=3), "`tensorboard_dir` must be a path or None"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ImageGrid(**kwargs)


def test_tensorboard_on_a_real_gan_gets_every_loss_metric_and_image_grid(tmp_path):
    """Keras' TensorBoard callback on a GAN with a technique and sample metrics: every logged value is in
    the event files (train and validation), and ImageGrid's grids are there as images."""
    import tfgan_stable as ts

    mixture = ts.data.toy_distribution("ring8")
    keras.utils.set_random_seed(0)
    gan = ts.NonSaturatingGAN(ts.nets.mlp_generator(2, units=(16,)), ts.nets.mlp_discriminator(units=(16,)),
                              latent_dim=2, techniques=[ts.techniques.R1(1.0)])
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    x = np.asarray(mixture.sample(64, seed=0), np.float32)
    callbacks = [ts.metrics.SampleMetrics(ts.metrics.mode_metrics(mixture.centers, mixture.std), num_samples=200),
                 keras.callbacks.TensorBoard(str(tmp_path / "tb")),
                 ImageGrid(tmp_path / "png", num_images=64, tensorboard_dir=tmp_path / "tb" / "images")]
    history = gan.fit(x, batch_size=16, epochs=2, verbose=0, validation_data=(x,), callbacks=callbacks).history

    def scalars(folder):
        found = {}
        for event_file in (tmp_path / "tb" / folder).glob("events.out.tfevents.*"):
            for event in tf.compat.v1.train.summary_iterator(str(event_file)):
                for value in event.summary.value:
                    if value.tag.startswith("epoch_"):
                        found.setdefault(value.tag[len("epoch_"):], {})[event.step] = float(
                            tf.make_ndarray(value.tensor))
        return found

    train, validation = scalars("train"), scalars("validation")
    for name, values in history.items():
        written = validation[name[len("val_"):]] if name.startswith("val_") else train[name]
        np.testing.assert_allclose([written[step] for step in sorted(written)], values, rtol=1e-6)
    assert {"d_loss", "g_loss", "loss", "d_real", "d_fake", "r1_penalty", "modes", "high_quality"} <= set(train)
    images = [value for event_file in (tmp_path / "tb" / "images").iterdir()
              for event in tf.compat.v1.train.summary_iterator(str(event_file))
              for value in event.summary.value if value.tag == "samples"]
    assert len(images) == 2
    with Image.open(io.BytesIO(tf.make_ndarray(images[-1].tensor)[2])) as png:
        assert png.size[0] > 0
