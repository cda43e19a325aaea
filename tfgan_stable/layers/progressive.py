"""The fade-in layers of progressively growing nets (Karras et al. 2018) and their growth schedule."""
import keras
import numpy as np
import tensorflow as tf


def growth_at(step, num_levels, stable_steps, fade_steps):
    """(level λ, fade α) after `step` training steps of the progressive-growing schedule.

    Karras et al. 2018, "Progressive growing of GANs", §2: training starts at the lowest resolution (level 0,
    4x4) for `stable_steps` steps; each next level first fades in over `fade_steps` steps, α rising linearly
    from 0 to 1 (α = (t − t_λ) / fade_steps, t_λ the step its fade-in starts), then trains stably (α = 1)
    for `stable_steps` steps; the last level (num_levels − 1) then stays. Level λ starts fading in at
    t_λ = stable_steps + (λ − 1)·(fade_steps + stable_steps).

    Args:
      step: completed training steps (an int ≥ 0).
      num_levels: resolutions of the nets (levels 0 … num_levels − 1).
      stable_steps: steps at each level after its fade-in (and at level 0).
      fade_steps: steps of each fade-in (≥ 1).

    Returns:
      (level, alpha): an int and a float in [0, 1] (α = 1 at level 0).
    """
    step = int(step)
    if step < stable_steps:
        return 0, 1.0
    phase, within = divmod(step - stable_steps, fade_steps + stable_steps)
    level = phase + 1
    if level >= num_levels:
        return num_levels - 1, 1.0
    return level, min(within / fade_steps, 1.0)


class _Growth(keras.layers.Layer):
    """A layer that reads the net's growth state: level λ and fade α, non-trainable weights that
    `set_growth` (and the `callbacks.ProgressiveGrowing` schedule) assign; saved with the model."""

    def __init__(self, num_levels, **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_levels, bool) or not isinstance(num_levels, (int, np.integer)) or num_levels < 1:
            raise ValueError(f"`num_levels` must be a positive integer, got {num_levels!r}")
        self.num_levels = int(num_levels)

    def _add_state(self):
        self.level = self.add_weight(name="level", shape=(), dtype="int32", initializer="zeros", trainable=False)
        self.alpha = self.add_weight(name="alpha", shape=(), dtype="float32", initializer="ones", trainable=False)

    def _level_alpha(self):
        level = tf.convert_to_tensor(self.level)
        return level, tf.where(level == 0, 1.0, tf.convert_to_tensor(self.alpha))

    def get_config(self):
        return {**super().get_config(), "num_levels": self.num_levels}


@keras.saving.register_keras_serializable(package="tfgan_stable")
class GrowingOutput(_Growth):
    """The generator's output of a progressively growing net: the active resolution's image, faded in.

    Inputs [rgb_0, …, rgb_L]: the "toRGB" image of each level, of side r_0·2^l. Each is upsampled to the
    final side by nearest-neighbour repetition (up_l), and the output is α·up_λ(rgb_λ) + (1 − α)·up_{λ−1}(rgb_{λ−1})
    at level λ ≥ 1 (the new block's image fading in over the doubled old one, Karras et al. 2018, Fig. 2),
    up_0(rgb_0) at level 0. Levels above λ do not reach the output.
    """

    def build(self, input_shape):
        if len(input_shape) != self.num_levels:
            raise ValueError(f"GrowingOutput takes one image per level ({self.num_levels}), got {len(input_shape)}")
        self._add_state()
        self.built = True

    def call(self, images):
        level, alpha = self._level_alpha()
        side = images[-1].shape[1]
        out = 0.0
        for l, image in enumerate(images):
            factor = side // image.shape[1]
            up = tf.repeat(tf.repeat(image, factor, axis=1), factor, axis=2) if factor > 1 else image
            weight = tf.where(level == l, alpha, tf.where(level - 1 == l, 1.0 - alpha, 0.0))
            out += tf.cast(weight, up.dtype) * up
        return out

    def compute_output_shape(self, input_shape):
        return input_shape[-1]


@keras.saving.register_keras_serializable(package="tfgan_stable")
class GrowingInput(_Growth):
    """Where level l of a progressively growing discriminator takes its input.

    Inputs [f_l] (the top level) or [f_l, d_l]: f_l is "fromRGB" of the image area-downsampled to this
    level's side, d_l the output of the block above (already downsampled to this side). At level λ with
    fade α the output is f_l when l = λ (the input enters here), (1 − α)·f_l + α·d_l when l = λ − 1 (the new
    block fading in, Karras et al. 2018, Fig. 2), d_l when l < λ − 1, and 0 when l > λ (inactive).

    Args:
      num_levels: levels of the net.
      index: l, this input's level.
    """

    def __init__(self, num_levels, index, **kwargs):
        super().__init__(num_levels, **kwargs)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < num_levels:
            raise ValueError(f"`index` must be a level in [0, {num_levels}), got {index!r}")
        self.index = int(index)

    def build(self, input_shape):
        self._add_state()
        self.built = True

    def call(self, inputs):
        level, alpha = self._level_alpha()
        here, below = (inputs[0], None) if len(inputs) == 1 else inputs
        l = self.index
        own = tf.where(level == l, 1.0, tf.where(level - 1 == l, 1.0 - alpha, 0.0))
        out = tf.cast(own, here.dtype) * here
        if below is not None:
            passed = tf.where(level - 1 == l, alpha, tf.where(level - 1 > l, 1.0, 0.0))
            out += tf.cast(passed, below.dtype) * below
        return out

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "index": self.index}


def set_growth(model, level, alpha):
    """Sets the growth state (level λ, fade α) of every growing layer of `model` (a net or a GAN's nets)."""
    layers = [l for l in model._flatten_layers() if isinstance(l, _Growth)]
    for layer in layers:
        if not 0 <= level < layer.num_levels:
            raise ValueError(f"`level` must be in [0, {layer.num_levels}), got {level}")
        layer.level.assign(int(level))
        layer.alpha.assign(float(alpha))
    return len(layers)


class ProgressiveGrowing(keras.callbacks.Callback):
    """Grows a GAN's progressive nets (`nets.progressive_generator` / `progressive_discriminator`) as it trains.

    Before every batch it sets level λ and fade α of the generator, the discriminator and the generator that
    `generate`/export use (`GAN.sampler`, e.g. the EMA copy) to `growth_at(step)` of the schedule (see there),
    where step is the GAN's completed training steps (`g_optimizer.iterations`). The state follows from the
    step alone, so a run resumed by `BackupAndRestore` continues the same schedule. With
    `steps_per_execution` = k the state changes between executions, every k steps. Once the last level is
    reached and faded in, the exported generator is the full-resolution one.

    Args:
      stable_steps: steps at each resolution after its fade-in (and at the first).
      fade_steps: steps of each fade-in.
    """

    def __init__(self, stable_steps, fade_steps):
        super().__init__()
        for name, value in (("stable_steps", stable_steps), ("fade_steps", fade_steps)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
        self.stable_steps, self.fade_steps = int(stable_steps), int(fade_steps)

    def _nets(self):
        gan = self.model
        nets = [gan.generator, gan.discriminator]
        return nets + ([gan.sampler] if gan.sampler is not gan.generator else [])

    def on_train_begin(self, logs=None):
        levels = {l.num_levels for net in self._nets() for l in net._flatten_layers() if isinstance(l, _Growth)}
        if len(levels) != 1:
            raise ValueError(f"ProgressiveGrowing needs a generator and a discriminator built with the same number of "
                             f"levels (nets.progressive_generator / progressive_discriminator), found {sorted(levels)}")
        self.num_levels = levels.pop()
        self.on_train_batch_begin(0)

    def on_train_batch_begin(self, batch, logs=None):
        level, alpha = growth_at(int(self.model.g_optimizer.iterations.numpy()), self.num_levels,
                                 self.stable_steps, self.fade_steps)
        for net in self._nets():
            set_growth(net, level, alpha)
