"""Classifier-FID of the relativistic average GANs against their non-relativistic counterparts on MNIST.

Jolicoeur-Martineau 2019 reports that making the discriminator relativistic improves FID for each loss:
RaSGAN vs the non-saturating GAN, RaLSGAN vs LSGAN, RaHingeGAN vs the hinge GAN (and RSGAN vs the
non-saturating GAN). This script trains each pair at the same budget, with the same seeds, nets and optimizer
(`_common.train_dcgan`: DCGAN nets 28×28×1, batch 64, latent 100, Adam(2e-4, 0.5), batch norm in D, as the
paper's stable setup), and compares `--samples` generated digits with the 10,000 test images through the
shipped MNIST classifier (`tfgan_stable.metrics.mnist_metrics`). The difference Δ = FID(relativistic) −
FID(counterpart) is taken per seed, so the seeds' shared luck cancels; the table gives mean ± standard error
over the seeds (sample std, ddof = 1, over √n). A negative Δ favours the relativistic loss.

    python benchmarks/relativistic.py --steps=3000 --seeds=3                 # the evidence run, appends to RESULTS.md
    python benchmarks/relativistic.py --steps=2 --samples=500 --results=/tmp/smoke.md   # a smoke test
"""
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

import tfgan_stable as ts  # noqa: E402
from _common import (append_results, cores, define_seed_flags, format_mean_se, seed_range, test_images,  # noqa: E402
                     train_dcgan, training_data)

#: (relativistic family, its counterpart), short names of `tfgan_stable.FAMILIES`.
PAIRS = {"rasgan": "ns", "ralsgan": "lsgan", "rahinge": "hinge", "rsgan": "ns"}

flags.DEFINE_list("families", ["rasgan", "ralsgan", "rahinge"], f"relativistic families, of {sorted(PAIRS)}")
flags.DEFINE_enum("dataset", "mnist", ["mnist", "fashion_mnist"], "training data")
flags.DEFINE_integer("steps", 3000, "generator steps per run")
flags.DEFINE_integer("samples", 10000, "generated images per FID")
define_seed_flags(seeds=3)
F = flags.FLAGS


def main(_):
    unknown = sorted(set(F.families) - set(PAIRS))
    if unknown:
        raise app.UsageError(f"--families: unknown {unknown}; expected some of {sorted(PAIRS)}")
    start, rows, cache = time.time(), [], {}
    seeds = seed_range()
    evaluate = ts.metrics.mnist_metrics(test_images(F.dataset, F.data_dir))

    def fid(family, seed):  # a counterpart shared by two relativistic families is trained once per seed
        if (family, seed) not in cache:
            t = time.time()
            gan = train_dcgan(family, training_data(F.dataset, F.data_dir, seed), (28, 28, 1), F.steps, seed)
            cache[family, seed] = (evaluate(gan.generate(F.samples, seed=seed + 1).numpy())["fid"],
                                   (time.time() - t) / 60)
            print(f"{family} seed {seed}: FID {cache[family, seed][0]:.2f}", flush=True)
        return cache[family, seed]

    for family in F.families:
        base = PAIRS[family]
        relativistic = [fid(family, s) for s in seeds]
        counterpart = [fid(base, s) for s in seeds]
        delta = [r[0] - c[0] for r, c in zip(relativistic, counterpart)]
        rows.append(f"| {family} | {base} | {format_mean_se([r[0] for r in relativistic], 2)} | "
                    f"{format_mean_se([c[0] for c in counterpart], 2)} | {format_mean_se(delta, 2)} | "
                    f"{sum(d < 0 for d in delta)}/{len(delta)} | {np.mean([r[1] for r in relativistic]):.1f} |")
        print(rows[-1], flush=True)
    command = (f"python benchmarks/relativistic.py --families={','.join(F.families)} --dataset={F.dataset} "
               f"--steps={F.steps} --seeds={F.seeds} --seed_start={F.seed_start} --samples={F.samples}")
    note = (f"{F.dataset}, seeds {seeds[0]}..{seeds[-1]}, {F.steps} steps of 64 images, DCGAN nets, Adam(2e-4, 0.5) "
            f"for every family; {F.samples} samples vs the 10,000 test images, MNIST-classifier features. Δ = "
            f"FID(relativistic) − FID(counterpart) per seed, mean ± standard error over the {F.seeds} seed(s); "
            f"'better' counts the seeds with Δ < 0. Wall time {(time.time() - start) / 60:.1f} min on {cores()}.")
    print(append_results("Relativistic vs standard discriminators: classifier-FID on MNIST", command, note,
                         "| relativistic | counterpart | FID relativistic | FID counterpart | Δ FID | better | "
                         "minutes per run |", rows, path=F.results))


if __name__ == "__main__":
    app.run(main)
