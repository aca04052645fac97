"""Tests of lecture_lib.layers against hand-computed values and scipy / numpy references."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pytest
from keras import layers, ops
from scipy.special import softmax as scipy_softmax

from lecture_lib.gradients import input_gradient
from lecture_lib.layers import ResidualBlock, SoftArgmax2D, SpatialSoftmax2D


def test_spatial_softmax_matches_scipy_softmax_over_flattened_pixels():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 5, 4, 3)).astype("float32") * 3
    out = keras.ops.convert_to_numpy(SpatialSoftmax2D()(logits))
    # Reference: move channels before pixels, softmax over the 20 pixels of each (sample, channel).
    flat = logits.transpose(0, 3, 1, 2).reshape(2, 3, 20)
    expected = scipy_softmax(flat, axis=-1).reshape(2, 3, 5, 4).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out.sum(axis=(1, 2)), np.ones((2, 3)), rtol=1e-5)


def test_spatial_softmax_hand_computed_and_temperature():
    logits = np.zeros((1, 2, 2, 1), "float32")
    logits[0, 0, 0, 0] = np.log(3.0)  # exp values 3, 1, 1, 1 -> 3/6, 1/6, 1/6, 1/6
    out = keras.ops.convert_to_numpy(SpatialSoftmax2D()(logits))[0, :, :, 0]
    np.testing.assert_allclose(out, [[0.5, 1 / 6], [1 / 6, 1 / 6]], rtol=1e-6)
    # Temperature 0.5 squares the exp values: 9, 1, 1, 1 -> 9/12, 1/12 ...
    sharp = keras.ops.convert_to_numpy(SpatialSoftmax2D(temperature=0.5)(logits))[0, :, :, 0]
    np.testing.assert_allclose(sharp, [[0.75, 1 / 12], [1 / 12, 1 / 12]], rtol=1e-6)


@pytest.mark.parametrize(
    ("temperature", "error"), [(0, ValueError), (-1.0, ValueError), (float("nan"), ValueError), ("1", TypeError),
                               (True, TypeError)]
)  # fmt: skip
def test_spatial_softmax_rejects_bad_temperature(temperature, error):
    with pytest.raises(error, match="temperature must be a positive number"):
        SpatialSoftmax2D(temperature=temperature)


def test_spatial_softmax_rejects_rank3_input():
    with pytest.raises(ValueError, match=r"\(batch, height, width, channels\)"):
        SpatialSoftmax2D()(np.zeros((4, 4, 3), "float32"))


# --- SoftArgmax2D -----------------------------------------------------------------------------------------------


def test_soft_argmax_hand_computed_3x3():
    heatmap = np.zeros((1, 3, 3, 2), "float32")
    # Landmark 0: half the mass at (row 1, col 1), half at (row 1, col 2) -> x = 1.5, y = 1.
    heatmap[0, 1, 1, 0] = heatmap[0, 1, 2, 0] = 0.5
    # Landmark 1: weights 1 at (0, 0) and 3 at (2, 2), not normalized -> divided by 4 -> x = y = 0.25*0 + 0.75*2 = 1.5.
    heatmap[0, 0, 0, 1], heatmap[0, 2, 2, 1] = 1.0, 3.0
    coords = keras.ops.convert_to_numpy(SoftArgmax2D()(heatmap))
    np.testing.assert_allclose(coords, [[[1.5, 1.0], [1.5, 1.5]]], atol=1e-6)
    normalized = keras.ops.convert_to_numpy(SoftArgmax2D(normalized=True)(heatmap))
    np.testing.assert_allclose(normalized, [[[2.0 / 3, 1.5 / 3], [2.0 / 3, 2.0 / 3]]], atol=1e-6)


def test_soft_argmax_x_is_column_y_is_row_on_non_square_map():
    heatmap = np.zeros((1, 2, 5, 1), "float32")
    heatmap[0, 1, 4, 0] = 1.0  # row 1, column 4
    coords = keras.ops.convert_to_numpy(SoftArgmax2D()(heatmap))
    np.testing.assert_allclose(coords, [[[4.0, 1.0]]], atol=1e-6)
    normalized = keras.ops.convert_to_numpy(SoftArgmax2D(normalized=True)(heatmap))
    np.testing.assert_allclose(normalized, [[[4.5 / 5, 1.5 / 2]]], atol=1e-6)


def test_soft_argmax_recovers_argmax_of_sharp_peaks_within_half_a_pixel():
    rng = np.random.default_rng(1)
    batch, height, width, num_landmarks = 4, 32, 24, 3
    logits = rng.uniform(size=(batch, height, width, num_landmarks)).astype("float32")
    rows = rng.integers(0, height, size=(batch, num_landmarks))
    cols = rng.integers(0, width, size=(batch, num_landmarks))
    for b in range(batch):
        for k in range(num_landmarks):
            logits[b, rows[b, k], cols[b, k], k] += 20.0
    coords = keras.ops.convert_to_numpy(SoftArgmax2D(apply_softmax=True)(logits))
    flat_argmax = logits.reshape(batch, height * width, num_landmarks).argmax(axis=1)
    expected = np.stack([flat_argmax % width, flat_argmax // width], axis=-1)
    assert coords.shape == (batch, num_landmarks, 2)
    assert np.abs(coords - expected).max() < 0.5


def test_soft_argmax_of_uniform_map_is_the_centre_and_zero_map_is_finite():
    coords = keras.ops.convert_to_numpy(SoftArgmax2D()(np.ones((1, 4, 6, 1), "float32")))
    np.testing.assert_allclose(coords, [[[2.5, 1.5]]], atol=1e-5)
    zero = keras.ops.convert_to_numpy(SoftArgmax2D()(np.zeros((1, 4, 6, 1), "float32")))
    assert np.all(np.isfinite(zero))


def test_soft_argmax_gradient_is_finite_and_nonzero():
    layer = SoftArgmax2D(apply_softmax=True)
    logits = np.random.default_rng(2).normal(size=(2, 6, 5, 2)).astype("float32")
    grad = ops.convert_to_numpy(
        input_gradient(lambda x: ops.sum(layer(x)[..., 0] * 2.0 + layer(x)[..., 1]), ops.convert_to_tensor(logits))
    )
    assert np.all(np.isfinite(grad)) and np.abs(grad).max() > 1e-3


def test_soft_argmax_rejects_bad_arguments():
    with pytest.raises(ValueError, match="epsilon"):
        SoftArgmax2D(epsilon=-1.0)
    with pytest.raises(ValueError, match="temperature"):
        SoftArgmax2D(apply_softmax=True, temperature=0.0)


def _signed_heatmap():
    """+1 at (row 1, column 4) and -1 at (row 2, column 0): the sum is 0, and dividing by it gave -1.6e8."""
    heatmap = np.zeros((1, 4, 6, 1), "float32")
    heatmap[0, 1, 4, 0], heatmap[0, 2, 0, 0] = 1.0, -1.0
    return heatmap


def test_soft_argmax_refuses_signed_heatmaps_in_an_eager_call():
    with pytest.raises(ValueError, match=r"negative values \(minimum -1\).*apply_softmax=True"):
        SoftArgmax2D()(_signed_heatmap())
    # As logits they are fine.
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(SoftArgmax2D(apply_softmax=True)(_signed_heatmap()))))


def test_soft_argmax_in_a_traced_model_counts_negative_values_as_zero():
    inputs = keras.Input((4, 6, 1))
    model = keras.Model(inputs, SoftArgmax2D()(inputs))
    coords = model.predict(_signed_heatmap(), verbose=0)
    np.testing.assert_allclose(coords, [[[4.0, 1.0]]], atol=1e-5)  # only the +1 at column 4, row 1 counts


def test_numpy_scalar_arguments_are_accepted():
    layer = SoftArgmax2D(stride=np.int64(2), temperature=np.float32(0.5), epsilon=np.float64(1e-7))
    assert layer.get_config()["stride"] == 2 and type(layer.get_config()["temperature"]) is float
    assert ResidualBlock(np.int64(8), strides=np.int64(2)).strides == 2
    assert SpatialSoftmax2D(temperature=np.float32(0.5)).temperature == 0.5


# --- ResidualBlock ----------------------------------------------------------------------------------------------


def _count(weights) -> int:
    return int(sum(np.prod(w.shape) for w in weights))


def test_residual_block_identity_shortcut_shape_params_and_value():
    block = ResidualBlock(16)
    x = np.random.default_rng(3).normal(size=(2, 8, 8, 16)).astype("float32")
    out = block(x, training=False)
    assert tuple(out.shape) == (2, 8, 8, 16)
    assert not block.has_projection
    # Two bias-free 3x3 convolutions 16 -> 16 and two batch norms (gamma, beta trainable).
    assert _count(block.trainable_weights) == 2 * 3 * 3 * 16 * 16 + 2 * 2 * 16
    # With zero kernels the residual branch is BN(0) = beta = 0, so the block is ReLU(identity).
    for conv in (block.conv1, block.conv2):
        conv.kernel.assign(np.zeros(conv.kernel.shape, "float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(block(x, training=False)), np.maximum(x, 0), atol=1e-6)


def test_residual_block_projection_shortcut_shape_params_and_value():
    block = ResidualBlock(32, strides=2)
    x = np.random.default_rng(4).normal(size=(2, 8, 8, 16)).astype("float32")
    assert tuple(block(x).shape) == (2, 4, 4, 32)
    assert block.has_projection
    expected_params = 3 * 3 * 16 * 32 + 3 * 3 * 32 * 32 + 16 * 32 + 3 * 2 * 32
    assert _count(block.trainable_weights) == expected_params
    for conv in (block.conv1, block.conv2):
        conv.kernel.assign(np.zeros(conv.kernel.shape, "float32"))
    matrix = np.random.default_rng(5).normal(size=(16, 32)).astype("float32")
    block.projection.kernel.assign(matrix[None, None])
    # Fresh BN in inference: (v - 0) / sqrt(1 + 1e-3); a stride-2 1x1 "same" conv samples rows/cols 0, 2, 4, 6.
    expected = np.maximum(x[:, ::2, ::2, :] @ matrix / np.sqrt(1 + 1e-3), 0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(block(x, training=False)), expected, rtol=1e-4, atol=1e-4)


def test_residual_block_projection_when_only_channels_change_and_odd_size():
    block = ResidualBlock(8)
    assert tuple(block(np.zeros((1, 7, 7, 4), "float32")).shape) == (1, 7, 7, 8)
    assert block.has_projection
    strided = ResidualBlock(8, strides=2)
    assert tuple(strided(np.zeros((1, 7, 7, 8), "float32")).shape) == (1, 4, 4, 8)


def test_residual_block_validation():
    with pytest.raises(ValueError, match="use_projection=False"):
        ResidualBlock(8, use_projection=False)(np.zeros((1, 4, 4, 4), "float32"))
    with pytest.raises(ValueError, match="filters"):
        ResidualBlock(0)
    with pytest.raises(TypeError, match="strides must be a positive integer, got float 1.5"):
        ResidualBlock(8, strides=1.5)
    forced = ResidualBlock(4, use_projection=True)
    forced(np.zeros((1, 4, 4, 4), "float32"))
    assert forced.has_projection


# --- serialization ----------------------------------------------------------------------------------------------


def test_get_config_round_trip():
    for layer in (
        SpatialSoftmax2D(temperature=0.3),
        SoftArgmax2D(normalized=True, apply_softmax=True, temperature=2.0),
        ResidualBlock(8, strides=2, momentum=0.99, kernel_regularizer=keras.regularizers.L2(1e-4)),
    ):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


def test_model_with_all_layers_saves_and_loads_with_identical_predictions(tmp_path):
    inputs = keras.Input((8, 8, 3))
    x = ResidualBlock(4)(inputs)
    x = ResidualBlock(6, strides=2)(x)
    heatmaps = SpatialSoftmax2D(temperature=0.5, name="heatmaps")(layers.Conv2D(2, 1)(x))
    coords = SoftArgmax2D(normalized=True, name="coordinates")(heatmaps)
    model = keras.Model(inputs, {"heatmaps": heatmaps, "coordinates": coords}, name="layers_demo")
    x_data = np.random.default_rng(6).normal(size=(3, 8, 8, 3)).astype("float32")
    model.compile("adam", loss={"coordinates": "mae"})
    model.fit(x_data, {"coordinates": np.full((3, 2, 2), 0.5, "float32")}, epochs=1, verbose=0)
    path = tmp_path / "layers.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    before, after = model.predict(x_data, verbose=0), loaded.predict(x_data, verbose=0)
    for key in ("heatmaps", "coordinates"):
        np.testing.assert_allclose(after[key], before[key], rtol=1e-6, atol=1e-7)
    assert isinstance(loaded.layers[1], ResidualBlock)
