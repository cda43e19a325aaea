"""Stacked pre-training: coarse-to-fine L1 generator pre-training, least-squares discriminator pre-training."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tfgan_stable import pretraining
from tfgan_stable.data import read_idx

LATENT = 16


@pytest.fixture(scope="module")
def digits(shared_data):
    images = read_idx(str(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz"))[:256]
    return (images[..., None] / 127.5 - 1.0).astype("float32")


def nets():
    keras.utils.set_random_seed(0)
    return (ts.nets.dcgan_generator(LATENT, (28, 28, 1), width=0.25),
            ts.nets.dcgan_discriminator((28, 28, 1), width=0.25, norm="layer"))


def test_stage_sizes_halve_the_side_down_to_the_smallest():
    assert pretraining.stage_sizes(64) == (4, 8, 16, 32, 64)
    assert pretraining.stage_sizes(32) == (4, 8, 16, 32)
    assert pretraining.stage_sizes(28) == (7, 14, 28)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 3)).astype("float32")
    blocks = x.reshape(2, 2, 4, 2, 4, 3).mean(axis=(2, 4))  # 4x4 blocks averaged: area resizing to 2x2
    np.testing.assert_allclose(pretraining._downsample(tf.constant(x), 2).numpy(), blocks, rtol=1e-6)


def test_generator_pre_training_lowers_the_l1_loss_stage_by_stage(digits):
    """Each stage (7x7, then 14x14, then 28x28) lowers the full-resolution L1 distance of G(z_i) to image i,
    measured independently in inference mode, by at least 10% (measured: 29%, 53% and 23%); one call over all
    stages returns each stage's falling losses."""
    generator, _ = nets()
    z = ts.sampling.latent_normal(len(digits), LATENT, ts.sampling.fold_in(3, 0)).numpy()  # image i's z_i

    def l1():
        return np.abs(generator(z, training=False).numpy() - digits).mean()

    optimizer = keras.optimizers.Adam(1e-3, beta_1=0.5)
    distances = [l1()]
    for size in pretraining.stage_sizes(28):
        history = pretraining.pretrain_generator(generator, digits, LATENT, stages=(size,), steps_per_stage=30,
                                                 batch_size=32, optimizer=optimizer, seed=3)
        assert list(history) == [size] and len(history[size]) == 30
        assert np.mean(history[size][-5:]) < np.mean(history[size][:5]), (size, history[size])
        distances.append(l1())
    assert all(after < 0.9 * before for before, after in zip(distances, distances[1:])), distances
    history = pretraining.pretrain_generator(nets()[0], digits, LATENT, steps_per_stage=3, batch_size=32)
    assert list(history) == [7, 14, 28]


def test_discriminator_pre_training_separates_real_from_generated(digits):
    generator, discriminator = nets()
    losses = pretraining.pretrain_discriminator(discriminator, generator, digits, LATENT, steps=30, batch_size=32,
                                                optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5]), losses
    fake = generator(ts.sampling.latent_normal(64, LATENT, 9), training=False)
    assert float(tf.reduce_mean(discriminator(digits[:64]))) > float(tf.reduce_mean(discriminator(fake))) + 0.5
    gan = ts.NonSaturatingGAN(generator, discriminator, latent_dim=LATENT)  # any family takes the nets over
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-4), g_optimizer=keras.optimizers.Adam(1e-4))
    history = gan.fit(digits[:64], batch_size=32, epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"][-1]) and np.isfinite(history["g_loss"][-1])


def test_bad_input_is_refused():
    generator, discriminator = nets()
    images = np.zeros((8, 28, 28, 1), np.float32)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        pretraining.pretrain_generator(generator, images + 255, LATENT)
    with pytest.raises(ValueError, match="`stages`"):
        pretraining.pretrain_generator(generator, images, LATENT, stages=(14, 7))
    with pytest.raises(ValueError, match="`stages`"):
        pretraining.pretrain_generator(generator, images, LATENT, stages=(5,))
    with pytest.raises(ValueError, match="latent_dim"):
        pretraining.pretrain_generator(generator, images, LATENT + 1)
    with pytest.raises(ValueError, match="batch_size"):
        pretraining.pretrain_generator(generator, images, LATENT, batch_size=16)
    with pytest.raises(ValueError, match="`images`"):
        pretraining.pretrain_discriminator(discriminator, generator, images[0], LATENT)
