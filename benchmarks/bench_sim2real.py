"""Sim-to-real: notebook 02's lung U-Net trained on phantom images only, scored on real radiographs.

The real set is a folder with `images/*.png` and `masks/*.png` of the same names (8-bit grey, display convention;
a mask is 0/255 with both lungs), the layout of `../shared/realdata/montgomery/`, read by
`montgomery.load_mask_folder`. No real image is used for training or for choosing anything here: the model sees only
phantoms, then predicts every real image resized to its size. The score is the Dice of the union of both lungs
(right + left channels, each thresholded at 0.5) with the manual mask, per image.

The recipe is notebook 02's: `build_unet(filters=8, depth=3)` with a sigmoid head for the right lung, left lung and
heart, CE + Dice, Adam 2e-3, batches of 8, 600 phantoms of the varied acquisition, 9 epochs of augmented batches
(`lecture_lib.augment.build_augmentation`).

    python benchmarks/bench_sim2real.py --real ../shared/realdata/montgomery [--image-size 64] [--figure out.png]

The last line printed is `sim2real dice <mean Dice over all images>`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

DEFAULT_REAL = REPO_ROOT.parent / "shared" / "realdata" / "montgomery"
STRUCTURES = ("right_lung", "left_lung", "heart")


def train(image_size: int, num_images: int, epochs: int, seed: int, augment: bool):
    """Train notebook 02's U-Net (right lung, left lung, heart; CE + Dice) on phantom images only.

    Returns:
        `(model, render_seconds, train_seconds)`.
    """
    import keras

    from lecture_lib import losses
    from lecture_lib.augment import AugmentedArrays, build_augmentation
    from lecture_lib.config import set_seed
    from lecture_lib.datasets import phantom
    from lecture_lib.models.segmentation import build_unet

    set_seed(seed)
    start = time.perf_counter()
    data = phantom.generate(num_images, image_size=image_size, seed=seed, mask_names=STRUCTURES, bone_free=False)
    x, y = data.xy("segmentation", mask_names=STRUCTURES)
    render_seconds = time.perf_counter() - start
    model = build_unet((image_size, image_size, 1), num_classes=len(STRUCTURES), filters=8, depth=3)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss=losses.CombinedCrossentropyDiceLoss())
    pipeline = build_augmentation(seed=seed) if augment else None
    start = time.perf_counter()
    model.fit(AugmentedArrays(x, y, batch_size=8, pipeline=pipeline, seed=seed), epochs=epochs, verbose=0)
    return model, render_seconds, time.perf_counter() - start


def lung_dice(probabilities: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Dice of the union of the predicted right and left lungs `(N, S, S, >=2)` with the true lungs `(N, S, S)`.

    A pixel is predicted lung when either lung channel exceeds 0.5, i.e. when their maximum does; the Dice itself is
    `metrics.dice_coefficient`, per image.
    """
    from lecture_lib.metrics import dice_coefficient

    lungs = np.maximum(probabilities[..., 0], probabilities[..., 1])[..., None]
    truth = masks[..., None].astype(np.float32)
    return np.asarray(dice_coefficient(truth, lungs)).reshape(-1)


def measure(real: Path, image_size: int = 64, num_images: int = 600, epochs: int = 9, seed: int = 0,
            augment: bool = True, figure: Path | None = None) -> dict:  # fmt: skip
    """Train on the phantom, predict the real set and return the per-image Dice with timings."""
    from lecture_lib.datasets.montgomery import load_mask_folder

    real_set = load_mask_folder(real, image_size=image_size)
    masks = real_set.masks[..., 0] > 0
    model, render_seconds, train_seconds = train(image_size, num_images, epochs, seed, augment)
    probabilities = np.asarray(model.predict(real_set.images, batch_size=32, verbose=0))
    dice = lung_dice(probabilities, masks)
    names = [str(name) for name in real_set.patient_ids]
    if figure is not None:
        save_figure(real_set.images, masks, probabilities, dice, names, figure)
    return {"names": names, "dice": dice, "render_seconds": render_seconds, "train_seconds": train_seconds}


def save_figure(images, masks, probabilities, dice, names, path: Path) -> None:
    """Save the worst, median and best four real images: true lungs (green) and the prediction (red, dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = np.argsort(dice)
    middle = len(order) // 2
    picks = [*order[:4], *order[middle - 2 : middle + 2], *order[-4:]]
    fig, axes = plt.subplots(3, 4, figsize=(12, 9.6), layout="constrained")
    for ax, index in zip(axes.ravel(), picks, strict=True):
        ax.imshow(images[index, ..., 0], cmap="gray", vmin=0, vmax=1)
        ax.contour(masks[index].astype(float), levels=[0.5], colors=["lime"], linewidths=1.2)
        lungs = np.maximum(probabilities[index, ..., 0], probabilities[index, ..., 1])
        ax.contour(lungs, levels=[0.5], colors=["red"], linestyles="--")
        ax.set_title(f"{names[index]}: Dice {dice[index]:.3f}", fontsize=9)
        ax.axis("off")
    fig.suptitle("Phantom-trained U-Net on real radiographs (worst, median, best): true lungs green, prediction red")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def run() -> list[tuple[str, float, str]]:
    """Rows for `benchmarks/run.py`: the sim-to-real Dice on Montgomery at 64 px, when `../shared/realdata` is there."""
    if not (DEFAULT_REAL / "images").is_dir():
        print(f"bench_sim2real: skipped, no real set at {DEFAULT_REAL}", file=sys.stderr)
        return []
    result = measure(DEFAULT_REAL)
    return [
        ("sim2real lung Dice, Montgomery 64x64 (mean)", float(result["dice"].mean()), "Dice"),
        ("sim2real lung Dice, Montgomery 64x64 (median)", float(np.median(result["dice"])), "Dice"),
        ("sim2real lung Dice, Montgomery 64x64 (worst)", float(result["dice"].min()), "Dice"),
        ("sim2real training on the phantom (9 epochs)", result["train_seconds"], "s"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL, help="folder with images/*.png and masks/*.png")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--num-images", type=int, default=600, help="phantom training images")
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-augment", dest="augment", action="store_false", help="train without augmentation")
    parser.add_argument("--figure", type=Path, default=None, help="save worst/median/best predictions as a PNG")
    args = parser.parse_args(argv)
    result = measure(args.real, args.image_size, args.num_images, args.epochs, args.seed, args.augment, args.figure)
    dice = result["dice"]
    worst = int(dice.argmin())
    print(f"phantom: {args.num_images} images rendered in {result['render_seconds']:.1f} s, "
          f"trained {args.epochs} epochs in {result['train_seconds']:.1f} s")  # fmt: skip
    print(f"real: {len(dice)} images from {args.real} at {args.image_size} px")
    print(f"worst image: {result['names'][worst]} Dice {dice[worst]:.4f}")
    print(f"median dice {np.median(dice):.4f}")
    print(f"sim2real dice {dice.mean():.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
