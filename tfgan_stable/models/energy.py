"""GAN families with an autoencoder discriminator whose score is an energy (reconstruction error): EBGAN, BEGAN."""
import math

import keras
import numpy as np
import tensorflow as tf

from tfgan_stable import losses
from tfgan_stable.distribute import update_variables
from tfgan_stable.models.base import GAN, _STEP_DTYPE, _check_model
from tfgan_stable.techniques.base import check_non_negative
from tfgan_stable.techniques.pulling_away import PullingAway


def _number(value, name, check, expected):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or not check(value):
        raise ValueError(f"`{name}` must be {expected}, got {value!r}")
    return float(value)


class EnergyGAN(GAN):
    """Base of the families whose discriminator is an autoencoder D: sample -> reconstruction (same shape).

    D's score of a sample v is its energy, the reconstruction error E(v) = mean_e |D(v)_e − v_e|^η over
    the sample's elements (`losses.reconstruction_energy`), computed in `discriminator_scores`, so the
    losses, the logs (`d_real`, `d_fake`: mean energies) and every technique (gradient penalties,
    feature matching, unrolling) see the energy. The generator minimises the energy of its samples,
    L_G = E(G(z)) (`losses.energy_generator_loss`). Use `nets.autoencoder_discriminator` (images) or
    `nets.mlp_autoencoder` (2-D toys). A packed discriminator (`layers.Pack`) is not supported.

    Args:
      generator, discriminator, latent_dim, **kwargs: see `tfgan_stable.GAN`; the discriminator's output
        must have the shape of its input.
    """

    family_metrics = ("d_real", "d_fake")
    discriminator_norm = "none"  # BEGAN's nets have no normalisation
    #: η, the exponent of the energy (2: mean squared error).
    energy_power = 2

    def __init__(self, generator, discriminator, latent_dim, **kwargs):
        _check_model(discriminator, "discriminator")
        d_in, d_out = tuple(discriminator.inputs[0].shape), tuple(discriminator.outputs[0].shape)
        if len(d_in) != len(d_out) or any(a is not None and b is not None and a != b
                                          for a, b in zip(d_in[1:], d_out[1:])):
            raise ValueError(f"{type(self).__name__} needs an autoencoder discriminator, whose output (the "
                             f"reconstruction) has the shape of its input: the discriminator maps {d_in} to "
                             f"{d_out}. Build one with tfgan_stable.nets.autoencoder_discriminator or "
                             f"nets.mlp_autoencoder")
        super().__init__(generator, discriminator, latent_dim, **kwargs)

    def discriminator_scores(self, outputs, samples):
        """The energy of `samples`: the mean over a sample's elements of |D(v) − v|^η, shape [batch], float32."""
        reconstructions = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
        return losses.reconstruction_energy(tf.cast(reconstructions, _STEP_DTYPE), tf.cast(samples, _STEP_DTYPE),
                                            self.energy_power)

    def generator_loss(self, fake_logits, real_logits, step):
        return losses.energy_generator_loss(fake_logits)


@keras.saving.register_keras_serializable(package="tfgan_stable")
class EBGAN(EnergyGAN):
    """Energy-based GAN (Zhao, Mathieu & LeCun 2017, "Energy-based generative adversarial network").

    D(v) is the energy of v under an autoencoder discriminator, here the MEAN SQUARED reconstruction
    error, (1/n)·‖Dec(Enc(v)) − v‖² over the n elements of a sample. The paper writes the norm
    ‖Dec(Enc(v)) − v‖; reimplementations commonly use the mean squared error (e.g. PyTorch's MSELoss). We
    take the mean squared error because its scale does not grow with the image size or channels, so one
    margin suits 28x28 and 64x64 images alike, and it is smooth at a perfect reconstruction (a norm's
    gradient is undefined there). Losses, per example:

        L_D = D(x) + max(0, m − D(G(z))),   L_G = D(G(z))   (+ w·f_PT, see below).

    The margin m: with data and tanh reconstructions in [-1, 1], an energy lies in [0, 4], and an
    autoencoder that ignores its input (outputs the mean image) scores the data's mean per-pixel
    variance, below 1 for [-1, 1] images (0.27 on MNIST). m = 1 (the default) asks D to push fakes a
    little above that "knows nothing" level and no further, so the hinge is active while fakes are
    reconstructed well and switches off once their energy is clearly high. Margins tuned for an energy
    that is not a per-element mean (a norm or a sum over pixels, e.g. the paper's grid-searched values)
    are on another scale and do not carry over.

    EBGAN-PT: with `pulling_away_weight` = w > 0 the generator also minimises w·f_PT over D's codes of
    the fakes (`techniques.PullingAway` on the layer `code_layer`; the paper uses w = 0.1), added as a
    builtin technique and logged as "pulling_away".

    Args:
      margin: m > 0.
      pulling_away_weight: w >= 0 (0: plain EBGAN).
      code_layer: the discriminator layer whose output the pulling-away term reads ("code" in
        `nets.autoencoder_discriminator` and `nets.mlp_autoencoder`).
      **kwargs: see `EnergyGAN` and `tfgan_stable.GAN`.
    """

    energy_power = 2

    def __init__(self, generator, discriminator, latent_dim, margin=1.0, pulling_away_weight=0.0,
                 code_layer="code", **kwargs):
        self.margin = _number(margin, "margin", lambda v: v > 0, "a positive number")
        self.pulling_away_weight = check_non_negative(pulling_away_weight, "pulling_away_weight")
        if not isinstance(code_layer, str) or not code_layer:
            raise ValueError(f"`code_layer` must be the name of a discriminator layer, got {code_layer!r}")
        self.code_layer = code_layer
        super().__init__(generator, discriminator, latent_dim, **kwargs)

    def builtin_techniques(self):
        if self.pulling_away_weight == 0:
            return []
        return [PullingAway(self.code_layer, weight=self.pulling_away_weight)]

    def discriminator_loss(self, real_logits, fake_logits, step, noise):
        return losses.ebgan_discriminator_loss(real_logits, fake_logits, self.margin)

    def get_config(self):
        return {**super().get_config(), "margin": self.margin, "pulling_away_weight": self.pulling_away_weight,
                "code_layer": self.code_layer}


@keras.saving.register_keras_serializable(package="tfgan_stable")
class BEGAN(EnergyGAN):
    """Boundary equilibrium GAN (Berthelot, Schumm & Metz 2017, "BEGAN: Boundary equilibrium generative
    adversarial networks").

    L(v) = mean_e |v_e − D(v)_e|^η (η = 1 by default, or 2) is the autoencoder's loss on v. Per example:

        L_D = L(x) − k_t·L(G(z)),   L_G = L(G(z)),
        k_{t+1} = clip(k_t + λ_k·(γ·L(x) − L(G(z))), 0, 1)   after each train_step,

    with k_0 = `initial_k` (0 in the paper), γ the diversity ratio E[L(G(z))]/E[L(x)] the equilibrium
    aims at, and λ_k the proportional gain of k. `convergence` logs the paper's measure
    M_global = L(x) + |γ·L(x) − L(G(z))|.

    Which means update k: L(x) and L(G(z)) are the global-batch means of the step's discriminator
    update (`d_real`, `d_fake`: real data and fakes of G before its update, judged by D before its
    update), as in the reference implementations, where k's update reads the same forward pass as the
    losses. The generator update's L(G(z)) (other z, D already updated) is not used. With n_critic > 1
    they are the means over the step's critic updates. The means are summed over the replicas inside the
    step, so every replica computes the same k, written with `distribute.update_variables`: one device and
    N replicas give the same k_t. k is a non-trainable variable of the model (created in `__init__`,
    inside the strategy scope), so `.keras` files, `save_weights` and `BackupAndRestore` keep it; `gan.k`
    holds k_t, and the logged "k" is k after the step's update (as every log, averaged over the epoch's
    steps by `fit`).

    Args:
      gamma: γ ∈ (0, 1] (0.5 in the paper's main experiments).
      lambda_k: λ_k >= 0 (0.001 in the paper).
      power: η, 1 (the paper) or 2.
      initial_k: k_0 ∈ [0, 1].
      **kwargs: see `EnergyGAN` and `tfgan_stable.GAN`.
    """

    family_metrics = ("d_real", "d_fake", "k", "convergence")

    def __init__(self, generator, discriminator, latent_dim, gamma=0.5, lambda_k=0.001, power=1, initial_k=0.0,
                 **kwargs):
        self.gamma = _number(gamma, "gamma", lambda v: 0 < v <= 1, "a number in (0, 1]")
        self.lambda_k = _number(lambda_k, "lambda_k", lambda v: v >= 0, "a non-negative number")
        if isinstance(power, bool) or power not in (1, 2):
            raise ValueError(f"`power` must be 1 (the paper's L1 reconstruction error) or 2, got {power!r}")
        self.energy_power = int(power)
        self.initial_k = _number(initial_k, "initial_k", lambda v: 0 <= v <= 1, "a number in [0, 1]")
        super().__init__(generator, discriminator, latent_dim, **kwargs)
        self.k = self.add_weight(shape=(), initializer=keras.initializers.Constant(self.initial_k),
                                 trainable=False, name="k")

    def discriminator_loss(self, real_logits, fake_logits, step, noise):
        return losses.began_discriminator_loss(real_logits, fake_logits, tf.convert_to_tensor(self.k))

    def after_train_step(self, logs):
        """k_{t+1} = clip(k_t + λ_k(γ·L(x) − L(G(z))), 0, 1) from the step's global means; logs k and M_global."""
        real, fake = logs["d_real"], logs["d_fake"]
        balance = self.gamma * real - fake
        k = tf.clip_by_value(tf.convert_to_tensor(self.k) + self.lambda_k * balance, 0.0, 1.0)
        update_variables([self.k], lambda variable, value: value, [k])
        return {**logs, "k": k, "convergence": real + tf.abs(balance)}

    def get_config(self):
        return {**super().get_config(), "gamma": self.gamma, "lambda_k": self.lambda_k,
                "power": self.energy_power, "initial_k": self.initial_k}
