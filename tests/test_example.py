"""examples/train.py runs end to end on a tiny setting and writes PNG grids and a SavedModel."""
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tests.conftest import REPO


@pytest.mark.parametrize("family, dataset, shape", [("ns", "mnist", (4, 28, 28, 1)), ("wgan_gp", "ring8", (4, 2))])
def test_example_trains_writes_grids_and_exports(tmp_path, shared_data, family, dataset, shape):
    cmd = [sys.executable, str(REPO / "examples" / "train.py"), f"--family={family}", f"--dataset={dataset}",
           "--epochs=2", "--steps_per_epoch=3", "--batch_size=16", "--latent_dim=8", "--n_critic=2",
           f"--data_dir={shared_data}", f"--tfds_dir={tmp_path / 'tfds'}", f"--output_dir={tmp_path / 'out'}",
           f"--export_dir={tmp_path / 'export'}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    grids = sorted((tmp_path / "out" / "samples").glob("*.png"))
    assert [g.name for g in grids] == ["epoch_0001.png", "epoch_0002.png"]
    assert Image.open(grids[-1]).size[0] > 0
    model = tf.saved_model.load(str(tmp_path / "export"))
    images = model.signatures["sample"](batch_size=tf.constant(4), seed=tf.constant(1, tf.int64))["images"]
    assert tuple(images.shape) == shape and np.all(np.isfinite(images.numpy()))
