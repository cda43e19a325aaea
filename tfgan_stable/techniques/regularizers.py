"""Weight regularisers: orthogonal regularisation."""
import keras
import tensorflow as tf

from tfgan_stable.techniques.base import PlayerTechnique, check_non_negative, check_player, player_model


def kernel_matrices(model):
    """The model's trainable weights of rank >= 2 (Dense/Conv kernels, embeddings) as [fan_in, units] matrices."""
    return [tf.reshape(w, [-1, w.shape[-1]]) for w in model.trainable_variables if len(w.shape) >= 2]


@keras.saving.register_keras_serializable(package="tfgan_stable")
class OrthogonalRegularization(PlayerTechnique):
    """BigGAN's orthogonal regularisation (Brock et al. 2019, "Large scale GAN training ...", §3.1).

    β·Σ_W ‖WᵀW ⊙ (1 − I)‖²_F over the player's kernels W, each reshaped to [fan_in, units] (for a
    Conv2D: [kh·kw·in, out]), so WᵀW holds the inner products between the filters. Only the off-diagonal
    entries are penalised: filters are pushed towards mutual orthogonality without constraining their
    norms. It makes G amenable to the truncation trick; BigGAN uses β = 1e-4 on G. Orthogonal
    initialisation (Saxe et al. 2014) is the nets' `init="orthogonal"` option.

    Args:
      beta: β.
      player: "generator" (BigGAN), "discriminator" or "both".
    """

    default_name = "orthogonal_regularization"

    def __init__(self, beta=1e-4, player="generator", **kwargs):
        super().__init__(**kwargs)
        self.beta = check_non_negative(beta, "beta")
        self.player = check_player(player)

    def _term(self, gan, player):
        if self.player not in (player, "both"):
            return None
        total = tf.constant(0.0)
        for w in kernel_matrices(player_model(gan, player)):
            w = tf.cast(w, tf.float32)
            gram = tf.matmul(w, w, transpose_a=True)
            off_diagonal = gram * (1.0 - tf.eye(tf.shape(gram)[0]))
            total += tf.reduce_sum(tf.square(off_diagonal))
        return self.beta * total

    def discriminator_term(self, gan, ctx):
        return self._term(gan, "discriminator")

    def generator_term(self, gan, ctx):
        return self._term(gan, "generator")

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "player": self.player}
