"""Classification (lecture section 1): a small CNN, ResNet-18/34 as on the recap slide, and GradCAM.

The slide's table "Reason → Final activation → Loss" picks the head:

| reason | `head=` | final activation | loss |
|---|---|---|---|
| multiple pathologies per image | `"multilabel"` | sigmoid | binary cross-entropy |
| one (unique) pathology per image | `"multiclass"` | softmax | categorical cross-entropy |
| your loss applies the activation | `"logits"` | none | `from_logits=True` losses |

Every classifier ends in a `Dense` layer named `"logits"` followed by an `Activation` named `"predictions"`, so
`grad_cam` can differentiate the score before the activation.
"""

from __future__ import annotations

import inspect
import warnings

import keras
import numpy as np
import pandas as pd
from keras import layers, ops

from lecture_lib.checks import check_choice, check_count, check_flag, check_number, check_rate
from lecture_lib.gradients import input_gradient
from lecture_lib.layers import ResidualBlock
from lecture_lib.models._blocks import (
    BN_MOMENTUM,
    check_input_shape,
    conv_backbone,
)

__all__ = ["HEADS", "RESNET_STAGES", "build_cnn_classifier", "build_resnet", "resnet_layer_table", "grad_cam"]

HEADS = {"multilabel": "sigmoid", "multiclass": "softmax", "logits": "linear"}
"""Head name → final activation, after the slide's "Reason → Final activation → Loss" table."""

RESNET_STAGES = {10: (1, 1, 1, 1), 18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
"""Depth → number of basic blocks in each of the four stages (ResNet-10 is a small variant for CPU work)."""


def _head(x, num_classes: int, head: str, dropout: float):
    check_choice(head, "head", tuple(HEADS))
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    logits = layers.Dense(num_classes, name="logits")(x)
    return layers.Activation(HEADS[head], name="predictions")(logits)


def build_cnn_classifier(
    input_shape=(128, 128, 1),
    num_classes: int = 15,
    filters: int = 16,
    depth: int = 4,
    head: str = "multilabel",
    dropout: float = 0.25,
    batch_norm: bool = True,
    name: str = "cnn_classifier",
    *,
    backbone: keras.Model | None = None,
    input_range=(0.0, 1.0),
    freeze_backbone: bool = False,
) -> keras.Model:
    """Build a small, fast CNN classifier: `depth` × (3×3 conv-BN-ReLU + max pool), global average pool, dense.

    The default (about 100 k parameters) trains on 128 × 128 chest X-rays at a few hundred images per second on two
    CPU cores. Filters double at every level: 16, 32, 64, 128.

    With `backbone`, a `keras.Model` feature extractor (transfer learning) replaces the small conv backbone under
    the same global average pool and head, e.g.
    `keras.applications.MobileNetV3Small(input_shape=(96, 96, 3), include_top=False, weights=None)` (pass
    `weights="imagenet"` when online for pretrained features). Then `filters`, `depth` and `batch_norm` are not used
    (a warning says so when they differ from their defaults), and the model takes `input_shape` images in
    `[0, 1]` and adds, before the backbone:

    - a `Concatenate` layer `"grey_to_rgb"` that repeats a grey image into three equal channels when the image has
      one channel and the backbone expects three (ImageNet backbones take RGB);
    - a `Rescaling` layer `"backbone_input_range"` that maps `[0, 1]` linearly onto `input_range`, the range the
      backbone expects (no layer for `(0, 1)`). Each `keras.applications` family expects its own:

    | backbones | `input_range` |
    |---|---|
    | MobileNetV3Small/Large, EfficientNetB0–B7, EfficientNetV2*, ConvNeXt* (preprocessing built in) | `(0, 255)` |
    | MobileNet, MobileNetV2, InceptionV3, InceptionResNetV2, Xception, NASNet*, ResNet*V2 (`"tf"` mode) | `(-1, 1)` |
    | MobileNetV3 and EfficientNetV2 built with `include_preprocessing=False` | `(-1, 1)` |

    ResNet50/101/152, VGG16/19 (`"caffe"` mode: BGR, ImageNet means subtracted) and DenseNet* (`"torch"` mode:
    ImageNet means and deviations) normalize each channel, which a range cannot express: wrap their
    `preprocess_input` into the backbone, `rgb = keras.Input((96, 96, 3))`, `backbone = keras.Model(rgb,
    keras.applications.ResNet50(include_top=False, weights=None)(keras.applications.resnet.preprocess_input(rgb)))`,
    and pass `input_range=(0, 255)`.

    The backbone's feature maps `(batch, h, w, channels)` also leave through an `Identity` layer named
    `"backbone_features"`, the layer `grad_cam` uses by default (the nested backbone's own layers cannot be chosen).

    Args:
        input_shape: `(height, width, channels)`; without a backbone, height and width must be multiples of
            `2**depth`; with one, they must equal the backbone's input size when it is fixed.
        num_classes: outputs, 15 for the slide's pathology codes.
        filters: filters of the first level (not used with a backbone).
        depth: number of conv + pool levels (not used with a backbone).
        head: `"multilabel"` (sigmoid), `"multiclass"` (softmax) or `"logits"` (no activation); see the module table.
        dropout: dropout rate before the last dense layer.
        batch_norm: use batch normalization after each convolution (not used with a backbone).
        name: the model's name.
        backbone: `None` for the small conv backbone, or a single-input `keras.Model` mapping
            `(batch, height, width, c)` images, `c` the image's channels or 3 for a grey image, to 4-D feature maps
            (`include_top=False`, no `pooling`). It becomes a layer of the model, named as the backbone.
        input_range: `(low, high)`, the backbone's input range (see the table); ignored without a backbone.
        freeze_backbone: set `backbone.trainable = False` (on the object passed), so that only the head trains.
            Train the head first, then set `model.get_layer(backbone.name).trainable = True` and compile again with
            a learning rate about ten times lower. A frozen `BatchNormalization` layer runs in inference mode.

    Returns:
        A `keras.Model` mapping `(batch, height, width, channels)` images to `(batch, num_classes)` predictions.

    Raises:
        TypeError: for a backbone that is not a `keras.Model`, or a non-boolean flag.
        ValueError: for an invalid shape, size knob, rate or head; a backbone whose input channels or size do not
            fit `input_shape`, or whose output is not 4-D; an `input_range` whose `low` is not below `high`.
    """
    num_classes = check_count(num_classes, "num_classes")
    dropout = check_rate(dropout, "dropout")
    if backbone is None:
        freeze_backbone = check_flag(freeze_backbone, "freeze_backbone")
        default_range = isinstance(input_range, list | tuple) and tuple(input_range) == (0.0, 1.0)
        if freeze_backbone or not default_range:
            warnings.warn(
                f"build_cnn_classifier ignores input_range={input_range!r} and freeze_backbone={freeze_backbone!r} "
                "without a backbone; pass backbone=keras.applications.<Model>(..., include_top=False) to use them",
                stacklevel=2,
            )
        depth = check_count(depth, "depth")
        input_shape = check_input_shape(input_shape, 2**depth)
        filters = check_count(filters, "filters")
        inputs = keras.Input(input_shape, name="image")
        x = conv_backbone(inputs, filters, depth, batch_norm)
    else:
        input_shape = check_input_shape(input_shape)
        inputs = keras.Input(input_shape, name="image")
        x = _backbone_features(inputs, backbone, input_range, freeze_backbone)
        defaults = inspect.signature(build_cnn_classifier).parameters
        unused = {"filters": filters, "depth": depth, "batch_norm": batch_norm}
        changed = {key: value for key, value in unused.items() if value != defaults[key].default}
        if changed:
            warnings.warn(
                f"build_cnn_classifier ignores {changed} with a backbone: they size the small conv backbone that "
                f"backbone {backbone.name!r} replaces",
                stacklevel=2,
            )
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, _head(x, num_classes, head, dropout), name=name)


def _backbone_features(inputs, backbone, input_range, freeze_backbone: bool):
    """Grey-to-RGB and range layers, then `backbone`: `(batch, H, W, C)` in `[0, 1]` → `(batch, h, w, features)`."""
    if not isinstance(backbone, keras.Model):
        raise TypeError(
            f"backbone must be a keras.Model feature extractor, got {type(backbone).__name__} {backbone!r:.80}; "
            "e.g. keras.applications.MobileNetV3Small(input_shape=(96, 96, 3), include_top=False, weights=None)"
        )
    freeze_backbone = check_flag(freeze_backbone, "freeze_backbone")
    if not isinstance(input_range, list | tuple) or len(input_range) != 2:
        raise TypeError(
            f"input_range must be a pair (low, high), got {input_range!r}; e.g. (0, 255) for MobileNetV3 or "
            "EfficientNet, (-1, 1) for MobileNetV2 or Xception"
        )
    low = check_number(input_range[0], "input_range[0]")
    high = check_number(input_range[1], "input_range[1]")
    if not low < high:
        raise ValueError(f"input_range must be (low, high) with low < high, got {tuple(input_range)!r}")
    image_shape = tuple(inputs.shape[1:])
    if len(backbone.inputs) != 1 or len(backbone.inputs[0].shape) != 4:
        raise ValueError(
            f"backbone {backbone.name!r} must take one (batch, height, width, channels) input, got inputs of shapes "
            f"{[tuple(tensor.shape) for tensor in backbone.inputs]}"
        )
    expected = tuple(backbone.inputs[0].shape[1:])
    size, channels = expected[:2], expected[2]
    if any(known is not None and known != given for known, given in zip(size, image_shape[:2], strict=True)):
        raise ValueError(
            f"backbone {backbone.name!r} takes inputs of shape {expected} but input_shape is {image_shape}; build "
            f"the backbone with input_shape={(*image_shape[:2], channels)} or resize the images"
        )
    grey_to_rgb = image_shape[2] == 1 and channels == 3
    if channels is not None and channels != image_shape[2] and not grey_to_rgb:
        raise ValueError(
            f"backbone {backbone.name!r} takes {channels} channels {expected} but input_shape {image_shape} has "
            f"{image_shape[2]}; give the backbone {image_shape[2]} channels, or 3 for a grey (1-channel) image"
        )
    if len(backbone.outputs) != 1 or len(backbone.outputs[0].shape) != 4:
        raise ValueError(
            f"backbone {backbone.name!r} must output one (batch, h, w, features) map, got shapes "
            f"{[tuple(tensor.shape) for tensor in backbone.outputs]}; build it with include_top=False, pooling=None"
        )
    if freeze_backbone:
        backbone.trainable = False
    x = inputs
    if grey_to_rgb:
        x = layers.Concatenate(name="grey_to_rgb")([x, x, x])
    if (low, high) != (0.0, 1.0):
        x = layers.Rescaling(scale=high - low, offset=low, name="backbone_input_range")(x)
    return layers.Identity(name="backbone_features")(backbone(x))


def build_resnet(
    depth: int = 34,
    input_shape=(224, 224, 3),
    num_classes: int = 1000,
    head: str = "multiclass",
    filters: int = 64,
    dropout: float = 0.0,
    name: str | None = None,
) -> keras.Model:
    """Build ResNet-18 or ResNet-34 (He et al., 2016) as on the recap slide's "34-layer residual" listing.

    7×7/2 convolution with `filters` (64) channels, 3×3/2 max pool, four stages of basic `ResidualBlock`s with
    `filters × (1, 2, 4, 8)` channels — `(3, 4, 6, 3)` blocks for 34, `(2, 2, 2, 2)` for 18 — the first block of
    stages 2–4 halving the resolution with a projection shortcut, global average pooling and a dense layer.
    Convolutions have no bias, so `build_resnet(34)` (input `(224, 224, 3)`, 1000 classes) has exactly 21,797,672
    trainable parameters, the published torchvision count. For chest X-rays use e.g.
    `build_resnet(18, (128, 128, 1), 15, head="multilabel", filters=16)`.

    Args:
        depth: 18 or 34 (10 gives a one-block-per-stage variant for quick CPU runs).
        input_shape: `(height, width, channels)`; height and width must be multiples of 32.
        num_classes: outputs of the final dense layer.
        head: `"multilabel"` (sigmoid), `"multiclass"` (softmax) or `"logits"`; see the module table.
        filters: channels of the stem and of the first stage (64 in the paper); lower it to train on a CPU.
        dropout: dropout rate before the dense layer (0 in the paper).
        name: the model's name, `"resnet34"` etc. by default.

    Returns:
        A `keras.Model` mapping `(batch, height, width, channels)` to `(batch, num_classes)`.

    Raises:
        ValueError: for an unknown depth, an input size not divisible by 32, or an invalid knob.
    """
    if depth not in RESNET_STAGES:
        raise ValueError(f"depth must be one of {sorted(RESNET_STAGES)}, got {depth!r}; the slide shows 34")
    input_shape = check_input_shape(input_shape, 32, knob="ResNet (5 halvings)")
    num_classes = check_count(num_classes, "num_classes")
    filters = check_count(filters, "filters")
    dropout = check_rate(dropout, "dropout")
    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(
        filters, 7, strides=2, padding="same", use_bias=False, kernel_initializer="he_normal", name="conv1"
    )(inputs)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    for stage, num_blocks in enumerate(RESNET_STAGES[depth]):
        for block in range(num_blocks):
            strides = 2 if stage > 0 and block == 0 else 1
            x = ResidualBlock(filters * 2**stage, strides=strides, name=f"stage{stage + 1}_block{block + 1}")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, _head(x, num_classes, head, dropout), name=name or f"resnet{depth}")


def _count(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def resnet_layer_table(model: keras.Model) -> pd.DataFrame:
    """List a `build_resnet` model layer by layer in the words of the recap slide ("3x3 conv, 128, /2").

    One row per weighted layer (convolution or dense, each with its batch norm) plus the pooling layers and the
    projection shortcuts, so the slide's count — 34 weighted layers for ResNet-34, shortcuts not counted — can be
    read off `table.counts_as_layer.sum()`, and `table.params.sum()` equals the model's trainable parameters.

    Args:
        model: a model from `build_resnet`.

    Returns:
        A `pandas.DataFrame` with columns `slide` (e.g. `"7x7 conv, 64, /2"`), `keras_layer` (the Keras layer name),
        `output_shape` (without the batch axis), `params` (trainable parameters) and `counts_as_layer`.

    Raises:
        ValueError: if the model has no `"conv1"` stem or no `ResidualBlock`s (not built by `build_resnet`).
    """
    names = {layer.name for layer in model.layers}
    blocks = [layer for layer in model.layers if isinstance(layer, ResidualBlock)]
    if "conv1" not in names or not blocks:
        raise ValueError(f"model {model.name!r} was not built by build_resnet (no 'conv1' stem or no ResidualBlock)")
    rows = []

    def add(slide, keras_layer, shape, params, counts):
        rows.append((slide, keras_layer, tuple(shape[1:]), params, counts))

    stem, stem_bn = model.get_layer("conv1"), model.get_layer("conv1_bn")
    add(
        f"{stem.kernel_size[0]}x{stem.kernel_size[1]} conv, {stem.filters}, /{stem.strides[0]}",
        "conv1",
        stem.output.shape,
        _count(stem.trainable_weights) + _count(stem_bn.trainable_weights),
        True,
    )
    pool = model.get_layer("pool1")
    add(f"pool, /{pool.strides[0]}", "pool1", pool.output.shape, 0, False)
    for block in blocks:
        stride = f", /{block.strides}" if block.strides > 1 else ""
        size = f"{block.kernel_size}x{block.kernel_size}"
        shape = block.output.shape
        params1 = _count(block.conv1.trainable_weights) + _count(block.bn1.trainable_weights)
        params2 = _count(block.conv2.trainable_weights) + _count(block.bn2.trainable_weights)
        add(f"{size} conv, {block.filters}{stride}", f"{block.name}/conv1", shape, params1, True)
        add(f"{size} conv, {block.filters}", f"{block.name}/conv2", shape, params2, True)
        if block.has_projection:
            params = _count(block.projection.trainable_weights) + _count(block.projection_bn.trainable_weights)
            add(f"1x1 conv, {block.filters}{stride} (shortcut)", f"{block.name}/projection", shape, params, False)
    add("avg pool", "avg_pool", model.get_layer("avg_pool").output.shape, 0, False)
    dense = model.get_layer("logits")
    add(f"fc {dense.units}", "logits", dense.output.shape, _count(dense.trainable_weights), True)
    return pd.DataFrame(rows, columns=["slide", "keras_layer", "output_shape", "params", "counts_as_layer"])


def _last_feature_layer(model: keras.Model) -> keras.layers.Layer:
    for layer in reversed(model.layers):
        if not isinstance(layer, keras.layers.InputLayer) and len(layer.output.shape) == 4:
            return layer
    raise ValueError(f"model {model.name!r} has no layer with a 4-D output (batch, height, width, channels)")


def grad_cam(model: keras.Model, images, class_index=None, layer_name: str | None = None) -> np.ndarray:
    """Compute Grad-CAM heatmaps (Selvaraju et al., 2017): where in the image the score of a class comes from.

    For feature maps `A` of a convolutional layer and the class score `y_c` (the `"logits"` layer when the model has
    one, else the model output), `α_k = mean_ij ∂y_c/∂A_ijk` and `CAM = ReLU(Σ_k α_k A_k)`, upsampled bilinearly to
    the image size and divided by its maximum per image. Works on the TensorFlow, JAX and PyTorch backends: the math
    is `keras.ops`, only the gradient call is backend-specific.

    Args:
        images: `(batch, height, width, channels)` inputs of `model` (numpy or tensor).
        model: a single-input classifier, e.g. from `build_cnn_classifier` or `build_resnet`, whose score can be
            computed from the chosen layer's output alone (true for the last convolutional layer of a CNN).
        class_index: the class to explain: `None` for each image's top-scoring class, an `int` for all images, or a
            sequence of `batch` ints.
        layer_name: the convolutional layer to use; by default the last layer with a 4-D output.

    Returns:
        `float32` array `(batch, height, width)` in `[0, 1]`; all zeros where no feature supports the class.

    Raises:
        ValueError: for a layer whose output is not 4-D, a class index out of range, or a model whose score does not
            follow from that layer alone.
    """
    layer = model.get_layer(layer_name) if layer_name is not None else _last_feature_layer(model)
    if len(layer.output.shape) != 4:
        raise ValueError(f"layer {layer.name!r} has output shape {layer.output.shape}; pick a convolutional layer")
    names = {candidate.name for candidate in model.layers}
    score = model.get_layer("logits").output if "logits" in names else model.outputs[0]
    try:
        head = keras.Model(layer.output, score)
    except Exception as error:
        raise ValueError(
            f"the score of model {model.name!r} cannot be computed from layer {layer.name!r} alone ({error}); "
            "choose a later layer, e.g. the last convolutional block"
        ) from error
    features = keras.Model(model.inputs, layer.output)(ops.convert_to_tensor(np.asarray(images, "float32")))
    scores = ops.convert_to_numpy(head(features, training=False))
    batch, num_classes = scores.shape
    if class_index is None:
        indices = scores.argmax(axis=-1)
    else:
        indices = np.broadcast_to(np.asarray(class_index), (batch,)).astype("int64")
        if indices.min() < 0 or indices.max() >= num_classes:
            raise ValueError(f"class_index {class_index!r} is out of range for {num_classes} classes")
    selector = ops.convert_to_tensor(np.eye(num_classes, dtype="float32")[indices])
    gradients = input_gradient(lambda maps: ops.sum(head(maps, training=False) * selector), features)
    weights = ops.mean(gradients, axis=(1, 2), keepdims=True)
    cam = ops.relu(ops.sum(weights * features, axis=-1, keepdims=True))
    height, width = model.inputs[0].shape[1:3]
    cam = ops.image.resize(cam, (height, width), interpolation="bilinear")[..., 0]
    peak = ops.max(cam, axis=(1, 2), keepdims=True)
    cam = ops.where(peak > 0, cam / ops.maximum(peak, 1e-12), 0.0)
    return ops.convert_to_numpy(cam).astype("float32")
