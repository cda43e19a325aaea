"""Cost of spectral normalisation: a DCGAN discriminator step with and without SN, in one run.

The discriminator is the DCGAN one for 28×28×1 images (Conv 64 → Conv 128, 4×4 stride 2, LeakyReLU(0.2),
then Dense(1)); the SN version wraps each of the three layers in `tfgan_stable.layers.SpectralNormalization`
(one power iteration per call). One step is a forward pass on a batch of 64 images with `training=True`
(which runs the power iteration and stores u), the non-saturating loss, the backward pass and an Adam update,
compiled as one `tf.function` (with `--jit`, XLA). Rounds alternate (plain, SN, plain, SN, ...) so machine
noise hits both alike; the script prints the median step time of each and the median per-round ratio.

    python benchmarks/sn_cost.py                  # 9 rounds of 30 timed steps
    python benchmarks/sn_cost.py --jit --rounds 5
"""
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

import keras  # noqa: E402
from tfgan_stable.layers import SpectralNormalization  # noqa: E402

flags.DEFINE_integer("steps", 30, "timed steps per round")
flags.DEFINE_integer("rounds", 9, "timing rounds, alternating the two discriminators; medians are reported")
flags.DEFINE_integer("batch_size", 64, "batch size")
flags.DEFINE_bool("jit", False, "compile each step with XLA")
F = flags.FLAGS


def discriminator(spectral_norm):
    wrap = SpectralNormalization if spectral_norm else (lambda layer: layer)
    init = keras.initializers.RandomNormal(stddev=0.02)
    x = keras.Input((28, 28, 1))
    h = wrap(keras.layers.Conv2D(64, 4, strides=2, padding="same", kernel_initializer=init))(x)
    h = keras.layers.LeakyReLU(0.2)(h)
    h = wrap(keras.layers.Conv2D(128, 4, strides=2, padding="same", kernel_initializer=init))(h)
    h = keras.layers.Flatten()(keras.layers.LeakyReLU(0.2)(h))
    return keras.Model(x, wrap(keras.layers.Dense(1, kernel_initializer=init))(h))


def make_step(model, jit):
    optimizer = keras.optimizers.Adam(2e-4, 0.5)
    optimizer.build(model.trainable_variables)

    @tf.function(jit_compile=jit)
    def step(real, fake):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.softplus(-model(real, training=True))
                                  + tf.nn.softplus(model(fake, training=True)))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    return step


def main(_):
    keras.utils.set_random_seed(0)
    rng = np.random.RandomState(0)
    real = tf.constant(rng.uniform(-1, 1, (F.batch_size, 28, 28, 1)).astype("float32"))
    fake = tf.constant(rng.uniform(-1, 1, (F.batch_size, 28, 28, 1)).astype("float32"))
    steps = {"plain": make_step(discriminator(False), F.jit), "sn": make_step(discriminator(True), F.jit)}
    for step in steps.values():  # trace, compile and warm up
        for _ in range(3):
            step(real, fake).numpy()
    times = {name: [] for name in steps}
    for _ in range(F.rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(F.steps):
                loss = step(real, fake)
            loss.numpy()
            times[name].append((time.perf_counter() - start) / F.steps)
    plain, sn = (np.median(times[n]) * 1e3 for n in ("plain", "sn"))
    ratio = np.median(np.array(times["sn"]) / np.array(times["plain"]))
    print(f"DCGAN discriminator 28x28x1, batch {F.batch_size}, forward+backward+Adam, "
          f"{'XLA' if F.jit else 'graph'}; {F.rounds} rounds x {F.steps} steps")
    print(f"  without SN: {plain:7.2f} ms/step")
    print(f"  with SN:    {sn:7.2f} ms/step")
    print(f"  ratio SN / plain (median over rounds): {ratio:.3f}")


if __name__ == "__main__":
    app.run(main)
