"""Losses: the slide's formulas by hand, Keras and TensorFlow references, gradients, edge cases, save/load."""

import math

import keras
import numpy as np
import pytest

from lecture_lib import losses, metrics


def numpy_of(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def gradient(fn, x):
    """Gradient of `sum(fn(x))` with respect to `x` on the active backend."""
    x = np.asarray(x, "float32")
    if keras.backend.backend() == "jax":
        import jax

        # jit compiles the whole computation once; eager JAX dispatches (and compiles) every op separately.
        return np.asarray(jax.jit(jax.grad(lambda v: keras.ops.sum(fn(v))))(x))
    import tensorflow as tf

    variable = tf.Variable(x)
    with tf.GradientTape() as tape:
        value = keras.ops.sum(fn(variable))
    return tape.gradient(value, variable).numpy()


def call(fn, *arrays, **options):
    """Evaluate `fn(*arrays, **options)`, compiled with `jax.jit` on JAX (much faster than eager op dispatch)."""
    if keras.backend.backend() == "jax":
        import jax

        return numpy_of(jax.jit(lambda *a: fn(*a, **options))(*arrays))
    return numpy_of(fn(*arrays, **options))


def assert_useful_gradient(fn, x):
    grad = gradient(fn, x)
    assert np.all(np.isfinite(grad))
    assert np.any(np.abs(grad) > 1e-6)
    return grad


RNG = np.random.default_rng(6)


# -------------------------------------------------------------------------------------------------- classification


def test_slide_binary_crossentropy_formula_matches_keras():
    # Loss = Y(-log Ŷ) + (1 - Y)(-log(1 - Ŷ)), averaged over the outputs: Y = [1, 0], Ŷ = [0.9, 0.2].
    y_true = np.array([[1.0, 0.0]], "float32")
    y_pred = np.array([[0.9, 0.2]], "float32")
    by_hand = (-math.log(0.9) + -math.log(1 - 0.2)) / 2  # 0.16425
    assert float(keras.losses.BinaryCrossentropy()(y_true, y_pred)) == pytest.approx(by_hand, rel=1e-5)
    assert float(numpy_of(losses.binary_crossentropy_masked(y_true, y_pred))[0]) == pytest.approx(by_hand, rel=1e-5)


def test_slide_categorical_crossentropy_formula_matches_keras():
    # L = -Σ y_i log ŷ_i with one-hot y = class 1 and softmax output [0.2, 0.7, 0.1] -> -log 0.7.
    y_true = np.array([[0.0, 1.0, 0.0]], "float32")
    y_pred = np.array([[0.2, 0.7, 0.1]], "float32")
    assert float(keras.losses.CategoricalCrossentropy()(y_true, y_pred)) == pytest.approx(-math.log(0.7), rel=1e-5)
    assert float(keras.losses.SparseCategoricalCrossentropy()(np.array([1]), y_pred)) == pytest.approx(
        -math.log(0.7), rel=1e-5
    )


def test_masked_bce_equals_keras_without_nan_and_weights():
    y_true = (RNG.random((6, 15)) > 0.7).astype("float32")
    logits = RNG.normal(size=(6, 15)).astype("float32")
    probabilities = 1 / (1 + np.exp(-logits))
    expected = numpy_of(keras.losses.binary_crossentropy(y_true, probabilities))
    np.testing.assert_allclose(numpy_of(losses.binary_crossentropy_masked(y_true, probabilities)), expected, rtol=1e-5)
    from_logits = numpy_of(losses.binary_crossentropy_masked(y_true, logits, from_logits=True))
    np.testing.assert_allclose(from_logits, expected, rtol=1e-4)


def test_nan_labels_contribute_nothing_and_all_nan_row_is_zero():
    y_true = np.array([[1.0, np.nan, 0.0], [np.nan, np.nan, np.nan]], "float32")
    y_pred = np.array([[0.9, 0.01, 0.2], [0.3, 0.6, 0.9]], "float32")
    values = numpy_of(losses.binary_crossentropy_masked(y_true, y_pred))
    assert values[0] == pytest.approx((-math.log(0.9) - math.log(0.8)) / 2, rel=1e-5)
    assert values[1] == 0.0
    grad = gradient(lambda p: losses.binary_crossentropy_masked(y_true, p), y_pred)
    assert np.all(np.isfinite(grad))
    assert grad[0, 1] == 0.0 and np.all(grad[1] == 0.0)
    assert grad[0, 0] != 0.0
    batch = float(losses.WeightedBinaryCrossentropy()(y_true, y_pred))
    assert batch == pytest.approx(values.mean(), rel=1e-5)


def test_weighted_bce_by_hand():
    y_true = np.array([[1.0, 0.0]], "float32")
    y_pred = np.array([[0.9, 0.2]], "float32")
    loss = losses.WeightedBinaryCrossentropy(pos_weights=[2.0, 1.0], neg_weights=[1.0, 3.0])
    assert float(loss(y_true, y_pred)) == pytest.approx((2 * -math.log(0.9) + 3 * -math.log(0.8)) / 2, rel=1e-5)
    with pytest.raises(ValueError, match="3 entries but y_pred has 2 classes"):
        losses.binary_crossentropy_masked(y_true, y_pred, pos_weights=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"y_pred has shape \(1, 2\) but y_true has shape \(1, 3\)"):
        losses.binary_crossentropy_masked(np.zeros((1, 3)), y_pred)


def test_class_weights_from_labels_ratio_and_balanced():
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.array([[1, 0], [0, 0], [0, np.nan], [1, 1], [0, 0]], "float32")
    pos, neg = losses.class_weights_from_labels(labels)
    # class 0: 2 positives, 3 negatives; class 1 (one NaN skipped): 1 positive, 3 negatives.
    np.testing.assert_allclose(pos, [3 / 2, 3 / 1])
    np.testing.assert_allclose(neg, [1.0, 1.0])
    pos, neg = losses.class_weights_from_labels(labels, method="balanced")
    for c in range(2):
        known = labels[~np.isnan(labels[:, c]), c]
        w_neg, w_pos = compute_class_weight("balanced", classes=np.array([0.0, 1.0]), y=known)
        assert pos[c] == pytest.approx(w_pos) and neg[c] == pytest.approx(w_neg)
    assert losses.class_weights_from_labels(labels, max_weight=2.0)[0].max() == 2.0
    with pytest.warns(UserWarning, match=r"classes \[1\]"):
        pos, _ = losses.class_weights_from_labels(np.array([[1, 0], [0, 0]]))
    assert pos[1] == 1.0
    with pytest.raises(ValueError, match="-1"):
        losses.class_weights_from_labels(np.array([[1, -1]]))


# ---------------------------------------------------------------------------------------------------- segmentation


def test_dice_loss_by_hand():
    y_true = np.array([1, 1, 0, 0], "float32").reshape(1, 2, 2, 1)
    y_pred = np.array([1, 0.5, 0.5, 0], "float32").reshape(1, 2, 2, 1)
    # |X∩Y| = 1.5, |X| = 2, |Y| = 2: DSC = 3/4 without smoothing, (3 + 1)/(4 + 1) with s = 1.
    assert float(losses.dice_loss(y_true, y_pred, smooth=0.0)[0]) == pytest.approx(0.25)
    assert float(losses.dice_loss(y_true, y_pred)[0]) == pytest.approx(0.2)


def test_dice_loss_matches_keras_dice_per_class():
    y_true = (RNG.random((3, 16, 16, 2)) > 0.6).astype("float32")
    y_pred = RNG.random((3, 16, 16, 2)).astype("float32")
    per_class = [
        numpy_of(keras.losses.dice(y_true[..., c : c + 1], y_pred[..., c : c + 1], axis=(1, 2, 3))) for c in (0, 1)
    ]
    np.testing.assert_allclose(numpy_of(losses.dice_loss(y_true, y_pred, smooth=0.0)), np.mean(per_class, 0), rtol=1e-5)
    no_background = numpy_of(losses.dice_loss(y_true, y_pred, smooth=0.0, include_background=False))
    np.testing.assert_allclose(no_background, per_class[1], rtol=1e-5)
    logits = RNG.normal(size=(3, 16, 16, 2)).astype("float32")
    softmax = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(
        numpy_of(losses.dice_loss(y_true, logits, from_logits=True, mode="softmax")),
        numpy_of(losses.dice_loss(y_true, softmax)),
        rtol=1e-5,
    )


def test_dice_loss_on_empty_masks():
    empty = np.zeros((2, 4, 4, 1), "float32")
    assert np.all(numpy_of(losses.dice_loss(empty, empty)) == 0.0)
    assert np.all(numpy_of(losses.dice_loss(empty, empty, smooth=0.0)) == 0.0)
    # 16 pixels at 0.5: Σŷ = 8, so DSC = (0 + 1) / (8 + 1).
    half = np.full((2, 4, 4, 1), 0.5, "float32")
    np.testing.assert_allclose(numpy_of(losses.dice_loss(empty, half)), 1 - 1 / 9, rtol=1e-6)
    assert_useful_gradient(lambda p: losses.dice_loss(empty, p), half)
    grad = gradient(lambda p: losses.dice_loss(empty, p, smooth=0.0), empty)
    assert np.all(np.isfinite(grad))


def test_combined_loss_is_weighted_sum_of_keras_crossentropy_and_dice():
    y_true = (RNG.random((2, 8, 8, 3)) > 0.5).astype("float32")
    y_pred = RNG.uniform(0.05, 0.95, (2, 8, 8, 3)).astype("float32")
    bce = numpy_of(keras.losses.binary_crossentropy(y_true, y_pred)).mean(axis=(1, 2))
    dice = numpy_of(losses.dice_loss(y_true, y_pred))
    loss = losses.CombinedCrossentropyDiceLoss(crossentropy_weight=0.3, dice_weight=2.0, reduction=None)
    np.testing.assert_allclose(numpy_of(loss(y_true, y_pred)), 0.3 * bce + 2.0 * dice, rtol=1e-5)
    one_hot = np.eye(3, dtype="float32")[RNG.integers(0, 3, (2, 8, 8))]
    softmax = y_pred / y_pred.sum(-1, keepdims=True)
    cce = numpy_of(keras.losses.categorical_crossentropy(one_hot, softmax)).mean(axis=(1, 2))
    combined = losses.crossentropy_dice_loss(one_hot, softmax, mode="softmax")
    np.testing.assert_allclose(numpy_of(combined), cce + numpy_of(losses.dice_loss(one_hot, softmax)), rtol=1e-5)


def test_segmentation_losses_validate_inputs():
    with pytest.raises(ValueError, match=r"y_pred has shape \(1, 4, 4, 3\) but y_true has shape \(1, 4, 4, 1\)"):
        losses.dice_loss(np.zeros((1, 4, 4, 1)), np.zeros((1, 4, 4, 3)))
    with pytest.raises(ValueError, match="'tanh'"):
        losses.DiceLoss(mode="tanh")
    with pytest.raises(ValueError, match="smooth must be a non-negative number, got -1"):
        losses.dice_loss(np.zeros((1, 4, 4, 1)), np.zeros((1, 4, 4, 1)), smooth=-1)
    with pytest.raises(ValueError, match="single channel"):
        losses.dice_loss(np.zeros((1, 4, 4, 1)), np.zeros((1, 4, 4, 1)), include_background=False)


# --------------------------------------------------------------------------------------------- detection/landmarks


def test_wing_loss_formula_by_hand():
    w, eps = 10.0, 2.0
    c = w - w * math.log(1 + w / eps)  # -7.9176
    y_true = np.zeros((1, 3), "float32")
    y_pred = np.array([[1.0, -12.0, 10.0]], "float32")
    expected = (w * math.log(1 + 1 / eps) + (12 - c) + (10 - c)) / 3
    assert float(losses.wing_loss(y_true, y_pred)[0]) == pytest.approx(expected, rel=1e-6)
    # continuous at |x| = w: the log piece at w equals the linear piece at w.
    assert w * math.log(1 + w / eps) == pytest.approx(w - c)
    assert float(losses.WingLoss(width=1.0, curvature=0.5)(y_true[:, :1], [[0.5]])) == pytest.approx(math.log(2.0))


def test_wing_loss_skips_absent_landmarks():
    y_true = np.array([[[10.0, 20.0], [np.nan, np.nan]], [[np.nan, np.nan], [np.nan, np.nan]]], "float32")
    y_pred = np.array([[[11.0, 20.0], [50.0, 50.0]], [[1.0, 2.0], [3.0, 4.0]]], "float32")
    values = numpy_of(losses.wing_loss(y_true, y_pred))
    assert values[0] == pytest.approx(10 * math.log(1.5) / 2, rel=1e-6)
    assert values[1] == 0.0
    grad = gradient(lambda p: losses.wing_loss(y_true, p), y_pred)
    assert np.all(np.isfinite(grad)) and grad[0, 0, 0] > 0 and np.all(grad[1] == 0)


DETECTION_TRUE = np.array([[1, 0.5, 0.5, 0.2, 0.3, 0, 1], [0, 0, 0, 0, 0, 0, 0]], "float32")
DETECTION_PRED = np.array([[0.8, 0.4, 0.5, 0.2, 0.5, 0.25, 0.75], [0.3, 0.9, 0.1, 0.7, 0.4, 0.5, 0.5]], "float32")


@pytest.mark.parametrize(
    ("box_loss", "box_value"),
    [
        ("mse", (0.1**2 + 0.2**2) / 4),
        ("mae", (0.1 + 0.2) / 4),
        ("wing", (0.1 + 0.2 - 2 * (0.05 - 0.05 * math.log(1 + 0.05 / 0.01))) / 4),
    ],
)
def test_detection_loss_by_hand(box_loss, box_value):
    # Pc = 1: BCE(-log 0.8) + box + CE(-log 0.75). Pc = 0: only BCE(-log(1 - 0.3)).
    values = numpy_of(losses.detection_loss(DETECTION_TRUE, DETECTION_PRED, box_loss=box_loss))
    assert values[0] == pytest.approx(-math.log(0.8) + box_value - math.log(0.75), rel=1e-5)
    assert values[1] == pytest.approx(-math.log(0.7), rel=1e-5)
    weighted = losses.DetectionLoss(
        box_loss=box_loss, presence_weight=2, box_weight=3, class_weight=0.5, no_object_weight=0.1, reduction=None
    )(DETECTION_TRUE, DETECTION_PRED)
    expected = [2 * -math.log(0.8) + 3 * box_value + 0.5 * -math.log(0.75), 2 * 0.1 * -math.log(0.7)]
    np.testing.assert_allclose(numpy_of(weighted), expected, rtol=1e-5)


def test_detection_loss_gives_no_gradient_to_boxes_and_classes_without_object():
    grad = assert_useful_gradient(lambda p: losses.detection_loss(DETECTION_TRUE, p), DETECTION_PRED)
    assert grad[1, 0] != 0 and np.all(grad[1, 1:] == 0)
    assert np.all(grad[0, [1, 4]] != 0)


def test_detection_loss_from_logits_and_without_classes():
    logits = np.array([[0.7, 0.4, 0.5, 0.2, 0.5, -1.0, 1.0]], "float32")
    probabilities = logits.copy()
    probabilities[0, 0] = 1 / (1 + math.exp(-0.7))
    probabilities[0, 5:] = np.exp([-1.0, 1.0]) / np.exp([-1.0, 1.0]).sum()
    np.testing.assert_allclose(
        numpy_of(losses.detection_loss(DETECTION_TRUE[:1], logits, from_logits=True)),
        numpy_of(losses.detection_loss(DETECTION_TRUE[:1], probabilities)),
        rtol=1e-5,
    )
    no_classes = numpy_of(losses.detection_loss(DETECTION_TRUE[:1, :5], DETECTION_PRED[:1, :5]))
    assert no_classes[0] == pytest.approx(-math.log(0.8) + (0.1**2 + 0.2**2) / 4, rel=1e-5)
    with pytest.raises(ValueError, match="box_loss must be one of"):
        losses.DetectionLoss(box_loss="huber")
    with pytest.raises(ValueError, match=r"at least 5 values\), got shape \(2, 4\)"):
        losses.detection_loss(np.zeros((2, 4)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="use grid_detection_loss"):
        losses.detection_loss(np.zeros((1, 2, 2, 6)), np.zeros((1, 2, 2, 6)))


def test_grid_detection_loss_sums_cells_with_yolo_weights():
    y_true = np.zeros((1, 2, 2, 7), "float32")
    y_pred = np.zeros((1, 2, 2, 7), "float32")
    y_true[0, 1, 0] = DETECTION_TRUE[0]
    y_pred[0, 1, 0] = DETECTION_PRED[0]
    y_pred[0, :, :, 0] = np.where(y_true[0, :, :, 0] == 1, 0.8, 0.3)
    y_pred[0, 0, 0, 1:] = 0.9  # garbage box and classes in an empty cell are ignored
    object_cell = -math.log(0.8) + 5 * (0.1**2 + 0.2**2) / 4 - math.log(0.75)
    expected = object_cell + 3 * 0.5 * -math.log(0.7)
    assert float(losses.grid_detection_loss(y_true, y_pred)[0]) == pytest.approx(expected, rel=1e-5)
    assert float(losses.GridDetectionLoss()(y_true, y_pred)) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="use detection_loss"):
        losses.grid_detection_loss(DETECTION_TRUE, DETECTION_PRED)


# ------------------------------------------------------------------------------------------------------ generation


def test_ssim_losses_match_tensorflow():
    # Full-size (5-scale) agreement is pinned in test_metrics.py; here the loss wrappers on 3 scales.
    import tensorflow as tf

    x = RNG.random((2, 48, 45, 1)).astype("float32")
    y = np.clip(x + 0.1 * RNG.normal(size=x.shape), 0, 1).astype("float32")
    np.testing.assert_allclose(call(losses.ssim_loss, x, y), 1 - tf.image.ssim(x, y, 1.0).numpy(), atol=1e-4)
    factors = (0.2, 0.3, 0.5)
    expected = 1 - tf.image.ssim_multiscale(x, y, 1.0, power_factors=factors).numpy()
    np.testing.assert_allclose(call(losses.ms_ssim_loss, x, y, power_factors=factors), expected, atol=1e-4)
    loss = losses.MSSSIMLoss(power_factors=factors, reduction=None)
    np.testing.assert_allclose(call(loss, x, y), expected, atol=1e-4)
    np.testing.assert_allclose(call(losses.ssim_loss, x, x), 0.0, atol=1e-6)


def test_ms_ssim_loss_explains_minimum_size():
    with pytest.raises(ValueError, match=r"at least 161×161 pixels, got 64×64.*41 px"):
        losses.ms_ssim_loss(np.zeros((1, 64, 64, 1)), np.zeros((1, 64, 64, 1)))
    with pytest.raises(ValueError, match="power_factors"):
        losses.MSSSIMLoss(power_factors=())


# -------------------------------------------------------------------------------------- gradients and save/load


def _random_inputs(name):
    images = RNG.random((2, 48, 48, 1)).astype("float32")
    masks = (RNG.random((2, 12, 12, 2)) > 0.5).astype("float32")
    return {
        "bce": ((RNG.random((3, 4)) > 0.5).astype("float32"), RNG.uniform(0.1, 0.9, (3, 4))),
        "dice": (masks, RNG.uniform(0.1, 0.9, masks.shape)),
        "combined": (masks, RNG.uniform(0.1, 0.9, masks.shape)),
        "wing": (RNG.normal(size=(2, 5, 2)), RNG.normal(size=(2, 5, 2))),
        "detection": (DETECTION_TRUE, DETECTION_PRED),
        "grid": (np.stack([np.zeros((2, 2, 7)), np.ones((2, 2, 7))]), RNG.uniform(0.1, 0.9, (2, 2, 2, 7))),
        "ssim": (images, np.clip(images + 0.1 * RNG.normal(size=images.shape), 0, 1)),
        "ms_ssim": (images, np.clip(images + 0.1 * RNG.normal(size=images.shape), 0, 1)),
    }[name]


LOSS_CLASSES = {
    "bce": lambda: losses.WeightedBinaryCrossentropy(pos_weights=[1.0, 2.0, 3.0, 4.0], neg_weights=0.5),
    "dice": lambda: losses.DiceLoss(smooth=0.5, include_background=False),
    "combined": lambda: losses.CombinedCrossentropyDiceLoss(crossentropy_weight=0.5, mode="softmax"),
    "wing": lambda: losses.WingLoss(width=5.0, curvature=1.0),
    "detection": lambda: losses.DetectionLoss(box_loss="wing", box_weight=2.0),
    "grid": lambda: losses.GridDetectionLoss(box_loss="mae"),
    "ssim": lambda: losses.SSIMLoss(filter_size=7),
    "ms_ssim": lambda: losses.MSSSIMLoss(power_factors=(0.5, 0.5), filter_size=7),
}


@pytest.mark.parametrize("name", list(LOSS_CLASSES))
def test_gradients_are_finite_and_non_zero(name):
    y_true, y_pred = _random_inputs(name)
    loss = LOSS_CLASSES[name]()
    assert_useful_gradient(lambda p: loss(y_true, p), y_pred)


LOSS_FUNCTIONS = {
    "bce": losses.binary_crossentropy_masked,
    "dice": losses.dice_loss,
    "combined": losses.crossentropy_dice_loss,
    "wing": losses.wing_loss,
    "detection": losses.detection_loss,
    "grid": losses.grid_detection_loss,
    "ssim": losses.ssim_loss,
    "ms_ssim": losses.ms_ssim_loss,
}


@pytest.mark.parametrize("name", list(LOSS_CLASSES))
def test_each_class_is_its_function_with_the_options_stored_once(name):
    loss = LOSS_CLASSES[name]()
    assert isinstance(loss, losses.LossFunctionWrapper) and loss.fn is LOSS_FUNCTIONS[name]
    y_true, y_pred = _random_inputs(name)
    per_sample = numpy_of(LOSS_FUNCTIONS[name](y_true, y_pred, **loss.options))
    assert float(loss(y_true, y_pred)) == pytest.approx(float(per_sample.mean()), rel=1e-5)
    config = loss.get_config()
    assert "fn" not in config and {key: config[key] for key in loss.options} == loss.options
    rebuilt = type(loss).from_config(config)
    assert rebuilt.options == loss.options and rebuilt.name == loss.name


@pytest.mark.parametrize("make", [lambda v: losses.DiceLoss(from_logits=v), lambda v: losses.WingLoss(width=v)])
def test_loss_options_of_the_wrong_kind_are_refused(make):
    with pytest.raises(TypeError, match="from_logits must be True or False, got str 'False'|width"):
        make("False")


def _tiny_model(name):
    if name in ("dice", "combined", "ssim", "ms_ssim"):
        channels = 1 if name.endswith("ssim") else 2
        size = 48 if name.endswith("ssim") else 12
        inputs = keras.Input((size, size, 1))
        activation = "softmax" if name == "combined" else "sigmoid"
        return keras.Model(inputs, keras.layers.Conv2D(channels, 3, padding="same", activation=activation)(inputs))
    units = {"bce": 4, "wing": 10, "detection": 7}.get(name)
    if name == "grid":
        inputs = keras.Input((4, 4, 1))
        return keras.Model(inputs, keras.layers.Conv2D(7, 2, strides=2, activation="sigmoid")(inputs))
    inputs = keras.Input((6,))
    outputs = keras.layers.Dense(units, activation=None if name == "wing" else "sigmoid")(inputs)
    if name == "wing":
        outputs = keras.layers.Reshape((5, 2))(outputs)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("name", list(LOSS_CLASSES))
def test_model_compiled_with_loss_saves_and_loads(name, tmp_path):
    model = _tiny_model(name)
    loss = LOSS_CLASSES[name]()
    model.compile(optimizer="sgd", loss=loss)
    x = RNG.random((2, *model.input_shape[1:])).astype("float32")
    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_array_equal(numpy_of(restored.predict(x, verbose=0)), numpy_of(model.predict(x, verbose=0)))
    assert type(restored.loss) is type(loss)
    assert restored.loss.get_config() == loss.get_config()
    y_true, _ = _random_inputs(name)
    y_pred = model.predict(x, verbose=0)
    assert float(restored.loss(y_true[: len(y_pred)], y_pred)) == pytest.approx(
        float(loss(y_true[: len(y_pred)], y_pred))
    )


@pytest.mark.parametrize(
    "loss",
    [losses.DiceLoss(), losses.CombinedCrossentropyDiceLoss(), losses.WeightedBinaryCrossentropy()],
    ids=["dice", "ce+dice", "weighted-bce"],
)
def test_fit_with_a_smaller_last_batch(loss):
    # 10 samples in batches of 4: the last batch has 2, so the batch axis is unknown when the graph is traced.
    rng = np.random.default_rng(0)
    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 1, activation="sigmoid")(inputs))
    model.compile("adam", loss=loss, metrics=[metrics.DiceCoefficient()])
    x = rng.uniform(size=(10, 8, 8, 1)).astype("float32")
    y = (rng.uniform(size=(10, 8, 8, 2)) > 0.5).astype("float32")
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# ------------------------------------------------------------------------------------------ bad input (issue 16)

MASKS_255 = np.zeros((1, 4, 4, 1), "float32")
MASKS_255[0, :2] = 255.0  # an 8-bit PNG mask read as is; the soft Dice of it came out as -0.003
LOGITS = np.linspace(-6.0, 6.0, 16, dtype="float32").reshape(1, 4, 4, 1)  # gave Dice losses outside [0, 1]


def test_dice_losses_refuse_masks_outside_zero_one():
    probabilities = np.full((1, 4, 4, 1), 0.5, "float32")
    for loss in (losses.dice_loss, losses.crossentropy_dice_loss, losses.DiceLoss()):
        with pytest.raises(ValueError, match=r"y_true must hold values in \[0, 1\], got values from 0 to 255.*255"):
            loss(MASKS_255, probabilities)


@pytest.mark.parametrize(
    "loss",
    [losses.dice_loss, losses.crossentropy_dice_loss, losses.binary_crossentropy_masked],
    ids=["dice", "ce+dice", "masked-bce"],
)
def test_logits_without_from_logits_are_refused_and_accepted_with_it(loss):
    masks = (LOGITS > 0).astype("float32")
    with pytest.raises(
        ValueError, match=r"y_pred must hold values in \[0, 1\], got values from -6 to 6.*from_logits=True"
    ):
        loss(masks, LOGITS)
    values = numpy_of(loss(masks, LOGITS, from_logits=True))
    assert np.all(np.isfinite(values)) and np.all(values >= 0)


def test_loss_classes_refuse_logits_too():
    masks = (LOGITS > 0).astype("float32")
    with pytest.raises(ValueError, match="from_logits=True"):
        losses.DiceLoss()(masks, LOGITS)
    assert 0.0 <= float(losses.DiceLoss(from_logits=True)(masks, LOGITS)) <= 1.0


def test_masked_bce_refuses_chexpert_uncertain_labels():
    with pytest.raises(ValueError, match=r"y_true must hold values in \[0, 1\], got values from -1 to 1.*-1 to NaN"):
        losses.binary_crossentropy_masked(np.array([[1.0, -1.0, np.nan]]), np.full((1, 3), 0.5))
    # NaN marks an unknown label and passes.
    assert np.isfinite(numpy_of(losses.binary_crossentropy_masked(np.array([[1.0, np.nan]]), np.full((1, 2), 0.5))))


def test_detection_losses_refuse_logits_without_from_logits():
    logits = DETECTION_PRED.copy()
    logits[:, 0] = [2.0, -1.5]  # a Pc logit
    with pytest.raises(ValueError, match="y_pred's Pc must hold values in.*from_logits=True"):
        losses.detection_loss(DETECTION_TRUE, logits)
    class_logits = DETECTION_PRED.copy()
    class_logits[:, 5:] = [[3.0, -2.0], [0.5, 0.5]]
    with pytest.raises(ValueError, match="y_pred's class part must hold values in"):
        losses.DetectionLoss()(DETECTION_TRUE, class_logits)
    assert np.all(np.isfinite(numpy_of(losses.detection_loss(DETECTION_TRUE, logits, from_logits=True))))
    # Box outputs are regressions, not probabilities: values outside [0, 1] are the model's business.
    boxes_out = DETECTION_PRED.copy()
    boxes_out[:, 1:5] = 1.5
    assert np.all(np.isfinite(numpy_of(losses.detection_loss(DETECTION_TRUE, boxes_out))))


def test_ssim_losses_refuse_8bit_images_with_max_val_one():
    images = np.full((1, 16, 16, 1), 100.0, "float32")
    with pytest.raises(ValueError, match="span 100 to 110.*more than twice max_val=1; .*max_val=255"):
        losses.ssim_loss(images, images + 10.0, filter_size=7)
    assert float(numpy_of(losses.ssim_loss(images, images + 10.0, max_val=255.0, filter_size=7))[0]) > 0.0


def test_numpy_scalars_are_accepted_and_stored_as_python_numbers():
    loss = losses.DiceLoss(smooth=np.float32(1.0))
    assert loss.get_config()["smooth"] == 1.0 and type(loss.get_config()["smooth"]) is float
    assert losses.WingLoss(width=np.float32(5.0), curvature=np.int64(1)).get_config()["curvature"] == 1.0
    assert losses.SSIMLoss(max_val=np.float32(255.0), filter_size=np.int64(7)).get_config()["filter_size"] == 7
    pos, _ = losses.class_weights_from_labels(np.array([[1.0], [0.0], [0.0]]), max_weight=np.float32(1.5))
    assert pos[0] == pytest.approx(1.5)
    with pytest.raises(TypeError, match="smooth must be a non-negative number, got str '1'"):
        losses.DiceLoss(smooth="1")


@pytest.mark.parametrize("run_eagerly", [False, True], ids=["traced", "eager"])
@pytest.mark.parametrize("name", ["bce", "dice", "combined", "detection", "grid", "ssim"])
def test_models_compiled_with_the_losses_still_train(name, run_eagerly):
    # Traced, the value checks see symbolic tensors and step aside; eager, they see valid values and pass.
    model = _tiny_model(name)
    model.compile(optimizer="sgd", loss=LOSS_CLASSES[name](), run_eagerly=run_eagerly)
    x = RNG.random((2, *model.input_shape[1:])).astype("float32")
    y_true, _ = _random_inputs(name)
    history = model.fit(x, y_true[:2].astype("float32"), epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
