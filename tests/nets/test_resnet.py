"""ResNet-SN / BigGAN-style builders, the upsampling choice and the multi-scale discriminator."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tests.subproc import run_python
from tfgan_stable import nets

_SIDES = {28: (7, 2), 32: (4, 3), 64: (4, 4)}  # side -> (first side, up-blocks)


# ---------------------------------------------------------------------------------------------- hand counts
def _conv(k, cin, cout, sn=False):
    return k * k * cin * cout + cout + (cout if sn else 0)  # kernel, bias, (SN's u: one per output channel)


def _up_conv(mode, c, sn):
    if mode == "transpose":  # Conv2DTranspose kernel is [4, 4, out, in]: SN's u has `in` entries
        return 16 * c * c + c + (c if sn else 0)
    if mode == "upsample_conv":
        return _conv(3, c, c, sn)
    return _conv(3, c, 4 * c, sn)  # pixel_shuffle: conv to 4C


def _generator_params(latent, side, ch, c, mode="upsample_conv", sn=False, classes=None, emb=0, skip_z=False):
    first, blocks = _SIDES[side]
    dense_in = latent // (blocks + 1) if skip_z else latent
    cond = (dense_in if skip_z else 0) + (emb if classes else 0)  # size of each block's conditioning vector
    total = dense_in * first * first * c + first * first * c + (first * first * c if sn else 0)
    total += classes * emb if classes else 0
    norm = 2 * c + 2 * cond * c if cond else 4 * c  # moving mean/var (+ W_gain, W_bias) or BN's 4 vectors
    for _ in range(blocks):
        total += norm + _up_conv(mode, c, sn) + norm + _conv(3, c, c, sn) + _conv(1, c, c, sn)
    return total + 4 * c + _conv(3, c, ch, sn)


def _discriminator_params(ch, c, sn=True, classes=None):
    total = _conv(3, ch, c, sn) + _conv(3, c, c, sn) + _conv(1, ch, c, sn)  # optimized block
    total += 2 * _conv(3, c, c, sn) + _conv(1, c, c, sn)  # down-block with a learnable shortcut
    total += 2 * 2 * _conv(3, c, c, sn)  # two blocks with identity shortcuts
    total += c + 1 + (1 if sn else 0)  # Dense(1)
    return total + ((classes * c + (c if sn else 0)) if classes else 0)


@pytest.mark.parametrize("shape, mode, sn", [
    ((32, 32, 3), "upsample_conv", False), ((28, 28, 1), "transpose", True), ((64, 64, 3), "pixel_shuffle", False),
    ((32, 32, 3), "pixel_shuffle", True)])
def test_generator_shapes_range_and_parameter_counts(shape, mode, sn):
    keras.utils.set_random_seed(0)
    g = nets.resnet_generator(8, shape, width=1 / 64, upsampling=mode, spectral_norm=sn)
    images = g(tf.random.stateless_normal((3, 8), (0, 1)), training=True).numpy()
    assert images.shape == (3, *shape) and images.dtype == np.float32
    assert np.all(np.abs(images) <= 1.0)
    assert g.count_params() == _generator_params(8, shape[0], shape[2], 4, mode, sn)


def test_biggan_generator_parameter_count():
    g = nets.resnet_generator(12, (32, 32, 3), width=1 / 64, num_classes=5, skip_z=True, shared_embedding_dim=3,
                              init="orthogonal")
    assert [tuple(i.shape) for i in g.inputs] == [(None, 12), (None,)]
    assert g.count_params() == _generator_params(12, 32, 3, 4, classes=5, emb=3, skip_z=True)
    cond = nets.resnet_generator(8, (28, 28, 1), width=1 / 64, num_classes=5, shared_embedding_dim=3)
    assert cond.count_params() == _generator_params(8, 28, 1, 4, classes=5, emb=3)
    skip = nets.resnet_generator(9, (28, 28, 1), width=1 / 64, skip_z=True)
    assert len(skip.inputs) == 1 and skip.count_params() == _generator_params(9, 28, 1, 4, skip_z=True)


@pytest.mark.parametrize("shape, sn, classes", [((32, 32, 3), True, None), ((28, 28, 1), False, None),
                                                ((16, 16, 3), True, 7)])
def test_discriminator_shapes_and_parameter_counts(shape, sn, classes):
    d = nets.resnet_discriminator(shape, width=1 / 32, spectral_norm=sn, num_classes=classes)
    images = tf.random.stateless_uniform((3, *shape), (0, 2), -1, 1)
    logits = d(images if classes is None else [images, tf.constant([0, 3, 6])], training=True)
    assert logits.shape == (3, 1) and logits.dtype == tf.float32
    assert d.count_params() == _discriminator_params(shape[2], 4, sn, classes)


def test_full_width_nets_follow_the_sngan_cifar_layout():
    """Miyato et al. 2018, table 4: G 4x4x256 -> 3 up-blocks of 256 -> 32x32x3; D 128 channels, 32->16->8."""
    g = nets.resnet_generator(128)
    d = nets.resnet_discriminator()
    assert g.get_layer("reshape").output.shape == (None, 4, 4, 256)
    assert [g.get_layer(f"block_{i}_add").output.shape for i in range(3)] == [
        (None, 8, 8, 256), (None, 16, 16, 256), (None, 32, 32, 256)]
    assert [d.get_layer(f"block_{i}_add").output.shape for i in range(4)] == [
        (None, 16, 16, 128), (None, 8, 8, 128), (None, 8, 8, 128), (None, 8, 8, 128)]
    assert g.count_params() == _generator_params(128, 32, 3, 256)
    assert d.count_params() == _discriminator_params(3, 128, True)
    sn = [l for l in d.layers if isinstance(l, ts.layers.SpectralNormalization)]
    assert len(sn) == 11  # 10 convolutions and the Dense


# ---------------------------------------------------------------------------------------------- skip-z
@pytest.mark.parametrize("classes", [None, 4])
def test_skip_z_reaches_every_block_and_only_from_its_chunk(classes):
    """Chunk 0 feeds the Dense, chunk i + 1 the norms of block i: block i's output depends on chunks
    0..i+1 and not on the later ones; its norms' conditioning vector is exactly chunk i + 1 (+ e(y))."""
    keras.utils.set_random_seed(1)
    latent, blocks, chunk = 8, 3, 2
    g = nets.resnet_generator(latent, (32, 32, 3), width=1 / 64, skip_z=True, num_classes=classes,
                              shared_embedding_dim=3)
    z = tf.random.stateless_normal((2, latent), (3, 4))
    labels = tf.constant([1, 3])
    inputs = [z, labels] if classes else z
    for i in range(blocks):
        block = keras.Model(g.inputs, g.get_layer(f"block_{i}_add").output)
        weights = tf.random.stateless_normal(block.output.shape[1:], (5, i))
        with tf.GradientTape() as tape:
            tape.watch(z)
            out = block(inputs, training=False)
            value = tf.reduce_sum(out * weights)
        grad = tape.gradient(value, z).numpy()
        per_chunk = np.abs(grad).reshape(2, blocks + 1, chunk).sum(axis=(0, 2))
        assert np.all(per_chunk[:i + 2] > 1e-6), (i, per_chunk)  # the Dense's chunk, and chunks 1..i+1
        assert np.all(per_chunk[i + 2:] == 0.0), (i, per_chunk)  # later blocks' chunks do not reach block i
        norm = g.get_layer(f"block_{i}_1_norm")
        condition = keras.Model(g.inputs, norm.input[1])(inputs).numpy()
        expected = z.numpy()[:, (i + 1) * chunk:(i + 2) * chunk]
        if classes:
            table = g.get_layer("shared_embedding").embeddings.numpy()
            expected = np.concatenate([expected, table[labels.numpy()]], axis=1)
        np.testing.assert_array_equal(condition, expected)


def test_linear_conditional_batch_norm_matches_numpy():
    """y = x̂ ⊙ (1 + c W_γ) + c W_β with x̂ the batch-normalised x (training) — BigGAN's conditional BN."""
    layer = nets.resnet.LinearConditionalBatchNormalization(init="orthogonal")
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=(5, 2, 3, 4)).astype("float32")
    c = rng.normal(size=(5, 6)).astype("float32")
    y = layer([x, c], training=True).numpy()
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    x_hat = (x - mean) / np.sqrt(var + 1e-5)
    gain = (c @ layer.gain_kernel.numpy())[:, None, None, :]
    bias = (c @ layer.bias_kernel.numpy())[:, None, None, :]
    np.testing.assert_allclose(y, x_hat * (1 + gain) + bias, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.normalize.moving_mean.numpy(), 0.1 * mean, rtol=1e-5)  # momentum 0.9


# ---------------------------------------------------------------------------------------------- upsampling
def _depth_to_space(x, r=2):
    b, h, w, d = x.shape
    c = d // (r * r)
    out = np.zeros((b, h * r, w * r, c), x.dtype)
    for i in range(r):
        for j in range(r):
            out[:, i::r, j::r, :] = x[:, :, :, (r * i + j) * c:(r * i + j + 1) * c]
    return out


@pytest.mark.parametrize("mode", nets.UPSAMPLING)
def test_each_upsampling_mode(mode):
    keras.utils.set_random_seed(2)
    inputs = keras.Input((3, 5, 2))
    model = keras.Model(inputs, nets.upsample(inputs, 6, "up", mode))
    x = np.random.default_rng(1).normal(size=(2, 3, 5, 2)).astype("float32")
    y = model(x).numpy()
    assert y.shape == (2, 6, 10, 6)
    conv = model.get_layer("up")
    if mode == "transpose":
        assert isinstance(conv, keras.layers.Conv2DTranspose) and conv.kernel_size == (4, 4) and conv.strides == (2, 2)
    elif mode == "upsample_conv":  # conv 3x3 of the nearest-neighbour x2 image
        nearest = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)
        np.testing.assert_allclose(y, conv(nearest).numpy(), rtol=1e-5, atol=1e-6)
        assert conv.kernel_size == (3, 3)
    else:  # conv 3x3 to 4·6 channels, then depth-to-space
        assert conv.kernel.shape == (3, 3, 2, 24)
        np.testing.assert_allclose(y, _depth_to_space(conv(x).numpy()), rtol=1e-6)


def test_dcgan_generator_takes_the_upsampling_choice_and_keeps_its_default():
    z = tf.random.stateless_normal((2, 8), (0, 0))
    default = nets.dcgan_generator(8, (28, 28, 1), width=0.125)
    assert all(isinstance(default.get_layer(n), keras.layers.Conv2DTranspose) for n in ("deconv_1", "images"))
    for mode in ("upsample_conv", "pixel_shuffle"):
        g = nets.dcgan_generator(8, (28, 28, 1), width=0.125, upsampling=mode)
        images = g(z).numpy()
        assert images.shape == (2, 28, 28, 1) and np.all(np.abs(images) <= 1)
        assert any(l.name.endswith("_upsample" if mode == "upsample_conv" else "_shuffle") for l in g.layers)


# ---------------------------------------------------------------------------------------------- projection
def test_projection_discriminator_logit_by_hand():
    """logit = w·φ(x) + b + e(y)·φ(x), φ(x) = Σ_positions ReLU(h); with SN, w and e are W/σ̂ (inference)."""
    keras.utils.set_random_seed(3)
    d = nets.resnet_discriminator((16, 16, 3), width=1 / 32, num_classes=5)
    images = tf.random.stateless_uniform((4, 16, 16, 3), (1, 1), -1, 1)
    labels = tf.constant([0, 4, 2, 4])
    logits = d([images, labels], training=False).numpy()
    h = keras.Model(d.inputs, d.get_layer("block_3_add").output)([images, labels]).numpy()
    phi = np.maximum(h, 0).sum(axis=(1, 2))
    dense, embedding = d.get_layer("logits"), d.get_layer("class_embedding")
    w, b = dense.normalized_kernel().numpy(), dense.layer.bias.numpy()
    table = embedding.normalized_kernel().numpy()
    expected = phi @ w + b + np.sum(table[labels.numpy()] * phi, axis=1, keepdims=True)
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-5)
    # the class term matters: another label changes the logit by (e(y') − e(y))·φ(x)
    other = d([images, tf.constant([1, 4, 2, 4])], training=False).numpy()
    np.testing.assert_allclose(other[0] - logits[0], (table[1] - table[0]) @ phi[0], rtol=1e-3, atol=1e-5)


# ---------------------------------------------------------------------------------------------- multi-scale
def _pool(x):
    b, h, w, c = x.shape
    return x.reshape(b, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def _small_d(shape):
    return nets.resnet_discriminator(shape, width=1 / 32)


def test_multiscale_outputs_are_the_single_scale_ds_on_pooled_images():
    keras.utils.set_random_seed(4)
    m = nets.multiscale_discriminator(_small_d, (32, 32, 3), scales=3)
    x = np.random.default_rng(2).uniform(-1, 1, size=(3, 32, 32, 3)).astype("float32")
    logits = m(x, training=False).numpy()
    assert logits.shape == (3, 3)
    scaled = x
    for k in range(3):
        d = m.get_layer(f"multiscale_discriminator_scale_{k}")
        assert d.inputs[0].shape[1:] == scaled.shape[1:]
        np.testing.assert_allclose(logits[:, k], d(scaled, training=False).numpy()[:, 0], rtol=1e-4, atol=1e-5)
        scaled = _pool(scaled)


def test_multiscale_gan_loss_is_the_mean_of_the_per_scale_losses():
    """The GAN scores each (example, scale); the reduced hinge loss is (1/S) Σ_k mean_i ℓ(D_k(x_i)), not
    ℓ of the summed logits."""
    keras.utils.set_random_seed(5)
    g = nets.resnet_generator(4, (32, 32, 3), width=1 / 64)
    m = nets.multiscale_discriminator(_small_d, (32, 32, 3), scales=2)
    gan = ts.HingeGAN(g, m, latent_dim=4)
    real = np.random.default_rng(3).uniform(-1, 1, size=(4, 32, 32, 3)).astype("float32")
    fake = np.random.default_rng(4).uniform(-1, 1, size=(4, 32, 32, 3)).astype("float32")
    scores = gan.discriminate(real)
    assert scores.shape == (8,)
    loss = float(tf.reduce_mean(gan.discriminator_loss(scores, gan.discriminate(fake), 0, None)))
    per_scale = []
    for k, (r, f) in enumerate([(real, fake), (_pool(real), _pool(fake))]):
        d = m.get_layer(f"multiscale_discriminator_scale_{k}")
        dr, df = d(r).numpy()[:, 0], d(f).numpy()[:, 0]
        per_scale.append(np.mean(np.maximum(0, 1 - dr) + np.maximum(0, 1 + df)))
    assert loss == pytest.approx(np.mean(per_scale), rel=1e-5)


def test_multiscale_label_tricks_give_every_scale_its_examples_targets():
    """Soft and flipped targets are drawn per example; with S scores per example, each of them is scored
    against that example's targets: the loss is (1/S) Σ_k BCE(D_k(x_i), t_i), written out in numpy."""
    keras.utils.set_random_seed(6)
    g = nets.resnet_generator(4, (32, 32, 3), width=1 / 64)
    m = nets.multiscale_discriminator(_small_d, (32, 32, 3), scales=2)
    gan = ts.NonSaturatingGAN(g, m, latent_dim=4, label_noise=0.5, real_label_range=(0.7, 1.2),
                              fake_label_range=(0.0, 0.3))
    rng = np.random.default_rng(7)
    real, fake = (rng.uniform(-1, 1, size=(4, 32, 32, 3)).astype("float32") for _ in range(2))
    draws = {"flip": tf.constant([0.1, 0.9, 0.2, 0.8]), "real": tf.constant([0.0, 0.5, 1.0, 0.25]),
             "fake": tf.constant([1.0, 0.0, 0.5, 0.75])}
    loss = gan.discriminator_loss(gan.discriminate(real), gan.discriminate(fake), 0, draws).numpy()
    real_t, fake_t = 0.7 + 0.5 * draws["real"].numpy(), 0.3 * draws["fake"].numpy()
    flip = draws["flip"].numpy() < 0.5
    real_t, fake_t = np.where(flip, fake_t, real_t), np.where(flip, real_t, fake_t)

    def bce(logit, t):
        return np.logaddexp(0, logit) - t * logit  # −t log σ(l) − (1 − t) log(1 − σ(l))

    expected = []
    for k, (r, f) in enumerate([(real, fake), (_pool(real), _pool(fake))]):
        d = m.get_layer(f"multiscale_discriminator_scale_{k}")
        expected.append(bce(d(r).numpy()[:, 0].astype(np.float64), real_t)
                        + bce(d(f).numpy()[:, 0].astype(np.float64), fake_t))
    np.testing.assert_allclose(loss, np.stack(expected, axis=1).reshape(-1), rtol=1e-4, atol=1e-5)


def test_multiscale_with_labels():
    m = nets.multiscale_discriminator(lambda s: nets.resnet_discriminator(s, width=1 / 32, num_classes=3),
                                      (16, 16, 1), scales=2)
    assert len(m.inputs) == 2
    assert m([tf.zeros((2, 16, 16, 1)), tf.constant([0, 2])]).shape == (2, 2)


# ---------------------------------------------------------------------------------------------- training, saving
@pytest.mark.parametrize("family, multiscale", [("ns", False), ("hinge", True)])
def test_a_few_training_steps_with_the_resnet_nets(family, multiscale):
    """Eager steps (no tracing of the many small layers, so the test stays quick): finite logs, all weights move."""
    keras.utils.set_random_seed(6)
    shape = (32, 32, 1) if multiscale else (28, 28, 1)
    g = nets.resnet_generator(6, shape, width=1 / 64, skip_z=not multiscale)
    d = (nets.multiscale_discriminator(lambda s: nets.resnet_discriminator(s, width=1 / 32), shape, 2)
         if multiscale else nets.resnet_discriminator(shape, width=1 / 32))
    gan = ts.get_family(family)(g, d, latent_dim=6)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, 0.0, 0.9), g_optimizer=keras.optimizers.Adam(2e-4, 0.0, 0.9),
                run_eagerly=True)
    # Every weight of G, and every kernel of D, moves. (D's logit bias may not: with all logits in (-1, 1) its
    # hinge-loss gradient, mean over fakes of 1 minus mean over reals of 1, is exactly 0.)
    variables = g.trainable_weights + [w for w in d.trainable_weights if "kernel" in w.path]
    before = [w.numpy().copy() for w in variables]
    x = np.random.default_rng(7).uniform(-1, 1, size=(8, *shape)).astype("float32")
    history = gan.fit(x, batch_size=4, epochs=1, verbose=0, shuffle=False).history
    assert all(np.isfinite(v[-1]) for v in history.values()), history
    assert all(not np.array_equal(a, w.numpy()) for a, w in zip(before, variables))


def test_keras_save_and_load_round_trip(tmp_path):
    keras.utils.set_random_seed(7)
    models = {
        "g": nets.resnet_generator(8, (32, 32, 3), width=1 / 64, upsampling="pixel_shuffle", spectral_norm=True,
                                   num_classes=3, skip_z=True, shared_embedding_dim=2),
        "d": nets.resnet_discriminator((16, 16, 3), width=1 / 32, num_classes=3),
        "m": nets.multiscale_discriminator(_small_d, (16, 16, 3), scales=2),
    }
    inputs = {"g": [tf.random.stateless_normal((2, 8), (0, 3)), tf.constant([0, 2])],
              "d": [tf.random.stateless_uniform((2, 16, 16, 3), (1, 3), -1, 1), tf.constant([1, 2])],
              "m": tf.random.stateless_uniform((2, 16, 16, 3), (2, 3), -1, 1)}
    for key, model in models.items():
        model(inputs[key], training=True)  # moves BN statistics and SN's u away from their initial values
        path = tmp_path / f"{key}.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_allclose(loaded(inputs[key], training=False).numpy(),
                                   model(inputs[key], training=False).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda: nets.resnet_generator(8, (48, 48, 3)), "`image_shape` .* is not supported"),
    (lambda: nets.resnet_generator(8, (32, 32)), r"`image_shape` must be \(height, width, channels\)"),
    (lambda: nets.resnet_generator(0), "`latent_dim` must be a positive integer"),
    (lambda: nets.resnet_generator(8, width=0), "`width` must be a positive number"),
    (lambda: nets.resnet_generator(8, upsampling="bilinear"), "`upsampling` must be one of"),
    (lambda: nets.resnet_generator(8, norm="instance"), "`norm` must be one of"),
    (lambda: nets.resnet_generator(8, init="xavier"), "`init` must be one of"),
    (lambda: nets.resnet_generator(10, skip_z=True), "`latent_dim` must be a multiple of 4"),
    (lambda: nets.resnet_generator(8, num_classes=1), "`num_classes` must be None or an integer >= 2"),
    (lambda: nets.resnet_generator(8, num_classes=3, norm="none"), "`norm`='none' leaves no normalisation"),
    (lambda: nets.resnet_generator(8, num_classes=3, shared_embedding_dim=0), "`shared_embedding_dim` must be"),
    (lambda: nets.resnet_discriminator((30, 30, 3)), "multiples of 4"),
    (lambda: nets.resnet_discriminator(spectral_norm="yes"), "`spectral_norm` must be True or False"),
    (lambda: nets.dcgan_generator(8, upsampling="nearest"), "`upsampling` must be one of"),
    (lambda: nets.multiscale_discriminator(_small_d, (32, 32, 3), scales=0), "`scales` must be a positive integer"),
    (lambda: nets.multiscale_discriminator(_small_d, (20, 20, 3), scales=4), "divisible by 2\\^\\(scales - 1\\) = 8"),
    (lambda: nets.multiscale_discriminator(lambda s: _small_d((32, 32, 3)), (32, 32, 3), 2), "asked for"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_multiscale_refuses_a_non_builder():
    with pytest.raises(TypeError, match="`build_discriminator` must be a callable"):
        nets.multiscale_discriminator(_small_d((32, 32, 3)), (32, 32, 3))
    shared = _small_d((8, 8, 3))
    with pytest.raises(ValueError, match="the same model for two scales"):
        nets.multiscale_discriminator(lambda s: shared, (8, 8, 3), scales=1 + 1)


def test_each_net_trains_under_mirrored_strategy_on_two_replicas():
    """One GAN holds every net: the skip-z pixel-shuffle generator (sync BN) and a two-scale discriminator of
    ResNet-SN discriminators. Eager steps: tracing the many small layers under the strategy is the slow part."""
    result = run_python("""
        import json
        import keras
        import numpy as np
        import tfgan_stable as ts
        from tfgan_stable import nets

        keras.utils.set_random_seed(0)
        x = np.random.default_rng(0).uniform(-1, 1, size=(16, 32, 32, 1)).astype("float32")
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        with strategy.scope():
            g = nets.resnet_generator(8, (32, 32, 1), width=1 / 64, skip_z=True, upsampling="pixel_shuffle",
                                      norm="sync_batch")
            d = nets.multiscale_discriminator(lambda s: nets.resnet_discriminator(s, width=1 / 32), (32, 32, 1), 2)
            gan = ts.HingeGAN(g, d, latent_dim=8)
            gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, 0.0, 0.9),
                        g_optimizer=keras.optimizers.Adam(2e-4, 0.0, 0.9), run_eagerly=True)
        u = [l.u for l in ts.layers.spectral_normalization.spectral_normalization_layers(d)]
        history = gan.fit(x, batch_size=8, epochs=1, verbose=0, shuffle=False).history
        copies = [[c.numpy() for c in v.value.values] for v in u]
        print(json.dumps({"logs": {name: float(v[-1]) for name, v in history.items()},
                          "steps": int(gan.g_optimizer.iterations.numpy()),
                          "u_gap": max(float(np.abs(a - b).max()) for a, b in copies)}))
    """, devices=2)
    assert result["steps"] == 2
    assert all(np.isfinite(v) for v in result["logs"].values()), result
    assert result["u_gap"] < 1e-6  # SN's power-iteration vectors stay identical on both replicas
