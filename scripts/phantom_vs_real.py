"""Figure: phantom radiographs beside the two real NIH ChestX-ray14 images, at the same size, with ground truth.

Row 1: the two real NIH images of `../shared/realdata/` (when present) and four phantoms (healthy, Cardiomegaly +
Effusion, Pneumothorax, Consolidation + Nodule), all at `--size` pixels. Row 2: the same phantoms with every kind
of ground truth (mask contours, lesion boxes, landmarks) and two bone-free twins.

    python scripts/phantom_vs_real.py --size 256 --out build/phantom_vs_real.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from lecture_lib import labels, viz
from lecture_lib.datasets import phantom

REALDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "realdata"
CASES = [
    ("healthy", []),
    ("Cardiomegaly + Effusion", ["Cardiomegaly", "Effusion"]),
    ("Pneumothorax", ["Pneumothorax"]),
    ("Consolidation + Nodule", ["Consolidation", "Nodule"]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", default="build/phantom_vs_real.png")
    args = parser.parse_args()

    real = []
    for name in ("00000001_000.png", "00027426_000.png"):
        if (REALDATA / name).exists():
            image = Image.open(REALDATA / name).convert("L").resize((args.size, args.size), Image.Resampling.BOX)
            real.append((f"NIH {name}", np.asarray(image, np.float32) / 255.0))
    sets = [phantom.generate(1, args.size, seed=args.seed + k, findings=f) for k, (_, f) in enumerate(CASES)]
    fig, axes = plt.subplots(3, 4, figsize=(16, 12.8))
    for ax in axes.ravel():
        ax.axis("off")
    panels = [(title, image) for title, image in real]
    for (title, _), data in zip(CASES, sets, strict=True):
        panels.append((f"phantom: {title}\nlabels: {', '.join(labels.decode(data.labels[0]))}", data.images[0, ..., 0]))
    for column, data in enumerate(sets[:2]):
        panels.append((f"bone-free twin of '{CASES[column][0]}'", data.targets["bone_free"][0, ..., 0]))
    for ax, (title, image) in zip(axes[:2].ravel(), panels, strict=False):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
    for ax, data in zip(axes[2], sets, strict=True):
        keep = [i for i, name in enumerate(data.mask_names) if data.masks[0, ..., i].any()]
        viz.overlay_masks(data.images[0], data.masks[0][..., keep], names=[data.mask_names[i] for i in keep], ax=ax)
        if (data.box_classes[0] >= 0).any():
            viz.draw_boxes(data.images[0], data.boxes[0], data.box_classes[0], ax=ax)
        viz.draw_landmarks(data.images[0], data.landmarks[0], ax=ax, show_names=False)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        names = ", ".join(data.mask_names[i] for i in keep)
        ax.set_title(
            f"masks: {names}\nboxes, 11 landmarks; CTR {data.targets['cardiothoracic_ratio'][0]:.2f}", fontsize=9
        )
    fig.tight_layout()
    print(viz.save_figure(fig, args.out))


if __name__ == "__main__":
    main()
