"""Data augmentation for chest radiographs, built from Keras preprocessing layers.

A model trained on one scanner, one hospital or one phantom sees a narrow slice of what real films look like:
patients framed differently, rotated a few degrees, a film exposed darker or processed with another contrast curve.
Augmentation draws such changes at random at every epoch, so the model learns what stays the same. Geometric
changes (rotation, zoom, translation) must move the image and its masks together; intensity changes (contrast,
brightness, gamma, blur, noise) touch the image only. Keras' image preprocessing layers do both when they are given
a dict `{"images": x, "segmentation_masks": y}`; this module adds what Keras lacks for radiographs, `RandomGamma`
(a detector or film curve `x ** gamma`), and the ready-made pipeline the course uses.

Example:
    >>> pipeline = build_augmentation(seed=0)
    >>> out = pipeline({"images": x, "segmentation_masks": y}, training=True)  # x (N, H, W, 1), y (N, H, W, M)
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

__all__ = ["RandomGamma", "AugmentedArrays", "build_augmentation"]


def _check_factor(name: str, value, upper: float | None = None) -> float:
    """A non-negative number (NumPy scalars welcome), at most `upper`."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (upper is not None and value > upper):
        limit = f" and at most {upper}" if upper is not None else ""
        raise ValueError(f"{name} must be >= 0{limit}, got {value!r}; 0 switches it off")
    return value


@keras.saving.register_keras_serializable(package="lecture_lib")
class RandomGamma(layers.Layer):
    """Raise each image to a random power: `x ** gamma`, one gamma per image, for images in [0, 1].

    A gamma below 1 brightens the mid-greys (a softer film curve), above 1 darkens them; 0 and 1 stay fixed, so
    black air and saturated bone keep their values. `log(gamma)` is uniform in `[-log(1 + factor), log(1 + factor)]`,
    so brightening and darkening are equally likely. Masks and labels pass through unchanged.

    Args:
        factor: the largest change, `gamma` in `[1 / (1 + factor), 1 + factor]`; 0 switches the layer off.
        seed: seed of the layer's random stream.

    Call args:
        inputs: images `(batch, height, width, channels)` in [0, 1], or a dict with `"images"` (other keys such as
            `"segmentation_masks"` are returned as they are).
        training: the layer changes the images only when True.
    """

    def __init__(self, factor: float = 0.5, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.factor = _check_factor("factor", factor)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=True):
        images = inputs["images"] if isinstance(inputs, dict) else inputs
        if training and self.factor > 0:
            limit = math.log1p(self.factor)
            shape = (ops.shape(images)[0],) + (1,) * (len(images.shape) - 1)
            log_gamma = keras.random.uniform(shape, -limit, limit, seed=self.seed_generator, dtype=images.dtype)
            images = ops.power(ops.clip(images, 0.0, 1.0), ops.exp(log_gamma))
        if isinstance(inputs, dict):
            return {**inputs, "images": images}
        return images

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}


def build_augmentation(
    rotation_degrees: float = 8.0,
    zoom: float = 0.15,
    translation: float = 0.08,
    contrast: float = 0.3,
    brightness: float = 0.1,
    gamma: float = 0.5,
    blur_sigma: float = 1.0,
    seed: int | None = None,
) -> keras.layers.Pipeline:
    """Build the course's augmentation pipeline for radiographs in [0, 1] (and their masks).

    Geometric layers first (`RandomRotation`, `RandomZoom` with its own height and width factors, so the aspect
    ratio changes too, `RandomTranslation`; areas moved in from outside the image are black, like the air and the
    collimated borders of real films), then intensity layers (`RandomContrast`, `RandomBrightness`, `RandomGamma`,
    `RandomGaussianBlur`). Layers whose strength is 0 are left out.

    Args:
        rotation_degrees: largest rotation either way, in degrees (at most 45).
        zoom: largest zoom in or out, a fraction of the side, drawn for height and width separately (at most 0.9).
        translation: largest shift, a fraction of the side (at most 0.5).
        contrast: `RandomContrast` factor (at most 1).
        brightness: `RandomBrightness` factor, a fraction of the [0, 1] range (at most 1).
        gamma: `RandomGamma` factor.
        blur_sigma: largest Gaussian blur, in pixels (a 5x5 kernel; 0 switches it off).
        seed: seed of every layer's random stream (each layer gets `seed + k`).

    Returns:
        A `keras.layers.Pipeline`; call it on images `(batch, H, W, 1)` or on
        `{"images": images, "segmentation_masks": masks}` with `training=True`.

    Raises:
        TypeError, ValueError: for a strength that is not a number in its range.
    """
    rotation_degrees = _check_factor("rotation_degrees", rotation_degrees, 45.0)
    zoom = _check_factor("zoom", zoom, 0.9)
    translation = _check_factor("translation", translation, 0.5)
    contrast = _check_factor("contrast", contrast, 1.0)
    brightness = _check_factor("brightness", brightness, 1.0)
    gamma = _check_factor("gamma", gamma)
    blur_sigma = _check_factor("blur_sigma", blur_sigma)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0):
        raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
    seeds = iter(range(0, 100)) if seed is None else iter(range(int(seed), int(seed) + 100))

    def next_seed():
        value = next(seeds)
        return None if seed is None else value

    stack = []
    fill = {"fill_mode": "constant", "fill_value": 0.0}
    if rotation_degrees:
        stack.append(layers.RandomRotation(rotation_degrees / 360.0, seed=next_seed(), **fill))
    if zoom:
        stack.append(layers.RandomZoom((-zoom, zoom), (-zoom, zoom), seed=next_seed(), **fill))
    if translation:
        stack.append(layers.RandomTranslation(translation, translation, seed=next_seed(), **fill))
    if contrast:
        stack.append(layers.RandomContrast(contrast, value_range=(0.0, 1.0), seed=next_seed()))
    if brightness:
        stack.append(layers.RandomBrightness(brightness, value_range=(0.0, 1.0), seed=next_seed()))
    if gamma:
        stack.append(RandomGamma(gamma, seed=next_seed()))
    if blur_sigma:
        stack.append(
            layers.RandomGaussianBlur(
                factor=1.0, kernel_size=5, sigma=(0.0, blur_sigma), value_range=(0.0, 1.0), seed=next_seed()
            )
        )
    return layers.Pipeline(stack, name="augmentation")


class AugmentedArrays(keras.utils.PyDataset):
    """Batches of in-memory images and masks, shuffled and augmented anew at every epoch, for `model.fit`.

    Args:
        images: `(N, H, W, 1)` float32 in [0, 1].
        masks: `(N, H, W, M)` targets moved with the images (segmentation masks), or None.
        batch_size: images per batch.
        pipeline: the augmentation, e.g. `build_augmentation(seed=0)`; None gives plain shuffled batches.
        seed: seed of the per-epoch shuffle.
    """

    def __init__(self, images, masks=None, batch_size: int = 8, pipeline=None, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        images = np.asarray(images, dtype=np.float32)
        if images.ndim != 4:
            raise ValueError(f"images must have shape (N, H, W, C), got {images.shape}")
        if masks is not None:
            masks = np.asarray(masks, dtype=np.float32)
            if masks.shape[:3] != images.shape[:3]:
                raise ValueError(
                    f"masks have shape {masks.shape} but images {images.shape}; pass one mask per image, same size"
                )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.images, self.masks, self.batch_size = images, masks, int(batch_size)
        self.pipeline = pipeline
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(images))

    def __len__(self):
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        x = self.images[rows]
        y = None if self.masks is None else self.masks[rows]
        if self.pipeline is not None:
            if y is None:
                x = self.pipeline(x, training=True)
            else:
                out = self.pipeline({"images": x, "segmentation_masks": y}, training=True)
                x, y = out["images"], out["segmentation_masks"]
            x = ops.convert_to_numpy(x)
            y = None if y is None else ops.convert_to_numpy(y)
        return (x,) if y is None else (x, y)

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.images))
