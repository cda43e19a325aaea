"""MLP generator/discriminator builders for the 2-D toys."""
import keras
import numpy as np
import pytest

from tfgan_stable import nets


def test_default_generator_is_pacgans_toy_generator():
    g = nets.mlp_generator(2)
    assert g.input_shape == (None, 2) and g.output_shape == (None, 2)
    # 4 hidden layers of 400 without bias (BN follows; BN has 4 x 400 numbers), linear output with bias.
    assert g.count_params() == 2 * 400 + 3 * 400 * 400 + 4 * 4 * 400 + 400 * 2 + 2
    assert [type(l).__name__ for l in g.layers if l.name.startswith("norm_")] == ["BatchNormalization"] * 4
    assert g.get_layer("out").activation.__name__ == "linear"


def test_default_discriminator_is_pacgans_maxout_discriminator():
    d = nets.mlp_discriminator()
    assert d.input_shape == (None, 2) and d.output_shape == (None, 1)
    assert d.count_params() == (2 * 1000 + 1000) + 2 * (200 * 1000 + 1000) + 200 + 1
    assert nets.mlp_discriminator(input_dim=8).input_shape == (None, 8)  # packed: 4 samples of 2-D


def test_maxout_discriminator_matches_a_numpy_forward_pass():
    keras.utils.set_random_seed(1)
    d = nets.mlp_discriminator(input_dim=3, units=(6, 4), maxout_pieces=3)
    for layer in d.layers:  # larger weights than N(0, 0.02), so the max picks different pieces
        if layer.weights:
            layer.set_weights([w * 50 + 0.1 for w in layer.get_weights()])
    x = np.random.default_rng(0).normal(size=(7, 3)).astype("float32")
    h = x.astype(np.float64)
    for i, units in enumerate((6, 4)):
        kernel, bias = d.get_layer(f"dense_{i}").get_weights()
        h = (h @ kernel + bias).reshape(len(x), units, 3).max(axis=-1)
    kernel, bias = d.get_layer("logits").get_weights()
    np.testing.assert_allclose(d(x).numpy(), h @ kernel + bias, rtol=1e-4, atol=1e-4)


def test_generator_and_discriminator_options():
    g = nets.mlp_generator(5, output_dim=3, units=(16, 8), norm="none", activation="tanh")
    assert g.output_shape == (None, 3)
    assert g.count_params() == (5 * 16 + 16) + (16 * 8 + 8) + (8 * 3 + 3)
    d = nets.mlp_discriminator(units=(10,), activation="leaky_relu")
    assert d.count_params() == (2 * 10 + 10) + 10 + 1
    x = np.zeros((4, 2), "float32")
    assert d(x).shape == (4, 1)
    g = nets.mlp_generator(2, units=(8,), norm="layer")
    assert type(g.get_layer("norm_0")).__name__ == "LayerNormalization"


@pytest.mark.parametrize("call, message", [
    (lambda: nets.mlp_generator(0), "`latent_dim` must be a positive integer"),
    (lambda: nets.mlp_generator(2, output_dim=-1), "`output_dim` must be a positive integer"),
    (lambda: nets.mlp_generator(2, units=()), "`units` must be a non-empty sequence"),
    (lambda: nets.mlp_generator(2, units=400), "`units` must be a"),
    (lambda: nets.mlp_generator(2, units=(8, 0)), "`units` must be a non-empty sequence"),
    (lambda: nets.mlp_generator(2, norm="group"), "`norm` must be one of"),
    (lambda: nets.mlp_generator(2, activation="maxout"), "`activation` must be a Keras activation"),
    (lambda: nets.mlp_discriminator(input_dim=0), "`input_dim` must be a positive integer"),
    (lambda: nets.mlp_discriminator(maxout_pieces=1), "`maxout_pieces` must be at least 2"),
    (lambda: nets.mlp_discriminator(activation="nope"), "`activation` must be a Keras activation"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_orthogonal_initialisation_option():
    """init="orthogonal": each kernel [fan_in, units] has orthonormal columns (or rows, if fan_in < units)."""
    g = nets.mlp_generator(3, units=(16, 16), norm="none", init="orthogonal")
    d = nets.dcgan_discriminator(width=0.25, norm="none", init="orthogonal")
    for model in (g, d):
        for w in model.trainable_weights:
            if len(w.shape) < 2:
                continue
            m = w.numpy().reshape(-1, w.shape[-1])
            gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
            np.testing.assert_allclose(gram, np.eye(len(gram)), atol=1e-5)
    with pytest.raises(ValueError, match="init"):
        nets.mlp_discriminator(init="uniform")
