"""Pieces shared by the quality benchmarks: training a DCGAN of a family, and appending a table to RESULTS.md."""
import os

import keras
import tfgan_stable as ts

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")

# Optimizers from each family's paper; DCGAN's Adam(2e-4, 0.5) otherwise.
OPTIMIZERS = {"wgan": lambda: keras.optimizers.RMSprop(5e-5),
              "wgan_gp": lambda: keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9)}


def train_dcgan(family, dataset, image_shape, steps, seed, latent_dim=100, packing=1):
    """Trains the DCGAN nets of `tfgan_stable.nets` with `family` for `steps` generator steps; returns the GAN.

    `packing` = m packs m images per discriminator input (PacGAN); the batch size must be a multiple of m.
    """
    keras.utils.set_random_seed(seed)
    norm = "layer" if family in ("wgan_gp", "dragan") else "batch"  # per-example penalties: no batch coupling in D
    gan = ts.get_family(family)(ts.nets.dcgan_generator(latent_dim, image_shape=image_shape),
                                ts.nets.dcgan_discriminator(image_shape, norm=norm, packing=packing),
                                latent_dim=latent_dim, seed=seed)
    make = OPTIMIZERS.get(family, lambda: keras.optimizers.Adam(2e-4, beta_1=0.5))
    gan.compile(d_optimizer=make(), g_optimizer=make())
    gan.fit(dataset.repeat(), epochs=1, steps_per_epoch=steps, verbose=0)  # repeat: a finite split may run out
    return gan


def append_results(title, command, note, header, rows, path=RESULTS):
    """Appends a markdown section (title, exact command, settings, table) to RESULTS.md and returns the table."""
    table = "\n".join([header, "|" + "---|" * (header.count("|") - 1), *rows])
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"\n## {title}\n\n`{command}`\n\n{note}\n\n{table}\n")
    return table
