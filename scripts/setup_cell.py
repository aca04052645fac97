"""The first code cell of every lesson notebook, and `apply`, which writes it into a notebook.

    python scripts/setup_cell.py notebooks/0[0-5]_*.ipynb

The cell makes `lecture_lib` importable wherever the notebook runs: installed (`make lab`, `make setup`), a clone
opened in place (the folder or a parent holds `lecture_lib/`), or Colab, where a clone lands in `/content/<name>`.
It installs the package without extras when a backend is there, so Colab's own TensorFlow and Jupyter stay untouched.

It then imports Keras once with the process's stderr muted. TensorFlow 2.21 prints its start-up lines (absl's "All
log messages before absl::InitializeLog() is called are written to STDERR", oneDNN's "custom operations are on")
from C++ before it reads TF_CPP_MIN_LOG_LEVEL, so no environment variable hides them short of turning oneDNN off
(TF_ENABLE_ONEDNN_OPTS=0, which changes the numbers). Errors still surface as Python exceptions, and Python
warnings (ipykernel's sys.stderr) are not muted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

MARKER = "# Make `lecture_lib` importable"
"""The first characters of the cell; `apply` finds the cell to replace by them."""

SETUP_CELL = """\
# Make `lecture_lib` importable: installed by the README's commands, a clone opened in place, or a clone in Colab.
import importlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

if importlib.util.find_spec("lecture_lib") is None:
    places = [Path.cwd(), *Path.cwd().parents, *Path("/content").glob("*")]  # Colab clones land in /content
    repo = next((p for p in places if (p / "lecture_lib" / "__init__.py").is_file()), None)
    if repo is None:
        raise ImportError(
            "lecture_lib is not installed and no clone of the course is here or in /content. In Colab, run "
            "`!git clone <URL of the course repository> /content/lecture6` in a cell, then this cell again "
            "(README, 'Install'). On a laptop, run `make lab` in your clone."
        )
    extras = "" if importlib.util.find_spec("tensorflow") else "[tf]"  # keep a TensorFlow that is there (Colab's)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", f"{repo}{extras}"], check=True)
    importlib.invalidate_caches()  # see the packages pip just added
    sys.path.insert(0, str(repo))

# TensorFlow prints absl and oneDNN notes from C++ before it reads TF_CPP_MIN_LOG_LEVEL: start it with stderr muted.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
stderr_copy, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
os.dup2(devnull, 2)
try:
    importlib.import_module("keras")
finally:
    os.dup2(stderr_copy, 2)
    os.close(stderr_copy)
    os.close(devnull)"""


def apply(notebook_path) -> bool:
    """Replace the setup cell of `notebook_path` by `SETUP_CELL`; return whether the file changed.

    Args:
        notebook_path: a notebook whose first code cell starts with `MARKER`.

    Returns:
        True when the cell's source was different and the notebook was rewritten, False when it was already current.

    Raises:
        ValueError: if the notebook's first code cell is not the setup cell.
    """
    path = Path(notebook_path)
    notebook = nbformat.read(path, as_version=4)
    cell = next((cell for cell in notebook.cells if cell.cell_type == "code"), None)
    if cell is None or not cell.source.startswith(MARKER):
        found = "no code cell" if cell is None else f"a first code cell starting {cell.source[:60]!r}"
        raise ValueError(f"{path} has {found}; expected the setup cell starting {MARKER!r}")
    if cell.source == SETUP_CELL:
        return False
    cell.source = SETUP_CELL
    nbformat.write(notebook, path)
    return True


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {'updated' if apply(name) else 'already current'}")
