"""SampleMetrics writes the metric values into fit's logs and History."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_stable import metrics


class StandIn(keras.Model):
    """A model whose `generate` returns exact samples of a 2-mode mixture; training does nothing."""

    latent_dim = 2
    centers = np.array([[0.0, 0.0], [10.0, 0.0]])

    def __init__(self):
        super().__init__()
        self.w = self.add_weight(shape=(), initializer="zeros")

    def train_step(self, data):
        return {"loss": tf.constant(0.0)}

    def generate(self, num, seed=0):
        rng = np.random.RandomState(seed)
        return self.centers[rng.randint(0, 2, num)] + 0.1 * rng.normal(size=(num, 2))


def test_mode_metrics_reach_history_every_n_epochs():
    model = StandIn()
    model.compile()
    cb = metrics.SampleMetrics(metrics.mode_metrics(StandIn.centers, 0.1), num_samples=500, every_n_epochs=2,
                               prefix="eval_")
    history = model.fit(np.zeros((4, 2), np.float32), epochs=4, verbose=0, callbacks=[cb])
    assert history.history["eval_modes"] == [2.0, 2.0]  # after epochs 2 and 4
    expected = metrics.mode_coverage(model.generate(500), StandIn.centers, 0.1)["high_quality"]
    assert history.history["eval_high_quality"][-1] == pytest.approx(expected)


def test_mnist_metrics_on_real_digits_against_themselves(shared_data):
    from tfgan_stable.data import read_idx
    x = read_idx(str(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz"))[:2000].astype(np.float32)[..., None]
    x = x / 127.5 - 1.0
    evaluate = metrics.mnist_metrics(x[:1000], kid_subsets=5)
    same = evaluate(x[1000:])
    noise = evaluate(np.random.RandomState(0).uniform(-1, 1, (1000, 28, 28, 1)).astype(np.float32))
    assert same["is"] > 8.5 and noise["is"] < 3
    assert same["fid"] < 0.05 * noise["fid"] and abs(same["kid"]) < 0.05 * noise["kid"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_samples"):
        metrics.SampleMetrics(lambda s: {}, num_samples=0)
    with pytest.raises(TypeError, match="metric_fn"):
        metrics.SampleMetrics("fid", num_samples=10)
