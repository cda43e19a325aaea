"""Experience replay: part of the discriminator's fake batch comes from a buffer of earlier fakes."""
import keras
import numpy as np
import tensorflow as tf

from tfgan_stable.distribute import update_variables
from tfgan_stable.layers.packing import first_of_each_pack
from tfgan_stable.techniques.base import Technique


@keras.saving.register_keras_serializable(package="tfgan_stable")
class ExperienceReplay(Technique):
    """Shows the discriminator fakes of earlier generators again (experience replay).

    Pfau & Vinyals 2016 ("Connecting generative adversarial networks and actor-critic methods") carry
    replay buffers over from reinforcement learning to GANs, and Shrivastava et al. 2017 (SimGAN,
    "Learning from simulated and unsupervised images through adversarial training") train D on a history
    of refined images so that it does not forget artefacts the generator produced before and G cannot
    cycle back to them. Here, in every discriminator update, each fake example x̃_i is swapped for a
    stored past fake with probability `fraction`:

        x̃_i ← B[⌊v_i · n⌋]  if u_i < fraction and n > 0,   else x̃_i,

    with u_i, v_i ~ U[0, 1) drawn per example from the step's stateless noise, B the buffer and n the
    number of entries it holds (no replacement before the first push). After the update, the update's
    own fresh fakes (never the replayed ones) are pushed into B. The generator's updates are unchanged.

    Replacement policy: a ring buffer (first in, first out). The buffer holds the `buffer_size` most
    recent fakes; a push of b fakes overwrites the b oldest entries. So D is shown a uniform sample of
    the last buffer_size / b discriminator updates' fakes. (A reservoir would keep a uniform sample of
    the whole history, and with it the meaningless fakes of the first steps for as long as training
    lasts; SimGAN's random overwrite ages entries geometrically; FIFO is the simplest to reason about and
    needs no randomness of its own.)

    Distribution: the pushed rows are the GLOBAL batch's fakes in global order (all-gathered from the
    replicas) and are written with `distribute.update_variables`, so the buffer is the same on every
    replica and equals the single-device buffer; the draws are per example of the global batch, so one
    device and N replicas replace the same examples with the same entries.

    Packing (PacGAN, `layers.Pack`): the decision is made per pack (each pack's first u), so a pack is
    either wholly fresh or wholly replayed; the m replayed samples are drawn independently from the
    buffer (i.i.d. samples of the buffer's mixture of past generators).

    Conditional families (`ConditionalGAN`, `ACGAN`) are refused: the buffer keeps no labels, and a replayed
    fake judged with the labels of the current update would be judged as the wrong class.

    The buffer and the count of pushed fakes are non-trainable weights of this layer: `.keras` files,
    checkpoints and `BackupAndRestore` keep them.

    Args:
      buffer_size: entries in the buffer; at least the (global) discriminator batch, so that one push
        fits.
      fraction: probability that a fake example is replaced by a buffer entry, in [0, 1]
        (SimGAN replaces half the batch).

    Example:
      ```python
      gan = tfgan_stable.NonSaturatingGAN(g, d, latent_dim=64,
                                          techniques=[ExperienceReplay(buffer_size=2048, fraction=0.5)])
      ```
    """

    default_name = "experience_replay"

    def __init__(self, buffer_size, fraction=0.5, **kwargs):
        super().__init__(**kwargs)
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, (int, np.integer)) or buffer_size < 1:
            raise ValueError(f"`buffer_size` must be a positive integer, got {buffer_size!r}")
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 <= fraction <= 1.0:
            raise ValueError(f"`fraction` must be a number in [0, 1], got {fraction!r}")
        self.buffer_size = int(buffer_size)
        self.fraction = float(fraction)
        self.packing = 1

    def attach(self, gan):
        if gan.conditional:
            raise ValueError(f"ExperienceReplay cannot be used with the conditional family {type(gan).__name__}: "
                             f"the buffer keeps fakes without the labels they were generated for, so a replayed "
                             f"fake would be judged with the wrong class")
        shape = tuple(gan.generator.outputs[0].shape[1:])
        if any(d is None for d in shape):
            raise ValueError(f"ExperienceReplay needs a generator with a known sample shape, got "
                             f"{tuple(gan.generator.outputs[0].shape)}")
        self.packing = gan.packing
        #: The stored fakes; entries [0, min(stored, buffer_size)) are filled.
        self.buffer = self.add_weight(name="buffer", shape=(self.buffer_size, *shape), initializer="zeros",
                                      dtype="float32", trainable=False, autocast=False)
        #: How many fakes have been pushed since training began (the ring's write position is this mod size).
        self.stored = self.add_weight(name="stored", shape=(), initializer="zeros", dtype="int64",
                                      trainable=False, autocast=False)
        super().attach(gan)

    def draw(self, noise, real, player):
        if player != "discriminator" or self.fraction == 0.0:
            return None
        u = noise.uniform([2])  # one draw for both (cheaper to trace than two)
        return {"use": tf.reshape(u[:, 0], [-1] + [1] * (real.shape.rank - 1)), "index": u[:, 1]}

    def filled(self):
        """Entries of the buffer that hold fakes (int64 scalar tensor)."""
        return tf.minimum(tf.convert_to_tensor(self.stored), self.buffer_size)

    def transform_discriminator_input(self, samples, which, ctx):
        if which != "fake" or ctx.player != "discriminator" or self.fraction == 0.0:
            return samples
        draws = ctx.draws[self.name]
        filled = self.filled()
        index = tf.cast(tf.floor(draws["index"] * tf.cast(filled, tf.float32)), tf.int64)
        index = tf.clip_by_value(index, 0, tf.maximum(filled - 1, 0))
        replayed = tf.cast(tf.gather(tf.convert_to_tensor(self.buffer), index), samples.dtype)
        use = draws["use"] < self.fraction
        if self.packing > 1:  # one decision per pack, taken from the pack's first example
            use = tf.repeat(first_of_each_pack(use, self.packing), self.packing, axis=0)
        use = tf.logical_and(use, filled > 0)
        return tf.where(use, replayed, samples)

    def after_discriminator_update(self, gan, ctx):
        fake = ctx.fake
        replica = tf.distribute.get_replica_context()
        replicas = 1 if replica is None else replica.num_replicas_in_sync
        if replicas > 1:  # the global batch's fakes, in global order, on every replica
            fake = replica.all_gather(fake, axis=0)
        static = fake.shape[0] if fake.shape[0] is not None else (
            None if ctx.fake.shape[0] is None else ctx.fake.shape[0] * replicas)
        if static is not None and static > self.buffer_size:
            raise ValueError(f"`buffer_size`={self.buffer_size} is smaller than the discriminator's (global) "
                             f"batch of {static} fakes: one push must fit in the buffer")
        # With an unknown batch size a larger push keeps its last buffer_size rows (what FIFO would keep).
        fake = tf.cast(fake, self.buffer.dtype)
        n = tf.cast(tf.shape(fake)[0], tf.int64)
        keep = tf.minimum(n, self.buffer_size)
        rows = fake[n - keep:]
        stored = tf.convert_to_tensor(self.stored)
        positions = tf.math.floormod(stored + n - keep + tf.range(keep, dtype=tf.int64), self.buffer_size)
        update_variables([self.buffer], lambda v: tf.tensor_scatter_nd_update(v, positions[:, None], rows))
        update_variables([self.stored], lambda v: v + n)

    def get_config(self):
        return {**super().get_config(), "buffer_size": self.buffer_size, "fraction": self.fraction}
