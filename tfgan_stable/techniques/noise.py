"""Instance noise: Gaussian noise on everything the discriminator sees."""
import keras
import tensorflow as tf

from tfgan_stable.techniques.base import Technique, check_non_negative


@keras.saving.register_keras_serializable(package="tfgan_stable")
class InstanceNoise(Technique):
    """Instance noise (Sønderby et al. 2017, "Amortised MAP inference for image super-resolution";
    Arjovsky & Bottou 2017, "Towards principled methods for training GANs").

    D sees x + σ(t)·ε and G(z) + σ(t)·ε', with ε, ε' ~ N(0, I) drawn independently per example and per
    input, in the discriminator's updates and in the generator's (whose loss then flows through the noisy
    fakes). Blurring both distributions makes their supports overlap, so D cannot separate them
    perfectly and its gradients stay informative. σ is annealed linearly to 0 over training:
    σ(t) = σ₀·max(0, 1 − t / decay_steps), with t the number of completed training steps (generator
    updates); without `decay_steps` it stays σ₀.

    Args:
      stddev: σ₀, in the data's units (images in [-1, 1]: e.g. 0.1).
      decay_steps: training steps over which σ falls to 0 (None: constant).
    """

    default_name = "instance_noise"

    def __init__(self, stddev, decay_steps=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = check_non_negative(stddev, "stddev")
        if decay_steps is not None and (isinstance(decay_steps, bool) or not isinstance(decay_steps, int)
                                        or decay_steps <= 0):
            raise ValueError(f"`decay_steps` must be a positive integer or None, got {decay_steps!r}")
        self.decay_steps = decay_steps

    def sigma(self, train_step):
        """σ(t) at training step t."""
        if self.decay_steps is None:
            return tf.constant(self.stddev, tf.float32)
        fraction = tf.cast(train_step, tf.float32) / float(self.decay_steps)
        return self.stddev * tf.maximum(0.0, 1.0 - fraction)

    def draw(self, noise, real, player):
        shape = real.shape[1:]
        return {"real": noise.normal(shape), "fake": noise.normal(shape)}

    def transform_discriminator_input(self, samples, which, ctx):
        epsilon = ctx.draws[self.name][which]
        return samples + tf.cast(self.sigma(ctx.train_step) * epsilon, samples.dtype)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "decay_steps": self.decay_steps}
