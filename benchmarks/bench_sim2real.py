"""Sim-to-real: notebook 02's lung U-Net trained on phantom images only, scored on real radiographs.

The real set is a folder with `images/*.png` and `masks/*.png` of the same names (8-bit grey, display convention;
a mask is 0/255 with both lungs), the layout of `../shared/realdata/montgomery/`. No real image is used for training
or for choosing anything here: the model sees only phantoms, then predicts every real image resized to its size.
The score is the Dice of the union of both lungs (right + left channels, each thresholded at 0.5) per image.

    python benchmarks/bench_sim2real.py --real ../shared/realdata/montgomery [--image-size 64]

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


def read_real(folder: Path, image_size: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Read `folder/images/*.png` and the same names in `folder/masks/`, resized to `image_size`.

    Returns:
        `(names, images, masks)`: images `(N, S, S, 1)` float32 in [0, 1]; masks `(N, S, S)` bool (area average
        of the 0/255 mask, then >= 0.5).
    """
    from lecture_lib.datasets.imageio import read_image, resize

    image_dir, mask_dir = folder / "images", folder / "masks"
    paths = sorted(image_dir.glob("*.png"))
    if not paths:
        raise FileNotFoundError(f"no images/*.png under {folder}; expected images/NAME.png and masks/NAME.png")
    missing = [path.name for path in paths if not (mask_dir / path.name).exists()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} images have no mask in {mask_dir}, e.g. {missing[:3]}")
    images = np.stack([resize(read_image(path), image_size) for path in paths])[..., None]
    masks = np.stack([resize(read_image(mask_dir / path.name), image_size) >= 0.5 for path in paths])
    return [path.stem for path in paths], images, masks


def train(image_size: int, num_images: int, epochs: int, seed: int, augment: bool):
    """Train notebook 02's U-Net (right lung, left lung, heart; CE + Dice) on phantom images only."""
    import keras

    from lecture_lib import losses
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
    start = time.perf_counter()
    if augment:
        from lecture_lib.augment import AugmentedArrays, build_augmentation

        batches = AugmentedArrays(x, y, batch_size=8, pipeline=build_augmentation(seed=seed), seed=seed)
        model.fit(batches, epochs=epochs, verbose=0)
    else:
        model.fit(x, y, batch_size=8, epochs=epochs, verbose=0)
    return model, render_seconds, time.perf_counter() - start


def lung_dice(model, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Dice of the union of the predicted right and left lungs with the true lung mask, per image `(N,)`."""
    probabilities = np.asarray(model.predict(images, batch_size=32, verbose=0))
    predicted = (probabilities[..., 0] > 0.5) | (probabilities[..., 1] > 0.5)
    overlap = (predicted & masks).sum(axis=(1, 2))
    total = predicted.sum(axis=(1, 2)) + masks.sum(axis=(1, 2))
    return np.where(total > 0, 2.0 * overlap / np.maximum(total, 1), 1.0)


def measure(real: Path, image_size: int = 64, num_images: int = 600, epochs: int = 9, seed: int = 0,
            augment: bool = False, figure: Path | None = None) -> dict:  # fmt: skip
    names, images, masks = read_real(real, image_size)
    model, render_seconds, train_seconds = train(image_size, num_images, epochs, seed, augment)
    dice = lung_dice(model, images, masks)
    if figure is not None:
        save_figure(model, names, images, masks, dice, figure)
    return {
        "names": names,
        "dice": dice,
        "render_seconds": render_seconds,
        "train_seconds": train_seconds,
    }


def save_figure(model, names, images, masks, dice, path: Path) -> None:
    """Save the real images with the true lungs (solid) and the prediction (dashed): best, median and worst."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = np.argsort(dice)
    picks = list(order[:4]) + list(order[len(order) // 2 - 2 : len(order) // 2 + 2]) + list(order[-4:])
    probabilities = np.asarray(model.predict(images[picks], verbose=0))
    fig, axes = plt.subplots(3, 4, figsize=(12, 9.6), layout="constrained")
    for ax, index, prob in zip(axes.ravel(), picks, probabilities, strict=True):
        ax.imshow(images[index, ..., 0], cmap="gray", vmin=0, vmax=1)
        ax.contour(masks[index].astype(float), levels=[0.5], colors=["lime"], linewidths=1.2)
        ax.contour(np.maximum(prob[..., 0], prob[..., 1]), levels=[0.5], colors=["red"], linestyles="--")
        ax.set_title(f"{names[index]}: Dice {dice[index]:.3f}", fontsize=9)
        ax.axis("off")
    fig.suptitle("Phantom-trained U-Net on real radiographs: true lungs (green), prediction (red dashed)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def run() -> list[tuple[str, float, str]]:
    """Rows for `benchmarks/run.py`: the sim-to-real Dice on Montgomery, when `../shared/realdata` is there."""
    if not (DEFAULT_REAL / "images").is_dir():
        print(f"bench_sim2real: skipped, no real set at {DEFAULT_REAL}", file=sys.stderr)
        return []
    result = measure(DEFAULT_REAL)
    return [
        ("sim2real lung Dice, Montgomery 64x64 (mean)", float(result["dice"].mean()), "Dice"),
        ("sim2real lung Dice, Montgomery 64x64 (worst)", float(result["dice"].min()), "Dice"),
        ("sim2real training on the phantom", result["train_seconds"], "s"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL, help="folder with images/*.png and masks/*.png")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--num-images", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--augment", action="store_true")
    parser.add_argument("--figure", type=Path, default=None, help="save best/median/worst predictions as a PNG")
    args = parser.parse_args(argv)
    result = measure(args.real, args.image_size, args.num_images, args.epochs, args.seed, args.augment, args.figure)
    dice = result["dice"]
    worst = int(dice.argmin())
    print(
        f"rendered {args.num_images} phantoms in {result['render_seconds']:.1f} s, trained {result['train_seconds']:.1f} s"
    )
    print(f"real images: {len(dice)} from {args.real}")
    print(f"worst image: {result['names'][worst]} Dice {dice[worst]:.4f}")
    print(f"median dice {np.median(dice):.4f}")
    print(f"sim2real dice {dice.mean():.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
