"""Pieces shared by the quality benchmarks: training a DCGAN of a family, technique configurations, and
appending a table to RESULTS.md."""
import ast
import os
import re

import keras
import numpy as np
import tfgan_stable as ts

from absl import flags

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")

# Optimizers from each family's paper; DCGAN's Adam(2e-4, 0.5) otherwise.
OPTIMIZERS = {"wgan": lambda: keras.optimizers.RMSprop(5e-5),
              "wgan_gp": lambda: keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9)}


def train_dcgan(family, make_dataset, image_shape, steps, seed, latent_dim=100, packing=1, config="none",
                pretrain_images=None, pretrain_steps=0):
    """Trains the DCGAN nets of `tfgan_stable.nets` with `family` for `steps` generator steps; returns the GAN.

    `make_dataset(batch_size)` returns the training data batched as asked: the GAN is built first, and the
    batch is `gan.n_critic` × 64 · `packing` images, because with n_critic = k a step splits its batch into k
    disjoint critic batches of 64 discriminator inputs (64 · m images with PacGAN packing m). The
    discriminator's normalisation is the family's `discriminator_norm` (layer norm for the gradient-penalty
    families, whose per-example penalties batch statistics would couple). `config` adds techniques and family
    options (`parse_config`; its learning rates replace Adam's 2e-4 for the families trained with Adam, and are
    refused, with a `ValueError`, for WGAN and WGAN-GP, which keep their papers' optimizers).
    With `pretrain_steps` = P > 0 the nets are first pre-trained on `pretrain_images`
    (`tfgan_stable.pretraining`: P L1 steps at each resolution of G, then P least-squares steps of D), and the
    GAN trains `steps` − (number of resolutions)·P steps, so that G gets `steps` updates in all.
    """
    keras.utils.set_random_seed(seed)
    techniques, family_kwargs, settings = parse_config(config)
    if family in OPTIMIZERS and settings:
        paper = OPTIMIZERS[family]()
        raise ValueError(f"{family} trains with its paper's optimizer ({type(paper).__name__}, learning rate "
                         f"{float(paper.learning_rate):g}); the rate "
                         f"settings {', '.join(sorted(settings))} of --config apply only to Adam-trained families")
    family_class = ts.get_family(family)
    if issubclass(family_class, ts.EnergyGAN):  # EBGAN, BEGAN: an autoencoder discriminator, which does not pack
        if packing != 1:
            raise ValueError(f"{family}: an autoencoder discriminator does not pack samples (packing={packing})")
        discriminator = ts.nets.autoencoder_discriminator(image_shape, norm=family_class.discriminator_norm)
    else:
        discriminator = ts.nets.dcgan_discriminator(image_shape, norm=family_class.discriminator_norm, packing=packing)
    gan = family_class(ts.nets.dcgan_generator(latent_dim, image_shape=image_shape), discriminator,
                       latent_dim=latent_dim, seed=seed, techniques=techniques, **family_kwargs)
    if pretrain_steps:
        stages = ts.pretraining.stage_sizes(image_shape[0])
        ts.pretraining.pretrain_generator(gan.generator, pretrain_images, latent_dim, steps_per_stage=pretrain_steps,
                                          seed=seed)
        ts.pretraining.pretrain_discriminator(gan.discriminator, gan.generator, pretrain_images, latent_dim,
                                              steps=pretrain_steps, seed=seed)
        steps -= len(stages) * pretrain_steps
        if steps <= 0:
            raise ValueError(f"the pre-training's {len(stages)} x {pretrain_steps} generator steps use up the budget")
    gan.compile(d_optimizer=OPTIMIZERS.get(family, lambda: adam(settings, "d", 2e-4, gan.n_critic * steps))(),
                g_optimizer=OPTIMIZERS.get(family, lambda: adam(settings, "g", 2e-4, steps))())
    dataset = make_dataset(gan.n_critic * 64 * packing)
    gan.fit(dataset.repeat(), epochs=1, steps_per_epoch=steps, verbose=0)  # repeat: a finite split may run out
    return gan


def adam(settings, side, learning_rate, updates):
    """Adam(·, β1 = 0.5) for player `side` ("d" or "g") under the benchmark `settings` of `parse_config`:
    `{side}_learning_rate` replaces `learning_rate` (TTUR), and `lr_decay_to=f` decays the rate linearly
    from its initial value η to f·η over the player's `updates` optimizer steps,
    η_t = η − (1 − f)·η·t / updates."""
    rate = settings.get(f"{side}_learning_rate", learning_rate)
    if "lr_decay_to" in settings:
        rate = keras.optimizers.schedules.PolynomialDecay(rate, decay_steps=updates,
                                                          end_learning_rate=settings["lr_decay_to"] * rate, power=1.0)
    return keras.optimizers.Adam(rate, beta_1=0.5)


def define_seed_flags(seeds, data_dir=DATA_DIR):
    """Defines the flags every quality benchmark shares: --seeds (default `seeds`), --seed_start, --data_dir
    and --results."""
    flags.DEFINE_integer("seeds", seeds, "seeds per configuration")
    flags.DEFINE_integer("seed_start", 0, "first seed; runs use seed_start .. seed_start + seeds - 1")
    flags.DEFINE_string("data_dir", data_dir, "folder with the raw datasets")
    flags.DEFINE_string("results", RESULTS, "markdown file to append to")


def seed_range():
    """The seeds of a run: --seed_start .. --seed_start + --seeds - 1."""
    return range(flags.FLAGS.seed_start, flags.FLAGS.seed_start + flags.FLAGS.seeds)


def test_images(dataset, data_dir):
    """The whole test split of `dataset` (10,000 images in [-1, 1]) as one array, in the stored order."""
    return np.concatenate([b.numpy() for b in ts.data.load(dataset, "test", batch_size=1000, data_dir=data_dir,
                                                            shuffle=False, drop_remainder=False)])


def training_data(dataset, data_dir, seed, with_labels=False):
    """`make_dataset(batch_size)` for `train_dcgan`: the training split, shuffled by `seed`."""
    def make_dataset(batch_size):
        return ts.data.load(dataset, "train", batch_size=batch_size, data_dir=data_dir, seed=seed,
                            with_labels=with_labels)
    return make_dataset


#: Items of a `--config` that are settings of the benchmark (`adam`), not keyword arguments of the family.
SETTINGS = ("d_learning_rate", "g_learning_rate", "lr_decay_to")


def parse_config(spec):
    """Parses a training configuration written on the command line into (techniques, family kwargs, settings).

    `spec` is "none" (the plain family) or items joined by "+": `Name(key=value, ...)` builds
    `tfgan_stable.techniques.Name` (fresh objects on every call: techniques hold state), and `key=value` is
    either a setting of the benchmark (`d_learning_rate`, `g_learning_rate`: TTUR; `lr_decay_to`: a linear
    decay of both rates, see `adam`) or a keyword argument
    of the family (e.g. `real_label=0.9`). Values are Python literals, e.g.
    "EMA(decay=0.999)+InstanceNoise(stddev=0.1, decay_steps=5000)+real_label=0.9".
    """
    techniques, family_kwargs, settings = [], {}, {}
    if spec.strip() in ("", "none"):
        return techniques, family_kwargs, settings
    for item in spec.split("+"):
        item = item.strip()
        try:
            node = ast.parse(item if re.match(r"\w+\s*\(", item) else f"_({item})", mode="eval").body
        except SyntaxError as e:
            raise ValueError(f"cannot parse configuration item {item!r} of {spec!r}: {e.msg}") from None
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.args:
            raise ValueError(f"configuration item {item!r} must be Name(key=value, ...) or key=value")
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        if node.func.id != "_":
            if not hasattr(ts.techniques, node.func.id):
                raise ValueError(f"unknown technique {node.func.id!r} in {spec!r}; tfgan_stable.techniques has "
                                 f"{', '.join(ts.techniques.__all__)}")
            techniques.append(getattr(ts.techniques, node.func.id)(**kwargs))
        else:
            for key, value in kwargs.items():
                (settings if key in SETTINGS else family_kwargs)[key] = value
    return techniques, family_kwargs, settings


# One line per benchmark, carried by every table it appends; the full list, with sources, is the section
# "Departures from the PacGAN protocol" at the top of RESULTS.md.
DEPARTURES_TOY = ("Departures from PacGAN's 2-D protocol (see the top of this file): Adam beta1 0.5 (PacGAN 0.8), "
                  "{steps} generator steps (PacGAN 400 epochs x 1,000 = 400,000), alternating D then G updates "
                  "(PacGAN: simultaneous), {seeds} seeds with standard errors (PacGAN 10 runs), fresh samples "
                  "every batch (PacGAN: a fixed set of 100,000).")
DEPARTURES_STACKED = ("Departures from PacGAN's stacked-MNIST protocol (see the top of this file): {steps} steps "
                      "(PacGAN 50 epochs x 2,000 = 100,000 iterations of 1 D + 2 G updates; here 1 D + 1 G), our "
                      "28x28 DCGAN D (2 conv layers, ~0.14M weights; PacGAN 4 conv layers, ~4.3M), triples "
                      "resampled every batch from the 60,000 training digits (PacGAN: a fixed set of 128,000 from "
                      "all 70,000), z ~ N(0, I) (PacGAN U(-1, 1)), {seeds} seeds with standard errors (PacGAN 10 "
                      "runs).")


def mean_se(values):
    """Mean and standard error (sample std with ddof=1 over sqrt(n); nan for n = 1) of the finite values."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    se = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else float("nan")
    return float(values.mean()), float(se)


def format_mean_se(values, digits=1, scale=1.0):
    """'mean ± SE' of `values` (times `scale`) with `digits` decimals; just the value when there is one seed."""
    mean, se = mean_se(np.asarray(values, dtype=np.float64) * scale)
    return f"{mean:.{digits}f}" if np.isnan(se) else f"{mean:.{digits}f} ± {se:.{digits}f}"


def cores():
    """'N CPU core(s)': the cores this process may run on (a run pinned with taskset says so in RESULTS.md)."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{n} CPU core" + ("s" if n != 1 else "")


def append_results(title, command, note, header, rows, path=RESULTS):
    """Appends a markdown section (title, exact command, settings, table) to RESULTS.md and returns the table."""
    table = "\n".join([header, "|" + "---|" * (header.count("|") - 1), *rows])
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"\n## {title}\n\n`{command}`\n\n{note}\n\n{table}\n")
    return table
