"""Generator SavedModel: its signatures, reloaded in a fresh process where tfgan_stable cannot be imported; the
per-seed latents; the cap; argument checks. TF Serving's protocols are tested in tests/serving."""
import json
import shutil
import subprocess

import keras
import numpy as np
import pytest

import tfgan_stable as ts
from tests.conftest import REPO
from tests.subproc import run_python


def test_export_round_trip_without_the_package(tmp_path):
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16), keras.layers.BatchNormalization(),
                          keras.layers.ReLU(), keras.layers.Dense(12, activation="tanh"),
                          keras.layers.Reshape((2, 2, 3))])
    d = keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Flatten(), keras.layers.Dense(1)])
    gan = ts.NonSaturatingGAN(g, d, latent_dim=6)
    path = gan.export_generator(str(tmp_path / "gen" / "1"))
    z = np.random.RandomState(1).normal(size=(5, 6)).astype(np.float32)
    seeds, truncation = [123, 7, 123], [0.5, 0.0, 2.0]
    expected = {"z": z.tolist(), "g_z": g(z, training=False).numpy().tolist(), "seeds": seeds,
                "truncation": truncation,
                "sample": np.concatenate([gan.generate(1, seed=s) for s in seeds]).tolist(),
                "truncated": np.concatenate([gan.generate(1, seed=s, truncation=t or None)
                                             for s, t in zip(seeds, truncation)]).tolist()}
    (tmp_path / "expected.json").write_text(json.dumps(expected))
    result = run_python(f"""
import sys, json, importlib.abc
import numpy as np

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "tfgan_stable":
            raise ImportError("tfgan_stable is blocked in this process")
sys.meta_path.insert(0, Block())
try:
    import tfgan_stable
    blocked = False
except ImportError:
    blocked = True

exp = json.load(open({str(tmp_path / "expected.json")!r}))
m = tf.saved_model.load({path!r})
sig = m.signatures
out = {{"blocked": blocked, "signatures": sorted(sig.keys()), "cap": int(m.max_batch_size.numpy())}}
z = tf.constant(exp["z"], tf.float32)
out["default"] = float(np.abs(sig["serving_default"](z=z)["images"].numpy() - np.array(exp["g_z"])).max())
seed = tf.constant(exp["seeds"], tf.int64)
s = sig["sample"](seed=seed)["images"].numpy()
out["sample"] = float(np.abs(s - np.array(exp["sample"])).max())
out["sample_shape"] = list(s.shape)
t = sig["sample_truncated"](seed=seed, truncation=tf.constant(exp["truncation"]))["images"].numpy()
out["truncated"] = float(np.abs(t - np.array(exp["truncated"])).max())
out["inputs"] = sorted(sig["sample_truncated"].structured_input_signature[1].keys())
out["png"] = len(sig["sample_png"](seed=seed, truncation=tf.zeros([3]))["png_bytes"].numpy())
print(json.dumps(out))
""")
    assert result["blocked"]
    assert result["signatures"] == ["sample", "sample_png", "sample_truncated", "sample_uint8", "serving_default"]
    assert result["cap"] == ts.export.DEFAULT_MAX_BATCH_SIZE == 256
    assert result["default"] < 1e-5 and result["sample"] < 1e-5 and result["truncated"] < 1e-5
    assert result["sample_shape"] == [3, 2, 2, 3]
    assert result["inputs"] == ["seed", "truncation"]
    assert result["png"] == 3
    cli = shutil.which("saved_model_cli")
    assert cli, "saved_model_cli is installed with tensorflow"
    listing = subprocess.run([cli, "show", "--dir", path, "--all"], capture_output=True, text=True, timeout=300)
    assert listing.returncode == 0, listing.stderr[-2000:]
    for name in ("serving_default", "sample", "sample_truncated", "sample_uint8", "sample_png"):
        assert f"signature_def['{name}']" in listing.stdout
    assert "shape: (-1)" in listing.stdout  # seed and truncation: one value per image


def test_points_generator_gets_no_image_signatures(tmp_path):
    import tensorflow as tf

    g = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = ts.export_generator(g, tmp_path / "toy", latent_dim=3, max_batch_size=4)
    model = tf.saved_model.load(path)
    assert sorted(model.signatures) == ["sample", "sample_truncated", "serving_default"]
    points = model.signatures["sample"](seed=tf.constant([9, 4], tf.int64))["images"].numpy()
    np.testing.assert_allclose(points, g(ts.export.seed_latents([9, 4], 3)).numpy(), atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="at most 4 images per request"):
        model.signatures["sample"](seed=tf.range(5, dtype=tf.int64))


def test_seed_latents_are_generate_one_seed_at_a_time():
    seeds, truncation = [3, -1, 2 ** 40], [0.7, 0.0, 1.5]
    z = ts.export.seed_latents(seeds, 5, truncation).numpy()
    for i, (s, t) in enumerate(zip(seeds, truncation)):
        np.testing.assert_allclose(z[i], ts.sampling.latent_normal(1, 5, s, t or None).numpy()[0], atol=1e-6)
    # generate(n, seed=s) draws n rows from one seed: its first row is seed s's row (up to float rounding: the
    # vectorised and scalar inverse normal CDF differ in the last bits).
    np.testing.assert_allclose(ts.sampling.latent_normal(4, 5, 3).numpy()[0], ts.export.seed_latents([3], 5)[0],
                               atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [({"latent_dim": 0}, "latent_dim"), ({"max_batch_size": 0}, "max_batch_size"),
                                           ({"max_batch_size": 2.5}, "max_batch_size"),
                                           ({"max_batch_size": True}, "max_batch_size")])
def test_export_arguments_are_checked(tmp_path, kwargs, match):
    g = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=match):
        ts.export_generator(g, tmp_path / "x", **{"latent_dim": 3, **kwargs})


def test_shipped_mnist_generator_serves_images():
    import tensorflow as tf

    model = tf.saved_model.load(str(REPO / "saved_models" / "mnist_dcgan" / "1"))
    images = model.signatures["sample"](seed=tf.constant([0, 1, 2], tf.int64))["images"].numpy()
    assert images.shape == (3, 28, 28, 1)
    assert images.min() >= -1.0 and images.max() <= 1.0 and images.std() > 0.05
    pngs = model.signatures["sample_png"](seed=tf.constant([0], tf.int64), truncation=tf.constant([0.0]))
    assert tf.io.decode_png(pngs["png_bytes"][0]).shape == (28, 28, 1)


def test_truncated_latents_respect_the_threshold_and_follow_the_normal():
    z = ts.sampling.latent_normal(20000, 8, seed=3, truncation=0.7).numpy()
    assert np.abs(z).max() <= 0.7
    full = ts.sampling.latent_normal(20000, 8, seed=3).numpy()
    # Mean 0 and variance 1 within 5 standard errors (n = 160000 values).
    assert abs(full.mean()) < 5 / np.sqrt(full.size)
    assert abs(full.var() - 1) < 5 * np.sqrt(2 / full.size)


def test_a_generator_s_further_inputs_become_inputs_of_every_signature(tmp_path):
    import tensorflow as tf
    z, y = keras.Input((4,), name="z"), keras.Input((), dtype="int32", name="labels")
    h = keras.layers.Concatenate()([z, keras.layers.Embedding(3, 2)(y)])
    g = keras.Model([z, y], keras.layers.Reshape((2, 2, 1))(keras.layers.Dense(4, activation="tanh")(h)))
    loaded = tf.saved_model.load(ts.export_generator(g, tmp_path / "cond", latent_dim=4, max_batch_size=8))
    for name, signature in loaded.signatures.items():
        spec = signature.structured_input_signature[1]["labels"]
        assert (spec.shape.as_list(), spec.dtype) == ([None], tf.int32), name
    seeds, labels = tf.constant([1, 2, 3], tf.int64), tf.constant([0, 2, 1], tf.int32)
    expected = g([ts.export.seed_latents(seeds, 4), labels]).numpy()
    np.testing.assert_allclose(loaded.signatures["sample"](seed=seeds, labels=labels)["images"].numpy(), expected,
                               atol=1e-5)
    zs = tf.constant(np.random.default_rng(0).normal(size=(3, 4)).astype("float32"))
    np.testing.assert_allclose(loaded.signatures["serving_default"](z=zs, labels=labels)["images"].numpy(),
                               g([zs, labels]).numpy(), atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`labels` has 1 rows but `seed` has 3"):
        loaded.signatures["sample"](seed=seeds, labels=labels[:1])
