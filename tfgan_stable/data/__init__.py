"""Datasets for GAN training: TFDS pipelines that work offline, local-file readers and toy distributions."""
from tfgan_stable.data.idx import read_idx
