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
    """The trained MNIST classifier as a feature network: images → [features [n, 128], logits [n, 10]].

    Weights from `scripts/train_mnist_classifier.py` (shipped with the package).
    """
    if not os.path.exists(weights):
        raise ValueError(f"classifier weights not found at {weights!r}; make them with "
                         f"`python scripts/train_mnist_classifier.py`")
    model = mnist_classifier_network()
    model.load_weights(weights)
    return keras.Model(model.inputs[0], [model.get_layer("features").output, model.outputs[0]],
                       name="mnist_features")


def inception_network(weights):
    """Keras InceptionV3 as a feature network: images in [-1, 1] → [pool features [n, 2048], logits [n, 1000]].

    Inputs of any size and 1 or 3 channels are resized bilinearly to 299×299 (grey is repeated to RGB);
    InceptionV3 expects exactly this [-1, 1] scaling. The ImageNet weights must be a local file: this
    package never downloads. On a machine with internet, `keras.applications.InceptionV3(weights="imagenet")`
    stores them as ~/.keras/models/inception_v3_weights_tf_dim_ordering_tf_kernels.h5; copy that file.
    FID computed with these Keras weights is NOT the number papers report: those use the TF-Slim
    Inception graph of Heusel et al. 2017 (different weights and resizing), so compare only numbers made
    with the same network.

    Args:
      weights: path of the InceptionV3 weights file (with the top), or None for random weights (tests).
    """
    if weights is not None and not os.path.exists(weights):
        raise ValueError(f"InceptionV3 weights not found at {weights!r}. This package does not download: on a "
                         f"machine with internet run keras.applications.InceptionV3(weights='imagenet'), then "
                         f"copy ~/.keras/models/inception_v3_weights_tf_dim_ordering_tf_kernels.h5 here")
    base = keras.applications.InceptionV3(weights=None, include_top=True, classifier_activation=None)
    if weights is not None:
        base.load_weights(weights)
    images = keras.Input((None, None, None), name="images")
    x = keras.layers.Resizing(299, 299, interpolation="bilinear", name="resize")(images)
    x = keras.layers.Lambda(lambda t: keras.ops.concatenate([t] * 3, axis=-1) if t.shape[-1] == 1 else t,
                            name="to_rgb")(x)
    head = keras.Model(base.inputs[0], [base.get_layer("avg_pool").output, base.outputs[0]])
    features, logits = head(x)
    return keras.Model(images, [features, logits], name="inception_features")


def classify(network, images, batch_size=500):
    """Runs a feature network (images → [features, logits]) and returns (features, softmax probabilities).

    Args:
      network: e.g. `mnist_classifier()` or `inception_network(path)`.
      images: array [n, h, w, c] in [-1, 1].
      batch_size: images per call.
    """
    images = _check_images(images)
    feats, logits = [], []
    for start in range(0, images.shape[0], batch_size):
        f, l = network(images[start:start + batch_size], training=False)
        feats.append(np.asarray(f, np.float64))
        logits.append(np.asarray(l, np.float64))
    logits = np.concatenate(logits)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.concatenate(feats), probs / probs.sum(axis=1, keepdims=True)


def _check_images(images):
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"`images` must have shape [n, height, width, 1 or 3], got {images.shape}")
    if not np.issubdtype(images.dtype, np.floating) or images.min() < -1.001 or images.max() > 1.001:
        raise ValueError("`images` must be floating point in [-1, 1] (for uint8 pixels use x / 127.5 - 1)")
    return images.astype(np.float32)
