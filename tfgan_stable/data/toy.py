"""2-D mixtures of Gaussians for mode-collapse experiments, as set up in PacGAN (Lin et al. 2018).

* "ring8": 8 modes evenly spaced on the unit circle, (cos 2πk/8, sin 2πk/8), k = 0..7, std 0.01.
* "grid25": 25 modes on the grid {-4, -2, 0, 2, 4}², std 0.05.

Every mode has the same weight and an isotropic covariance std²·I. The same protocol (with these
constants) is used by VEEGAN (Srivastava et al. 2017) and later mode-collapse papers.
"""
import itertools
import math

import numpy as np
import tensorflow as tf


class GaussianMixture2D:
    """An equal-weight mixture of isotropic 2-D Gaussians: x = centers[k] + std · ε, k ~ U{0..K-1}, ε ~ N(0, I).

    Sampling is stateless: the same seed always gives the same points.

    Args:
      name: a short name (e.g. "ring8").
      centers: array-like [K, 2] of mode centres.
      std: standard deviation of every mode along each axis (> 0).

    Attributes:
      name, centers (read-only float64 array [K, 2]), std, num_modes.
    """

    def __init__(self, name, centers, std):
        centers = np.array(centers, dtype=np.float64)
        if centers.ndim != 2 or centers.shape[1] != 2 or centers.shape[0] < 1:
            raise ValueError(f"`centers` must have shape [K, 2] with K >= 1, got {centers.shape}")
        if not std > 0:
            raise ValueError(f"`std` must be positive, got {std!r}")
        centers.setflags(write=False)
        self.name = name
        self.centers = centers
        self.std = float(std)
        self.num_modes = centers.shape[0]

    def __repr__(self):
        return f"GaussianMixture2D(name={self.name!r}, num_modes={self.num_modes}, std={self.std})"

    def sample(self, n, seed=0):
        """Draws `n` points as a float32 numpy array [n, 2], determined by the integer `seed`."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"`n` must be a positive integer, got {n!r}")
        return self._sample(tf.constant(int(n)), _seed_pair(seed, 0)).numpy()

    def _sample(self, n, seed):
        """The one sampler (TF, stateless): `seed` is a shape-[2] int64 tensor."""
        mode_seed, noise_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        modes = tf.random.stateless_uniform([n], mode_seed, minval=0, maxval=self.num_modes, dtype=tf.int32)
        noise = tf.random.stateless_normal([n, 2], noise_seed, dtype=tf.float32)
        return tf.gather(tf.constant(self.centers, tf.float32), modes) + self.std * noise


def _seed_pair(seed, index):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"`seed` must be an integer, got {seed!r}")
    return tf.constant([int(seed), index], tf.int64)


RING8 = GaussianMixture2D(
    "ring8", [(math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8)) for k in range(8)], std=0.01)
GRID25 = GaussianMixture2D(
    "grid25", list(itertools.product((-4.0, -2.0, 0.0, 2.0, 4.0), repeat=2)), std=0.05)
_TOYS = {t.name: t for t in (RING8, GRID25)}
TOY_DISTRIBUTIONS = tuple(_TOYS)


def toy_distribution(name):
    """Returns the `GaussianMixture2D` called `name` ("ring8" or "grid25"), with its centres and std."""
    if name not in _TOYS:
        raise ValueError(f"`name` must be one of {TOY_DISTRIBUTIONS}, got {name!r}")
    return _TOYS[name]


def toy_dataset(name, batch_size=100, seed=0):
    """An infinite `tf.data.Dataset` of float32 batches [batch_size, 2] from a toy mixture.

    Batch i is drawn with the stateless seed (seed, i), so the stream is the same on every run and under
    any number of parallel calls. (PacGAN trains on batches of 100.)

    Args:
      name: "ring8" or "grid25".
      batch_size: positive int.
      seed: int.
    """
    toy = toy_distribution(name)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}")
    seed = int(_seed_pair(seed, 0)[0])
    n = int(batch_size)

    def draw(index):
        return tf.ensure_shape(toy._sample(n, tf.stack([tf.constant(seed, tf.int64), index])), [n, 2])

    return tf.data.Dataset.counter(dtype=tf.int64).map(draw, num_parallel_calls=tf.data.AUTOTUNE) \
        .prefetch(tf.data.AUTOTUNE)
