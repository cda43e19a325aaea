"""DCGAN generator/discriminator builders."""
import keras
import numpy as np
import pytest

from tests.subproc import run_python
import tfgan_stable as ts
from tfgan_stable import nets


def _bn(channels):
    return 4 * channels  # gamma, beta, moving mean, moving variance


def _generator_params(latent, side, channels, base):
    """Hand count for dcgan_generator with norm="batch" (no bias before BN; 4x4 kernels)."""
    first, steps = {28: 7, 32: 4, 64: 4}[side], {28: 2, 32: 3, 64: 4}[side]
    filters = base * 2 ** (steps - 1)
    total = latent * first * first * filters + _bn(filters)
    for _ in range(steps - 1):
        total += 16 * filters * (filters // 2) + _bn(filters // 2)
        filters //= 2
    return total + 16 * filters * channels + channels


def _discriminator_params(side, channels, base):
    steps = {28: 2, 32: 3, 64: 4}[side]
    total = 16 * channels * base + base  # first conv: bias, no BN
    for i in range(1, steps):
        total += 16 * base * 2 ** (i - 1) * base * 2 ** i + _bn(base * 2 ** i)
    last = side // 2 ** steps
    return total + last * last * base * 2 ** (steps - 1) + 1


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (64, 64, 3), (28, 28, 3)])
def test_shapes_range_and_parameter_counts(shape):
    keras.utils.set_random_seed(0)
    g = nets.dcgan_generator(16, shape, width=0.125)
    d = nets.dcgan_discriminator(shape, width=0.125)
    kernel, bias = g.get_layer("images").get_weights()
    g.get_layer("images").set_weights([kernel * 1000, bias])  # push the pre-activations far out
    z = np.random.default_rng(0).normal(size=(5, 16)).astype("float32")
    images = g(z, training=True).numpy()
    assert images.shape == (5, *shape) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0  # tanh
    assert images.min() < -0.99 and images.max() > 0.99
    logits = d(images, training=True).numpy()
    assert logits.shape == (5, 1) and np.all(np.isfinite(logits))
    assert g.count_params() == _generator_params(16, shape[0], shape[2], 8)
    assert d.count_params() == _discriminator_params(shape[0], shape[2], 8)


def test_full_width_64x64_matches_the_paper_layout():
    g = nets.dcgan_generator(100, (64, 64, 3))
    d = nets.dcgan_discriminator((64, 64, 3))
    g_maps = [l.output.shape[1:] for l in g.layers if l.name.startswith(("reshape", "deconv", "images"))]
    assert g_maps == [(4, 4, 512), (8, 8, 256), (16, 16, 128), (32, 32, 64), (64, 64, 3)]
    d_maps = [l.output.shape[1:] for l in d.layers if l.name.startswith("conv")]
    assert d_maps == [(32, 32, 64), (16, 16, 128), (8, 8, 256), (4, 4, 512)]
    assert g.count_params() == _generator_params(100, 64, 3, 64)
    assert d.count_params() == _discriminator_params(64, 3, 64)


def test_discriminator_has_no_norm_on_its_first_block_and_leaky_relu():
    d = nets.dcgan_discriminator((32, 32, 3), width=0.125)
    names = [l.name for l in d.layers]
    assert "norm_0" not in names and "norm_1" in names and "norm_2" in names
    assert d.get_layer("conv_0").use_bias and not d.get_layer("conv_1").use_bias
    assert d.get_layer("act_0").negative_slope == pytest.approx(0.2)
    assert d.get_layer("logits").activation.__name__ == "linear"


@pytest.mark.parametrize("norm, layer_type, synchronized", [
    ("batch", "BatchNormalization", False), ("sync_batch", "BatchNormalization", True),
    ("layer", "LayerNormalization", None), ("none", None, None)])
def test_norm_options(norm, layer_type, synchronized):
    for model in (nets.dcgan_generator(8, (28, 28, 1), width=0.125, norm=norm),
                  nets.dcgan_discriminator((28, 28, 1), width=0.125, norm=norm)):
        norms = [l for l in model.layers if l.name.startswith("norm_")]
        if layer_type is None:
            assert norms == []
            assert all(l.use_bias for l in model.layers if hasattr(l, "use_bias"))
        else:
            assert norms and all(type(l).__name__ == layer_type for l in norms)
            if synchronized is not None:
                assert all(l.synchronized == synchronized for l in norms)


def test_sync_batch_norm_matches_single_device_statistics_on_two_replicas():
    result = run_python("""
        import json
        import keras
        import numpy as np
        from tfgan_stable import nets

        keras.utils.set_random_seed(0)
        z = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
        out = {}
        for norm in ("sync_batch", "batch"):
            single = nets.dcgan_generator(4, (28, 28, 1), width=0.125, norm=norm)
            reference = single(z, training=True).numpy()
            strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
            with strategy.scope():
                mirrored = nets.dcgan_generator(4, (28, 28, 1), width=0.125, norm=norm)
                mirrored.set_weights(single.get_weights())
            ds = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(z))
            per_replica = strategy.run(lambda x: mirrored(x, training=True), args=(next(iter(ds)),))
            images = np.concatenate([t.numpy() for t in strategy.experimental_local_results(per_replica)])
            out[norm] = float(np.abs(images - reference).max())
        print(json.dumps(out))
    """, devices=2)
    assert result["sync_batch"] < 1e-5  # global-batch statistics: the same images as one device
    assert result["batch"] > 1e-3  # per-replica statistics differ


@pytest.mark.parametrize("call, message", [
    (lambda: nets.dcgan_generator(8, (30, 30, 3)), "`image_shape` .* is not supported"),
    (lambda: nets.dcgan_generator(8, (32, 28, 3)), "`image_shape` .* is not supported"),
    (lambda: nets.dcgan_discriminator((64, 64, 0)), "`image_shape` .* is not supported"),
    (lambda: nets.dcgan_discriminator((28, 28)), r"`image_shape` must be \(height, width, channels\)"),
    (lambda: nets.dcgan_discriminator((28.5, 28, 1)), r"`image_shape` must be \(height, width, channels\)"),
    (lambda: nets.dcgan_generator(0), "`latent_dim` must be a positive integer"),
    (lambda: nets.dcgan_generator(8.0), "`latent_dim` must be a positive integer"),
    (lambda: nets.dcgan_generator(8, width=0), "`width` must be a positive number"),
    (lambda: nets.dcgan_discriminator(width=-1.0), "`width` must be a positive number"),
    (lambda: nets.dcgan_generator(8, norm="instance"), "`norm` must be one of"),
    (lambda: nets.dcgan_discriminator(norm=None), "`norm` must be one of"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_add_head_shares_the_body_and_reads_the_logit_s_features():
    import tensorflow as tf
    d = ts.nets.dcgan_discriminator((28, 28, 1), width=0.25)
    two = ts.nets.add_head(d, 10, "class_logits", hidden_units=16)
    x = tf.random.stateless_uniform((3, 28, 28, 1), (1, 2), -1, 1)
    logits, head = two(x)
    assert head.shape == (3, 10) and two.get_layer("class_logits").output.shape == (None, 10)
    np.testing.assert_allclose(logits.numpy(), d(x).numpy(), rtol=1e-6)  # same body and logit layer
    flat = keras.Model(d.inputs, d.get_layer("flatten").output)(x)
    hidden = two.get_layer("class_logits_hidden")
    h = tf.nn.leaky_relu(tf.matmul(flat, hidden.kernel) + hidden.bias, 0.2)
    out = two.get_layer("class_logits")
    np.testing.assert_allclose(head.numpy(), (tf.matmul(h, out.kernel) + out.bias).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="already has a layer named"):
        ts.nets.add_head(d, 10, "logits")
    with pytest.raises(ValueError, match="one output"):
        ts.nets.add_head(two, 10, "q")
