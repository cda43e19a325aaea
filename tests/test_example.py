"""examples/train.py runs end to end on a tiny setting, writes PNG grids and a SavedModel, and builds the
discriminator each family's paper uses."""
import importlib.util
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import tfgan_stable as ts
from tests.conftest import REPO
from tests.subproc import run_together, worker_configs


def _example_module():
    """examples/train.py imported as a module (once: it defines absl flags)."""
    name = "tfgan_stable_example_train"
    if name not in sys.modules:
        sys.path.insert(0, str(REPO / "examples"))
        spec = importlib.util.spec_from_file_location(name, REPO / "examples" / "train.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _norm_layers(model):
    return {type(layer).__name__ for layer in model.layers
            if isinstance(layer, (keras.layers.BatchNormalization, keras.layers.LayerNormalization))}


@pytest.mark.parametrize("family", sorted(ts.FAMILIES))
def test_example_discriminator_norm_follows_the_family(family):
    """No batch-norm critic for the gradient-penalty families: batch statistics would couple the examples
    inside the per-example penalty (WGAN-GP: layer norm, as in Gulrajani et al.)."""
    _, discriminator = _example_module().build_nets(family, "mnist", latent_dim=8)
    expected = {"batch": {"BatchNormalization"}, "layer": {"LayerNormalization"}, "none": set()}
    assert _norm_layers(discriminator) == expected[ts.get_family(family).discriminator_norm]
    if family in ("wgan_gp", "dragan"):
        assert "BatchNormalization" not in _norm_layers(discriminator)


# One family per branch of build_nets: plain, a gradient-penalty critic, projection D, class head, Q head,
# autoencoder D (refused).
@pytest.mark.parametrize("family", ["ns", "wgan_gp", "cgan", "acgan", "infogan", "began"])
@pytest.mark.parametrize("net, image_size", [("resnet", None), ("progressive", 32)])
def test_example_image_nets(family, net, image_size):
    """--net=resnet gives SNGAN's nets (spectral norm in D, no normalisation layer there; projection for cgan,
    a class head for acgan), --net=progressive the growing nets at the requested side; the families that
    cannot use them (an autoencoder D; labels with the progressive nets) are refused by name."""
    module, family_class = _example_module(), ts.get_family(family)
    if issubclass(family_class, ts.EnergyGAN) or (net == "progressive" and family_class.conditional):
        with pytest.raises(ValueError, match=f"--family={family}"):
            module.build_nets(family, "mnist", 8, net=net, image_size=image_size, width=0.125)
        return
    generator, discriminator = module.build_nets(family, "mnist", 8, net=net, image_size=image_size, width=0.125)
    side = image_size or 28
    assert tuple(generator.outputs[0].shape) == (None, side, side, 1)
    assert len(generator.inputs) == (2 if family_class.conditional else 1)
    assert len(discriminator.inputs) == (2 if family == "cgan" else 1)
    assert len(discriminator.outputs) == (2 if family in ("acgan", "infogan") else 1)
    layers = {type(layer).__name__ for layer in discriminator._flatten_layers()}
    assert ("SpectralNormalization" in layers) == (net == "resnet")
    assert ("GrowingInput" in layers) == (net == "progressive")
    assert not layers & {"BatchNormalization", "LayerNormalization"}


def test_example_progressive_needs_a_power_of_two_side():
    with pytest.raises(ValueError, match="side 4·2"):
        _example_module().build_nets("ns", "mnist", 8, net="progressive")


@pytest.fixture(scope="module")
def example_tfds(prepared_tfds):
    """The run's TFDS folder, with MNIST prepared once (~30 s), not once per example run."""
    return prepared_tfds("mnist")


# acgan on MNIST covers the plain image path and the conditional one (labelled data, one grid row per class);
# the progressive nets add the growing callback on MNIST resized to 32x32.
@pytest.mark.parametrize("family, dataset, shape, jit, extra", [
    ("wgan_gp", "ring8", (4, 2), "auto", []),
    ("acgan", "mnist", (4, 28, 28, 1), "false", []),
    ("wgan_gp", "mnist", (4, 32, 32, 1), "false", ["--net=progressive", "--image_size=32", "--stable_steps=1",
                                                   "--fade_steps=2"])])
def test_example_trains_writes_grids_and_exports(tmp_path, shared_data, example_tfds, family, dataset, shape, jit,
                                                extra):
    cmd = [sys.executable, str(REPO / "examples" / "train.py"), f"--family={family}", f"--dataset={dataset}",
           "--epochs=2", "--steps_per_epoch=3", "--batch_size=16", "--latent_dim=8", "--n_critic=2",
           f"--jit_compile={jit}", f"--data_dir={shared_data}", f"--tfds_dir={example_tfds}",
           f"--output_dir={tmp_path / 'out'}", f"--export_dir={tmp_path / 'export'}", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    if jit == "auto":  # the choice is measured and both rates are reported
        assert "steps/s without XLA" in proc.stdout and "with XLA on this machine" in proc.stdout, proc.stdout
    grids = sorted((tmp_path / "out" / "samples").glob("*.png"))
    assert [g.name for g in grids] == ["epoch_0001.png", "epoch_0002.png"]
    assert Image.open(grids[-1]).size[0] > 0
    model = tf.saved_model.load(str(tmp_path / "export"))
    # (a conditional family's signatures take one label per image)
    labels = {"labels": tf.constant([0, 1, 2, 3], tf.int32)} if ts.get_family(family).conditional else {}
    images = model.signatures["sample"](seed=tf.constant([1, 2, 3, 4], tf.int64), **labels)["images"]
    assert tuple(images.shape) == shape and np.all(np.isfinite(images.numpy()))


def test_example_trains_on_two_workers(tmp_path):
    """--strategy=multiworker: two worker processes (TF_CONFIG on 127.0.0.1) train together; only worker 0
    keeps its sample grid and SavedModel."""
    commands = {f"worker{i}": ([sys.executable, str(REPO / "examples" / "train.py"), "--strategy=multiworker",
                                "--dataset=ring8", "--epochs=1", "--steps_per_epoch=2", "--batch_size=16",
                                "--latent_dim=8", "--jit_compile=false", f"--output_dir={tmp_path / f'out{i}'}",
                                f"--export_dir={tmp_path / f'export{i}'}"], {"TF_CONFIG": config})
                for i, config in enumerate(worker_configs(2))}
    run_together(commands, tmp_path, timeout=300)
    assert [g.name for g in (tmp_path / "out0" / "samples").glob("*.png")] == ["epoch_0001.png"]
    images = tf.saved_model.load(str(tmp_path / "export0")).signatures["sample"](seed=tf.constant([1, 2], tf.int64))
    assert tuple(images["images"].shape) == (2, 2)
    assert not (tmp_path / "out1").exists() and not (tmp_path / "export1").exists()


def test_example_strategy_errors(monkeypatch):
    """A TPU that is not there, and a missing or malformed TF_CONFIG, are clear errors before any training."""
    make_strategy = _example_module().make_strategy
    with pytest.raises(ValueError, match="no TPU could be reached"):
        make_strategy("tpu")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="needs TF_CONFIG"):
        make_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:1"]}}')
    with pytest.raises(ValueError, match="TF_CONFIG must be JSON with cluster.worker"):
        make_strategy("multiworker")
