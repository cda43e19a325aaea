"""Top-k generator updates: G learns only from the fakes the discriminator finds most realistic."""
import keras
import tensorflow as tf

from tfgan_stable.distribute import global_mean
from tfgan_stable.techniques.base import Technique


@keras.saving.register_keras_serializable(package="tfgan_stable")
class TopK(Technique):
    """Top-k training of the generator (Sinha et al. 2020, "Top-k training of GANs: improving GAN
    performance by throwing away bad samples", NeurIPS).

    In each generator update only the k of the N fakes (packs, with a packing D) of the global batch that
    the discriminator rates as most realistic contribute to G's loss: the family's per-example loss ℓᵢ
    becomes ℓᵢ·[ℓᵢ ≤ ℓ₍ₖ₎]·N / n, with ℓ₍ₖ₎ the k-th smallest loss of the global batch and n the number of
    losses at or below it (k, unless there are ties), so G's loss is the mean over the kept fakes. "Most
    realistic" is read from the family's own generator loss: for the cross-entropy, Wasserstein and hinge
    losses the smallest loss is the highest D score (the paper's rule), for the energy families the lowest
    energy. The worst-rated fakes are the ones whose gradients, the paper shows on mixtures of Gaussians,
    can push samples away from their nearest mode.

    k is annealed as in the paper: k = ⌈N·max(ν, γ^⌊t / T⌋)⌉ at generator step t, starting from the whole
    batch and falling geometrically by γ every T steps to the floor ν·N. The selection is over the global
    batch (the losses are gathered from every replica), so one device and N replicas keep the same fakes.
    Under a multi-replica strategy that gather sits inside the gradient computation, so there it runs
    without XLA (`compile(jit_compile=True)` says so); one replica with XLA works. A technique that
    replaces the family's generator loss (`FeatureMatching(replace=True)`) leaves nothing to select.

    Args:
      min_fraction: ν in (0, 1], the share of the batch kept once annealed.
      decay: γ in (0, 1], the factor per `decay_steps` (a small γ reaches the floor ν·N within a few periods).
      decay_steps: T, generator steps per factor γ (the paper: one epoch).
    """

    default_name = "top_k"
    #: The selection gathers every replica's losses inside the gradient computation (see `GAN.compile`).
    needs_cross_replica_gradients = True

    def __init__(self, min_fraction=0.5, decay=0.99, decay_steps=1000, **kwargs):
        super().__init__(**kwargs)
        for value, name in ((min_fraction, "min_fraction"), (decay, "decay")):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
                raise ValueError(f"`{name}` must be a number in (0, 1], got {value!r}")
        if isinstance(decay_steps, bool) or not isinstance(decay_steps, int) or decay_steps <= 0:
            raise ValueError(f"`decay_steps` must be a positive integer, got {decay_steps!r}")
        self.min_fraction, self.decay, self.decay_steps = float(min_fraction), float(decay), decay_steps

    def fraction(self, step):
        """max(ν, γ^⌊t / T⌋): the share of the batch kept at generator step t."""
        periods = tf.cast(tf.cast(step, tf.int64) // self.decay_steps, tf.float32)
        return tf.maximum(self.min_fraction, tf.pow(self.decay, periods))

    def reweight_generator_loss(self, per_example, ctx):
        losses = tf.stop_gradient(per_example)
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            losses_everywhere = replica.all_gather(losses, axis=0)
        else:
            losses_everywhere = losses
        count = tf.shape(losses_everywhere)[0]
        k = tf.cast(tf.math.ceil(tf.cast(count, tf.float32) * self.fraction(ctx.step)), tf.int32)
        k = tf.clip_by_value(k, 1, count)
        # A sort and a gather rather than `tf.math.top_k`: k changes during training, XLA's TopK needs it static.
        threshold = tf.gather(tf.sort(losses_everywhere), k - 1)
        kept = tf.cast(losses <= threshold, per_example.dtype)
        return per_example * kept / tf.stop_gradient(global_mean(kept))

    def get_config(self):
        return {**super().get_config(), "min_fraction": self.min_fraction, "decay": self.decay,
                "decay_steps": self.decay_steps}
