"""Relativistic GANs (Jolicoeur-Martineau 2019): D judges how much more realistic real data are than fakes."""
import keras

from tfgan_stable import losses
from tfgan_stable.distribute import global_mean
from tfgan_stable.models.base import GAN


@keras.saving.register_keras_serializable(package="tfgan_stable")
class RelativisticGAN(GAN):
    """The (paired) relativistic GAN, RSGAN by default (Jolicoeur-Martineau 2019, "The relativistic
    discriminator: a key element missing from standard GAN", ICLR 2019).

    With C the critic's raw output, real example i of an update is paired with fake example i:
    L_D = f(C(x_r) − C(x_f)),  L_G = f(C(x_f) − C(x_r)), per pair (`losses.relativistic_discriminator_loss`,
    `losses.relativistic_generator_loss`), with f(y) = −log σ(y) = softplus(−y) for "sigmoid" (RSGAN, the
    paper's), (y − 1)² for "least_squares" and max(0, 1 − y) for "hinge" (the natural extensions; the paper
    trains those two in the average form, `RelativisticAverageGAN`). The generator update judges fresh fakes
    against the real data of the step's last critic batch. With a packing discriminator (`layers.Pack`) real
    pack i is paired with fake pack i. The logged `d_real` and `d_fake` are the mean critic values.

    Args:
      loss: f, one of `losses.RELATIVISTIC_LOSSES`: "sigmoid", "least_squares", "hinge".
      **kwargs: see `tfgan_stable.GAN`.
    """

    family_metrics = ("d_real", "d_fake")
    generator_uses_real = True

    def __init__(self, generator, discriminator, latent_dim, loss="sigmoid", **kwargs):
        if loss not in losses.RELATIVISTIC_LOSSES:
            raise ValueError(f"`loss` must be one of {', '.join(repr(n) for n in losses.RELATIVISTIC_LOSSES)}, "
                             f"got {loss!r}")
        #: The name of f (`loss`); not `self.loss`, which `keras.Model.compile` sets.
        self.loss_name = loss
        super().__init__(generator, discriminator, latent_dim, **kwargs)

    def discriminator_loss(self, real_logits, fake_logits, step, noise):
        return losses.relativistic_discriminator_loss(real_logits, fake_logits, self.loss_name)

    def generator_loss(self, fake_logits, real_logits, step):
        return losses.relativistic_generator_loss(real_logits, fake_logits, self.loss_name)

    def get_config(self):
        return {**super().get_config(), "loss": self.loss_name}


@keras.saving.register_keras_serializable(package="tfgan_stable")
class RelativisticAverageGAN(RelativisticGAN):
    """The relativistic average GAN: RaSGAN, RaLSGAN, RaHingeGAN (Jolicoeur-Martineau 2019, §4.3).

    Each real example is compared with the average fake and each fake with the average real:
    L_D(i) = f1(C(x_r,i) − m_f) + f2(C(x_f,i) − m_r),  L_G(i) = f1(C(x_f,i) − m_r) + f2(C(x_r,i) − m_f),
    where m_r and m_f are the mean critic values on the real and the fake data of the update's GLOBAL batch
    (`distribute.global_mean`), and f1, f2 are −log σ(y), −log(1 − σ(y)) ("sigmoid", RaSGAN);
    (y − 1)², (y + 1)² ("least_squares", RaLSGAN); max(0, 1 − y), max(0, 1 + y) ("hinge", RaHingeGAN).
    See `losses.relativistic_average_discriminator_loss`. The gradient flows through the means, as in the
    paper, so each replica's loss all-reduces inside the gradient computation: one device and N replicas
    give the same update, and `compile(jit_compile=True)` is refused under several replicas
    (`needs_cross_replica_gradients`). With a packing discriminator (`layers.Pack`) the means are over packs.

    Args:
      loss: "sigmoid", "least_squares" or "hinge" (`losses.RELATIVISTIC_LOSSES`).
      **kwargs: see `tfgan_stable.GAN`.
    """

    needs_cross_replica_gradients = True

    def discriminator_loss(self, real_logits, fake_logits, step, noise):
        return losses.relativistic_average_discriminator_loss(real_logits, fake_logits, global_mean(real_logits),
                                                              global_mean(fake_logits), self.loss_name)

    def generator_loss(self, fake_logits, real_logits, step):
        return losses.relativistic_average_generator_loss(real_logits, fake_logits, global_mean(real_logits),
                                                          global_mean(fake_logits), self.loss_name)


class _PresetAverageGAN(RelativisticAverageGAN):
    """A `RelativisticAverageGAN` with its loss fixed by the class (`preset`), for the FAMILIES short names."""

    preset = None

    def __init__(self, generator, discriminator, latent_dim, **kwargs):
        if "loss" in kwargs:
            raise TypeError(f"{type(self).__name__} always uses loss={self.preset!r}; for another loss use "
                            f"RelativisticAverageGAN(..., loss=...)")
        super().__init__(generator, discriminator, latent_dim, loss=self.preset, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["loss"]  # the class says it
        return config


@keras.saving.register_keras_serializable(package="tfgan_stable")
class RaSGAN(_PresetAverageGAN):
    """RaSGAN: `RelativisticAverageGAN` with loss="sigmoid" (Jolicoeur-Martineau 2019).

    L_D(i) = −log σ(C(x_r,i) − m_f) − log(1 − σ(C(x_f,i) − m_r)); L_G swaps real and fake.

    Args:
      **kwargs: see `tfgan_stable.GAN`.
    """

    preset = "sigmoid"


@keras.saving.register_keras_serializable(package="tfgan_stable")
class RaLSGAN(_PresetAverageGAN):
    """RaLSGAN: `RelativisticAverageGAN` with loss="least_squares" (Jolicoeur-Martineau 2019).

    L_D(i) = (C(x_r,i) − m_f − 1)² + (C(x_f,i) − m_r + 1)²; L_G swaps real and fake.

    Args:
      **kwargs: see `tfgan_stable.GAN`.
    """

    preset = "least_squares"


@keras.saving.register_keras_serializable(package="tfgan_stable")
class RaHingeGAN(_PresetAverageGAN):
    """RaHingeGAN: `RelativisticAverageGAN` with loss="hinge" (Jolicoeur-Martineau 2019).

    L_D(i) = max(0, 1 − (C(x_r,i) − m_f)) + max(0, 1 + (C(x_f,i) − m_r)); L_G swaps real and fake.

    Args:
      **kwargs: see `tfgan_stable.GAN`.
    """

    preset = "hinge"
