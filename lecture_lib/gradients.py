"""Gradients of a loss with respect to a model's weights, on whichever Keras backend is active.

Keras 3 hides the backend in `fit`, but looking *inside* training (the recap's "why does the skip connection help?")
needs the gradients themselves. Each backend computes them its own way, so this is the one place that knows all three.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def loss_gradients(model: keras.Model, loss_fn, x, y) -> list[np.ndarray]:
    """Return d loss / d w for every trainable weight of `model`, as numpy arrays in `model.trainable_weights` order.

    Args:
        model: a built Keras model.
        loss_fn: callable `(y_true, y_pred) -> scalar or per-sample loss`, e.g. `keras.losses.MeanSquaredError()`.
        x: the model input, e.g. `(batch, height, width, channels)`.
        y: the target, shaped like the model output.

    Returns:
        One array per trainable weight, each shaped like that weight.

    Raises:
        NotImplementedError: on a backend other than TensorFlow, JAX or PyTorch.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = ops.mean(loss_fn(y, model(x, training=True)))
        grads = tape.gradient(loss, model.trainable_weights)
    elif backend == "jax":
        import jax

        trainable = [w.value for w in model.trainable_weights]
        non_trainable = [w.value for w in model.non_trainable_weights]

        def loss_of(trainable_values):
            y_pred, _ = model.stateless_call(trainable_values, non_trainable, x, training=True)
            return ops.mean(loss_fn(y, y_pred))

        grads = jax.grad(loss_of)(trainable)
    elif backend == "torch":
        model.zero_grad()
        loss = ops.mean(loss_fn(y, model(x, training=True)))
        loss.backward()
        grads = [w.value.grad for w in model.trainable_weights]
    else:
        raise NotImplementedError(
            f"loss_gradients supports tensorflow, jax and torch; the Keras backend is {backend!r}"
        )
    return [ops.convert_to_numpy(g) for g in grads]


def gradient_norms(model: keras.Model, loss_fn, x, y, layer_names=None) -> dict[str, float]:
    """Return the L2 norm of the loss gradient for each layer's kernel — how strongly each layer is told to change.

    Args:
        model: a built Keras model.
        loss_fn: callable `(y_true, y_pred) -> loss`.
        x: the model input.
        y: the target.
        layer_names: the layers to report, in order (default: every layer that has a `kernel`).

    Returns:
        `{layer_name: norm}` in the order of `layer_names`.

    Raises:
        ValueError: if a named layer has no kernel.
    """
    grads = loss_gradients(model, loss_fn, x, y)
    by_path = {w.path: g for w, g in zip(model.trainable_weights, grads, strict=True)}
    names = layer_names or [layer.name for layer in model.layers if hasattr(layer, "kernel")]
    norms = {}
    for name in names:
        layer = model.get_layer(name)
        if not hasattr(layer, "kernel"):
            raise ValueError(f"layer {name!r} has no kernel; pass layers such as Conv2D or Dense")
        norms[name] = float(np.linalg.norm(by_path[layer.kernel.path]))
    return norms


def input_gradient(function, x):
    """Return the gradient of the scalar `function(x)` with respect to the tensor `x` (used by Grad-CAM).

    Args:
        function: callable mapping a tensor shaped like `x` to a scalar tensor, written in `keras.ops`.
        x: the point at which to differentiate, any shape.

    Returns:
        A backend tensor shaped like `x`.

    Raises:
        NotImplementedError: on a backend other than TensorFlow, JAX or PyTorch.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = function(x)
        return tape.gradient(value, x)
    if backend == "jax":
        import jax

        return jax.grad(function)(x)
    if backend == "torch":
        import torch

        x = x.detach().requires_grad_(True)
        (gradient,) = torch.autograd.grad(function(x), x)
        return gradient
    raise NotImplementedError(f"input_gradient supports tensorflow, jax and torch; the Keras backend is {backend!r}")
