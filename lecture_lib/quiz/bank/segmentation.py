"""Segmentation (notebook 02): the output shape, sigmoid vs pixel-wise softmax, Dice, organ areas and their
agreement with the truth (Bland–Altman), the lung field and the medical need."""

from __future__ import annotations

import numpy as np

from lecture_lib.quiz import figures
from lecture_lib.quiz.bank.recap import latex_matrix
from lecture_lib.quiz.kinds import Array, Choice, Number, Option, Shape

SEGMENTATION_CLASSES = ("background", "right lung", "left lung", "heart")
SEGMENTATION_SIZE = 512

MASK_TRUE = np.array(
    [
        [0, 0, 0, 0, 0, 0],
        [0, 1, 1, 0, 0, 0],
        [0, 1, 1, 1, 0, 0],
        [0, 1, 1, 1, 1, 0],
        [0, 0, 1, 1, 1, 0],
        [0, 0, 0, 0, 0, 0],
    ],
    dtype=np.uint8,
)
MASK_PRED = np.array(
    [
        [0, 0, 0, 0, 0, 0],
        [0, 0, 1, 1, 0, 0],
        [0, 1, 1, 1, 0, 0],
        [0, 1, 1, 1, 1, 1],
        [0, 0, 0, 1, 1, 0],
        [0, 0, 0, 0, 0, 0],
    ],
    dtype=np.uint8,
)

HEART_AREAS_CM2 = {
    "predicted": np.array([84.0, 90.0, 81.0, 103.0, 93.0]),
    "true": np.array([80.0, 92.0, 75.0, 101.0, 88.0]),
}
"""Heart areas of five test films, from a U-Net's masks and from the true masks, in cm²."""

HEART_PIXELS = 16_000
PIXEL_SPACING_MM = (0.8, 0.7)
"""(row, column) spacing in mm, as in `CXRSet.pixel_spacing_mm`."""


def overlap_counts(x, y) -> tuple[float, float, float, float]:
    """Return |X ∩ Y|, |X|, |Y| and |X ∪ Y| of two binary masks."""
    x, y = np.asarray(x, bool), np.asarray(y, bool)
    return float(np.sum(x & y)), float(np.sum(x)), float(np.sum(y)), float(np.sum(x | y))


def dice(x, y) -> float:
    """Return the slide's DSC = 2|X ∩ Y| / (|X| + |Y|)."""
    inter, size_x, size_y, _ = overlap_counts(x, y)
    return 2 * inter / (size_x + size_y)


def _dice_mistakes(d):
    inter, size_x, size_y, union = overlap_counts(d["x"], d["y"])
    accuracy = float(np.mean(np.asarray(d["x"]) == np.asarray(d["y"])))
    return [
        (inter / union, "that is IoU (Jaccard), |X∩Y| / |X∪Y|. DSC counts the overlap twice over the sum of sizes."),
        (inter / (size_x + size_y), "the factor 2 is missing: without it two identical masks would score 0.5."),
        (accuracy, "that is pixel accuracy, which the many background pixels inflate; DSC looks at the masks only."),
    ]


def bland_altman_limits(predicted, true) -> np.ndarray:
    """Return `[bias, lower, upper]`: the mean of `predicted - true` and bias ∓ 1.96 × their sample SD."""
    difference = np.asarray(predicted, dtype=np.float64) - np.asarray(true, dtype=np.float64)
    bias, sd = difference.mean(), difference.std(ddof=1)
    return np.array([bias, bias - 1.96 * sd, bias + 1.96 * sd])


def _bland_altman_mistakes(d):
    difference = d["predicted"] - d["true"]
    bias, sd = difference.mean(), difference.std(ddof=1)
    population = difference.std(ddof=0)
    return [
        (-bland_altman_limits(d["predicted"], d["true"])[[0, 2, 1]], "the differences are predicted − true."),
        (
            [bias, bias - 1.96 * population, bias + 1.96 * population],
            "divide the squared deviations by n − 1 (the sample SD), not by n.",
        ),
        ([bias, bias - 2 * sd, bias + 2 * sd], "the 95 % limits use 1.96 SD, not 2."),
        ([bias, -1.96 * sd, 1.96 * sd], "the limits are centred on the bias, not on 0: bias ± 1.96 SD."),
        (
            [np.abs(difference).mean(), bias - 1.96 * sd, bias + 1.96 * sd],
            "the bias is the mean of the signed differences; absolute values hide a model that draws too large.",
        ),
    ]


def _area_mistakes(d):
    row, col = d["pixel_spacing_mm"]
    pixels = d["pixels"]
    return [
        (pixels * row * col, "that is in mm²; 1 cm² = 100 mm²."),
        (pixels * row * col / 10, "1 cm = 10 mm, so 1 cm² = 10 × 10 mm²: divide by 100, not 10."),
        (pixels * row / 100, "a pixel's area is the row spacing times the column spacing, not one of them."),
        (pixels * col / 100, "a pixel's area is the row spacing times the column spacing, not one of them."),
    ]


QUESTIONS = (
    Shape(
        id="seg_output_shape",
        title="Segmentation output shape",
        prompt=(
            f"A U-Net takes a {SEGMENTATION_SIZE}×{SEGMENTATION_SIZE}×1 chest X-ray and labels every pixel as one of "
            f"{len(SEGMENTATION_CLASSES)} classes ({', '.join(SEGMENTATION_CLASSES)}) with a pixel-wise SoftMax. "
            "What is the shape of its output for one image (no batch axis)?"
        ),
        hint="The slide: output tensor shape (Height, Width, # of classes), and a pixel-wise softmax needs one "
        "channel per class, background included.",
        explanation="(Height, Width, # of classes): one probability per class at every pixel, summing to 1 over "
        "the last axis.",
        data={"image_size": SEGMENTATION_SIZE, "num_classes": len(SEGMENTATION_CLASSES)},
        formula=lambda d: (d["image_size"], d["image_size"], d["num_classes"]),
        mistakes=lambda d: [
            (
                (d["image_size"], d["image_size"], d["num_classes"] - 1),
                "a pixel-wise softmax makes every pixel pick exactly one class, so background needs its own channel.",
            ),
            ((d["image_size"], d["image_size"], 1), "that is the input's shape; the output has a channel per class."),
            (
                (d["num_classes"], d["image_size"], d["image_size"]),
                "that is channels-first; Keras puts the classes on the last axis.",
            ),
            (
                (d["image_size"], d["image_size"]),
                "that is a map of class indices (after argmax); the network outputs one probability channel per class.",
            ),
        ],
    ),
    Choice(
        id="sigmoid_overlap",
        title="Overlapping structures",
        prompt=(
            "JSRT's SCR masks outline both lungs, the heart and both **clavicles**, and the clavicles lie over the "
            "lungs. Which output head fits these masks?"
        ),
        hint="Can one pixel belong to two structures at once, and which activation allows it?",
        explanation="Sigmoid answers 'is this pixel lung?', 'is it clavicle?' independently, so a pixel may be both "
        "or neither, and the background needs no channel. Pixel-wise softmax fits mutually exclusive classes only, "
        "with the background as a class of its own (notebook 02).",
        options=(
            Option(
                "A pixel-wise softmax over background, lungs, heart and clavicles",
                "softmax makes the classes of a pixel compete and picks exactly one, so a pixel cannot be lung and "
                "clavicle at once.",
            ),
            Option(
                "A pixel-wise softmax without a background channel",
                "without background every pixel must be some structure, and the classes still compete: a pixel "
                "still cannot be in two.",
            ),
            Option(
                "One sigmoid channel for all structures together",
                "one channel can say 'some structure here' but not which one; each structure needs its own channel.",
            ),
            Option(
                "One sigmoid channel per structure, each its own yes/no question",
                "independent channels let a pixel be lung and clavicle at once.",
            ),
        ),
        truth=(
            "0e0c7df903a26dc08a4bd844c95a9c40",
            "95798870ced9c69aaa970b472ada5020",
            "717ec5497f5e785c7a55120184e210c6",
            "fd7e50553e22eeb420bb5a5a698a6c53",
        ),
    ),
    Number(
        id="dice_masks",
        title="DSC of two small masks",
        prompt=(
            "X is the true lung mask and Y the predicted one (1 = lung):\n\n"
            f"$$X = {latex_matrix(MASK_TRUE)} \\qquad Y = {latex_matrix(MASK_PRED)}$$\n\n"
            "What is their Dice similarity coefficient $DSC = \\frac{2|X \\cap Y|}{|X| + |Y|}$?"
        ),
        hint="|X| counts the 1s of X; |X ∩ Y| counts the pixels that are 1 in both. `masks['x']` and `masks['y']` "
        "hold the two arrays.",
        explanation="Twice the overlap over the two sizes; DSC is 1 for identical masks and 0 for disjoint ones, "
        "and 1 − DSC is the Dice loss.",
        data={"x": MASK_TRUE, "y": MASK_PRED},
        data_name="masks",
        figure=figures.two_masks,
        formula=lambda d: dice(d["x"], d["y"]),
        tolerance=1e-3,
        mistakes=_dice_mistakes,
    ),
    Choice(
        id="seg_loss_small",
        title="A loss for a small structure",
        prompt=(
            "A pneumothorax in SIIM-ACR often covers less than 1% of the image. A model that predicts *no "
            "pneumothorax* everywhere already scores 99% pixel accuracy. Which loss from the segmentation slide does "
            "**not** reward that empty prediction?"
        ),
        hint="Which formula has no term for the background pixels? Look at DSC = 2|X∩Y| / (|X| + |Y|).",
        explanation="An empty prediction has |X ∩ Y| = 0, so DSC = 0 and the Dice loss is 1, whatever the "
        "background does; that is why Dice (often plus CE) is popular for small lesions.",
        options=(
            Option(
                "Pixel-wise cross-entropy, averaged over all pixels",
                "averaged over all pixels, the few pneumothorax pixels make up 1% of the loss, so the empty mask "
                "already gets a low loss (class weights help, but that is an extra fix).",
            ),
            Option(
                "Dice loss, 1 − DSC",
                "the Dice loss looks only at the predicted and the true mask.",
            ),
            Option(
                "Mean squared error over all pixels",
                "MSE averaged over all pixels is dominated by the background as well, and the slide does not list "
                "it for segmentation.",
            ),
        ),
        truth=(
            "3e554ae0410163d861a27c3edb461d1f",
            "253a79a8daa6fe552366c1b126c9b083",
            "4bb119812f0d902ecf9ad79553d7d805",
        ),
    ),
    Number(
        id="mask_area",
        title="From a mask to an area",
        prompt=(
            f"A predicted heart mask covers **{HEART_PIXELS:,} pixels** of a radiograph whose pixel spacing is "
            f"**{PIXEL_SPACING_MM} mm** (row, column). What is the heart's area on the image, in **cm²**?"
        ),
        hint="One pixel covers (row spacing × column spacing) mm²; count the mm² in one cm².",
        explanation="A = #pixels × s_row × s_col / 100 (notebook 02). A radiograph is a projection, so this is the "
        "area of the heart's silhouette, not its volume.",
        data={"pixels": HEART_PIXELS, "pixel_spacing_mm": PIXEL_SPACING_MM},
        formula=lambda d: d["pixels"] * d["pixel_spacing_mm"][0] * d["pixel_spacing_mm"][1] / 100,
        tolerance=0.01,
        mistakes=_area_mistakes,
    ),
    Array(
        id="bland_altman_heart",
        title="Do predicted and true heart areas agree?",
        prompt=(
            "A U-Net's heart areas on five test films, from its masks and from the true masks, in cm²:\n\n"
            "| film | " + " | ".join(str(k + 1) for k in range(len(HEART_AREAS_CM2["true"]))) + " |\n"
            "|---|"
            + "---|" * len(HEART_AREAS_CM2["true"])
            + "\n"
            + "\n".join(
                f"| {name} | " + " | ".join(f"{value:g}" for value in values) + " |"
                for name, values in HEART_AREAS_CM2.items()
            )
            + "\n\nGive the Bland–Altman **bias** and **95 % limits of agreement** of predicted − true as "
            "`[bias, lower, upper]`, in cm² (the sample standard deviation, divided by n − 1)."
        ),
        hint="Take the five differences predicted − true: the bias is their mean, and the limits are the bias ∓ 1.96 "
        "times their standard deviation.",
        explanation="The model draws hearts too large on average (the bias), and one film can be off by anything "
        "between the two limits. A correlation close to 1 would show neither: it says that the two areas rise "
        "together, not that they agree (notebook 02's Bland–Altman plots).",
        data=HEART_AREAS_CM2,
        formula=lambda d: bland_altman_limits(d["predicted"], d["true"]),
        tolerance=0.01,
        describe="three numbers [bias, lower, upper]",
        mistakes=_bland_altman_mistakes,
    ),
    Choice(
        id="lung_field_opacity",
        title="A lung mask with a consolidation",
        prompt=(
            "A U-Net trained mostly on clear lungs leaves a dense **consolidation** out of its lung mask. What does "
            "the ground truth ask for, and what helps?"
        ),
        hint="Does the lung field end where the lung turns white, or where the anatomy ends?",
        explanation="The ground truth marks the lung field, the anatomical space, including the parts a finding "
        "makes dense. A model that has mostly seen clear lungs learns 'dark means lung'; training images with "
        "findings, and augmentation, are the remedies (notebook 02's failure case).",
        options=(
            Option(
                "The consolidation is no longer lung, so the model is right to leave it out",
                "the ground truth marks the lung field, the anatomical space: an opacity is as white as soft "
                "tissue, but it is still lung.",
            ),
            Option(
                "A threshold above 0.5 on the sigmoid output fixes it",
                "a higher threshold takes pixels away; it cannot add the dense region the model never learnt to "
                "call lung.",
            ),
            Option(
                "The mask should include it; more training images with findings, and augmentation, teach that",
                "the lung field includes the dense region, and the model must see such lungs to learn it.",
            ),
            Option(
                "Train longer on the same clear lungs",
                "more epochs on clear lungs teach 'dark means lung' even better; the model needs lungs with opacities.",
            ),
        ),
        truth=(
            "59a5cea2c0d8ac43a4b4a298a51d4de3",
            "8b0e0ee70333fdc9624e9b04ea8e6211",
            "503a20812eb048938850be706a461127",
            "568f6fd1e456356866259bc64306b893",
        ),
    ),
    Choice(
        id="segmentation_need",
        title="What a mask measures on a radiograph",
        prompt=(
            "The slide: segmentation helps **plan surgeries** and **estimates the volume of organs** (heart, lungs on "
            "a 3D study). What can a lung mask on a chest **radiograph** measure?"
        ),
        hint="A radiograph is a projection of the chest onto the detector: how many dimensions does a mask have?",
        explanation="On a 3D study a mask gives a volume (voxel count × voxel size). A radiograph is a 2D "
        "projection, so its masks give areas (pixel count × pixel spacing): lung fields shrink with volume loss and "
        "grow with hyperinflation, and a large cardiac silhouette suggests cardiomegaly (notebook 02).",
        options=(
            Option(
                "The lung volume in millilitres, from the pixel spacing",
                "a radiograph is a 2D projection: a mask gives an area, not a volume. Volumes need a 3D study such "
                "as CT, where voxels are counted.",
            ),
            Option(
                "The projected area of the lung field in cm², which shrinks with atelectasis and grows with emphysema",
                "pixel count × pixel spacing gives the area of the projected lung field.",
            ),
            Option(
                "Nothing clinical: masks only crop the image for a classifier",
                "the slide names clinical uses; on a radiograph masks give areas and, with the heart, the "
                "cardiothoracic ratio.",
            ),
            Option(
                "The lung's density in Hounsfield units",
                "Hounsfield units are CT's calibrated scale; a radiograph's grey levels depend on the exposure and "
                "the detector's processing.",
            ),
        ),
        truth=(
            "e7c8fa15539ef26dfd037f16fff4000b",
            "9b4bb91a189ef688297b84d3764e7a3a",
            "36f058dc7bceccd7df56c65b2f3f1201",
            "437e4008fea6e6758503fd8fa69699e9",
        ),
    ),
)

SECTION = {
    "name": "Segmentation",
    "title": "Segmentation",
    "notebook": "02_segmentation",
    "questions": QUESTIONS,
}
