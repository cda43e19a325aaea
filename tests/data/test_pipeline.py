"""tfgan_stable.data.load on the real local files (../shared/data), prepared by TFDS offline.

TFDS prepares each dataset (both splits) once per test run into a folder shared by the pytest-xdist
workers (conftest's `prepared_tfds`; about 30 s for MNIST on one core); the checks read the 10k-image test
splits.
"""
import gzip
import hashlib
import io
import os
import tarfile

import numpy as np
import pytest
from PIL import Image

from tfgan_stable import data
from tfgan_stable.data import tfds_builders

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # SOURCES.md


@pytest.fixture(scope="module")
def tfds_dir(prepared_tfds):
    return prepared_tfds("mnist", "fashion_mnist", "cifar10")


def _all(ds):
    """Concatenates a finite dataset of (images, labels) batches into two numpy arrays."""
    images, labels = [], []
    for x, y in ds:
        images.append(x.numpy())
        labels.append(y.numpy())
    return np.concatenate(images), np.concatenate(labels)


def _to_uint8(images):
    pixels = (images.astype(np.float64) + 1.0) * 127.5
    np.testing.assert_allclose(pixels, np.round(pixels), atol=1e-3)  # exactly x / 127.5 - 1
    return np.round(pixels).astype(np.uint8)


def _sorted_examples(pixels, labels):
    """The examples as a sorted list of (label, sha1 of the pixels): compares two splits as multisets."""
    return sorted((int(y), hashlib.sha1(x.tobytes()).hexdigest()) for x, y in zip(pixels, labels))


@pytest.mark.parametrize("name, folder", [("mnist", "mnist"), ("fashion_mnist", "fashion-mnist")])
def test_idx_test_split_holds_exactly_the_idx_files_examples(name, folder, shared_data, tfds_dir):
    ds = data.load(name, "test", batch_size=2500, data_dir=shared_data, with_labels=True, shuffle=False,
                   tfds_dir=tfds_dir)
    assert ds.element_spec[0].shape.as_list() == [2500, 28, 28, 1]
    assert ds.element_spec[0].dtype.name == "float32" and ds.element_spec[1].dtype.name == "int32"
    images, labels = _all(ds)
    assert images.shape == (10000, 28, 28, 1)
    assert images.min() == -1.0 and images.max() == 1.0
    expected_images = data.read_idx(os.path.join(shared_data, folder, "t10k-images-idx3-ubyte.gz"))
    expected_labels = data.read_idx(os.path.join(shared_data, folder, "t10k-labels-idx1-ubyte.gz"))
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.bincount(expected_labels, minlength=10))
    if name == "fashion_mnist":  # also rules out MNIST files leaking into Fashion-MNIST
        np.testing.assert_array_equal(np.bincount(labels), [1000] * 10)
    assert _sorted_examples(_to_uint8(images)[..., 0], labels) == _sorted_examples(expected_images, expected_labels)


def test_mnist_train_label_counts_match_sources(shared_data, tfds_dir):
    ds = data.load("mnist", "train", batch_size=1000, data_dir=shared_data, with_labels=True, tfds_dir=tfds_dir)
    _, labels = _all(ds)
    assert labels.shape == (60000,)
    np.testing.assert_array_equal(np.bincount(labels), MNIST_TRAIN_COUNTS)


def test_cifar10_test_split_matches_an_independent_jpeg_decode(shared_data, tfds_dir):
    ds = data.load("cifar10", "test", batch_size=1000, data_dir=shared_data, with_labels=True, tfds_dir=tfds_dir)
    assert ds.element_spec[0].shape.as_list() == [1000, 32, 32, 3]
    images, labels = _all(ds)
    assert images.shape == (10000, 32, 32, 3) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    np.testing.assert_array_equal(np.bincount(labels), [1000] * 10)
    # The same examples as decoding every JPEG of the tarball with Pillow (libjpeg's accurate IDCT).
    expected_images, expected_labels = [], []
    with tarfile.open(os.path.join(shared_data, "cifar10-jpeg", "cifar10-jpeg-test.tar.gz")) as tar:
        for member in tar:
            if member.isfile():
                expected_labels.append(tfds_builders.CIFAR10_CLASSES.index(member.name.split("/")[1]))
                expected_images.append(np.asarray(Image.open(io.BytesIO(tar.extractfile(member).read()))))
    assert _sorted_examples(_to_uint8(images), labels) == _sorted_examples(expected_images, expected_labels)


def _two_epochs(shared_data, tfds_dir, seed, shuffle=True):
    """The first 1000 images of two successive passes over the MNIST test split."""
    ds = data.load("mnist", "test", batch_size=500, data_dir=shared_data, seed=seed, shuffle=shuffle,
                   tfds_dir=tfds_dir)
    return [np.concatenate([b.numpy() for b in ds.take(2)]) for _ in range(2)]


def test_shuffle_order_is_fixed_by_the_seed(shared_data, tfds_dir):
    run1 = _two_epochs(shared_data, tfds_dir, seed=3)
    run2 = _two_epochs(shared_data, tfds_dir, seed=3)
    for epoch in range(2):
        np.testing.assert_array_equal(run1[epoch], run2[epoch])
    assert not np.array_equal(run1[0], run1[1])  # reshuffled each epoch
    assert not np.array_equal(_two_epochs(shared_data, tfds_dir, seed=4)[0], run1[0])
    stored = _two_epochs(shared_data, tfds_dir, seed=3, shuffle=False)
    np.testing.assert_array_equal(stored[0], stored[1])  # without shuffling: the stored order every time
    np.testing.assert_array_equal(stored[0], _two_epochs(shared_data, tfds_dir, seed=4, shuffle=False)[0])
    assert not np.array_equal(stored[0], run1[0])


def test_a_resumed_position_reads_the_rest_of_the_epoch_then_the_same_epochs(shared_data, tfds_dir):
    """What a fit resumed at step 13 reads (GAN.fit seeks the restored step): the uninterrupted run's batches."""
    def mnist():
        return data.load("mnist", "test", batch_size=1000, data_dir=shared_data, seed=5, tfds_dir=tfds_dir)

    uninterrupted = mnist()
    assert int(uninterrupted.cardinality()) == 10
    epochs = [[b.numpy() for b in uninterrupted] for _ in range(3)]
    resumed = mnist()
    resumed.data_position.seek(13)  # batch 3 of epoch 1
    rest, following = [b.numpy() for b in resumed], [b.numpy() for b in resumed]
    assert len(rest) == 7 and len(following) == 10
    for a, b in zip(rest + following, epochs[1][3:] + epochs[2]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("drop_remainder, sizes", [(True, [3000, 3000, 3000]), (False, [3000, 3000, 3000, 1000])])
def test_drop_remainder(shared_data, tfds_dir, drop_remainder, sizes):
    ds = data.load("mnist", "test", batch_size=3000, data_dir=shared_data, drop_remainder=drop_remainder,
                   tfds_dir=tfds_dir)
    assert [int(b.shape[0]) for b in ds] == sizes


def test_without_data_dir_tfds_reuses_the_prepared_dataset(shared_data, tfds_dir):
    local = data.load("mnist", "test", batch_size=1000, data_dir=shared_data, shuffle=False, tfds_dir=tfds_dir)
    # data_dir=None is the plain-TFDS route; the dataset is already prepared in tfds_dir, so nothing is fetched.
    plain = data.load("mnist", "test", batch_size=1000, shuffle=False, tfds_dir=tfds_dir)
    for a, b in zip(local.take(2), plain.take(2)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _bilinear(image, side):
    """Half-pixel-centre bilinear resizing of one [h, w, c] image (source coordinate (i + 0.5)·h/side − 0.5,
    clamped at the borders), written out in numpy."""
    def weights(size):
        pos = np.clip((np.arange(side) + 0.5) * size / side - 0.5, 0, size - 1)
        low = np.floor(pos).astype(int)
        high = np.minimum(low + 1, size - 1)
        return low, high, pos - low
    r0, r1, fr = weights(image.shape[0])
    c0, c1, fc = weights(image.shape[1])
    rows = image[r0] * (1 - fr)[:, None, None] + image[r1] * fr[:, None, None]
    return rows[:, c0] * (1 - fc)[None, :, None] + rows[:, c1] * fc[None, :, None]


def test_image_size_resizes_bilinearly(shared_data, tfds_dir):
    """MNIST at 32x32 (as the progressive and ResNet examples train it) is the 28x28 image, bilinearly resized."""
    native = next(iter(data.load("mnist", "test", batch_size=4, data_dir=shared_data, shuffle=False,
                                 tfds_dir=tfds_dir))).numpy()
    resized = next(iter(data.load("mnist", "test", batch_size=4, data_dir=shared_data, shuffle=False,
                                  tfds_dir=tfds_dir, image_size=32))).numpy()
    assert resized.shape == (4, 32, 32, 1)
    np.testing.assert_allclose(resized, np.stack([_bilinear(x.astype(np.float64), 32) for x in native]), atol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(name="svhn"), "`name` must be one of"),
    (dict(name="mnist", image_size=0), "`image_size` must be None or a positive integer"),
    (dict(name="mnist", image_size=32.0), "`image_size` must be None or a positive integer"),
    (dict(name="mnist", split="validation"), "`split` must be one of"),
    (dict(name="mnist", batch_size=0), "`batch_size` must be a positive integer"),
    (dict(name="mnist", batch_size=-8), "`batch_size` must be a positive integer"),
    (dict(name="mnist", batch_size=2.5), "`batch_size` must be a positive integer"),
    (dict(name="mnist", seed="x"), "`seed` must be an integer"),
])
def test_bad_arguments(kwargs, message, shared_data, tmp_path):
    with pytest.raises(ValueError, match=message):
        data.load(data_dir=shared_data, tfds_dir=tmp_path, **kwargs)


def test_missing_data_dir_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="`data_dir` is not a directory"):
        data.load("mnist", data_dir=tmp_path / "nowhere", tfds_dir=tmp_path / "tfds")
    (tmp_path / "cifar10-jpeg").mkdir()
    (tmp_path / "cifar10-jpeg" / "cifar10-jpeg-train.tar.gz").write_bytes(b"")
    expected = os.path.join(tmp_path, "cifar10-jpeg", "cifar10-jpeg-test.tar.gz")
    with pytest.raises(ValueError, match="'cifar10-jpeg-test.tar.gz' is missing") as info:
        data.load("cifar10", data_dir=tmp_path, tfds_dir=tmp_path / "tfds")
    assert expected in str(info.value)


def test_a_file_with_another_checksum_is_rejected(shared_data, tmp_path):
    folder = tmp_path / "raw" / "mnist"
    folder.mkdir(parents=True)
    for file in os.listdir(os.path.join(shared_data, "mnist")):
        os.symlink(os.path.join(shared_data, "mnist", file), folder / file)
    # Same IDX content, different gzip bytes: not the registered file.
    original = gzip.decompress((folder / "t10k-images-idx3-ubyte.gz").read_bytes())
    os.unlink(folder / "t10k-images-idx3-ubyte.gz")
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(original, compresslevel=1, mtime=0))
    with pytest.raises(ValueError, match="does not match the registered size/sha256"):
        data.load("mnist", data_dir=tmp_path / "raw", tfds_dir=tmp_path / "tfds")
    assert not (tmp_path / "tfds" / "mnist" / "3.0.1").exists()
