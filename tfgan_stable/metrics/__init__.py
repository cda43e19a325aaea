"""Evaluation: Fréchet and kernel distances of features, Inception Score, mode coverage, the MNIST classifier."""
from tfgan_stable.metrics.callback import SampleMetrics, mnist_metrics, mode_metrics
from tfgan_stable.metrics.classifier import classify, inception_network, mnist_classifier, mnist_classifier_network
from tfgan_stable.metrics.distances import (RunningStatistics, frechet_distance, frechet_distance_of,
                                            kernel_inception_distance)
from tfgan_stable.metrics.mode_coverage import mode_coverage, stacked_mnist_coverage
from tfgan_stable.metrics.scores import inception_score

__all__ = ["RunningStatistics", "frechet_distance", "frechet_distance_of", "kernel_inception_distance",
           "inception_score", "mode_coverage", "stacked_mnist_coverage", "mnist_classifier", "mnist_classifier_network", "inception_network", "classify", "SampleMetrics",
           "mnist_metrics", "mode_metrics"]
