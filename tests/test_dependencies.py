"""Tests of scripts/check_dependencies.py and of the markers and extras of pyproject.toml it resolves."""

import importlib.util
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_dependencies", ROOT / "scripts" / "check_dependencies.py")
check_dependencies = sys.modules["check_dependencies"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_dependencies)

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
MACHINES = {
    **{name: target.markers for name, target in check_dependencies.TARGETS.items()},
    "macos-x86_64": {"sys_platform": "darwin", "platform_machine": "x86_64"},
    "windows-arm64": {"sys_platform": "win32", "platform_machine": "ARM64"},
    "linux-ppc64le": {"sys_platform": "linux", "platform_machine": "ppc64le"},
}


def _backend_packages(markers: dict[str, str], python: str = "3.13") -> list[str]:
    environment = {**markers, "python_version": python, "python_full_version": f"{python}.0", "extra": ""}
    requirements = (Requirement(text) for text in PROJECT["optional-dependencies"]["tf"])
    return [req.name for req in requirements if req.marker is None or req.marker.evaluate(environment)]


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_the_tf_extra_picks_exactly_one_tensorflow(machine):
    assert len(_backend_packages(MACHINES[machine])) == 1


@pytest.mark.parametrize(
    ("machine", "package"),
    [
        ("linux-x86_64", "tensorflow-cpu"),
        ("windows-x86_64", "tensorflow-cpu"),
        ("linux-aarch64", "tensorflow"),  # no tensorflow-cpu wheel for these two
        ("macos-arm64", "tensorflow"),
    ],
)
def test_the_cpu_wheel_only_where_it_exists(machine, package):
    assert _backend_packages(MACHINES[machine]) == [package]


def test_runtime_dependencies_leave_the_backend_and_jupyter_to_the_environment():
    names = {Requirement(text).name for text in PROJECT["dependencies"]}
    assert not names & {"tensorflow", "tensorflow-cpu", "jax", "jupyter", "nbclient", "nbconvert", "ipykernel"}
    assert not names & {"pylibjpeg", "pylibjpeg-libjpeg"}, "GPL-3 decoders belong in the dicom-codecs extra"


def test_requirements_expand_the_extras_that_dev_names():
    dev = check_dependencies.requirements(["dev"])
    names = {Requirement(text).name for text in dev}
    assert {"keras", "tensorflow-cpu", "tensorflow", "jax", "nbclient", "nbconvert", "nbval", "pyyaml"} <= names
    assert not any(name.startswith("lecture-lib") for name in names)
    with pytest.raises(ValueError, match="no extra 'gpu'.*'dev'"):
        check_dependencies.requirements(["gpu"])


def test_every_upper_bound_of_a_backend_is_set():
    for text in [*PROJECT["optional-dependencies"]["tf"], *PROJECT["optional-dependencies"]["jax"]]:
        assert any(spec.operator == "<" for spec in Requirement(text).specifier), f"{text} has no upper bound"


def test_requires_python_allows_every_checked_version_and_no_other():
    supported = SpecifierSet(PROJECT["requires-python"])
    assert [python for python in ("3.10", "3.11", "3.12", "3.13", "3.14") if f"{python}.0" in supported] == list(
        check_dependencies.PYTHONS
    )


@pytest.mark.slow
def test_the_laptop_install_resolves_on_every_platform():
    """Resolve runtime dependencies and the `tf` extra on the four targets for the newest Python, in parallel.

    The newest Python is where wheels go missing first; the full matrix (three Pythons, with `notebooks`) is
    `python scripts/check_dependencies.py`.
    """
    if not check_dependencies.pypi_reachable():
        pytest.skip(f"{check_dependencies.PYPI} is not reachable")
    results = check_dependencies.check(pythons=[check_dependencies.PYTHONS[-1]], extras=["tf"], workers=4)
    failed = [result.line() for result in results if not result.ok]
    assert not failed, "\n".join(failed)
    backends = {result.target: sorted({"tensorflow", "tensorflow-cpu"} & set(result.packages)) for result in results}
    assert backends == {
        "linux-x86_64": ["tensorflow-cpu"],
        "linux-aarch64": ["tensorflow"],
        "macos-arm64": ["tensorflow"],
        "windows-x86_64": ["tensorflow-cpu"],
    }
