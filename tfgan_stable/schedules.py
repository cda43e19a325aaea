"""Step-dependent hyper-parameters (targets, noise levels) usable inside a compiled training step."""
import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfgan_stable")
class LinearRamp:
    """A value that stays at `start` until `begin_step`, moves linearly to `end` at `end_step`, then stays.

    v(t) = start + (end − start)·clip((t − begin_step) / (end_step − begin_step), 0, 1).

    Args:
      start: value before `begin_step`.
      end: value from `end_step` on.
      begin_step: step at which the ramp starts (the warm-up length).
      end_step: step at which the ramp ends; must be > `begin_step`.
    """

    def __init__(self, start, end, begin_step, end_step):
        if not 0 <= begin_step < end_step:
            raise ValueError(f"need 0 <= `begin_step` < `end_step`, got begin_step={begin_step}, "
                             f"end_step={end_step}")
        self.start, self.end = float(start), float(end)
        self.begin_step, self.end_step = int(begin_step), int(end_step)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        frac = tf.clip_by_value((step - self.begin_step) / (self.end_step - self.begin_step), 0.0, 1.0)
        return self.start + (self.end - self.start) * frac

    def get_config(self):
        return {"start": self.start, "end": self.end, "begin_step": self.begin_step, "end_step": self.end_step}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def resolve(value, step):
    """The value of a constant or a schedule (a callable of the step) at `step`."""
    return value(step) if callable(value) else tf.constant(value, tf.float32)


def check(value, name):
    """Validates a hyper-parameter that may be a number or a schedule."""
    if callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a number or a schedule (callable of the step), got {value!r}")
    return float(value)


def serialize(value):
    return keras.saving.serialize_keras_object(value) if callable(value) else value


def deserialize(value):
    return keras.saving.deserialize_keras_object(value) if isinstance(value, dict) else value
