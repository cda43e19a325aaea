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


_RESERVED_NAMES = ("z", "seed", "truncation")


def condition_specs(generator):
    """The signature inputs a generator's further inputs become: one `tf.TensorSpec` per input after z.

    A generator's first input is z; each further input (a conditional generator's `labels`, InfoGAN's
    codes) is a condition that every signature takes too, under the Keras input's name, with its dtype and
    its shape after a leading batch dimension (one row per image).
    """
    specs = []
    for i, tensor in enumerate(generator.inputs[1:], start=1):
        name = getattr(tensor, "name", None) or f"input_{i}"
        if name in _RESERVED_NAMES or name in [s.name for s in specs]:
            raise ValueError(f"the generator's input {i} is named {name!r}, which a serving signature cannot take "
                             f"(signature inputs must be distinct and other than {_RESERVED_NAMES}); name its "
                             f"keras.Input differently")
        specs.append(tf.TensorSpec([None, *tensor.shape[1:]], tf.as_dtype(tensor.dtype), name=name))
    return specs


class _GeneratorModule(tf.Module):
    def __init__(self, generator, latent_dim, max_batch_size, conditions=()):
        super().__init__()
        self.generator = generator
        self._conditions = [spec.name for spec in conditions]
        # Variables, as a SavedModel keeps no plain constants: `loaded.max_batch_size.numpy()` reads the cap.
        self.latent_dim = tf.Variable(latent_dim, dtype=tf.int32, trainable=False, name="latent_dim")
        self.max_batch_size = tf.Variable(max_batch_size, dtype=tf.int32, trainable=False, name="max_batch_size")
        self._dim = latent_dim
        self._cap = max_batch_size

    def _checked(self, rows, *others, first="seed"):
        """`rows` after asserting it has at most `max_batch_size` rows and as many rows as each of `others`."""
        n = tf.shape(rows)[0]
        checks = [tf.debugging.Assert(n <= self._cap, [tf.strings.format(
            "the request has {} rows, but this model serves at most {} images per request (max_batch_size of "
            "export_generator); split it into smaller requests", (n, self._cap))])]
        for name, other in others:
            checks.append(tf.debugging.Assert(tf.shape(other)[0] == n, [tf.strings.format(
                f"`{name}` has {{}} rows but `{first}` has {{}}: give one row per image",
                (tf.shape(other)[0], n))]))
        with tf.control_dependencies(checks):
            return tf.identity(rows)

    def _generate(self, z, conditions):
        inputs = [z, *conditions] if conditions else z
        return tf.cast(self.generator(inputs, training=False), tf.float32)

    def _named(self, conditions):
        return list(zip(self._conditions, conditions))

    def images(self, z, *conditions):
        return {"images": self._generate(self._checked(z, *self._named(conditions), first="z"), conditions)}

    def _sample(self, seed, truncation, conditions):
        others = self._named(conditions) + ([] if truncation is None else [("truncation", truncation)])
        seed = self._checked(seed, *others)
        return self._generate(seed_latents(seed, self._dim, truncation), conditions)

    def sample(self, seed, *conditions):
        return {"images": self._sample(seed, None, conditions)}

    def sample_truncated(self, seed, truncation, *conditions):
        return {"images": self._sample(seed, truncation, conditions)}

    def sample_uint8(self, seed, truncation, *conditions):
        return {"images_uint8": to_uint8(self._sample(seed, truncation, conditions))}

    def sample_png(self, seed, truncation, *conditions):
        pixels = to_uint8(self._sample(seed, truncation, conditions))
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
    A generator with further inputs after z (conditions: a conditional generator's `labels`, InfoGAN's codes)
    gets each of them as an extra input of every signature, after the ones above, with the Keras input's
    name, dtype and shape (see `condition_specs`), one row per image.
    Every signature fails with InvalidArgument if a request has more than `max_batch_size` rows; the cap is also
    stored as the SavedModel attribute `max_batch_size` (and the latent size as `latent_dim`).
    Reload with `tf.saved_model.load(path)`; `saved_model_cli show --dir PATH --all` lists the signatures.

    Args:
      generator: a built `keras.Model` taking z of shape [batch, latent_dim] (then any conditions).
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
    z_shape = tuple(generator.inputs[0].shape)
    if len(z_shape) != 2 or z_shape[-1] not in (None, latent_dim):
        raise ValueError(f"`latent_dim`={latent_dim} does not match the generator's first input {z_shape}: expected "
                         f"(None, {latent_dim})")
    conditions = condition_specs(generator)
    module = _GeneratorModule(generator, latent_dim, max_batch_size, conditions)
    seed = tf.TensorSpec([None], tf.int64, name="seed")
    truncation = tf.TensorSpec([None], tf.float32, name="truncation")
    default = tf.function(module.images).get_concrete_function(
        tf.TensorSpec([None, latent_dim], tf.float32, name="z"), *conditions)
    signatures = {
        "serving_default": default,
        "sample": tf.function(module.sample).get_concrete_function(seed, *conditions),
        "sample_truncated": tf.function(module.sample_truncated).get_concrete_function(seed, truncation,
                                                                                        *conditions),
    }
    shape = default.structured_outputs["images"].shape
    if shape.rank == 4 and shape[-1] in (1, 2, 3, 4):
        for name in ("sample_uint8", "sample_png"):
            signatures[name] = tf.function(getattr(module, name)).get_concrete_function(seed, truncation,
                                                                                          *conditions)
    tf.saved_model.save(module, str(path), signatures=signatures)
    return str(path)
