"""Keras callbacks for GAN training."""
import os

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from tfgan_stable import sampling
from tfgan_stable.images import image_grid, sample_picture, save_png
from tfgan_stable.layers.progressive import ProgressiveGrowing  # noqa: F401 (a callback of the public API)


class ImageGrid(keras.callbacks.Callback):
    """Saves a grid of samples from a fixed set of latent vectors at the end of every n-th epoch.

    The grid is `model.generate(num=num_images, seed=seed)`: the same latent vectors every time (z ~ N(0, I)
    from `seed`), so successive grids show how the same samples evolve.
    After epoch e (counted from 1, as Keras prints it) it writes `directory/epoch_{e:04d}.png`, and, with
    `tensorboard_dir`, an image summary "samples" at step e.

    The model must have a `latent_dim` attribute and a `generate(num=..., seed=...)` method returning images
    in [-1, 1] (as the tfgan_stable GAN models do); 2-D samples (the toy distributions) are drawn as a
    scatter plot instead of a grid.

    A conditional model (one whose generator takes labels, e.g. `ConditionalGAN`, `ACGAN`) is given labels:
    by default one row per class, num_images // num_classes samples (at least 1) of class k in row k, each
    column with the same z for every class; or the fixed `labels` given here (one per image, laid out
    row by row).

    Args:
      directory: folder for the PNG files (created if missing).
      num_images: number of samples in the grid.
      seed: seed of the fixed latent vectors.
      every_n_epochs: write after epochs n, 2n, 3n, ...
      tensorboard_dir: optional folder for a TensorBoard event file.
      labels: for a conditional model, the class of each image (then `num_images` is their number); None
        gives one row per class.

    Example:
      gan.fit(dataset, epochs=10, callbacks=[tfgan_stable.callbacks.ImageGrid("samples/")])
    """

    def __init__(self, directory, num_images=64, seed=0, every_n_epochs=1, tensorboard_dir=None, labels=None):
        super().__init__()
        if not isinstance(directory, (str, os.PathLike)):
            raise ValueError(f"`directory` must be a path, got {directory!r}")
        if tensorboard_dir is not None and not isinstance(tensorboard_dir, (str, os.PathLike)):
            raise ValueError(f"`tensorboard_dir` must be a path or None, got {tensorboard_dir!r}")
        for argument, value in (("num_images", num_images), ("every_n_epochs", every_n_epochs)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"`{argument}` must be a positive integer, got {value!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"`seed` must be an integer, got {seed!r}")
        self.directory = os.fspath(directory)
        self.num_images = int(num_images)
        self.seed = int(seed)
        self.every_n_epochs = int(every_n_epochs)
        self.tensorboard_dir = None if tensorboard_dir is None else os.fspath(tensorboard_dir)
        if labels is not None:
            labels = np.asarray(labels)
            if labels.ndim != 1 or labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
                raise ValueError(f"`labels` must be a non-empty 1-D sequence of integer class ids, got {labels!r}")
            self.num_images = len(labels)
        self.labels = labels
        self.fixed_z = None
        self.fixed_labels = None
        self._rows = None
        self._writer = None

    def on_train_begin(self, logs=None):
        latent_dim = getattr(self.model, "latent_dim", None)
        if not callable(getattr(self.model, "generate", None)) or latent_dim is None:
            raise TypeError(f"ImageGrid needs a model with a `latent_dim` attribute and a "
                            f"`generate(num=..., seed=...)` method, got {type(self.model).__name__}")
        conditional = getattr(self.model, "generator_takes_labels", False)
        if self.labels is not None and not conditional:
            raise ValueError(f"ImageGrid was given `labels`, but the generator of {type(self.model).__name__} takes "
                             f"no labels")
        self.fixed_z = self.fixed_labels = None  # unconditional: `generate(num, seed)` draws the same latents
        if conditional and self.labels is None:  # one row per class; column j has the same z in every row
            classes = int(self.model.num_classes)
            columns = max(1, self.num_images // classes)
            z = sampling.latent_normal(columns, int(latent_dim), self.seed)
            self.fixed_z = tf.tile(z, [classes, 1])
            self.fixed_labels = np.repeat(np.arange(classes, dtype=np.int32), columns)
            self._rows = classes
        elif conditional:
            self.fixed_z = sampling.latent_normal(self.num_images, int(latent_dim), self.seed)
            self.fixed_labels = self.labels
        os.makedirs(self.directory, exist_ok=True)
        if self.tensorboard_dir is not None and self._writer is None:
            self._writer = tf.summary.create_file_writer(self.tensorboard_dir)

    def on_epoch_end(self, epoch, logs=None):
        step = epoch + 1
        if step % self.every_n_epochs:
            return
        if self.fixed_labels is None:
            # The same seed every time, so the same latents (the model's `generate` decides what a seed draws:
            # z ~ N(0, I), and InfoGAN's codes too).
            samples = np.asarray(self.model.generate(num=self.num_images, seed=self.seed))
        else:
            samples = np.asarray(self.model.generate(z=self.fixed_z, labels=self.fixed_labels))
        picture = image_grid(samples, rows=self._rows) if self._rows and samples.ndim == 4 else sample_picture(samples)
        grid = save_png(picture, os.path.join(self.directory, f"epoch_{step:04d}.png"))
        if self._writer is not None:
            _write_image_summary(self._writer, "samples", grid, step)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _write_image_summary(writer, tag, image, step):
    """Writes one uint8 image [H, W, C] as a TensorBoard image summary.

    This is the record `tf.summary.image` writes (a string tensor [width, height, png] tagged for the
    "images" plugin), written with core TF alone because `tf.summary.image` needs the tensorboard package.
    """
    metadata = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="images"))
    height, width = image.shape[:2]
    tensor = tf.stack([tf.as_string(width), tf.as_string(height), tf.io.encode_png(image)])
    with writer.as_default():
        tf.summary.write(tag, tensor, step=step, metadata=metadata)
    writer.flush()


class TerminateOnNonFinite(keras.callbacks.Callback):
    """Stops training at the first step whose logs hold a NaN or infinity, naming the first such value.

    The values are checked in the order the step computes them: the techniques' terms and the family's
    metrics first, then `d_loss`, `g_loss` and their sum `loss`; so a diverging gradient penalty is
    reported as `gradient_penalty`, not as the `d_loss` it makes non-finite too. (Keras'
    `TerminateOnNaN` also works with a GAN, on `loss`, without naming the term.)

    Args:
      raise_error: raise a `RuntimeError` instead of stopping after the step.

    Attributes:
      stopped: None, or (step, name, value) of the value that stopped training.
    """

    _TOTALS = ("d_loss", "g_loss", "loss")

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = bool(raise_error)
        self.stopped = None

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        names = [n for n in logs if n not in self._TOTALS] + [n for n in self._TOTALS if n in logs]
        for name in names:
            value = float(logs[name])
            if not np.isfinite(value):
                step = int(self.model.g_optimizer.iterations.numpy()) if hasattr(self.model, "g_optimizer") \
                    else batch
                self.stopped = (step, name, value)
                message = f"training stopped at step {step}: {name} is {value} (the first non-finite value)"
                if self.raise_error:
                    raise RuntimeError(message)
                print(message)
                self.model.stop_training = True
                return
