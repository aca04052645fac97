"""Metrics: DSC/IoU by hand and against sklearn/Keras, PSNR/SSIM/MS-SSIM against TensorFlow and scikit-image."""

import keras
import numpy as np
import pytest

from lecture_lib import metrics

RNG = np.random.default_rng(7)


def numpy_of(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def call(fn, *arrays, **options):
    """Evaluate `fn(*arrays, **options)`, compiled with `jax.jit` on JAX (much faster than eager op dispatch)."""
    if keras.backend.backend() == "jax":
        import jax

        return numpy_of(jax.jit(lambda *a: fn(*a, **options))(*arrays))
    return numpy_of(fn(*arrays, **options))


# ---------------------------------------------------------------------------------------------------- Dice and IoU


def test_dice_and_iou_by_hand():
    y_true = np.zeros((1, 4, 4, 1), "float32")
    y_true[0, :2, :2] = 1  # |X| = 4
    y_pred = np.zeros((1, 4, 4, 1), "float32")
    y_pred[0, :2, :1] = 0.9  # |Y| = 2 after thresholding, |X∩Y| = 2
    y_pred[0, 3, 3] = 0.8  # one false positive: |Y| = 3
    assert float(metrics.dice_coefficient(y_true, y_pred)[0]) == pytest.approx(2 * 2 / (4 + 3))
    assert float(metrics.iou_score(y_true, y_pred)[0]) == pytest.approx(2 / 5)
    assert float(metrics.dice_coefficient(y_true, y_pred, threshold=None)[0]) == pytest.approx(2 * 1.8 / (4 + 2.6))
    y_pred[0, 3, 3] = 0.5  # not strictly above the threshold
    assert float(metrics.dice_coefficient(y_true, y_pred)[0]) == pytest.approx(2 * 2 / 6)


def test_empty_masks_score_one_per_class():
    y_true = np.zeros((1, 3, 3, 2), "float32")
    y_pred = np.zeros((1, 3, 3, 2), "float32")
    y_pred[0, 0, 0, 1] = 0.9  # class 1: empty truth, one false pixel
    np.testing.assert_allclose(metrics.dice_coefficient(y_true, y_pred, average=None), [[1.0, 0.0]])
    np.testing.assert_allclose(metrics.iou_score(y_true, y_pred), [0.5])


def test_dice_is_f1_and_iou_is_jaccard_from_sklearn():
    from sklearn.metrics import f1_score, jaccard_score

    y_true = (RNG.random((3, 10, 10, 2)) > 0.6).astype("float32")
    y_pred = RNG.random((3, 10, 10, 2)).astype("float32")
    dice = numpy_of(metrics.dice_coefficient(y_true, y_pred, average=None))
    iou = numpy_of(metrics.iou_score(y_true, y_pred, average=None))
    for image in range(3):
        for c in range(2):
            truth, predicted = y_true[image, ..., c].ravel(), (y_pred[image, ..., c] > 0.5).ravel()
            assert dice[image, c] == pytest.approx(f1_score(truth, predicted), rel=1e-5)
            assert iou[image, c] == pytest.approx(jaccard_score(truth, predicted), rel=1e-5)


def test_iou_metric_agrees_with_keras_binary_iou_on_one_image():
    y_true = (RNG.random((1, 12, 12, 1)) > 0.5).astype("float32")
    y_pred = RNG.random((1, 12, 12, 1)).astype("float32")
    reference = keras.metrics.BinaryIoU(target_class_ids=[1], threshold=0.5)
    reference.update_state(y_true, y_pred)
    ours = metrics.IoUScore()
    ours.update_state(y_true, y_pred)
    assert float(ours.result()) == pytest.approx(float(reference.result()), rel=1e-5)


def test_dice_metric_averages_images_and_survives_compile_fit_and_config():
    y_true = (RNG.random((4, 8, 8, 2)) > 0.5).astype("float32")
    y_pred = RNG.random((4, 8, 8, 2)).astype("float32")
    metric = metrics.DiceCoefficient(threshold=0.3)
    metric.update_state(y_true[:1], y_pred[:1])
    metric.update_state(y_true[1:], y_pred[1:])
    expected = numpy_of(metrics.dice_coefficient(y_true, y_pred, threshold=0.3)).mean()
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5)
    clone = metrics.DiceCoefficient.from_config(metric.get_config())
    assert clone.threshold == 0.3 and clone.name == "dice_coefficient"

    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, padding="same", activation="sigmoid")(inputs))
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[metrics.DiceCoefficient(), metrics.IoUScore()])
    history = model.fit(RNG.random((4, 8, 8, 1)), y_true, epochs=1, batch_size=2, verbose=0)
    assert 0.0 <= history.history["dice_coefficient"][0] <= 1.0
    assert 0.0 <= history.history["iou_score"][0] <= 1.0


def test_dice_validates_inputs():
    with pytest.raises(ValueError, match=r"y_pred has shape \(1, 4, 4, 2\) but y_true has shape \(1, 4, 4, 1\)"):
        metrics.dice_coefficient(np.zeros((1, 4, 4, 1)), np.zeros((1, 4, 4, 2)))
    with pytest.raises(ValueError, match="threshold must be None .* got 1.5"):
        metrics.DiceCoefficient(threshold=1.5)
    with pytest.raises(ValueError, match="average"):
        metrics.iou_score(np.zeros((1, 4, 4, 1)), np.zeros((1, 4, 4, 1)), average="micro")


# ------------------------------------------------------------------------------------------- PSNR, SSIM, MS-SSIM


def noisy_pair(shape, noise=0.15):
    x = RNG.random(shape).astype("float32")
    return x, np.clip(x + noise * RNG.normal(size=shape), 0, 1).astype("float32")


def test_psnr_by_hand_and_against_tensorflow():
    import tensorflow as tf

    x = np.zeros((1, 2, 2, 1), "float32")
    y = np.full((1, 2, 2, 1), 0.1, "float32")  # MSE = 0.01 -> 20 dB
    assert float(metrics.psnr(x, y)[0]) == pytest.approx(20.0, rel=1e-5)
    a, b = noisy_pair((3, 16, 16, 2))
    np.testing.assert_allclose(numpy_of(metrics.psnr(a, b)), tf.image.psnr(a, b, 1.0).numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        numpy_of(metrics.psnr(a * 255, b * 255, max_val=255)), tf.image.psnr(a, b, 1.0).numpy(), rtol=1e-4
    )


def test_ssim_and_ms_ssim_match_tensorflow_to_1e4():
    import tensorflow as tf

    x, y = noisy_pair((2, 176, 167, 2))
    np.testing.assert_allclose(call(metrics.ssim, x, y), tf.image.ssim(x, y, 1.0).numpy(), atol=1e-4)
    np.testing.assert_allclose(call(metrics.ms_ssim, x, y), tf.image.ssim_multiscale(x, y, 1.0).numpy(), atol=1e-4)
    options = {"max_val": 2.0, "filter_size": 7, "filter_sigma": 1.0, "k1": 0.02, "k2": 0.05}
    expected = tf.image.ssim(x[:, :40, :40], y[:, :40, :40], **options).numpy()
    np.testing.assert_allclose(call(metrics.ssim, x[:, :40, :40], y[:, :40, :40], **options), expected, atol=1e-4)


def test_ssim_matches_scikit_image():
    from skimage.metrics import structural_similarity

    x, y = noisy_pair((1, 64, 64, 1))
    expected = structural_similarity(
        x[0, ..., 0], y[0, ..., 0], gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0
    )
    # scikit-image pads with reflection and crops a 5-pixel border afterwards; we (as TensorFlow) use only the
    # positions where the window fits, so the two agree closely but not exactly.
    assert float(call(metrics.ssim, x, y)[0]) == pytest.approx(expected, abs=5e-3)
    assert float(call(metrics.ssim, x, x)[0]) == pytest.approx(1.0, abs=1e-6)


def test_ms_ssim_minimum_size_and_fewer_scales():
    assert metrics.ms_ssim_min_size() == 161
    assert metrics.ms_ssim_min_size(3) == 41
    x, y = noisy_pair((1, 161, 161, 1))
    assert np.isfinite(call(metrics.ms_ssim, x, y)).all()
    with pytest.raises(ValueError, match=r"at least 161×161 pixels, got 160×161"):
        metrics.ms_ssim(x[:, :160], y[:, :160])
    with pytest.raises(ValueError, match="add a batch axis"):
        metrics.ssim(x[0], y[0])
    with pytest.raises(ValueError, match="at least filter_size=11 pixels"):
        metrics.ssim(x[:, :10], y[:, :10])


def test_psnr_and_ssim_metrics_average_images_and_round_trip_config():
    x, y = noisy_pair((3, 24, 24, 1))
    psnr_metric, ssim_metric = metrics.PSNRMetric(), metrics.SSIMMetric(filter_size=7)
    for metric in (psnr_metric, ssim_metric):
        metric.update_state(x, y)
    assert float(psnr_metric.result()) == pytest.approx(numpy_of(metrics.psnr(x, y)).mean(), rel=1e-5)
    assert float(ssim_metric.result()) == pytest.approx(numpy_of(metrics.ssim(x, y, filter_size=7)).mean(), rel=1e-5)
    assert metrics.SSIMMetric.from_config(ssim_metric.get_config()).options["filter_size"] == 7
    assert metrics.PSNRMetric.from_config(metrics.PSNRMetric(max_val=255).get_config()).max_val == 255


# ------------------------------------------------------------------------------------------ bad input (issue 16)


def test_soft_dice_refuses_8bit_masks_that_gave_a_score_above_one():
    mask = np.zeros((1, 4, 4, 1), "float32")
    mask[0, :2] = 255.0
    with pytest.raises(ValueError, match=r"y_true must hold values in \[0, 1\], got values from 0 to 255.*255"):
        metrics.dice_coefficient(mask, mask / 255.0, threshold=None)
    with pytest.raises(ValueError, match="y_true must hold values in"):
        metrics.iou_score(mask, mask / 255.0)


def test_dice_refuses_logits():
    logits = np.linspace(-3.0, 3.0, 16, dtype="float32").reshape(1, 4, 4, 1)
    with pytest.raises(ValueError, match=r"y_pred must hold values in \[0, 1\].*logits.*sigmoid"):
        metrics.dice_coefficient((logits > 0).astype("float32"), logits)


def test_ssim_and_psnr_refuse_8bit_images_with_max_val_one():
    # Two flat images 10 grey levels apart scored SSIM 0.997 with max_val=1.
    x = np.full((1, 16, 16, 1), 100.0, "float32")
    for fn in (metrics.ssim, metrics.psnr):
        with pytest.raises(ValueError, match="the images span 100 to 110, a range of 10, more than twice max_val=1"):
            fn(x, x + 10.0)
    # Flat images: only the luminance term (2·100·110 + C1) / (100² + 110² + C1) with C1 = (0.01·255)² is left
    # (up to float32 cancellation in the variances E[x²] - μ², about 1e-4 here).
    c1 = (0.01 * 255.0) ** 2
    expected = (2 * 100 * 110 + c1) / (100**2 + 110**2 + c1)
    assert float(metrics.ssim(x, x + 10.0, max_val=255.0)[0]) == pytest.approx(expected, rel=3e-4)
    with pytest.raises(ValueError, match="more than twice max_val=1"):
        metrics.SSIMMetric()(x, x + 10.0)
    # A [0, 1] image with noise overshooting its range a little (-0.15 to 1.09, as in notebook 05) is measured.
    noisy = np.linspace(-0.15, 1.09, 256, dtype="float32").reshape(1, 16, 16, 1)
    assert float(metrics.ssim(noisy, noisy)[0]) == pytest.approx(1.0)
    # Images in [-1, 1] (a tanh generator) have a range of 2.
    signed = np.linspace(-1.0, 1.0, 256, dtype="float32").reshape(1, 16, 16, 1)
    assert float(metrics.ssim(signed, signed, max_val=2.0)[0]) == pytest.approx(1.0)


def test_numpy_scalar_options_are_accepted():
    a, b = noisy_pair((1, 16, 16, 1))
    assert float(metrics.psnr(a, b, max_val=np.float32(1.0))[0]) == pytest.approx(float(metrics.psnr(a, b)[0]))
    assert metrics.SSIMMetric(filter_size=np.int64(7)).get_config()["filter_size"] == 7
    assert metrics.DiceCoefficient(threshold=np.float32(0.5)).get_config()["threshold"] == 0.5
    with pytest.raises(TypeError, match="max_val must be a positive number, got str '1'"):
        metrics.psnr(a, b, max_val="1")


def test_dice_metric_still_works_inside_fit():
    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(1, 1, activation="sigmoid")(inputs))
    model.compile("sgd", loss="binary_crossentropy", metrics=[metrics.DiceCoefficient(), metrics.IoUScore()])
    x = RNG.random((4, 8, 8, 1)).astype("float32")
    history = model.fit(x, (x > 0.5).astype("float32"), batch_size=2, epochs=1, verbose=0)
    assert 0.0 <= history.history["dice_coefficient"][0] <= 1.0
