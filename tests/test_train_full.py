"""Tests of `scripts/train_full.py`: data-parallel training on the streamed phantom over two virtual CPU devices
(JAX), the loss falling, a checkpoint per epoch and a resumed run; argument errors."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import train_full  # noqa: E402

ARGUMENTS = ["--dataset", "phantom", "--image-size", "64", "--batch-size", "16", "--steps-per-epoch", "5",
             "--depth", "10", "--filters", "8", "--distribute", "--workers", "2"]  # fmt: skip


def _train(checkpoints: Path, epochs: int) -> str:
    # JAX's persistent compilation cache lets the resumed run reuse the first run's compiled initializers and steps.
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "TF_CPP_MIN_LOG_LEVEL": "2", "JAX_COMPILATION_CACHE_DIR": str(checkpoints.parent / "jax-cache"),
           "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0", "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}  # fmt: skip
    command = [sys.executable, ROOT / "scripts" / "train_full.py", *ARGUMENTS, "--epochs", str(epochs),
               "--checkpoint-dir", checkpoints]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def _losses(checkpoints: Path) -> list[float]:
    with open(checkpoints / "history.csv") as stream:
        return [float(row["loss"]) for row in csv.DictReader(stream)]


def test_data_parallel_training_on_two_devices_resumes_from_its_checkpoint(tmp_path):
    checkpoints = tmp_path / "run"
    out = _train(checkpoints, epochs=2)
    # Each of the two devices holds half of every batch; the weights are on both.
    assert "data parallel over 2 devices (cpu:0, cpu:1)" in out
    assert "batch (16, 64, 64, 1) -> cpu:0 holds (8, 64, 64, 1), cpu:1 holds (8, 64, 64, 1)" in out
    assert "weights replicated: logits kernel on ['cpu:0', 'cpu:1']" in out
    assert len(re.findall(r"epoch \d: [\d,]+ img/s", out)) == 2
    losses = _losses(checkpoints)
    assert len(losses) == 2 and losses[1] < losses[0] < 0.8  # from about ln 2 = 0.69 per label at the start
    assert sorted(path.name for path in checkpoints.glob("*.keras")) == ["epoch_001.keras", "epoch_002.keras"]

    out = _train(checkpoints, epochs=3)
    assert "resuming from epoch_002.keras (epoch 2 done)" in out and "Epoch 3/3" in out and "Epoch 1/" not in out
    losses = _losses(checkpoints)
    # The third epoch starts from the trained weights: its loss is below the first epoch's, far from a fresh start.
    assert len(losses) == 3 and losses[2] < losses[0]
    assert sorted(path.name for path in checkpoints.glob("*.keras")) == ["epoch_002.keras", "epoch_003.keras"]
    assert "already has 3 epochs" in _train(checkpoints, epochs=3)


def test_distribute_on_another_backend_says_to_use_jax(monkeypatch):
    import keras

    monkeypatch.setattr(keras.backend, "backend", lambda: "tensorflow")
    with pytest.raises(SystemExit, match="Run with KERAS_BACKEND=jax"):
        train_full.setup_distribution(True)
    assert train_full.setup_distribution(False) is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--image-size", "100"], "--image-size must be a multiple of 32"),
        (["--batch-size", "0"], "--batch-size must be a positive integer, got 0"),
        (["--dataset", "phantom", "--data-dir", "data"], "leave --data-dir out"),
        (["--learning-rate", "-1"], "--learning-rate must be positive"),
        (["--dataset", "jsrt"], "invalid choice: 'jsrt'"),
    ],
)
def test_argument_errors(arguments, message, capsys):
    with pytest.raises(SystemExit):
        train_full.parse_args(["--epochs", "1", *arguments])
    assert message in capsys.readouterr().err
