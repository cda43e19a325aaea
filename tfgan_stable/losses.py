"""GAN losses as pure functions.

Every function takes discriminator outputs (logits or critic values) of shape `[batch]` or `[batch, 1]`
and returns a PER-EXAMPLE loss of shape `[batch]`: no reduction and no state. The model reduces them once
with `tf.nn.compute_average_loss` over the global batch, so the same code gives the same update on one
device and on N replicas. Names follow `<family>_discriminator_loss` / `<family>_generator_loss`.

Notation: D(x) is the discriminator's raw output on real data x, D(G(z)) on generated data; σ is the
logistic sigmoid; softplus(t) = log(1 + eᵗ), so −log σ(t) = softplus(−t) and −log(1 − σ(t)) = softplus(t).
"""
import tensorflow as tf


def _flat(logits, name):
    logits = tf.convert_to_tensor(logits)
    if not logits.dtype.is_floating:
        raise TypeError(f"`{name}` must be a floating tensor, got dtype {logits.dtype.name}")
    rank = logits.shape.rank
    if rank == 2 and logits.shape[-1] not in (1, None):
        raise ValueError(f"`{name}` must have shape [batch] or [batch, 1], got {logits.shape}")
    if rank is not None and rank not in (1, 2):
        raise ValueError(f"`{name}` must have shape [batch] or [batch, 1], got {logits.shape}")
    return tf.reshape(logits, [-1])


def _targets(value, logits):
    return tf.broadcast_to(tf.cast(value, logits.dtype), tf.shape(logits))


def minimax_discriminator_loss(real_logits, fake_logits, real_targets=1.0, fake_targets=0.0):
    """Discriminator loss of the original GAN (Goodfellow et al. 2014), as binary cross-entropy.

    L_D = BCE(D(x), t_real) + BCE(D(G(z)), t_fake), with BCE(l, t) = −t·log σ(l) − (1−t)·log(1−σ(l))
    computed by `tf.nn.sigmoid_cross_entropy_with_logits`. With t_real = 1 and t_fake = 0 this is
    −log D(x) − log(1 − D(G(z))). One-sided label smoothing (Salimans et al. 2016) sets t_real to e.g. 0.9
    and keeps t_fake = 0; noisy labels pass per-example targets.

    Args:
      real_logits: D's logits on real data, shape [batch] or [batch, 1].
      fake_logits: D's logits on generated data, same batch size.
      real_targets: scalar or per-example target for real data.
      fake_targets: scalar or per-example target for generated data.

    Returns:
      Per-example loss, shape [batch].
    """
    real = _flat(real_logits, "real_logits")
    fake = _flat(fake_logits, "fake_logits")
    return (tf.nn.sigmoid_cross_entropy_with_logits(labels=_targets(real_targets, real), logits=real)
            + tf.nn.sigmoid_cross_entropy_with_logits(labels=_targets(fake_targets, fake), logits=fake))


def minimax_generator_loss(fake_logits):
    """Generator loss of the original minimax GAN (Goodfellow et al. 2014): L_G = log(1 − σ(D(G(z)))).

    This saturates when D rejects the samples confidently; see `non_saturating_generator_loss`.
    Computed stably as −softplus(D(G(z))).
    """
    fake = _flat(fake_logits, "fake_logits")
    return -tf.nn.softplus(fake)


def non_saturating_generator_loss(fake_logits):
    """Non-saturating generator loss (Goodfellow et al. 2014, §3): L_G = −log σ(D(G(z))) = softplus(−D(G(z))).

    The discriminator side is `minimax_discriminator_loss`.
    """
    fake = _flat(fake_logits, "fake_logits")
    return tf.nn.softplus(-fake)


def least_squares_discriminator_loss(real_logits, fake_logits, a=0.0, b=1.0):
    """LSGAN discriminator loss (Mao et al. 2017): L_D = ½(D(x) − b)² + ½(D(G(z)) − a)².

    `a` is the target for generated data and `b` for real data (0 and 1 by default, the paper's
    0-1 coding; −1, 1 with c = 0 is its Pearson χ² coding).
    """
    real = _flat(real_logits, "real_logits")
    fake = _flat(fake_logits, "fake_logits")
    return 0.5 * tf.square(real - tf.cast(b, real.dtype)) + 0.5 * tf.square(fake - tf.cast(a, fake.dtype))


def least_squares_generator_loss(fake_logits, c=1.0):
    """LSGAN generator loss (Mao et al. 2017): L_G = ½(D(G(z)) − c)², c the value G wants D to believe."""
    fake = _flat(fake_logits, "fake_logits")
    return 0.5 * tf.square(fake - tf.cast(c, fake.dtype))


def wasserstein_discriminator_loss(real_logits, fake_logits):
    """Wasserstein critic loss (Arjovsky et al. 2017): L_D = D(G(z)) − D(x).

    Minimising it maximises D(x) − D(G(z)), the critic's estimate of the Wasserstein-1 distance when D is
    1-Lipschitz (enforced by weight clipping in WGAN, a gradient penalty in WGAN-GP).
    """
    real = _flat(real_logits, "real_logits")
    fake = _flat(fake_logits, "fake_logits")
    return fake - real


def wasserstein_generator_loss(fake_logits):
    """Wasserstein generator loss (Arjovsky et al. 2017): L_G = −D(G(z)). Also the hinge GAN's G loss."""
    return -_flat(fake_logits, "fake_logits")


def hinge_discriminator_loss(real_logits, fake_logits):
    """Hinge discriminator loss (Lim & Ye 2017; Miyato et al. 2018): L_D = max(0, 1 − D(x)) + max(0, 1 + D(G(z))).

    The generator side is `wasserstein_generator_loss`, L_G = −D(G(z)).
    """
    real = _flat(real_logits, "real_logits")
    fake = _flat(fake_logits, "fake_logits")
    return tf.nn.relu(1.0 - real) + tf.nn.relu(1.0 + fake)


#: The names of the relativistic losses' functions f (`relativistic_*_loss(..., loss=...)`).
RELATIVISTIC_LOSSES = ("sigmoid", "least_squares", "hinge")


def _relativistic_functions(loss):
    """(f1, f2) of a relativistic loss name: f1 pushes its argument up, f2 pushes it down."""
    if loss == "sigmoid":  # −log σ(y) and −log(1 − σ(y))
        return (lambda y: tf.nn.softplus(-y)), tf.nn.softplus
    if loss == "least_squares":  # (y − 1)² and (y + 1)²
        return (lambda y: tf.square(y - 1.0)), (lambda y: tf.square(y + 1.0))
    if loss == "hinge":  # max(0, 1 − y) and max(0, 1 + y)
        return (lambda y: tf.nn.relu(1.0 - y)), (lambda y: tf.nn.relu(1.0 + y))
    raise ValueError(f"`loss` must be one of {', '.join(repr(n) for n in RELATIVISTIC_LOSSES)}, got {loss!r}")


def _pair(real_logits, fake_logits):
    """The flat real and fake logits of a relativistic loss, which must be as many."""
    real, fake = _flat(real_logits, "real_logits"), _flat(fake_logits, "fake_logits")
    if real.shape[0] is not None and fake.shape[0] is not None and real.shape[0] != fake.shape[0]:
        raise ValueError(f"`real_logits` and `fake_logits` must hold the same number of values (a relativistic "
                         f"loss compares them), got {real.shape[0]} and {fake.shape[0]}")
    return real, fake


def _means(real_mean, fake_mean, dtype):
    means = []
    for name, mean in (("real_mean", real_mean), ("fake_mean", fake_mean)):
        mean = tf.convert_to_tensor(mean, dtype)
        if mean.shape.rank != 0:
            raise ValueError(f"`{name}` must be a scalar (the critic's mean value), got shape {mean.shape}")
        means.append(mean)
    return means


def relativistic_discriminator_loss(real_logits, fake_logits, loss="sigmoid"):
    """Discriminator loss of the (paired) relativistic GAN (Jolicoeur-Martineau 2019, "The relativistic
    discriminator: a key element missing from standard GAN", ICLR 2019): L_D = f(C(x_r) − C(x_f)).

    Real example i is paired with fake example i: D learns to say how much more realistic the real one is.
    f(y) = −log σ(y) = softplus(−y) for "sigmoid" (RSGAN, the paper's), (y − 1)² for "least_squares",
    max(0, 1 − y) for "hinge". The paper states the paired form for any such f (its Algorithm 1, the same f
    for both players) but trains only RSGAN paired; least squares and hinge are the natural extension (the
    paper trains them in the average form, `relativistic_average_discriminator_loss`).

    Args:
      real_logits: C(x_r), the critic's raw outputs on real data, shape [batch] or [batch, 1].
      fake_logits: C(x_f) on generated data, the same number of values, paired by index.
      loss: the function f: "sigmoid", "least_squares" or "hinge".

    Returns:
      Per-pair loss, shape [batch].
    """
    f, _ = _relativistic_functions(loss)
    real, fake = _pair(real_logits, fake_logits)
    return f(real - fake)


def relativistic_generator_loss(real_logits, fake_logits, loss="sigmoid"):
    """Generator loss of the (paired) relativistic GAN (Jolicoeur-Martineau 2019): L_G = f(C(x_f) − C(x_r)).

    The discriminator's loss with real and fake swapped; see `relativistic_discriminator_loss`
    for f and the arguments. The generator gets a gradient through C(x_f) only; C(x_r) is a constant to it.
    """
    f, _ = _relativistic_functions(loss)
    real, fake = _pair(real_logits, fake_logits)
    return f(fake - real)


def relativistic_average_discriminator_loss(real_logits, fake_logits, real_mean, fake_mean, loss="sigmoid"):
    """Discriminator loss of the relativistic average GAN (Jolicoeur-Martineau 2019, §4.3 and appendix):

    L_D(i) = f1(C(x_r,i) − m_f) + f2(C(x_f,i) − m_r), with m_r = E C(x_r) and m_f = E C(x_f) the critic's
    mean values on the real and the fake batch: each real example should look more realistic than the
    average fake and each fake less realistic than the average real. Averaged over i this is the paper's
    E_r f1(C(x_r) − E_f C(x_f)) + E_f f2(C(x_f) − E_r C(x_r)), for
    - "sigmoid" (RaSGAN): f1(y) = −log σ(y) = softplus(−y), f2(y) = −log(1 − σ(y)) = softplus(y);
    - "least_squares" (RaLSGAN): f1(y) = (y − 1)², f2(y) = (y + 1)²;
    - "hinge" (RaHingeGAN): f1(y) = max(0, 1 − y), f2(y) = max(0, 1 + y).
    These are the paper's formulas; its code halves the sum, which only scales the gradient by ½.
    The means are arguments, not computed here, so that a model can pass means over the global batch
    (`distribute.global_mean`) and a gradient through them, as the paper's loss has.

    Args:
      real_logits: C(x_r), the critic's raw outputs on real data, shape [batch] or [batch, 1].
      fake_logits: C(x_f) on generated data, the same number of values.
      real_mean: m_r, a scalar (usually the mean of all real logits of the update).
      fake_mean: m_f, a scalar.
      loss: "sigmoid", "least_squares" or "hinge".

    Returns:
      Per-example loss, shape [batch]: example i's real term plus its fake term.
    """
    f1, f2 = _relativistic_functions(loss)
    real, fake = _pair(real_logits, fake_logits)
    real_mean, fake_mean = _means(real_mean, fake_mean, real.dtype)
    return f1(real - fake_mean) + f2(fake - real_mean)


def relativistic_average_generator_loss(real_logits, fake_logits, real_mean, fake_mean, loss="sigmoid"):
    """Generator loss of the relativistic average GAN (Jolicoeur-Martineau 2019):

    L_G(i) = f1(C(x_f,i) − m_r) + f2(C(x_r,i) − m_f): the discriminator's loss with real and fake swapped,
    so the generator also lowers how much more realistic the real data look than its average sample
    (through m_f). See `relativistic_average_discriminator_loss` for f1, f2 and the arguments.
    """
    f1, f2 = _relativistic_functions(loss)
    real, fake = _pair(real_logits, fake_logits)
    real_mean, fake_mean = _means(real_mean, fake_mean, real.dtype)
    return f1(fake - real_mean) + f2(real - fake_mean)


def gradient_norm_penalty(gradients, target=1.0):
    """Per-example two-sided gradient-norm penalty (Gulrajani et al. 2017): (‖∇ₓD(x̂)‖₂ − k)².

    The norm is taken over all non-batch axes. At a zero gradient the value is k² and the derivative
    is finite: the square root is only evaluated where the squared norm is positive (a plain
    `tf.norm` gives NaN gradients there).

    Args:
      gradients: ∇ₓD at the penalty points, shape [batch, ...].
      target: k, the norm the gradient is pulled towards (1 for WGAN-GP and DRAGAN).

    Returns:
      Per-example penalty, shape [batch].
    """
    gradients = tf.convert_to_tensor(gradients)
    inner = gradients.shape[1:]
    # A static width keeps the reshape valid for an empty batch (a replica that got no examples).
    width = inner.num_elements() if inner.is_fully_defined() else -1
    flat = tf.reshape(gradients, [-1 if width != -1 else tf.shape(gradients)[0], width])
    squared = tf.reduce_sum(tf.square(flat), axis=1)
    positive = squared > 0
    norm = tf.where(positive, tf.sqrt(tf.where(positive, squared, tf.ones_like(squared))), 0.0)
    return tf.square(norm - tf.cast(target, norm.dtype))


__all__ = [
    "minimax_discriminator_loss", "minimax_generator_loss", "non_saturating_generator_loss",
    "least_squares_discriminator_loss", "least_squares_generator_loss",
    "wasserstein_discriminator_loss", "wasserstein_generator_loss", "hinge_discriminator_loss",
    "gradient_norm_penalty", "RELATIVISTIC_LOSSES", "relativistic_discriminator_loss",
    "relativistic_generator_loss", "relativistic_average_discriminator_loss", "relativistic_average_generator_loss",
]


# ------------------------------------------------------------------ autoencoder (energy) discriminators
def reconstruction_energy(reconstructions, samples, power=2):
    """Per-example energy of an autoencoder discriminator: the mean of |D(v) − v|^η over a sample's elements.

    E(v) = (1/n)·Σ_e |D(v)_e − v_e|^η, with n the number of elements of one sample. η = 2 is the mean
    squared error, EBGAN's energy (Zhao et al. 2017); η = 1 (the default of BEGAN, Berthelot et al.
    2017) or 2 is BEGAN's L(v).

    Args:
      reconstructions: D(v), the autoencoder's outputs, shape [batch, ...].
      samples: v, the samples D reconstructed, same shape.
      power: η, 1 or 2.

    Returns:
      Per-example energy, shape [batch].
    """
    if power not in (1, 2) or isinstance(power, bool):
        raise ValueError(f"`power` must be 1 or 2, got {power!r}")
    samples = tf.convert_to_tensor(samples)
    reconstructions = tf.cast(reconstructions, samples.dtype)
    if reconstructions.shape.rank is not None and samples.shape.rank is not None and (
            not reconstructions.shape[1:].is_compatible_with(samples.shape[1:])):
        raise ValueError(f"`reconstructions` {reconstructions.shape} must have the shape of `samples` "
                         f"{samples.shape}: an autoencoder discriminator maps a sample to its reconstruction")
    error = reconstructions - samples
    error = tf.abs(error) if power == 1 else tf.square(error)
    axes = list(range(1, samples.shape.rank))
    return tf.reduce_mean(error, axis=axes) if axes else error


def ebgan_discriminator_loss(real_energy, fake_energy, margin):
    """EBGAN's discriminator loss (Zhao, Mathieu & LeCun 2017): L_D = D(x) + max(0, m − D(G(z))).

    D(·) is the energy (`reconstruction_energy`): D lowers the energy of real data and raises that of
    generated data until it reaches the margin m, beyond which fakes no longer contribute.
    """
    real = _flat(real_energy, "real_energy")
    fake = _flat(fake_energy, "fake_energy")
    return real + tf.nn.relu(tf.cast(margin, fake.dtype) - fake)


def began_discriminator_loss(real_energy, fake_energy, k):
    """BEGAN's discriminator loss (Berthelot, Schumm & Metz 2017): L_D = L(x) − k_t·L(G(z)).

    L(·) is the energy (`reconstruction_energy`) and k_t ∈ [0, 1] the equilibrium control variable,
    updated after each step by `BEGAN`.
    """
    real = _flat(real_energy, "real_energy")
    fake = _flat(fake_energy, "fake_energy")
    return real - tf.cast(k, fake.dtype) * fake


def energy_generator_loss(fake_energy):
    """The generator loss of EBGAN and BEGAN: L_G = D(G(z)), the energy of the generated samples."""
    return _flat(fake_energy, "fake_energy")


__all__ += ["reconstruction_energy", "ebgan_discriminator_loss", "began_discriminator_loss",
            "energy_generator_loss"]
