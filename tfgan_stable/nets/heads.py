"""A second output head on a discriminator: ACGAN's class logits, InfoGAN's Q network."""
import keras

from tfgan_stable.nets import _common


def add_head(discriminator, units, name, hidden_units=0, init="normal"):
    """The discriminator with a second output: a head on the features its logit is computed from.

    The head reads the input of the discriminator's last layer (for `dcgan_discriminator` and
    `mlp_discriminator`, the features the linear logit reads), so it shares the whole body: ACGAN's
    auxiliary classifier (Odena et al. 2017: a softmax over the classes beside the source logit) and
    InfoGAN's Q network (Chen et al. 2016: Q shares all convolutional layers with D, with one fully
    connected layer of its own before the output) are this. The head is [Dense(hidden_units) ->
    LeakyReLU(0.2)] (when hidden_units > 0) -> linear Dense(units), computed in float32; its output layer
    is named `name`, so a technique reads it as a feature layer (`Technique.feature_layers`).

    Args:
      discriminator: a built functional `keras.Model` with one output (the logit).
      units: width of the head's output (e.g. the number of classes).
      name: name of the head's output layer, and of the model's second output.
      hidden_units: width of the head's hidden layer (0 = none).
      init: kernel initialiser, "normal" (N(0, 0.02)) or "orthogonal".

    Returns:
      A functional `keras.Model` with D's inputs and outputs [logits, head].
    """
    if not isinstance(discriminator, keras.Model) or not discriminator.built or not discriminator.inputs:
        raise TypeError(f"`discriminator` must be a built functional keras.Model, got {type(discriminator).__name__}")
    if len(discriminator.outputs) != 1:
        raise ValueError(f"`discriminator` must have one output (its logit), it has {len(discriminator.outputs)}")
    units = _common.check_positive_int(units, "units")
    if isinstance(hidden_units, bool) or not isinstance(hidden_units, int) or hidden_units < 0:
        raise ValueError(f"`hidden_units` must be an integer >= 0, got {hidden_units!r}")
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name` must be a non-empty layer name, got {name!r}")
    if name in [layer.name for layer in discriminator.layers]:
        raise ValueError(f"the discriminator already has a layer named {name!r}; give the head another `name`")
    features = discriminator.layers[-1].input
    h = features
    if hidden_units:
        h = keras.layers.Dense(hidden_units, kernel_initializer=_common.init(init), name=f"{name}_hidden")(h)
        h = keras.layers.LeakyReLU(0.2, name=f"{name}_act")(h)
    head = keras.layers.Dense(units, kernel_initializer=_common.init(init), dtype="float32", name=name)(h)
    return keras.Model(discriminator.inputs, [discriminator.outputs[0], head], name=f"{discriminator.name}_{name}")
