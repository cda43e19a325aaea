"""The layers inside a GAN trained with fit: 2 replicas vs 1 device (graph and XLA), and a short MNIST run."""
import keras
import numpy as np
import pytest

from tests.subproc import run_python

FIT_CODE = r"""
import json, shutil, tempfile
TMP = tempfile.mkdtemp()
import numpy as np, keras
import tfgan_stable as ts
from tfgan_stable.layers import (SpectralNormalization, VirtualBatchNormalization, MinibatchStdDev, SelfAttention,
                                 RefreshReferenceBatch, set_reference_batch)

one = tf.distribute.OneDeviceStrategy("/cpu:0")
two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
rng = np.random.RandomState(0)
images = np.tanh(rng.normal(size=(24, 8, 8, 1))).astype("float32")
z_ref = rng.normal(size=(16, 4)).astype("float32")

def nets(attention):
    keras.utils.set_random_seed(1)
    z = keras.Input((4,))
    h = keras.layers.Reshape((4, 4, 4))(keras.layers.Dense(64)(z))
    h = keras.layers.ReLU()(VirtualBatchNormalization(name="vbn")(h))
    g = keras.Model(z, keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh")(h))
    x = keras.Input((8, 8, 1))
    h = SpectralNormalization(keras.layers.Conv2D(8, 3, strides=2, padding="same"), seed=1, name="sn_conv")(x)
    h = keras.layers.LeakyReLU(0.2)(h)
    if attention:  # SAGAN-style, with its four SN projections
        h = SelfAttention(spectral_normalization=True, name="attention")(h)
    h = keras.layers.Flatten()(MinibatchStdDev(group_size=2)(h))
    d = keras.Model(x, SpectralNormalization(keras.layers.Dense(1), seed=2, name="sn_logit")(h))
    return g, d

def state(gan):
    sn = [l for l in gan.discriminator._flatten_layers() if isinstance(l, SpectralNormalization)]
    vbn = gan.generator.get_layer("vbn")
    return [l.u for l in sn] + [vbn.reference_mean, vbn.reference_mean_square, vbn.reference_size]

def copies(v):
    return [c.numpy() for c in v.value.values] if hasattr(v.value, "values") else [v.numpy()]

def train(strategy, family, jit):
    with strategy.scope():
        g, d = nets(attention=not jit)  # (attention doubles the XLA compilation time)
        gan = getattr(ts, family)(g, d, latent_dim=4, seed=0)
        gan.compile(d_optimizer=keras.optimizers.Adam(1e-2, 0.5), g_optimizer=keras.optimizers.Adam(1e-2, 0.5),
                    jit_compile=jit)
    set_reference_batch(g, z_ref)
    initial = [copies(v)[0].copy() for v in state(gan)]
    hist = gan.fit(tf.data.Dataset.from_tensor_slices(images).batch(8), epochs=1, verbose=0,
                   callbacks=[RefreshReferenceBatch(g, z_ref)])  # 3 steps
    return gan, initial, hist.history

out = {}
for family, jit in (("NonSaturatingGAN", False), ("HingeGAN", True)):
    gan2, initial, hist = train(two, family, jit)
    r = {"losses": [hist["d_loss"][-1], hist["g_loss"][-1]]}
    r["spread"] = max(float(np.abs(c - copies(v)[0]).max()) for v in state(gan2) for c in copies(v))
    r["moved"] = [float(np.abs(copies(v)[0] - i).max()) for v, i in zip(state(gan2), initial)]
    if not jit:  # (the XLA compilation of the one-device whole step would double this test's time)
        gan1, _, _ = train(one, family, jit)
        r["vs_one_device_state"] = max(float(np.abs(copies(a)[0] - copies(b)[0]).max())
                                       for a, b in zip(state(gan2), state(gan1)))
        r["vs_one_device_weights"] = max(float(np.abs(a.numpy() - b.numpy()).max())
                                         for a, b in zip(gan2.generator.weights + gan2.discriminator.weights,
                                                         gan1.generator.weights + gan1.discriminator.weights))
    w, b = gan2.generator.layers[1].get_weights()
    r["vbn_follows_weights"] = float(np.abs(copies(state(gan2)[-3])[0] - (z_ref @ w + b).reshape(-1, 4).mean(0)).max())
    ckpt = tf.train.Checkpoint(gan=gan2)
    path = ckpt.save(f"{TMP}/gan_layers_{family}/c")
    saved = [copies(v)[0].copy() for v in state(gan2)]
    for v in state(gan2):
        v.assign(tf.zeros(v.shape))
    ckpt.restore(path)
    r["restored"] = max(float(np.abs(c - s).max()) for v, s in zip(state(gan2), saved) for c in copies(v))
    out[f"{family}/{jit}"] = r
shutil.rmtree(TMP)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def fit_result():
    return run_python(FIT_CODE, devices=2, timeout=400)


@pytest.mark.parametrize("case", ["NonSaturatingGAN/False", "HingeGAN/True"], ids=["ns_graph", "hinge_xla"])
def test_layer_state_in_a_gan_fit_on_two_replicas(fit_result, case):
    r = fit_result[case]
    assert all(np.isfinite(r["losses"]))
    assert r["spread"] == 0.0                    # u and the VBN statistics identical on both replicas
    assert min(r["moved"][:-1]) > 1e-4          # every u and the VBN statistics changed during fit
    assert r["vbn_follows_weights"] < 1e-5      # the callback refreshed the reference after the last step
    if case.endswith("False"):
        assert r["vs_one_device_weights"] < 1e-5    # 2 x 4 examples per step equals 1 x 8 examples
        assert r["vs_one_device_state"] < 1e-5
    assert r["restored"] == 0.0                 # a checkpoint of the GAN restores u and the statistics


def _sn_discriminator():
    from tfgan_stable.layers import SpectralNormalization

    x = keras.Input((28, 28, 1))
    h = x
    for i, filters in enumerate((32, 64)):
        conv = keras.layers.Conv2D(filters, 4, strides=2, padding="same", name=f"conv_{i}")
        h = keras.layers.LeakyReLU(0.1)(SpectralNormalization(conv, name=f"sn_conv_{i}")(h))
    h = keras.layers.Flatten()(h)
    return keras.Model(x, SpectralNormalization(keras.layers.Dense(1), name="sn_logit")(h), name="sn_d")


def _mnist(shared_data, n):
    import tfgan_stable

    pixels = tfgan_stable.data.read_idx(str(shared_data / "mnist" / "train-images-idx3-ubyte.gz"))[:n]
    return (pixels[..., None].astype("float32") / 127.5 - 1.0)


def _train_on_mnist(shared_data, family, num_images, epochs, min_ratio):
    import tensorflow as tf

    import tfgan_stable
    from tfgan_stable.layers import SpectralNormalization

    keras.utils.set_random_seed(0)
    images = _mnist(shared_data, num_images)
    g = tfgan_stable.nets.dcgan_generator(32, (28, 28, 1), width=0.25)
    d = _sn_discriminator()
    gan = getattr(tfgan_stable, family)(g, d, latent_dim=32, seed=0)
    gan.compile(d_optimizer=keras.optimizers.Adam(4e-4, 0.0, 0.9), g_optimizer=keras.optimizers.Adam(1e-4, 0.0, 0.9))
    hist = gan.fit(tf.data.Dataset.from_tensor_slices(images).batch(64), epochs=epochs, verbose=0)
    for name in ("d_loss", "g_loss"):
        assert np.all(np.isfinite(hist.history[name])), name
    assert np.all(np.isfinite(gan.generate(16).numpy()))
    for layer in d.layers:
        if isinstance(layer, SpectralNormalization):
            matrix = layer._kernel_variable.numpy().reshape(-1, layer._kernel_variable.shape[-1])
            top = np.linalg.svd(matrix, compute_uv=False)[0]
            # σ̂ ≤ σ always; one power iteration per D update, so after n steps σ̂ has had n iterations
            assert 0.0 < float(layer.sigma) <= top * (1 + 1e-5)
            assert float(layer.sigma) > min_ratio * top, (layer.name, float(layer.sigma), top)


def test_sn_discriminator_with_hinge_loss_on_mnist_stays_finite(shared_data):
    _train_on_mnist(shared_data, "HingeGAN", num_images=1920, epochs=1, min_ratio=0.9)  # 30 steps, 30 iterations


@pytest.mark.slow
def test_sn_discriminator_with_ns_loss_on_mnist_longer_run(shared_data):
    _train_on_mnist(shared_data, "NonSaturatingGAN", num_images=6400, epochs=3, min_ratio=0.95)  # 300 iterations
