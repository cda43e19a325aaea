"""InceptionV3 feature network: wiring with random weights (nothing is downloaded), and the missing-file error."""
import numpy as np
import pytest

from tfgan_stable import metrics


def test_random_weights_give_pool_features_and_logits_for_small_images():
    network = metrics.inception_network(weights=None)
    rng = np.random.RandomState(0)
    for channels in (3, 1):
        features, probs = metrics.classify(network, rng.uniform(-1, 1, (2, 32, 32, channels)).astype(np.float32))
        assert features.shape == (2, 2048) and probs.shape == (2, 1000)
        np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-9)


def test_missing_weights_file_says_how_to_get_it(tmp_path):
    with pytest.raises(ValueError, match="does not download"):
        metrics.inception_network(str(tmp_path / "missing.h5"))
