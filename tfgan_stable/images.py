"""Pictures of generated samples: image grids and 2-D scatter plots, as numpy arrays and PNG files."""
import math
import os

import numpy as np


def image_grid(images, rows=None):
    """Tiles a batch of images in [-1, 1] into one uint8 image, row by row.

    Image i goes to row i // cols, column i % cols, with no gap between tiles. Pixels map to
    round((x + 1) · 127.5), after clipping x to [-1, 1]. Cells left over in the last row are black.

    Args:
      images: array-like [n, height, width, channels] with 1 or 3 channels, values in [-1, 1].
      rows: number of rows; the default is the most square layout, cols = ceil(sqrt(n)) and
        rows = ceil(n / cols). With `rows` given, cols = ceil(n / rows).

    Returns:
      uint8 numpy array [rows · height, cols · width, channels].
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.shape[0] == 0:
        raise ValueError(f"`images` must have shape [n >= 1, height, width, 1 or 3], got {images.shape}")
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"`images` must be floating point in [-1, 1], got dtype {images.dtype}")
    if not np.all(np.isfinite(images)):
        raise ValueError("`images` contains NaN or infinite values")
    n, height, width, channels = images.shape
    if rows is None:
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
    else:
        if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or not 1 <= rows <= n:
            raise ValueError(f"`rows` must be an integer in [1, {n}] (the number of images), got {rows!r}")
        rows = int(rows)
        cols = math.ceil(n / rows)
    pixels = np.round((np.clip(images, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)
    padded = np.zeros((rows * cols, height, width, channels), np.uint8)
    padded[:n] = pixels
    # [rows, cols, h, w, c] -> [rows, h, cols, w, c] -> [rows·h, cols·w, c]
    return padded.reshape(rows, cols, height, width, channels).transpose(0, 2, 1, 3, 4).reshape(
        rows * height, cols * width, channels)


def scatter_image(points, size=256, extent=None):
    """Draws 2-D points as white 3×3-pixel dots on a black square image (for the 2-D toy distributions).

    Point (x, y) maps to column (x − lo)/(hi − lo)·(size − 1) and row (hi − y)/(hi − lo)·(size − 1), so y
    grows upwards; points outside [lo, hi]² are left out.

    Args:
      points: array-like [n, 2].
      size: side of the image in pixels (>= 8).
      extent: (lo, hi) of both axes; default: the points' largest |coordinate| · 1.1, symmetric about 0.

    Returns:
      uint8 numpy array [size, size, 3].
    """
    points = np.asarray(points, np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"`points` must have shape [n, 2], got {points.shape}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"`size` must be an integer >= 8, got {size!r}")
    points = points[np.all(np.isfinite(points), axis=1)]
    if extent is None:
        half = 1.1 * float(np.max(np.abs(points))) if len(points) else 1.0
        extent = (-half or -1.0, half or 1.0)
    lo, hi = (float(e) for e in extent)
    if not hi > lo:
        raise ValueError(f"`extent` must be (lo, hi) with hi > lo, got {extent!r}")
    image = np.zeros((size, size, 3), np.uint8)
    cols = np.round((points[:, 0] - lo) / (hi - lo) * (size - 1)).astype(int)
    rows = np.round((hi - points[:, 1]) / (hi - lo) * (size - 1)).astype(int)
    inside = (cols >= 0) & (cols < size) & (rows >= 0) & (rows < size)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            image[np.clip(rows[inside] + dr, 0, size - 1), np.clip(cols[inside] + dc, 0, size - 1)] = 255
    return image


def sample_picture(samples):
    """The picture of a batch of samples: `image_grid` for images [n, h, w, c], `scatter_image` for points [n, 2]."""
    samples = np.asarray(samples)
    return scatter_image(samples) if samples.ndim == 2 else image_grid(samples)


def save_image_grid(images, path, rows=None):
    """Writes `image_grid(images, rows)` as a PNG (grayscale for 1 channel, RGB for 3) with Pillow.

    Args:
      images: array-like [n, height, width, 1 or 3] in [-1, 1].
      path: output file; missing parent folders are created.
      rows: see `image_grid`.

    Returns:
      The grid that was written (uint8 [H, W, C]).
    """
    return save_png(image_grid(images, rows), path)


def save_png(grid, path):
    """Writes a uint8 image [H, W, 1 or 3] as a PNG with Pillow, creating missing folders; returns it."""
    from PIL import Image

    path = os.fspath(path)
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(path, format="PNG")
    return grid
