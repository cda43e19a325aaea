"""Image grids: layout and pixel mapping checked against hand-written grids."""
import numpy as np
import pytest
from PIL import Image

from tfgan_stable.images import image_grid, save_image_grid


def _constant_images(values, side=2, channels=1):
    return np.stack([np.full((side, side, channels), v, np.float32) for v in values])


def test_default_layout_is_near_square_row_major_with_black_padding():
    # 5 images -> cols = ceil(sqrt(5)) = 3, rows = 2; pixel = round((x + 1) * 127.5).
    grid = image_grid(_constant_images([-1.0, 1.0, 0.0, -0.5, 0.5]))
    a, b, c, d, e, pad = 0, 255, 128, 64, 191, 0  # 127.5 -> 128, 63.75 -> 64, 191.25 -> 191
    expected = np.array([
        [a, a, b, b, c, c],
        [a, a, b, b, c, c],
        [d, d, e, e, pad, pad],
        [d, d, e, e, pad, pad],
    ], np.uint8)[..., None]
    assert grid.dtype == np.uint8
    np.testing.assert_array_equal(grid, expected)


def test_explicit_rows_rgb_and_clipping():
    images = np.zeros((3, 1, 2, 3), np.float32)
    images[0, 0, 0] = [1.0, -1.0, 0.0]    # one pixel of image 0
    images[1] = 2.0                        # out of range: clipped to 255
    images[2, 0, 1] = [-3.0, 0.5, -0.5]   # clipped to 0
    grid = image_grid(images, rows=3)      # one column
    assert grid.shape == (3, 2, 3)
    np.testing.assert_array_equal(grid[0], [[255, 0, 128], [128, 128, 128]])
    np.testing.assert_array_equal(grid[1], [[255, 255, 255], [255, 255, 255]])
    np.testing.assert_array_equal(grid[2], [[128, 128, 128], [0, 191, 64]])
    assert image_grid(images, rows=1).shape == (1, 6, 3)
    assert image_grid(images, rows=2).shape == (2, 4, 3)  # cols = ceil(3 / 2)


@pytest.mark.parametrize("channels, mode", [(1, "L"), (3, "RGB")])
def test_save_image_grid_writes_the_grid_as_png(tmp_path, channels, mode):
    images = np.random.default_rng(0).uniform(-1, 1, size=(6, 4, 5, channels)).astype(np.float32)
    path = tmp_path / "sub" / "grid.png"
    grid = save_image_grid(images, path, rows=2)
    with Image.open(path) as png:
        assert png.format == "PNG" and png.mode == mode
        pixels = np.asarray(png)
    np.testing.assert_array_equal(pixels.reshape(grid.shape), grid)
    np.testing.assert_array_equal(grid, image_grid(images, rows=2))
    assert grid.shape == (8, 15, channels)


@pytest.mark.parametrize("images, rows, message", [
    (np.zeros((4, 2, 2), np.float32), None, r"`images` must have shape \[n >= 1, height, width, 1 or 3\]"),
    (np.zeros((4, 2, 2, 2), np.float32), None, r"`images` must have shape"),
    (np.zeros((0, 2, 2, 1), np.float32), None, r"`images` must have shape"),
    (np.zeros((4, 2, 2, 1), np.uint8), None, "`images` must be floating point"),
    (np.full((4, 2, 2, 1), np.nan, np.float32), None, "NaN or infinite"),
    (np.zeros((4, 2, 2, 1), np.float32), 0, r"`rows` must be an integer in \[1, 4\]"),
    (np.zeros((4, 2, 2, 1), np.float32), 5, r"`rows` must be an integer in \[1, 4\]"),
    (np.zeros((4, 2, 2, 1), np.float32), 2.0, r"`rows` must be an integer"),
])
def test_bad_arguments(images, rows, message):
    with pytest.raises(ValueError, match=message):
        image_grid(images, rows)


def test_scatter_image_places_dots_by_hand_computation():
    from tfgan_stable.images import sample_picture, scatter_image

    image = scatter_image([[0.0, 0.0], [1.0, 1.0], [-1.0, -1.0], [5.0, 0.0]], size=11, extent=(-1, 1))
    assert image.shape == (11, 11, 3) and image.dtype == np.uint8
    lit = image[..., 0] == 255
    # (0, 0) -> row 5, col 5; (1, 1) -> row 0, col 10 (top right); (-1, -1) -> row 10, col 0; (5, 0) is outside.
    expected = np.zeros((11, 11), bool)
    expected[4:7, 4:7] = True
    expected[0:2, 9:11] = True
    expected[9:11, 0:2] = True
    np.testing.assert_array_equal(lit, expected)
    assert sample_picture(np.zeros((3, 2), np.float32)).shape == (256, 256, 3)
    with pytest.raises(ValueError, match="points"):
        scatter_image(np.zeros((3, 3)))
