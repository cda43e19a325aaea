"""Trains a GAN of any family on MNIST, Fashion-MNIST, CIFAR-10 or a 2-D toy, writes sample grids, exports G.

    python examples/train.py --family=ns --dataset=mnist --epochs=1 --export_dir=exported/mnist
    # CIFAR-10 with the SNGAN ResNet and spectral norm, hinge loss, 5 critic steps (Miyato et al. 2018):
    python examples/train.py --family=hinge --dataset=cifar10 --net=resnet --n_critic=5 --latent_dim=128 --epochs=50
    # Progressive growing 4x4 -> 32x32 on MNIST up-scaled to 32x32 (Karras et al. 2018):
    python examples/train.py --family=wgan_gp --dataset=mnist --net=progressive --image_size=32 --n_critic=1 \
        --stable_steps=2000 --fade_steps=2000 --epochs=10

Every epoch writes `<output_dir>/samples/epoch_NNNN.png` (a fixed-z grid; for the conditional families cgan and
acgan, trained on (image, label) batches, one row per class); at the end the generator is
exported as a SavedModel (signatures `serving_default` and `sample`, see README) to `--export_dir`.
Real data is read offline from `--data_dir` (a folder laid out like ../shared/data); with
`--data_dir=""` TFDS downloads it. Per-family defaults follow each paper: the optimizers (see `DEFAULTS`; with
`--net=resnet` or `progressive`, that net's paper's, `_NET_DEFAULTS`)
and the DCGAN discriminator's normalisation (the family's `discriminator_norm`: layer norm for the
gradient-penalty critics of WGAN-GP and DRAGAN, whose per-example penalties batch statistics would couple,
batch norm otherwise). With `--jit_compile=auto` (the default) the script times a few steps of the real nets
with and without XLA on this machine and trains with the faster (see `xla_choice.py`).

`--strategy` picks the `tf.distribute` strategy: `default` (one device), `mirrored` (all local devices),
`multiworker` (`MultiWorkerMirroredStrategy`: start the same command once per worker, each with its own
`TF_CONFIG`, see README) or `tpu` (`TPUStrategy` on the TPU that `--tpu` names or the environment provides).
`--batch_size` is always the GLOBAL batch; with several workers each reads the same stream and keeps its rows
of each global batch (DATA sharding), and only worker 0 keeps its sample grids and SavedModel (the others write
theirs to a temporary folder: every worker must take part in reading the replicated state).
"""
import json
import os
import pathlib
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
import tfgan_stable as ts  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xla_choice import choose_jit_compile  # noqa: E402

_LOCAL_DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"

flags.DEFINE_enum("family", "ns", sorted(ts.FAMILIES), "GAN loss family")
flags.DEFINE_enum("dataset", "mnist", ["mnist", "fashion_mnist", "cifar10", "ring8", "grid25"], "training data")
flags.DEFINE_enum("net", "dcgan", ["dcgan", "resnet", "progressive"],
                  "image nets: DCGAN; the SNGAN ResNet with spectral norm (32x32; Miyato et al. 2018); or "
                  "progressively grown nets (Karras et al. 2018; side 4·2^k, e.g. --image_size=32 for MNIST)")
flags.DEFINE_integer("image_size", None, "resize the images to this side (default: the dataset's own: 28 for MNIST, "
                     "32 for CIFAR-10)")
flags.DEFINE_float("width", 1.0, "--net=resnet: channel multiplier (1.0 = the paper's 256 in G, 128 in D)")
flags.DEFINE_integer("stable_steps", 2000, "--net=progressive: steps at each resolution after its fade-in")
flags.DEFINE_integer("fade_steps", 2000, "--net=progressive: steps of each resolution's fade-in")
flags.DEFINE_integer("epochs", 1, "training epochs")
flags.DEFINE_integer("steps_per_epoch", None, "limit steps per epoch (default: the whole dataset)")
flags.DEFINE_integer("batch_size", 64, "global batch of each discriminator update; the data are batched with "
                     "n_critic times this, which each step splits into n_critic disjoint critic batches")
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
flags.DEFINE_enum("jit_compile", "auto", ["auto", "true", "false"],
                  "compile the step with XLA; auto: time a few steps of the real nets with and without XLA on this "
                  "machine and take the faster (XLA sped the DCGAN step up 1.7x on one 2-core CPU and slowed it "
                  "down on another)")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multiworker", "tpu"],
                  "tf.distribute strategy: one device, all local devices, several workers (TF_CONFIG) or a TPU")
flags.DEFINE_string("tpu", "", "--strategy=tpu: the TPU's name or grpc:// address ('' = from the environment)")
F = flags.FLAGS

# (optimizer, learning rate, beta_1, beta_2) per family, from the papers.
DEFAULTS = {
    "wgan": ("rmsprop", 5e-5, None, None),      # Arjovsky et al. 2017
    "wgan_gp": ("adam", 1e-4, 0.0, 0.9),        # Gulrajani et al. 2017
    "began": ("adam", 1e-4, 0.5, 0.999),        # Berthelot et al. 2017 (β₁ as in the reference code)
}
_DCGAN = ("adam", 2e-4, 0.5, 0.999)              # Radford et al. 2016
# The other nets' papers, for every family but WGAN (clipping wants RMSprop): SNGAN's ResNet setting (Miyato et al.
# 2018, table 1 "C": β₁ = 0, β₂ = 0.9, with n_dis = 5 for its CIFAR-10 ResNet; WGAN-GP's CIFAR ResNet used the
# same) and the progressive GAN's Adam(1e-3, 0, 0.99) (Karras et al. 2018).
_NET_DEFAULTS = {"resnet": ("adam", 2e-4, 0.0, 0.9), "progressive": ("adam", 1e-3, 0.0, 0.99)}


def optimizer(lr):
    if F.net == "dcgan" or F.family == "wgan":
        kind, default_lr, beta_1, beta_2 = DEFAULTS.get(F.family, _DCGAN)
    else:
        kind, default_lr, beta_1, beta_2 = _NET_DEFAULTS[F.net]
    lr = default_lr if lr is None else lr
    if kind == "rmsprop":
        return keras.optimizers.RMSprop(lr)
    return keras.optimizers.Adam(lr, beta_1=beta_1, beta_2=beta_2)


NUM_CLASSES = 10  # of MNIST, Fashion-MNIST and CIFAR-10 (the conditional families' labels)


def image_shape(dataset, image_size=None):
    """(side, side, channels) of the images the nets see: the dataset's own side, or `image_size`."""
    side, channels = (28, 1) if dataset != "cifar10" else (32, 3)
    side = image_size or side
    return side, side, channels


def build_nets(family, dataset, latent_dim, net="dcgan", image_size=None, width=1.0):
    """(generator, discriminator) for `dataset`: the PacGAN MLPs for the 2-D toys, else the image nets `net`.

    - "dcgan": the DCGAN nets with the discriminator normalisation of the family's paper
      (`discriminator_norm`). The autoencoder families (EBGAN, BEGAN) get an autoencoder discriminator of
      the same kind instead.
    - "resnet": SNGAN's ResNet generator (batch norm, upsample + conv) and spectrally normalised ResNet
      discriminator (no normalisation layer) at `width`.
    - "progressive": the progressively grown generator and discriminator (pixel norm, minibatch stddev),
      grown by `callbacks.ProgressiveGrowing` during `fit`.
    InfoGAN's D gets the paper's Q head (one hidden layer of 128) for its default codes, one 10-way and two
    continuous; its `latent_dim` is the generator's whole input, noise + 12 code columns. Conditional families:
    G on [z, label] (label embedding for DCGAN, BigGAN's shared embedding for ResNet); ConditionalGAN's D a
    projection discriminator, ACGAN's D with a class head. Raises ValueError for a combination that does not
    exist (labels on the toys, an autoencoder or labels with the progressive nets, an odd side).
    """
    family_class = ts.get_family(family)
    autoencoder = issubclass(family_class, ts.EnergyGAN)
    if dataset in ("ring8", "grid25"):
        if family_class.conditional:
            raise ValueError(f"--family={family} is conditional and needs labelled data; the toys {dataset} have "
                             f"no labels: use --dataset=mnist, fashion_mnist or cifar10")
        discriminator = ts.nets.mlp_autoencoder() if autoencoder else ts.nets.mlp_discriminator()
        generator = ts.nets.mlp_generator(latent_dim)
    elif net == "dcgan":
        shape = image_shape(dataset, image_size)
        norm = family_class.discriminator_norm
        if family == "cgan":
            return (ts.nets.conditional_dcgan_generator(latent_dim, NUM_CLASSES, image_shape=shape),
                    ts.nets.conditional_dcgan_discriminator(NUM_CLASSES, shape, norm=norm))
        if family == "acgan":
            return (ts.nets.conditional_dcgan_generator(latent_dim, NUM_CLASSES, image_shape=shape),
                    ts.nets.add_head(ts.nets.dcgan_discriminator(shape, norm=norm), NUM_CLASSES, "class_logits"))
        build = ts.nets.autoencoder_discriminator if autoencoder else ts.nets.dcgan_discriminator
        generator, discriminator = ts.nets.dcgan_generator(latent_dim, image_shape=shape), build(shape, norm=norm)
    else:
        shape = image_shape(dataset, image_size)
        if autoencoder:
            raise ValueError(f"--family={family} needs an autoencoder discriminator, which only --net=dcgan has")
        if net == "resnet":
            classes = NUM_CLASSES if family_class.conditional else None
            generator = ts.nets.resnet_generator(latent_dim, image_shape=shape, width=width, num_classes=classes)
            discriminator = ts.nets.resnet_discriminator(shape, width=width, num_classes=classes if family == "cgan"
                                                         else None)
            if family == "acgan":
                discriminator = ts.nets.add_head(discriminator, NUM_CLASSES, "class_logits")
        else:
            if family_class.conditional:
                raise ValueError(f"--net=progressive has no conditional nets; train --family={family} with "
                                 f"--net=dcgan or --net=resnet")
            generator = ts.nets.progressive_generator(latent_dim, image_shape=shape)
            discriminator = ts.nets.progressive_discriminator(image_shape=shape)
    if family == "infogan":
        discriminator = ts.nets.add_head(discriminator, 10 + 2, "q", hidden_units=128)
    return generator, discriminator


def build_gan(jit_compile):
    """The GAN of the flags, with fresh nets, compiled."""
    generator, discriminator = build_nets(F.family, F.dataset, F.latent_dim, F.net, F.image_size, F.width)
    kwargs = {} if F.n_critic is None else {"n_critic": F.n_critic}
    if ts.get_family(F.family).conditional:
        kwargs["num_classes"] = NUM_CLASSES
    gan = ts.get_family(F.family)(generator, discriminator, latent_dim=F.latent_dim, seed=F.seed, **kwargs)
    gan.compile(d_optimizer=optimizer(F.d_lr), g_optimizer=optimizer(F.g_lr), jit_compile=jit_compile)
    return gan


def make_dataset(gan):
    """The training data, batched with n_critic x `--batch_size`: each step splits the batch into n_critic
    disjoint critic batches of `--batch_size`."""
    batch_size = gan.n_critic * F.batch_size
    if F.dataset in ("ring8", "grid25"):
        return ts.data.toy_dataset(F.dataset, batch_size=batch_size, seed=F.seed)
    return ts.data.load(F.dataset, split="train", batch_size=batch_size, data_dir=F.data_dir or None,
                        seed=F.seed, tfds_dir=F.tfds_dir, with_labels=gan.conditional, image_size=F.image_size)


def _check_tf_config():
    """TF_CONFIG as MultiWorkerMirroredStrategy needs it: a cluster with workers and this process's task."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ValueError("--strategy=multiworker needs TF_CONFIG in each worker's environment, e.g. "
                         "TF_CONFIG='{\"cluster\": {\"worker\": [\"host0:12345\", \"host1:12345\"]}, "
                         "\"task\": {\"type\": \"worker\", \"index\": 0}}' (index 1 on the second worker); "
                         "on one machine use --strategy=mirrored")
    try:
        config = json.loads(raw)
        workers, task = config["cluster"]["worker"], config["task"]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"TF_CONFIG must be JSON with cluster.worker (a list of host:port) and task.type/index, "
                         f"got {raw!r} ({type(e).__name__}: {e})") from None
    if task.get("type") == "worker" and not 0 <= index < len(workers):
        raise ValueError(f"TF_CONFIG task index {index} is not one of the {len(workers)} workers {workers}")


def make_strategy(name, tpu=""):
    """The `tf.distribute` strategy called `name` (`--strategy`); raises ValueError when it cannot run here.

    `tpu` is the TPU's name or grpc:// address for "tpu" ('' = from the environment, e.g. on a TPU VM).
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        _check_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, RuntimeError, OSError, ImportError, tf.errors.OpError) as e:  # OSError: URLError
            raise ValueError(f"--strategy=tpu: no TPU could be reached (--tpu={tpu!r}); run on a TPU VM or "
                             f"pass --tpu=<name or grpc://address>. TensorFlow said: {e}") from None
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"unknown --strategy {name!r}")


def is_chief(strategy):
    """Whether this process keeps the outputs: always, except on the workers after the first."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return True
    return resolver.task_type in (None, "chief") or (resolver.task_type == "worker" and resolver.task_id == 0
                                                     and "chief" not in resolver.cluster_spec().as_dict())


def main(_):
    logging.set_verbosity(logging.WARNING)
    try:  # first: MultiWorkerMirroredStrategy must be set up before TensorFlow runs anything
        strategy = make_strategy(F.strategy, F.tpu)
    except ValueError as e:
        sys.exit(f"train.py: {e}")
    if F.jit_compile == "auto" and F.strategy != "default":
        # The timing runs one device; each worker would also time (and might choose) on its own.
        print(f"--jit_compile=auto with --strategy={F.strategy}: training without XLA (pass "
              f"--jit_compile=true to compile each side's gradients)", flush=True)
        jit_compile = False
    elif F.jit_compile == "auto":
        # Throwaway copies of the nets; the real run below starts from the seed as with a fixed choice.
        jit_compile, rates = choose_jit_compile(build_gan, make_dataset)
        print(f"--jit_compile=auto: {rates[False]:.1f} steps/s without XLA, {rates[True]:.1f} with XLA on this "
              f"machine; training {'with' if jit_compile else 'without'} XLA", flush=True)
        keras.backend.clear_session()
    else:
        jit_compile = F.jit_compile == "true"
    keras.utils.set_random_seed(F.seed)
    with strategy.scope():
        try:
            gan = build_gan(jit_compile)
        except ValueError as e:
            sys.exit(f"train.py: {e}")
    data = make_dataset(gan)
    if F.strategy == "multiworker":
        # Every worker builds the same stream of global batches and keeps its replicas' rows of each.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        data = data.with_options(options)
    steps = F.steps_per_epoch
    if steps is None and F.dataset in ("ring8", "grid25"):
        steps = 1000  # the toy streams are infinite
    chief = is_chief(strategy)
    # Sampling and export read replicated state, which on several workers can be a collective: every worker takes
    # part, and the others write to a folder that is deleted afterwards.
    scratch = None if chief else tempfile.mkdtemp(prefix="train_worker_")
    output_dir = F.output_dir if chief else scratch
    callbacks = [ts.callbacks.ImageGrid(os.path.join(output_dir, "samples"), seed=F.seed)]
    if F.net == "progressive":  # first: the grids and the export see the grown nets
        callbacks.insert(0, ts.callbacks.ProgressiveGrowing(F.stable_steps, F.fade_steps))
    try:
        gan.fit(data, epochs=F.epochs, steps_per_epoch=steps, callbacks=callbacks, verbose="auto" if chief else 0)
        if F.export_dir:
            gan.export_generator(F.export_dir if chief else os.path.join(scratch, "export"))
            if chief:
                print(f"exported the generator to {F.export_dir}")
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    app.run(main)
