"""Argument checks and distribution-safe state shared by the layers."""
import keras
import numpy as np


def check_positive_int(value, argument, minimum=1):
    """Returns `value` as an int, or raises a ValueError naming `argument` if it is not an int >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"`{argument}` must be {expected}, got {value!r}")
    return int(value)


def check_positive_float(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value > 0:
        raise ValueError(f"`{argument}` must be a positive number, got {value!r}")
    return float(value)


def check_axis(axis, rank, layer_name):
    """Normalises a feature axis against an input rank; the batch axis (0) is not a feature axis."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"`axis` must be an integer, got {axis!r}")
    positive = int(axis) % rank if -rank <= axis < rank else None
    if positive is None or positive == 0:
        raise ValueError(f"{layer_name}: `axis`={axis} is not a feature axis of an input of rank {rank} "
                         f"(expected 1..{rank - 1} or -{rank - 1}..-1)")
    return positive


def check_rank(input_shape, min_rank, layer_name, what="inputs", max_rank=None):
    rank = len(input_shape)
    if rank < min_rank or (max_rank is not None and rank > max_rank):
        expected = f"rank {min_rank}" if max_rank == min_rank else (
            f"rank >= {min_rank}" if max_rank is None else f"rank {min_rank}..{max_rank}")
        raise ValueError(f"{layer_name} expects {what} of {expected} (batch first), got shape "
                         f"{tuple(input_shape)}")
    return rank


def replica_local_variable(name, shape, initializer, dtype="float32"):
    """A non-trainable `keras.Variable` that each replica reads and writes locally.

    Layer state updated inside the training step (power-iteration vectors, statistics) is assigned in
    the replica context, possibly inside an XLA-compiled `tf.function` nested in `strategy.run`, where a
    cross-replica `merge_call` is impossible. A sync-on-read variable allows a plain per-replica assign.
    Its cross-replica reads (checkpoints, `get_weights`, `.keras` files) are the MEAN of the replica
    copies, which is the value itself whenever the copies are identical (a "sum" aggregation would
    store N times the value); restoring assigns the saved value to every copy. Outside any strategy it
    is an ordinary variable. `Layer.add_weight` has no `synchronization` argument, hence this helper;
    call it from `build` so the layer tracks the variable.
    """
    return keras.Variable(initializer, shape=shape, dtype=dtype, trainable=False, autocast=False,
                          synchronization="on_read", aggregation="mean", name=name)
