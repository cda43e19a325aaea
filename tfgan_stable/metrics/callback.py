"""A Keras callback that evaluates generated samples during `fit` and adds the numbers to the epoch logs."""
import keras
import numpy as np

from tfgan_stable.metrics.classifier import classify, mnist_classifier
from tfgan_stable.metrics.distances import RunningStatistics, frechet_distance_of, kernel_inception_distance
from tfgan_stable.metrics.mode_coverage import mode_coverage
from tfgan_stable.metrics.scores import inception_score


def mnist_metrics(real_images, classifier=None, kid_subsets=10):
    """A metric function for MNIST-like images: classifier-FID, classifier-KID and classifier-IS.

    FID and KID compare the classifier's 128-d features of the samples with those of `real_images`;
    IS uses its softmax (see `classify`). These are the MNIST classifier's numbers, not Inception's.

    Args:
      real_images: reference images [n, 28, 28, 1] in [-1, 1].
      classifier: the feature network; default `mnist_classifier()`.
      kid_subsets: subsets averaged by KID.

    Returns:
      A function samples → {"fid", "kid", "is"}.
    """
    classifier = classifier or mnist_classifier()
    real_features = classify(classifier, real_images)[0]
    real_stats = RunningStatistics().update(real_features)

    def evaluate(samples):
        features, probs = classify(classifier, samples)
        kid, _ = kernel_inception_distance(features, real_features, num_subsets=kid_subsets,
                                           subset_size=min(1000, len(features)))
        return {"fid": frechet_distance_of(features, real_stats), "kid": kid,
                "is": inception_score(probs, splits=min(10, len(probs)))[0]}

    return evaluate


def mode_metrics(centers, std):
    """A metric function for the 2-D mixtures: samples → {"modes", "high_quality", "reverse_kl"} (`mode_coverage`)."""
    def evaluate(samples):
        result = mode_coverage(samples, centers, std)
        return {key: result[key] for key in ("modes", "high_quality", "reverse_kl")}

    return evaluate


class SampleMetrics(keras.callbacks.Callback):
    """Every n-th epoch, draws `num_samples` from the model and writes `metric_fn(samples)` into the epoch logs.

    The values appear in the progress bar, in `History` and in TensorBoard (callbacks listed after this one
    see them), under `prefix + name`. Samples come from `model.generate(num_samples, seed=seed)`, the same
    z every time, so successive values are comparable.

    Args:
      metric_fn: samples (numpy) → dict of floats, e.g. `mnist_metrics(real)` or `mode_metrics(centers, std)`.
      num_samples: samples per evaluation (e.g. 2500 for the mode-coverage protocol, 10k+ for FID).
      every_n_epochs: evaluate after epochs n, 2n, ...
      seed: seed of the samples' z.
      prefix: prepended to every logged name.

    Example:
      ```python
      gan.fit(data, epochs=20, callbacks=[SampleMetrics(mode_metrics(ring.centers, ring.std), 2500)])
      ```
    """

    def __init__(self, metric_fn, num_samples, every_n_epochs=1, seed=0, prefix=""):
        super().__init__()
        if not callable(metric_fn):
            raise TypeError(f"`metric_fn` must be callable (samples -> dict), got {metric_fn!r}")
        for name, value in (("num_samples", num_samples), ("every_n_epochs", every_n_epochs)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
        self.metric_fn, self.num_samples, self.every_n_epochs = metric_fn, int(num_samples), int(every_n_epochs)
        self.seed, self.prefix = int(seed), str(prefix)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs or logs is None:
            return
        samples = np.asarray(self.model.generate(self.num_samples, seed=self.seed))
        for name, value in self.metric_fn(samples).items():
            logs[self.prefix + name] = float(value)
