"""Datasets for GAN training: TFDS pipelines that work offline, local-file readers and toy distributions."""
from tfgan_stable.data.idx import read_idx
from tfgan_stable.data.pipeline import DATASETS, SPLITS, load
from tfgan_stable.data.resumable import DataPosition, resumable
from tfgan_stable.data.stacked_mnist import stacked_mnist, stacked_mnist_dataset
from tfgan_stable.data.toy import GRID25, RING8, TOY_DISTRIBUTIONS, GaussianMixture2D, toy_dataset, toy_distribution
