"""Each notebook's "Real data: one line away" table agrees with its `DATASET` comment and with `data/README.md`.

The table in the markdown cell before a notebook's constants cell repeats, for each real source its `DATASET` comment
names, the download size, images read and first-load time of the README's table "What each notebook's `DATASET`
switch needs" (the single source of these figures), the access level of the README's dataset table, and whether
`download=True` can fetch the files. Only the markdown is read: no notebook runs here.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from test_notebook_datasets import CASES

from lecture_lib.datasets import registry

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
README = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
TITLE = "**Real data: one line away.**"
STEMS = sorted({stem for stem, _ in CASES})
# notebook column -> README column holding the same figure
COPIED = {"download": "download", "images read": "images read", "first load": "first load"}


def parse_table(lines: list[str]) -> list[dict[str, str]]:
    """Return the rows of the first markdown table in `lines` as dicts keyed by the header's cells."""
    start = next(index for index, line in enumerate(lines) if line.startswith("|"))
    block = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        block.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    header, separator, *rows = block
    assert set("".join(separator)) <= set("-: "), f"second table line is not a separator: {separator}"
    for row in rows:
        assert len(row) == len(header), f"row {row} has {len(row)} cells, the header {header} has {len(header)}"
    return [dict(zip(header, row, strict=True)) for row in rows]


def readme_table(heading: str) -> list[dict[str, str]]:
    """The first table after `heading` in `data/README.md`."""
    assert heading in README, f"data/README.md has no {heading!r}"
    return parse_table(README.split(heading, 1)[1].splitlines())


def dataset_name(cell: str) -> str:
    """`"nih"` in backticks and quotes -> nih."""
    match = re.fullmatch(r'`"?(\w+)"?`', cell)
    assert match, f'expected a dataset name like `"nih"`, got {cell!r}'
    return match.group(1)


def switch_cell(stem: str) -> tuple[nbformat.NotebookNode, int]:
    """The notebook and the index of its constants cell (the code cell with a line `DATASET = ...`)."""
    notebook = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    indices = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and re.search(r"^DATASET = ", cell.source, re.M)
    ]
    assert len(indices) == 1, f"{stem}: expected one constants cell with `DATASET = ...`, found {len(indices)}"
    return notebook, indices[0]


def notebook_table(stem: str) -> dict[str, dict[str, str]]:
    """The rows of the notebook's switch table by dataset name; the cell must sit right before the constants cell."""
    notebook, index = switch_cell(stem)
    cell = notebook.cells[index - 1]
    assert cell.cell_type == "markdown" and cell.source.startswith(TITLE), (
        f"{stem}: the cell before the constants cell should be the markdown cell starting {TITLE!r}, "
        f"found a {cell.cell_type} cell starting {cell.source[:60]!r}"
    )
    return {dataset_name(row["`DATASET`"]): row for row in parse_table(cell.source.splitlines())}


def comment_names(stem: str) -> set[str]:
    """The quoted dataset names in the comment of the `DATASET = "phantom"  # ...` line."""
    notebook, index = switch_cell(stem)
    line = next(line for line in notebook.cells[index].source.splitlines() if line.startswith("DATASET = "))
    assert line.startswith('DATASET = "phantom"  # '), f"{stem}: unexpected DATASET line {line!r}"
    return set(re.findall(r'"(\w+)"', line.split("#", 1)[1]))


def readme_rows(stem: str) -> dict[str, dict[str, str]]:
    """The README switch table's rows for this notebook, by dataset name."""
    rows = readme_table("## What each notebook's `DATASET` switch needs")
    return {dataset_name(row["`DATASET`"]): row for row in rows if row["notebook"] == stem[:2]}


def test_parse_table_reads_header_and_rows():
    lines = ["text", "| a | `b` |", "|---|:-:|", '| `"nih"` | 8 MB + 2-4.5 GB |', "", "| c |"]
    assert parse_table(lines) == [{"a": '`"nih"`', "`b`": "8 MB + 2-4.5 GB"}]
    assert dataset_name('`"nih"`') == "nih" and dataset_name("`nih`") == "nih"


def test_every_notebook_with_a_real_dataset_is_covered():
    assert STEMS == ["01_classification", "02_segmentation", "03_detection", "04_landmarks", "05_generation"]


@pytest.mark.parametrize("stem", STEMS)
def test_table_names_the_datasets_of_the_comment_and_of_the_run_test(stem):
    names = set(notebook_table(stem))
    assert names == comment_names(stem), f"{stem}: table {sorted(names)}, DATASET comment {sorted(comment_names(stem))}"
    run = {dataset for case_stem, dataset in CASES if case_stem == stem}
    assert names == run, f"{stem}: table {sorted(names)}, tests/test_notebook_datasets.py runs {sorted(run)}"
    assert names == set(readme_rows(stem)), f"{stem}: table {sorted(names)}, data/README.md {sorted(readme_rows(stem))}"


@pytest.mark.parametrize("stem", STEMS)
def test_table_figures_are_the_readme_figures(stem):
    readme = readme_rows(stem)
    for name, row in notebook_table(stem).items():
        assert name in readme, f"{stem}: data/README.md's switch table has no row for {name!r}"
        for column, readme_column in COPIED.items():
            assert row[column] == readme[name][readme_column], (
                f"{stem}, {name}: '{column}' is {row[column]!r} in the notebook but {readme[name][readme_column]!r} in "
                "data/README.md's switch table; change both"
            )


@pytest.mark.parametrize("stem", STEMS)
def test_table_access_and_download_match_the_readme_and_registry(stem):
    access = {dataset_name(row["name"]): row["access"] for row in readme_table("Downloads are not included")}
    for name, row in notebook_table(stem).items():
        info = registry.get(name)
        assert row["access"] == access[name] == info.access, (
            f"{stem}, {name}: access {row['access']!r} in the notebook, {access[name]!r} in data/README.md, "
            f"{info.access!r} in the registry"
        )
        fetchable = info.access == "public" and all(item.url for item in info.files)
        says = row["`download=True`"]
        assert says.startswith("yes") == fetchable, (
            f"{stem}, {name}: the notebook says {says!r} for download=True, but the registry has "
            f"{'URLs for every file' if fetchable else 'files without a URL'}"
        )
        if fetchable:
            assert f"load_{name}(download=True" in says, f"{stem}, {name}: name the call, got {says!r}"
