"""Image generation (lecture section 5): bone suppression and a conditional generator of pathologic images.

Bone suppression (`build_bone_suppression_unet`): a U-Net predicts the bone layer `b ≥ 0` and the model outputs
`ReLU(x − b)`, the image with the bones subtracted. Predicting the residual is easier than the whole soft-tissue
image, and an untrained model already returns nearly its input. Train with MSE / MAE / SSIM against bone-free
targets (e.g. `CXRSet.targets["bone_free"]`).

Pathologic image generation (`build_conditional_vae`, Kingma & Welling 2014; Sohn et al. 2015): an encoder maps an
image and its 15-code multi-hot vector to a Gaussian over a latent `z`; a decoder maps `z` and the codes back to an
image. `sample(model, codes)` draws `z ~ N(0, I)` and decodes it for the codes you ask for, e.g.
`labels.multi_hot("Cardiomegaly|Effusion")`. The Kullback-Leibler term is added inside the model with `add_loss`,
so the ordinary `fit` trains it on every backend without a custom `train_step`:

    vae = build_conditional_vae()
    vae.compile(optimizer="adam", loss="binary_crossentropy")
    vae.fit([images, codes], images, epochs=10)
    fakes = sample(vae, labels.multi_hot("Cardiomegaly"), num_samples=8, seed=0)

With `"binary_crossentropy"` (a per-pixel mean) the total loss is the negative evidence lower bound divided by the
number of pixels, because the layer divides the KL term by the same number.
"""

from __future__ import annotations

import numbers

import keras
import numpy as np
from keras import layers, ops

from lecture_lib.checks import check_count, check_rate
from lecture_lib.labels import NUM_PATHOLOGIES, multi_hot
from lecture_lib.models._blocks import (
    BN_MOMENTUM,
    check_input_shape,
    conv_bn_relu,
    unet_body,
)

INITIAL_BONE = 0.01
"""Bone layer of an untrained bone-suppression model, everywhere."""

__all__ = ["INITIAL_BONE", "VariationalSampling", "build_bone_suppression_unet", "build_conditional_vae", "sample"]


def build_bone_suppression_unet(
    input_shape=(128, 128, 1),
    filters: int = 16,
    depth: int = 4,
    batch_norm: bool = True,
    dropout: float = 0.0,
    name: str = "bone_suppression",
) -> keras.Model:
    """Build a bone-suppression U-Net with a residual output: `bone_free = ReLU(image − ReLU(bone_layer))`.

    The U-Net body (see `build_unet`) ends in a 1×1 convolution with ReLU, the predicted bone layer (named
    `"bone_layer"`, so `keras.Model(model.input, model.get_layer("bone_layer").output)` shows it); subtracting it
    and clipping at 0 keeps the output in `[0, 1]` for inputs in `[0, 1]`. The bone layer starts as the constant
    `INITIAL_BONE` (0.01), so before training the model returns its input minus 0.01.

    Args:
        input_shape: `(height, width, channels)`; height and width must be multiples of `2**depth`.
        filters: filters of the first U-Net level.
        depth: U-Net levels.
        batch_norm: batch normalization after each convolution.
        dropout: dropout rate in the bottleneck and decoder.
        name: the model's name.

    Returns:
        A `keras.Model` mapping `(batch, height, width, channels)` images in `[0, 1]` to bone-free images of the same
        shape.

    Raises:
        ValueError: for an invalid shape or knob.
    """
    depth = check_count(depth, "depth")
    input_shape = check_input_shape(input_shape, 2**depth)
    filters = check_count(filters, "filters")
    dropout = check_rate(dropout, "dropout")
    inputs = keras.Input(input_shape, name="image")
    x = unet_body(inputs, filters, depth, batch_norm, dropout)
    # Zero kernel + small positive bias: the untrained model is x - 0.01 and the ReLU starts active (a zero bias
    # would leave it exactly at its kink, with no gradient).
    bone = layers.Conv2D(
        input_shape[-1],
        1,
        activation="relu",
        kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(INITIAL_BONE),
        name="bone_layer",
    )(x)
    soft_tissue = layers.Subtract(name="subtract_bone")([inputs, bone])
    outputs = layers.Activation("relu", name="bone_free")(soft_tissue)
    return keras.Model(inputs, outputs, name=name)


@keras.saving.register_keras_serializable(package="lecture_lib")
class VariationalSampling(layers.Layer):
    """Reparameterization trick `z = μ + exp(½ log σ²) · ε` with `ε ~ N(0, I)`, adding the VAE's KL term as a loss.

    In training it samples `z` and adds `kl_weight · KL(N(μ, σ²) ‖ N(0, I)) / num_pixels` (batch mean) with
    `add_loss`, where `KL = −½ Σ_j (1 + log σ²_j − μ_j² − σ²_j)`. Outside training it returns `μ`, so predictions
    are deterministic.

    Input shape:
        `[z_mean, z_log_var]`, each `(batch, latent_dim)`.

    Output shape:
        `(batch, latent_dim)`.

    Args:
        num_pixels: the divisor that puts the KL term on the scale of a per-pixel reconstruction loss.
        kl_weight: the KL weight (`β` of a β-VAE; 1 is the plain ELBO).
        seed: seed of the noise.
        **kwargs: standard `keras.layers.Layer` arguments.
    """

    def __init__(self, num_pixels: int = 1, kl_weight: float = 1.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.num_pixels = check_count(num_pixels, "num_pixels")
        if isinstance(kl_weight, bool) or not isinstance(kl_weight, numbers.Real) or kl_weight < 0:
            raise ValueError(f"kl_weight must be a non-negative number, got {kl_weight!r}; 1.0 is the plain VAE")
        self.kl_weight = float(kl_weight)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        z_mean, z_log_var = inputs
        kl = -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)
        self.add_loss(self.kl_weight * ops.mean(kl) / self.num_pixels)
        if not training:
            return z_mean
        noise = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * noise

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "num_pixels": self.num_pixels, "kl_weight": self.kl_weight, "seed": self.seed}


def build_conditional_vae(
    image_shape=(64, 64, 1),
    num_codes: int = NUM_PATHOLOGIES,
    latent_dim: int = 32,
    filters: int = 16,
    depth: int = 3,
    kl_weight: float = 1.0,
    seed: int | None = None,
    name: str = "conditional_vae",
) -> keras.Model:
    """Build a conditional VAE that generates chest images for given pathology codes.

    Encoder (sub-model `"encoder"`): `depth` × stride-2 3×3 conv-BN-ReLU (filters doubling), flatten, concatenated
    with the codes, dense layers to `z_mean` and `z_log_var`. Decoder (sub-model `"decoder"`): `[z, codes]` → dense →
    reshape to the smallest feature map → `depth` × stride-2 transposed convolution-BN-ReLU → 3×3 convolution with
    sigmoid. `VariationalSampling` joins them and adds the KL term; compile with a per-pixel reconstruction loss.

    Args:
        image_shape: `(height, width, channels)`; height and width must be multiples of `2**depth`.
        num_codes: length of the condition vector, 15 for the slide's multi-hot codes.
        latent_dim: size of `z`.
        filters: filters of the first encoder level.
        depth: encoder / decoder levels.
        kl_weight: weight of the KL term.
        seed: seed of the sampling noise during training.
        name: the model's name.

    Returns:
        A `keras.Model` mapping `[images (batch, height, width, channels), codes (batch, num_codes)]` to
        reconstructions `(batch, height, width, channels)` in `[0, 1]`, with sub-models `model.get_layer("encoder")`
        and `model.get_layer("decoder")` (`[z (batch, latent_dim), codes] → images`).

    Raises:
        ValueError: for an invalid shape or knob.
    """
    depth = check_count(depth, "depth")
    image_shape = check_input_shape(image_shape, 2**depth)
    num_codes = check_count(num_codes, "num_codes")
    latent_dim = check_count(latent_dim, "latent_dim")
    filters = check_count(filters, "filters")
    height, width, channels = image_shape
    smallest = (height // 2**depth, width // 2**depth, filters * 2 ** (depth - 1))

    image_in = keras.Input(image_shape, name="image")
    codes_in = keras.Input((num_codes,), name="codes")
    x = image_in
    for level in range(depth):
        x = conv_bn_relu(x, filters * 2**level, True, name=f"encoder{level}", strides=2)
    x = layers.Concatenate(name="encoder_condition")([layers.Flatten(name="encoder_flatten")(x), codes_in])
    x = layers.Dense(4 * latent_dim, activation="relu", name="encoder_hidden")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, kernel_initializer="zeros", name="z_log_var")(x)
    encoder = keras.Model([image_in, codes_in], [z_mean, z_log_var], name="encoder")

    z_in = keras.Input((latent_dim,), name="z")
    decoder_codes = keras.Input((num_codes,), name="codes")
    x = layers.Concatenate(name="decoder_condition")([z_in, decoder_codes])
    x = layers.Dense(int(np.prod(smallest)), activation="relu", name="decoder_dense")(x)
    x = layers.Reshape(smallest, name="decoder_reshape")(x)
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(
            filters * 2**level, 3, strides=2, padding="same", use_bias=False, name=f"decoder{level}_up"
        )(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"decoder{level}_bn")(x)
        x = layers.Activation("relu", name=f"decoder{level}_relu")(x)
    generated = layers.Conv2D(channels, 3, padding="same", activation="sigmoid", name="generated")(x)
    decoder = keras.Model([z_in, decoder_codes], generated, name="decoder")

    images = keras.Input(image_shape, name="image")
    codes = keras.Input((num_codes,), name="codes")
    mean, log_var = encoder([images, codes])
    z = VariationalSampling(height * width * channels, kl_weight, seed, name="sampling")([mean, log_var])
    return keras.Model([images, codes], decoder([z, codes]), name=name)


def sample(
    model: keras.Model, codes, num_samples: int = 1, seed: int | None = None, temperature: float = 1.0
) -> np.ndarray:
    """Generate images for pathology codes with a trained conditional VAE, drawing `z ~ N(0, temperature² I)`.

    Args:
        model: a model from `build_conditional_vae` (or its `"decoder"` sub-model).
        codes: one condition or several: a multi-hot vector `(num_codes,)`, an array `(n, num_codes)`, an NIH label
            string such as `"Cardiomegaly|Effusion"`, or a list of such strings.
        num_samples: images per condition.
        seed: seed of `z` (numpy), for reproducible samples.
        temperature: scale of `z`; 1 samples the prior, smaller values trade diversity for typical images (as
            Glow's reduced temperature or BigGAN's truncation).

    Returns:
        `float32` `(n · num_samples, height, width, channels)` in `[0, 1]`, the `num_samples` images of the first
        condition first.

    Raises:
        ValueError: if the codes do not match the decoder's condition length, hold NaN, or `temperature` < 0.
    """
    num_samples = check_count(num_samples, "num_samples")
    if isinstance(temperature, bool) or not isinstance(temperature, int | float) or temperature < 0:
        raise ValueError(f"temperature must be a number >= 0 (1 samples the prior), got {temperature!r}")
    decoder = model.get_layer("decoder") if "decoder" in {layer.name for layer in model.layers} else model
    latent_dim, num_codes = decoder.inputs[0].shape[-1], decoder.inputs[1].shape[-1]
    if isinstance(codes, str):
        codes = multi_hot(codes)[None]
    elif isinstance(codes, list | tuple) and codes and isinstance(codes[0], str):
        codes = np.stack([multi_hot(item) for item in codes])
    codes = np.asarray(codes, dtype="float32")
    codes = codes[None] if codes.ndim == 1 else codes
    if codes.ndim != 2 or codes.shape[1] != num_codes:
        raise ValueError(f"codes must have shape ({num_codes},) or (n, {num_codes}), got {codes.shape}")
    if np.isnan(codes).any():
        raise ValueError("codes hold NaN (unknown labels); pass 0 or 1 for every code when generating")
    repeated = np.repeat(codes, num_samples, axis=0)
    z = temperature * np.random.default_rng(seed).standard_normal((len(repeated), latent_dim)).astype("float32")
    return np.asarray(decoder.predict([z, repeated], verbose=0, batch_size=64), dtype="float32")
