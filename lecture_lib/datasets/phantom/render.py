"""Rendering one study: its image, bone-free twin, masks, boxes and landmarks, deterministic given the `Study`.

`render_image` runs the whole chain: the healthy chest (`anatomy.render_anatomy`), each finding's `render` from
`FINDING_TABLE`, support devices, then the detector (quantum noise, blur, bones, scatter, detail enhancement, film
curve, collimation and markers, from `acquisition`).
"""

from __future__ import annotations

import math

import numpy as np

from lecture_lib.datasets.phantom.acquisition import (
    Frame,
    add_scatter,
    auto_window,
    blur,
    collimate,
    detail_enhance,
    draw_markers,
    film,
    low_pass,
    quantum_noise,
)
from lecture_lib.datasets.phantom.anatomy import MU_BONE, MU_SOFT, Patient, render_anatomy
from lecture_lib.datasets.phantom.findings import FINDING_TABLE, Study

MASK_NAMES: tuple[str, ...] = (
    "right_lung",
    "left_lung",
    "heart",
    "pneumothorax",
    "effusion",
    "nodule",
    "mass",
    "consolidation",
    "pneumonia",
)
"""Mask channels `generate` can return. Lungs are the air-filled lung fields (pneumothorax included, pleural fluid
excluded); the heart is the cardiac silhouette; lesion channels hold every lesion of that kind."""

LANDMARK_NAMES: tuple[str, ...] = (
    "carina",
    "right_apex",
    "left_apex",
    "right_thorax",
    "left_thorax",
    "right_heart",
    "left_heart",
    "right_costophrenic",
    "left_costophrenic",
    "right_dome",
    "left_dome",
)
"""Landmarks in `(x, y)` pixels. `*_thorax` are the widest inner thoracic borders and `*_heart` the widest heart
borders, so `CTR = (x[left_heart] - x[right_heart]) / (x[left_thorax] - x[right_thorax])`."""


def landmark_pixels(patient: Patient, frame: Frame) -> np.ndarray:
    """Named landmarks of one image in pixels `(x, y)`, `(11, 2)` float32 in `LANDMARK_NAMES` order."""
    cx, heart, right, left = patient.midline, patient.heart, patient.right, patient.left
    widest = right.dome - 15.0
    anatomical = np.array(
        [
            (cx, patient.carina),
            (cx - patient.apex_position * right.width, right.apex),
            (cx + patient.apex_position * left.width, left.apex),
            (cx - right.width, widest),
            (cx + left.width, widest),
            (heart.center_x - heart.half_width, heart.center_y - heart.drop),
            (heart.center_x + heart.half_width, heart.center_y + heart.drop),
            (cx - right.width, right.dome + right.costophrenic),
            (cx + left.width, left.dome + left.costophrenic),
            (cx - 0.5 * right.width, right.dome),
            (cx + 0.5 * left.width, left.dome),
        ]
    )
    x, y = frame.to_pixels(anatomical[:, 0], anatomical[:, 1])
    return np.stack([x, y], axis=1).astype(np.float32)


def render_image(
    study: Study,
    frame: Frame,
    landmarks: np.ndarray,
    noise_seed: np.random.SeedSequence,
    channel: dict[str, int],
    image_out: np.ndarray,
    twin_out: np.ndarray | None,
    masks: np.ndarray,
) -> list[tuple]:
    """Render one study.

    Args:
        study: the study's parameters.
        frame: its pixel grid.
        landmarks: its landmarks `(11, 2)` pixels, which keep collimation and markers off the lungs.
        noise_seed: the image's own stream for the quantum noise (the twin gets the same noise).
        channel: mask name -> channel index in `masks`.
        image_out: `(H, W)` float32, receives the image in [0, 1].
        twin_out: `(H, W)` float32, receives the bone-free twin; or None.
        masks: `(H, W, M)` uint8, zero on entry, receives the masks.

    Returns:
        The boxes `(x1, y1, x2, y2, title)` in pixels, one per lesion that shows on the image.
    """
    patient, acquisition = study.patient, study.acquisition
    scene = render_anatomy(frame, patient, acquisition.arm_gap, acquisition.arms_raised, masks, channel)
    boxes = []
    for title, spec in study.findings:
        render = FINDING_TABLE[title].render
        if render is None:
            continue
        for (rows, cols), region in render(scene, patient, spec):
            hit_rows, hit_cols = np.nonzero(region)
            if hit_rows.size == 0:
                continue
            r0, c0 = rows.start, cols.start
            boxes.append(
                (c0 + hit_cols.min(), r0 + hit_rows.min(), c0 + hit_cols.max() + 1.0, r0 + hit_rows.max() + 1.0, title)
            )
            name = title.lower()
            if name in channel:
                masks[rows, cols, channel[name]] |= region
    projection = scene.projection
    for device in acquisition.devices:
        device.draw(frame, patient, projection)
    # Quantum noise: N = N0 exp(-P) photons per pixel, so log(N0 / N) has standard deviation exp(P / 2) / sqrt(N0).
    noise = quantum_noise(noise_seed, frame.size)
    photons = acquisition.photons * frame.spacing_x * frame.spacing_y
    noise *= np.exp(0.5 * np.maximum(projection, 0.0))
    projection += noise * (1.0 / math.sqrt(photons))
    sigma = acquisition.blur_mm / frame.spacing
    bone_free = blur(projection, sigma)
    bones = scene.bones
    bones *= (MU_BONE - MU_SOFT) * patient.bone_density
    image = bone_free + blur(bones, sigma)
    if acquisition.scatter:
        add_scatter(image, bone_free, acquisition.scatter, int(round(25.0 / frame.spacing)))
    if acquisition.detail:
        # Detail enhancement relative to the low-pass of the full image, for the twin too: the image minus its twin
        # stays the (enhanced) bone, never negative.
        radius = int(round(12.0 / frame.spacing))
        smooth = low_pass(image, radius)
        detail_enhance(image, smooth, acquisition.detail)
        detail_enhance(bone_free, smooth, acquisition.detail)
    if acquisition.auto_window is not None:
        center, width = auto_window(image, scene.lung_ramp, acquisition.auto_window)
    else:
        center, width = acquisition.window_center, acquisition.window_width
    film(image, center, width, acquisition.gamma, image_out)
    if twin_out is not None:
        film(bone_free, center, width, acquisition.gamma, twin_out)
    if acquisition.collimation or acquisition.markers:
        for out in (image_out, twin_out):
            if out is not None:
                collimate(out, acquisition.collimation, frame, landmarks)
                draw_markers(out, acquisition.markers, landmarks)
    return boxes
