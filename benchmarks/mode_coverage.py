"""Mode coverage on the 2-D ring-8 and grid-25 mixtures (PacGAN protocol) for every GAN family.

For each (distribution, family, packing, seed): the PacGAN toy MLPs (G: 4×400 BN-ReLU, D: 3×200
maxout-5, packed by m = `--packing`), z of size 2, a batch of 100 packs (100·m samples), Adam(`--learning_rate`,
β₁ = 0.5) on both sides, each family's own n_critic (5 for WGAN and WGAN-GP), `--steps` generator steps with
XLA; then 2,500
samples are scored with `tfgan_stable.metrics.mode_coverage` (high quality = within 3σ of the nearest
mode; a mode is covered by ≥ 1 high-quality sample; reverse KL of the mode histogram to uniform).
Prints a table of means over seeds and writes it, with the command, to benchmarks/RESULTS.md.

    python benchmarks/mode_coverage.py                          # all families, 5 seeds, 20k steps each
    python benchmarks/mode_coverage.py --steps=2000 --seeds=1 --families=ns,hinge   # a quick look
    python benchmarks/mode_coverage.py --families=ns --packing=1,2,4 --learning_rate=1e-3   # PacGAN

Budget: an MLP step costs ~6-10 ms with XLA on the 2-core machine, so 2 mixtures × 7 families × 5 seeds at
20k steps is ~4 hours: pass `--steps`/`--seeds`/`--families` to fit the 60-minute budget of one run (e.g.
`--steps=5000 --seeds=3`) and say which in the table.
"""
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

import keras  # noqa: E402
import tfgan_stable as ts  # noqa: E402
from _common import RESULTS, append_results  # noqa: E402

flags.DEFINE_list("distributions", ["ring8", "grid25"], "toy mixtures")
flags.DEFINE_list("families", sorted(ts.FAMILIES), "GAN families (short names)")
flags.DEFINE_integer("seeds", 5, "seeds per configuration")
flags.DEFINE_integer("steps", 20000, "generator steps per run")
flags.DEFINE_list("packing", ["1"], "PacGAN packing degrees m of the discriminator (1 = none)")
flags.DEFINE_float("learning_rate", 1e-4, "Adam learning rate of both players")
flags.DEFINE_string("results", RESULTS, "markdown file to append to")
F = flags.FLAGS


def run(distribution, family, packing, seed):
    mixture = ts.data.toy_distribution(distribution)
    keras.utils.set_random_seed(seed)
    gan = ts.get_family(family)(ts.nets.mlp_generator(2), ts.nets.mlp_discriminator(packing=packing), latent_dim=2,
                                seed=seed)
    gan.compile(d_optimizer=keras.optimizers.Adam(F.learning_rate, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(F.learning_rate, beta_1=0.5), jit_compile=True)
    gan.fit(ts.data.toy_dataset(distribution, batch_size=100 * packing, seed=seed), epochs=1,
            steps_per_epoch=F.steps, verbose=0)
    return ts.metrics.mode_coverage(gan.generate(2500, seed=seed + 1000).numpy(), mixture.centers, mixture.std)


def main(_):
    start = time.time()
    rows = []
    for distribution in F.distributions:
        for family in F.families:
            for packing in map(int, F.packing):
                results = [run(distribution, family, packing, seed) for seed in range(F.seeds)]
                num_modes = results[0]["num_modes"]
                modes = np.mean([r["modes"] for r in results])
                full = sum(r["modes"] == num_modes for r in results)
                quality = 100 * np.mean([r["high_quality"] for r in results])
                kl = np.nanmean([r["reverse_kl"] for r in results])
                rows.append(f"| {distribution} | {family} | {packing} | {modes:.1f}/{num_modes} | {full}/{F.seeds} | "
                            f"{quality:.1f}% | {kl:.3f} |")
                print(rows[-1], flush=True)
    minutes = (time.time() - start) / 60
    command = (f"python benchmarks/mode_coverage.py --distributions={','.join(F.distributions)} "
               f"--families={','.join(F.families)} --packing={','.join(F.packing)} "
               f"--learning_rate={F.learning_rate:g} --seeds={F.seeds} --steps={F.steps}")
    note = (f"seeds 0..{F.seeds - 1}, {F.steps} steps, batch 100 packs of m samples, Adam({F.learning_rate:g}, 0.5), "
            f"XLA; means over seeds (\"all modes\": seeds that covered every mode); wall time {minutes:.1f} min "
            f"on 2 CPU cores.")
    table = append_results("Mode coverage (PacGAN protocol)", command, note,
                           "| mixture | family | packing m | modes | all modes | high quality | reverse KL |", rows,
                           path=F.results)
    print(table)
    print(f"wall time {minutes:.1f} min")


if __name__ == "__main__":
    app.run(main)
