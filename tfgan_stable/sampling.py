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
    return _to_unit_interval(bits)


def uniform_rows(num_rows, row_shape, first_row, seed):
    """Rows first_row … first_row + num_rows − 1 of `uniform([total, *row_shape], seed)`, for any total
    larger than the last row, without drawing the other rows.

    Philox turns counter c into 4 words, so the draw's k-th word (row-major) is word k mod 4 of
    counter c₀ + ⌊k/4⌋. The rows start at word s = first_row · width: this draws num_rows · width + 3 words
    from counter c₀ + ⌊s/4⌋ (the 128-bit counter carries) and keeps those from s mod 4 on. The size of
    every tensor depends only on `num_rows` and `row_shape`, so with a static `num_rows` the shapes are
    static even when `first_row` is a tensor (a replica id under XLA/TPU).
    """
    dims = [int(d) for d in row_shape]
    width = 1
    for d in dims:
        width *= d
    num_words = tf.cast(num_rows, tf.int64) * width
    start = tf.cast(first_row, tf.int64) * width
    key, counter = _key_counter(seed)
    counter = _add_to_counter(counter, start // 4)
    bits = tf.raw_ops.StatelessRandomUniformFullIntV2(shape=tf.reshape(num_words + 3, [1]), key=key,
                                                      counter=counter, alg=_PHILOX, dtype=tf.uint32)
    # A gather, not a slice: XLA would make a slice's start a compile-time constant (one program per replica).
    bits = tf.gather(bits, start % 4 + tf.range(num_words))
    if isinstance(num_rows, int):
        bits = tf.reshape(bits, [num_rows, *dims])
    else:
        bits = tf.reshape(bits, tf.concat([tf.reshape(tf.cast(num_rows, tf.int32), [1]),
                                           tf.constant(dims, tf.int32, [len(dims)])], 0))
    return _to_unit_interval(bits)


def _add_to_counter(counter, blocks):
    """The 128-bit Philox counter (low, high uint64 words) plus `blocks` (a non-negative int64)."""
    low, high = tf.unstack(tf.bitcast(counter, tf.int64))
    new_low = low + blocks  # wraps like uint64
    # Unsigned new_low < low means the low word wrapped: flip the sign bits to compare as unsigned.
    sign = tf.constant(-2 ** 63, tf.int64)
    carry = tf.cast(tf.bitwise.bitwise_xor(new_low, sign) < tf.bitwise.bitwise_xor(low, sign), tf.int64)
    return tf.bitcast(tf.stack([new_low, high + carry]), tf.uint64)


def _to_unit_interval(bits):
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
    return truncated_normal_from_uniform(uniform(shape, as_seed(seed)), truncation)


def truncated_normal_from_uniform(u, truncation=None):
    """Φ⁻¹ of `u` ~ U(0, 1) mapped onto [Φ(−t), Φ(t)]: N(0, 1) restricted to [−t, t] (no limit for t ≤ 0)."""
    t = tf.cast(0.0 if truncation is None else truncation, tf.float32)
    bound = tf.where(t > 0, t, tf.constant(1e4, tf.float32))
    cdf = 0.5 * (1.0 + tf.math.erf(bound / tf.sqrt(2.0)))  # Φ(t)
    return tf.math.ndtri((1.0 - cdf) + u * (2.0 * cdf - 1.0))


def jacobian_norms(fn, z):
    """‖∂fn(z)ᵢ/∂zᵢ‖_F for every row zᵢ of z: how fast the generator's output moves with its latent.

    Exact, with one forward-mode pass per latent dimension j (‖J‖²_F = Σⱼ ‖J eⱼ‖²). The rows of fn's output
    must depend only on their own latent row, as a generator's do in inference mode (batch norm with its
    moving statistics). Used by Jacobian-based truncation (`GAN.generate(..., keep=...)`).

    Args:
      fn: a function [n, d] latents → [n, ...] samples.
      z: latents [n, d].

    Returns:
      (samples fn(z), norms [n]).
    """
    z = tf.convert_to_tensor(z, tf.float32)
    num, dim = tf.shape(z)[0], z.shape[-1]
    squared, samples = 0.0, None
    for j in range(dim):
        with tf.autodiff.ForwardAccumulator(z, tf.one_hot(tf.fill([num], j), dim)) as accumulator:
            samples = fn(z)
        tangent = tf.cast(accumulator.jvp(samples), tf.float32)
        squared += tf.reduce_sum(tf.reshape(tf.square(tangent), [num, -1]), axis=1)
    return samples, tf.sqrt(squared)
