"""Figures: phantom radiographs beside the two real NIH ChestX-ray14 films, and the README's phantom sample.

Row 1: the two NIH films shipped in `lecture_lib/samples/` and four phantoms of the varied acquisition (healthy,
Cardiomegaly + Effusion, Pneumothorax, Consolidation + Nodule), all at `--size` pixels. Row 2: the same phantoms with
every kind of ground truth (mask contours, lesion boxes, landmarks) and two bone-free twins. With `--sample-out`,
also the README's figure: one phantom (seed 11, Cardiomegaly and a nodule, 256 px) with its ground truth.

    python scripts/phantom_vs_real.py --size 256 --out build/phantom_vs_real.png --sample-out docs/phantom_sample.png
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from lecture_lib import labels, viz
from lecture_lib.datasets import phantom
from lecture_lib.datasets.samples import load_samples

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
    parser.add_argument("--sample-out", default=None, help="also write the README's phantom sample figure here")
    args = parser.parse_args()

    if args.sample_out:
        sample = phantom.generate(1, 256, seed=11, findings=["Cardiomegaly", "Nodule"])
        print(viz.save_figure(viz.show_sample(sample, 0), args.sample_out, dpi=80))
    samples = load_samples(args.size)
    real = [(f"NIH {name} (real)", samples.images[k, ..., 0]) for k, name in enumerate(samples.patient_ids)]
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
