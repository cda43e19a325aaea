"""Stacked-MNIST mode coverage (1,000 modes; VEEGAN / PacGAN protocol) of DCGAN GANs at a bounded budget.

Each run trains the DCGAN nets on 28×28×3 stacked MNIST (three random training digits as the channels,
a batch of 64 discriminator inputs — 64·m images with PacGAN packing m — latent 100) for `--steps` generator steps, then classifies every channel of 26,000 samples with
the shipped MNIST classifier: modes covered and KL(p_gen ‖ uniform). Real stacked MNIST scores 1000 modes
and KL 0.023 with this classifier (the floor for 26,000 samples). Published best: PacGAN, 1000 modes, KL 0.06.
Keep each run within 30 CPU-minutes (`--steps`).

    python benchmarks/stacked_mnist.py                       # NS-GAN, 5000 steps
    python benchmarks/stacked_mnist.py --families=ns,hinge --steps=300   # a quick look
    python benchmarks/stacked_mnist.py --packing=1,2                     # NS-GAN vs PacGAN2
"""
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import tfgan_stable as ts  # noqa: E402
from _common import DATA_DIR, RESULTS, append_results, train_dcgan  # noqa: E402

flags.DEFINE_list("families", ["ns"], "GAN families (short names)")
flags.DEFINE_integer("steps", 5000, "generator steps per run")
flags.DEFINE_list("packing", ["1"], "PacGAN packing degrees m of the discriminator (1 = none)")
flags.DEFINE_integer("seed", 0, "seed")
flags.DEFINE_string("data_dir", os.path.join(DATA_DIR, "mnist"), "folder with the MNIST IDX files")
flags.DEFINE_string("results", RESULTS, "markdown file to append to")
F = flags.FLAGS


def main(_):
    start, rows = time.time(), []
    for packing in map(int, F.packing):
        data = ts.data.stacked_mnist_dataset(F.data_dir, batch_size=64 * packing, seed=F.seed)
        for family in F.families:
            t = time.time()
            gan = train_dcgan(family, data, (28, 28, 3), F.steps, F.seed, packing=packing)
            result = ts.metrics.stacked_mnist_coverage(gan.generate(26000, seed=F.seed + 1).numpy())
            rows.append(f"| {family} | {packing} | {result['modes']} | {result['kl']:.3f} | "
                        f"{(time.time() - t) / 60:.1f} |")
            print(rows[-1], flush=True)
    command = (f"python benchmarks/stacked_mnist.py --families={','.join(F.families)} --packing={','.join(F.packing)} "
               f"--steps={F.steps} --seed={F.seed}")
    note = (f"seed {F.seed}, {F.steps} steps of 64 discriminator inputs (64·m images), 26,000 samples; wall time "
            f"{(time.time() - start) / 60:.1f} min on 2 CPU cores.")
    print(append_results("Stacked MNIST", command, note, "| family | packing m | modes (of 1000) | KL | minutes |",
                         rows, path=F.results))


if __name__ == "__main__":
    app.run(main)
