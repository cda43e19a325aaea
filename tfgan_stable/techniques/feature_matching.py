"""Feature matching: the generator matches the mean of an intermediate discriminator feature."""
import keras
import tensorflow as tf

from tfgan_stable.distribute import global_mean
from tfgan_stable.techniques.base import Technique, check_non_negative


@keras.saving.register_keras_serializable(package="tfgan_stable")
class FeatureMatching(Technique):
    """Feature matching (Salimans et al. 2016, "Improved techniques for training GANs", §3.1).

    The generator's term is w·‖E_x f(x) − E_z f(G(z))‖², with f the output of the discriminator layer
    `layer` (flattened per example) and the expectations taken over the global batch, on what D sees.
    G is asked to match the statistics of real data at that layer rather than to fool D's last
    output. With `replace=True` the term replaces the family's generator loss (the paper's form);
    otherwise it is added to it.

    Under a multi-replica strategy the means need a cross-replica sum inside the gradient computation,
    so there it runs without XLA (`compile(jit_compile=True)` says so); one replica with XLA works.

    Args:
      layer: the name of a discriminator layer (`discriminator.get_layer(layer)`).
      weight: w.
      replace: replace the family's generator loss instead of adding to it.
    """

    default_name = "feature_matching"
    #: The term all-reduces inside the gradient computation (see `GAN.compile`).
    needs_cross_replica_gradients = True
    generator_reads_real = True  # E f(x) over the real batch

    def __init__(self, layer, weight=1.0, replace=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, str) or not layer:
            raise ValueError(f"`layer` must be the name of a discriminator layer, got {layer!r}")
        if not isinstance(replace, bool):
            raise ValueError(f"`replace` must be True or False, got {replace!r}")
        self.layer_name = layer
        self.weight = check_non_negative(weight, "weight")
        self.replace = replace
        self.feature_layers = (layer,)
        self.replaces_generator_loss = replace

    def generator_term(self, gan, ctx):
        real = global_mean(self._flatten(ctx.real_features[self.layer_name]), axis=0)
        fake = global_mean(self._flatten(ctx.fake_features[self.layer_name]), axis=0)
        return self.weight * tf.reduce_sum(tf.square(tf.stop_gradient(real) - fake))

    @staticmethod
    def _flatten(features):
        width = features.shape[1:].num_elements()
        return tf.reshape(features, [-1, width])

    def get_config(self):
        return {**super().get_config(), "layer": self.layer_name, "weight": self.weight, "replace": self.replace}
