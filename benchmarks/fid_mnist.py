"""Classifier-FID/KID/IS of the GAN families on MNIST and Fashion-MNIST at a fixed step budget.

Each family trains the DCGAN nets (28×28×1, batch 64, latent 100; the family's paper optimizer) for
`--steps` generator steps from the local data, then 10,000 samples are compared with the 10,000 test
images through the shipped MNIST classifier (`tfgan_stable.metrics.mnist_metrics`). On Fashion-MNIST the
MNIST classifier is only a generic feature network: compare numbers within a dataset, never across.

Runs seeds `--seed_start` .. `--seed_start + --seeds - 1` and reports mean ± standard error over them (SE =
sample std, ddof = 1, over √n; a single value for one seed). With n_critic = k (WGAN, WGAN-GP) the data are
batched with k × 64 images, which a step splits into k disjoint critic batches of 64.

    python benchmarks/fid_mnist.py                                   # all families, 3000 steps, both datasets
    python benchmarks/fid_mnist.py --families=ns --steps=300 --datasets=mnist   # a quick look
    python benchmarks/fid_mnist.py --families=ns --datasets=mnist --pretrain_steps=0,300   # stacked pre-training

`--pretrain_steps` lists pre-training settings P to compare (0 = none): with P > 0 the nets are pre-trained
(`tfgan_stable.pretraining`, on the first 10,000 training images) with P L1 steps per resolution and P
discriminator steps, and the GAN then trains for the rest of the `--steps` generator updates.
"""
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import tfgan_stable as ts  # noqa: E402
from _common import (append_results, cores, define_seed_flags, format_mean_se, seed_range, test_images,  # noqa: E402
                     train_dcgan, training_data)

flags.DEFINE_list("datasets", ["mnist", "fashion_mnist"], "datasets")
flags.DEFINE_list("families", sorted(f for f in ts.FAMILIES if not ts.get_family(f).conditional),
                  "GAN families (short names; the conditional ones have benchmarks/conditional.py)")
flags.DEFINE_integer("steps", 3000, "generator updates per run (pre-training steps included)")
flags.DEFINE_list("pretrain_steps", ["0"], "pre-training steps per resolution to compare (0 = no pre-training)")
define_seed_flags(seeds=1)
F = flags.FLAGS


def main(_):
    start, rows = time.time(), []
    seeds = seed_range()
    for dataset in F.datasets:
        evaluate = ts.metrics.mnist_metrics(test_images(dataset, F.data_dir))
        pretrain_images = next(iter(ts.data.load(dataset, "train", batch_size=10000, data_dir=F.data_dir,
                                                 shuffle=False))).numpy()
        for family in F.families:
            for pretrain in [int(p) for p in F.pretrain_steps]:
                t, results = time.time(), []
                for seed in seeds:
                    gan = train_dcgan(family, training_data(dataset, F.data_dir, seed), (28, 28, 1), F.steps, seed,
                                      pretrain_images=pretrain_images, pretrain_steps=pretrain)
                    results.append(evaluate(gan.generate(10000, seed=seed + 1).numpy()))
                rows.append(f"| {dataset} | {family} | {pretrain} | {format_mean_se([r['fid'] for r in results], 2)} | "
                            f"{format_mean_se([r['kid'] for r in results], 2, scale=1000)} | "
                            f"{format_mean_se([r['is'] for r in results], 2)} | {(time.time() - t) / 60 / F.seeds:.1f} |")
                print(rows[-1], flush=True)
    command = (f"python benchmarks/fid_mnist.py --datasets={','.join(F.datasets)} --families={','.join(F.families)} "
               f"--steps={F.steps} --pretrain_steps={','.join(F.pretrain_steps)} --seeds={F.seeds} --seed_start={F.seed_start}")
    note = (f"seeds {seeds[0]}..{seeds[-1]}, {F.steps} steps of 64 images per discriminator update, 10,000 samples vs "
            f"the 10,000 test images, MNIST-classifier features; pre-training steps count towards the {F.steps} generator "
            f"updates (P per resolution: 7x7, 14x14, 28x28); mean ± standard error over the {F.seeds} seed(s); "
            f"wall time {(time.time() - start) / 60:.1f} min on {cores()}.")
    print(append_results("Classifier-FID on MNIST / Fashion-MNIST", command, note,
                         "| dataset | family | pre-training steps per stage | FID | KID×1000 | IS | minutes per run |", rows, path=F.results))


if __name__ == "__main__":
    app.run(main)
