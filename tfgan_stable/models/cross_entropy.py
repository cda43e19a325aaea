"""GAN families whose discriminator is a binary classifier trained with cross-entropy."""
import math

import keras
import tensorflow as tf

from tfgan_stable import losses
from tfgan_stable.layers.packing import first_of_each_pack
from tfgan_stable.models.base import GAN
from tfgan_stable.techniques.penalties import DRAGANPenalty


def _probability(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` must be a number in [0, 1], got {value!r}")
    return float(value)


def _label_range(value, name):
    if value is None:
        return None
    ok = isinstance(value, (tuple, list)) and len(value) == 2 and all(
        not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) for v in value)
    if not ok or value[0] > value[1]:
        raise ValueError(f"`{name}` must be None or a pair (low, high) of finite numbers with low <= high, "
                         f"got {value!r}")
    return (float(value[0]), float(value[1]))


@keras.saving.register_keras_serializable(package="tfgan_stable")
class MinimaxGAN(GAN):
    """The original minimax GAN (Goodfellow et al. 2014): min_G max_D E log D(x) + E log(1 − D(G(z))).

    D minimises `losses.minimax_discriminator_loss`, BCE(D(x), t_real) + BCE(D(G(z)), t_fake) (sigmoid
    cross-entropy with logits), and G minimises log(1 − D(G(z))) (`losses.minimax_generator_loss`).
    Without label tricks t_real = 1 and t_fake = 0. The label tricks, all drawn per example (per pack
    with a packed D, `layers.Pack`: each pack takes its first example's draw) from the step's stateless
    noise, so one device and N replicas use the same targets:

    - One-sided label smoothing (Salimans et al. 2016, "Improved techniques for training GANs", §3.4):
      `real_label` = e.g. 0.9 replaces the real target 1; the fake target stays 0 (a smoothed fake
      target would leave G no incentive to move fakes out of regions without data, the paper argues).
    - Soft, noisy targets: `real_label_range` = (0.7, 1.2) draws each real target uniformly from the
      range, `fake_label_range` = (0.0, 0.3) each fake target. From the "ganhacks" list (Chintala, Denton,
      Arjovsky & Mathieu, "How to train a GAN? Tips and tricks to make GANs work",
      github.com/soumith/ganhacks, trick 6; the NIPS 2016 talk of that title). The list credits label
      smoothing to Salimans et al. 2016, but the random ranges and smoothing the fake side are its own.
      With a real target t > 1 an example's cross-entropy −t·log σ − (1 − t)·log(1 − σ) falls without
      bound as σ = D(x) → 1; D only sees the mean target in expectation (0.95 for (0.7, 1.2)).
    - Label flipping (ganhacks, trick 6: "occasionally flip the labels when training the
      discriminator"; not from Salimans et al.): `label_noise` = p swaps an example's pair of targets
      (real ↔ fake) with probability p, after the soft targets are drawn, so the real example is trained
      towards the fake target and the fake example of the same index towards the real one. Each label is
      flipped with probability p; the two flips of an index are taken together, which leaves the
      expected loss as with independent flips (the cross-entropy is linear in the target).

    Args:
      real_label: fixed target for real data (1.0 = no smoothing); not with `real_label_range`.
      label_noise: p, the probability of flipping (swapping) an example's real and fake targets.
      real_label_range: None, or (low, high): real targets drawn from U(low, high) per example.
      fake_label_range: None, or (low, high): fake targets drawn from U(low, high) per example.
      **kwargs: see `tfgan_stable.GAN`.
    """

    family_metrics = ("d_real", "d_fake")

    def __init__(self, generator, discriminator, latent_dim, real_label=1.0, label_noise=0.0,
                 real_label_range=None, fake_label_range=None, **kwargs):
        self.real_label = _probability(real_label, "real_label")
        self.label_noise = _probability(label_noise, "label_noise")
        self.real_label_range = _label_range(real_label_range, "real_label_range")
        self.fake_label_range = _label_range(fake_label_range, "fake_label_range")
        if self.real_label_range is not None and self.real_label != 1.0:
            raise ValueError(f"give `real_label` (a fixed smoothed target) or `real_label_range` (random targets), "
                             f"not both: got real_label={real_label!r}, real_label_range={real_label_range!r}")
        super().__init__(generator, discriminator, latent_dim, **kwargs)

    def discriminator_noise(self, noise, real):
        """Per-example uniforms: {"flip": …, "real": …, "fake": …} for the tricks in use, or None."""
        draws = {}
        if self.label_noise > 0:
            draws["flip"] = noise.uniform()  # the family noise's first draw
        if self.real_label_range is not None:
            draws["real"] = noise.named("real_label").uniform()
        if self.fake_label_range is not None:
            draws["fake"] = noise.named("fake_label").uniform()
        return draws or None

    def discriminator_targets(self, noise):
        """(real, fake) targets: scalars, or per-example (per-pack) tensors when label tricks draw noise.

        `noise` is what `discriminator_noise` returns, already reduced to one draw per pack, or a bare
        tensor of flip draws.
        """
        if noise is not None and not isinstance(noise, dict):
            noise = {"flip": noise}
        noise = noise or {}
        real_t, fake_t = tf.constant(self.real_label), tf.constant(0.0)
        if "real" in noise:
            low, high = self.real_label_range
            real_t = low + (high - low) * tf.cast(noise["real"], tf.float32)
        if "fake" in noise:
            low, high = self.fake_label_range
            fake_t = low + (high - low) * tf.cast(noise["fake"], tf.float32)
        if "flip" in noise:
            flip = noise["flip"] < self.label_noise
            real_t, fake_t = tf.where(flip, fake_t, real_t), tf.where(flip, real_t, fake_t)
        return real_t, fake_t

    def discriminator_loss(self, real_logits, fake_logits, step, noise):
        if noise is not None:
            # One draw per example; a packed D (layers.Pack) uses each pack's first, and a D with S scores per
            # example (a multi-scale D: its [batch, S] logits flattened row by row) gives each score its example's.
            def per_score(u):
                u = first_of_each_pack(u, self.packing)
                # (a replica left without examples has no draws and no scores: 0 repeats, no division by zero)
                return tf.repeat(u, tf.shape(real_logits)[0] // tf.maximum(tf.shape(u)[0], 1), axis=0)

            noise = tf.nest.map_structure(per_score, noise)
        real_t, fake_t = self.discriminator_targets(noise)
        return losses.minimax_discriminator_loss(real_logits, fake_logits, real_t, fake_t)

    def discriminator_metrics(self, real_logits, fake_logits, step):
        """Mean D(x) and D(G(z)) as probabilities."""
        return {"d_real": tf.sigmoid(real_logits), "d_fake": tf.sigmoid(fake_logits)}

    def generator_loss(self, fake_logits, real_logits, step):
        return losses.minimax_generator_loss(fake_logits)

    def get_config(self):
        return {**super().get_config(), "real_label": self.real_label, "label_noise": self.label_noise,
                "real_label_range": self.real_label_range, "fake_label_range": self.fake_label_range}


@keras.saving.register_keras_serializable(package="tfgan_stable")
class NonSaturatingGAN(MinimaxGAN):
    """Non-saturating GAN (Goodfellow et al. 2014, §3): D as in `MinimaxGAN`, G minimises −log D(G(z)).

    Same fixed point as the minimax game but strong gradients for G early in training; the default
    choice for most image GANs (e.g. DCGAN, Radford et al. 2016). Label smoothing, soft targets and label
    flipping as in `MinimaxGAN`.
    """

    def generator_loss(self, fake_logits, real_logits, step):
        return losses.non_saturating_generator_loss(fake_logits)


@keras.saving.register_keras_serializable(package="tfgan_stable")
class DRAGAN(NonSaturatingGAN):
    """DRAGAN (Kodali et al. 2017): the non-saturating GAN plus a gradient penalty around perturbed real data.

    L_D = −log D(x) − log(1 − D(G(z))) + λ·(‖∇D(x + α·δ)‖₂ − 1)², δ = c·std(x)·U[0, 1];
    see `techniques.DRAGANPenalty`. L_G = −log D(G(z)).

    Args:
      penalty_weight: λ (10 in the paper).
      perturbation_scale: c (0.5 in the paper).
      **kwargs: see `NonSaturatingGAN`.
    """

    family_metrics = ("d_real", "d_fake")
    discriminator_norm = "layer"  # a per-example penalty: batch statistics would couple the examples

    def __init__(self, generator, discriminator, latent_dim, penalty_weight=10.0, perturbation_scale=0.5,
                 **kwargs):
        self.penalty_weight = penalty_weight
        self.perturbation_scale = perturbation_scale
        super().__init__(generator, discriminator, latent_dim, **kwargs)

    def builtin_techniques(self):
        return [DRAGANPenalty(weight=self.penalty_weight, scale=self.perturbation_scale)]

    def get_config(self):
        return {**super().get_config(), "penalty_weight": self.penalty_weight,
                "perturbation_scale": self.perturbation_scale}
