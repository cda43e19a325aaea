"""InfoGAN's mutual-information term: Q, a head on D, recovers the latent codes of each fake."""
import keras
import numpy as np
import tensorflow as tf

from tfgan_stable.techniques.base import Technique, check_non_negative


def check_code_sizes(categorical_codes, continuous_codes):
    """(tuple of category counts, number of continuous codes), or a ValueError naming the argument."""
    try:
        categorical = tuple(categorical_codes)
    except TypeError:
        categorical = None
    if categorical is None or any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2
                                  for k in categorical):
        raise ValueError(f"`categorical_codes` must be a sequence of category counts, each an integer >= 2 "
                         f"(e.g. (10,) for one 10-way code), got {categorical_codes!r}")
    if isinstance(continuous_codes, bool) or not isinstance(continuous_codes, (int, np.integer)) \
            or continuous_codes < 0:
        raise ValueError(f"`continuous_codes` must be an integer >= 0 (the number of U(-1, 1) codes), got "
                         f"{continuous_codes!r}")
    if not categorical and not continuous_codes:
        raise ValueError("InfoGAN needs at least one latent code: give `categorical_codes` or `continuous_codes`")
    return tuple(int(k) for k in categorical), int(continuous_codes)


@keras.saving.register_keras_serializable(package="tfgan_stable")
class MutualInformation(Technique):
    """InfoGAN's variational lower bound on the mutual information I(c; G(z, c)) (Chen et al. 2016, "InfoGAN:
    Interpretable representation learning by information maximizing generative adversarial nets", §5).

    The generator's input is [noise, c], with c the codes in its last columns: one-hot categorical codes
    c_1 … c_m (k_1 … k_m classes) then continuous codes c'_1 … c'_n. A head Q on the discriminator (the
    layer `head`, output width Σ k_j + n: the logits of each categorical code, then the means μ of the
    continuous ones) predicts the codes of a fake. Both players minimise, per fake example,

        L_I = λ · ( Σ_j CE(softmax(q_j), c_j) + γ · Σ_l ½ (c'_l − μ_l)² ),

    which is −log Q(c | x) up to constants: the continuous posterior is the paper's "factored Gaussian"
    with its standard deviation fixed to 1 (as the authors' code does), whose negative log-density is
    ½(c' − μ)² + ½ log 2π. The constants (½ log 2π, and the entropy H(c) of the prior in the bound
    I ≥ H(c) − E[−log Q(c | x)]) do not change a gradient and are left out, so the logged term is the
    cross-entropy part of the bound, not an estimate of I. The discriminator's term trains Q (and the body it
    shares with D); the generator's term makes G produce samples whose codes Q can read. The paper takes
    λ = 1 for categorical codes and says a smaller λ is typically used for continuous ones so that the term
    stays on the scale of the GAN losses; `continuous_weight` = γ gives that (the authors' MNIST run used
    λ = 1 for both, γ = 1).

    Q reads G's own output, the sample the codes made: when D sees exactly the step's fakes, their pass
    through D is reused; when a technique changed what D sees (instance noise, augmentation, replayed
    fakes of other codes), Q is evaluated on the fakes themselves.

    Args:
      categorical_codes: category counts k_j of the categorical codes (each >= 2).
      continuous_codes: n, the number of continuous codes.
      weight: λ.
      continuous_weight: γ, the continuous part's weight relative to the categorical part.
      head: name of the discriminator layer that outputs Q (see `nets.add_head`).
    """

    default_name = "mutual_information"

    def __init__(self, categorical_codes=(10,), continuous_codes=2, weight=1.0, continuous_weight=1.0, head="q",
                 **kwargs):
        super().__init__(**kwargs)
        self.categorical_codes, self.continuous_codes = check_code_sizes(categorical_codes, continuous_codes)
        self.weight = check_non_negative(weight, "weight")
        self.continuous_weight = check_non_negative(continuous_weight, "continuous_weight")
        if not isinstance(head, str) or not head:
            raise ValueError(f"`head` must be the name of the discriminator's Q layer, got {head!r}")
        self.head = head
        self.feature_layers = (head,)

    @property
    def code_width(self):
        """Σ k_j + n: the columns the codes take in z, and the width of Q's output."""
        return sum(self.categorical_codes) + self.continuous_codes

    def attach(self, gan):
        width = gan.discriminator.get_layer(self.head).output.shape[-1] if self.head in [
            layer.name for layer in gan.discriminator.layers] else None
        if width is not None and width != self.code_width:
            raise ValueError(f"the discriminator's Q head {self.head!r} outputs {width} values, but the codes "
                             f"{self.categorical_codes} (categorical) + {self.continuous_codes} (continuous) need "
                             f"{self.code_width}: build it with nets.add_head(d, {self.code_width}, {self.head!r})")
        if gan.packing > 1:
            raise ValueError(f"{type(self).__name__} needs one Q output per sample, but the discriminator packs "
                             f"{gan.packing} samples per input (layers.Pack)")
        super().attach(gan)

    def information_loss(self, q, codes):
        """The per-example L_I of Q's outputs `q` [batch, Σk + n] for the codes [batch, Σk + n] (one-hot
        categorical codes, then continuous values)."""
        q, codes = tf.cast(q, tf.float32), tf.cast(codes, tf.float32)
        loss = tf.zeros_like(q[:, 0])
        start = 0
        for k in self.categorical_codes:
            loss += tf.nn.softmax_cross_entropy_with_logits(labels=codes[:, start:start + k],
                                                            logits=q[:, start:start + k])
            start += k
        if self.continuous_codes:
            loss += self.continuous_weight * 0.5 * tf.reduce_sum(tf.square(codes[:, start:] - q[:, start:]), axis=1)
        return self.weight * loss

    def _term(self, gan, ctx):
        if ctx.fake_input is ctx.fake:  # D saw the fakes themselves: reuse its pass
            q = ctx.fake_features[self.head]
        else:
            outputs = gan._feature_model(gan.discriminator_inputs(ctx.fake, ctx.labels), training=True)
            q = outputs[1 + gan._feature_layers.index(self.head)]
        return self.information_loss(q, ctx.z[:, -self.code_width:])

    def discriminator_term(self, gan, ctx):
        return self._term(gan, ctx)

    def generator_term(self, gan, ctx):
        return self._term(gan, ctx)

    def get_config(self):
        return {**super().get_config(), "categorical_codes": list(self.categorical_codes),
                "continuous_codes": self.continuous_codes, "weight": self.weight,
                "continuous_weight": self.continuous_weight, "head": self.head}
