"""Boxes: the slide's (Bx, By, Bh, Bw), targets, IoU vs keras.utils.bounding_boxes, NMS vs TensorFlow, VOC AP."""

import keras
import numpy as np
import pytest

from lecture_lib import boxes

RNG = np.random.default_rng(8)


def random_boxes(num, size=100.0):
    corners = RNG.uniform(0, size, (num, 2, 2))
    low, high = corners.min(axis=1), corners.max(axis=1) + 1.0
    return np.concatenate([low, high], axis=-1).astype("float32")  # (x_min, y_min, x_max, y_max)


def test_xyxy_to_center_keeps_the_slide_order_height_before_width():
    # 200 px wide, 100 px high; box x 20-60, y 10-50: centre (40, 30), height 40, width 40.
    centers = boxes.xyxy_to_center([[20, 10, 60, 50], [-1, -1, -1, -1]], image_size=(100, 200))
    np.testing.assert_allclose(centers, [[40 / 200, 30 / 100, 40 / 100, 40 / 200], [-1, -1, -1, -1]])
    np.testing.assert_allclose(
        boxes.center_to_xyxy(centers, (100, 200)), [[20, 10, 60, 50], [-1, -1, -1, -1]], atol=1e-5
    )
    many = random_boxes(20)
    np.testing.assert_allclose(boxes.center_to_xyxy(boxes.xyxy_to_center(many, 128), 128), many, atol=1e-4)
    tensor = boxes.xyxy_to_center(keras.ops.convert_to_tensor(many), 128)
    assert not isinstance(tensor, np.ndarray)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tensor), boxes.xyxy_to_center(many, 128), atol=1e-6)
    with pytest.raises(ValueError, match=r"`\(\.\.\., 4\)`, got shape \(2, 3\)"):
        boxes.xyxy_to_center(np.zeros((2, 3)), 10)
    with pytest.raises(ValueError, match="image_size"):
        boxes.xyxy_to_center(many, (0, 10))


def test_pairwise_iou_by_hand_and_against_keras_bounding_boxes():
    a = np.array([[0, 0, 2, 2], [0, 0, 1, 1]], "float32")
    b = np.array([[1, 1, 3, 3], [5, 5, 6, 6], [0, 0, 2, 2]], "float32")
    np.testing.assert_allclose(boxes.pairwise_iou(a, b), [[1 / 7, 0, 1], [0, 0, 1 / 4]], rtol=1e-6)
    first, second = random_boxes(15), random_boxes(9)
    reference = keras.ops.convert_to_numpy(keras.utils.bounding_boxes.compute_iou(first, second, "xyxy"))
    np.testing.assert_allclose(boxes.pairwise_iou(first, second), reference, atol=1e-5)
    as_tensor = boxes.pairwise_iou(keras.ops.convert_to_tensor(first), keras.ops.convert_to_tensor(second))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(as_tensor), reference, atol=1e-5)


def test_encode_target_builds_the_slide_vector():
    target = boxes.encode_target([[20, 10, 60, 50], [-1, -1, -1, -1]], [1, -1], image_size=(100, 200), num_classes=3)
    np.testing.assert_allclose(target, [1, 0.2, 0.3, 0.4, 0.2, 0, 1, 0])
    batch = boxes.encode_target(np.full((2, 1, 4), -1.0), np.full((2, 1), -1), 100, num_classes=2)
    np.testing.assert_array_equal(batch, np.zeros((2, 7)))
    with pytest.warns(UserWarning, match="keeps the largest"):
        target = boxes.encode_target([[0, 0, 10, 10], [0, 0, 50, 20]], [0, 2], 100, num_classes=3)
    np.testing.assert_allclose(target, [1, 0.25, 0.1, 0.2, 0.5, 0, 0, 1])
    with pytest.raises(ValueError, match=r"in \[0, 3\).*\[14\]"):
        boxes.encode_target([[0, 0, 10, 10]], [14], 100, num_classes=3)
    with pytest.raises(ValueError, match="x_max > x_min"):
        boxes.encode_target([[10, 0, 5, 10]], [0], 100, num_classes=3)


def test_decode_prediction_inverts_encode_and_applies_threshold():
    true = np.array([[[20, 10, 60, 50]], [[-1, -1, -1, -1]]], "float32")
    targets = boxes.encode_target(true, np.array([[2], [-1]]), (100, 200), num_classes=3)
    targets[1, 0] = 0.4  # below the threshold
    decoded, scores, classes = boxes.decode_prediction(targets, (100, 200), threshold=0.5)
    np.testing.assert_allclose(decoded, true, atol=1e-4)
    np.testing.assert_array_equal(scores, [[1.0], [0.0]])
    np.testing.assert_array_equal(classes, [[2], [-1]])
    single = boxes.decode_prediction(targets[0], (100, 200))
    assert single[0].shape == (1, 4) and single[2].tolist() == [2]
    with pytest.raises(ValueError, match="threshold"):
        boxes.decode_prediction(targets, 100, threshold=2)


def test_grid_targets_put_each_box_in_the_cell_of_its_centre():
    # 100×100 image, S = 4 (25 px cells): centre (40, 70) -> column 1, row 2, offsets (0.6, 0.8).
    grid = boxes.encode_grid_target([[30, 60, 50, 80], [-1, -1, -1, -1]], [1, -1], 100, grid_size=4, num_classes=2)
    assert grid.shape == (4, 4, 7)
    assert np.flatnonzero(grid[..., 0]).tolist() == [2 * 4 + 1]
    np.testing.assert_allclose(grid[2, 1], [1, 0.6, 0.8, 0.2, 0.2, 0, 1], atol=1e-6)
    true = np.array([[10, 10, 30, 40], [60, 55, 95, 90]], "float32")
    grid = boxes.encode_grid_target(true, [0, 1], 100, grid_size=4, num_classes=2)
    (decoded,) = boxes.decode_grid_predictions(grid, 100, iou_threshold=None)
    order = np.argsort(decoded["boxes"][:, 0])
    np.testing.assert_allclose(decoded["boxes"][order], true, atol=1e-4)
    assert decoded["classes"][order].tolist() == [0, 1] and decoded["scores"].tolist() == [1.0, 1.0]
    with pytest.warns(UserWarning, match="share a grid cell"):
        boxes.encode_grid_target([[0, 0, 10, 10], [0, 0, 20, 20]], [0, 1], 100, grid_size=2, num_classes=2)


def test_non_max_suppression_matches_tensorflow():
    import tensorflow as tf

    candidates = np.concatenate([random_boxes(40, 60), random_boxes(20, 60) + 2.0])
    scores = RNG.random(len(candidates)).astype("float32")
    for iou_threshold, score_threshold, max_outputs in ((0.5, 0.0, 100), (0.3, 0.4, 5), (0.7, 0.2, 20)):
        expected = tf.image.non_max_suppression(
            candidates[:, [1, 0, 3, 2]], scores, max_outputs, iou_threshold, score_threshold
        ).numpy()
        ours = boxes.non_max_suppression(candidates, scores, iou_threshold, score_threshold, max_outputs)
        np.testing.assert_array_equal(ours, expected)


def test_average_precision_voc_all_point_by_hand():
    true_boxes = [np.array([[0, 0, 10, 10]]), np.array([[20, 20, 30, 30], [50, 50, 60, 60]])]
    true_classes = [np.array([0]), np.array([0, 1])]
    pred_boxes = [
        np.array([[0, 0, 10, 10], [1, 0, 10, 10]]),  # a hit (0.9) and a duplicate (0.8)
        np.array([[21, 20, 30, 30], [70, 70, 80, 80]]),  # a hit (0.7) and a miss (0.6)
    ]
    pred_scores = [np.array([0.9, 0.8]), np.array([0.7, 0.6])]
    pred_classes = [np.array([0, 0]), np.array([0, 0])]
    # ranked TP FP TP FP: precision 1, 1/2, 2/3, 1/2 at recall 1/2, 1/2, 1, 1;
    # all-point interpolation: 1/2 · 1 + 1/2 · 2/3 = 5/6. Class 1 has no prediction: AP 0.
    per_class = boxes.average_precision_per_class(pred_boxes, pred_scores, pred_classes, true_boxes, true_classes)
    assert per_class == pytest.approx({0: 5 / 6, 1: 0.0})
    assert boxes.average_precision(
        pred_boxes, pred_scores, pred_classes, true_boxes, true_classes, class_id=0
    ) == pytest.approx(5 / 6)
    mean = boxes.average_precision(pred_boxes, pred_scores, pred_classes, true_boxes, true_classes)
    assert mean == pytest.approx(5 / 12)
    # the 0.9 IoU of the shifted box fails a 0.95 threshold: ranked TP FP FP FP -> AP = 1/2 · 1.
    strict = boxes.average_precision(
        pred_boxes, pred_scores, pred_classes, true_boxes, true_classes, iou_threshold=0.95, class_id=0
    )
    assert strict == pytest.approx(0.5)


def test_average_precision_accepts_padded_cxrset_arrays():
    true_boxes = np.array([[[0, 0, 10, 10], [-1, -1, -1, -1]]], "float32")
    true_classes = np.array([[3, -1]])
    pred_boxes = np.array([[[0, 0, 10, 10], [-1, -1, -1, -1]]], "float32")
    result = boxes.average_precision(pred_boxes, np.array([[0.8, 0.0]]), np.array([[3, -1]]), true_boxes, true_classes)
    assert result == pytest.approx(1.0)
    with pytest.raises(ValueError, match="iou_threshold"):
        boxes.average_precision(pred_boxes, [[0.8, 0]], [[3, -1]], true_boxes, true_classes, iou_threshold=0)


# ------------------------------------------------------------------------------------------ bad input (issue 16)

TWO_BOXES = np.array([[0, 0, 10, 10], [1, 1, 11, 11]], "float32")


def test_nan_scores_are_refused_by_nms_and_average_precision():
    # NMS used to drop the NaN box silently, and AP came out as 1.0 with a NaN-scored miss.
    with pytest.raises(ValueError, match=r"scores holds NaN at positions \[1\].*NaN score cannot be ranked"):
        boxes.non_max_suppression(TWO_BOXES, np.array([0.9, np.nan]))
    with pytest.raises(ValueError, match="pred_scores holds NaN"):
        boxes.average_precision([TWO_BOXES], [np.array([0.9, np.nan])], [np.array([0, 0])], [TWO_BOXES[:1]], [[0]])
    grid = np.zeros((2, 2, 5), "float32")
    grid[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="y's Pc holds NaN"):
        boxes.decode_grid_predictions(grid, 64)
    with pytest.raises(ValueError, match="y's Pc holds NaN"):
        boxes.decode_prediction(np.array([np.nan, 0.5, 0.5, 0.2, 0.2]), 64)


def test_inverted_and_nan_boxes_are_refused():
    inverted = np.array([[10, 0, 0, 10]], "float32")  # x_max < x_min, e.g. yxyx read as xyxy
    with pytest.raises(ValueError, match=r"boxes_b must be xyxy boxes with x_max >= x_min.*\[\[10\.0, 0\.0, 0\.0, 10"):
        boxes.pairwise_iou(TWO_BOXES, inverted)
    with pytest.raises(ValueError, match="boxes must be xyxy boxes with x_max >= x_min"):
        boxes.non_max_suppression(np.concatenate([TWO_BOXES, inverted]), np.array([0.9, 0.8, 0.7]))
    with pytest.raises(ValueError, match="pred_boxes must be xyxy"):
        boxes.average_precision([inverted], [[0.9]], [[0]], [TWO_BOXES[:1]], [[0]])
    with pytest.raises(ValueError, match="boxes_a holds NaN coordinates"):
        boxes.pairwise_iou(np.array([[0, 0, np.nan, 10]]), TWO_BOXES)
    with pytest.raises(ValueError, match="boxes_a must be xyxy"):
        boxes.pairwise_iou(keras.ops.convert_to_tensor(inverted), keras.ops.convert_to_tensor(TWO_BOXES))
    # Zero-area boxes and CXRSet padding rows are allowed, and so are inverted boxes that NMS drops by score.
    assert boxes.pairwise_iou(np.array([[5, 5, 5, 5], [-1, -1, -1, -1]]), TWO_BOXES).tolist() == [[0, 0], [0, 0]]
    kept = boxes.non_max_suppression(np.concatenate([TWO_BOXES, inverted]), np.array([0.9, 0.8, 0.1]), 0.5, 0.5)
    assert kept.tolist() == [0]


def test_a_single_box_gets_a_clear_error():
    with pytest.raises(ValueError, match=r"boxes_a must be `\(num_boxes, 4\)`.*got shape \(4,\); .*box\[None\]"):
        boxes.pairwise_iou(np.array([0, 0, 10, 10]), TWO_BOXES)
    assert boxes.pairwise_iou(np.array([[0, 0, 10, 10]]), TWO_BOXES)[0, 0] == pytest.approx(1.0)


def test_numpy_scalars_are_accepted_and_bad_options_named():
    kept = boxes.non_max_suppression(TWO_BOXES, np.array([0.9, 0.8]), np.float32(0.5), np.float64(0.0), np.int64(5))
    assert kept.tolist() == [0]  # IoU 81/119 = 0.68 > 0.5
    assert boxes.encode_grid_target(TWO_BOXES[:1], [0], np.int64(64), np.int64(2), np.int64(1)).shape == (2, 2, 6)
    with pytest.raises(TypeError, match="max_outputs must be a non-negative integer, got float 2.5"):
        boxes.non_max_suppression(TWO_BOXES, np.array([0.9, 0.8]), max_outputs=2.5)
    with pytest.raises(ValueError, match=r"iou_threshold must be a number in \[0, 1\], got nan"):
        boxes.non_max_suppression(TWO_BOXES, np.array([0.9, 0.8]), iou_threshold=float("nan"))
    with pytest.raises(TypeError, match="grid_size must be an integer in \\[1, 64\\], got float 2.0"):
        boxes.encode_grid_target(TWO_BOXES[:1], [0], 64, 2.0, 1)


def test_the_grid_decoder_scores_cells_yolo_style_and_suppresses_per_class():
    # 2×2 grid on a 64 px image, classes (A, B). Cells (0, 0) and (0, 1) hold heavily overlapping boxes.
    grid = np.zeros((2, 2, 7), "float32")
    grid[0, 0] = [0.9, 0.9, 0.5, 0.5, 0.5, 0.8, 0.2]  # Pc 0.9, class A 0.8: score 0.72, centre (28.8, 16)
    grid[0, 1] = [0.8, 0.1, 0.5, 0.5, 0.5, 0.9, 0.1]  # Pc 0.8, class A 0.9: score 0.72 (tie), centre (35.2, 16)
    grid[1, 1] = [0.6, 0.5, 0.5, 0.25, 0.25, 0.3, 0.7]  # score 0.42, class B, far from the others
    # Boxes 32 px wide centred 6.4 px apart: IoU = (32 - 6.4) * 32 / ((32 + 6.4) * 32) = 0.667.
    (kept,) = boxes.decode_grid_predictions(grid, 64, score_threshold=0.4, iou_threshold=0.5)
    np.testing.assert_allclose(kept["scores"], [0.72, 0.42], atol=1e-6)
    assert kept["classes"].tolist() == [0, 1]
    (both,) = boxes.decode_grid_predictions(grid, 64, score_threshold=0.4, iou_threshold=0.7)
    assert len(both["scores"]) == 3
    (none_suppressed,) = boxes.decode_grid_predictions(grid, 64, score_threshold=0.4, iou_threshold=None)
    assert len(none_suppressed["scores"]) == 3
    (top,) = boxes.decode_grid_predictions(grid, 64, score_threshold=0.0, iou_threshold=None, max_outputs=1)
    assert len(top["scores"]) == 1
    # Without class channels the score is Pc itself.
    (plain,) = boxes.decode_grid_predictions(grid[..., :5], 64, score_threshold=0.5, iou_threshold=None)
    np.testing.assert_allclose(plain["scores"], [0.9, 0.8, 0.6], atol=1e-6)
    assert (
        boxes.decode_grid_predictions
        is __import__("lecture_lib.models.detection").models.detection.decode_grid_predictions
    )
    with pytest.raises(ValueError, match="score_threshold"):
        boxes.decode_grid_predictions(grid, 64, score_threshold=1.5)
    with pytest.raises(TypeError, match="class_agnostic"):
        boxes.decode_grid_predictions(grid, 64, class_agnostic="yes")
