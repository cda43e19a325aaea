"""PacGAN packing: the discriminator judges m samples at once."""
import keras
import tensorflow as tf
from keras import ops

from tfgan_stable.layers import _common


@keras.saving.register_keras_serializable(package="tfgan_stable")
class Pack(keras.layers.Layer):
    """Packs m consecutive examples of a batch into one, concatenated along the last axis (PacGAN).

    Lin et al. 2018, "PacGAN: The power of two samples in generative adversarial networks". The
    discriminator sees m samples drawn together — all real or all generated — and emits one logit per
    pack. A generator that covers only some modes yields packs that are visibly less diverse than real
    packs, which penalises mode collapse; m = 2..4 in the paper. Examples i·m … i·m + m − 1 of a batch
    [n, ..., C] become example i of the output [n / m, ..., m·C]: vectors are concatenated feature-wise,
    images channel-wise, as in the paper.

    Put it first in the discriminator (`nets.mlp_discriminator(packing=m)` and
    `nets.dcgan_discriminator(packing=m)` do). The GAN base model then averages the losses over the
    n / m packs of the global batch and a gradient penalty takes the gradient norm of each pack's
    logit with respect to the pack's m samples. Each replica packs its own examples, so the
    per-replica batch must be a multiple of m (then one device and N replicas form the same packs).

    Args:
      num_samples: m, the number of samples per pack (>= 1; 1 is the identity).
      **kwargs: base `Layer` arguments.

    Input: [n, ..., C] with n a multiple of m. Output: [n / m, ..., m·C].

    Example:
      ```python
      x = keras.Input((2,))
      h = Pack(4)(x)                       # [n, 2] -> [n / 4, 8]
      logits = keras.layers.Dense(1)(keras.layers.Dense(200, activation="relu")(h))
      ```
    """

    def __init__(self, num_samples, **kwargs):
        super().__init__(**kwargs)
        self.num_samples = _common.check_positive_int(num_samples, "num_samples")

    def build(self, input_shape):
        _common.check_rank(input_shape, 2, "Pack")
        if any(d is None for d in input_shape[1:]):
            raise ValueError(f"Pack needs known non-batch dimensions, got {tuple(input_shape)}")
        self.built = True

    def call(self, inputs):
        m, sample_shape = self.num_samples, tuple(inputs.shape[1:])
        batch = inputs.shape[0]
        if batch is not None and batch % m:
            raise ValueError(f"Pack({m}): the batch of {batch} examples is not a multiple of {m}; use a "
                             f"(per-replica) batch size divisible by the packing degree")
        x = ops.reshape(inputs, (-1, m, *sample_shape))              # [n/m, m, ..., C]
        rank = len(sample_shape) + 2
        x = ops.transpose(x, (0, *range(2, rank - 1), 1, rank - 1))  # [n/m, ..., m, C]
        return ops.reshape(x, (-1, *sample_shape[:-1], m * sample_shape[-1]))

    def compute_output_shape(self, input_shape):
        batch = None if input_shape[0] is None else input_shape[0] // self.num_samples
        return (batch, *input_shape[1:-1], input_shape[-1] * self.num_samples)

    def get_config(self):
        return {**super().get_config(), "num_samples": self.num_samples}


def packing_degree(model):
    """m of a discriminator: the product of the `Pack` layers' sample counts in `model` (1 without packing)."""
    degree = 1
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, Pack):
            degree *= layer.num_samples
    return degree


def first_of_each_pack(values, m):
    """Per-example draws [n, ...] -> one draw per pack [n / m, ...]: each pack takes its first example's.

    Randomness is drawn per example (so one device and N replicas draw the same numbers); quantities
    that belong to a whole pack (a label swap, an interpolation weight) take this one.
    """
    if m == 1:
        return values
    shape = tf.shape(values)
    return tf.reshape(values, tf.concat([[-1, m], shape[1:]], 0))[:, 0]
