"""Image datasets for GAN training as `tf.data` pipelines, prepared by TFDS (offline from local files)."""
import os
import tempfile

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow_datasets.core.download.download_manager import NonMatchingChecksumError

from tfgan_stable.data import tfds_builders
from tfgan_stable.data.resumable import resumable

_IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

# name -> (TFDS name when online, local builder, sub-folder of `data_dir`, files it needs there)
_DATASETS = {
    "mnist": ("mnist", tfds_builders.LocalMnist, "mnist", _IDX_FILES),
    "fashion_mnist": ("fashion_mnist", tfds_builders.LocalFashionMnist, "fashion-mnist", _IDX_FILES),
    "cifar10": ("cifar10", tfds_builders.Cifar10Jpeg, "cifar10-jpeg",
                ("cifar10-jpeg-train.tar.gz", "cifar10-jpeg-test.tar.gz")),
}
SPLITS = ("train", "test")
DATASETS = tuple(_DATASETS)


def load(name, split="train", batch_size=64, data_dir=None, with_labels=False, shuffle=True, seed=0,
         drop_remainder=True, tfds_dir=None, image_size=None):
    """A batched `tf.data.Dataset` of images scaled to [-1, 1], prepared through TFDS.

    With `data_dir`, the dataset is prepared offline from local raw files, laid out as
    `data_dir/mnist/*-ubyte.gz`, `data_dir/fashion-mnist/*-ubyte.gz` and
    `data_dir/cifar10-jpeg/cifar10-jpeg-{train,test}.tar.gz` (see `tfds_builders`; the IDX files are
    checked against registered sizes and sha256 sums). CIFAR-10 then comes from the JPEG copy
    (TFDS name "cifar10_jpeg"). Without `data_dir`, TFDS's own builders are used as `tfds.load` would
    (downloading if needed). Either way the prepared TFRecords go to `tfds_dir` once and are reused.

    Pixels x in {0..255} become x / 127.5 - 1 (float32, NHWC). With `shuffle`, each epoch e holds the
    whole split in a random order keyed by (`seed`, e); without it, TFDS's stored order is kept. The
    dataset is a `resumable` one: each iteration runs to the end of the current epoch, and `GAN.fit`
    starts it at the training step, so a `fit` interrupted mid-epoch and resumed with
    `keras.callbacks.BackupAndRestore(save_freq=N)` reads the same batches as an uninterrupted run.

    Args:
      name: "mnist", "fashion_mnist" or "cifar10".
      split: "train" or "test".
      batch_size: positive int.
      data_dir: folder with the raw files (layout above), or None to use TFDS's downloads.
      with_labels: if True, yield `(images, labels)` with int32 labels in [0, 10).
      shuffle: whether to shuffle the examples.
      seed: int seed of the shuffle order.
      drop_remainder: drop the last partial batch (keeps every batch the same size).
      tfds_dir: where TFDS writes the prepared dataset; None means TFDS's default (~/tensorflow_datasets).
      image_size: None (the stored size), or a side s: every image is resized to s x s with bilinear
        interpolation after scaling (e.g. 32 to train MNIST on the 32x32 ResNet or progressive nets).

    Returns:
      A `tf.data.Dataset` of float32 images [batch, H, W, C] (or `(images, labels)`), prefetched, with a
      `data_position` attribute (see `resumable`).

    Example:
      ds = tfgan_stable.data.load("mnist", batch_size=128, data_dir="../shared/data", tfds_dir="/tmp/tfds")
    """
    if name not in _DATASETS:
        raise ValueError(f"`name` must be one of {DATASETS}, got {name!r}")
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}, got {split!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"`seed` must be an integer, got {seed!r}")
    if image_size is not None and (isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer))
                                   or image_size <= 0):
        raise ValueError(f"`image_size` must be None or a positive integer side, got {image_size!r}")
    tfds_dir = None if tfds_dir is None else os.fspath(tfds_dir)
    if data_dir is None:
        builder = tfds.builder(_DATASETS[name][0], data_dir=tfds_dir)
        builder.download_and_prepare()
    else:
        builder = _prepare_local(name, os.fspath(data_dir), tfds_dir)
    return _pipeline(builder, split, int(batch_size), with_labels, shuffle, int(seed), drop_remainder,
                     None if image_size is None else int(image_size))


def _prepare_local(name, data_dir, tfds_dir):
    """Checks the raw files, then lets TFDS prepare the dataset from them (once per `tfds_dir`)."""
    _, builder_cls, subdir, files = _DATASETS[name]
    if not os.path.isdir(data_dir):
        raise ValueError(f"`data_dir` is not a directory: {data_dir!r}")
    folder = os.path.join(data_dir, subdir)
    for file in files:
        path = os.path.join(folder, file)
        if not os.path.isfile(path):
            raise ValueError(f"{name}: the file {file!r} is missing; expected it at {path} "
                             f"(`data_dir` must hold {subdir}/ with {', '.join(files)})")
    builder = builder_cls(data_dir=tfds_dir)
    config = tfds.download.DownloadConfig(manual_dir=folder, try_download_gcs=False,
                                          force_checksums_validation=True)
    # TFDS names an extraction after the archive's file name alone, and MNIST and Fashion-MNIST share
    # file names: extract into a private temporary folder so one dataset never reuses the other's files.
    with tempfile.TemporaryDirectory(prefix="tfgan_stable_extract_", ignore_cleanup_errors=True) as scratch:
        try:
            builder.download_and_prepare(download_dir=scratch, download_config=config)
        except NonMatchingChecksumError as error:
            raise ValueError(f"{name}: a file in {folder} does not match the registered size/sha256 "
                             f"(tfgan_stable/data/checksums.tsv):\n{error}") from error
    return builder


def _pipeline(builder, split, batch_size, with_labels, shuffle, seed, drop_remainder, image_size):
    """Reads a prepared split: order the encoded records by (seed, epoch), decode, scale to [-1, 1], batch."""
    records = builder.as_dataset(split=split, shuffle_files=False, decoders={"image": tfds.decode.SkipDecoding()})
    columns = ("image", "label") if with_labels else ("image",)
    # Ordering the encoded records (a few hundred bytes each) lets one epoch's order hold the whole split.
    records = records.map(lambda example: {key: example[key] for key in columns})
    feature = builder.info.features["image"]

    def prepare(example):
        if feature.encoding_format == "jpeg":
            # TF's default JPEG decoding uses a fast, inexact inverse DCT that darkens red and blue by about
            # one level on average on the CIFAR-10 JPEGs; the accurate one gives libjpeg's (Pillow's) pixels.
            image = tf.io.decode_jpeg(example["image"], channels=feature.shape[-1], dct_method="INTEGER_ACCURATE")
            image = tf.ensure_shape(image, feature.shape)
        else:
            image = feature.decode_example(example["image"])
        image = tf.cast(image, tf.float32) / 127.5 - 1.0
        if image_size is not None and tuple(feature.shape[:2]) != (image_size, image_size):
            image = tf.image.resize(image, (image_size, image_size), method="bilinear")
        if with_labels:
            return image, tf.cast(example["label"], tf.int32)
        return image

    return resumable(records, batch_size, seed=seed, shuffle=shuffle, drop_remainder=drop_remainder,
                     prepare=prepare)
