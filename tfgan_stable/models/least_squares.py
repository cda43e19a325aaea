"""Least-squares GAN."""
import keras

from tfgan_stable import losses, schedules
from tfgan_stable.models.base import GAN


@keras.saving.register_keras_serializable(package="tfgan_stable")
class LSGAN(GAN):
    """Least-squares GAN (Mao et al. 2017).

    L_D = ½(D(x) − b)² + ½(D(G(z)) − a)²,  L_G = ½(D(G(z)) − c)², with a = `fake_target`,
    b = `real_target`, c = `generator_target` (0, 1, 1 by default; −1, 1, 0 gives the paper's Pearson χ²
    variant). `fake_target` may be a schedule of the discriminator step, e.g. the α-regularised LSGAN that
    raises the fake target from 0 to α after a warm-up: `fake_target=tfgan_stable.schedules.LinearRamp(0.0,
    alpha, begin_step=warmup, end_step=warmup + ramp)`.

    Args:
      fake_target: a, a number or a schedule (callable of the discriminator step).
      real_target: b.
      generator_target: c.
      **kwargs: see `tfgan_stable.GAN`.
    """

    family_metrics = ("d_real", "d_fake", "fake_target")

    def __init__(self, generator, discriminator, latent_dim, fake_target=0.0, real_target=1.0,
                 generator_target=1.0, **kwargs):
        self.fake_target = schedules.check(fake_target, "fake_target")
        self.real_target = schedules.check(real_target, "real_target")
        self.generator_target = schedules.check(generator_target, "generator_target")
        super().__init__(generator, discriminator, latent_dim, **kwargs)

    def discriminator_loss(self, real_logits, fake_logits, step, noise):
        return losses.least_squares_discriminator_loss(real_logits, fake_logits,
                                                       a=schedules.resolve(self.fake_target, step),
                                                       b=schedules.resolve(self.real_target, step))

    def discriminator_metrics(self, real_logits, fake_logits, step):
        return {**super().discriminator_metrics(real_logits, fake_logits, step), "fake_target": schedules.resolve(self.fake_target, step)}

    def generator_loss(self, fake_logits, real_logits, step):
        return losses.least_squares_generator_loss(fake_logits, c=schedules.resolve(self.generator_target, step))

    def get_config(self):
        return {**super().get_config(), "fake_target": schedules.serialize(self.fake_target),
                "real_target": schedules.serialize(self.real_target),
                "generator_target": schedules.serialize(self.generator_target)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("fake_target", "real_target", "generator_target"):
            config[key] = schedules.deserialize(config[key])
        return super().from_config(config)
