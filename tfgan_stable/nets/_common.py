"""Argument checks and normalisation layers shared by the network builders."""
import keras
import numpy as np

NORMS = ("batch", "sync_batch", "layer", "none")


INITS = ("normal", "orthogonal")


def init(kind="normal"):
    """The kernel initialiser of the builders' `init` argument.

    "normal": N(0, 0.02), the initialisation of DCGAN (Radford et al. 2016) and of PacGAN's toy nets;
    "orthogonal": orthogonal matrices (Saxe et al. 2014), as BigGAN uses with orthogonal regularisation
    (`techniques.OrthogonalRegularization`).
    """
    if kind not in INITS:
        raise ValueError(f"`init` must be one of {INITS}, got {kind!r}")
    return keras.initializers.RandomNormal(stddev=0.02) if kind == "normal" else keras.initializers.Orthogonal()


def check_norm(norm):
    if norm not in NORMS:
        raise ValueError(f"`norm` must be one of {NORMS}, got {norm!r}")
    return norm


def norm_layer(norm, name):
    """The normalisation layer for `norm` ("none" gives None).

    "sync_batch" is Keras' BatchNormalization(synchronized=True): under a `tf.distribute` strategy it uses
    the mean and variance of the global batch (all replicas), so N replicas normalise exactly like one
    device; plain "batch" normalises with each replica's own statistics. Momentum 0.9 and epsilon 1e-5
    are the values of the reference DCGAN implementations.
    """
    if norm == "none":
        return None
    if norm == "layer":
        return keras.layers.LayerNormalization(epsilon=1e-5, name=name)
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, synchronized=norm == "sync_batch",
                                           name=name)


def image_shape(image_shape):
    """`image_shape` as a tuple (height, width, channels) of ints, or a ValueError naming it."""
    try:
        shape = tuple(int(d) for d in image_shape)
        valid = len(shape) == 3 and all(d == e for d, e in zip(shape, image_shape))
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ValueError(f"`image_shape` must be (height, width, channels) integers, got {image_shape!r}")
    return shape


def check_positive_int(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{argument}` must be a positive integer, got {value!r}")
    return int(value)


def check_units(units, argument="units"):
    if isinstance(units, (int, np.integer)) or not hasattr(units, "__iter__"):
        raise ValueError(f"`{argument}` must be a sequence of positive integers (one per hidden layer), "
                         f"got {units!r}")
    units = tuple(units)
    if not units or any(isinstance(u, bool) or not isinstance(u, (int, np.integer)) or u <= 0 for u in units):
        raise ValueError(f"`{argument}` must be a non-empty sequence of positive integers (one per hidden "
                         f"layer), got {units!r}")
    return tuple(int(u) for u in units)
