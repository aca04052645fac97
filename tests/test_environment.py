"""environment.yml and pyproject.toml install the same packages; the version, licence and citation agree."""

import importlib.util
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

import lecture_lib

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
ENVIRONMENT = yaml.safe_load((ROOT / "environment.yml").read_text())
CITATION = yaml.safe_load((ROOT / "CITATION.cff").read_text())


def _by_name(texts) -> dict[str, SpecifierSet]:
    requirements = [Requirement(text) for text in texts]
    return {canonicalize_name(req.name): req.specifier for req in requirements}


def pyproject_requirements() -> dict[str, SpecifierSet]:
    """Return the runtime dependencies and the notebook tools: what environment.yml lists by name."""
    return _by_name([*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["notebooks"]])


def environment_requirements() -> dict[str, SpecifierSet]:
    texts = []
    for item in ENVIRONMENT["dependencies"]:
        texts += [req for req in item["pip"] if not req.startswith("-")] if isinstance(item, dict) else [item]
    return _by_name(text for text in texts if text != "pip" and not text.startswith("python="))


def test_every_pyproject_dependency_is_in_environment_yml():
    missing = pyproject_requirements().keys() - environment_requirements().keys()
    assert not missing, f"add to environment.yml: {sorted(missing)}"


def test_every_environment_yml_package_is_in_pyproject():
    extra = environment_requirements().keys() - pyproject_requirements().keys()
    assert not extra, (
        f"add to pyproject.toml (dependencies or the notebooks extra) or drop from environment.yml: {sorted(extra)}"
    )


def test_the_two_files_ask_for_the_same_versions():
    pyproject, environment = pyproject_requirements(), environment_requirements()
    differ = {
        name: (str(pyproject[name]), str(environment[name]))
        for name in pyproject
        if pyproject[name] != environment.get(name)
    }
    assert not differ, f"pyproject.toml vs environment.yml: {differ}"


def test_environment_installs_the_package_with_dev_tools_on_a_supported_python():
    pip_section = next(item["pip"] for item in ENVIRONMENT["dependencies"] if isinstance(item, dict))
    assert "-e .[dev]" in pip_section
    assert ENVIRONMENT["channels"] == ["conda-forge"]
    python = next(item for item in ENVIRONMENT["dependencies"] if isinstance(item, str) and item.startswith("python="))
    assert python.removeprefix("python=") + ".0" in SpecifierSet(PROJECT["requires-python"])


def test_version_is_one_string_everywhere():
    assert "version" in PROJECT["dynamic"], "pyproject.toml reads the version from lecture_lib.__version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+", lecture_lib.__version__)
    assert str(CITATION["version"]) == lecture_lib.__version__


def test_licence_file_matches_pyproject_and_citation():
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    assert CITATION["license"] == "MIT"


def _setup_cell_module():
    spec = importlib.util.spec_from_file_location("setup_cell", ROOT / "scripts" / "setup_cell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_lesson_notebook_starts_with_the_setup_cell():
    setup_cell = _setup_cell_module()
    firsts = {}
    for path in sorted((ROOT / "notebooks").glob("0[0-5]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        firsts[path.name] = "".join(next(cell for cell in cells if cell["cell_type"] == "code")["source"])
    assert len(firsts) == 6
    stale = [name for name, source in firsts.items() if source != setup_cell.SETUP_CELL]
    assert not stale, f"run `python scripts/setup_cell.py {' '.join('notebooks/' + name for name in stale)}`"


def test_apply_replaces_only_the_setup_cell(tmp_path):
    setup_cell = _setup_cell_module()
    notebook = {
        "cells": [
            {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "## Setup"},
            {
                "cell_type": "code",
                "id": "b",
                "metadata": {},
                "source": setup_cell.MARKER + ": old",
                "outputs": [],
                "execution_count": None,
            },
            {
                "cell_type": "code",
                "id": "c",
                "metadata": {},
                "source": "import keras",
                "outputs": [],
                "execution_count": None,
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "lesson.ipynb"
    path.write_text(json.dumps(notebook))
    assert setup_cell.apply(path) is True
    sources = ["".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]]
    assert sources == ["## Setup", setup_cell.SETUP_CELL, "import keras"]
    assert setup_cell.apply(path) is False
    notebook["cells"].pop(1)
    path.write_text(json.dumps(notebook))
    with pytest.raises(ValueError, match="lesson.ipynb has a first code cell starting 'import keras'"):
        setup_cell.apply(path)
