"""Speed of the image losses on a batch of 8 images of 256 × 256: forward, and forward + gradient.

The functions are compiled as a training step compiles them (`tf.function` on TensorFlow, `jax.jit` on JAX) and
timed after a warm-up call; the figure is the best of 5 runs, in milliseconds per batch, on the active backend
(`KERAS_BACKEND`). `tf.image.ssim` / `ssim_multiscale` (forward only) are rows for comparison.
"""

from __future__ import annotations

import time

import keras
import numpy as np

from lecture_lib import losses

BATCH, SIZE, REPEATS = 8, 256, 5


def _compile(fn, with_gradient: bool):
    if keras.backend.backend() == "jax":
        import jax

        step = (lambda t, p: jax.value_and_grad(lambda q: keras.ops.sum(fn(t, q)))(p)) if with_gradient else fn
        return jax.jit(step)
    import tensorflow as tf

    def step(t, p):
        if not with_gradient:
            return fn(t, p)
        with tf.GradientTape() as tape:
            tape.watch(p)
            value = keras.ops.sum(fn(t, p))
        return value, tape.gradient(value, p)

    return tf.function(step)


def _best_ms(step, *arrays) -> float:
    keras.ops.convert_to_numpy(keras.tree.flatten(step(*arrays))[0])
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        keras.ops.convert_to_numpy(keras.tree.flatten(step(*arrays))[0])
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def run() -> list[tuple[str, float, str]]:
    """Return rows `(name, milliseconds per batch, "ms/batch")`."""
    rng = np.random.default_rng(0)
    images = keras.ops.convert_to_tensor(rng.random((BATCH, SIZE, SIZE, 1), dtype="float32"))
    noisy = keras.ops.convert_to_tensor(np.clip(keras.ops.convert_to_numpy(images) + 0.1, 0, 1))
    masks = keras.ops.convert_to_tensor((rng.random((BATCH, SIZE, SIZE, 3)) > 0.5).astype("float32"))
    probabilities = keras.ops.convert_to_tensor(rng.random((BATCH, SIZE, SIZE, 3), dtype="float32"))
    backend = keras.backend.backend()
    cases = {
        "ssim_loss": (losses.ssim_loss, images, noisy),
        "ms_ssim_loss": (losses.ms_ssim_loss, images, noisy),
        "dice_loss": (losses.dice_loss, masks, probabilities),
        "crossentropy_dice_loss": (losses.crossentropy_dice_loss, masks, probabilities),
    }
    rows = []
    for name, (fn, y_true, y_pred) in cases.items():
        rows.append((f"{name} forward [{backend}]", _best_ms(_compile(fn, False), y_true, y_pred), "ms/batch"))
        rows.append((f"{name} forward+grad [{backend}]", _best_ms(_compile(fn, True), y_true, y_pred), "ms/batch"))
    import tensorflow as tf

    x, y = keras.ops.convert_to_numpy(images), keras.ops.convert_to_numpy(noisy)
    rows.append(
        (
            "tf.image.ssim forward (reference)",
            _best_ms(tf.function(lambda a, b: tf.image.ssim(a, b, 1.0)), x, y),
            "ms/batch",
        )
    )
    reference = tf.function(lambda a, b: tf.image.ssim_multiscale(a, b, 1.0))
    rows.append(("tf.image.ssim_multiscale forward (reference)", _best_ms(reference, x, y), "ms/batch"))
    return rows


if __name__ == "__main__":
    for name, figure, unit in run():
        print(f"{name:50s} {figure:10.1f} {unit}")
