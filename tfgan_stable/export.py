"""Generator SavedModels with serving signatures for TF Serving and any TF client."""
import os

import keras
import tensorflow as tf

from tfgan_stable.sampling import latent_normal


class _GeneratorModule(tf.Module):
    def __init__(self, generator, latent_dim):
        super().__init__()
        self.generator = generator
        self.latent_dim = tf.constant(latent_dim, tf.int32)
        self._dim = latent_dim

    def images(self, z):
        return {"images": self.generator(z, training=False)}

    def sample(self, batch_size, seed):
        return self.images(latent_normal(batch_size, self._dim, seed))

    def sample_truncated(self, batch_size, seed, truncation):
        return self.images(latent_normal(batch_size, self._dim, seed, truncation))


def export_generator(generator, path, latent_dim):
    """Writes `generator` as a SavedModel that TF Serving and any TF client can call without this package.

    Signatures:
      - `serving_default`: `z` float32 [None, latent_dim] → `images` G(z).
      - `sample`: `batch_size` int32 scalar, `seed` int64 scalar → `images`, with z ~ N(0, I) drawn
        statelessly from the seed (the same z as `GAN.generate(num, seed=seed)`), so a client needs no NumPy.
      - `sample_truncated`: as `sample` plus `truncation` float32 scalar, the truncation-trick threshold
        (Brock et al. 2019); a signature cannot have optional inputs, so this is a separate one.
    Reload with `tf.saved_model.load(path)`; `saved_model_cli show --dir PATH --all` lists the signatures.

    Args:
      generator: a built `keras.Model` taking z of shape [batch, latent_dim].
      path: output directory (a TF Serving model version directory, e.g. `models/mnist/1`).
      latent_dim: size of z.

    Returns:
      `path`.
    """
    if not isinstance(generator, keras.Model):
        raise TypeError(f"`generator` must be a keras.Model, got {type(generator).__name__}")
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"`path` must be a directory path, got {path!r}")
    module = _GeneratorModule(generator, int(latent_dim))
    scalar = lambda dtype, name: tf.TensorSpec([], dtype, name=name)  # noqa: E731
    signatures = {
        "serving_default": tf.function(module.images).get_concrete_function(
            tf.TensorSpec([None, latent_dim], tf.float32, name="z")),
        "sample": tf.function(module.sample).get_concrete_function(
            scalar(tf.int32, "batch_size"), scalar(tf.int64, "seed")),
        "sample_truncated": tf.function(module.sample_truncated).get_concrete_function(
            scalar(tf.int32, "batch_size"), scalar(tf.int64, "seed"), scalar(tf.float32, "truncation")),
    }
    tf.saved_model.save(module, str(path), signatures=signatures)
    return str(path)
