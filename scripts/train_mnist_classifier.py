"""Trains the MNIST classifier shipped in tfgan_stable/metrics/weights/ (feature network for classifier-FID/IS).

    python scripts/train_mnist_classifier.py --data_dir=../shared/data/mnist

Made the shipped weights with exactly that command (seed 0, 4 epochs, Adam 1e-3, batch 128, on the 60k
training images scaled to [-1, 1]); it prints the test accuracy (>= 99% is required by the tests).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

import keras  # noqa: E402
from tfgan_stable.data import read_idx  # noqa: E402
from tfgan_stable.metrics.classifier import WEIGHTS, mnist_classifier_network  # noqa: E402

flags.DEFINE_string("data_dir", "../shared/data/mnist", "folder with the MNIST IDX .gz files")
flags.DEFINE_integer("epochs", 4, "training epochs")
flags.DEFINE_string("output", WEIGHTS, "where the weights are written")
F = flags.FLAGS


def load(split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(F.data_dir, f"{prefix}-images-idx3-ubyte.gz")).astype(np.float32)
    labels = read_idx(os.path.join(F.data_dir, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int32)
    return images[..., None] / 127.5 - 1.0, labels


def main(_):
    keras.utils.set_random_seed(0)
    (x, y), (x_test, y_test) = load("train"), load("test")
    model = mnist_classifier_network()
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, y, batch_size=128, epochs=F.epochs, verbose=2)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")
    shipped = mnist_classifier_network()  # a fresh copy: save_weights of `model` would also store Adam's slots
    shipped.set_weights(model.get_weights())
    shipped.save_weights(F.output)


if __name__ == "__main__":
    app.run(main)
