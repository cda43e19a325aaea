"""The conditional nets: shapes, parameter counts, the projection discriminator against a hand computation."""
import keras
import numpy as np
import pytest

import tfgan_stable as ts
from tfgan_stable.layers import ConditionalBatchNormalization

N = ts.nets


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_mlp_shapes_and_parameter_counts():
    g = N.conditional_mlp_generator(5, 3, units=(4,), norm="none", embedding_dim=2)
    # embedding 3·2, dense (5 + 2)·4 + 4, out 4·2 + 2
    assert g.output_shape == (None, 2) and trainable(g) == 6 + 32 + 10
    projection = N.conditional_mlp_discriminator(3, units=(4,), conditioning="projection")
    # dense 2·4 + 4, ψ 4 + 1, embed 3·4
    assert projection.output_shape == (None, 1) and trainable(projection) == 12 + 5 + 12
    concat = N.conditional_mlp_discriminator(3, units=(4,), conditioning="concat")
    # dense (2 + 3)·4 + 4, logit 4 + 1; the one-hot table (3·3) is frozen
    assert trainable(concat) == 24 + 5 and len(concat.non_trainable_weights) == 1


def test_projection_logit_is_linear_plus_label_embedding_dot_features():
    """logit = ψ(φ(x)) + embed(y)ᵀφ(x), φ(x) = leaky_relu(x W + b) (Miyato & Koyama 2018)."""
    d = N.conditional_mlp_discriminator(3, units=(4,), conditioning="projection")
    rng = np.random.default_rng(0)
    for w in d.weights:
        w.assign(rng.normal(size=w.shape).astype(np.float32))
    W, b = [w.numpy() for w in d.get_layer("dense_0").weights]
    psi, psi_b = [w.numpy() for w in d.get_layer("logits_linear").weights]
    table = d.get_layer("projection_embedding").weights[0].numpy()
    x, y = rng.normal(size=(5, 2)).astype(np.float32), np.array([0, 2, 1, 1, 0], np.int32)
    pre = x @ W + b
    phi = np.where(pre > 0, pre, 0.2 * pre)  # Keras' leaky_relu slope 0.2
    expected = phi @ psi[:, 0] + psi_b[0] + np.sum(table[y] * phi, axis=1)
    np.testing.assert_allclose(d([x, y]).numpy()[:, 0], expected, rtol=1e-5, atol=1e-5)


def test_concat_discriminator_sees_the_one_hot_label():
    d = N.conditional_mlp_discriminator(3, units=(4,), conditioning="concat")
    x = np.zeros((3, 2), np.float32)
    np.testing.assert_allclose(d.get_layer("one_hot")(np.array([0, 1, 2])).numpy(), np.eye(3))
    out = d([x, np.array([0, 1, 2], np.int32)]).numpy()
    assert len(np.unique(out.round(7))) == 3  # the same x, three labels, three logits


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
@pytest.mark.parametrize("conditioning", ["projection", "concat"])
def test_dcgan_shapes(shape, conditioning):
    g = N.conditional_dcgan_generator(8, 10, image_shape=shape, width=0.125, norm="conditional_batch")
    d = N.conditional_dcgan_discriminator(10, image_shape=shape, width=0.125, conditioning=conditioning)
    assert g.output_shape == (None, *shape) and d.output_shape == (None, 1)
    assert any(isinstance(layer, ConditionalBatchNormalization) for layer in g.layers)
    images = g([np.zeros((2, 8), np.float32), np.array([1, 9], np.int32)])
    assert images.shape == (2, *shape) and np.all(np.abs(images.numpy()) <= 1.0)
    if conditioning == "concat":  # the image's channels plus one per class
        assert d.get_layer("images_and_label").output.shape[-1] == shape[-1] + 10
    plain = N.conditional_dcgan_generator(8, 10, image_shape=shape, width=0.125)
    assert not any(isinstance(layer, ConditionalBatchNormalization) for layer in plain.layers)


@pytest.mark.parametrize("builder, kwargs, match", [
    (N.conditional_mlp_generator, {"latent_dim": 2, "num_classes": 0}, "`num_classes`"),
    (N.conditional_mlp_generator, {"latent_dim": 2, "num_classes": 3, "norm": "group"}, "`norm`"),
    (N.conditional_mlp_discriminator, {"num_classes": 3, "conditioning": "sum"}, "`conditioning`"),
    (N.conditional_dcgan_discriminator, {"num_classes": 3, "image_shape": (20, 20, 1)}, "`image_shape`"),
    (N.conditional_dcgan_generator, {"latent_dim": 2, "num_classes": 3, "embedding_dim": 0}, "`embedding_dim`"),
])
def test_bad_arguments_name_the_argument(builder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        builder(**kwargs)
