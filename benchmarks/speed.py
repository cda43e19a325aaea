"""Speed of one GAN training step: tfgan_stable vs a hand-written keras-io-style train_step, with and without XLA.

Both train the same nets (`--net=dcgan`: DCGAN 28×28×1; `--net=mlp`: the PacGAN 2-D MLPs; latent 100) with
the non-saturating loss and Adam, batch 64, on the same in-memory data. What is timed is each model's
compiled train function — what `fit` runs once per step — on its own data iterator
(`examples/xla_choice.steps_per_second`), so `fit`'s fixed start-up cost (~0.4 s per call) is not in the
windows at all; each window is nonetheless at least `--steps` (100) steps and `--min_seconds` (8 s, 20× that
cost) long, so the numbers would hold even if that cost were in them. After 5 warm-up steps (tracing and XLA
compilation) the configurations run in alternating rounds (hand, hand + XLA, library, library + XLA, hand, ...)
so machine noise hits all alike; the table gives each configuration's median steps/s and the median over
rounds of its per-round ratio to the hand-written loop measured in the same round (with the range over
rounds). Absolute numbers drift between machines and runs: read the ratios. The table, with the command, the
CPU and the commit measured, is appended to benchmarks/RESULTS.md.

    python benchmarks/speed.py                  # DCGAN, 7 rounds of >= 100 steps and >= 8 s per configuration
    python benchmarks/speed.py --net=mlp        # the 2-D toy MLP nets instead
    python benchmarks/speed.py --rounds=3 --min_seconds=2 --results=/tmp/speed.md   # a quick look
"""
import os
import platform
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

import keras  # noqa: E402
import tfgan_stable as ts  # noqa: E402
from _common import RESULTS, append_results  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from xla_choice import steps_per_second, warm_train_function  # noqa: E402

flags.DEFINE_integer("steps", 100, "minimum timed steps per configuration and round")
flags.DEFINE_float("min_seconds", 8.0, "minimum length of each timing window (s): a window runs on past --steps "
                   "until this long")
flags.DEFINE_integer("rounds", 7, "timing rounds, alternating the configurations; the median is reported")
flags.DEFINE_string("results", RESULTS, "markdown file to append to ('' = print only)")
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


def _cpu():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        name = platform.processor() or platform.machine()
    return f"{name}, {os.cpu_count()} cores"


def _commit():
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "../tfgan_stable"],
                               cwd=here, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" with uncommitted changes to tfgan_stable/" if dirty else "")


def main(_):
    shape = (2,) if F.net == "mlp" else (28, 28, 1)
    images = np.random.RandomState(0).uniform(-1, 1, (F.batch_size * 8, *shape)).astype(np.float32)
    data = tf.data.Dataset.from_tensor_slices(images).batch(F.batch_size, drop_remainder=True).cache().repeat()
    configs = {"hand-written keras loop": ("hand", False), "hand-written + keras jit_compile": ("hand", True),
               "tfgan_stable": ("lib", False), "tfgan_stable + jit_compile": ("lib", True)}
    start, commit, load_before = time.time(), _commit(), os.getloadavg()[1]
    functions = {name: warm_train_function(build(*config), data) for name, config in configs.items()}
    rates = {name: [] for name in configs}
    for round_ in range(F.rounds):
        for name, (train_function, iterator) in functions.items():
            rates[name].append(steps_per_second(train_function, iterator, F.steps, F.min_seconds))
        print(f"round {round_ + 1}/{F.rounds}: " + ", ".join(f"{name} {r[-1]:.1f}" for name, r in rates.items()),
              flush=True)
    base = np.array(rates["hand-written keras loop"])
    header = "| configuration | steps/s (median) | vs hand-written (median; range over rounds) |"
    rows = []
    for name, rate in rates.items():
        # The ratio is taken within each round (seconds apart), then the median over rounds: the machine's
        # speed drifts over a run, and a per-round ratio cancels most of that drift.
        ratios = np.array(rate) / base
        rows.append(f"| {name} | {np.median(rate):.1f} | {np.median(ratios):.2f}× "
                    f"({ratios.min():.2f}–{ratios.max():.2f}) |")
    minutes = (time.time() - start) / 60
    command = (f"python benchmarks/speed.py --net={F.net} --rounds={F.rounds} --steps={F.steps} "
               f"--min_seconds={F.min_seconds:g} --batch_size={F.batch_size}")
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)")
    note = (f"{F.net} step, batch {F.batch_size}, {F.rounds} alternating rounds, each window >= {F.steps} steps and "
            f">= {F.min_seconds:g} s of the compiled train function (no fit() start-up cost inside); "
            f"{_cpu()}, TF_ENABLE_ONEDNN_OPTS {onednn}, tensorflow {tf.__version__}, keras {keras.__version__}; "
            f"commit {commit}; wall time {minutes:.1f} min; 5-minute load average {load_before:.1f} at the start, "
            f"{os.getloadavg()[1]:.1f} at the end (above the core count, other processes shared the CPU: read the "
            f"ranges).")
    if F.results:
        print(append_results(f"Speed of one training step ({F.net})", command, note, header, rows, path=F.results))
    else:
        print("\n".join([note, header, *rows]))


if __name__ == "__main__":
    app.run(main)
