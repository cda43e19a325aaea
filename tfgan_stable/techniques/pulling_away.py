"""EBGAN's pulling-away term: the generator spreads the discriminator's codes of its samples apart."""
import keras
import tensorflow as tf

from tfgan_stable.techniques.base import Technique, check_non_negative


def pulling_away(codes):
    """The pulling-away term of a batch of codes, exact over the GLOBAL batch; differentiable.

    f_PT = 1/(N(N−1)) · Σ_i Σ_{j≠i} (S_iᵀS_j / (‖S_i‖·‖S_j‖))², the mean squared cosine similarity of
    the pairs of distinct rows of S (the codes flattened per example), over the N examples of the
    global batch (Zhao, Mathieu & LeCun 2017, "Energy-based generative adversarial network", §2.4).
    With n_i = S_i/‖S_i‖, Σ_{i≠j}(n_iᵀn_j)² = ‖Σ_i n_i n_iᵀ‖²_F − Σ_i ‖n_i‖⁴ (= N for unit rows; a
    zero code counts as a zero row). Both sums and N are sums over the examples, so under a
    multi-replica strategy they are all-reduced (the gradient of the all-reduce is the all-reduce of
    the gradient), and every replica gets the single-device value. Cost: a [width, width] matrix per
    replica, so read a narrow layer (the bottleneck).

    Args:
      codes: this replica's codes, shape [local_batch, ...].

    Returns:
      A scalar, the same on every replica (0 for a global batch of one example).
    """
    codes = tf.convert_to_tensor(codes)
    width = codes.shape[1:].num_elements()
    if width is None:
        raise ValueError(f"`codes` must have a static shape after the batch axis, got {codes.shape}")
    unit = tf.math.l2_normalize(tf.reshape(codes, [-1, width]), axis=1, epsilon=1e-12)
    outer = tf.matmul(unit, unit, transpose_a=True)  # Σ_i n_i n_iᵀ over this replica's examples
    fourth = tf.reduce_sum(tf.square(tf.reduce_sum(tf.square(unit), axis=1)))  # Σ_i ‖n_i‖⁴
    count = tf.cast(tf.shape(unit)[0], unit.dtype)
    ctx = tf.distribute.get_replica_context()
    if ctx is not None and ctx.num_replicas_in_sync > 1:
        outer, fourth, count = ctx.all_reduce(tf.distribute.ReduceOp.SUM, [outer, fourth, count])
    pairs = tf.maximum(count * (count - 1.0), 1.0)
    return (tf.reduce_sum(tf.square(outer)) - fourth) / pairs


@keras.saving.register_keras_serializable(package="tfgan_stable")
class PullingAway(Technique):
    """EBGAN's pulling-away term (Zhao, Mathieu & LeCun 2017, §2.4) as a generator regulariser.

    The generator's term is w·f_PT(S), with S the output of the discriminator layer `layer` on the
    generated samples (what D sees) and f_PT = 1/(N(N−1)) Σ_i Σ_{j≠i} (S_iᵀS_j / (‖S_i‖‖S_j‖))² over the
    global batch (`pulling_away`): it penalises fakes whose codes point the same way, against mode
    collapse. EBGAN-PT uses w = 0.1 on the encoder's output; `EBGAN(pulling_away_weight=...)` adds it.

    Under a multi-replica strategy the sums need a cross-replica all-reduce inside the gradient
    computation, so there it runs without XLA (`compile(jit_compile=True)` says so).

    Args:
      layer: the name of a discriminator layer (e.g. "code", the bottleneck of `nets.autoencoder_discriminator`).
      weight: w (0.1 in the paper).
    """

    default_name = "pulling_away"
    #: The term all-reduces inside the gradient computation (see `GAN.compile`).
    needs_cross_replica_gradients = True

    def __init__(self, layer="code", weight=0.1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, str) or not layer:
            raise ValueError(f"`layer` must be the name of a discriminator layer, got {layer!r}")
        self.layer_name = layer
        self.weight = check_non_negative(weight, "weight")
        self.feature_layers = (layer,)

    def generator_term(self, gan, ctx):
        return self.weight * pulling_away(ctx.fake_features[self.layer_name])

    def get_config(self):
        return {**super().get_config(), "layer": self.layer_name, "weight": self.weight}
