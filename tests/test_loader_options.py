"""Tests of the arguments every loader shares: `choose_rows`, the one rule for `num_images` and `seed`.

Expected positions are computed from NumPy alone (`np.random.default_rng(seed).permutation`), and the sample's
uniformity is checked by counting over many seeds against the binomial spread.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from loader_fixtures import BAD_SEEDS

from lecture_lib.datasets import loader_options
from lecture_lib.datasets.loader_options import choose_positions, choose_rows, sample_order

TABLE = pd.DataFrame({"image": [f"{row:08d}_000.png" for row in range(100)], "value": np.arange(100) * 10},
                     index=np.arange(100) + 1000)  # fmt: skip
"""100 rows whose index is not their position, as after a loader's filters."""


def test_seed_none_keeps_the_first_rows_in_the_source_order():
    kept = choose_rows(TABLE, 7, None)
    assert kept["image"].tolist() == [f"{row:08d}_000.png" for row in range(7)]
    assert kept.index.tolist() == list(range(1000, 1007))  # by position, the table's index untouched
    assert choose_rows(list("abcdef"), 2, None) == ["a", "b"]
    assert choose_rows(("a", "b", "c"), 2, None) == ("a", "b")
    np.testing.assert_array_equal(choose_rows(np.arange(50) * 2, 3, None), [0, 2, 4])


@pytest.mark.parametrize(("num_images", "seed"), [(10, 0), (10, 42), (1, 7), (99, 3), (37, 123456789)])
def test_an_integer_seed_keeps_the_permutations_first_positions_sorted(num_images, seed):
    expected = np.sort(np.random.default_rng(seed).permutation(100)[:num_images])
    kept = choose_rows(TABLE, num_images, seed)
    assert len(kept) == num_images and kept.index.is_unique and kept.index.is_monotonic_increasing
    np.testing.assert_array_equal(kept["value"].to_numpy(), expected * 10)
    np.testing.assert_array_equal(choose_positions(100, num_images, seed), expected)
    assert choose_rows(TABLE, num_images, seed).equals(kept)  # the same seed, the same rows
    np.testing.assert_array_equal(choose_rows(np.arange(100), num_images, seed), expected)
    assert choose_rows(list(range(100)), num_images, seed) == expected.tolist()


def test_other_seeds_draw_other_samples_and_not_the_first_rows():
    samples = {tuple(choose_positions(100, 10, seed)) for seed in range(20)}
    assert len(samples) == 20 and tuple(range(10)) not in samples


def test_a_larger_num_images_with_the_same_seed_keeps_the_smaller_sample():
    for seed in (0, 5):
        smaller, larger = set(choose_positions(100, 10, seed)), set(choose_positions(100, 30, seed))
        assert smaller < larger


def test_the_sample_is_uniform_over_rows_and_pairs():
    # 4,000 samples of 3 of 10 rows: each row is in a sample with probability 3/10 and each pair with 1/15. The
    # counts must fall within 4.5 binomial standard deviations (a false alarm about once in 10^5 per count).
    draws, count, keep = 4000, 10, 3
    hits = np.zeros(count)
    pairs = np.zeros((count, count))
    for seed in range(draws):
        positions = choose_positions(count, keep, seed)
        hits[positions] += 1
        for first, second in itertools.combinations(positions, 2):
            pairs[first, second] += 1
    p_row, p_pair = keep / count, keep * (keep - 1) / (count * (count - 1))
    assert np.all(np.abs(hits - draws * p_row) <= 4.5 * np.sqrt(draws * p_row * (1 - p_row)))
    upper = pairs[np.triu_indices(count, 1)]
    assert np.all(np.abs(upper - draws * p_pair) <= 4.5 * np.sqrt(draws * p_pair * (1 - p_pair)))


@pytest.mark.parametrize("seed", [None, 0, 9])
@pytest.mark.parametrize("num_images", [None, 100, 101, 10_000])
def test_num_images_none_or_at_least_the_rows_keeps_everything_in_order(num_images, seed):
    assert choose_rows(TABLE, num_images, seed).equals(TABLE)


def test_an_empty_table_stays_empty_and_numpy_integers_are_accepted():
    assert choose_positions(0, 5, 3).tolist() == [] and choose_rows([], 5, None) == []
    np.testing.assert_array_equal(choose_positions(100, np.int64(4), np.int32(8)), choose_positions(100, 4, 8))


def test_sample_order_is_the_source_order_or_a_seeded_permutation():
    np.testing.assert_array_equal(sample_order(5, None), np.arange(5))
    np.testing.assert_array_equal(sample_order(50, 11), np.random.default_rng(11).permutation(50))


@pytest.mark.parametrize(("seed", "error", "message"), [*BAD_SEEDS, (True, TypeError, "got bool True")])
def test_bad_seeds_are_named(seed, error, message):
    with pytest.raises(error, match=message):
        choose_rows(TABLE, 3, seed)
    with pytest.raises(error, match=message):  # checked even when every row is kept
        choose_rows(TABLE, None, seed)
    with pytest.raises(error, match=message):
        loader_options.resolve_seed(seed)


def test_bad_num_images_and_rows_are_named():
    with pytest.raises(ValueError, match="num_images must be None or a positive integer, got 0"):
        choose_rows(TABLE, 0, None)
    with pytest.raises(TypeError, match="num_images must be None or a positive integer, got float 2.5"):
        choose_rows(TABLE, 2.5, 1)
    with pytest.raises(TypeError, match="rows must be a DataFrame, an array, a list or a tuple, got set"):
        choose_rows({1, 2, 3}, 2, None)


LOADERS = ["nih", "chexpert", "mimic", "padchest", "jsrt", "siim", "rsna", "chestmnist", "pneumoniamnist",
           "montgomery", "shenzhen"]  # fmt: skip


@pytest.mark.parametrize("name", LOADERS)
@pytest.mark.parametrize(("seed", "error", "message"), BAD_SEEDS)
def test_every_loader_names_a_bad_seed_before_reading_a_file(tmp_path, name, seed, error, message):
    from lecture_lib import datasets

    if name in ("montgomery", "shenzhen"):  # their seed also draws the patient split, so None is refused
        message = message.replace("None or ", "")
    with pytest.raises(error, match=message):
        getattr(datasets, f"load_{name}")(tmp_path / "nothing", num_images=2, seed=seed)
