"""Autoencoder discriminators (EBGAN, BEGAN): shapes, the "code" bottleneck, output range, argument checks."""
import keras
import numpy as np
import pytest

from tfgan_stable import nets


@pytest.mark.parametrize("shape, widths", [((28, 28, 1), [(14, 14, 16), (7, 7, 32)]),
                                           ((32, 32, 3), [(16, 16, 16), (8, 8, 32), (4, 4, 64)])])
def test_image_autoencoder_shapes_code_and_range(shape, widths):
    d = nets.autoencoder_discriminator(shape, code_dim=10, width=0.25)
    assert d.input_shape == (None, *shape) and d.output_shape == (None, *shape)
    assert [d.get_layer(f"conv_{i}").output.shape[1:] for i in range(len(widths))] == widths
    assert d.get_layer("code").output.shape[1:] == (10,)
    assert d.get_layer("code").activation.__name__ == "linear"
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in d.layers)  # BEGAN: no norm
    assert {l.activation.__name__ for l in d.layers if isinstance(l, keras.layers.Activation)} == {"elu"}
    x = np.random.RandomState(0).uniform(-1, 1, (2, *shape)).astype("float32") * 50  # large inputs: tanh output
    out = d(x).numpy()
    assert np.all(np.abs(out) <= 1.0) and out.dtype == np.float32
    with_bn = nets.autoencoder_discriminator(shape, width=0.25, norm="batch")
    assert sum(isinstance(l, keras.layers.BatchNormalization) for l in with_bn.layers) == 2 * len(widths) - 2


def test_mlp_autoencoder_matches_a_numpy_forward_pass():
    keras.utils.set_random_seed(0)
    d = nets.mlp_autoencoder(3, units=(5, 4), code_dim=2, activation="tanh")
    for layer in d.layers:
        if layer.weights:
            layer.set_weights([w * 30 + 0.1 for w in layer.get_weights()])
    x = np.random.RandomState(1).normal(size=(6, 3))
    h = x
    for name, act in [("enc_0", np.tanh), ("enc_1", np.tanh), ("code", None), ("dec_0", np.tanh),
                      ("dec_1", np.tanh), ("reconstructions", None)]:
        kernel, bias = d.get_layer(name).get_weights()
        h = h @ kernel + bias
        h = act(h) if act else h
    np.testing.assert_allclose(d(x.astype("float32")).numpy(), h, rtol=1e-4, atol=1e-4)
    assert d.get_layer("code").output.shape[1:] == (2,)


@pytest.mark.parametrize("kwargs, name", [({"code_dim": 0}, "code_dim"), ({"image_shape": (30, 30, 1)}, "image_shape"),
                                          ({"norm": "group"}, "norm"), ({"activation": "nope"}, "activation"),
                                          ({"width": -1}, "width")])
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        nets.autoencoder_discriminator(**kwargs)
    if name in ("code_dim", "activation"):
        with pytest.raises(ValueError, match=name):
            nets.mlp_autoencoder(**kwargs)
