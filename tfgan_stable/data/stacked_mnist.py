"""Stacked MNIST (Srivastava et al. 2017, VEEGAN; Lin et al. 2018, PacGAN): 1,000 modes from three digits.

Each sample stacks three MNIST digits drawn independently and uniformly from the chosen split as the
channels of a 28×28×3 image; its mode is 100·d₁ + 10·d₂ + d₃ for the digits d₁, d₂, d₃ of channels 0, 1, 2.
"""
import os

import numpy as np
import tensorflow as tf

from tfgan_stable.data.idx import read_idx


def _mnist(data_dir, split):
    prefix = {"train": "train", "test": "t10k"}.get(split)
    if prefix is None:
        raise ValueError(f"`split` must be 'train' or 'test', got {split!r}")
    paths = [os.path.join(data_dir, f"{prefix}-{kind}-idx{rank}-ubyte.gz") for kind, rank in (("images", 3),
                                                                                              ("labels", 1))]
    for path in paths:
        if not os.path.exists(path):
            raise ValueError(f"MNIST file {os.path.basename(path)!r} not found in `data_dir` {data_dir!r}")
    return read_idx(paths[0]), read_idx(paths[1]).astype(np.int64)


def stacked_mnist(data_dir, num_samples, seed=0, split="train"):
    """Draws `num_samples` stacked-MNIST images as numpy arrays.

    Args:
      data_dir: folder with the MNIST IDX .gz files (e.g. ../shared/data/mnist).
      num_samples: number of images.
      seed: seed of the digit choice.
      split: "train" or "test".

    Returns:
      (images float32 [n, 28, 28, 3] in [-1, 1], modes int64 [n] in 0..999).
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
        raise ValueError(f"`num_samples` must be a positive integer, got {num_samples!r}")
    images, labels = _mnist(data_dir, split)
    index = np.random.RandomState(seed).randint(0, len(images), size=(num_samples, 3))
    stacked = np.stack([images[index[:, c]] for c in range(3)], axis=-1).astype(np.float32) / 127.5 - 1.0
    modes = 100 * labels[index[:, 0]] + 10 * labels[index[:, 1]] + labels[index[:, 2]]
    return stacked, modes


def stacked_mnist_dataset(data_dir, batch_size=64, seed=0, split="train"):
    """An infinite `tf.data.Dataset` of stacked-MNIST batches [batch, 28, 28, 3] in [-1, 1].

    Batch i draws its 3·batch digit indices statelessly from (seed, i), so the stream is reproducible.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}")
    images = tf.constant(_mnist(data_dir, split)[0])

    def batch(i):
        index = tf.random.stateless_uniform([batch_size, 3], seed=tf.stack([tf.cast(seed, tf.int64), i]),
                                            maxval=images.shape[0], dtype=tf.int32)
        return tf.cast(tf.stack([tf.gather(images, index[:, c]) for c in range(3)], axis=-1), tf.float32) / 127.5 - 1.0

    return tf.data.Dataset.counter().map(batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
