"""Recap (notebook 00): the slide's convolution, the output-size formula, Keras' SAME padding, the residual block."""

from __future__ import annotations

import numpy as np

from lecture_lib.quiz import figures
from lecture_lib.quiz.kinds import Array, Choice, Code, Number, Option

SLIDE_MATRIX = np.array(
    [
        [3, 0, 1, 2, 7, 4],
        [1, 5, 8, 9, 3, 1],
        [2, 7, 2, 5, 1, 3],
        [0, 1, 3, 1, 7, 8],
        [4, 2, 1, 6, 2, 8],
        [2, 4, 5, 2, 3, 9],
    ],
    dtype=np.float32,
)
"""The Recap slide's second 6×6 matrix."""

VERTICAL_EDGE_KERNEL = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=np.float32)
"""The Recap slide's 3×3 vertical-edge kernel."""

SLIDE_EDGE_IMAGE = np.array([[10, 10, 10, 0, 0, 0]] * 6, dtype=np.float32)
"""The Recap slide's first 6×6 example (a bright left half); its result is the slide's 4×4 of 0, 30, 30, 0."""


def correlate_valid(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Slide the kernel over the image without flipping it and without padding (deep learning's "convolution")."""
    rows = image.shape[0] - kernel.shape[0] + 1
    cols = image.shape[1] - kernel.shape[1] + 1
    out = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = np.sum(image[i : i + kernel.shape[0], j : j + kernel.shape[1]] * kernel)
    return out


def conv_output_size(n, f, p=0, s=1):
    """Return the side of a convolution's output: floor((n + 2p - f) / s) + 1."""
    return (n + 2 * p - f) // s + 1


def same_padding(n, f, s):
    """Return TensorFlow's SAME padding `(before, after)` of one axis: ceil(n / s) outputs, an odd pixel at the end."""
    total = max((-(-n // s) - 1) * s + f - n, 0)
    return total // 2, total - total // 2


def latex_matrix(matrix) -> str:
    """Return a matrix of whole numbers as a LaTeX `bmatrix`."""
    rows = [" & ".join(f"{int(v)}" for v in row) for row in np.asarray(matrix)]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


_CONV_SHAPE_MESSAGE = (
    "a 'valid' cross-correlation uses no padding, so the output is smaller than the 6×6 input: (n + 2p − f)/s + 1 "
    "per side."
)

QUESTIONS = (
    Number(
        id="conv_output",
        title="Output size of the slide's convolution",
        prompt=(
            "On the Recap slide a **6×6** image is convolved with a **3×3** kernel, no padding (p = 0), stride 1. "
            "How many pixels wide is the output? Use the output-size formula $\\frac{n + 2p - f}{s} + 1$."
        ),
        hint="n is the input side, f the kernel side, p the padding, s the stride: count the positions a 3×3 window "
        "fits into along a row of 6.",
        explanation="(6 + 0 − 3)/1 + 1: the 3×3 window fits at that many positions along each side, as the slide's "
        "result shows.",
        data={"n": 6, "f": 3, "p": 0, "s": 1},
        formula=lambda d: conv_output_size(d["n"], d["f"], d["p"], d["s"]),
        integer=True,
        mistakes=lambda d: [
            (d["n"] - d["f"], "off by one: you left out the + 1 (the window's first position counts too)."),
            (d["n"], "keeping the size needs 'same' padding, p = 1; here p = 0."),
            (d["n"] - d["f"] + 2, "one too many: with p = 0 nothing is added to n."),
        ],
    ),
    Array(
        id="conv_result",
        title="The slide's convolution by hand",
        prompt=(
            "Compute the Recap slide's second example: the 6×6 matrix through the vertical-edge kernel, the way a "
            "deep learning layer (`Conv2D`, `padding='valid'`, stride 1) computes it:\n\n"
            f"$$ {latex_matrix(SLIDE_MATRIX)} \\ast {latex_matrix(VERTICAL_EDGE_KERNEL)} = \\;?$$\n\n"
            "Give the whole result as a nested list or a NumPy array. (The slide's first example, a bright left "
            "half of 10s next to 0s, gives rows of `0 30 30 0`: the edge lights up.)"
        ),
        hint="Lay the kernel on the top-left 3×3 patch, multiply entry by entry and add up; then slide one pixel to "
        "the right. Deep learning does not flip the kernel. `conv['image']` and `conv['kernel']` hold both arrays.",
        explanation="Each entry is (left column sum − right column sum) of a 3×3 patch, a vertical-edge detector. "
        "Keras' Conv2D computes exactly this cross-correlation.",
        data={"image": SLIDE_MATRIX, "kernel": VERTICAL_EDGE_KERNEL},
        data_name="conv",
        figure=figures.image_and_kernel,
        formula=lambda d: correlate_valid(d["image"], d["kernel"]),
        tolerance=1e-6,
        describe="a 2-D array, the whole result",
        shape_message=_CONV_SHAPE_MESSAGE,
        mistakes=lambda d: [
            (
                -correlate_valid(d["image"], d["kernel"]),
                "every sign is flipped: you flipped the kernel, which is the mathematical convolution. Deep learning "
                "layers compute the cross-correlation: the kernel slides as it is, 1, 0, −1 from left to right.",
            ),
            (
                correlate_valid(d["image"], d["kernel"].T),
                "you used the transposed kernel (rows of 1, 0, −1 from top to bottom: a horizontal-edge detector); "
                "the slide's kernel has its column of 1s on the left.",
            ),
            (
                correlate_valid(d["image"], d["kernel"]).T,
                "your result is transposed: output row i comes from input rows i to i + 2.",
            ),
            (
                correlate_valid(SLIDE_EDGE_IMAGE, d["kernel"]),
                "that is the slide's first example; use the second matrix.",
            ),
        ],
    ),
    Number(
        id="resnet_stem_output",
        title="ResNet-34's first layer",
        prompt=(
            "ResNet-34 starts with **7×7 conv, 64, /2**: a 7×7 kernel, stride 2 and padding 3. What is the side of "
            "its output for a 224×224 input?"
        ),
        hint="Use ⌊(n + 2p − f)/s⌋ + 1 with n = 224, f = 7, p = 3, s = 2; a size is a whole number, so round down "
        "before adding 1.",
        explanation="⌊(224 + 6 − 7)/2⌋ + 1: the '/2' halves the image, then 'pool, /2' halves it again.",
        data={"n": 224, "f": 7, "p": 3, "s": 2},
        formula=lambda d: conv_output_size(d["n"], d["f"], d["p"], d["s"]),
        integer=True,
        mistakes=lambda d: [
            (conv_output_size(d["n"], d["f"], d["p"], d["s"]) - 1, "off by one: you left out the + 1."),
            ((d["n"] + 2 * d["p"] - d["f"]) / d["s"] + 1, "sizes are whole numbers: round (n + 2p − f)/s down."),
            (conv_output_size(d["n"], d["f"], 0, d["s"]), "you left out the padding p = 3 (it adds 2p = 6 to n)."),
            (conv_output_size(d["n"], d["f"], d["p"], 1), "that is stride 1; '/2' means stride 2."),
            ((d["n"] + d["p"] - d["f"]) // d["s"] + 1, "padding is added on both sides: 2p, not p."),
        ],
    ),
    Number(
        id="same_padding_before",
        title="Keras' SAME padding of the ResNet stem",
        prompt=(
            'Built in Keras, the same stem is `Conv2D(64, 7, strides=2, padding="same")`. SAME takes no p: it pads '
            "just enough that the output has $\\lceil n / s \\rceil$ pixels, in total "
            "$\\max\\big((n_{out} - 1)\\,s + f - n,\\ 0\\big)$ pixels, and an odd extra pixel goes at the end "
            "(bottom, right). On a 224-pixel side, how many pixels does Keras pad **before** the image (top, left)?"
        ),
        hint="First n_out = ⌈224 / 2⌉, then the total, then split it: the end gets the larger half.",
        explanation="n_out = 112 and the total is (112 − 1)·2 + 7 − 224 = 5, split as 2 before and 3 after. The "
        "output size equals PyTorch's padding=3, but the windows sit one pixel apart, which matters when porting "
        "pretrained weights (notebook 00).",
        data={"n": 224, "f": 7, "s": 2},
        formula=lambda d: same_padding(d["n"], d["f"], d["s"])[0],
        integer=True,
        mistakes=lambda d: [
            (
                d["f"] // 2,
                "that is PyTorch's padding=3 on both sides. Keras' SAME pads in total only what ⌈n/s⌉ outputs need, "
                "and puts the odd pixel at the end, so the two sides differ.",
            ),
            (
                sum(same_padding(d["n"], d["f"], d["s"])),
                "that is the total padding; split it between before and after.",
            ),
            (same_padding(d["n"], d["f"], d["s"])[1], "that is the end's share: the odd extra pixel goes at the end."),
        ],
    ),
    Code(
        id="conv_output_size_fn",
        title="Write the output-size formula",
        prompt=(
            "Write `conv_output_size(n, f, p=0, s=1)` that returns the side of a convolution's output for an n×n "
            "input, an f×f kernel, padding p and stride s, as a whole number. It must also work for strides where "
            "(n + 2p − f)/s is not whole."
        ),
        hint="The number of window positions is ⌊(n + 2p − f)/s⌋ + 1; Python's // rounds down.",
        explanation="That is the rule Conv2D and pooling layers use with padding='valid' (and with an explicit p).",
        function_name="conv_output_size",
        stub=(
            "def conv_output_size(n, f, p=0, s=1):\n"
            '    """Return the side of the output of an f×f convolution over an n×n input."""\n'
            "    ...  # your code here"
        ),
        reference=conv_output_size,
        cases=((5, 3, 0, 1), (7, 3, 1, 1), (7, 3, 0, 2), (8, 3, 1, 2), (227, 11, 0, 4), (32, 5, 2, 1)),
        mistakes=lambda args: [
            (conv_output_size(*args) - 1, "the + 1 is missing."),
            ((args[0] + 2 * args[2] - args[1]) / args[3] + 1, "round (n + 2p − f)/s down with // before adding 1."),
            ((args[0] + args[2] - args[1]) // args[3] + 1, "padding adds 2p, one p on each side."),
        ],
    ),
    Choice(
        id="residual_gradient",
        title="Why the residual block trains deep networks",
        prompt=(
            "A residual block computes $y = x + F(x)$. By the chain rule "
            "$\\frac{\\partial L}{\\partial x} = \\frac{\\partial L}{\\partial y}\\left(1 + "
            "\\frac{\\partial F}{\\partial x}\\right)$. What does the **1** do for a network as deep as ResNet-34?"
        ),
        hint="Compare with a plain block y = F(x): what is the gradient at layer 1 after 30 blocks whose "
        "∂F/∂x are all small?",
        explanation="Each block multiplies the gradient by (1 + ∂F/∂x) instead of ∂F/∂x alone, so a path with "
        "factor 1 carries ∂L/∂y back to the first layers however deep the stack is. Notebook 00 measures it: the "
        "plain sigmoid network's gradient shrinks by a constant factor per layer, while the residual one's stays "
        "within a couple of orders of magnitude from the last layer to the first.",
        options=(
            Option(
                "The gradient reaching an early layer is never only a product of many small factors: the skip passes "
                "∂L/∂y back around the block's layers",
                "the skip's 1 is a path around the layers: whatever ∂F/∂x is, ∂L/∂y itself reaches the block's input.",
            ),
            Option(
                "It forces every block to learn the identity, so the network cannot overfit",
                "the block can still learn any F; the skip only makes F = 0 (doing nothing) easy to reach, and "
                "residual networks overfit small data sets like any other network.",
            ),
            Option(
                "It makes batch normalization unnecessary",
                "ResNet-34 keeps batch normalization in every block: it stops the sums x + F(x) from growing from "
                "block to block. The skip and batch normalization do different jobs.",
            ),
            Option(
                "It doubles the gradient at every block, so early layers learn faster",
                "the factor is 1 + ∂F/∂x, not 2: where F is flat it is 1. The skip puts a floor under the product; "
                "it does not amplify it.",
            ),
        ),
        truth=(
            "c4b2c8e8af0468af77dae4c6986fcb33",
            "c3f2fb2922877ab1b4e923f18a2a9f43",
            "d70ba65b3465801fb4d2b7402aaf1216",
            "59c9abb3f5769e72da9de83c2405572c",
        ),
    ),
    Number(
        id="plain_gradient_bound",
        title="The gradient of a plain sigmoid stack",
        prompt=(
            "Notebook 00's *plain* network stacks layers with a sigmoid activation $g$, whose slope "
            "$g'(z) = g(z)\\,(1 - g(z))$ is never larger than its value at $z = 0$. Leaving the weights aside, "
            "what is the **largest** possible product of the sigmoid slopes that the gradient meets on its way back "
            "through **10** layers?"
        ),
        hint="Find the largest slope of one sigmoid (at z = 0, g = 0.5), then multiply it once per layer.",
        explanation="g'(0) = 0.5 · 0.5 = 1/4, so ten layers give at most (1/4)^10 ≈ 9.5·10⁻⁷: a millionth of the "
        "gradient reaches layer 1. A residual block adds 1 to each factor, which is why 00's residual network keeps "
        "its gradient.",
        data={"layers": 10},
        formula=lambda d: 0.25 ** d["layers"],
        tolerance=1e-9,
        mistakes=lambda d: [
            (0.5 ** d["layers"], "0.5 is the sigmoid's value at 0; its slope there is g(1 − g) = 0.5 · 0.5."),
            (0.25 * d["layers"], "the chain rule multiplies the layers' slopes: a power, not a product with 10."),
            (0.25, "that is one layer; the gradient meets a sigmoid in each of the 10."),
        ],
    ),
)

SECTION = {
    "name": "Recap",
    "title": "Recap: convolution and ResNet",
    "notebook": "00_recap",
    "questions": QUESTIONS,
}
