"""Tests of the classification, segmentation and generation builders (lecture_lib.models), on small shapes."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pytest

from lecture_lib import labels
from lecture_lib.models import (
    build_bone_suppression_unet,
    build_cnn_classifier,
    build_conditional_vae,
    build_resnet,
    build_unet,
    grad_cam,
    resnet_layer_table,
    sample,
)

RNG = np.random.default_rng(0)


def fit_lowers_loss_and_round_trips(model, x, y, loss, tmp_path, epochs=8, learning_rate=1e-2):
    """Train a few full-batch epochs (loss must fall), then check `.keras` save -> load predicts identically."""
    keras.utils.set_random_seed(0)
    # XLA compilation costs more than these few steps on a CPU.
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, jit_compile=False)
    history = model.fit(x, y, epochs=epochs, batch_size=len(x if not isinstance(x, list) else x[0]), verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0], f"{model.name}: loss did not fall: {losses}"
    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.name == model.name
    before, after = model.predict(x, verbose=0), loaded.predict(x, verbose=0)
    for a, b in zip(keras.tree.flatten(before), keras.tree.flatten(after), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)
    return loaded


# --- classification ---------------------------------------------------------------------------------------------


def test_resnet34_has_the_published_parameter_count():
    model = build_resnet(34, input_shape=(224, 224, 3), num_classes=1000)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 21_797_672  # torchvision resnet34
    assert model.name == "resnet34" and tuple(model.output.shape) == (None, 1000)
    table = resnet_layer_table(model)
    assert int(table.counts_as_layer.sum()) == 34
    assert int(table.params.sum()) == 21_797_672
    assert table.slide.iloc[0] == "7x7 conv, 64, /2" and table.slide.iloc[1] == "pool, /2"
    assert table.slide.tolist().count("3x3 conv, 128, /2") == 1
    assert table.slide.tolist().count("3x3 conv, 64") == 6
    assert table.slide.str.endswith("(shortcut)").sum() == 3
    assert table.slide.iloc[-1] == "fc 1000" and table.output_shape.iloc[-2] == (512,)


def test_resnet18_has_the_published_parameter_count():
    model = build_resnet(18, input_shape=(224, 224, 3), num_classes=1000)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 11_689_512  # torchvision resnet18
    assert int(resnet_layer_table(model).counts_as_layer.sum()) == 18


def test_resnet_small_chest_xray_variant_trains_and_round_trips(tmp_path):
    model = build_resnet(10, input_shape=(32, 32, 1), num_classes=15, head="multilabel", filters=4)
    x = RNG.uniform(size=(8, 32, 32, 1)).astype("float32")
    y = (RNG.uniform(size=(8, 15)) > 0.7).astype("float32")
    assert tuple(model.predict(x, verbose=0).shape) == (8, 15)
    fit_lowers_loss_and_round_trips(model, x, y, "binary_crossentropy", tmp_path)


def test_resnet_rejects_unknown_depth_and_bad_size():
    with pytest.raises(ValueError, match="depth must be one of"):
        build_resnet(50)
    with pytest.raises(ValueError, match="multiples of 32"):
        build_resnet(18, input_shape=(100, 100, 1))


def test_cnn_classifier_parameter_count_by_hand():
    model = build_cnn_classifier((16, 16, 1), num_classes=3, filters=4, depth=2, dropout=0.0)
    # conv 3x3 1->4 (no bias) + BN (4 x 4 values), conv 3x3 4->8 + BN (4 x 8), dense 8->3 with bias.
    assert model.count_params() == (9 * 4 + 16) + (9 * 4 * 8 + 32) + (8 * 3 + 3)
    assert tuple(model.output.shape) == (None, 3) and model.name == "cnn_classifier"


def test_cnn_classifier_heads_follow_the_slide_table(tmp_path):
    x = RNG.uniform(size=(6, 16, 16, 1)).astype("float32")
    multilabel = build_cnn_classifier((16, 16, 1), num_classes=4, filters=4, depth=2, head="multilabel")
    multiclass = build_cnn_classifier((16, 16, 1), num_classes=4, filters=4, depth=2, head="multiclass")
    p_sigmoid, p_softmax = multilabel.predict(x, verbose=0), multiclass.predict(x, verbose=0)
    assert np.all((p_sigmoid > 0) & (p_sigmoid < 1))
    np.testing.assert_allclose(p_softmax.sum(axis=1), 1.0, rtol=1e-5)
    assert multilabel.get_layer("predictions").activation.__name__ == "sigmoid"
    y = keras.utils.to_categorical(np.arange(6) % 4, 4)
    fit_lowers_loss_and_round_trips(multiclass, x, y, "categorical_crossentropy", tmp_path)
    with pytest.raises(ValueError, match="head must be one of"):
        build_cnn_classifier(head="softmax")
    with pytest.raises(ValueError, match="multiples of 16"):
        build_cnn_classifier((100, 100, 1))


def _mean_model(dense_kernel):
    """features = image (1x1 conv, kernel 1), score = mean(features) @ dense_kernel: Grad-CAM is known by hand."""
    inputs = keras.Input((8, 8, 1))
    features = keras.layers.Conv2D(1, 1, use_bias=False, kernel_initializer="ones", name="features")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    init = keras.initializers.Constant(dense_kernel)
    logits = keras.layers.Dense(len(dense_kernel[0]), kernel_initializer=init, name="logits")(pooled)
    return keras.Model(inputs, keras.layers.Activation("softmax", name="predictions")(logits))


def test_grad_cam_hand_computed():
    model = _mean_model([[1.0, -1.0]])
    images = RNG.uniform(size=(2, 8, 8, 1)).astype("float32")
    # dy0/dA = 1/64 everywhere -> alpha = 1/64 -> CAM = ReLU(A)/64, normalized by its maximum: image / max.
    cam = grad_cam(model, images, class_index=0)
    expected = images[..., 0] / images.max(axis=(1, 2, 3))[:, None, None]
    np.testing.assert_allclose(cam, expected, rtol=1e-5, atol=1e-6)
    # Class 1 has weight -1: no positive evidence anywhere, the CAM is all zeros.
    np.testing.assert_array_equal(grad_cam(model, images, class_index=1), np.zeros((2, 8, 8), "float32"))
    # Default: each image's top class (class 0 for a positive image, since logits are +mean and -mean).
    np.testing.assert_allclose(grad_cam(model, images), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="out of range"):
        grad_cam(model, images, class_index=2)


def test_grad_cam_on_a_cnn_classifier_has_image_shape_and_unit_range():
    model = build_cnn_classifier((32, 32, 1), num_classes=3, filters=4, depth=2)
    cam = grad_cam(model, RNG.uniform(size=(3, 32, 32, 1)), class_index=[0, 1, 2])
    assert cam.shape == (3, 32, 32) and cam.dtype == np.float32
    assert cam.min() >= 0 and cam.max() <= 1 + 1e-6


def _sum_backbone(input_shape=(8, 8, 3)):
    """A hand-checkable backbone: one 1x1 convolution with kernel 1 and no bias, the sum of the channels."""
    inputs = keras.Input(input_shape)
    features = keras.layers.Conv2D(1, 1, use_bias=False, kernel_initializer="ones", name="sum")(inputs)
    return keras.Model(inputs, features, name="sum_backbone")


def test_cnn_classifier_on_a_keras_applications_backbone():
    backbone = keras.applications.MobileNetV3Small(input_shape=(64, 64, 3), include_top=False, weights=None)
    model = build_cnn_classifier((64, 64, 1), num_classes=4, backbone=backbone, input_range=(0, 255), dropout=0.0)
    names = [layer.name for layer in model.layers]
    assert names == [
        "image", "grey_to_rgb", "backbone_input_range", "MobileNetV3Small", "backbone_features", "avg_pool", "logits",
        "predictions",
    ]  # fmt: skip
    assert tuple(model.output.shape) == (None, 4) and model.get_layer("predictions").activation.__name__ == "sigmoid"
    features = backbone.output.shape[-1]  # 576 for MobileNetV3Small
    assert model.count_params() == backbone.count_params() + features * 4 + 4
    x = RNG.uniform(size=(2, 64, 64, 1)).astype("float32")
    # Grey repeated into three equal channels, then [0, 1] -> [0, 255] as MobileNetV3 expects.
    rgb = keras.Model(model.input, model.get_layer("grey_to_rgb").output)(x)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(rgb), np.concatenate([x, x, x], axis=-1))
    scaled = keras.Model(model.input, model.get_layer("backbone_input_range").output)(x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(scaled), 255.0 * np.concatenate([x, x, x], -1), rtol=1e-6)
    maps = keras.Model(model.input, model.get_layer("backbone_features").output)(x)
    direct = backbone(255.0 * np.concatenate([x, x, x], axis=-1), training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(maps), keras.ops.convert_to_numpy(direct), rtol=1e-5)
    # grad_cam defaults to the backbone's feature maps (the nested backbone's own layers are not the outer graph's).
    cam = grad_cam(model, x, class_index=1)
    assert cam.shape == (2, 64, 64) and cam.min() >= 0 and cam.max() <= 1 + 1e-6
    np.testing.assert_array_equal(cam, grad_cam(model, x, class_index=1, layer_name="backbone_features"))


def test_cnn_classifier_freeze_backbone_leaves_only_the_head_trainable():
    backbone = keras.applications.MobileNetV3Small(input_shape=(64, 64, 3), include_top=False, weights=None)
    trainable = len(backbone.trainable_weights)
    model = build_cnn_classifier((64, 64, 3), num_classes=4, backbone=backbone)
    assert "grey_to_rgb" not in [layer.name for layer in model.layers]  # an RGB image goes in as it is
    model_trainable = len(model.trainable_weights)
    assert trainable > 0 and model_trainable == trainable + 2  # + the logits kernel and bias
    frozen = build_cnn_classifier((64, 64, 3), num_classes=4, backbone=backbone, freeze_backbone=True)
    assert backbone.trainable is False
    assert [w.path for w in frozen.trainable_weights] == ["logits/kernel", "logits/bias"]
    assert sum(int(np.prod(w.shape)) for w in frozen.trainable_weights) == backbone.output.shape[-1] * 4 + 4


def test_cnn_classifier_backbone_grad_cam_hand_computed_and_round_trip(tmp_path):
    # Grey x -> (x, x, x) -> the backbone sums the channels: A = 3x; score_0 = mean(A), so alpha = 3/64 > 0 and the
    # CAM is A / max(A) = x / max(x), as in test_grad_cam_hand_computed.
    model = build_cnn_classifier((8, 8, 1), num_classes=2, backbone=_sum_backbone(), head="multiclass", dropout=0.0)
    logits = model.get_layer("logits")
    logits.set_weights([np.array([[1.0, -1.0]], "float32"), np.zeros(2, "float32")])
    images = RNG.uniform(size=(2, 8, 8, 1)).astype("float32")
    expected = images[..., 0] / images.max(axis=(1, 2, 3))[:, None, None]
    np.testing.assert_allclose(grad_cam(model, images, class_index=0), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(grad_cam(model, images, class_index=1), np.zeros((2, 8, 8), "float32"))
    # Dense on mean(3x): logits (3m, -3m) for m the image mean.
    mean = images.mean(axis=(1, 2, 3))
    expected_probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(np.stack([3 * mean, -3 * mean], -1)))
    np.testing.assert_allclose(model.predict(images, verbose=0), expected_probabilities, rtol=1e-5)
    path = tmp_path / "backbone_classifier.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), expected_probabilities, rtol=1e-5)


def test_cnn_classifier_backbone_of_any_size_and_its_input_range():
    # A backbone without a fixed size takes any input_shape; (-1, 1) maps x to 2x - 1.
    backbone = _sum_backbone((None, None, 1))
    model = build_cnn_classifier((16, 24, 1), num_classes=2, backbone=backbone, input_range=(-1, 1))
    x = RNG.uniform(size=(1, 16, 24, 1)).astype("float32")
    maps = keras.Model(model.input, model.get_layer("backbone_features").output)(x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(maps), 2 * x - 1, rtol=1e-5, atol=1e-6)
    assert "grey_to_rgb" not in [layer.name for layer in model.layers]


def test_cnn_classifier_rejects_bad_backbones_and_warns_for_ignored_options():
    with pytest.raises(TypeError, match="backbone must be a keras.Model feature extractor, got str 'mobilenet'"):
        build_cnn_classifier((8, 8, 1), backbone="mobilenet")
    with pytest.raises(ValueError, match=r"takes inputs of shape \(8, 8, 3\) but input_shape is \(16, 16, 1\)"):
        build_cnn_classifier((16, 16, 1), backbone=_sum_backbone((8, 8, 3)))
    with pytest.raises(ValueError, match=r"takes 2 channels \(8, 8, 2\) but input_shape \(8, 8, 1\) has 1"):
        build_cnn_classifier((8, 8, 1), backbone=_sum_backbone((8, 8, 2)))
    with pytest.raises(ValueError, match=r"takes 3 channels \(8, 8, 3\) but input_shape \(8, 8, 2\) has 2"):
        build_cnn_classifier((8, 8, 2), backbone=_sum_backbone((8, 8, 3)))
    pooled = keras.applications.MobileNetV3Small(
        input_shape=(32, 32, 3), include_top=False, weights=None, pooling="avg"
    )
    with pytest.raises(ValueError, match=r"got shapes \[\(None, 576\)\]; build it with include_top=False, pooling"):
        build_cnn_classifier((32, 32, 1), backbone=pooled)
    with pytest.raises(ValueError, match=r"low < high, got \(255, 0\)"):
        build_cnn_classifier((8, 8, 1), backbone=_sum_backbone(), input_range=(255, 0))
    with pytest.raises(TypeError, match="input_range must be a pair"):
        build_cnn_classifier((8, 8, 1), backbone=_sum_backbone(), input_range=255)
    with pytest.raises(TypeError, match="freeze_backbone must be True or False, got str 'yes'"):
        build_cnn_classifier((8, 8, 1), backbone=_sum_backbone(), freeze_backbone="yes")
    with pytest.warns(UserWarning, match=r"ignores \{'filters': 8, 'depth': 2\} with a backbone"):
        build_cnn_classifier((8, 8, 1), filters=8, depth=2, backbone=_sum_backbone())
    with pytest.warns(UserWarning, match="ignores input_range=.* and freeze_backbone=True without a backbone"):
        build_cnn_classifier((16, 16, 1), depth=2, freeze_backbone=True)


# --- segmentation -----------------------------------------------------------------------------------------------


def test_unet_parameter_count_by_hand():
    model = build_unet((8, 8, 1), num_classes=1, filters=2, depth=1, batch_norm=False)
    # enc 1->2, 2->2; bottleneck 2->4, 4->4; 2x2 transposed 4->2; dec (2+2)->2, 2->2; 1x1 2->1; all with bias.
    expected = (9 * 1 * 2 + 2) + (9 * 2 * 2 + 2) + (9 * 2 * 4 + 4) + (9 * 4 * 4 + 4)
    expected += (4 * 4 * 2 + 2) + (9 * 4 * 2 + 2) + (9 * 2 * 2 + 2) + (2 * 1 + 1)
    assert model.count_params() == expected == 431


def test_unet_softmax_shapes_and_training(tmp_path):
    model = build_unet((32, 32, 1), num_classes=3, filters=4, depth=2, final_activation="softmax", dropout=0.1)
    x = RNG.uniform(size=(4, 32, 32, 1)).astype("float32")
    probabilities = model.predict(x, verbose=0)
    assert probabilities.shape == (4, 32, 32, 3) and model.name == "unet"
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    y = keras.utils.to_categorical((x[..., 0] > 0.5).astype(int) + (x[..., 0] > 0.8), 3)
    fit_lowers_loss_and_round_trips(model, x, y, "categorical_crossentropy", tmp_path)


def test_unet_sigmoid_trains_and_validation(tmp_path):
    model = build_unet((16, 16, 1), num_classes=2, filters=4, depth=2)
    x = RNG.uniform(size=(4, 16, 16, 1)).astype("float32")
    y = np.concatenate([x > 0.5, x < 0.2], axis=-1).astype("float32")
    fit_lowers_loss_and_round_trips(model, x, y, "binary_crossentropy", tmp_path)
    with pytest.raises(ValueError, match="num_classes >= 2"):
        build_unet(final_activation="softmax", num_classes=1)
    with pytest.raises(ValueError, match="multiples of 16"):
        build_unet((120, 120, 1))
    with pytest.raises(ValueError, match="dropout"):
        build_unet(dropout=1.5)


# --- generation -------------------------------------------------------------------------------------------------


def test_bone_suppression_starts_as_identity_and_learns_the_residual(tmp_path):
    model = build_bone_suppression_unet((16, 16, 1), filters=4, depth=2)
    x = RNG.uniform(size=(4, 16, 16, 1)).astype("float32")
    # The bone layer starts as kernel 0, bias 0.01, so the model starts as ReLU(x - ReLU(0.01)).
    np.testing.assert_allclose(model.predict(x, verbose=0), np.maximum(x - 0.01, 0), atol=1e-6)
    bone_free = np.clip(x - 0.2 * (x > 0.5), 0, 1).astype("float32")
    loaded = fit_lowers_loss_and_round_trips(model, x, bone_free, "mse", tmp_path, learning_rate=3e-3)
    out = loaded.predict(x, verbose=0)
    assert out.shape == x.shape and out.min() >= 0 and np.all(out <= x + 1e-6)


def test_conditional_vae_loss_is_reconstruction_plus_scaled_kl():
    vae = build_conditional_vae((16, 16, 1), latent_dim=4, filters=4, depth=2, kl_weight=2.0)
    x = RNG.uniform(size=(4, 16, 16, 1)).astype("float32")
    codes = labels.multi_hot_batch(["Cardiomegaly", "Effusion|Mass", "No Finding", ""])
    vae.compile(optimizer="adam", loss="mse", jit_compile=False)
    loss = vae.evaluate([x, codes], x, verbose=0, batch_size=4)
    # Outside training z = z_mean; KL = -1/2 sum(1 + log var - mean^2 - var), batch mean, times 2.0 / (16*16*1).
    mean, log_var = vae.get_layer("encoder").predict([x, codes], verbose=0)
    reconstruction = vae.get_layer("decoder").predict([mean, codes], verbose=0)
    kl = -0.5 * np.sum(1 + log_var - mean**2 - np.exp(log_var), axis=-1).mean()
    np.testing.assert_allclose(loss, np.mean((reconstruction - x) ** 2) + 2.0 * kl / 256, rtol=1e-4)


def test_conditional_vae_trains_round_trips_and_samples(tmp_path):
    vae = build_conditional_vae((16, 16, 1), latent_dim=4, filters=4, depth=2)
    x = RNG.uniform(size=(8, 16, 16, 1)).astype("float32")
    codes = (RNG.uniform(size=(8, 15)) > 0.8).astype("float32")
    assert vae.predict([x, codes], verbose=0).shape == (8, 16, 16, 1)
    loaded = fit_lowers_loss_and_round_trips(vae, [x, codes], x, "binary_crossentropy", tmp_path)
    images = sample(loaded, "Cardiomegaly|Effusion", num_samples=3, seed=1)
    assert images.shape == (3, 16, 16, 1) and images.min() >= 0 and images.max() <= 1
    np.testing.assert_array_equal(images, sample(loaded, labels.multi_hot("Cardiomegaly|Effusion"), 3, seed=1))
    assert not np.array_equal(images, sample(loaded, "Cardiomegaly|Effusion", 3, seed=2))
    two = sample(loaded, ["Mass", "Nodule"], num_samples=2, seed=0)
    assert two.shape == (4, 16, 16, 1)
    with pytest.raises(ValueError, match=r"\(15,\)"):
        sample(loaded, np.ones((2, 14)))
    with pytest.raises(ValueError, match="NaN"):
        sample(loaded, np.full(15, np.nan))
    # Temperature scales z: at 0 every draw is the decoder's image of z = 0, whatever the seed.
    decoder = loaded.get_layer("decoder")
    cold = sample(loaded, "Mass", num_samples=2, seed=5, temperature=0.0)
    at_zero = decoder.predict([np.zeros((1, 4), "float32"), labels.multi_hot("Mass")[None]], verbose=0)
    np.testing.assert_allclose(cold, np.repeat(at_zero, 2, axis=0), atol=1e-6)
    with pytest.raises(ValueError, match="temperature must be a number >= 0"):
        sample(loaded, "Mass", temperature=-1)
