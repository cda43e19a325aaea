"""Stacked pre-training of a GAN's nets before adversarial training (Pani's report, after Karras et al. 2018).

The generator first learns, coarse to fine, to reproduce a fixed set of real images from fixed latent vectors
with an L1 loss (`pretrain_generator`); then the discriminator learns to tell those real images from the
pre-trained generator's samples as a least-squares classifier (`pretrain_discriminator`). The two nets are
ordinary Keras models, so any family takes them over:

```python
history = tfgan_stable.pretraining.pretrain_generator(generator, images, latent_dim=64, steps_per_stage=200)
tfgan_stable.pretraining.pretrain_discriminator(discriminator, generator, images, latent_dim=64, steps=200)
gan = tfgan_stable.NonSaturatingGAN(generator, discriminator, latent_dim=64)
```
"""
import numbers

import keras
import numpy as np
import tensorflow as tf

from tfgan_stable import sampling


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
    return int(value)


def _checked_images(images, model, name):
    images = np.asarray(images)
    if images.ndim != 4 or not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"`images` must be float images [n, height, width, channels] in [-1, 1], got dtype "
                         f"{images.dtype} and shape {images.shape}")
    if images.size and (images.min() < -1.0 - 1e-3 or images.max() > 1.0 + 1e-3):
        raise ValueError(f"`images` must be scaled to [-1, 1], they span [{images.min():g}, {images.max():g}]; "
                         f"for uint8 pixels use x / 127.5 - 1")
    if not isinstance(model, keras.Model) or not model.built or len(model.inputs) != 1:
        raise ValueError(f"`{name}` must be a built keras.Model with one input (conditional nets are not supported)")
    return images.astype(np.float32)


def stage_sizes(side, smallest=4):
    """The resolutions of the stages for images of side `side`: `side` halved while it stays an integer and
    at least `smallest`, in increasing order (64 → 4, 8, 16, 32, 64; 28 → 7, 14, 28)."""
    side = _positive_int(side, "side")
    sizes = [side]
    while sizes[-1] % 2 == 0 and sizes[-1] // 2 >= smallest:
        sizes.append(sizes[-1] // 2)
    return tuple(reversed(sizes))


def _downsample(images, size):
    """Area downsampling to size x size: the mean of each (side / size)² block."""
    factor = images.shape[1] // size
    if factor == 1:
        return images
    return tf.nn.avg_pool2d(images, factor, factor, "VALID")


def pretrain_generator(generator, images, latent_dim, stages=None, steps_per_stage=200, batch_size=64,
                       optimizer=None, seed=0):
    """Pre-trains `generator` stage by stage to reproduce `images` from fixed latent vectors, with an L1 loss.

    Image i is paired once with its own z_i ~ N(0, I) (drawn from `seed`). At the stage of resolution s the
    loss of a batch is mean |A_s(G(z_i)) − A_s(x_i)|, where A_s averages s' x s' blocks down to s x s
    (area resizing): the generator first matches the coarse layout of each image, then finer and finer
    detail, up to the full resolution (the progressive L1 pre-training of Pani's report, which grows the
    target resolution 4x4 → 8x8 → … → 64x64 as progressive GANs grow the nets, Karras et al. 2018).
    The generator runs in training mode (batch norm learns its statistics on the way).

    Args:
      generator: a built `keras.Model` mapping [batch, latent_dim] to images like `images`.
      images: float images [n, H, W, C] in [-1, 1] (a fixed training subset; n ≥ `batch_size`).
      latent_dim: size of z.
      stages: increasing resolutions that divide H (default `stage_sizes(H)`).
      steps_per_stage: optimizer steps at each resolution.
      batch_size: image/latent pairs per step.
      optimizer: a `keras.optimizers.Optimizer` (default Adam(1e-3, beta_1=0.5)); kept across stages.
      seed: seed of the latent vectors and of the batch order.

    Returns:
      {resolution: [loss of each step]} in stage order (the loss of a step is measured before its update).
    """
    images = _checked_images(images, generator, "generator")
    latent_dim = _positive_int(latent_dim, "latent_dim")
    if tuple(generator.inputs[0].shape[1:]) != (latent_dim,):
        raise ValueError(f"`latent_dim`={latent_dim} does not match the generator's input {generator.inputs[0].shape}")
    side = images.shape[1]
    stages = stage_sizes(side) if stages is None else tuple(stages)
    if (not stages or list(stages) != sorted(set(stages))
            or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s <= 0 or side % s for s in stages)):
        raise ValueError(f"`stages` must be increasing positive resolutions that divide the image side {side}, "
                         f"got {stages!r}")
    steps_per_stage = _positive_int(steps_per_stage, "steps_per_stage")
    batch_size = _positive_int(batch_size, "batch_size")
    if batch_size > len(images):
        raise ValueError(f"`batch_size`={batch_size} is larger than the {len(images)} images")
    optimizer = optimizer or keras.optimizers.Adam(1e-3, beta_1=0.5)
    z = sampling.latent_normal(len(images), latent_dim, sampling.fold_in(seed, 0)).numpy()
    rng = np.random.default_rng(seed)
    optimizer.build(generator.trainable_variables)

    def make_step(size):
        @tf.function
        def step(z_batch, x_batch):
            with tf.GradientTape() as tape:
                fake = tf.cast(generator(z_batch, training=True), tf.float32)
                loss = tf.reduce_mean(tf.abs(_downsample(fake, size) - _downsample(x_batch, size)))
            grads = tape.gradient(loss, generator.trainable_variables)
            optimizer.apply_gradients(zip(grads, generator.trainable_variables))
            return loss
        return step

    history = {}
    order, position = rng.permutation(len(images)), 0
    for size in stages:
        step, losses = make_step(int(size)), []
        for _ in range(steps_per_stage):
            if position + batch_size > len(order):
                order, position = rng.permutation(len(images)), 0
            index = order[position:position + batch_size]
            position += batch_size
            losses.append(float(step(tf.constant(z[index]), tf.constant(images[index]))))
        history[int(size)] = losses
    return history


def pretrain_discriminator(discriminator, generator, images, latent_dim, steps=200, batch_size=64,
                           optimizer=None, seed=0):
    """Pre-trains `discriminator` as a least-squares classifier of real images against the generator's samples.

    Each step minimises ½·mean (D(x) − 1)² + ½·mean D(G(z))² over a batch of real images and as many fresh
    samples of the (fixed) generator, z ~ N(0, I) from `seed` and the step (the least-squares real/fake
    classifier of Pani's report; the LSGAN discriminator loss with targets 1 and 0, Mao et al. 2017). The
    generator runs in inference mode and is not changed.

    Args:
      discriminator: a built `keras.Model` mapping images to one score per image ([batch] or [batch, 1]).
      generator: the (pre-trained) generator.
      images: float real images [n, H, W, C] in [-1, 1].
      latent_dim: size of z.
      steps: optimizer steps.
      batch_size: real images (and samples) per step.
      optimizer: a `keras.optimizers.Optimizer` (default Adam(1e-4, beta_1=0.5)).
      seed: seed of z and of the batch order.

    Returns:
      [loss of each step] (measured before its update).
    """
    images = _checked_images(images, discriminator, "discriminator")
    _checked_images(images[:0], generator, "generator")
    latent_dim = _positive_int(latent_dim, "latent_dim")
    steps = _positive_int(steps, "steps")
    batch_size = _positive_int(batch_size, "batch_size")
    if batch_size > len(images):
        raise ValueError(f"`batch_size`={batch_size} is larger than the {len(images)} images")
    optimizer = optimizer or keras.optimizers.Adam(1e-4, beta_1=0.5)
    optimizer.build(discriminator.trainable_variables)
    rng = np.random.default_rng(seed)

    @tf.function
    def step(x_batch, step_seed):
        z = sampling.latent_normal(batch_size, latent_dim, step_seed)
        fake = tf.cast(generator(z, training=False), tf.float32)
        with tf.GradientTape() as tape:
            real_score = tf.reshape(tf.cast(discriminator(x_batch, training=True), tf.float32), [-1])
            fake_score = tf.reshape(tf.cast(discriminator(fake, training=True), tf.float32), [-1])
            loss = 0.5 * tf.reduce_mean(tf.square(real_score - 1.0)) + 0.5 * tf.reduce_mean(tf.square(fake_score))
        grads = tape.gradient(loss, discriminator.trainable_variables)
        optimizer.apply_gradients(zip(grads, discriminator.trainable_variables))
        return loss

    losses = []
    for i in range(steps):
        index = rng.choice(len(images), batch_size, replace=False)
        losses.append(float(step(tf.constant(images[index]), sampling.fold_in(seed, i + 1))))
    return losses


__all__ = ["stage_sizes", "pretrain_generator", "pretrain_discriminator"]
