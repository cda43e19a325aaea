"""get_config/from_config, keras.models.load_model, and SavedModel export reloaded in a fresh process."""
import json

import keras
import numpy as np
import pytest

import tfgan_stable
from tfgan_stable.layers import (ConditionalBatchNormalization, MinibatchDiscrimination, MinibatchStdDev, Pack,
                                 PixelNormalization, SelfAttention, SpectralNormalization,
                                 VirtualBatchNormalization, set_reference_batch)
from tests.subproc import run_python

LATENT = 6


def _generator():
    z = keras.Input((LATENT,), name="z")
    h = keras.layers.Reshape((4, 4, 8))(keras.layers.Dense(4 * 4 * 8)(z))
    h = keras.layers.ReLU()(VirtualBatchNormalization(name="vbn")(h))
    h = SelfAttention(spectral_normalization=True, name="attention")(h)
    h = PixelNormalization()(SpectralNormalization(keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same"),
                                                   name="sn_deconv")(h))
    images = keras.layers.Conv2D(1, 3, padding="same", activation="tanh")(h)
    return keras.Model(z, images, name="g")


def _conditional_generator():
    z, y = keras.Input((LATENT,), name="z"), keras.Input((), dtype="int32", name="labels")
    h = keras.layers.Reshape((2, 2, 4))(keras.layers.Dense(16)(z))
    h = ConditionalBatchNormalization(num_classes=3, name="cbn")([h, y])
    images = keras.layers.Conv2D(1, 1, activation="tanh")(keras.layers.ReLU()(h))
    return keras.Model([z, y], images, name="cg")


def _discriminator():
    x = keras.Input((8, 8, 1))
    h = SpectralNormalization(keras.layers.Conv2D(4, 3, strides=2, padding="same"), name="sn_conv")(Pack(2)(x))
    h = MinibatchStdDev(group_size=2)(keras.layers.LeakyReLU(0.2)(h))
    h = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)(keras.layers.Flatten()(h))
    return keras.Model(x, SpectralNormalization(keras.layers.Dense(1), name="sn_logit")(h), name="d")


def _trained_models():
    """The three models with non-trivial state: u after training calls, VBN reference, CBN moving stats."""
    keras.utils.set_random_seed(0)
    rng = np.random.RandomState(0)
    g, cg, d = _generator(), _conditional_generator(), _discriminator()
    set_reference_batch(g, rng.normal(size=(16, LATENT)).astype("float32"))
    g.get_layer("attention").gamma.assign(0.5)
    z = rng.normal(size=(4, LATENT)).astype("float32")
    labels = np.array([0, 2, 1, 2], "int32")
    for _ in range(3):
        g(z, training=True)
        cg([z, labels], training=True)
        d(rng.uniform(-1, 1, (4, 8, 8, 1)).astype("float32"), training=True)
    images = rng.uniform(-1, 1, (4, 8, 8, 1)).astype("float32")
    return (g, z), (cg, [z, labels]), (d, images)


def _outputs(model, inputs):
    return model(inputs, training=False).numpy()


LAYER_CASES = [
    (lambda: SpectralNormalization(keras.layers.Conv2D(3, 2), power_iterations=3, epsilon=1e-10, seed=4), (2, 5, 5, 2)),
    (lambda: SpectralNormalization(keras.layers.Embedding(7, 3)), None),
    (lambda: VirtualBatchNormalization(axis=1, epsilon=1e-4, center=False), (3, 4, 2)),
    (lambda: MinibatchDiscrimination(num_kernels=4, kernel_dim=2, kernel_regularizer="l2"), (5, 6)),
    (lambda: MinibatchStdDev(group_size=3, epsilon=1e-6), (6, 2, 2, 3)),
    (lambda: PixelNormalization(axis=1, epsilon=1e-6), (2, 3, 4)),
    (lambda: SelfAttention(key_channels=2, value_channels=3, spectral_normalization=True), (2, 3, 3, 8)),
    (lambda: ConditionalBatchNormalization(num_classes=4, momentum=0.8, epsilon=1e-4), (4, 3)),
    (lambda: Pack(3), (6, 2, 2, 3)),
]


@pytest.mark.parametrize("make,shape", LAYER_CASES, ids=[
    "sn_conv", "sn_embedding", "vbn", "minibatch_discrimination", "minibatch_stddev", "pixel_norm",
    "self_attention", "conditional_bn", "pack"])
def test_config_round_trip_gives_the_same_outputs(make, shape):
    rng = np.random.RandomState(1)
    layer = make()
    if isinstance(layer, ConditionalBatchNormalization):
        inputs = [rng.normal(size=shape).astype("float32"), np.array([3, 0, 1, 1], "int32")]
    elif shape is None:
        inputs = np.array([[1, 6, 2], [0, 0, 5]])
    else:
        inputs = rng.normal(size=shape).astype("float32")
    if isinstance(layer, VirtualBatchNormalization):
        layer.set_reference(rng.normal(size=(5,) + shape[1:]).astype("float32"))
    layer(inputs, training=True)  # builds and moves the state
    if isinstance(layer, SelfAttention):
        layer.gamma.assign(0.3)
    config = layer.get_config()
    json.dumps(keras.saving.serialize_keras_object(layer))  # the config is plain JSON
    clone = type(layer).from_config(config)
    clone(inputs) if not isinstance(clone, VirtualBatchNormalization) else clone.build(inputs.shape)
    clone.set_weights(layer.get_weights())
    assert clone.get_config() == config
    np.testing.assert_allclose(clone(inputs).numpy(), layer(inputs).numpy(), rtol=1e-6, atol=1e-6)


def test_load_model_restores_outputs_and_state(tmp_path):
    for model, inputs in _trained_models():
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_allclose(_outputs(loaded, inputs), _outputs(model, inputs), rtol=1e-6, atol=1e-6)
        assert len(loaded.non_trainable_weights) == len(model.non_trainable_weights) > 0
        for a, b in zip(loaded.non_trainable_weights, model.non_trainable_weights):
            assert a.path == b.path
            np.testing.assert_array_equal(a.numpy(), b.numpy())  # u, reference and moving statistics


def test_saved_models_reload_in_a_fresh_process(tmp_path):
    import tensorflow as tf

    (g, z), (cg, (cz, labels)), (d, images) = _trained_models()
    tfgan_stable.export_generator(g, tmp_path / "g", latent_dim=LATENT)

    class Conditional(tf.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        @tf.function(input_signature=[tf.TensorSpec([None, LATENT], tf.float32), tf.TensorSpec([None], tf.int32)])
        def serve(self, z, labels):
            return {"images": self.model([z, labels], training=False)}

    module = Conditional(cg)
    tf.saved_model.save(module, str(tmp_path / "cg"), signatures={"serving_default": module.serve})
    d.export(str(tmp_path / "d"), verbose=False)
    np.savez(tmp_path / "inputs.npz", z=z, cz=cz, labels=labels, images=images)
    result = run_python(f"""
import json, numpy as np
data = np.load({str(tmp_path / "inputs.npz")!r})
g = tf.saved_model.load({str(tmp_path / "g")!r})
cg = tf.saved_model.load({str(tmp_path / "cg")!r})
d = tf.saved_model.load({str(tmp_path / "d")!r})
out = {{"g": g.signatures["serving_default"](z=tf.constant(data["z"]))["images"].numpy().tolist(),
        "cg": cg.signatures["serving_default"](z=tf.constant(data["cz"]),
                                               labels=tf.constant(data["labels"]))["images"].numpy().tolist(),
        "d": d.serve(tf.constant(data["images"])).numpy().tolist()}}
import sys
out["tfgan_stable_imported"] = "tfgan_stable" in sys.modules
print(json.dumps(out))
""")
    assert not result["tfgan_stable_imported"]  # the SavedModels need no Python code of this package
    np.testing.assert_allclose(result["g"], _outputs(g, z), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result["cg"], _outputs(cg, [cz, labels]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result["d"], _outputs(d, images), rtol=1e-5, atol=1e-6)
