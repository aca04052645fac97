"""Training throughput of every default model builder at its notebook's image size, numpy `fit` vs `tf.data`.

For each model: one warm-up epoch (graph tracing / compilation), then `EPOCHS` timed epochs over `NUM_IMAGES`
synthetic images, first with `model.fit(x, y)` on numpy arrays, then with a `tf.data` pipeline built once
(`from_tensor_slices → cache → shuffle → batch → prefetch(AUTOTUNE)`; both shuffle every epoch), which hands ready tensors to the training step while
the previous step runs. Rows: images/s of each, and their ratio (pipeline / numpy; > 1 means the pipeline helps).
Set `BENCH_MODELS_IMAGES` to change the number of images (default 128).
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from lecture_lib import models

NUM_IMAGES = int(os.environ.get("BENCH_MODELS_IMAGES", "128"))
BATCH_SIZE = 32
EPOCHS = 2


def _cases(rng: np.random.Generator):
    """(name, model, loss, x, y) of each default model at its notebook's image size."""
    n = NUM_IMAGES
    x128 = rng.uniform(size=(n, 128, 128, 1)).astype("float32")
    x64 = rng.uniform(size=(n, 64, 64, 1)).astype("float32")
    codes = (rng.uniform(size=(n, 15)) > 0.8).astype("float32")
    masks = (x128 > 0.5).astype("float32")
    corners = rng.uniform(0, 96, size=(n, 1, 2))
    boxes = np.concatenate([corners, corners + rng.uniform(8, 32, size=(n, 1, 2))], axis=-1).astype("float32")
    box_classes = rng.integers(0, 3, size=(n, 1))
    points = rng.uniform(10, 118, size=(n, 6, 2)).astype("float32")
    return [
        ("cnn_classifier 128px", models.build_cnn_classifier(), "binary_crossentropy", x128, codes),
        ("unet 128px", models.build_unet(), "binary_crossentropy", x128, masks),
        (
            "lesion_detector 128px",
            models.build_lesion_detector(),
            "mse",
            x128,
            models.encode_lesion_targets(boxes, box_classes, (128, 128), 3),
        ),
        (
            "grid_detector 128px",
            models.build_grid_detector(),
            "mse",
            x128,
            models.encode_grid_targets(boxes, box_classes, (128, 128), 8, 3),
        ),
        ("landmark_regressor 128px", models.build_landmark_regressor(), "mae", x128, points / 128),
        (
            "heatmap_landmark_net 128px",
            models.build_heatmap_landmark_net(),
            {"coordinates": "mae"},
            x128,
            {"coordinates": points},
        ),
        ("bone_suppression 128px", models.build_bone_suppression_unet(), "mse", x128, x128 * 0.8),
        ("conditional_vae 64px", models.build_conditional_vae(), "binary_crossentropy", (x64, codes), x64),
    ]


def _images_per_second(model, data, epochs: int) -> float:
    model.fit(**data, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(**data, epochs=epochs, verbose=0)
    return epochs * NUM_IMAGES / (time.perf_counter() - start)


def run() -> list[tuple[str, float, str]]:
    """Measure every model; returns rows `(name, figure, unit)`."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    rows = []
    for name, model, loss, x, y in _cases(rng):
        model.compile(optimizer="adam", loss=loss)
        numpy_x = list(x) if isinstance(x, tuple) else x
        plain = _images_per_second(model, {"x": numpy_x, "y": y, "batch_size": BATCH_SIZE}, EPOCHS)
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).cache().shuffle(NUM_IMAGES)
        dataset = dataset.batch(BATCH_SIZE).prefetch(tf.data.AUTOTUNE)
        tuned = _images_per_second(model, {"x": dataset, "shuffle": False}, EPOCHS)
        rows += [
            (f"{name} fit(numpy)", plain, "images/s"),
            (f"{name} fit(tf.data prefetch)", tuned, "images/s"),
            (f"{name} pipeline / numpy", tuned / plain, "x"),
        ]
        keras.backend.clear_session()
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row[0]:<50} {row[1]:>10.2f} {row[2]}")
