"""Independent numpy references shared by the step and technique tests.

Gradients are central finite differences of a float64 forward pass (error ~1e-9), so the tolerances of
the tests that use them are set by TensorFlow's float32 arithmetic.
"""
import keras
import numpy as np
import tensorflow as tf

import tfgan_stable as ts

LATENT = 3


def softplus(t):
    return np.logaddexp(0.0, t)


def sig(t):
    return 1.0 / (1.0 + np.exp(-t))


def numeric_gradient(loss, params, h=1e-6):
    """Central differences of `loss(params)` for a list of float64 arrays."""
    grads = []
    for p in params:
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + h
            up = loss(params)
            p[i] = old - h
            down = loss(params)
            p[i] = old
            g[i] = (up - down) / (2 * h)
        grads.append(g)
    return grads


def weights64(model):
    return [w.numpy().astype(np.float64) for w in model.weights]


def constant_generator(value):
    """G(z) = value for every z: a zero kernel and a fixed bias, so the fakes do not depend on the noise."""
    return keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(
        len(value), kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(value))])


def tanh_critic(packing=1, seed=5):
    """D(x) = a·tanh(W x + c) + b on 2-D points (on packs of them with `packing` > 1)."""
    keras.utils.set_random_seed(seed)
    pack = [ts.layers.Pack(packing)] if packing > 1 else []
    return keras.Sequential([keras.Input((2,)), *pack,
                             keras.layers.Dense(4, activation="tanh", kernel_initializer="random_normal",
                                                bias_initializer="random_normal"),
                             keras.layers.Dense(1, kernel_initializer="random_normal",
                                                bias_initializer="random_normal")])


def tanh_critic_numpy(params, x):
    w, c, a, b = params
    return (np.tanh(x @ w + c) @ a + b)[:, 0]


def tanh_critic_input_gradient(params, x):
    w, c, a, _ = params
    return (a[:, 0] * (1 - np.tanh(x @ w + c) ** 2)) @ w.T


def ns_discriminator_loss(critic, real, fake):
    return np.mean(softplus(-critic(real))) + np.mean(softplus(critic(fake)))




def compiled(gan, lr):
    """`gan` compiled with plain SGD(lr) on both sides (the update is then θ − lr·∇)."""
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    return gan


def check_one_update(gan, x, model, loss, lr, rtol=1e-4):
    """Runs one train_step on `x` and checks `model`'s weights against θ − lr·∇loss(θ) computed in numpy.

    `loss` maps the list of `model`'s weights (float64, in `model.weights` order) to the scalar loss.
    Returns the step's logs.
    """
    params = weights64(model)
    want = [p - lr * g for p, g in zip(params, numeric_gradient(loss, params))]
    logs = gan.train_step(tf.constant(x, tf.float32))
    for got, expected in zip(model.weights, want):
        np.testing.assert_allclose(got.numpy(), expected, rtol=rtol, atol=1e-6)
    return logs
