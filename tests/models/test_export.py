"""Generator SavedModel: both signatures, reloaded in a fresh process where tfgan_stable cannot be imported."""
import json
import shutil
import subprocess

import keras
import numpy as np

import tfgan_stable as ts
from tests.conftest import REPO
from tests.subproc import run_python


def test_export_round_trip_without_the_package(tmp_path):
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16), keras.layers.BatchNormalization(),
                          keras.layers.ReLU(), keras.layers.Dense(12, activation="tanh"), keras.layers.Reshape((2, 2, 3))])
    d = keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Flatten(), keras.layers.Dense(1)])
    gan = ts.NonSaturatingGAN(g, d, latent_dim=6)
    path = gan.export_generator(str(tmp_path / "gen" / "1"))
    z = np.random.RandomState(1).normal(size=(5, 6)).astype(np.float32)
    expected = {"z": z.tolist(), "g_z": g(z, training=False).numpy().tolist(),
                "sample": gan.generate(4, seed=123).numpy().tolist(),
                "truncated": gan.generate(4, seed=123, truncation=0.5).numpy().tolist()}
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
out = {{"blocked": blocked, "signatures": sorted(sig.keys())}}
z = tf.constant(exp["z"], tf.float32)
out["default"] = float(np.abs(sig["serving_default"](z=z)["images"].numpy() - np.array(exp["g_z"])).max())
s = sig["sample"](batch_size=tf.constant(4), seed=tf.constant(123, tf.int64))["images"].numpy()
out["sample"] = float(np.abs(s - np.array(exp["sample"])).max())
out["sample_shape"] = list(s.shape)
t = sig["sample_truncated"](batch_size=tf.constant(4), seed=tf.constant(123, tf.int64),
                            truncation=tf.constant(0.5))["images"].numpy()
out["truncated"] = float(np.abs(t - np.array(exp["truncated"])).max())
out["inputs"] = sorted(sig["sample_truncated"].structured_input_signature[1].keys())
print(json.dumps(out))
""")
    assert result["blocked"]
    assert result["signatures"] == ["sample", "sample_truncated", "serving_default"]
    assert result["default"] < 1e-5 and result["sample"] < 1e-5 and result["truncated"] < 1e-5
    assert result["sample_shape"] == [4, 2, 2, 3]
    assert result["inputs"] == ["batch_size", "seed", "truncation"]
    cli = shutil.which("saved_model_cli")
    assert cli, "saved_model_cli is installed with tensorflow"
    listing = subprocess.run([cli, "show", "--dir", path, "--all"], capture_output=True, text=True, timeout=300)
    assert listing.returncode == 0, listing.stderr[-2000:]
    for name in ("serving_default", "sample", "sample_truncated"):
        assert f"signature_def['{name}']" in listing.stdout


def test_shipped_mnist_generator_serves_images():
    import tensorflow as tf

    model = tf.saved_model.load(str(REPO / "saved_models" / "mnist_dcgan" / "1"))
    images = model.signatures["sample"](batch_size=tf.constant(3), seed=tf.constant(0, tf.int64))["images"].numpy()
    assert images.shape == (3, 28, 28, 1)
    assert images.min() >= -1.0 and images.max() <= 1.0 and images.std() > 0.05


def test_truncated_latents_respect_the_threshold_and_follow_the_normal():
    z = ts.sampling.latent_normal(20000, 8, seed=3, truncation=0.7).numpy()
    assert np.abs(z).max() <= 0.7
    full = ts.sampling.latent_normal(20000, 8, seed=3).numpy()
    # Mean 0 and variance 1 within 5 standard errors (n = 160000 values).
    assert abs(full.mean()) < 5 / np.sqrt(full.size)
    assert abs(full.var() - 1) < 5 * np.sqrt(2 / full.size)
