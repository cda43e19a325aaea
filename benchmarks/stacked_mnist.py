"""Stacked-MNIST mode coverage (1,000 modes; VEEGAN / PacGAN protocol) of DCGAN GANs at a bounded budget.

Each run trains the DCGAN nets on 28×28×3 stacked MNIST (three random training digits as the channels; every
discriminator update sees 64 inputs, i.e. 64·m images with PacGAN packing m; latent 100) for `--steps`
generator steps, then classifies every channel of 26,000 samples with the shipped MNIST classifier: modes
covered and KL(p_gen ‖ uniform). Real stacked MNIST scores 1000 modes and KL 0.023 with this classifier (the
floor for 26,000 samples). Published best: PacGAN, 1000 modes, KL 0.06. Keep each run within 30 CPU-minutes
(`--steps`).

Runs seeds `--seed_start` .. `--seed_start + --seeds - 1` (the seed sets the weights, z and the digit
triples) and reports mean ± standard error over them (SE = sample std, ddof = 1, over √n), appending the table,
with the command and the departures from PacGAN's protocol, to benchmarks/RESULTS.md.

    python benchmarks/stacked_mnist.py                                   # NS-GAN, 5000 steps, seed 0
    python benchmarks/stacked_mnist.py --families=ns,hinge --steps=300   # a quick look
    python benchmarks/stacked_mnist.py --packing=1,2 --steps=3000 --seeds=3 --seed_start=10  # NS-GAN vs PacGAN2
    python benchmarks/stacked_mnist.py --config=none --config="EMA(decay=0.999)"    # with techniques

Each `--config` (repeatable; default "none") adds techniques and family options, as `_common.parse_config`
reads them.
"""
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import tfgan_stable as ts  # noqa: E402
from _common import (DATA_DIR, DEPARTURES_STACKED, RESULTS, append_results, cores, format_mean_se,  # noqa: E402
                     train_dcgan)

flags.DEFINE_list("families", ["ns"], "GAN families (short names)")
flags.DEFINE_integer("steps", 5000, "generator steps per run")
flags.DEFINE_list("packing", ["1"], "PacGAN packing degrees m of the discriminator (1 = none)")
flags.DEFINE_multi_string("config", ["none"], "techniques and family options, e.g. \"EMA(decay=0.999)\" "
                          "(repeat the flag for several configurations)")
flags.DEFINE_integer("seeds", 1, "seeds per configuration")
flags.DEFINE_integer("seed_start", 0, "first seed; runs use seed_start .. seed_start + seeds - 1")
flags.DEFINE_string("data_dir", os.path.join(DATA_DIR, "mnist"), "folder with the MNIST IDX files")
flags.DEFINE_string("results", RESULTS, "markdown file to append to")
F = flags.FLAGS


def run(family, packing, config, seed):
    def make_dataset(batch_size):
        return ts.data.stacked_mnist_dataset(F.data_dir, batch_size=batch_size, seed=seed)

    gan = train_dcgan(family, make_dataset, (28, 28, 3), F.steps, seed, packing=packing, config=config)
    return ts.metrics.stacked_mnist_coverage(gan.generate(26000, seed=seed + 1).numpy())


def main(_):
    start, rows = time.time(), []
    seeds = range(F.seed_start, F.seed_start + F.seeds)
    for packing, config in ((p, c) for p in map(int, F.packing) for c in F.config):
        for family in F.families:
            t = time.time()
            results = []
            for seed in seeds:
                results.append(run(family, packing, config, seed))
                print(f"{family} m={packing} [{config}] seed {seed}: {results[-1]['modes']} modes, "
                      f"KL {results[-1]['kl']:.3f}",
                      flush=True)
            per_seed = ", ".join(str(r["modes"]) for r in results)
            rows.append(f"| {family} | {packing} | {config} | "
                        f"{format_mean_se([r['modes'] for r in results], 1)} ({per_seed}) | "
                        f"{format_mean_se([r['kl'] for r in results], 3)} | {(time.time() - t) / 60 / F.seeds:.1f} |")
            print(rows[-1], flush=True)
    command = (f"python benchmarks/stacked_mnist.py --families={','.join(F.families)} --packing={','.join(F.packing)} "
               f"--steps={F.steps} --seeds={F.seeds} --seed_start={F.seed_start}"
               + "".join(f" --config=\"{c}\"" for c in F.config if F.config != ["none"]))
    note = (f"seeds {seeds[0]}..{seeds[-1]}, {F.steps} steps of 64 discriminator inputs (64·m images), 26,000 "
            f"samples; mean ± standard error over the {F.seeds} seeds (modes of each seed in brackets); wall time "
            f"{(time.time() - start) / 60:.1f} min on {cores()}.\n\n"
            + DEPARTURES_STACKED.format(steps=F.steps, seeds=F.seeds))
    print(append_results("Stacked MNIST", command, note,
                         "| family | packing m | techniques | modes (of 1000) | KL | minutes per run |", rows,
                         path=F.results))


if __name__ == "__main__":
    app.run(main)
