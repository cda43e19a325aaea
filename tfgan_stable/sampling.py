"""Latent sampling shared by training, `GAN.generate` and the exported `sample` signatures.

All sampling is stateless: a value depends only on its seed, so a run is reproducible, works under XLA,
and the exported SavedModel gives the same images for the same (seed, batch_size) in any TF client.
"""
import tensorflow as tf


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
    normal = 0.5 * (1.0 + tf.math.erf(bound / tf.sqrt(2.0)))  # Φ(t)
    u = tf.random.stateless_uniform(shape, seed=seed, minval=0.0, maxval=1.0)
    u = (1.0 - normal) + u * (2.0 * normal - 1.0)
    tiny = tf.constant(1e-7, tf.float32)
    return tf.math.ndtri(tf.clip_by_value(u, tiny, 1.0 - tiny))
