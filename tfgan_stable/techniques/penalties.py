"""Gradient penalties on the discriminator."""
import keras
import numpy as np
import tensorflow as tf

from tfgan_stable.distribute import global_mean
from tfgan_stable.layers.packing import first_of_each_pack
from tfgan_stable.losses import gradient_norm_penalty
from tfgan_stable.techniques.base import Technique, check_non_negative


def _per_pack(draws, m):
    """Per-example draws [n, 1, ...] -> each pack's first draw, repeated for its m samples (see `layers.Pack`)."""
    return draws if m == 1 else tf.repeat(first_of_each_pack(draws, m), m, axis=0)


def _input_gradients(gan, points, labels):
    """∇ₓD at `points`, one row per D output: a packed D's logit depends on its m samples (`layers.Pack`).

    The points are float32 (D casts them to its compute dtype); so are the gradients, whatever D computes in.
    """
    points = tf.cast(points, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(points)
        outputs = gan.discriminate(points, labels, training=True)
    gradients = tape.gradient(outputs, points)
    return tf.reshape(tf.cast(gradients, tf.float32), [-1, gan.packing * int(np.prod(points.shape[1:]))])


def _penalty_at(gan, points, labels, weight, target):
    return weight * gradient_norm_penalty(_input_gradients(gan, points, labels), target=target)


@keras.saving.register_keras_serializable(package="tfgan_stable")
class GradientPenalty(Technique):
    """WGAN-GP gradient penalty (Gulrajani et al. 2017).

    λ·(‖∇D(x̂)‖₂ − 1)² at x̂ = ε·x + (1 − ε)·G(z), with ε ~ U[0, 1] drawn per example, added to the
    discriminator loss of every example. Finite at a zero gradient (see `losses.gradient_norm_penalty`).
    With a packed discriminator (PacGAN, `layers.Pack`) the unit is the pack: one ε per pack, so the pack
    of points lies on the segment between a real pack and a fake pack, and the norm is that of the
    gradient of the pack's logit with respect to all m samples.

    Args:
      weight: λ (10 in the paper).
      target: the gradient norm the penalty pulls towards (1 in the paper).
    """

    default_name = "gradient_penalty"

    def __init__(self, weight=10.0, target=1.0, **kwargs):
        super().__init__(**kwargs)
        self.weight = check_non_negative(weight, "weight")
        self.target = float(target)

    def draw(self, noise, real, player):
        return noise.uniform([1] * (real.shape.rank - 1)) if player == "discriminator" else None

    def discriminator_term(self, gan, ctx):
        # The interpolation is in float32 whatever the nets compute in (mixed precision).
        epsilon = tf.cast(_per_pack(ctx.draws[self.name], gan.packing), tf.float32)
        points = epsilon * tf.cast(ctx.real_input, tf.float32) + (1.0 - epsilon) * tf.cast(ctx.fake_input, tf.float32)
        return _penalty_at(gan, points, ctx.labels, self.weight, self.target)

    def get_config(self):
        return {**super().get_config(), "weight": self.weight, "target": self.target}


@keras.saving.register_keras_serializable(package="tfgan_stable")
class DRAGANPenalty(Technique):
    """DRAGAN penalty around perturbed real data (Kodali et al. 2017, "On convergence and stability of GANs").

    λ·(‖∇D(x̂)‖₂ − k)² at x̂ = x + α·δ, where δ = c·std(x)·u with u ~ U[0, 1] element-wise, α ~ U[0, 1] per
    example (per pack with `layers.Pack`, as in `GradientPenalty`), and std(x) the standard deviation of
    the whole (global) real batch. The paper's defaults are λ = 10, k = 1, c = 0.5.

    Which perturbation: the paper writes δ ~ N(0, cI), a zero-mean perturbation on both sides of the data.
    The authors' reference code instead perturbs one-sidedly, x + c·std(x)·U[0, 1], and penalises points
    on the segment from x to that perturbed x; its published results come from that code, and the common
    re-implementations follow it, so that is what this class implements.

    Args:
      weight: λ.
      target: k.
      scale: c, the perturbation size in units of the data's standard deviation.
    """

    default_name = "dragan_penalty"

    def __init__(self, weight=10.0, target=1.0, scale=0.5, **kwargs):
        super().__init__(**kwargs)
        self.weight = check_non_negative(weight, "weight")
        self.target = float(target)
        self.scale = check_non_negative(scale, "scale")

    def draw(self, noise, real, player):
        if player != "discriminator":
            return None
        mean = global_mean(real)
        std = tf.sqrt(tf.maximum(global_mean(tf.square(real)) - tf.square(mean), 0.0))
        return {"u": noise.uniform(real.shape[1:]), "alpha": noise.uniform([1] * (real.shape.rank - 1)),
                "std": std}

    def discriminator_term(self, gan, ctx):
        noise = ctx.draws[self.name]
        delta = self.scale * tf.cast(noise["std"], tf.float32) * noise["u"]
        points = tf.cast(ctx.real_input, tf.float32) + _per_pack(noise["alpha"], gan.packing) * delta
        return _penalty_at(gan, points, ctx.labels, self.weight, self.target)

    def get_config(self):
        return {**super().get_config(), "weight": self.weight, "target": self.target, "scale": self.scale}


@keras.saving.register_keras_serializable(package="tfgan_stable")
class R1(Technique):
    """Zero-centred gradient penalty on real data (Mescheder et al. 2018, "Which training methods for
    GANs do actually converge?").

    R1 = (γ/2)·‖∇ₓD(x)‖² at the real data x that D sees, added to the discriminator loss of every
    example (of every pack with `layers.Pack`). It pushes D towards zero gradient on the data manifold,
    which makes the GAN game locally convergent; StyleGAN uses γ = 10 (per image resolution).

    Args:
      gamma: γ.
    """

    default_name = "r1_penalty"
    on = "real"

    def __init__(self, gamma=10.0, **kwargs):
        super().__init__(**kwargs)
        self.gamma = check_non_negative(gamma, "gamma")

    def discriminator_term(self, gan, ctx):
        points = ctx.real_input if self.on == "real" else ctx.fake_input
        gradients = _input_gradients(gan, points, ctx.labels)
        return 0.5 * self.gamma * tf.reduce_sum(tf.square(gradients), axis=1)

    def get_config(self):
        return {**super().get_config(), "gamma": self.gamma}


@keras.saving.register_keras_serializable(package="tfgan_stable")
class R2(R1):
    """Zero-centred gradient penalty on generated data (Mescheder et al. 2018): R2 = (γ/2)·‖∇ₓD(G(z))‖²
    at the fakes D sees, added to the discriminator loss.

    Args:
      gamma: γ.
    """

    default_name = "r2_penalty"
    on = "fake"
