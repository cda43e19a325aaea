"""GAN families whose discriminator is a binary classifier trained with cross-entropy."""
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


@keras.saving.register_keras_serializable(package="tfgan_stable")
class MinimaxGAN(GAN):
    """The original minimax GAN (Goodfellow et al. 2014): min_G max_D E log D(x) + E log(1 − D(G(z))).

    D minimises `losses.minimax_discriminator_loss` (sigmoid cross-entropy with logits) and G minimises
    log(1 − D(G(z))) (`losses.minimax_generator_loss`). One-sided label smoothing (Salimans et al. 2016)
    replaces the real target 1 by `real_label` (e.g. 0.9) and leaves the fake target at 0. With
    `label_noise` = p > 0, each example's pair of targets is swapped (real ↔ fake) with probability p,
    drawn per example (per pack with a packed D, `layers.Pack`) from the model's seed ("noisy labels", Salimans et al. 2016 / Sønderby et al. 2017).

    Args:
      real_label: target for real data in D's loss (1.0 = no smoothing).
      label_noise: probability of swapping an example's real and fake targets.
      **kwargs: see `tfgan_stable.GAN`.
    """

    family_metrics = ("d_real", "d_fake")

    def __init__(self, generator, discriminator, latent_dim, real_label=1.0, label_noise=0.0, **kwargs):
        self.real_label = _probability(real_label, "real_label")
        self.label_noise = _probability(label_noise, "label_noise")
        super().__init__(generator, discriminator, latent_dim, **kwargs)

    def discriminator_noise(self, noise, real):
        return noise.uniform() if self.label_noise > 0 else None

    def discriminator_targets(self, noise):
        """Per-example (real, fake) targets after smoothing and optional swapping."""
        real_t, fake_t = tf.constant(self.real_label), tf.constant(0.0)
        if noise is None:
            return real_t, fake_t
        swap = noise < self.label_noise
        return tf.where(swap, fake_t, real_t), tf.where(swap, real_t, fake_t)

    def discriminator_loss(self, real_logits, fake_logits, step, noise):
        if noise is not None:  # one draw per example; a packed D (layers.Pack) uses each pack's first
            noise = first_of_each_pack(noise, self.packing)
        real_t, fake_t = self.discriminator_targets(noise)
        return losses.minimax_discriminator_loss(real_logits, fake_logits, real_t, fake_t)

    def discriminator_metrics(self, real_logits, fake_logits, step):
        """Mean D(x) and D(G(z)) as probabilities."""
        return {"d_real": tf.sigmoid(real_logits), "d_fake": tf.sigmoid(fake_logits)}

    def generator_loss(self, fake_logits, real_logits, step):
        return losses.minimax_generator_loss(fake_logits)

    def get_config(self):
        return {**super().get_config(), "real_label": self.real_label, "label_noise": self.label_noise}


@keras.saving.register_keras_serializable(package="tfgan_stable")
class NonSaturatingGAN(MinimaxGAN):
    """Non-saturating GAN (Goodfellow et al. 2014, §3): D as in `MinimaxGAN`, G minimises −log D(G(z)).

    Same fixed point as the minimax game but strong gradients for G early in training; the default
    choice for most image GANs (e.g. DCGAN, Radford et al. 2016). Label smoothing and label noise as in
    `MinimaxGAN`.
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
