"""Stateless sampling gives the same numbers eagerly, in a graph and inside XLA, and has the right law."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tfgan_stable import sampling


def test_same_numbers_inside_and_outside_xla():
    seed = tf.constant([6465501539375156055, -3], tf.int64)  # a tensor seed: nothing is constant-folded
    draws = {"uniform": lambda s: sampling.uniform(tf.constant([16, 5]), s),
             "fold_in": lambda s: sampling.fold_in(s, 7),
             "latent": lambda s: sampling.latent_normal(16, 5, s, truncation=2.0)}
    for name, draw in draws.items():
        eager = draw(seed).numpy()
        xla = tf.function(draw, jit_compile=True)(seed).numpy()
        # uniform and fold_in are integer-exact; the normal goes through ndtri, whose XLA polynomial
        # differs from the CPU kernel's by a few float32 ulps.
        np.testing.assert_allclose(eager, xla, rtol=0, atol=1e-5 if name == "latent" else 0, err_msg=name)


def test_uniform_grid_and_moments():
    u = sampling.uniform([200_000], 3).numpy().astype(np.float64)
    assert u.min() > 0 and u.max() < 1
    k = (u / 2.0 ** -23) - 0.5  # the 23-bit integers behind each value
    np.testing.assert_array_equal(k, np.round(k))
    # mean 1/2 and variance 1/12 within 5 standard errors
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)
    assert abs(u.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / u.size)


def test_fold_in_separates_streams():
    seeds = {tuple(sampling.fold_in(11, d).numpy()) for d in range(100)}
    assert len(seeds) == 100


def test_uniform_rows_are_the_rows_of_the_whole_draw():
    """uniform_rows(n, shape, first) == uniform([total, *shape])[first:first + n], bit for bit, eagerly and
    inside XLA with a tensor `first` (a replica id), for every row alignment against Philox's 4-word blocks,
    and when the 128-bit counter's low word wraps around inside the rows."""
    compiled = {}
    for seed in (tf.constant([6465501539375156055, -3], tf.int64), tf.constant([11, -2], tf.int64)):  # -2: wraps
        full = sampling.uniform([13, 3], seed).numpy()
        for first in range(13):
            for n in (1, 2, 5):
                if first + n > 13:
                    continue
                rows = sampling.uniform_rows(n, [3], first, seed).numpy()
                np.testing.assert_array_equal(rows, full[first:first + n], err_msg=f"{first}, {n}")
                if n not in compiled:
                    compiled[n] = tf.function(lambda f, s, n=n: sampling.uniform_rows(n, [3], f, s), jit_compile=True)
                xla = compiled[n](tf.constant(first), seed).numpy()
                np.testing.assert_array_equal(xla, full[first:first + n], err_msg=f"xla {first}, {n}")


def test_uniform_rows_draws_only_its_rows():
    """The random op's output is n·width + 3 words, whatever `first` is (no replica draws the others' rows)."""
    graph = tf.function(lambda f: sampling.uniform_rows(4, [5], f, 7)).get_concrete_function(
        tf.TensorSpec([], tf.int32)).graph
    sizes = [op.outputs[0].shape.as_list() for op in graph.get_operations()
             if op.type == "StatelessRandomUniformFullIntV2"]
    assert sizes == [[4 * 5 + 3]], sizes


def test_global_mean_is_the_mean_over_every_replica_s_examples():
    import tensorflow as tf
    from tfgan_stable.distribute import global_mean
    values = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_allclose(global_mean(values).numpy(), values.mean())
    np.testing.assert_allclose(global_mean(values, axis=0).numpy(), values.mean(axis=0))
    with pytest.raises(ValueError, match="axis"):
        global_mean(values, axis=1)
    x = tf.constant(values)
    with tf.GradientTape() as tape:
        tape.watch(x)
        m = global_mean(x)
    np.testing.assert_allclose(tape.gradient(m, x).numpy(), np.full((4, 3), 1 / 12))


def _tanh_generator():
    """G(z) = tanh(z W + c) A + b, z in R³, samples in R², with fixed random weights (float64 in numpy)."""
    keras.utils.set_random_seed(4)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(5, activation="tanh",
                                                                   bias_initializer="random_normal"),
                             keras.layers.Dense(2, bias_initializer="random_normal")])


def _numpy_jacobian_norms(g, z):
    """‖J‖_F of G at each row of z from the chain rule: J = A^T diag(1 − tanh²(zW + c)) W^T per row."""
    w, c, a, _ = (v.numpy().astype(np.float64) for v in g.weights)
    slope = 1 - np.tanh(z @ w + c) ** 2  # [n, 5]
    jac = np.einsum("hk,nh,dh->nkd", a, slope, w)  # ∂out_k / ∂z_d
    return np.sqrt((jac ** 2).sum(axis=(1, 2)))


def test_jacobian_norms_against_the_chain_rule():
    g = _tanh_generator()
    z = np.random.RandomState(0).normal(size=(7, 3))
    samples, norms = sampling.jacobian_norms(lambda v: g(v, training=False), z)
    np.testing.assert_allclose(norms.numpy(), _numpy_jacobian_norms(g, z), rtol=1e-5)
    np.testing.assert_allclose(samples.numpy(), g(z.astype(np.float32)).numpy(), rtol=1e-6)


def test_generate_with_keep_returns_the_draws_with_the_smallest_jacobians_in_draw_order():
    """keep = 0.6, num = 6: ⌈6 / 0.6⌉ = 10 latents from the seed; the 6 with the smallest ‖J‖_F, in order."""
    g = _tanh_generator()
    gan = ts.NonSaturatingGAN(g, keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), latent_dim=3)
    z = sampling.latent_normal(10, 3, 5).numpy().astype(np.float64)
    chosen = np.sort(np.argsort(_numpy_jacobian_norms(g, z))[:6])
    want = g(z[chosen].astype(np.float32)).numpy()
    np.testing.assert_allclose(gan.generate(6, seed=5, keep=0.6, batch_size=4).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(gan.generate(6, seed=5, keep=1.0).numpy(), gan.generate(6, seed=5).numpy())
    for bad in (0.0, 1.5, True, "half"):
        with pytest.raises(ValueError, match="`keep`"):
            gan.generate(6, keep=bad)
    with pytest.raises(ValueError, match="`keep`.*give `num`"):
        gan.generate(z=z[:3], keep=0.5)
