"""InfoGAN: a GAN whose generator input holds latent codes that a head on the discriminator must recover."""
import keras
import numpy as np
import tensorflow as tf

from tfgan_stable import sampling
from tfgan_stable.models.cross_entropy import NonSaturatingGAN
from tfgan_stable.techniques.base import check_non_negative
from tfgan_stable.techniques.mutual_information import MutualInformation, check_code_sizes

# Streams of `generate`'s code draws, folded into its seed (the noise uses the seed itself, as `GAN.generate`).
_CATEGORICAL_STREAM, _CONTINUOUS_STREAM = 1, 2


def assemble_latent(noise, categorical, continuous, categorical_codes):
    """G's input [noise, one_hot(c_1), …, one_hot(c_m), c'] from the noise [n, d], the class indices
    `categorical` [n, m] (or None when m = 0) and the continuous codes [n, n'] (or None when n' = 0).

    Written with `keras.ops`, so it builds the exported wrapper's graph from Keras inputs and computes the
    training step's z from tensors alike.
    """
    parts = [keras.ops.cast(noise, "float32")]
    for j, k in enumerate(categorical_codes):
        parts.append(keras.ops.one_hot(keras.ops.cast(categorical[:, j], "int32"), k, dtype="float32"))
    if continuous is not None:
        parts.append(keras.ops.cast(continuous, "float32"))
    return keras.ops.concatenate(parts, axis=-1)


def classes_from_uniform(u, k):
    """Class indices ⌊u·k⌋ (uniform over 0 … k − 1 for u ~ U(0, 1)) as int32."""
    return tf.minimum(tf.cast(tf.floor(u * k), tf.int32), k - 1)


@keras.saving.register_keras_serializable(package="tfgan_stable")
class InfoGAN(NonSaturatingGAN):
    """InfoGAN (Chen et al. 2016, "InfoGAN: Interpretable representation learning by information maximizing
    generative adversarial nets"): the non-saturating GAN plus a mutual-information term.

    The generator's input z (`latent_dim` = d + Σ k_j + n wide) is [noise, c]: noise ~ N(0, I) of size d,
    then m categorical codes c_j, each one-hot over k_j classes drawn uniformly, then n continuous codes
    ~ U(−1, 1) (the paper's MNIST setting: d = 62, one 10-way code, two continuous codes). The
    discriminator has a second output, Q (build it with `nets.add_head(d, Σk + n, "q", hidden_units=128)`:
    the paper's Q shares all of D's layers and adds one fully connected layer of its own), whose outputs
    are the logits of each categorical code and the means of the continuous ones. Both players add
    λ·L_I, `techniques.MutualInformation`:

        L_D = −log D(x) − log(1 − D(G(z, c))) + λ·L_I,   L_G = −log D(G(z, c)) + λ·L_I,
        L_I = Σ_j CE(softmax(q_j), c_j) + γ · Σ_l ½(c'_l − μ_l)²,

    a lower bound on the mutual information I(c; G(z, c)) up to constants. The codes are drawn statelessly per
    example of the global batch, like z, so one device and N replicas train alike. Label tricks of
    `MinimaxGAN` apply to D's GAN loss. A packed discriminator (`layers.Pack`) is refused: Q reads one sample.

    Args:
      generator: a built `keras.Model` taking z [batch, latent_dim].
      discriminator: a built `keras.Model` with outputs [logit, Q] (Q [batch, Σk + n], its last layer named
        `q_head`).
      latent_dim: the generator's input size, d + Σ k_j + n (d >= 1).
      categorical_codes: the class counts k_j of the categorical codes (each >= 2); () for none.
      continuous_codes: n, the number of continuous codes.
      info_weight: λ (1 in the paper).
      continuous_weight: γ, the continuous codes' weight relative to the categorical ones (the paper uses a
        smaller weight for continuous codes when their term would dominate; its MNIST code uses 1).
      q_head: name of the discriminator's Q output layer.
      **kwargs: see `NonSaturatingGAN` and `GAN`.
    """

    def __init__(self, generator, discriminator, latent_dim, categorical_codes=(10,), continuous_codes=2,
                 info_weight=1.0, continuous_weight=1.0, q_head="q", **kwargs):
        self.categorical_codes, self.continuous_codes = check_code_sizes(categorical_codes, continuous_codes)
        self.info_weight = check_non_negative(info_weight, "info_weight")
        self.continuous_weight = check_non_negative(continuous_weight, "continuous_weight")
        if not isinstance(q_head, str) or not q_head:
            raise ValueError(f"`q_head` must be the name of the discriminator's Q layer, got {q_head!r}")
        self.q_head = q_head
        code_width = sum(self.categorical_codes) + self.continuous_codes
        if isinstance(latent_dim, (int, np.integer)) and not isinstance(latent_dim, bool) \
                and latent_dim <= code_width:
            raise ValueError(f"`latent_dim`={latent_dim} is the generator's whole input, noise + codes: the codes "
                             f"{self.categorical_codes} (one-hot categorical) + {self.continuous_codes} "
                             f"(continuous) take {code_width} columns, so latent_dim must be at least "
                             f"{code_width + 1} (e.g. {62 + code_width} for the paper's 62 noise variables)")
        if isinstance(discriminator, keras.Model) and discriminator.built and discriminator.inputs:
            names = [layer.name for layer in discriminator.layers]
            if len(discriminator.outputs) != 2 or q_head not in names:
                raise ValueError(f"InfoGAN's discriminator must have two outputs, [logit, Q], with Q from a layer "
                                 f"named {q_head!r} (`q_head`); it has {len(discriminator.outputs)} output(s). Add Q "
                                 f"with tfgan_stable.nets.add_head(discriminator, {code_width}, {q_head!r}, "
                                 f"hidden_units=128)")
        super().__init__(generator, discriminator, latent_dim, **kwargs)
        #: d, the size of the noise part of z.
        self.noise_dim = self.latent_dim - code_width

    def builtin_techniques(self):
        return [MutualInformation(self.categorical_codes, self.continuous_codes, weight=self.info_weight,
                                  continuous_weight=self.continuous_weight, head=self.q_head)]

    def sample_latent(self, noise):
        """z = [noise ~ N(0, I), one-hot codes with uniform classes, continuous codes ~ U(−1, 1)], each part
        from its own named stream of the update's `StepNoise` (per example of the global batch)."""
        z = noise.latent(self.noise_dim)
        categorical = None
        if self.categorical_codes:
            u = noise.named("categorical").uniform([len(self.categorical_codes)])
            categorical = tf.stack([classes_from_uniform(u[:, j], k) for j, k in enumerate(self.categorical_codes)],
                                   axis=1)
        continuous = None
        if self.continuous_codes:
            continuous = 2.0 * noise.named("continuous").uniform([self.continuous_codes]) - 1.0
        return assemble_latent(z, categorical, continuous, self.categorical_codes)

    # ------------------------------------------------------------------ sampling and export
    def generate(self, num=None, z=None, seed=0, categorical=None, continuous=None, truncation=None,
                 batch_size=256, raw=False, labels=None):
        """Generates samples from noise and codes, in inference mode, with the `sampler` (e.g. EMA's).

        Codes that are not given are drawn from `seed` (classes uniform, continuous codes U(−1, 1)), so a
        sweep fixes one and keeps the rest: `generate(10, categorical=[[i] for i in range(10)])` draws ten
        samples with the same seed-drawn noise rows 0 … 9 and class i in row i.

        Args:
          num: number of samples, with noise ~ N(0, I) from `seed`; or give `z` instead.
          z: the noise part of the generator's input, [n, noise_dim] (not the codes).
          seed: integer seed of the noise (the rows `GAN.generate` draws) and of the codes not given.
          categorical: class indices [n, m] (column j in 0 … k_j − 1), or None to draw them.
          continuous: continuous codes [n, n'] (finite; training draws them from [−1, 1], the paper also
            shows ±2), or None to draw them.
          truncation: optional truncation threshold of the noise (see `sampling.latent_normal`).
          batch_size: samples per generator call.
          raw: use the trained `generator` even when a technique supplies an averaged one.
          labels: refused: InfoGAN is unconditional; fix a class through `categorical`.

        Returns:
          A tensor of samples.
        """
        if labels is not None:
            raise ValueError("InfoGAN is unconditional and takes no `labels`; fix the categorical codes with "
                             "`categorical` (class indices [n, number of categorical codes])")
        if (num is None) == (z is None):
            raise ValueError("give exactly one of `num` (number of samples) and `z` (noise vectors)")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"`seed` must be an integer, got {seed!r}")
        if z is None:
            if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num <= 0:
                raise ValueError(f"`num` must be a positive integer, got {num!r}")
            z = sampling.latent_normal(num, self.noise_dim, seed, truncation)
        z = tf.convert_to_tensor(z, tf.float32)
        if z.shape.rank != 2 or z.shape[-1] != self.noise_dim:
            raise ValueError(f"`z` is the noise part of the generator's input and must have shape [n, "
                             f"{self.noise_dim}] (noise_dim), got {tuple(z.shape)}")
        n = int(z.shape[0])
        categorical, continuous = self._codes(n, seed, categorical, continuous)
        generator = self.generator if raw else self.sampler
        latent = assemble_latent(z, categorical, continuous, self.categorical_codes)
        parts = [generator(latent[i:i + batch_size], training=False) for i in range(0, n, batch_size)]
        return tf.concat(parts, axis=0)

    def _codes(self, n, seed, categorical, continuous):
        """The checked (or drawn) class indices [n, m] int32 and continuous codes [n, n'] float32."""
        m, c = len(self.categorical_codes), self.continuous_codes
        if categorical is None and m:
            u = sampling.uniform([n, m], sampling.fold_in(seed, _CATEGORICAL_STREAM))
            categorical = tf.stack([classes_from_uniform(u[:, j], k) for j, k in enumerate(self.categorical_codes)],
                                   axis=1)
        elif categorical is not None:
            values = np.asarray(categorical)
            if not m:
                raise ValueError("`categorical` was given, but this InfoGAN has no categorical codes")
            if values.shape != (n, m) or not np.issubdtype(values.dtype, np.integer):
                raise ValueError(f"`categorical` must be integer class indices of shape [n, {m}] = ({n}, {m}) "
                                 f"(one column per categorical code, one row per sample), got shape "
                                 f"{values.shape} and dtype {values.dtype}")
            for j, k in enumerate(self.categorical_codes):
                if values[:, j].min() < 0 or values[:, j].max() >= k:
                    raise ValueError(f"`categorical` column {j} holds classes of a {k}-way code, so it must be in "
                                     f"[0, {k - 1}], got values in [{values[:, j].min()}, {values[:, j].max()}]")
            categorical = tf.constant(values, tf.int32)
        if continuous is None and c:
            continuous = 2.0 * sampling.uniform([n, c], sampling.fold_in(seed, _CONTINUOUS_STREAM)) - 1.0
        elif continuous is not None:
            values = np.asarray(continuous)
            if not c:
                raise ValueError("`continuous` was given, but this InfoGAN has no continuous codes")
            if values.shape != (n, c) or not np.issubdtype(values.dtype, np.number) \
                    or not np.all(np.isfinite(values)):
                raise ValueError(f"`continuous` must be finite numbers of shape [n, {c}] = ({n}, {c}) (one column "
                                 f"per continuous code, one row per sample), got shape {values.shape} and dtype "
                                 f"{values.dtype}")
            continuous = tf.constant(values, tf.float32)
        return categorical, continuous

    def coded_generator(self, raw=False):
        """A functional model [noise [n, d], categorical int32 [n, m], continuous float32 [n, n']] → samples, on
        the `sampler` (or with `raw` the trained generator). Inputs of codes this InfoGAN lacks are left out."""
        generator = self.generator if raw else self.sampler
        noise = keras.Input((self.noise_dim,), name="z")
        inputs = [noise]
        categorical = continuous = None
        if self.categorical_codes:
            categorical = keras.Input((len(self.categorical_codes),), dtype="int32", name="categorical")
            inputs.append(categorical)
        if self.continuous_codes:
            continuous = keras.Input((self.continuous_codes,), dtype="float32", name="continuous")
            inputs.append(continuous)
        images = generator(assemble_latent(noise, categorical, continuous, self.categorical_codes))
        return keras.Model(inputs, images, name=f"{generator.name}_coded")

    def export_generator(self, path, max_batch_size=None, raw=False):
        """Writes the `sampler` (or with `raw` the trained generator) as a SavedModel whose signatures take the
        codes: `serving_default` maps z (the noise [n, noise_dim]), `categorical` (int32 class indices [n, m])
        and `continuous` (float32 [n, n']) to images; the `sample*` signatures draw the noise from `seed` and
        take the codes as inputs too (see `export.export_generator`). `generate(z=..., categorical=...,
        continuous=...)` gives the same images.
        """
        from tfgan_stable import export
        return export.export_generator(self.coded_generator(raw), path, latent_dim=self.noise_dim,
                                       max_batch_size=max_batch_size or export.DEFAULT_MAX_BATCH_SIZE)

    def get_config(self):
        return {**super().get_config(), "categorical_codes": list(self.categorical_codes),
                "continuous_codes": self.continuous_codes, "info_weight": self.info_weight,
                "continuous_weight": self.continuous_weight, "q_head": self.q_head}
