"""The shipped MNIST classifier: accuracy, classifier-IS and classifier-FID on the real test set."""
import numpy as np
import pytest

from tfgan_stable import metrics
from tfgan_stable.data import read_idx


@pytest.fixture(scope="module")
def mnist_test(shared_data):
    images = read_idx(str(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz")).astype(np.float32)
    labels = read_idx(str(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz"))
    return images[..., None] / 127.5 - 1.0, labels


@pytest.fixture(scope="module")
def outputs(mnist_test):
    return metrics.classify(metrics.mnist_classifier(), mnist_test[0])


def test_accuracy_on_the_mnist_test_set(mnist_test, outputs):
    accuracy = np.mean(outputs[1].argmax(1) == mnist_test[1])
    assert accuracy >= 0.99


def test_classifier_inception_score_of_real_digits(outputs):
    mean, _ = metrics.inception_score(outputs[1], splits=10)
    assert mean > 9.5


def test_classifier_fid_separates_real_from_noise(outputs):
    features = outputs[0]
    assert features.shape == (10000, 128)
    same = metrics.frechet_distance_of(features[:5000], features[5000:])
    noise = np.random.RandomState(0).uniform(-1, 1, (2000, 28, 28, 1)).astype(np.float32)
    far = metrics.frechet_distance_of(features[:5000], metrics.classify(metrics.mnist_classifier(), noise)[0])
    assert same < 0.05 * far


def test_pixels_in_the_wrong_range_are_refused(mnist_test):
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        metrics.classify(metrics.mnist_classifier(), (mnist_test[0][:4] + 1) * 127.5)
