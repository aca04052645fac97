"""Heatmaps predicted at a coarser resolution than the image: strides in SoftArgmax2D, targets and the v2 builder."""

import numpy as np
import pytest

from lecture_lib.layers import SoftArgmax2D
from lecture_lib.models.landmarks import build_heatmap_landmark_net, landmark_heatmaps


def test_soft_argmax_with_stride_maps_heatmap_pixels_to_image_pixels():
    # All mass on heatmap pixel (row 1, col 2) of a 4x4 map; stride 2 means heatmap pixel 2 covers image pixels 4-5,
    # whose centre is x = 4.5: (2 + 0.5) * 2 - 0.5. Row 1 covers rows 2-3: y = 2.5.
    heatmap = np.zeros((1, 4, 4, 1), "float32")
    heatmap[0, 1, 2, 0] = 1.0
    points = np.asarray(SoftArgmax2D(stride=2)(heatmap))
    np.testing.assert_allclose(points, [[[4.5, 2.5]]], atol=1e-5)
    # Normalized coordinates do not depend on the stride: (2 + 0.5) / 4 and (1 + 0.5) / 4.
    np.testing.assert_allclose(np.asarray(SoftArgmax2D(normalized=True, stride=2)(heatmap)), [[[0.625, 0.375]]])
    assert SoftArgmax2D.from_config(SoftArgmax2D(stride=4).get_config()).stride == 4
    with pytest.raises(ValueError, match="stride must be a positive integer"):
        SoftArgmax2D(stride=0)


def test_strided_targets_invert_the_soft_argmax():
    # Image pixels of a 48 x 48 image, away from the border (a Gaussian cut by the border pulls its mean inward).
    points = np.array([[[9.0, 21.0], [40.5, 30.0]]], "float32")
    maps = landmark_heatmaps(points, (24, 24), sigma=1.0, stride=2)
    assert maps.shape == (1, 24, 24, 2)
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), 1.0, rtol=1e-5)
    # Image x = 9 lies at heatmap x = (9 + 0.5) / 2 - 0.5 = 4.25, between columns 4 and 5 (nearer 4).
    row, col = np.unravel_index(maps[0, :, :, 0].argmax(), (24, 24))
    assert (col, row) == (4, 10)
    recovered = np.asarray(SoftArgmax2D(stride=2)(maps))
    np.testing.assert_allclose(recovered, points, atol=0.05)


def test_heatmap_net_with_output_stride():
    model = build_heatmap_landmark_net((32, 32, 1), num_landmarks=3, filters=4, depth=2, output_stride=2)
    outputs = model.predict(np.zeros((2, 32, 32, 1), "float32"), verbose=0)
    assert outputs["heatmaps"].shape == (2, 16, 16, 3)
    assert outputs["coordinates"].shape == (2, 3, 2)
    np.testing.assert_allclose(outputs["heatmaps"].sum(axis=(1, 2)), 1.0, rtol=1e-4)
    # Coordinates are in input pixels: a uniform 16x16 map has its mean at heatmap 7.5 -> image (7.5+0.5)*2-0.5.
    assert np.all((outputs["coordinates"] > -0.5) & (outputs["coordinates"] < 31.5))
    with pytest.raises(ValueError, match="power of 2 up to 2\\*\\*depth = 4"):
        build_heatmap_landmark_net((32, 32, 1), num_landmarks=3, filters=4, depth=2, output_stride=8)
    with pytest.raises(ValueError, match="power of 2"):
        build_heatmap_landmark_net((32, 32, 1), num_landmarks=3, filters=4, depth=2, output_stride=3)
