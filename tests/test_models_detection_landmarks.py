"""Tests of the detection and landmark builders and their target helpers (lecture_lib.models), on small shapes."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pytest
from test_models import fit_lowers_loss_and_round_trips

from lecture_lib.layers import SoftArgmax2D
from lecture_lib.models import (
    build_grid_detector,
    build_heatmap_landmark_net,
    build_landmark_regressor,
    build_lesion_detector,
    decode_grid_predictions,
    decode_lesion_predictions,
    denormalize_landmarks,
    encode_grid_targets,
    encode_lesion_targets,
    landmark_heatmaps,
    normalize_landmarks,
)
from lecture_lib.models.detection import HeatmapPooling, LogMeanExp2D

RNG = np.random.default_rng(1)


# --- detection --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("activation", "low", "high"), [("sigmoid", 0, 1), ("tanh", -1, 1), ("relu", 0, np.inf)])
def test_lesion_detector_output_is_the_slides_y(activation, low, high):
    model = build_lesion_detector((32, 32, 1), num_classes=3, filters=4, depth=2, box_activation=activation)
    y = model.predict(RNG.uniform(size=(5, 32, 32, 1)), verbose=0)
    assert y.shape == (5, 5 + 3) and model.name == "lesion_detector"
    assert np.all((y[:, 0] > 0) & (y[:, 0] < 1))  # Pc: sigmoid
    assert np.all((y[:, 1:5] >= low) & (y[:, 1:5] <= high))  # Bx, By, Bh, Bw
    np.testing.assert_allclose(y[:, 5:].sum(axis=1), 1.0, rtol=1e-5)  # c: softmax
    assert build_lesion_detector((32, 32, 1), num_classes=0, filters=4, depth=2).output.shape[-1] == 5
    with pytest.raises(ValueError, match="box_activation"):
        build_lesion_detector(box_activation="softmax")


def test_lesion_targets_by_hand_and_decode_inverts_them():
    boxes = np.full((3, 2, 4), -1.0, "float32")
    classes = np.full((3, 2), -1)
    boxes[0, 0], classes[0, 0] = (8, 16, 24, 48), 1  # centre (16, 32), 16 wide, 32 high in a 64 x 64 image
    boxes[1, 0], classes[1, 0] = (0, 0, 4, 4), 0  # small box ...
    boxes[1, 1], classes[1, 1] = (32, 32, 64, 48), 1  # ... and a larger one, which is kept
    with pytest.warns(UserWarning, match="keeps the largest"):
        targets = encode_lesion_targets(boxes, classes, (64, 64), num_classes=2)
    np.testing.assert_allclose(targets[0], [1, 0.25, 0.5, 0.5, 0.25, 0, 1])
    np.testing.assert_allclose(targets[1], [1, 0.75, 0.625, 0.25, 0.5, 0, 1])
    np.testing.assert_array_equal(targets[2], np.zeros(7))  # no lesion: Pc = 0
    decoded = decode_lesion_predictions(targets, (64, 64))
    np.testing.assert_allclose(decoded["boxes"][:2], [[8, 16, 24, 48], [32, 32, 64, 48]], atol=1e-5)
    np.testing.assert_array_equal(decoded["present"], [True, True, False])
    np.testing.assert_array_equal(decoded["classes"][:2], [1, 1])
    with pytest.raises(ValueError, match=r"must be in \[0, 2\)"):
        encode_lesion_targets(boxes, np.where(classes == 1, 7, classes), (64, 64), num_classes=2)


def test_lesion_detector_trains_and_round_trips(tmp_path):
    model = build_lesion_detector((32, 32, 1), num_classes=2, filters=4, depth=2)
    x = RNG.uniform(size=(8, 32, 32, 1)).astype("float32")
    y = np.concatenate([np.ones((8, 1)), RNG.uniform(0.2, 0.8, (8, 4)), np.eye(2)[np.arange(8) % 2]], axis=1)
    loaded = fit_lowers_loss_and_round_trips(model, x, y.astype("float32"), "mse", tmp_path, learning_rate=1e-3)
    assert isinstance(loaded.get_layer("size"), HeatmapPooling)


def test_heatmap_pooling_and_log_mean_exp_by_hand():
    heatmap = np.zeros((1, 2, 2, 1), "float32")
    heatmap[0, :, :, 0] = [[0.5, 0.25], [0.25, 0.0]]
    maps = np.arange(8, dtype="float32").reshape(1, 2, 2, 2)  # channel 0: 0, 2, 4, 6; channel 1: 1, 3, 5, 7
    pooled = keras.ops.convert_to_numpy(HeatmapPooling()([heatmap, maps]))
    np.testing.assert_allclose(pooled, [[0.5 * 0 + 0.25 * 2 + 0.25 * 4, 0.5 * 1 + 0.25 * 3 + 0.25 * 5]], rtol=1e-6)
    logits = np.array([0.0, 1.0, 2.0, 3.0], "float32").reshape(1, 2, 2, 1)
    smooth_max = keras.ops.convert_to_numpy(LogMeanExp2D()(logits))
    np.testing.assert_allclose(smooth_max, [[np.log(np.mean(np.exp([0.0, 1.0, 2.0, 3.0])))]], rtol=1e-6)
    with pytest.raises(ValueError, match="one channel"):
        HeatmapPooling()([np.ones((1, 2, 2, 2), "float32"), maps])


def _hand_set_square_finder(model, logit_scale=40.0, size=0.25):
    """Weights that turn every feature into a local mean of the image, the centre logits into `scale · brightness`."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kernel, bias = layer.get_weights()
            fan_in = np.prod(kernel.shape[:-1])
            kernel = np.full_like(kernel, 1.0 / fan_in)
            if layer.name == "centre_logits":
                kernel *= logit_scale
            elif layer.name == "size_maps":
                kernel, bias = np.zeros_like(kernel), np.full_like(bias, np.log(size / (1 - size)))
            elif layer.name == "class_maps":
                kernel, bias = np.zeros_like(kernel), np.array([0.0, 2.0], "float32")
            layer.set_weights([kernel, np.zeros_like(bias) if layer.name not in ("size_maps", "class_maps") else bias])


def test_lesion_detector_head_localizes_a_bright_square():
    # A bright 12 x 8 square, off-centre: x from 16 to 28 and y from 4 to 12 (pixel edges) -> centre (22, 8).
    image = np.zeros((1, 32, 32, 1), "float32")
    image[0, 4:12, 16:28] = 1.0
    model = build_lesion_detector((32, 32, 1), num_classes=2, filters=4, depth=1, batch_norm=False)
    _hand_set_square_finder(model)
    y = model.predict(image, verbose=0)[0]
    expected = encode_lesion_targets(np.array([[16, 4, 28, 12]], "float32"), np.array([1]), (32, 32), 2)
    np.testing.assert_allclose(expected[1:3], [22 / 32, 8 / 32])
    np.testing.assert_allclose(y[1:3] * 32, expected[1:3] * 32, atol=0.25)  # Bx, By within a quarter pixel
    np.testing.assert_allclose(y[3:5], [0.25, 0.25], rtol=1e-5)  # Bh, Bw read from the size maps
    np.testing.assert_allclose(y[5:], np.exp([0, 2]) / np.exp([0, 2]).sum(), rtol=1e-5)  # class softmax
    moved = np.roll(image, (8, -8), axis=(1, 2))  # translation equivariance: the box follows the square
    y_moved = model.predict(moved, verbose=0)[0]
    np.testing.assert_allclose((y_moved[1:3] - y[1:3]) * 32, [-8, 8], atol=0.25)


def test_grid_detector_shapes_and_validation():
    model = build_grid_detector((32, 32, 1), num_classes=2, grid_size=4, filters=4)
    y = model.predict(RNG.uniform(size=(2, 32, 32, 1)), verbose=0)
    assert y.shape == (2, 4, 4, 7) and model.name == "grid_detector"
    np.testing.assert_allclose(y[..., 5:].sum(axis=-1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="power of two"):
        build_grid_detector((48, 48, 1), grid_size=4)
    with pytest.raises(ValueError, match="at least one class"):
        build_grid_detector(num_classes=0)


def test_grid_targets_by_hand_and_decode_round_trip():
    boxes = np.full((1, 3, 4), -1.0, "float32")
    classes = np.full((1, 3), -1)
    boxes[0, 0], classes[0, 0] = (12, 28, 28, 44), 1  # centre (20, 36): 16-px cells -> col 1, row 2
    boxes[0, 1], classes[0, 1] = (40, 0, 64, 16), 0  # centre (52, 8) -> col 3, row 0
    targets = encode_grid_targets(boxes, classes, (64, 64), grid_size=4, num_classes=2)
    assert targets.shape == (1, 4, 4, 7) and targets[..., 0].sum() == 2
    np.testing.assert_allclose(targets[0, 2, 1], [1, 0.25, 0.25, 0.25, 0.25, 0, 1])
    np.testing.assert_allclose(targets[0, 0, 3], [1, 0.25, 0.5, 0.25, 0.375, 1, 0])
    pytest.importorskip("lecture_lib.boxes")
    (decoded,) = decode_grid_predictions(targets, (64, 64))
    order = np.argsort(decoded["classes"])
    np.testing.assert_allclose(decoded["boxes"][order], [[40, 0, 64, 16], [12, 28, 28, 44]], atol=1e-4)
    np.testing.assert_allclose(decoded["scores"], [1, 1])
    np.testing.assert_array_equal(decoded["classes"][order], [0, 1])


def test_grid_decoding_applies_score_threshold_and_nms():
    pytest.importorskip("lecture_lib.boxes")
    y = np.zeros((1, 2, 2, 6), "float32")  # 2 x 2 grid over 32 x 32 px, one class
    y[..., 5] = 1.0
    # Cell (0, 0) and (0, 1) predict nearly the same 16 x 16 box at centre x 15 / 17: IoU = 14*16 / (2*256 - 224).
    y[0, 0, 0, :5] = (0.9, 15 / 16, 0.5, 0.5, 0.5)
    y[0, 0, 1, :5] = (0.8, 1 / 16, 0.5, 0.5, 0.5)
    y[0, 1, 1, :5] = (0.3, 0.5, 0.5, 0.25, 0.25)  # below the score threshold
    (kept,) = decode_grid_predictions(y, (32, 32), score_threshold=0.5, iou_threshold=0.5)
    np.testing.assert_allclose(kept["scores"], [0.9])
    np.testing.assert_allclose(kept["boxes"], [[7, 0, 23, 16]], atol=1e-5)
    (both,) = decode_grid_predictions(y, (32, 32), score_threshold=0.5, iou_threshold=0.8)  # IoU 0.78 < 0.8
    np.testing.assert_allclose(both["scores"], [0.9, 0.8])


def test_grid_detector_trains_and_round_trips(tmp_path):
    model = build_grid_detector((32, 32, 1), num_classes=2, grid_size=4, filters=4)
    x = RNG.uniform(size=(6, 32, 32, 1)).astype("float32")
    boxes = np.array([[[4, 4, 12, 12]], [[16, 8, 30, 20]]] * 3, "float32")
    targets = encode_grid_targets(boxes, np.array([[0], [1]] * 3), (32, 32), 4, 2)
    fit_lowers_loss_and_round_trips(model, x, targets, "mse", tmp_path)


# --- landmarks --------------------------------------------------------------------------------------------------


def test_normalize_landmarks_by_hand_and_inverse():
    points = np.array([[[0, 0], [3, 1]]], "float32")  # image 2 high, 4 wide
    normalized = normalize_landmarks(points, (2, 4))
    np.testing.assert_allclose(normalized, [[[0.125, 0.25], [0.875, 0.75]]])
    np.testing.assert_allclose(denormalize_landmarks(normalized, (2, 4)), points, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(N, K, 2\)"):
        normalize_landmarks(np.zeros((2, 2)), (4, 4))


def test_landmark_heatmaps_peak_at_the_landmark_and_sum_to_one():
    points = np.array([[[10, 7], [16.0, 12.0], [np.nan, np.nan]]], "float32")
    maps = landmark_heatmaps(points, (20, 24), sigma=1.5)
    assert maps.shape == (1, 20, 24, 3)
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), 1.0, rtol=1e-5)
    assert np.unravel_index(maps[0, :, :, 0].argmax(), (20, 24)) == (7, 10)  # row y, column x
    # Value ratio of a neighbour one pixel away: exp(-1 / (2 sigma^2)).
    np.testing.assert_allclose(maps[0, 7, 11, 0] / maps[0, 7, 10, 0], np.exp(-1 / (2 * 1.5**2)), rtol=1e-5)
    np.testing.assert_allclose(maps[0, ..., 2], 1 / (20 * 24), rtol=1e-5)  # absent landmark: uniform
    coords = keras.ops.convert_to_numpy(SoftArgmax2D()(maps[:, :, :, :2]))
    np.testing.assert_allclose(coords[0], points[0, :2], atol=1e-3)  # symmetric Gaussians, far from the edge


@pytest.mark.parametrize(
    ("activation", "low", "high"), [("sigmoid", 0, 1), ("tanh", -1, 1), ("linear", -np.inf, np.inf)]
)
def test_landmark_regressor_shapes_and_activation(activation, low, high):
    model = build_landmark_regressor((32, 32, 1), num_landmarks=5, filters=4, depth=2, activation=activation)
    y = model.predict(RNG.uniform(size=(3, 32, 32, 1)), verbose=0)
    assert y.shape == (3, 5, 2) and np.all((y >= low) & (y <= high)) and model.name == "landmark_regressor"
    with pytest.raises(ValueError, match="activation"):
        build_landmark_regressor(activation="softmax")


def test_landmark_regressor_trains_and_round_trips(tmp_path):
    model = build_landmark_regressor((32, 32, 1), num_landmarks=3, filters=4, depth=2)
    x = RNG.uniform(size=(8, 32, 32, 1)).astype("float32")
    y = RNG.uniform(0.2, 0.8, size=(8, 3, 2)).astype("float32")
    fit_lowers_loss_and_round_trips(model, x, y, "mae", tmp_path, learning_rate=1e-3)


def test_heatmap_net_outputs_heatmaps_and_coordinates():
    model = build_heatmap_landmark_net((16, 16, 1), num_landmarks=2, filters=4, depth=2)
    out = model.predict(RNG.uniform(size=(3, 16, 16, 1)), verbose=0)
    assert out["heatmaps"].shape == (3, 16, 16, 2) and out["coordinates"].shape == (3, 2, 2)
    np.testing.assert_allclose(out["heatmaps"].sum(axis=(1, 2)), 1.0, rtol=1e-5)
    # The coordinates are the expectation of the heatmaps: x = sum p * column, y = sum p * row.
    grid = np.arange(16, dtype="float32")
    expected_x = np.einsum("bhwk,w->bk", out["heatmaps"], grid)
    expected_y = np.einsum("bhwk,h->bk", out["heatmaps"], grid)
    np.testing.assert_allclose(out["coordinates"], np.stack([expected_x, expected_y], -1), rtol=1e-4, atol=1e-4)


def test_heatmap_net_trains_on_coordinates_only(tmp_path):
    model = build_heatmap_landmark_net((16, 16, 1), num_landmarks=2, filters=4, depth=2)
    x = RNG.uniform(size=(6, 16, 16, 1)).astype("float32")
    points = RNG.uniform(3, 12, size=(6, 2, 2)).astype("float32")
    fit_lowers_loss_and_round_trips(model, x, {"coordinates": points}, {"coordinates": "mae"}, tmp_path)


def test_heatmap_net_trains_on_heatmap_targets(tmp_path):
    model = build_heatmap_landmark_net((16, 16, 1), num_landmarks=2, filters=4, depth=2, normalized=True)
    x = RNG.uniform(size=(6, 16, 16, 1)).astype("float32")
    points = RNG.uniform(3, 12, size=(6, 2, 2)).astype("float32")
    targets = {"heatmaps": landmark_heatmaps(points, (16, 16), sigma=1.0)}
    fit_lowers_loss_and_round_trips(model, x, targets, {"heatmaps": keras.losses.KLDivergence()}, tmp_path)
