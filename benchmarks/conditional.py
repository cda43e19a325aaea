"""Class fidelity of the conditional families on MNIST: the share of generated samples that the shipped MNIST
classifier assigns to the class they were generated for.

Each family (ConditionalGAN with a projection discriminator; ACGAN with a class head on the DCGAN discriminator)
trains the conditional DCGAN nets (28x28x1, batch 64, latent 100, Adam(2e-4, 0.5); the generator on
[z, label embedding]) for `--steps` generator steps on the local MNIST training images with their labels. Then
`--samples_per_class` samples of each class are generated (z from seed + 1) and classified by
`tfgan_stable.metrics.mnist_classifier`; the table gives the share whose predicted class is the requested one
(target: >= 95% at <= 5,000 steps). Chance is 10%.

    python benchmarks/conditional.py                            # both families, 5,000 steps, seed 0
    python benchmarks/conditional.py --steps=20 --samples_per_class=10 --results=/tmp/smoke.md   # a smoke run
    python benchmarks/conditional.py --families=acgan --config="classify_fakes=False"   # a family option

`--config` adds techniques and family options, written as `_common.parse_config` reads them.
"""
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

import tfgan_stable as ts  # noqa: E402
from _common import (append_results, cores, define_seed_flags, format_mean_se, parse_config, seed_range,  # noqa: E402
                     training_data)

flags.DEFINE_list("families", ["cgan", "acgan"], "conditional GAN families (short names)")
flags.DEFINE_integer("steps", 5000, "generator steps per run")
flags.DEFINE_integer("samples_per_class", 1000, "generated samples per class")
flags.DEFINE_string("config", "none", "techniques and family options, e.g. \"classify_fakes=False\" (ACGAN)")
define_seed_flags(seeds=1)
F = flags.FLAGS

CLASSES = 10


def build(family, seed, config="none", latent_dim=100):
    """The family's GAN on the conditional DCGAN nets with `config`'s techniques and options, compiled with
    DCGAN's Adam(2e-4, 0.5)."""
    keras.utils.set_random_seed(seed)
    techniques, family_kwargs, settings = parse_config(config)
    if settings:
        raise ValueError(f"--config: {sorted(settings)} are not settings of this benchmark")
    family_class = ts.get_family(family)
    if not family_class.conditional:
        raise ValueError(f"--families: {family!r} is not a conditional family (cgan, acgan)")
    generator = ts.nets.conditional_dcgan_generator(latent_dim, CLASSES)
    if family == "acgan":
        discriminator = ts.nets.add_head(ts.nets.dcgan_discriminator(norm=family_class.discriminator_norm), CLASSES,
                                         "class_logits")
    else:
        discriminator = ts.nets.conditional_dcgan_discriminator(CLASSES, norm=family_class.discriminator_norm)
    gan = family_class(generator, discriminator, latent_dim=latent_dim, num_classes=CLASSES, seed=seed,
                       techniques=techniques, **family_kwargs)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    return gan


def class_fidelity(gan, classifier, per_class, seed):
    """Share of `per_class` samples of each class that `classifier` assigns to that class; also per class."""
    labels = np.repeat(np.arange(CLASSES, dtype=np.int32), per_class)
    samples = gan.generate(labels=labels, seed=seed).numpy()
    _, probabilities = ts.metrics.classify(classifier, samples)
    hits = np.argmax(probabilities, axis=1) == labels
    return float(hits.mean()), hits.reshape(CLASSES, per_class).mean(axis=1)


def main(_):
    start, rows = time.time(), []
    seeds = seed_range()
    classifier = ts.metrics.mnist_classifier()
    for family in F.families:
        t, shares, worst = time.time(), [], []
        for seed in seeds:
            gan = build(family, seed, F.config)
            data = training_data("mnist", F.data_dir, seed, with_labels=True)(64 * gan.n_critic)
            gan.fit(data.repeat(), epochs=1, steps_per_epoch=F.steps, verbose=0)
            share, per_class = class_fidelity(gan, classifier, F.samples_per_class, seed + 1)
            shares.append(share)
            worst.append(per_class.min())
        rows.append(f"| {family} | {F.config} | {F.steps} | {format_mean_se(shares, 1, scale=100)} | "
                    f"{format_mean_se(worst, 1, scale=100)} | {(time.time() - t) / 60 / F.seeds:.1f} |")
        print(rows[-1], flush=True)
    command = (f"python benchmarks/conditional.py --families={','.join(F.families)} --steps={F.steps} "
               f"--seeds={F.seeds} --seed_start={F.seed_start} --samples_per_class={F.samples_per_class}"
               + (f" --config=\"{F.config}\"" if F.config != "none" else ""))
    note = (f"seeds {seeds[0]}..{seeds[-1]}; conditional DCGAN nets (ConditionalGAN: projection discriminator; "
            f"ACGAN: class head), batch 64, latent 100, Adam(2e-4, 0.5); {F.samples_per_class} samples per class "
            f"classified by the shipped MNIST classifier (chance 10%, target >= 95%); mean ± standard error over the "
            f"seeds; wall time {(time.time() - start) / 60:.1f} min on {cores()}.")
    print(append_results("Conditional families: generated MNIST samples classified as their requested class",
                         command, note, "| family | options | steps | requested class (%) | worst class (%) | minutes per run |",
                         rows, path=F.results))


if __name__ == "__main__":
    app.run(main)
