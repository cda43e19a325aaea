"""tfgan_stable: GAN training for Keras 3 / TensorFlow.

One `keras.Model` subclass per GAN loss family, composable stabilisation techniques, distribution-safe
layers, metrics and SavedModel export. See README.md.
"""
import os as _os

_os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from tfgan_stable import (  # noqa: E402
    callbacks, data, images, layers, losses, metrics, nets, pretraining, sampling, schedules, techniques)
from tfgan_stable.export import export_generator  # noqa: E402
from tfgan_stable.models import *  # noqa: E402,F401,F403

__version__ = "0.1.0"
