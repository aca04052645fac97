"""Tests of lecture_lib.augment: RandomGamma, the augmentation pipeline and the augmented batches."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from lecture_lib.augment import AugmentedArrays, RandomGamma, build_augmentation


def _square_batch(count=4, size=32):
    """Images that equal their own mask: a bright square on black, the square as the mask."""
    masks = np.zeros((count, size, size, 1), np.float32)
    for i in range(count):
        masks[i, 8 + i : 20 + i, 6:22] = 1.0
    return masks.copy(), masks


def test_random_gamma_is_a_power_within_the_factor():
    x = np.full((64, 4, 4, 1), 0.25, np.float32)
    x[:, 0, 0] = 0.0
    x[:, 0, 1] = 1.0
    out = ops.convert_to_numpy(RandomGamma(0.5, seed=3)(x, training=True))
    # 0 and 1 are fixed points of x ** gamma.
    np.testing.assert_allclose(out[:, 0, 0], 0.0, atol=1e-7)
    np.testing.assert_allclose(out[:, 0, 1], 1.0, atol=1e-6)
    # One gamma per image: gamma = log(out) / log(0.25), the same at every pixel, in [1 / 1.5, 1.5].
    gamma = np.log(out[:, 1:, :, 0]) / math.log(0.25)
    np.testing.assert_allclose(gamma, np.broadcast_to(gamma[:, :1, :1], gamma.shape), rtol=1e-5)
    assert gamma.min() >= 1 / 1.5 - 1e-5 and gamma.max() <= 1.5 + 1e-5
    # log(gamma) is uniform in [-log 1.5, log 1.5]: both sides are drawn.
    assert (gamma < 0.9).any() and (gamma > 1.1).any()


def test_random_gamma_off_and_at_inference_is_the_identity():
    x = np.random.default_rng(0).uniform(size=(2, 5, 5, 1)).astype(np.float32)
    np.testing.assert_array_equal(ops.convert_to_numpy(RandomGamma(0.5)(x, training=False)), x)
    np.testing.assert_array_equal(ops.convert_to_numpy(RandomGamma(0.0)(x, training=True)), x)


def test_random_gamma_passes_masks_through_and_round_trips_its_config():
    x, y = _square_batch()
    out = RandomGamma(0.4, seed=1)({"images": x, "segmentation_masks": y}, training=True)
    np.testing.assert_array_equal(ops.convert_to_numpy(out["segmentation_masks"]), y)
    layer = RandomGamma.from_config(RandomGamma(0.4, seed=7).get_config())
    assert layer.factor == 0.4 and layer.seed == 7
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(RandomGamma(0.3)))
    assert isinstance(restored, RandomGamma) and restored.factor == 0.3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rotation_degrees": -1}, "rotation_degrees must be >= 0"),
        ({"zoom": 0.95}, "zoom must be >= 0 and at most 0.9"),
        ({"contrast": "a lot"}, "contrast must be a number"),
        ({"gamma": float("nan")}, "gamma must be >= 0"),
        ({"seed": -2}, "seed must be None or a non-negative integer"),
    ],
)
def test_bad_strengths_are_explained(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        build_augmentation(**kwargs)


def test_numpy_scalars_are_accepted():
    pipeline = build_augmentation(rotation_degrees=np.float32(5.0), zoom=np.float64(0.1), seed=np.int64(2))
    assert len(pipeline.layers) == 7


def test_geometric_layers_move_image_and_mask_together():
    x, y = _square_batch()
    pipeline = build_augmentation(contrast=0, brightness=0, gamma=0, blur_sigma=0, seed=4)
    assert [type(layer).__name__ for layer in pipeline.layers] == ["RandomRotation", "RandomZoom", "RandomTranslation"]
    out = pipeline({"images": x, "segmentation_masks": y}, training=True)
    image, mask = ops.convert_to_numpy(out["images"]), ops.convert_to_numpy(out["segmentation_masks"])
    assert not np.array_equal(mask, y)  # something moved
    for i in range(len(x)):
        moved = image[i, ..., 0] > 0.5
        overlap = (moved & (mask[i, ..., 0] > 0.5)).sum() / max((moved | (mask[i, ..., 0] > 0.5)).sum(), 1)
        assert overlap > 0.85
    # The masks stay binary (nearest-neighbour), and areas moved in from outside are black (constant fill 0).
    assert set(np.unique(mask)) <= {0.0, 1.0}


def test_intensity_layers_leave_masks_alone_and_stay_in_range():
    x = np.random.default_rng(1).uniform(size=(6, 16, 16, 1)).astype(np.float32)
    y = (x > 0.5).astype(np.float32)
    pipeline = build_augmentation(rotation_degrees=0, zoom=0, translation=0, seed=0)
    out = pipeline({"images": x, "segmentation_masks": y}, training=True)
    np.testing.assert_array_equal(ops.convert_to_numpy(out["segmentation_masks"]), y)
    image = ops.convert_to_numpy(out["images"])
    assert image.min() >= 0.0 and image.max() <= 1.0 + 1e-6
    assert not np.allclose(image, x)


def test_augmented_arrays_cover_every_image_once_per_epoch_and_reshuffle():
    images = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1) * np.ones((1, 4, 4, 1), np.float32)
    masks = np.zeros((10, 4, 4, 1), np.float32)
    batches = AugmentedArrays(images, masks, batch_size=4, seed=0)
    assert len(batches) == 3
    first = np.concatenate([batches[i][0][:, 0, 0, 0] for i in range(len(batches))])
    assert sorted(first.tolist()) == list(range(10))
    batches.on_epoch_end()
    second = np.concatenate([batches[i][0][:, 0, 0, 0] for i in range(len(batches))])
    assert sorted(second.tolist()) == list(range(10)) and not np.array_equal(first, second)


def test_augmented_arrays_validate_their_inputs():
    with pytest.raises(ValueError, match=r"images must have shape \(N, H, W, C\)"):
        AugmentedArrays(np.zeros((4, 8, 8)))
    with pytest.raises(ValueError, match="masks have shape"):
        AugmentedArrays(np.zeros((4, 8, 8, 1)), np.zeros((4, 6, 6, 1)))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        AugmentedArrays(np.zeros((4, 8, 8, 1)), batch_size=0)


def test_fit_runs_on_augmented_batches():
    x, y = _square_batch(8, 16)
    model = keras.Sequential(
        [keras.Input((16, 16, 1)), keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(AugmentedArrays(x, y, batch_size=4, pipeline=build_augmentation(seed=0)), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
