"""Backend gradients agree with the hand-derived gradient of a linear model."""

import keras
import numpy as np
import pytest

from lecture_lib.gradients import gradient_norms, loss_gradients


def linear_model():
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(1, use_bias=True, name="dense")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("dense").set_weights([np.array([[1.0], [2.0], [-1.0]], "float32"), np.array([0.5], "float32")])
    return model


def test_gradient_of_mse_matches_the_hand_derivation():
    # loss = mean((x·w + b - y)^2)  =>  dL/dw = 2/N Σ (pred - y) x,  dL/db = 2/N Σ (pred - y)
    x = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]], "float32")
    y = np.array([[0.0], [1.0]], "float32")
    model = linear_model()
    kernel_grad, bias_grad = loss_gradients(model, keras.losses.MeanSquaredError(), x, y)
    residual = x @ np.array([[1.0], [2.0], [-1.0]]) + 0.5 - y  # [[-0.5], [0.5]]
    np.testing.assert_allclose(kernel_grad, 2 / 2 * x.T @ residual, atol=1e-6)
    np.testing.assert_allclose(bias_grad, [2 / 2 * residual.sum()], atol=1e-6)


def test_gradient_norms_per_layer():
    x = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]], "float32")
    y = np.array([[0.0], [1.0]], "float32")
    norms = gradient_norms(linear_model(), keras.losses.MeanSquaredError(), x, y)
    # dL/dw = [[-0.5], [0.5], [-0.5]]
    assert list(norms) == ["dense"]
    assert norms["dense"] == pytest.approx(np.sqrt(3 * 0.25), rel=1e-6)


def test_gradient_norms_rejects_layers_without_kernel():
    model = linear_model()
    with pytest.raises(ValueError, match="has no kernel"):
        gradient_norms(
            model, keras.losses.MeanSquaredError(), np.zeros((1, 3)), np.zeros((1, 1)), [model.layers[0].name]
        )


def test_input_gradient_of_a_quadratic():
    from keras import ops

    from lecture_lib.gradients import input_gradient

    x = np.array([[1.0, -2.0], [0.5, 3.0]], "float32")
    # d/dx sum(x^2 + 3x) = 2x + 3
    gradient = input_gradient(lambda t: ops.sum(t * t + 3.0 * t), ops.convert_to_tensor(x))
    np.testing.assert_allclose(ops.convert_to_numpy(gradient), 2 * x + 3, atol=1e-6)
