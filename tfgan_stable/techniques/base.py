"""The interface every stabilisation technique implements."""
import keras


class Technique:
    """A stabiliser that plugs into any `tfgan_stable.GAN` family.

    A technique may add a loss term to either player, draw its own randomness, and update state after a
    step. The GAN base model calls the hooks in this order for each discriminator update:
    `discriminator_noise` (replica function, eager shapes) → `discriminator_penalty` (inside the possibly
    XLA-compiled loss-and-gradient function) → `after_discriminator_step` (after the optimizer update), and
    likewise for the generator. Every hook has a neutral default, so a technique overrides only what it uses.

    A penalty is either per-example (shape [batch]; reduced over the global batch with the loss) or a
    scalar regulariser (scaled by `tf.nn.scale_regularization_loss`). Its mean is logged under `name`.
    """

    name = "technique"

    def discriminator_noise(self, noise, real):
        """Draws this technique's randomness for a discriminator update from a `StepNoise`; returns a nest or None."""
        return None

    def discriminator_penalty(self, gan, real, fake, labels, noise):
        """Returns an extra discriminator loss term (per-example or scalar), or None."""
        return None

    def after_discriminator_step(self, gan):
        """Updates state after each discriminator update (use `tfgan_stable.distribute.update_variables`)."""

    def generator_noise(self, noise, real):
        """Draws this technique's randomness for a generator update; returns a nest or None."""
        return None

    def generator_penalty(self, gan, real, fake, labels, noise):
        """Returns an extra generator loss term (per-example or scalar), or None."""
        return None

    def after_generator_step(self, gan):
        """Updates state after each generator update."""

    def get_config(self):
        """Constructor arguments, for `keras.saving.serialize_keras_object`."""
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

