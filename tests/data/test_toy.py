"""The 2-D toy mixtures (PacGAN's ring of 8 and grid of 25 Gaussians)."""
import itertools
import math

import numpy as np
import pytest
import tensorflow as tf

from tfgan_stable import data

N = 40_000


def test_mode_centres_and_std():
    ring = data.toy_distribution("ring8")
    assert ring is data.RING8 and ring.num_modes == 8 and ring.std == 0.01
    angles = np.degrees(np.arctan2(ring.centers[:, 1], ring.centers[:, 0])) % 360
    np.testing.assert_allclose(np.linalg.norm(ring.centers, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(angles, [0, 45, 90, 135, 180, 225, 270, 315], atol=1e-9)
    grid = data.toy_distribution("grid25")
    assert grid is data.GRID25 and grid.num_modes == 25 and grid.std == 0.05
    assert sorted(map(tuple, grid.centers)) == sorted(itertools.product([-4, -2, 0, 2, 4], repeat=2))
    with pytest.raises(ValueError):
        grid.centers[0, 0] = 1.0  # read-only


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_samples_have_the_mixture_statistics(name):
    toy = data.toy_distribution(name)
    x = toy.sample(N, seed=0)
    assert x.shape == (N, 2) and x.dtype == np.float32
    distances = np.linalg.norm(x[:, None, :].astype(np.float64) - toy.centers[None], axis=-1)
    mode = distances.argmin(axis=1)
    # Modes are >= 0.76 apart and sigma <= 0.05: every point lies within 6 sigma of its own centre.
    assert distances.min(axis=1).max() < 6 * toy.std
    k, sigma = toy.num_modes, toy.std
    counts = np.bincount(mode, minlength=k)
    # Equal weights: each count is Binomial(N, 1/k); allow 5 standard deviations.
    assert np.abs(counts - N / k).max() < 5 * math.sqrt(N * (1 / k) * (1 - 1 / k))
    for j in range(k):
        points = x[mode == j].astype(np.float64)
        m = len(points)
        # Mean: standard error sigma / sqrt(m); std: standard error about sigma / sqrt(2m).
        np.testing.assert_allclose(points.mean(axis=0), toy.centers[j], atol=5 * sigma / math.sqrt(m))
        np.testing.assert_allclose(points.std(axis=0, ddof=1), sigma, atol=5 * sigma / math.sqrt(2 * m))


def test_sampling_is_deterministic():
    a = data.RING8.sample(1000, seed=7)
    np.testing.assert_array_equal(a, data.RING8.sample(1000, seed=7))
    assert not np.array_equal(a, data.RING8.sample(1000, seed=8))


def test_toy_dataset_is_infinite_batched_and_seeded():
    ds = data.toy_dataset("grid25", batch_size=64, seed=5)
    assert ds.element_spec.shape.as_list() == [64, 2] and ds.element_spec.dtype == tf.float32
    assert ds.cardinality() == tf.data.INFINITE_CARDINALITY
    first = [b.numpy() for b in ds.take(3)]
    again = [b.numpy() for b in data.toy_dataset("grid25", batch_size=64, seed=5).take(3)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first[0], data.GRID25.sample(64, seed=5))  # batch 0 uses seed (5, 0)
    assert not np.array_equal(first[0], first[1])
    other = next(iter(data.toy_dataset("grid25", batch_size=64, seed=6))).numpy()
    assert not np.array_equal(other, first[0])


@pytest.mark.parametrize("call, message", [
    (lambda: data.toy_distribution("ring"), "`name` must be one of"),
    (lambda: data.toy_dataset("spiral", 10), "`name` must be one of"),
    (lambda: data.toy_dataset("ring8", 0), "`batch_size` must be a positive integer"),
    (lambda: data.toy_dataset("ring8", 8, seed=1.5), "`seed` must be an integer"),
    (lambda: data.RING8.sample(0), "`n` must be a positive integer"),
    (lambda: data.RING8.sample(10, seed="a"), "`seed` must be an integer"),
    (lambda: data.GaussianMixture2D("bad", [[0, 0, 0]], 0.1), r"`centers` must have shape \[K, 2\]"),
    (lambda: data.GaussianMixture2D("bad", [[0, 0]], 0.0), "`std` must be positive"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
