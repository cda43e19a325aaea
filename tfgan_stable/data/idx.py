"""Reader for the IDX format of MNIST and Fashion-MNIST (LeCun et al. 1998)."""
import gzip
import os

import numpy as np

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Reads an IDX file (optionally gzipped) into a numpy array.

    The header is two zero bytes, a type code, the number of dimensions, then
    one big-endian uint32 per dimension; the data follows in row-major order.

    Args:
      path: path to a `.idx`/`-ubyte` file or its `.gz`.

    Returns:
      A numpy array with the file's shape and dtype.
    """
    if not os.path.exists(path):
        raise ValueError(f"`path` does not exist: {path!r}")
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"`path` is not an IDX file: {path!r}")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    array = np.frombuffer(data, dtype=_IDX_DTYPES[data[2]], offset=offset)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"IDX file {path!r} is truncated: expected {shape}, got {array.size} values")
    return array.reshape(shape)
