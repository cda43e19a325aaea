"""Multi-scale discriminator: the same architecture judging the image at several resolutions."""
import keras

from tfgan_stable.nets import _common


def multiscale_discriminator(build_discriminator, image_shape, scales=3, name="multiscale_discriminator"):
    """S discriminators of one architecture, discriminator k judging the image average-pooled k times by 2.

    Wang et al. 2018 ("High-Resolution Image Synthesis and Semantic Manipulation with Conditional GANs",
    pix2pixHD): D_1..D_S have the same architecture and their own weights; D_k sees the image
    downsampled by 2^(k-1) (here AveragePooling2D(2) per scale), so the coarse D_k judge global structure
    and the fine ones detail. (Durugkar et al. 2017 train one G against several discriminators too.)
    The GAN objective is the SUM of the per-scale losses, Σ_k L(D_k) — not the loss of a summed logit,
    which for a non-linear loss (cross-entropy, hinge) is a different objective.

    How the GAN sums the per-scale losses: the model's output is the per-scale logits [batch, S]
    (float32, column k from D_k). A `tfgan_stable.GAN` flattens D's output to scores, so every
    (example, scale) pair is one score: the family's per-example loss is evaluated on each scale's logit
    separately, and the step's mean over the B·S scores of the global batch is
        L = (1/S) Σ_k (1/B) Σ_i ℓ(D_k(x_i)),
    the literature's sum of per-scale losses divided by the constant S (Adam's update does not depend on
    it; with SGD, scale the learning rate by S for the plain sum). Gradient penalties differentiate the
    sum of an example's S logits; logged d_real / d_fake are means over the scales. A family's
    per-example draws (MinimaxGAN's label smoothing ranges and label flipping) have one value per
    example, which every one of the example's S scores shares.

    Args:
      build_discriminator: a callable image_shape -> a built functional `keras.Model` mapping images (or
        [images, labels]) to one logit per example ([batch, 1] or [batch]); called once per scale with
        (h / 2^k, w / 2^k, channels), e.g. `lambda shape: nets.resnet_discriminator(shape, width=0.5)`.
        Each returned model must be a new one; it is renamed `{name}_scale_{k}`.
      image_shape: (height, width, channels) of the full-resolution images; height and width must be
        divisible by 2^(scales - 1).
      scales: S, the number of scales (integer >= 1).
      name: model name.

    Returns:
      A functional `keras.Model` with the built discriminators' inputs (images, and labels when they take
      them) and output logits [batch, S].
    """
    if not callable(build_discriminator) or isinstance(build_discriminator, keras.layers.Layer):
        raise TypeError(f"`build_discriminator` must be a callable image_shape -> keras.Model (a function that "
                        f"builds a new discriminator per scale), got {type(build_discriminator).__name__}")
    height, width, channels = _common.image_shape(image_shape)
    scales = _common.check_positive_int(scales, "scales")
    factor = 2 ** (scales - 1)
    if min(height, width, channels) <= 0 or height % factor or width % factor:
        raise ValueError(f"`image_shape` {(height, width, channels)} must have positive sizes, with height and width "
                         f"divisible by 2^(scales - 1) = {factor} for {scales} scales")
    images = keras.Input((height, width, channels), name="images")
    discriminators = []
    for k in range(scales):
        shape = (height // 2 ** k, width // 2 ** k, channels)
        d = build_discriminator(shape)
        if not isinstance(d, keras.Model) or not d.built or not d.inputs:
            raise TypeError(f"`build_discriminator` must return a built functional keras.Model, got "
                            f"{type(d).__name__} for scale {k}")
        if any(d is other for other in discriminators):
            raise ValueError("`build_discriminator` returned the same model for two scales; each scale needs its "
                             "own discriminator (build a new one in each call)")
        if len(d.inputs) > 2 or len(d.outputs) != 1:
            raise ValueError(f"the discriminator of scale {k} must take images (or [images, labels]) and give one "
                             f"output (the logit), it has {len(d.inputs)} inputs and {len(d.outputs)} outputs")
        if tuple(d.inputs[0].shape[1:]) != shape:
            raise ValueError(f"the discriminator of scale {k} takes inputs of shape {tuple(d.inputs[0].shape[1:])}, "
                             f"but `build_discriminator` was asked for {shape}")
        if len(d.inputs) != len(discriminators[0].inputs if discriminators else d.inputs):
            raise ValueError("the discriminators of all scales must take the same inputs (images, or [images, labels])")
        d.name = f"{name}_scale_{k}"
        discriminators.append(d)
    labels = None
    if len(discriminators[0].inputs) == 2:
        spec = discriminators[0].inputs[1]
        labels = keras.Input(tuple(spec.shape[1:]), dtype=spec.dtype, name="labels")
    logits, x = [], images
    for k, d in enumerate(discriminators):
        if k:
            x = keras.layers.AveragePooling2D(2, name=f"downsample_{k}")(x)
        out = d([x, labels] if labels is not None else x)
        logits.append(keras.layers.Reshape((1,), dtype="float32", name=f"logit_{k}")(out))
    output = logits[0] if scales == 1 else keras.layers.Concatenate(dtype="float32", name="logits")(logits)
    return keras.Model([images, labels] if labels is not None else images, output, name=name)
