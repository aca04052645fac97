"""Landmark detection (notebook 04): heatmaps and soft-argmax, the cardiothoracic ratio and its limits on AP films,
Wing vs MSE near zero error, MSE and outliers, the medical need."""

from __future__ import annotations

import numpy as np

from lecture_lib.quiz import figures
from lecture_lib.quiz.bank.recap import latex_matrix
from lecture_lib.quiz.kinds import Array, Choice, Number, Option, Shape

LANDMARK_NAMES = ("heart right border", "heart left border", "right inner rib cage", "left inner rib cage")
LANDMARK_SIZE = 256

HEATMAP = np.array(
    [
        [0, 0, 1, 2, 1],
        [0, 1, 2, 4, 2],
        [0, 0, 1, 3, 1],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0],
    ],
    dtype=np.float32,
)
"""A 5×5 landmark heatmap of scores (logits) before SoftMax 2D."""

CTR_NAMES = ("right_heart", "left_heart", "right_thorax", "left_thorax")
CTR_POINTS = np.array([[82.0, 150.0], [166.0, 170.0], [52.0, 140.0], [204.0, 136.0]])
"""`(x, y)` pixels of the four CTR points on a 256 × 256 PA film; "right" is the patient's right, the viewer's left."""

WING_WIDTH, WING_EPSILON = 10.0, 2.0
"""Notebook 04's Wing parameters in pixels (Feng et al., 2018)."""
SMALL_ERROR = 0.25
COORDINATE_ERRORS = np.array([3.0, 1.0, 0.5, 18.0])
"""Notebook 04's example: four coordinate errors in pixels, one of them an outlier."""


def soft_argmax(scores, normalize=None) -> np.ndarray:
    """Return the expected `(x, y)` of a SoftMax 2D over a heatmap of scores (x = column, y = row)."""
    scores = np.asarray(scores, dtype=np.float64)
    weights = np.exp(scores - scores.max()) if normalize is None else normalize(scores)
    weights = weights / weights.sum()
    rows, cols = np.indices(scores.shape)
    return np.array([np.sum(weights * cols), np.sum(weights * rows)])


def cardiothoracic_ratio(points) -> float:
    """Return the CTR of `(right_heart, left_heart, right_thorax, left_thorax)` points `(x, y)`: widths along x."""
    x = np.asarray(points, dtype=np.float64)[:, 0]
    return float((x[1] - x[0]) / (x[3] - x[2]))


def loss_slopes(error, width=WING_WIDTH, epsilon=WING_EPSILON) -> np.ndarray:
    """Return |dL/dx| of MAE, MSE and Wing at an error `x` (below the Wing width)."""
    error = abs(float(error))
    return np.array([1.0, 2 * error, width / (epsilon + error)])


def _soft_argmax_mistakes(d):
    heatmap = d["heatmap"]
    x, y = soft_argmax(heatmap)
    row, col = np.unravel_index(np.argmax(heatmap), heatmap.shape)
    return [
        ((y, x), "you swapped the coordinates: a landmark is (x, y) = (column, row), like CXRSet.landmarks."),
        (
            (col, row),
            "that is the hard argmax, the single best pixel. Soft-argmax averages every pixel's (x, y) weighted by "
            "its SoftMax 2D probability, so it is differentiable and can land between pixels.",
        ),
        (
            tuple(soft_argmax(heatmap, normalize=lambda s: s)),
            "you divided the raw scores by their sum; SoftMax 2D exponentiates first: p = exp(score) / Σ exp(score) "
            "over all 25 pixels.",
        ),
        ((x + 1, y + 1), "pixel coordinates start at 0 here (the top-left pixel is (0, 0))."),
    ]


def _ctr_mistakes(d):
    points = np.asarray(d["points"], dtype=np.float64)
    heart = np.linalg.norm(points[1] - points[0])
    thorax = np.linalg.norm(points[3] - points[2])
    ratio = cardiothoracic_ratio(points)
    return [
        (heart / thorax, "the CTR compares horizontal widths: use the x coordinates only."),
        (1 / ratio, "that is thorax over heart; the CTR puts the heart's width over the thorax's."),
        (
            (points[1, 0] - points[0, 0]) / points[3, 0],
            "a width is a difference of two x's: the thorax runs from the right to the left inner rib margin.",
        ),
    ]


def _wing_mistakes(d):
    x, w, eps = d["error"], d["width"], d["epsilon"]
    return [
        ([1.0, x, w / (eps + x)], "the slope of MSE = x² is 2x."),
        ([1.0, 2 * x, w * np.log(1 + x / eps)], "that Wing number is the loss's value; its slope is w / (ε + |x|)."),
        ([1.0, 2 * x, 1 / (eps + x)], "the Wing slope keeps the factor w: w / (ε + |x|)."),
        ([x, x**2, w * np.log(1 + x / eps)], "those are the losses' values; the question asks for their slopes."),
    ]


def _outlier_mistakes(d):
    errors = d["errors"]
    mse, mae = float(np.mean(errors**2)), float(np.mean(np.abs(errors)))
    return [
        ([np.sqrt(mse), mae], "the square root of the MSE is the RMSE; give the mean of the squares."),
        ([float(np.sum(errors**2)), float(np.sum(np.abs(errors)))], "average over the four errors, not the sum."),
        ([mae, mse], "the order is [MSE, MAE]."),
    ]


QUESTIONS = (
    Shape(
        id="landmark_v2_shape",
        title="Landmark output, v2",
        prompt=(
            f"For cardiometry a network places {len(LANDMARK_NAMES)} points ({', '.join(LANDMARK_NAMES)}) on a "
            f"{LANDMARK_SIZE}×{LANDMARK_SIZE} X-ray. In *DL formalization v2* it outputs one heatmap per point at the "
            "input's resolution. What is the output shape for one image?"
        ),
        hint="v2: output tensor shape (Height, Width, # of Points).",
        explanation="One heatmap channel per point, like a segmentation output with one class per landmark; "
        "SoftMax 2D turns each channel into a probability map. v1 regresses (# of Points, 2) coordinates instead.",
        data={"image_size": LANDMARK_SIZE, "num_points": len(LANDMARK_NAMES)},
        formula=lambda d: (d["image_size"], d["image_size"], d["num_points"]),
        mistakes=lambda d: [
            ((d["num_points"], 2), "that is v1, the coordinates; v2 outputs heatmaps."),
            (
                (d["num_points"], d["image_size"], d["image_size"]),
                "that is channels-first; Keras puts the points on the last axis.",
            ),
            (
                (d["image_size"], d["image_size"], 1),
                "each point needs its own heatmap; one channel cannot say which peak is which point.",
            ),
            ((d["image_size"], d["image_size"], 2), "the last axis counts points, not coordinates."),
        ],
    ),
    Array(
        id="soft_argmax",
        title="Soft-argmax of a heatmap",
        prompt=(
            "A 5×5 heatmap of scores for one landmark (before SoftMax 2D):\n\n"
            f"$${latex_matrix(HEATMAP)}$$\n\n"
            "Apply SoftMax 2D over all 25 pixels, then take the expected position: "
            "$x = \\sum p \\cdot \\text{column}$, $y = \\sum p \\cdot \\text{row}$ (0-based, the top-left pixel is "
            "(0, 0)). Give `(x, y)` to two decimals."
        ),
        hint="p = exp(score) / Σ exp(score) over the whole 5×5 map; `np.indices` gives the row and column of every "
        "pixel. `landmark['heatmap']` holds the scores.",
        explanation="The peak pulls the estimate, the neighbours pull it off the grid: soft-argmax is "
        "differentiable and sub-pixel, unlike argmax.",
        data={"heatmap": HEATMAP},
        data_name="landmark",
        figure=figures.heatmap,
        formula=lambda d: soft_argmax(d["heatmap"]),
        tolerance=0.01,
        describe="two numbers (x, y)",
        mistakes=_soft_argmax_mistakes,
    ),
    Number(
        id="ctr_value",
        title="The cardiothoracic ratio from four points",
        prompt=(
            "A landmark detector places the four CTR points on a 256 × 256 **PA** film, `(x, y)` in pixels:\n\n"
            + "\n".join(
                f"- `{name}`: {tuple(float(v) for v in point)}"
                for name, point in zip(CTR_NAMES, CTR_POINTS, strict=True)
            )
            + "\n\n\"Right\" is the patient's right, on the viewer's left. What is the cardiothoracic ratio, the "
            "widest heart width over the widest inner thoracic width?"
        ),
        hint="Both widths are measured horizontally: a difference of x coordinates, left point minus right point.",
        explanation="CTR = (x_left_heart − x_right_heart) / (x_left_thorax − x_right_thorax): only the x "
        "coordinates count, as in `metrics.cardiothoracic_ratio`. Above 0.5 on a PA film suggests cardiomegaly.",
        data={"names": CTR_NAMES, "points": CTR_POINTS, "image_size": LANDMARK_SIZE},
        data_name="points",
        figure=figures.landmark_points,
        formula=lambda d: cardiothoracic_ratio(d["points"]),
        tolerance=1e-3,
        mistakes=_ctr_mistakes,
    ),
    Choice(
        id="ctr_ap_film",
        title="A CTR on an AP film",
        prompt=(
            "A portable **AP** film of a patient in bed gives CTR = 0.56 from four correctly placed points. What do "
            "you conclude?"
        ),
        hint="Where is the heart relative to the detector on a PA film, and on an AP film?",
        explanation="On a PA film the heart lies close to the detector and is shown nearly at its true size; on an "
        "AP film (portable, often supine) it lies far from the detector and is magnified more than the thorax. The "
        "0.5 rule is a rule for PA films: notebook 04's AP films hold the false alarms of CTR > 0.5.",
        options=(
            Option(
                "Cardiomegaly: the CTR is above 0.5",
                "the 0.5 rule is a rule for PA films; on an AP film the heart is magnified more than the thorax.",
            ),
            Option(
                "The heart is even larger than measured, because an AP film shrinks the heart",
                "it is the other way round: on an AP film the heart lies far from the detector, so it is magnified.",
            ),
            Option(
                "Multiply the CTR by the standard AP correction factor, then apply the 0.5 rule",
                "there is no one factor: the magnification depends on the set-up and the patient (notebook 04's "
                "phantom draws AP hearts 8–20 % wider relative to the thorax).",
            ),
            Option(
                "The 0.5 rule does not apply: the heart, far from the detector, is magnified more than the thorax",
                "the magnification overstates the heart on AP films.",
            ),
        ),
        truth=(
            "66a429fe45f47683833a7c4f0de84ea3",
            "28f57910d593c0462cf19b99d7fae5c2",
            "93b093040a7f953a23e3e2e4ccd06a2f",
            "bd366254a85f695c7e50524dbae1b1dd",
        ),
    ),
    Array(
        id="wing_slopes",
        title="Which loss still pulls near zero error",
        prompt=(
            "For an error $x = \\hat y - y$ of one coordinate, in pixels: $\\text{MAE} = |x|$, $\\text{MSE} = x^2$ "
            "and $\\text{wing}(x) = w \\ln(1 + |x| / \\epsilon)$ for $|x| < w$, with notebook 04's $w = "
            f"{WING_WIDTH:g}$ and $\\epsilon = {WING_EPSILON:g}$. At a small error of $x = {SMALL_ERROR}$ pixel, "
            "how hard does each loss pull? Give the slopes $|dL/dx|$ as `[MAE, MSE, Wing]`."
        ),
        hint="Differentiate each formula: |x| has slope 1, x² has 2x, and ln(1 + u) has 1 / (1 + u).",
        explanation="MAE pulls with the same force at every error; MSE's pull 2x fades as the error shrinks; "
        "Wing's w / (ε + |x|) grows towards w / ε = 5, so the last pixels of error still matter. Beyond |x| = w Wing "
        "is linear like MAE, so outliers do not dominate (Feng et al., 2018).",
        data={"error": SMALL_ERROR, "width": WING_WIDTH, "epsilon": WING_EPSILON},
        formula=lambda d: loss_slopes(d["error"], d["width"], d["epsilon"]),
        tolerance=1e-3,
        describe="three numbers [MAE, MSE, Wing]",
        mistakes=_wing_mistakes,
    ),
    Array(
        id="mse_outlier",
        title="MSE, MAE and one outlier",
        prompt=(
            f"A landmark model's four coordinate errors on one image are {COORDINATE_ERRORS.tolist()} pixels; the "
            "last is an outlier. Give the mean squared error and the mean absolute error as `[MSE, MAE]`."
        ),
        hint="Square the four errors and average them; then average their absolute values.",
        explanation="Of the MSE, 18² / 4 = 81 comes from the outlier and only about 2.56 from the three others, "
        "while MAE grows only linearly with it: MSE is dominated by outliers (notebook 04).",
        data={"errors": COORDINATE_ERRORS},
        formula=lambda d: [float(np.mean(d["errors"] ** 2)), float(np.mean(np.abs(d["errors"])))],
        tolerance=1e-3,
        describe="two numbers [MSE, MAE]",
        mistakes=_outlier_mistakes,
    ),
    Choice(
        id="landmark_need",
        title="Cardiometry as a landmark task",
        prompt=(
            "The slide names two medical needs for landmark detection: the heads of surgical instruments and "
            "**cardiometry**. What makes cardiometry a landmark task?"
        ),
        hint="What does a radiologist do by hand to measure the heart on a chest film?",
        explanation="Radiologists place four points by hand (the heart borders and the inner rib margins at their "
        "widest) and divide the two widths. A detector places the same four points, so the CTR follows for every "
        "image, and a doctor can check each point (notebook 04).",
        options=(
            Option(
                "A classifier cannot learn a Cardiomegaly label",
                "notebook 01 learns Cardiomegaly as a label; the points give the measurement behind it, which a "
                "doctor can check.",
            ),
            Option(
                "Landmarks give the heart's volume",
                "four points on a projection give widths, not a volume.",
            ),
            Option(
                "Landmark detectors need no annotated images",
                "someone must place the points on the training images; public chest sets with landmarks are rare, "
                "which is why notebook 04 trains on the phantom.",
            ),
            Option(
                "The cardiothoracic ratio is measured from four points; a detector places them, so the ratio follows "
                "for every image",
                "the measurement a doctor makes by hand becomes the network's output.",
            ),
        ),
        truth=(
            "68247381206f5e1f6194083b3362ebf0",
            "5d28115d79d1731e6665eee7e6fe6f09",
            "017a27c13a74bf2bf6d452f129cf3cc1",
            "67d65a755c7378a6eb7986f0feb14761",
        ),
    ),
)

SECTION = {
    "name": "Landmarks",
    "title": "Landmark detection",
    "notebook": "04_landmarks",
    "questions": QUESTIONS,
}
