"""Speed of one DCGAN training step: tfgan_stable vs a hand-written keras-io-style train_step.

Both train the same DCGAN nets (28×28×1, batch 64, latent 100) with the non-saturating loss and Adam, on
the same in-memory data, through `fit`. Runs alternate (hand, library, hand, library, ...) so machine noise
hits both alike; the script prints the median steps/s of each and the ratios. Absolute numbers drift
between machines and runs: read the ratios.

    python benchmarks/speed.py                 # default: 3 rounds of 30 timed steps
    python benchmarks/speed.py --steps 60 --rounds 5
"""
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

import keras  # noqa: E402
import tfgan_stable as ts  # noqa: E402

flags.DEFINE_integer("steps", 30, "timed steps per round")
flags.DEFINE_integer("rounds", 3, "timing rounds; the median is reported")
flags.DEFINE_integer("batch_size", 64, "batch size")
flags.DEFINE_integer("latent_dim", 100, "latent size")
F = flags.FLAGS


class HandWrittenGAN(keras.Model):
    """The keras-io DCGAN pattern: one train_step, BCE from logits, z from a SeedGenerator."""

    def __init__(self, generator, discriminator, latent_dim):
        super().__init__()
        self.generator, self.discriminator, self.latent_dim = generator, discriminator, latent_dim
        self.seed_generator = keras.random.SeedGenerator(0)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    def compile(self, d_optimizer, g_optimizer, jit_compile=False):
        super().compile(jit_compile=jit_compile)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def train_step(self, real_images):
        batch = tf.shape(real_images)[0]
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        fake = self.generator(z, training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = (self.loss_fn(tf.ones_like(real_logits), real_logits)
                      + self.loss_fn(tf.zeros_like(fake_logits), fake_logits))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(z, training=True), training=True)
            g_loss = self.loss_fn(tf.ones_like(fake_logits), fake_logits)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def build(kind, jit):
    keras.utils.set_random_seed(0)
    g = ts.nets.dcgan_generator(F.latent_dim, image_shape=(28, 28, 1))
    d = ts.nets.dcgan_discriminator(image_shape=(28, 28, 1))
    opts = dict(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), jit_compile=jit)
    model = HandWrittenGAN(g, d, F.latent_dim) if kind == "hand" else ts.NonSaturatingGAN(g, d, F.latent_dim)
    model.compile(**opts)
    return model


def main(_):
    images = np.random.RandomState(0).uniform(-1, 1, (F.batch_size * 8, 28, 28, 1)).astype(np.float32)
    data = tf.data.Dataset.from_tensor_slices(images).batch(F.batch_size, drop_remainder=True).cache().repeat()
    configs = {"hand-written keras loop": ("hand", False), "hand-written + keras jit_compile": ("hand", True),
               "tfgan_stable": ("lib", False), "tfgan_stable jit_compile": ("lib", True)}
    models = {name: build(*cfg) for name, cfg in configs.items()}
    for model in models.values():  # warm-up: tracing and XLA compilation
        model.fit(data, epochs=1, steps_per_epoch=5, verbose=0)
    rates = {name: [] for name in models}
    for _ in range(F.rounds):
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(data, epochs=1, steps_per_epoch=F.steps, verbose=0)
            rates[name].append(F.steps / (time.perf_counter() - start))
    median = {name: float(np.median(r)) for name, r in rates.items()}
    base = median["hand-written keras loop"]
    print(f"DCGAN 28x28x1 step, batch {F.batch_size}, {F.rounds} rounds x {F.steps} steps, "
          f"tensorflow {tf.__version__}, keras {keras.__version__}")
    print(f"{'configuration':36s} {'steps/s':>9s} {'vs hand-written':>16s}")
    for name, rate in median.items():
        print(f"{name:36s} {rate:9.2f} {rate / base:15.2f}x")


if __name__ == "__main__":
    app.run(main)
