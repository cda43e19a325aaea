"""Averages of the weights over training: historical averaging (a penalty) and EMA (a sampling generator)."""
import keras
import numpy as np
import tensorflow as tf

from tfgan_stable.distribute import update_variables
from tfgan_stable.layers.normalization import ConditionalBatchNormalization
from tfgan_stable.techniques.base import PlayerTechnique, Technique, check_non_negative, check_player, player_model


@keras.saving.register_keras_serializable(package="tfgan_stable")
class HistoricalAveraging(PlayerTechnique):
    """Historical averaging (Salimans et al. 2016, "Improved techniques for training GANs", §3.3).

    Adds w·‖θ − θ̄‖² to a player's loss, where θ are the player's trainable weights and
    θ̄ = (1/t)·Σᵢ θᵢ is the average of the t values θ took so far (its initial value and its value after
    each of its updates). Like fictitious play, it damps the oscillations of the two players around an
    equilibrium. θ̄ is kept as a running mean, θ̄ ← θ̄ + (θ − θ̄)/(t + 1), in variables saved with the
    model and identical on every replica.

    Args:
      weight: w.
      player: "generator", "discriminator" or "both".
    """

    default_name = "historical_averaging"

    def __init__(self, weight=1.0, player="both", **kwargs):
        super().__init__(**kwargs)
        self.weight = check_non_negative(weight, "weight")
        self.player = check_player(player)

    def attach(self, gan):
        self.means, self.counts = {}, {}
        for player in ("generator", "discriminator"):
            if self.player not in (player, "both"):
                continue
            weights = player_model(gan, player).trainable_variables
            self.means[player] = [self.add_weight(shape=w.shape, initializer=keras.initializers.Constant(
                np.asarray(w)), trainable=False, name=f"{player}_mean_{i}") for i, w in enumerate(weights)]
            self.counts[player] = self.add_weight(shape=(), initializer="ones", trainable=False,
                                                  name=f"{player}_count")
        super().attach(gan)

    def _term(self, gan, player):
        if player not in self.means:
            return None
        weights = player_model(gan, player).trainable_variables
        return self.weight * tf.add_n([tf.reduce_sum(tf.square(tf.cast(w, tf.float32) - m))
                                       for w, m in zip(weights, self.means[player])])

    def _update(self, gan, player):
        if player not in self.means:
            return
        count = self.counts[player]
        rate = 1.0 / (tf.convert_to_tensor(count) + 1.0)
        update_variables(self.means[player], lambda m, w: m + (tf.cast(w, m.dtype) - m) * rate,
                         player_model(gan, player).trainable_variables)
        update_variables([count], lambda c: c + 1.0)

    def discriminator_term(self, gan, ctx):
        return self._term(gan, "discriminator")

    def generator_term(self, gan, ctx):
        return self._term(gan, "generator")

    def after_discriminator_update(self, gan, ctx):
        self._update(gan, "discriminator")

    def after_generator_update(self, gan, ctx):
        self._update(gan, "generator")

    def get_config(self):
        return {**super().get_config(), "weight": self.weight, "player": self.player}


@keras.saving.register_keras_serializable(package="tfgan_stable")
class EMA(Technique):
    """An exponential moving average of the generator's weights (Yazıcı et al. 2019, "The unusual
    effectiveness of averaging in GAN training"; BigGAN, Brock et al. 2019).

    After every generator update the averaged generator's weights follow θ̄ ← d·θ̄ + (1 − d)·θ, from
    generator update `start_step` on; before that they copy θ.

    Batch-normalisation statistics (`keras.layers.BatchNormalization`, `layers.ConditionalBatchNormalization`)
    are the averaged generator's own: after each averaging, it runs once in training mode on the update's
    latent batch (and labels), so that its moving mean and variance follow its own activations,
    μ̄ ← m·μ̄ + (1 − m)·mean_batch(h(θ̄)), with the layer's momentum m. The trained generator's statistics
    belong to θ, not θ̄; BigGAN recomputes "standing statistics" for its averaged generator for the same
    reason: normalising θ̄'s activations with θ's statistics shifts every sample. This costs one forward
    pass of the generator per update. Other non-trainable weights (spectral-norm vectors, VBN reference
    statistics, growth factors) are copied from the trained generator.

    The averaged generator is what `GAN.generate`, `GAN.export_generator`,
    `callbacks.ImageGrid` and `metrics.SampleMetrics` use (`GAN.sampler`); the trained one stays
    `gan.generator` (`generate(..., raw=True)`). Its weights are saved with the model.

    Args:
      decay: d in [0, 1) (0.999 or 0.9999 in BigGAN).
      start_step: the generator update from which to average.
    """

    default_name = "ema"

    def __init__(self, decay=0.999, start_step=0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0.0 <= decay < 1.0:
            raise ValueError(f"`decay` must be a number in [0, 1), got {decay!r}")
        if isinstance(start_step, bool) or not isinstance(start_step, int) or start_step < 0:
            raise ValueError(f"`start_step` must be a non-negative integer, got {start_step!r}")
        self.decay = float(decay)
        self.start_step = start_step

    def attach(self, gan):
        self.average = keras.models.clone_model(gan.generator)
        self.average.name = f"{gan.generator.name}_ema"
        self.average.set_weights(gan.generator.get_weights())
        self.average.trainable = False
        # Normalisation layers whose moving statistics the averaged generator keeps from its own activations;
        # Keras' BatchNormalization updates them only while trainable (see `_refresh_statistics`).
        self._norm_layers = [layer for layer in self.average._flatten_layers()
                             if isinstance(layer, (keras.layers.BatchNormalization, ConditionalBatchNormalization))]
        self._statistics = {id(v) for layer in self._norm_layers for v in layer.non_trainable_variables}
        super().attach(gan)

    def sampling_generator(self, gan):
        return self.average

    def after_generator_update(self, gan, ctx):
        # ctx.step counts the updates before this one, so this is update number ctx.step + 1.
        decay = tf.where(ctx.step + 1 > self.start_step, self.decay, 0.0)
        trained = gan.generator
        trainable = {id(w) for w in trained.trainable_variables}
        pairs = list(zip(self.average.weights, trained.weights))  # clone_model keeps the order
        averaged = [(a, w) for a, w in pairs if id(w) in trainable]
        copied = [(a, w) for a, w in pairs if id(w) not in trainable and id(a) not in self._statistics]
        update_variables([a for a, _ in averaged], lambda a, w: decay * a + (1.0 - decay) * tf.cast(w, a.dtype),
                         [w for _, w in averaged])
        update_variables([a for a, _ in copied], lambda a, w: tf.cast(w, a.dtype), [w for _, w in copied])
        if self._norm_layers:
            self._refresh_statistics(gan, ctx)

    def _refresh_statistics(self, gan, ctx):
        """One training-mode pass of the averaged generator on the update's latent batch: its batch-norm
        layers update their moving statistics from θ̄'s activations (the output is discarded).

        Keras' BatchNormalization uses batch statistics and updates its moving ones only when it is
        trainable, so the averaged generator's layers are made trainable while the pass is traced (a
        Python-side switch; its variables are never given to an optimizer)."""
        frozen = [layer for layer in self._norm_layers if not layer.trainable]
        for layer in frozen:
            layer.trainable = True
        try:
            # (after the assignments above: TensorFlow orders the reads and writes of each variable)
            self.average(gan.generator_inputs(ctx.z, ctx.labels), training=True)
        finally:
            for layer in frozen:
                layer.trainable = False

    def get_config(self):
        return {**super().get_config(), "decay": self.decay, "start_step": self.start_step}
