"""Latent sampling shared by training, `GAN.generate` and the exported `sample` signatures.

All sampling is stateless: a value depends only on its seed, so a run is reproducible, works under XLA,
and the exported SavedModel gives the same images for the same (seed, batch_size) in any TF client.
"""
import tensorflow as tf

# Only Philox's raw integer output is used: XLA and the CPU kernels agree on it bit for bit, but not on
# TF's own float conversions (`tf.random.stateless_uniform/normal` give other numbers inside a compiled step).
_PHILOX = 1


def _key_counter(seed, data=0):
    seed = tf.bitcast(as_seed(seed), tf.uint64)
    return seed[:1], tf.stack([seed[1], tf.bitcast(tf.cast(data, tf.int64), tf.uint64)])


def fold_in(seed, data):
    """A new seed derived from `seed` and the integer `data` (a step or stream number).

    The Philox-4x32 block at key seed[0], counter (seed[1], data) read as two int64s: a keyed hash.
    """
    key, counter = _key_counter(seed, data)
    return tf.raw_ops.StatelessRandomUniformFullIntV2(shape=[2], key=key, counter=counter, alg=_PHILOX,
                                                      dtype=tf.int64)


def uniform(shape, seed):
    """U(0, 1) values of `shape`: the top 23 bits k of each Philox word give (k + ½)·2⁻²³, exact in float32,
    never 0 or 1."""
    key, counter = _key_counter(seed)
    bits = tf.raw_ops.StatelessRandomUniformFullIntV2(shape=shape, key=key, counter=counter, alg=_PHILOX,
                                                      dtype=tf.uint32)
    return (tf.cast(tf.bitwise.right_shift(bits, 9), tf.float32) + 0.5) * (2.0 ** -23)


def normal(shape, seed):
    """N(0, 1) values of `shape` by inverting the normal CDF on `uniform` (|values| ≤ 5.3)."""
    return tf.math.ndtri(uniform(shape, seed))


def as_seed(seed):
    """Turns an int, a scalar tensor or a shape-[2] tensor into a stateless-RNG seed of shape [2], int64."""
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    if seed.shape.rank == 0:
        return tf.stack([seed, tf.zeros_like(seed)])
    return seed


def latent_normal(batch_size, latent_dim, seed, truncation=None):
    """Draws z ~ N(0, I) of shape [batch_size, latent_dim], optionally truncated.

    With `truncation` = t > 0 each coordinate follows the standard normal restricted to [−t, t] (the
    truncation trick of Brock et al. 2019, BigGAN), drawn exactly by inverting the normal CDF:
    z = Φ⁻¹(u) with u ~ U[Φ(−t), Φ(t)]. A threshold ≤ 0 means no truncation.

    Args:
      batch_size: number of rows (int or scalar int tensor).
      latent_dim: number of columns.
      seed: int, scalar or shape-[2] integer tensor.
      truncation: None, a float, or a scalar float tensor.

    Returns:
      float32 tensor [batch_size, latent_dim].
    """
    shape = tf.stack([tf.cast(batch_size, tf.int32), tf.constant(latent_dim, tf.int32)])
    seed = as_seed(seed)
    t = tf.cast(0.0 if truncation is None else truncation, tf.float32)
    bound = tf.where(t > 0, t, tf.constant(1e4, tf.float32))
    cdf = 0.5 * (1.0 + tf.math.erf(bound / tf.sqrt(2.0)))  # Φ(t)
    u = (1.0 - cdf) + uniform(shape, seed) * (2.0 * cdf - 1.0)
    return tf.math.ndtri(u)
