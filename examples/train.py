"""Trains a GAN of any family on MNIST, Fashion-MNIST, CIFAR-10 or a 2-D toy, writes sample grids, exports G.

    python examples/train.py --family=ns --dataset=mnist --epochs=1 --export_dir=exported/mnist

Every epoch writes `<output_dir>/samples/epoch_NNNN.png` (a fixed-z grid); at the end the generator is
exported as a SavedModel (signatures `serving_default` and `sample`, see README) to `--export_dir`.
Real data is read offline from `--data_dir` (a folder laid out like ../shared/data); with
`--data_dir=""` TFDS downloads it. Per-family optimizer defaults follow each paper (see `DEFAULTS`).
"""
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

import keras  # noqa: E402
import tfgan_stable as ts  # noqa: E402

_LOCAL_DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"

flags.DEFINE_enum("family", "ns", sorted(ts.FAMILIES), "GAN loss family")
flags.DEFINE_enum("dataset", "mnist", ["mnist", "fashion_mnist", "cifar10", "ring8", "grid25"], "training data")
flags.DEFINE_integer("epochs", 1, "training epochs")
flags.DEFINE_integer("steps_per_epoch", None, "limit steps per epoch (default: the whole dataset)")
flags.DEFINE_integer("batch_size", 64, "global batch size")
flags.DEFINE_integer("latent_dim", 100, "size of z")
flags.DEFINE_float("d_lr", None, "discriminator learning rate (default: the family's)")
flags.DEFINE_float("g_lr", None, "generator learning rate (default: the family's)")
flags.DEFINE_integer("n_critic", None, "discriminator updates per generator update (default: the family's)")
flags.DEFINE_string("data_dir", str(_LOCAL_DATA) if _LOCAL_DATA.is_dir() else "",
                    "folder with the raw dataset files (mnist/, fashion-mnist/, cifar10-jpeg/); '' = TFDS download")
flags.DEFINE_string("tfds_dir", None, "where TFDS writes its prepared files (default: TFDS's own)")
flags.DEFINE_string("output_dir", "outputs", "where sample grids and logs go")
flags.DEFINE_string("export_dir", None, "where the generator SavedModel is written (none if unset)")
flags.DEFINE_integer("seed", 0, "seed of the model's randomness and the data order")
flags.DEFINE_bool("jit_compile", False, "compile the step with XLA: faster for the 2-D MLPs, slower for "
                  "DCGAN convolutions on CPU, where TensorFlow's oneDNN kernels beat XLA's")
F = flags.FLAGS

# (optimizer, learning rate, beta_1, beta_2) per family, from the papers.
DEFAULTS = {
    "wgan": ("rmsprop", 5e-5, None, None),      # Arjovsky et al. 2017
    "wgan_gp": ("adam", 1e-4, 0.0, 0.9),        # Gulrajani et al. 2017
}
_DCGAN = ("adam", 2e-4, 0.5, 0.999)              # Radford et al. 2016


def optimizer(lr):
    kind, default_lr, beta_1, beta_2 = DEFAULTS.get(F.family, _DCGAN)
    lr = default_lr if lr is None else lr
    if kind == "rmsprop":
        return keras.optimizers.RMSprop(lr)
    return keras.optimizers.Adam(lr, beta_1=beta_1, beta_2=beta_2)


def dataset_and_nets():
    if F.dataset in ("ring8", "grid25"):
        data = ts.data.toy_dataset(F.dataset, batch_size=F.batch_size, seed=F.seed)
        return data, ts.nets.mlp_generator(F.latent_dim), ts.nets.mlp_discriminator()
    data = ts.data.load(F.dataset, split="train", batch_size=F.batch_size, data_dir=F.data_dir or None,
                        seed=F.seed, tfds_dir=F.tfds_dir)
    shape = (28, 28, 1) if F.dataset != "cifar10" else (32, 32, 3)
    return data, ts.nets.dcgan_generator(F.latent_dim, image_shape=shape), ts.nets.dcgan_discriminator(shape)


def main(_):
    logging.set_verbosity(logging.WARNING)
    keras.utils.set_random_seed(F.seed)
    data, generator, discriminator = dataset_and_nets()
    kwargs = {} if F.n_critic is None else {"n_critic": F.n_critic}
    gan = ts.get_family(F.family)(generator, discriminator, latent_dim=F.latent_dim, seed=F.seed, **kwargs)
    gan.compile(d_optimizer=optimizer(F.d_lr), g_optimizer=optimizer(F.g_lr), jit_compile=F.jit_compile)
    steps = F.steps_per_epoch
    if steps is None and F.dataset in ("ring8", "grid25"):
        steps = 1000  # the toy streams are infinite
    callbacks = [ts.callbacks.ImageGrid(os.path.join(F.output_dir, "samples"), seed=F.seed)]
    gan.fit(data, epochs=F.epochs, steps_per_epoch=steps, callbacks=callbacks)
    if F.export_dir:
        gan.export_generator(F.export_dir)
        print(f"exported the generator to {F.export_dir}")


if __name__ == "__main__":
    app.run(main)
