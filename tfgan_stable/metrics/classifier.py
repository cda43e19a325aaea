"""The MNIST classifier shipped with the package: feature network for classifier-FID/IS and mode counter."""
import os

import keras
import numpy as np

WEIGHTS = os.path.join(os.path.dirname(__file__), "weights", "mnist_classifier.weights.h5")


def mnist_classifier_network():
    """The architecture: two blocks of two 3×3 convs (32, then 64 channels) and a max-pool, a 128-unit feature
    layer, 10 logits.

    Input: images [batch, 28, 28, 1] in [-1, 1] (the GAN range). The 128-d "features" layer (after ReLU)
    is the embedding used for classifier-FID; the softmax of "logits" gives p(y|x) for classifier-IS.
    """
    images = keras.Input((28, 28, 1), name="images")
    x = images
    for block, channels in enumerate((32, 64), start=1):
        x = keras.layers.Conv2D(channels, 3, padding="same", activation="relu", name=f"conv_{block}a")(x)
        x = keras.layers.Conv2D(channels, 3, padding="same", activation="relu", name=f"conv_{block}b")(x)
        x = keras.layers.MaxPooling2D(name=f"pool_{block}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(0.3, name="dropout")(x)
    features = keras.layers.Dense(128, activation="relu", name="features")(x)
    logits = keras.layers.Dense(10, name="logits")(features)
    return keras.Model(images, logits, name="mnist_classifier")


def mnist_classifier(weights=WEIGHTS):
    """The trained MNIST classifier (see `scripts/train_mnist_classifier.py`), loaded from the shipped weights."""
    if not os.path.exists(weights):
        raise ValueError(f"classifier weights not found at {weights!r}; make them with "
                         f"`python scripts/train_mnist_classifier.py`")
    model = mnist_classifier_network()
    model.load_weights(weights)
    return model


def _check_images(images):
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != (28, 28, 1):
        raise ValueError(f"`images` must have shape [n, 28, 28, 1], got {images.shape}")
    if not np.issubdtype(images.dtype, np.floating) or images.min() < -1.001 or images.max() > 1.001:
        raise ValueError("`images` must be floating point in [-1, 1] (for uint8 pixels use x / 127.5 - 1)")
    return images.astype(np.float32)


def classify(model, images, batch_size=500):
    """Returns (features [n, 128], probabilities [n, 10]) of images in [-1, 1] under the MNIST classifier."""
    images = _check_images(images)
    head = keras.Model(model.inputs[0], [model.get_layer("features").output, model.outputs[0]])
    feats, logits = [], []
    for start in range(0, images.shape[0], batch_size):
        f, l = head(images[start:start + batch_size], training=False)
        feats.append(np.asarray(f))
        logits.append(np.asarray(l))
    logits = np.concatenate(logits).astype(np.float64)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.concatenate(feats), probs / probs.sum(axis=1, keepdims=True)
