"""Run every benchmark module and print one table: name, figure, unit.

Each `benchmarks/bench_<topic>.py` exposes `run() -> list[tuple[str, float, str]]`. Figures are measured on the
machine at hand, so compare rows only within one run (or one machine). The table is also written to
`build/benchmarks.md`.

Usage: `python benchmarks/run.py [TOPIC ...]`, e.g. `python benchmarks/run.py phantom`.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(REPO_ROOT))


def discover(topics: list[str]) -> list[Path]:
    """Return the benchmark modules to run, all of them when `topics` is empty."""
    paths = sorted(HERE.glob("bench_*.py"))
    if topics:
        wanted = {f"bench_{topic.removeprefix('bench_').removesuffix('.py')}.py" for topic in topics}
        unknown = wanted - {path.name for path in paths}
        if unknown:
            known = ", ".join(path.stem.removeprefix("bench_") for path in paths)
            raise SystemExit(f"unknown benchmark {sorted(unknown)}; known: {known}")
        paths = [path for path in paths if path.name in wanted]
    return paths


def run_module(path: Path) -> list[tuple[str, float, str]]:
    """Import one benchmark module from its file and return its rows."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.run()
    for row in rows:
        if len(row) != 3 or not isinstance(row[1], int | float):
            raise TypeError(f"{path.name}: run() must return (name, figure, unit) rows, got {row!r}")
    return rows


def format_table(rows: list[tuple[str, float, str]]) -> str:
    """Render rows as a Markdown table."""
    lines = ["| benchmark | figure | unit |", "|---|---:|---|"]
    lines += [f"| {name} | {figure:,.4g} | {unit} |" for name, figure, unit in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="*", help="benchmark topics (file names without bench_ and .py)")
    args = parser.parse_args(argv)
    rows = []
    for path in discover(args.topics):
        start = time.perf_counter()
        print(f"running {path.name} ...", file=sys.stderr, flush=True)
        rows += run_module(path)
        print(f"  done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    header = f"Machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}\n\n"
    table = header + format_table(rows)
    out = REPO_ROOT / "build" / "benchmarks.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
