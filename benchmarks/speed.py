"""Speed of one DCGAN training step: tfgan_stable vs a hand-written keras-io-style train_step.

Both train the same DCGAN nets (28×28×1, batch 64, latent 100) with the non-saturating loss and Adam, on
the same in-memory data, each through the train function that `fit` runs for every step. Runs alternate (hand, library, hand, library, ...) so machine noise
hits both alike; the script prints the median steps/s of each and the median over rounds of the
per-round ratio to the hand-written loop. Absolute numbers drift
between machines and runs: read the ratios.

    python benchmarks/speed.py                 # default: 9 rounds of 20 timed steps
    python benchmarks/speed.py --steps 60 --rounds 5
    python benchmarks/speed.py --net=mlp        # the 2-D toy MLP nets instead
"""
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

import keras  # noqa: E402
import tfgan_stable as ts  # noqa: E402

flags.DEFINE_integer("steps", 20, "timed steps per round")
flags.DEFINE_integer("rounds", 9, "timing rounds, alternating the configurations; the median is reported")
flags.DEFINE_integer("batch_size", 64, "batch size")
flags.DEFINE_integer("latent_dim", 100, "latent size")
flags.DEFINE_enum("net", "dcgan", ["dcgan", "mlp"], "DCGAN on 28x28x1 images, or the PacGAN MLP on 2-D points")
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
    if F.net == "mlp":
        g, d = ts.nets.mlp_generator(F.latent_dim), ts.nets.mlp_discriminator()
    else:
        g = ts.nets.dcgan_generator(F.latent_dim, image_shape=(28, 28, 1))
        d = ts.nets.dcgan_discriminator(image_shape=(28, 28, 1))
    opts = dict(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), jit_compile=jit)
    model = HandWrittenGAN(g, d, F.latent_dim) if kind == "hand" else ts.NonSaturatingGAN(g, d, F.latent_dim)
    model.compile(**opts)
    return model


def main(_):
    shape = (2,) if F.net == "mlp" else (28, 28, 1)
    images = np.random.RandomState(0).uniform(-1, 1, (F.batch_size * 8, *shape)).astype(np.float32)
    data = tf.data.Dataset.from_tensor_slices(images).batch(F.batch_size, drop_remainder=True).cache().repeat()
    configs = {"hand-written keras loop": ("hand", False), "hand-written + keras jit_compile": ("hand", True),
               "tfgan_stable": ("lib", False), "tfgan_stable jit_compile": ("lib", True)}
    models = {name: build(*cfg) for name, cfg in configs.items()}
    # Each model's compiled train function (what `fit` runs once per step) on its own data iterator: this
    # times the step itself, not fit()'s fixed per-call cost of starting an epoch (~0.4 s here).
    steps = {}
    for name, model in models.items():
        model.fit(data, epochs=1, steps_per_epoch=2, verbose=0)  # builds the train function
        steps[name] = (model.make_train_function(), iter(data))
        for _ in range(5):  # warm-up: tracing and XLA compilation
            logs = steps[name][0](steps[name][1])
        float(logs["d_loss"])
    rates = {name: [] for name in models}
    for _ in range(F.rounds):
        for name, (train_function, iterator) in steps.items():
            start = time.perf_counter()
            for _ in range(F.steps):
                logs = train_function(iterator)
            float(logs["d_loss"])  # wait for the last step
            rates[name].append(F.steps / (time.perf_counter() - start))
    base_name = "hand-written keras loop"
    print(f"{F.net} step, batch {F.batch_size}, {F.rounds} rounds x {F.steps} steps, "
          f"tensorflow {tf.__version__}, keras {keras.__version__}")
    print(f"{'configuration':36s} {'steps/s':>9s} {'vs hand-written':>16s}")
    for name, rate in rates.items():
        # The ratio is taken within each round (seconds apart), then the median over rounds: the machine's
        # speed drifts over a run, and a per-round ratio cancels most of that drift.
        ratio = np.median(np.array(rate) / np.array(rates[base_name]))
        print(f"{name:36s} {np.median(rate):9.2f} {ratio:15.2f}x")

if __name__ == "__main__":
    app.run(main)
