"""Object detection (notebook 03): the slide's vector y, IoU, small boxes, non-maximum suppression, the medical need."""

from __future__ import annotations

import numpy as np

from lecture_lib import labels
from lecture_lib.quiz import figures
from lecture_lib.quiz.figures import box_text
from lecture_lib.quiz.kinds import Array, Choice, Code, Number, Option

IMAGE_SIZE = 1024
DETECTION_BOX = (256.0, 384.0, 512.0, 896.0)
"""A pneumonia box in pixels, `(x_min, y_min, x_max, y_max)` as in `CXRSet.boxes`, on a 1024×1024 image."""
DETECTION_TITLE = "Pneumonia"

IOU_BOX_A = (10.0, 20.0, 50.0, 60.0)
IOU_BOX_B = (30.0, 40.0, 90.0, 70.0)

NODULE_TRUE = (10.0, 10.0, 14.0, 14.0)
NODULE_PREDICTED = (9.0, 9.0, 15.0, 15.0)

NMS_BOXES = np.array(
    [
        [10, 10, 50, 50],
        [12, 12, 52, 52],
        [60, 20, 90, 50],
        [62, 22, 92, 52],
        [35, 35, 75, 75],
    ],
    dtype=np.float64,
)
NMS_SCORES = np.array([0.60, 0.90, 0.75, 0.50, 0.80])
NMS_IOU_THRESHOLD = 0.5


def box_area(box) -> float:
    """Return the area of a box `(x_min, y_min, x_max, y_max)`, 0 when it is empty."""
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def intersection(a, b) -> float:
    """Return the area of the overlap of two boxes, 0 when they do not overlap."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return width * height


def iou(box_a, box_b) -> float:
    """Return |A ∩ B| / |A ∪ B| of two boxes `(x_min, y_min, x_max, y_max)`; 0 when they do not overlap."""
    inter = intersection(box_a, box_b)
    union = box_area(box_a) + box_area(box_b) - inter
    return inter / union if union > 0 else 0.0


def non_max_suppression(boxes, scores, iou_threshold) -> list[int]:
    """Return the indices NMS keeps, highest score first: a box goes when it overlaps a kept one by more than the
    threshold."""
    kept: list[int] = []
    for index in np.argsort(-np.asarray(scores), kind="stable"):
        if all(iou(boxes[index], boxes[other]) <= iou_threshold for other in kept):
            kept.append(int(index))
    return kept


def detection_vector(box, image_size, code, order=("x", "y", "h", "w"), centre=True) -> np.ndarray:
    """Return the slide's `[Pc, Bx, By, Bh, Bw, c]` of one box, coordinates divided by the image size."""
    x_min, y_min, x_max, y_max = (float(v) / image_size for v in box)
    parts = {
        "x": (x_min + x_max) / 2 if centre else x_min,
        "y": (y_min + y_max) / 2 if centre else y_min,
        "h": y_max - y_min,
        "w": x_max - x_min,
    }
    return np.array([1.0, *(parts[key] for key in order), float(code)])


def _iou_inclusive(a, b):
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    area_a = (a[2] - a[0] + 1) * (a[3] - a[1] + 1)
    area_b = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    return inter / (area_a + area_b - inter)


def _iou_unclipped(a, b):
    inter = (min(a[2], b[2]) - max(a[0], b[0])) * (min(a[3], b[3]) - max(a[1], b[1]))
    union = box_area(a) + box_area(b) - inter
    return inter / union if union else float("nan")


def box_dice(a, b) -> float:
    """Return the Dice coefficient of two boxes, 2|A ∩ B| / (|A| + |B|)."""
    return 2 * intersection(a, b) / (box_area(a) + box_area(b))


def iou_mistakes(a, b) -> list:
    """Return `(value, message)` pairs of the usual wrong IoUs of two boxes."""
    inter = intersection(a, b)
    return [
        (box_dice(a, b), "that is the Dice coefficient of the boxes (2|A∩B| / (|A| + |B|)), not IoU."),
        (inter / min(box_area(a), box_area(b)), "divide by the union, not by the smaller box."),
        (inter / max(box_area(a), box_area(b)), "divide by the union |A| + |B| − |A∩B|, not by the larger box."),
        (inter / (box_area(a) + box_area(b)), "the union is |A| + |B| − |A∩B|: subtract the overlap counted twice."),
        (
            _iou_inclusive(a, b),
            "you added 1 to widths and heights (the old 'inclusive pixel' convention); here x_max − x_min is the "
            "width.",
        ),
        (
            _iou_unclipped(a, b),
            "when boxes do not overlap, min(x_max) − max(x_min) is negative: clip the intersection's width and "
            "height at 0, or two negatives multiply into a positive 'overlap'.",
        ),
    ]


def _vector_mistakes(d):
    box, size, code = d["box"], d["image_size"], labels.code_of(d["title"])
    return [
        (
            detection_vector(box, size, code, ("x", "y", "w", "h")),
            "Bw and Bh are swapped: the slide writes Bh (the height, along y) before Bw (the width).",
        ),
        (
            detection_vector(box, size, code, ("y", "x", "w", "h")),
            "your box is transposed: x runs along columns (to the right) and y along rows (down).",
        ),
        (
            detection_vector(box, size, code, ("y", "x", "h", "w")),
            "Bx and By are swapped: Bx is the horizontal centre (from x_min and x_max).",
        ),
        (detection_vector(box, size, code, centre=False), "(Bx, By) is the box centre, not its top-left corner."),
        (
            detection_vector(box, 1, code),
            "divide the coordinates by the image size, so they lie in [0, 1] whatever the resolution.",
        ),
    ]


def _nms_mistakes(d):
    boxes, scores, threshold = d["boxes"], d["scores"], d["iou_threshold"]
    kept = non_max_suppression(boxes, scores, threshold)
    by_score = [int(i) for i in np.argsort(-scores, kind="stable")]
    inverted: list[int] = []
    for index in by_score:
        if all(iou(boxes[index], boxes[other]) >= threshold for other in inverted):
            inverted.append(index)
    return [
        (sorted(kept), "those are the right boxes, listed by index; list them in the order NMS keeps them."),
        (by_score, "that keeps every box; NMS removes a box that overlaps an already kept one too much."),
        (
            inverted,
            "you removed the boxes that overlap little; NMS removes a box that overlaps a kept one by more than the "
            "threshold.",
        ),
        ([s for s in by_score if scores[s] > threshold], "that is a score threshold; NMS's threshold is on the IoU."),
    ]


QUESTIONS = (
    Array(
        id="detection_vector",
        title="The detection vector",
        prompt=(
            f"A {IMAGE_SIZE}×{IMAGE_SIZE} chest X-ray has one {DETECTION_TITLE.lower()} region in the box "
            f"`(x_min, y_min, x_max, y_max) = {box_text(DETECTION_BOX)}` pixels (x to the right, y down). Write the "
            "slide's target $y = [P_c, B_x, B_y, B_h, B_w, c]$, where $(B_x, B_y)$ is the box centre and $B_h$, "
            f"$B_w$ its height and width, all divided by the image size, and $c$ is the slide's code of "
            f"{DETECTION_TITLE}."
        ),
        hint="Pc says whether there is an object. The centre is the mean of the two corners; note the slide's "
        "order: Bh (height, along y) before Bw (width, along x).",
        explanation="Pc = 1 (there is a box), the centre and size divided by 1024, then the class. With several "
        "classes the library writes c as a one-hot vector c_1…c_C instead of one number.",
        data={"box": np.array(DETECTION_BOX), "image_size": IMAGE_SIZE, "title": DETECTION_TITLE},
        data_name="detection",
        figure=figures.box_on_image,
        formula=lambda d: detection_vector(d["box"], d["image_size"], labels.code_of(d["title"])),
        tolerance=1e-3,
        describe="a vector of 6 numbers",
        mistakes=_vector_mistakes,
    ),
    Number(
        id="iou_boxes",
        title="IoU of two boxes",
        prompt=(
            f"Box A is `{box_text(IOU_BOX_A)}` and box B is `{box_text(IOU_BOX_B)}`, both "
            "`(x_min, y_min, x_max, y_max)` in pixels. What is their intersection over union, "
            "$IoU = \\frac{|A \\cap B|}{|A \\cup B|}$?"
        ),
        hint="The overlap is a box too: from the larger x_min to the smaller x_max (and the same for y). The union "
        "is |A| + |B| − |A ∩ B|.",
        explanation="Overlap area over union area; detection metrics count a prediction as a hit when IoU ≥ 0.5.",
        data={"box_a": np.array(IOU_BOX_A), "box_b": np.array(IOU_BOX_B)},
        data_name="boxes",
        figure=figures.two_boxes,
        formula=lambda d: iou(d["box_a"], d["box_b"]),
        tolerance=1e-3,
        mistakes=lambda d: iou_mistakes(d["box_a"], d["box_b"]),
    ),
    Code(
        id="iou_fn",
        title="Write IoU",
        prompt=(
            "Write `iou(box_a, box_b)` for two boxes `(x_min, y_min, x_max, y_max)`. It must return 0 for boxes "
            "that do not overlap (also when they only touch) and 1 for identical boxes."
        ),
        hint="Intersection width = max(0, min(x_max) − max(x_min)); the same for the height. Union = |A| + |B| − "
        "intersection.",
        explanation="Clipping at 0 is the detail that matters: NMS and the IoU ≥ 0.5 hit test rely on it.",
        function_name="iou",
        stub=(
            "def iou(box_a, box_b):\n"
            '    """Return the intersection over union of two boxes (x_min, y_min, x_max, y_max)."""\n'
            "    ...  # your code here"
        ),
        reference=iou,
        cases=(
            ((0, 0, 10, 10), (5, 5, 15, 15)),
            ((0, 0, 10, 10), (0, 0, 10, 10)),
            ((0, 0, 100, 100), (25, 25, 75, 75)),
            ((0, 0, 10, 10), (20, 30, 40, 50)),
            ((0, 0, 10, 10), (10, 0, 20, 10)),
            ((2, 1, 8, 13), (4, 5, 14, 9)),
        ),
        tolerance=1e-6,
        mistakes=lambda args: iou_mistakes(*args),
    ),
    Number(
        id="small_box_iou",
        title="One pixel off on a small box",
        prompt=(
            f"A nodule's true box is `{box_text(NODULE_TRUE)}`, 4×4 pixels. The detector predicts the same centre "
            f"but one pixel more on every side, `{box_text(NODULE_PREDICTED)}`. What is the IoU of the two boxes?"
        ),
        hint="The small box lies inside the large one: what are the intersection and the union then?",
        explanation="16 / 36 ≈ 0.44: below 0.5, so at AP50 a prediction one pixel off counts as a miss. The same "
        "error on a 12-pixel box leaves 144 / 196 ≈ 0.73. IoU is harsh on small boxes, which is why notebook 03 "
        "leaves nodules, 10–28 mm across and so 2–6 pixels at 80 px, to an exercise.",
        data={"box_a": np.array(NODULE_TRUE), "box_b": np.array(NODULE_PREDICTED)},
        data_name="nodule",
        figure=figures.two_boxes,
        formula=lambda d: iou(d["box_a"], d["box_b"]),
        tolerance=1e-3,
        mistakes=lambda d: [
            (
                (d["box_a"][2] - d["box_a"][0]) / (d["box_b"][2] - d["box_b"][0]),
                "that is the ratio of the sides; IoU compares areas.",
            ),
            *iou_mistakes(d["box_a"], d["box_b"])[:1],
            (
                box_area(d["box_a"]) / (box_area(d["box_a"]) + box_area(d["box_b"])),
                "the union is |A| + |B| − |A∩B|: here the small box lies inside, so the union is the large box.",
            ),
        ],
    ),
    Array(
        id="nms_kept",
        title="Non-maximum suppression by hand",
        prompt=(
            "A grid detector returns five boxes for one class, `(x_min, y_min, x_max, y_max)` in pixels, with "
            "scores:\n\n"
            + "\n".join(
                f"- box {i}: `{box_text(box)}`, score {score:.2f}"
                for i, (box, score) in enumerate(zip(NMS_BOXES, NMS_SCORES, strict=True))
            )
            + f"\n\nRun non-maximum suppression with an IoU threshold of **{NMS_IOU_THRESHOLD}**: keep the highest-"
            "scoring box, remove every box that overlaps it by more than the threshold, and repeat with the next box "
            "left. Give the indices of the kept boxes **in the order NMS keeps them**."
        ),
        hint="Sort by score first. Boxes far apart have IoU 0; for boxes that overlap, compute IoU with the boxes "
        "already kept. `nms['boxes']` and `nms['scores']` hold the numbers.",
        explanation="The top box suppresses its near-copy, a box that overlaps it only a little stays (a second "
        "lesion), and the second cluster keeps its best box. Duplicates are what a lesion larger than one grid "
        "cell produces; NMS removes them before AP50 counts false positives.",
        data={"boxes": NMS_BOXES, "scores": NMS_SCORES, "iou_threshold": NMS_IOU_THRESHOLD},
        data_name="nms",
        figure=figures.scored_boxes,
        formula=lambda d: non_max_suppression(d["boxes"], d["scores"], d["iou_threshold"]),
        tolerance=1e-9,
        describe="a list of box indices",
        shape_message="count the kept boxes again: NMS removes only boxes that overlap a kept one by more than "
        "the threshold.",
        mistakes=_nms_mistakes,
    ),
    Choice(
        id="nms_threshold",
        title="NMS and its threshold",
        prompt=(
            "Notebook 03's grid detector lets every cell predict a box and then runs NMS with an IoU threshold. "
            "Which statements are true?"
        ),
        hint="What does a lesion larger than one cell produce, and what happens to two real lesions that touch "
        "when the threshold is very low?",
        explanation="A lesion larger than a cell lights up several cells: duplicates, which NMS removes. Too low a "
        "threshold also removes a real second lesion that overlaps the first a little; too high a threshold keeps "
        "duplicates, which AP50 counts as false positives.",
        options=(
            Option(
                "A lesion larger than a cell lights up several neighbouring cells, each with its own box; NMS "
                "removes these duplicates",
                "the duplicates overlap the best box strongly, so NMS removes them.",
            ),
            Option(
                "A very low threshold can remove a second, nearby lesion whose box overlaps the first a little",
                "a low threshold removes any box that overlaps a kept one a little, real lesions included.",
            ),
            Option(
                "A very high threshold keeps duplicates, which AP50 counts as false positives",
                "only near-identical boxes are removed, so duplicates survive and each counts as a false positive.",
            ),
            Option(
                "NMS moves the kept box to the average of its duplicates",
                "that is weighted box fusion; NMS keeps the highest-scoring box as it is and drops the others.",
            ),
            Option(
                "NMS removes every box whose score is below the threshold",
                "that is a score threshold, a separate step; NMS's threshold is on the IoU between boxes.",
            ),
        ),
        truth=(
            "5f42a8bb649489267823e2d97dc812b5",
            "6089e32df9dc0cfe2342c3d900f464b7",
            "bb5f9018652731f6637ee5ce650f0b55",
            "6d24c76160a255e09d144a87f1040c73",
            "7a27868613d89577fd5bf69a6547ad1b",
        ),
        multiple=True,
    ),
    Choice(
        id="detection_need",
        title="Why draw a box",
        prompt=(
            "The slide: *localization of the pathology on the X-ray helps to convince doctors in the results of "
            "AI*. Why does a box convince more than 'pneumonia: 0.93'?"
        ),
        hint="What can the doctor do with a box that they cannot do with a number?",
        explanation="A bare probability must be trusted; a box on the film can be checked in a second, and a box "
        "in the wrong place tells the doctor not to trust this output. The RSNA Pneumonia Detection Challenge asked "
        "for boxes around the opacities, not only a yes/no.",
        options=(
            Option(
                "A detector is always more accurate than a classifier",
                "a detector solves a harder task, usually with fewer labelled images (boxes are rarer than labels); "
                "it is not more accurate by nature.",
            ),
            Option(
                "The doctor can check the box against the image at a glance: what the model calls pneumonia, and "
                "whether it is",
                "the box shows the evidence, so the doctor can verify it.",
            ),
            Option(
                "A box makes the probability unnecessary",
                "the detector still outputs Pc, the probability that a lesion is there; the box adds where.",
            ),
            Option(
                "A box measures the lesion's volume",
                "a box on a projection gives a position and a 2D extent; a volume needs a 3D study.",
            ),
        ),
        truth=(
            "911f25df1b7fe3bb1b5bc6a7bb0d08f8",
            "96124b3d8507d0c17afbb68d9cfd1b9b",
            "3da263d2cea89d1b544fd9dd30467dcf",
            "cedc13ac133c0f037e4db773e3b53c45",
        ),
    ),
)

SECTION = {
    "name": "Detection",
    "title": "Object detection",
    "notebook": "03_detection",
    "questions": QUESTIONS,
}
