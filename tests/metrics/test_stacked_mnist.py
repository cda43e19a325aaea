"""Stacked MNIST: the builder's modes are right, and real stacked MNIST covers ~all 1,000 modes."""
import numpy as np
import pytest

from tfgan_stable import metrics
from tfgan_stable.data import read_idx, stacked_mnist, stacked_mnist_dataset


def test_builder_stacks_the_right_digits(shared_data):
    images, modes = stacked_mnist(str(shared_data / "mnist"), 50, seed=1, split="test")
    raw = read_idx(str(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz"))
    labels = read_idx(str(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    index = np.random.RandomState(1).randint(0, len(raw), size=(50, 3))  # the documented draw
    np.testing.assert_allclose(images[..., 1], raw[index[:, 1]] / 127.5 - 1.0, atol=1e-6)  # float32 rounding
    np.testing.assert_array_equal(modes, 100 * labels[index[:, 0]] + 10 * labels[index[:, 1]] + labels[index[:, 2]])
    batch = next(iter(stacked_mnist_dataset(str(shared_data / "mnist"), batch_size=8, split="test")))
    assert batch.shape == (8, 28, 28, 3) and -1.0 <= float(batch.numpy().min()) and float(batch.numpy().max()) <= 1.0


def test_real_stacked_mnist_covers_all_modes(shared_data):
    images, modes = stacked_mnist(str(shared_data / "mnist"), 26000, seed=0, split="test")
    result = metrics.stacked_mnist_coverage(images)
    # The classifier's per-digit error (0.7%) moves a few samples but loses no mode at 26 samples per mode.
    assert result["modes"] >= 995
    assert result["kl"] < 0.05
    true_p = np.bincount(modes, minlength=1000) / len(modes)
    assert np.sum(true_p > 0) == 1000


def test_bad_inputs(shared_data, tmp_path):
    with pytest.raises(ValueError, match="not found"):
        stacked_mnist(str(tmp_path), 10)
    with pytest.raises(ValueError, match="28, 28, 3"):
        metrics.stacked_mnist_coverage(np.zeros((4, 28, 28, 1), np.float32))
