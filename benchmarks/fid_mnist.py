"""Classifier-FID/KID/IS of the GAN families on MNIST and Fashion-MNIST at a fixed step budget.

Each family trains the DCGAN nets (28×28×1, batch 64, latent 100; the family's paper optimizer) for
`--steps` generator steps from the local data, then 10,000 samples are compared with the 10,000 test
images through the shipped MNIST classifier (`tfgan_stable.metrics.mnist_metrics`). On Fashion-MNIST the
MNIST classifier is only a generic feature network: compare numbers within a dataset, never across.

    python benchmarks/fid_mnist.py                                   # all families, 3000 steps, both datasets
    python benchmarks/fid_mnist.py --families=ns --steps=300 --datasets=mnist   # a quick look
"""
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

import tfgan_stable as ts  # noqa: E402
from _common import DATA_DIR, RESULTS, append_results, train_dcgan  # noqa: E402

flags.DEFINE_list("datasets", ["mnist", "fashion_mnist"], "datasets")
flags.DEFINE_list("families", sorted(ts.FAMILIES), "GAN families (short names)")
flags.DEFINE_integer("steps", 3000, "generator steps per run")
flags.DEFINE_integer("seed", 0, "seed")
flags.DEFINE_string("data_dir", DATA_DIR, "folder with the raw datasets")
flags.DEFINE_string("results", RESULTS, "markdown file to append to")
F = flags.FLAGS


def main(_):
    start, rows = time.time(), []
    for dataset in F.datasets:
        test = np.concatenate([b.numpy() for b in ts.data.load(dataset, "test", batch_size=1000, data_dir=F.data_dir,
                                                                shuffle=False, drop_remainder=False)])
        evaluate = ts.metrics.mnist_metrics(test)
        train = ts.data.load(dataset, "train", batch_size=64, data_dir=F.data_dir, seed=F.seed)
        for family in F.families:
            t = time.time()
            gan = train_dcgan(family, train, (28, 28, 1), F.steps, F.seed)
            result = evaluate(gan.generate(10000, seed=F.seed + 1).numpy())
            rows.append(f"| {dataset} | {family} | {result['fid']:.2f} | {1000 * result['kid']:.2f} | "
                        f"{result['is']:.2f} | {(time.time() - t) / 60:.1f} |")
            print(rows[-1], flush=True)
    command = (f"python benchmarks/fid_mnist.py --datasets={','.join(F.datasets)} --families={','.join(F.families)} "
               f"--steps={F.steps} --seed={F.seed}")
    note = (f"seed {F.seed}, {F.steps} steps of batch 64, 10,000 samples vs the 10,000 test images, MNIST-classifier "
            f"features; wall time {(time.time() - start) / 60:.1f} min on 2 CPU cores.")
    print(append_results("Classifier-FID on MNIST / Fashion-MNIST", command, note,
                         "| dataset | family | FID | KID×1000 | IS | minutes |", rows, path=F.results))


if __name__ == "__main__":
    app.run(main)
