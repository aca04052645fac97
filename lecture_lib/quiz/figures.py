"""Figures of the quiz's data: a question's `figure` is one of these, called with a copy of the question's data.

Each function returns a `matplotlib.figure.Figure`; `quiz.draw(question_id)` shows it in the notebook. Matplotlib
is imported only when a figure is drawn, so grading answers never needs it.
"""

from __future__ import annotations

import numpy as np


def draw_matrix(ax, matrix, title: str, cmap: str = "Greys") -> None:
    """Draw a small matrix as an image with each value written in its cell (white on dark cells)."""
    import matplotlib

    matrix = np.asarray(matrix, dtype=np.float64)
    image = ax.imshow(matrix, cmap=cmap)
    colormap = matplotlib.colormaps[cmap]
    for (row, col), value in np.ndenumerate(matrix):
        red, green, blue, _ = colormap(image.norm(value))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
        ax.text(col, row, f"{value:g}", ha="center", va="center", color="white" if dark else "black", fontsize=11)
    ax.set_title(title)
    ax.set_xticks(range(matrix.shape[1]))
    ax.set_yticks(range(matrix.shape[0]))


def draw_box(ax, box, color: str, label: str) -> None:
    """Draw a box `(x_min, y_min, x_max, y_max)` in pixels with its label at the top-left corner."""
    from matplotlib.patches import Rectangle

    x_min, y_min, x_max, y_max = (float(v) for v in box)
    ax.add_patch(Rectangle((x_min, y_min), x_max - x_min, y_max - y_min, fill=False, color=color, linewidth=2))
    ax.text(x_min, y_min, f" {label}", color=color, va="bottom", fontsize=10)


def box_text(box) -> str:
    """Return a box as `(x_min, y_min, x_max, y_max)` text with whole numbers."""
    return "(" + ", ".join(f"{float(v):g}" for v in box) + ")"


def _pixel_axes(ax, width: float, height: float) -> None:
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_aspect("equal")
    ax.grid(linewidth=0.5)
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")


def image_and_kernel(data: dict):
    """The image `data["image"]` next to the kernel `data["kernel"]`."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 4), gridspec_kw={"width_ratios": [6, 3]})
    draw_matrix(axes[0], data["image"], "the slide's 6×6 image")
    draw_matrix(axes[1], data["kernel"], "vertical-edge kernel", cmap="coolwarm")
    fig.tight_layout()
    return fig


def two_masks(data: dict):
    """The masks `data["x"]` (truth) and `data["y"]` (prediction), and their overlap in colour."""
    import matplotlib.pyplot as plt

    x, y = np.asarray(data["x"]), np.asarray(data["y"])
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.3))
    draw_matrix(axes[0], x, "X: true mask", cmap="Blues")
    draw_matrix(axes[1], y, "Y: predicted mask", cmap="Oranges")
    overlay = np.zeros((*x.shape, 3))
    overlay[..., 2] = x
    overlay[..., 0] = y
    axes[2].imshow(overlay)
    axes[2].set_title("blue: X only, red: Y only,\nmagenta: both")
    axes[2].set_xticks(range(x.shape[1]))
    axes[2].set_yticks(range(x.shape[0]))
    fig.tight_layout()
    return fig


def box_on_image(data: dict):
    """The box `data["box"]` on an empty `data["image_size"]`² image, labelled `data["title"]`."""
    import matplotlib.pyplot as plt

    size = int(data["image_size"])
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.imshow(np.zeros((size, size)), cmap="gray", extent=(0, size, size, 0))
    draw_box(ax, data["box"], "gold", str(data["title"]).lower())
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    ax.set_xticks(range(0, size + 1, size // 4))
    ax.set_yticks(range(0, size + 1, size // 4))
    ax.grid(color="0.4", linewidth=0.5)
    ax.set_title(f"box {box_text(data['box'])} on a {size}×{size} image")
    fig.tight_layout()
    return fig


def two_boxes(data: dict):
    """The boxes `data["box_a"]` and `data["box_b"]` on a pixel grid."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    draw_box(ax, data["box_a"], "tab:blue", "A")
    draw_box(ax, data["box_b"], "tab:red", "B")
    right = max(float(data["box_a"][2]), float(data["box_b"][2]))
    bottom = max(float(data["box_a"][3]), float(data["box_b"][3]))
    _pixel_axes(ax, 10 * np.ceil(right / 10 + 1), 10 * np.ceil(bottom / 10 + 1))
    ax.set_title(f"A = {box_text(data['box_a'])}, B = {box_text(data['box_b'])}")
    fig.tight_layout()
    return fig


def scored_boxes(data: dict):
    """The boxes `data["boxes"]`, each labelled with its index and `data["scores"]`."""
    import matplotlib.pyplot as plt

    boxes = np.asarray(data["boxes"], dtype=np.float64)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (box, score) in enumerate(zip(boxes, data["scores"], strict=True)):
        draw_box(ax, box, colors[index % len(colors)], f"{index}: {float(score):.2f}")
    _pixel_axes(ax, 10 * np.ceil(boxes[:, 2].max() / 10 + 1), 10 * np.ceil(boxes[:, 3].max() / 10 + 1))
    ax.set_title("box index: score")
    fig.tight_layout()
    return fig


def heatmap(data: dict):
    """The heatmap of scores `data["heatmap"]`, x along columns and y along rows."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4))
    draw_matrix(ax, data["heatmap"], "heatmap scores (before SoftMax 2D)", cmap="magma_r")
    ax.set_xlabel("x = column")
    ax.set_ylabel("y = row")
    fig.tight_layout()
    return fig


def landmark_points(data: dict):
    """The named points `data["names"]` at `data["points"]` `(K, 2)` pixels `(x, y)` on a `data["image_size"]`² grid."""
    import matplotlib.pyplot as plt

    size = int(data["image_size"])
    points = np.asarray(data["points"], dtype=np.float64)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(np.zeros((size, size)), cmap="gray", extent=(0, size, size, 0))
    for name, (x, y) in zip(data["names"], points, strict=True):
        ax.plot(x, y, "o", color="gold")
        ax.annotate(f"{name}\n({x:g}, {y:g})", (x, y), color="white", fontsize=8, ha="center", va="bottom")
    ax.set_xticks(range(0, size + 1, size // 4))
    ax.set_yticks(range(0, size + 1, size // 4))
    ax.grid(color="0.4", linewidth=0.5)
    ax.set_xlabel("x (pixels); the patient's right is on the viewer's left")
    ax.set_ylabel("y (pixels)")
    fig.tight_layout()
    return fig
