"""Train the library's ResNet classifier on a full chest X-ray set, streamed from the cache, on every visible device.

The notebooks train on a few thousand images held in memory; this script trains the same `build_resnet` on all of
NIH ChestX-ray14 (or CheXpert, MIMIC-CXR, or the endless phantom), reading batches with `datasets.stream`, so
memory stays bounded whatever the set's size. With `--distribute` each batch is split across every visible device
by `keras.distribution.DataParallel` (JAX); the weights are replicated and their gradients averaged. A `.keras`
checkpoint is saved after every epoch, and a second run with the same `--checkpoint-dir` resumes from the latest
one (weights, optimizer state and the stream's epoch, so the shuffles continue as in an uninterrupted run).

    KERAS_BACKEND=jax python scripts/train_full.py --dataset nih --task classification --image-size 256 \\
        --epochs 10 --distribute --mixed-precision

The first run over a set decodes and caches its images once (`data/<set>/cache/<size>px/`, uint16). Each epoch
prints Keras' progress bar, then its images per second; `history.csv` in the checkpoint folder keeps the loss,
AUC and images per second of every epoch.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

SOURCES = ("nih", "chexpert", "mimic", "phantom")
CHECKPOINT = re.compile(r"epoch_(\d+)\.keras$")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=SOURCES, default="nih")
    parser.add_argument("--task", choices=("classification",), default="classification",
                        help="the full sets' ground truth is their labels")  # fmt: skip
    parser.add_argument("--image-size", type=int, default=256, help="side in pixels, a multiple of 32")
    parser.add_argument("--epochs", type=int, required=True, help="train until this epoch (counting from 1)")
    parser.add_argument("--batch-size", type=int, default=64, help="global batch, split across the devices")
    parser.add_argument("--steps-per-epoch", type=int, default=None,
                        help="batches per epoch; default the whole split (the phantom: 100)")  # fmt: skip
    parser.add_argument("--depth", type=int, choices=(10, 18, 34), default=18, help="ResNet depth")
    parser.add_argument("--filters", type=int, default=64, help="channels of the ResNet's stem (64 in the paper)")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's learning rate")
    parser.add_argument("--distribute", action="store_true", help="data-parallel on every visible device (JAX)")
    parser.add_argument("--mixed-precision", action="store_true",
                        help="compute in float16 on GPUs, bfloat16 elsewhere; weights stay float32")  # fmt: skip
    parser.add_argument("--checkpoint-dir", type=Path, default=None,
                        help="default build/train_full/<dataset>-<size>px; resumes from its latest epoch_*.keras")  # fmt: skip
    parser.add_argument("--keep-checkpoints", type=int, default=2, help="how many of the latest checkpoints to keep")
    parser.add_argument("--data-dir", type=Path, default=None, help="the dataset folder; default data/<dataset>/")
    parser.add_argument("--workers", type=int, default=None, help="threads preparing batches; default the cores")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "steps_per_epoch", "filters", "keep_checkpoints", "workers"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer, got {value}")
    if args.image_size < 32 or args.image_size % 32:
        parser.error(f"--image-size must be a multiple of 32 (the ResNet halves it 5 times), got {args.image_size}")
    if not args.learning_rate > 0:
        parser.error(f"--learning-rate must be positive, got {args.learning_rate}")
    if args.dataset == "phantom" and args.data_dir is not None:
        parser.error("the phantom is rendered, not read: leave --data-dir out")
    if args.checkpoint_dir is None:
        args.checkpoint_dir = REPO_ROOT / "build" / "train_full" / f"{args.dataset}-{args.image_size}px"
    return args


def setup_distribution(distribute: bool):
    """Spread every batch over all visible devices with `keras.distribution.DataParallel`; return it (or None).

    Raises:
        SystemExit: for `--distribute` on a backend other than JAX.
    """
    import keras

    if not distribute:
        return None
    if keras.backend.backend() != "jax":
        raise SystemExit(
            f"--distribute uses keras.distribution, which runs on JAX; this is the {keras.backend.backend()!r} "
            "backend. Run with KERAS_BACKEND=jax (pip install 'lecture6-cxr[jax]'), or leave --distribute out to "
            "train on one device."
        )
    distribution = keras.distribution.DataParallel(devices=keras.distribution.list_devices())
    keras.distribution.set_distribution(distribution)
    return distribution


def shards_of(distribution, batch) -> list[tuple[str, tuple[int, ...]]]:
    """Place a batch as `fit` does under `distribution` and return `(device, shard shape)` for every device."""
    import jax

    layout = distribution.get_data_layout(batch.shape).backend_layout
    placed = jax.make_array_from_process_local_data(layout, batch)
    return [(str(shard.device), tuple(shard.data.shape)) for shard in placed.addressable_shards]


def latest_checkpoint(folder: Path) -> tuple[Path | None, int]:
    """The newest `epoch_NNN.keras` in `folder` and its epoch (1-based), or `(None, 0)`."""
    found = [
        (int(match.group(1)), path) for path in folder.glob("epoch_*.keras") if (match := CHECKPOINT.search(path.name))
    ]
    if not found:
        return None, 0
    epoch, path = max(found)
    return path, epoch


def build_model(args):
    import keras

    from lecture_lib.losses import WeightedBinaryCrossentropy
    from lecture_lib.models.classification import build_resnet

    model = build_resnet(args.depth, (args.image_size, args.image_size, 1), 15, head="multilabel",
                         filters=args.filters)  # fmt: skip
    # The masked cross-entropy skips NaN labels (CheXpert's and MIMIC-CXR's unmapped codes); AUC needs every label.
    metrics = [keras.metrics.AUC(multi_label=True, name="auc")] if args.dataset in ("nih", "phantom") else []
    model.compile(keras.optimizers.Adam(args.learning_rate), WeightedBinaryCrossentropy(), metrics=metrics)
    return model


def make_callbacks(args, batches_per_epoch: int, train):
    import keras

    class Throughput(keras.callbacks.Callback):
        """Print and log images per second per epoch; 'steady' leaves out the first batch (compilation, warm-up)."""

        def on_epoch_begin(self, epoch, logs=None):
            self.start, self.first = time.perf_counter(), None

        def on_train_batch_end(self, batch, logs=None):
            if self.first is None:
                self.first = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            end = time.perf_counter()
            rate = batches_per_epoch * args.batch_size / (end - self.start)
            steady = (batches_per_epoch - 1) * args.batch_size / (end - self.first) if batches_per_epoch > 1 else rate
            print(f"epoch {epoch + 1}: {rate:,.0f} img/s ({steady:,.0f} img/s after the first batch), "
                  f"{end - self.start:.1f} s", flush=True)  # fmt: skip
            if logs is not None:
                logs["images_per_second"] = rate

    class KeepLatest(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            found = sorted(args.checkpoint_dir.glob("epoch_*.keras"))
            for path in found[: -args.keep_checkpoints]:
                path.unlink(missing_ok=True)

    return [
        train.epoch_callback(),
        Throughput(),
        keras.callbacks.ModelCheckpoint(str(args.checkpoint_dir / "epoch_{epoch:03d}.keras")),
        KeepLatest(),
        keras.callbacks.CSVLogger(str(args.checkpoint_dir / "history.csv"), append=True),
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    checkpoint, initial_epoch = latest_checkpoint(args.checkpoint_dir)
    if initial_epoch >= args.epochs:
        print(f"{checkpoint.name} already has {initial_epoch} epochs; ask for more with --epochs")
        return 0
    import keras

    from lecture_lib import datasets, layers, losses  # noqa: F401  (layers and losses: what checkpoints hold)

    keras.utils.set_random_seed(args.seed)
    distribution = setup_distribution(args.distribute)
    devices = keras.distribution.list_devices() if keras.backend.backend() == "jax" else ["default device"]
    if args.distribute and args.batch_size % len(devices):
        raise SystemExit(
            f"--batch-size {args.batch_size} does not split evenly over {len(devices)} devices; use a multiple of "
            f"{len(devices)}"
        )
    if args.mixed_precision:
        policy = "mixed_float16" if any(device.startswith(("gpu", "cuda")) for device in devices) else "mixed_bfloat16"
        keras.mixed_precision.set_dtype_policy(policy)
        print(f"mixed precision: {policy}")

    steps = args.steps_per_epoch or (100 if args.dataset == "phantom" else None)
    train = datasets.stream(
        args.dataset, image_size=args.image_size, batch_size=args.batch_size, task=args.task, split="train",
        seed=args.seed, workers=args.workers, data_dir=args.data_dir, drop_remainder=True,
        num_images=steps * args.batch_size if args.dataset == "phantom" else None,
    )  # fmt: skip
    batches_per_epoch = min(len(train), steps) if steps else len(train)
    print(f"{args.dataset}: {len(train) * args.batch_size:,} images per pass, {batches_per_epoch} batches of "
          f"{args.batch_size} per epoch at {args.image_size} px")  # fmt: skip
    if distribution is not None:
        x, _ = train[0]
        placed = ", ".join(f"{device} holds {shape}" for device, shape in shards_of(distribution, x))
        print(f"data parallel over {len(devices)} devices ({', '.join(devices)}): batch {x.shape} -> {placed}")

    if checkpoint is not None:
        model = keras.saving.load_model(checkpoint)  # after set_distribution: the weights land on every device
        expected = (None, args.image_size, args.image_size, 1)
        if tuple(model.input_shape) != expected:
            raise SystemExit(
                f"{checkpoint} takes inputs {model.input_shape}, not {expected}: pass another --checkpoint-dir"
            )
        print(f"resuming from {checkpoint.name} (epoch {initial_epoch} done)")
    else:
        model = build_model(args)
    if distribution is not None:
        kernel = model.get_layer("logits").kernel.value
        print(f"weights replicated: logits kernel on {sorted(str(d) for d in kernel.sharding.device_set)}")
    model.fit(
        train, epochs=args.epochs, initial_epoch=initial_epoch,
        steps_per_epoch=batches_per_epoch if batches_per_epoch < len(train) else None,
        shuffle=False, callbacks=make_callbacks(args, batches_per_epoch, train), verbose=1,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
