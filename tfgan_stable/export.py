"""Generator SavedModels with serving signatures for TF Serving and any TF client.

Every input and output of every signature has a leading batch dimension, one row per image, so TF Serving's
server-side batching (`--enable_batching`) can merge requests, and the REST row format (`"instances"`) works
for all of them. Image i depends only on row i of the inputs (the generator runs in inference mode, where batch
norm uses its moving statistics), so a merged batch gives each request the images it would get alone.
"""
import numbers
import os

import keras
import tensorflow as tf

from tfgan_stable.sampling import latent_normal

DEFAULT_MAX_BATCH_SIZE = 256


def seed_latents(seeds, latent_dim, truncation=None):
    """The latent vectors that the exported `sample*` signatures draw: one row per seed.

    Row i is `latent_normal(1, latent_dim, seeds[i], truncation[i])[0]`, i.e. the z of
    `GAN.generate(1, seed=seeds[i], truncation=truncation[i])`. (`GAN.generate(n, seed=s)` draws n rows from the
    one seed s; its first row is this function's row for seed s, the other rows come from no single seed.)
    So `GAN.generate(z=seed_latents(seeds, latent_dim))` gives the images the `sample` signature returns, up to
    float rounding (~1e-6: the inverse normal CDF's vectorised and scalar kernels differ in the last bits).

    Args:
      seeds: integer seeds, shape [n] (a list, array or tensor).
      latent_dim: size of z.
      truncation: None, a float, or shape-[n] floats; a threshold t > 0 draws that row from the normal truncated
        to [−t, t] (see `sampling.latent_normal`), t ≤ 0 means no truncation.

    Returns:
      float32 tensor [n, latent_dim].
    """
    seeds = tf.reshape(tf.cast(tf.convert_to_tensor(seeds), tf.int64), [-1])
    t = tf.zeros_like(seeds, tf.float32) if truncation is None else tf.cast(truncation, tf.float32)
    t = tf.broadcast_to(t, tf.shape(seeds))
    return tf.map_fn(lambda st: latent_normal(1, latent_dim, st[0], st[1])[0], (seeds, t),
                     fn_output_signature=tf.TensorSpec([latent_dim], tf.float32))


def to_uint8(images):
    """Maps images in [−1, 1] to uint8 pixels: round((x + 1) · 127.5) (halves to even), clipped to [0, 255]."""
    x = tf.round((tf.cast(images, tf.float32) + 1.0) * 127.5)
    return tf.cast(tf.clip_by_value(x, 0.0, 255.0), tf.uint8)


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
    return int(value)


class _GeneratorModule(tf.Module):
    def __init__(self, generator, latent_dim, max_batch_size):
        super().__init__()
        self.generator = generator
        # Variables, as a SavedModel keeps no plain constants: `loaded.max_batch_size.numpy()` reads the cap.
        self.latent_dim = tf.Variable(latent_dim, dtype=tf.int32, trainable=False, name="latent_dim")
        self.max_batch_size = tf.Variable(max_batch_size, dtype=tf.int32, trainable=False, name="max_batch_size")
        self._dim = latent_dim
        self._cap = max_batch_size

    def _checked(self, rows, *others):
        """`rows` after asserting it has at most `max_batch_size` rows and as many rows as each of `others`."""
        n = tf.shape(rows)[0]
        checks = [tf.debugging.Assert(n <= self._cap, [tf.strings.format(
            "the request has {} rows, but this model serves at most {} images per request (max_batch_size of "
            "export_generator); split it into smaller requests", (n, self._cap))])]
        for name, other in others:
            checks.append(tf.debugging.Assert(tf.shape(other)[0] == n, [tf.strings.format(
                f"`{name}` has {{}} rows but `seed` has {{}}: give one value per seed", (tf.shape(other)[0], n))]))
        with tf.control_dependencies(checks):
            return tf.identity(rows)

    def _generate(self, z):
        return tf.cast(self.generator(z, training=False), tf.float32)

    def images(self, z):
        return {"images": self._generate(self._checked(z))}

    def _sample(self, seed, truncation=None):
        if truncation is None:
            seed = self._checked(seed)
        else:
            seed = self._checked(seed, ("truncation", truncation))
        return self._generate(seed_latents(seed, self._dim, truncation))

    def sample(self, seed):
        return {"images": self._sample(seed)}

    def sample_truncated(self, seed, truncation):
        return {"images": self._sample(seed, truncation)}

    def sample_uint8(self, seed, truncation):
        return {"images_uint8": to_uint8(self._sample(seed, truncation))}

    def sample_png(self, seed, truncation):
        pixels = to_uint8(self._sample(seed, truncation))
        # The `_bytes` suffix makes TF Serving's REST API return each PNG as {"b64": ...}.
        return {"png_bytes": tf.map_fn(tf.io.encode_png, pixels, fn_output_signature=tf.TensorSpec([], tf.string))}


def export_generator(generator, path, latent_dim, max_batch_size=DEFAULT_MAX_BATCH_SIZE):
    """Writes `generator` as a SavedModel that TF Serving and any TF client can call without this package.

    Signatures (every input and output has a leading batch dimension, one row per image):
      - `serving_default`: `z` float32 [n, latent_dim] → `images` float32 G(z).
      - `sample`: `seed` int64 [n] → `images`; image i is G(z_i) with z_i drawn statelessly from seed i,
        z_i = `seed_latents(seed, latent_dim)[i]`, the z of `GAN.generate(1, seed=seed[i])`. A client needs no NumPy.
      - `sample_truncated`: `seed` int64 [n], `truncation` float32 [n] → `images`, with z_i from the normal
        truncated to [−t_i, t_i] (the truncation trick, Brock et al. 2019; t_i ≤ 0: no truncation).
      - `sample_uint8` (image generators only): `seed`, `truncation` as above → `images_uint8` uint8
        [n, H, W, C], round((x + 1) · 127.5) clipped to [0, 255].
      - `sample_png` (image generators only): `seed`, `truncation` → `png_bytes` string [n], one PNG per image
        (TF Serving's REST API returns them base64-encoded as {"b64": ...}).
    "Image generators" output [n, H, W, C] with 1 to 4 channels; others (e.g. 2-D toy points) get the first three.
    Every signature fails with InvalidArgument if a request has more than `max_batch_size` rows; the cap is also
    stored as the SavedModel attribute `max_batch_size` (and the latent size as `latent_dim`).
    Reload with `tf.saved_model.load(path)`; `saved_model_cli show --dir PATH --all` lists the signatures.

    Args:
      generator: a built `keras.Model` taking z of shape [batch, latent_dim].
      path: output directory (a TF Serving model version directory, e.g. `models/mnist/1`).
      latent_dim: size of z (positive int).
      max_batch_size: most images one request may ask for (positive int). With TF Serving's server-side
        batching keep the batcher's `max_batch_size` at or below it: the cap applies to the merged batch.

    Returns:
      `path`.
    """
    if not isinstance(generator, keras.Model):
        raise TypeError(f"`generator` must be a keras.Model, got {type(generator).__name__}")
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"`path` must be a directory path, got {path!r}")
    latent_dim = _positive_int(latent_dim, "latent_dim")
    max_batch_size = _positive_int(max_batch_size, "max_batch_size")
    module = _GeneratorModule(generator, latent_dim, max_batch_size)
    seed = tf.TensorSpec([None], tf.int64, name="seed")
    truncation = tf.TensorSpec([None], tf.float32, name="truncation")
    default = tf.function(module.images).get_concrete_function(
        tf.TensorSpec([None, latent_dim], tf.float32, name="z"))
    signatures = {
        "serving_default": default,
        "sample": tf.function(module.sample).get_concrete_function(seed),
        "sample_truncated": tf.function(module.sample_truncated).get_concrete_function(seed, truncation),
    }
    shape = default.structured_outputs["images"].shape
    if shape.rank == 4 and shape[-1] in (1, 2, 3, 4):
        signatures["sample_uint8"] = tf.function(module.sample_uint8).get_concrete_function(seed, truncation)
        signatures["sample_png"] = tf.function(module.sample_png).get_concrete_function(seed, truncation)
    tf.saved_model.save(module, str(path), signatures=signatures)
    return str(path)
