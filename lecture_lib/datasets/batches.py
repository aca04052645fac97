"""The `keras.utils.PyDataset`s behind `stream`: batches read from the image cache, or rendered by the phantom.

Build them with `lecture_lib.datasets.stream(...)`, which checks the arguments and fills the cache; this module is
imported on its first call, so that `import lecture_lib.datasets` does not start Keras.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence

import keras
import numpy as np
from keras import ops

from lecture_lib.checks import check_count
from lecture_lib.datasets.arraycache import ArrayCache, Entry
from lecture_lib.datasets.schema import CXRSet

PHANTOM_SPLIT_CODES = {"train": 0, "validation": 1, "test": 2}
"""A phantom split's word in the seed of its batches, so that the splits never share an image."""


class StreamBatches(keras.utils.PyDataset):
    """Epoch bookkeeping and augmentation shared by `CacheBatches` and `PhantomBatches`.

    Args:
        num_rows: images per epoch.
        batch_size: images per batch.
        task: one of `schema.TASKS`.
        seed: seed of the shuffle or of the renderings.
        augment: a layer applied with `training=True` to each batch (images, or images and masks), or None.
        drop_remainder: leave out the last, smaller batch.
        options: the task's `CXRSet.xy` options.
        **kwargs: `workers`, `use_multiprocessing`, `max_queue_size` of `keras.utils.PyDataset`.
    """

    def __init__(self, num_rows: int, batch_size: int, task: str, seed: int, augment, drop_remainder: bool,
                 options: Mapping, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.num_rows, self.batch_size, self.task, self.seed = num_rows, batch_size, task, seed
        self.augment, self.drop_remainder, self.options = augment, drop_remainder, dict(options)
        self._epoch = 0

    @property
    def epoch(self) -> int:
        """The epoch the next batches belong to: `fit` advances it; set it to resume a run at that epoch."""
        return self._epoch

    @epoch.setter
    def epoch(self, value: int) -> None:
        self._epoch = check_count(value, "epoch", minimum=0, fix="epochs count from 0")
        self._epoch_changed()

    def _epoch_changed(self) -> None:
        """Called whenever `epoch` changes."""

    def __len__(self) -> int:
        return self.num_rows // self.batch_size if self.drop_remainder else math.ceil(self.num_rows / self.batch_size)

    def _rows(self, index) -> range:
        if isinstance(index, bool | np.bool_) or not isinstance(index, int | np.integer) or not 0 <= index < len(self):
            raise IndexError(f"batch index {index!r} is out of range for a stream of {len(self)} batches")
        return range(int(index) * self.batch_size, min((int(index) + 1) * self.batch_size, self.num_rows))

    def _augmented(self, x, y):
        if self.augment is None:
            return x, y
        if self.task == "segmentation":
            out = self.augment({"images": x, "segmentation_masks": y}, training=True)
            return ops.convert_to_numpy(out["images"]), ops.convert_to_numpy(out["segmentation_masks"])
        return ops.convert_to_numpy(self.augment(x, training=True)), y

    def on_epoch_end(self) -> None:
        self.epoch = self._epoch + 1

    def epoch_callback(self) -> keras.callbacks.Callback:
        """A callback for `fit` that sets `epoch` to the epoch `fit` begins, so that batches follow `fit`'s count.

        Without it, `on_epoch_end` advances `epoch`; but `fit` also calls `on_epoch_end` once before training, after
        reading a batch or an epoch to learn the batches' shapes (how often differs between backends), so epoch 0 of
        `fit` would be epoch 1 of the stream, and `fit(initial_epoch=5)` would not see epoch 5's batches.
        """

        def begin(epoch, logs=None):
            self.epoch = epoch

        return keras.callbacks.LambdaCallback(on_epoch_begin=begin)


class CacheBatches(StreamBatches):
    """Batches of cached images with their labels, each one memory-mapped gather (see `stream`).

    Args:
        cache: the cache folder holding every image.
        keys: the cache key of each row.
        entries: where each row's image is (`arraycache.Entry`).
        labels: `(N, 15)` float32 slide-code labels, NaN where unknown.
        shuffle: serve the rows of epoch `e` in the permutation drawn from `(seed, e)`; else in order.
        **kwargs: see `StreamBatches`.
    """

    def __init__(self, cache: ArrayCache, keys: Sequence[str], entries: Sequence[Entry], labels: np.ndarray,
                 batch_size: int, task: str, shuffle: bool, seed: int, augment, drop_remainder: bool,
                 options: Mapping, **kwargs):  # fmt: skip
        super().__init__(len(entries), batch_size, task, seed, augment, drop_remainder, options, **kwargs)
        self.cache, self.keys, self.entries, self.shuffle = cache, list(keys), list(entries), shuffle
        # CXRSet.xy of the labels alone (one-pixel images) gives every row's y and checks the options once.
        pixels = np.zeros((len(labels), 1, 1, 1), np.float32)
        _, self.targets = CXRSet(images=pixels, labels=labels).xy(task, **options)
        self._lock = threading.Lock()
        self._epoch_changed()

    def order(self, epoch: int) -> np.ndarray:
        """The rows of epoch `epoch` in the order they are served: a permutation drawn from `(seed, epoch)`."""
        if not self.shuffle:
            return np.arange(self.num_rows)
        return np.random.default_rng(np.random.SeedSequence([self.seed, epoch])).permutation(self.num_rows)

    def _epoch_changed(self) -> None:
        self._order = self.order(self._epoch)

    def __getitem__(self, index):
        rows = self._order[self._rows(index)]
        size = self.cache.image_size
        x = np.empty((len(rows), size, size, 1), dtype=np.float32)
        try:
            self.cache.read([self.entries[row] for row in rows], x)
        except FileNotFoundError:
            # Another process merged the shards (a notebook's load("nih") compacts the cache): look the keys up again.
            with self._lock:
                found = self.cache.entries()
                missing = [key for key in self.keys if key not in found]
                if missing:
                    raise FileNotFoundError(
                        f"{len(missing)} images left the cache {self.cache.folder} while streaming (e.g. "
                        f"{missing[0]}); call stream(...) again to cache them"
                    ) from None
                self.entries = [found[key] for key in self.keys]
            self.cache.read([self.entries[row] for row in rows], x)
        return self._augmented(x, self.targets[rows])


class PhantomBatches(StreamBatches):
    """Batches rendered by `phantom.generate`, each with its own seed (see `batch_seed`).

    Args:
        image_size: side of the rendered images.
        split: `"train"` (new images every epoch), `"validation"` or `"test"` (the same images every epoch).
        source_options: `generate`'s own arguments (`prevalence`, `findings`, `acquisition`, ...).
        **kwargs: see `StreamBatches`.
    """

    def __init__(self, num_images: int, image_size: int, batch_size: int, task: str, split: str, seed: int, augment,
                 drop_remainder: bool, options: Mapping, source_options: Mapping, **kwargs):  # fmt: skip
        super().__init__(num_images, batch_size, task, seed, augment, drop_remainder, options, **kwargs)
        self.image_size, self.split, self.source_options = image_size, split, dict(source_options)
        # Render only what the task needs: masks and the bone-free twin cost more than the image itself.
        self.render_options = {"bone_free": task == "bone_suppression", "mask_names": ()}
        if task == "segmentation":
            from lecture_lib.datasets.phantom import MASK_NAMES

            wanted = options.get("mask_names")
            self.render_options["mask_names"] = MASK_NAMES if wanted is None else (
                [wanted] if isinstance(wanted, str) else list(wanted))  # fmt: skip
        self.render(1, self.batch_seed(0, 0))  # checks the options here rather than in fit's worker threads

    def batch_seed(self, epoch: int, index: int) -> int:
        """The `generate` seed of batch `index` of epoch `epoch`: 64 bits drawn from `(seed, split, epoch, index)`.

        Validation and test batches use epoch 0 whatever `epoch` is, so they are the same at every epoch.
        """
        epoch = epoch if self.split == "train" else 0
        state = np.random.SeedSequence([self.seed, PHANTOM_SPLIT_CODES[self.split], epoch, index]).generate_state(2)
        return int(state[0]) << 32 | int(state[1])

    def render(self, num_images: int, seed: int):
        """Render `num_images` phantom images with `seed` and return their `(x, y)` for the task."""
        from lecture_lib.datasets.phantom import generate

        data = generate(num_images, image_size=self.image_size, seed=seed, **self.render_options,
                        **self.source_options)  # fmt: skip
        return data.xy(self.task, **self.options)

    def __getitem__(self, index):
        rows = self._rows(index)
        x, y = self.render(len(rows), self.batch_seed(self._epoch, int(index)))
        return self._augmented(x, y)
