"""Resolve the course's dependencies for the machines students bring, from PyPI, without installing anything.

For each target (Linux x86-64 and aarch64, macOS on Apple silicon, Windows x86-64) and each supported Python, this
runs `pip install --dry-run --only-binary=:all: --platform ... --python-version ... --report` on the requirements of
pyproject.toml (the runtime dependencies plus the extras a laptop installs, `tf` and `notebooks`), in parallel, and
prints one line per resolution. Exit status 0 when every target resolves, 1 when one does not, 2 when PyPI cannot
be reached.

    python scripts/check_dependencies.py                      # the whole matrix
    python scripts/check_dependencies.py --targets macos-arm64 --pythons 3.13 --extras tf,notebooks,dicom-codecs

pip applies `--platform` and `--python-version` to the choice of wheels only: it still evaluates environment markers
(`sys_platform == 'darwin'`, `python_version < '3.12'`) for the interpreter that runs it (pypa/pip#11664). So pip
runs here with the marker environment of the target put in place of its own, and each report is checked to carry it.
Configuration files are ignored (PIP_CONFIG_FILE=os.devnull), so the answer is PyPI's, as a student gets it.
Where an index serves no separate metadata files (PEP 658), pip reads a wheel's metadata with HTTP range requests
(`--use-feature=fast-deps`) instead of downloading it whole: TensorFlow's wheels are 250 MB or more.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPI = "https://pypi.org/simple/"
PYTHONS = ("3.11", "3.12", "3.13")
DEFAULT_EXTRAS = ("tf", "notebooks")
GLIBC_MINOR = 28  # manylinux_2_28: RHEL 8, Debian 10, Ubuntu 18.10 and every newer Linux


def _manylinux(arch: str) -> tuple[str, ...]:
    return (*(f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC_MINOR, 4, -1)), f"manylinux2014_{arch}")


@dataclasses.dataclass(frozen=True)
class Target:
    """A kind of student machine: the wheel tags it accepts and the values its environment markers see."""

    name: str
    platforms: tuple[str, ...]
    markers: dict[str, str]


TARGETS = {
    target.name: target
    for target in (
        Target(
            "linux-x86_64",
            _manylinux("x86_64"),
            {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix"},
        ),
        Target(
            "linux-aarch64",
            _manylinux("aarch64"),
            {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64", "os_name": "posix"},
        ),
        # pip widens macosx_14_0 to every older macOS and to universal2 wheels.
        Target(
            "macos-arm64",
            ("macosx_14_0_arm64",),
            {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64", "os_name": "posix"},
        ),
        Target(
            "windows-x86_64",
            ("win_amd64",),
            {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64", "os_name": "nt"},
        ),
    )
}

# Runs pip with the target's marker environment: pip's vendored `packaging` looks `default_environment` up on every
# marker evaluation, and its installation report records the environment the markers saw.
_PIP_FOR_TARGET = """
import json, sys
from pip._vendor.packaging import markers
host_environment, target = markers.default_environment, json.loads(sys.argv[1])
markers.default_environment = lambda: {**host_environment(), **target}
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


@dataclasses.dataclass
class Resolution:
    """What pip answered for one target and Python version."""

    target: str
    python: str
    ok: bool
    seconds: float
    packages: dict[str, str] = dataclasses.field(default_factory=dict)
    error: str = ""

    def line(self) -> str:
        head = f"{self.target:<15} Python {self.python}  {self.seconds:5.1f} s  "
        if not self.ok:
            return head + "FAILED: " + self.error
        backend = {name: version for name, version in self.packages.items() if name.startswith(("tensorflow", "jax"))}
        shown = ", ".join(f"{name} {version}" for name, version in sorted(backend.items()))
        return head + f"ok, {len(self.packages)} packages ({shown or 'no backend'})"


def _normalized(name: str) -> str:
    """Return the PEP 503 form of a distribution name: `tensorflow_cpu` -> `tensorflow-cpu`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(extras=DEFAULT_EXTRAS, pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """Return the runtime requirements of `pyproject` plus those of `extras`, self-references expanded."""
    project = tomllib.loads(pyproject.read_text())["project"]
    optional = project.get("optional-dependencies", {})
    own_name = re.compile(rf"^{re.escape(project['name'])}\[([^\]]*)\]$", re.IGNORECASE)
    result, pending, seen = list(project["dependencies"]), list(extras), set()
    while pending:
        extra = pending.pop(0)
        if extra in seen:
            continue
        if extra not in optional:
            raise ValueError(f"pyproject.toml has no extra {extra!r}; it has {sorted(optional)}")
        seen.add(extra)
        for requirement in optional[extra]:
            if match := own_name.match(requirement.replace(" ", "")):
                pending += match.group(1).split(",")
            else:
                result.append(requirement)
    return result


def marker_environment(target: Target, python: str) -> dict[str, str]:
    """Return the PEP 508 marker values of CPython `python` (e.g. "3.13") on `target`."""
    return {
        **target.markers,
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "implementation_version": f"{python}.0",
    }


def resolve(target: Target, python: str, reqs: list[str], timeout: float = 300) -> Resolution:
    """Resolve `reqs` for `target` and `python` with pip's dry run; never installs anything."""
    environment = marker_environment(target, python)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="check-deps-") as scratch:
        report = Path(scratch) / "report.json"
        command = [sys.executable, "-c", _PIP_FOR_TARGET, json.dumps(environment), "install", "--dry-run"]
        command += ["--quiet", "--no-input", "--ignore-installed", "--only-binary=:all:", "--implementation", "cp"]
        command += [arg for platform in target.platforms for arg in ("--platform", platform)]
        command += ["--python-version", python, "--target", str(Path(scratch) / "target"), "--report", str(report)]
        command += ["--index-url", PYPI, "--use-feature=fast-deps", *reqs]
        env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        try:
            run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            return Resolution(
                target.name, python, False, time.perf_counter() - start, error=f"no answer in {timeout} s"
            )
        seconds = time.perf_counter() - start
        if run.returncode != 0 or not report.is_file():
            errors = [line for line in run.stderr.splitlines() if line.startswith("ERROR")] or run.stderr.splitlines()
            return Resolution(target.name, python, False, seconds, error=" | ".join(errors[-3:]) or "pip failed")
        answer = json.loads(report.read_text())
    seen = {key: answer["environment"].get(key) for key in environment}
    if seen != environment:
        raise RuntimeError(f"pip evaluated markers for {seen}, not {environment}: this pip's internals changed")
    packages = {_normalized(item["metadata"]["name"]): item["metadata"]["version"] for item in answer["install"]}
    return Resolution(target.name, python, True, seconds, packages)


def pypi_reachable(timeout: float = 5) -> bool:
    """Return whether PyPI's simple index answers within `timeout` seconds."""
    try:
        with urllib.request.urlopen(PYPI + "pip/", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def check(targets=tuple(TARGETS), pythons=PYTHONS, extras=DEFAULT_EXTRAS, workers: int = 6) -> list[Resolution]:
    """Resolve every pair of `targets` and `pythons` in parallel; return the results in matrix order."""
    reqs = requirements(extras)
    pairs = [(TARGETS[name], python) for name in targets for python in pythons]
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda pair: resolve(*pair, reqs), pairs))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated, from {', '.join(TARGETS)}")
    parser.add_argument("--pythons", default=",".join(PYTHONS), help="comma-separated Python versions")
    parser.add_argument("--extras", default=",".join(DEFAULT_EXTRAS), help="extras of pyproject.toml to add")
    parser.add_argument("--workers", type=int, default=6, help="resolutions run at the same time")
    args = parser.parse_args(argv)
    targets = args.targets.split(",")
    if unknown := sorted(set(targets) - set(TARGETS)):
        parser.error(f"unknown targets {unknown}; choose from {', '.join(TARGETS)}")
    if not pypi_reachable():
        print(f"cannot reach {PYPI}: the dependency check needs PyPI", file=sys.stderr)
        return 2
    start = time.perf_counter()
    results = check(targets, args.pythons.split(","), [e for e in args.extras.split(",") if e], args.workers)
    for result in results:
        print(result.line())
    failed = sum(not result.ok for result in results)
    print(f"{len(results) - failed} of {len(results)} resolved in {time.perf_counter() - start:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
