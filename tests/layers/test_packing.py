"""Pack (PacGAN) against numpy concatenation, and its argument checks."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tfgan_stable.layers import Pack


def _numpy_pack(x, m):
    """Pack i = concat(x[i·m], ..., x[i·m + m − 1]) along the last axis."""
    return np.stack([np.concatenate([x[i * m + j] for j in range(m)], axis=-1) for i in range(len(x) // m)])


@pytest.mark.parametrize("shape,m", [((12, 2), 3), ((8, 5, 4, 3), 4), ((6, 7, 2), 2), ((5, 3), 1)])
def test_pack_concatenates_consecutive_examples(shape, m):
    x = np.random.RandomState(0).normal(size=shape).astype("float32")
    layer = Pack(m)
    np.testing.assert_array_equal(layer(x).numpy(), _numpy_pack(x, m))
    np.testing.assert_array_equal(tf.function(layer, jit_compile=True)(x).numpy(), _numpy_pack(x, m))
    symbolic = layer(keras.Input(shape[1:]))
    assert tuple(symbolic.shape) == (None, *shape[1:-1], shape[-1] * m)


def test_pack_argument_errors():
    with pytest.raises(ValueError, match="num_samples"):
        Pack(0)
    with pytest.raises(ValueError, match="num_samples"):
        Pack(2.0)
    with pytest.raises(ValueError, match="not a multiple of 4"):
        Pack(4)(np.zeros((6, 2), "float32"))
    with pytest.raises(ValueError, match="rank"):
        Pack(2)(np.zeros((6,), "float32"))


def test_packed_nets_emit_one_logit_per_pack():
    d = ts.nets.mlp_discriminator(packing=4)
    assert d.get_layer("dense_0").kernel.shape[0] == 8  # 4 samples of 2 features
    assert d(np.zeros((12, 2), "float32")).shape == (3, 1)
    d = ts.nets.dcgan_discriminator((28, 28, 3), packing=2)
    assert d.get_layer("conv_0").kernel.shape[2] == 6  # 2 images of 3 channels
    assert d(np.zeros((4, 28, 28, 3), "float32")).shape == (2, 1)
    with pytest.raises(ValueError, match="packing"):
        ts.nets.mlp_discriminator(packing=0)
