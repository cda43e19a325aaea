"""Wasserstein and hinge GANs: the discriminator is an unbounded critic."""
import keras
import tensorflow as tf

from tfgan_stable import losses
from tfgan_stable.distribute import update_variables
from tfgan_stable.models.base import GAN
from tfgan_stable.techniques.penalties import GradientPenalty


class _CriticGAN(GAN):
    family_metrics = ("d_real", "d_fake", "wasserstein_estimate")

    def discriminator_metrics(self, real_logits, fake_logits, step):
        return {"d_real": real_logits, "d_fake": fake_logits, "wasserstein_estimate": real_logits - fake_logits}

    def discriminator_loss(self, real_logits, fake_logits, step, noise):
        return losses.wasserstein_discriminator_loss(real_logits, fake_logits)

    def generator_loss(self, fake_logits, real_logits, step):
        return losses.wasserstein_generator_loss(fake_logits)


@keras.saving.register_keras_serializable(package="tfgan_stable")
class WGAN(_CriticGAN):
    """Wasserstein GAN with weight clipping (Arjovsky et al. 2017).

    L_D = D(G(z)) − D(x), L_G = −D(G(z)); after every critic update each critic weight is clipped to
    [−c, c] so that D stays K-Lipschitz. The paper uses c = 0.01, n_critic = 5 and RMSprop(5e-5).
    `wasserstein_estimate` logs mean D(x) − mean D(G(z)).

    Args:
      clip_value: c.
      n_critic: critic updates per generator update (5 by default); each takes its own fifth of the
        batch, so batch the dataset with 5 × the critic batch (see `tfgan_stable.GAN`).
      **kwargs: see `tfgan_stable.GAN`.
    """

    def __init__(self, generator, discriminator, latent_dim, clip_value=0.01, n_critic=5, **kwargs):
        if isinstance(clip_value, bool) or not isinstance(clip_value, (int, float)) or clip_value <= 0:
            raise ValueError(f"`clip_value` must be a positive number, got {clip_value!r}")
        self.clip_value = float(clip_value)
        super().__init__(generator, discriminator, latent_dim, n_critic=n_critic, **kwargs)

    def after_discriminator_step(self):
        c = self.clip_value
        update_variables(self.discriminator.trainable_variables, lambda v: tf.clip_by_value(v, -c, c))

    def get_config(self):
        return {**super().get_config(), "clip_value": self.clip_value}


@keras.saving.register_keras_serializable(package="tfgan_stable")
class WGANGP(_CriticGAN):
    """WGAN with gradient penalty (Gulrajani et al. 2017).

    L_D = D(G(z)) − D(x) + λ·(‖∇D(x̂)‖₂ − 1)² with x̂ = ε·x + (1 − ε)·G(z), ε ~ U[0, 1] per example
    (`techniques.GradientPenalty`); L_G = −D(G(z)). The paper uses λ = 10, n_critic = 5,
    Adam(1e-4, β₁ = 0, β₂ = 0.9), and no batch normalisation in the critic.

    Args:
      penalty_weight: λ.
      n_critic: critic updates per generator update (5 by default); each takes its own fifth of the
        batch, so batch the dataset with 5 × the critic batch (see `tfgan_stable.GAN`).
      **kwargs: see `tfgan_stable.GAN`.
    """

    family_metrics = ("d_real", "d_fake", "wasserstein_estimate")
    discriminator_norm = "layer"  # the paper: no batch norm in the critic; layer norm as the drop-in

    def __init__(self, generator, discriminator, latent_dim, penalty_weight=10.0, n_critic=5, **kwargs):
        self.penalty_weight = penalty_weight
        super().__init__(generator, discriminator, latent_dim, n_critic=n_critic, **kwargs)

    def builtin_techniques(self):
        return [GradientPenalty(weight=self.penalty_weight)]

    def get_config(self):
        return {**super().get_config(), "penalty_weight": self.penalty_weight}


@keras.saving.register_keras_serializable(package="tfgan_stable")
class HingeGAN(_CriticGAN):
    """Hinge-loss GAN (Lim & Ye 2017; used by SN-GAN, Miyato et al. 2018, and BigGAN).

    L_D = max(0, 1 − D(x)) + max(0, 1 + D(G(z))),  L_G = −D(G(z)).
    """

    def discriminator_loss(self, real_logits, fake_logits, step, noise):
        return losses.hinge_discriminator_loss(real_logits, fake_logits)
