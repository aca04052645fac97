"""pyproject.toml and environment.yml must list the same runtime dependencies."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_runtime() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_name(req) for req in project["dependencies"]}


def environment_packages() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for item in env["dependencies"]:
        if isinstance(item, dict):
            names |= {_name(req) for req in item["pip"] if not req.startswith("-")}
        else:
            names.add(_name(item))
    return names - {"python", "pip"}


def test_every_pyproject_dependency_is_in_environment_yml():
    missing = pyproject_runtime() - environment_packages()
    assert not missing, f"add to environment.yml: {sorted(missing)}"


def test_every_environment_yml_package_is_in_pyproject():
    extra = environment_packages() - pyproject_runtime()
    assert not extra, f"add to pyproject.toml dependencies (or drop from environment.yml): {sorted(extra)}"


def test_environment_installs_the_package_with_dev_tools():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert "-e .[dev]" in pip_section
    assert env["channels"] == ["conda-forge"]


def test_the_name_parser_splits_specifiers():
    assert _name("tensorflow-cpu>=2.18,<2.22") == "tensorflow-cpu"
    assert _name("jax[cpu]>=0.4") == "jax"
    assert _name("scikit_image") == "scikit-image"
