"""The course runner, the notebook check and the benchmark runner, on tiny notebooks made here."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def make_notebook(path: Path, *sources: str, outputs: bool = False) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for source in sources:
        cell = nbformat.v4.new_code_cell(source)
        if outputs:
            cell.execution_count = 1
            cell.outputs = [nbformat.v4.new_output("stream", text="hi\n")]
        notebook.cells.append(cell)
    nbformat.write(notebook, path)
    return path


def test_check_notebooks_flags_outputs(tmp_path):
    make_notebook(tmp_path / "clean.ipynb", "x = 1")
    make_notebook(tmp_path / "dirty.ipynb", "print('hi')", outputs=True)
    result = subprocess.run(
        [sys.executable, ROOT / "scripts" / "check_notebooks.py", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "dirty.ipynb: code cells [0]" in result.stdout
    assert "clean.ipynb" not in result.stdout.replace("checked", "")
    assert "1 clean, 1 with outputs" in result.stdout


def test_committed_notebooks_have_no_outputs():
    result = subprocess.run([sys.executable, ROOT / "scripts" / "check_notebooks.py", ROOT / "notebooks"], text=True)
    assert result.returncode == 0


def test_run_course_writes_html_and_results(tmp_path):
    ok = make_notebook(
        tmp_path / "01_demo.ipynb",
        "from lecture_lib.results import record_results",
        "record_results('demo', dice=0.5, epochs=3)",
    )
    broken = make_notebook(tmp_path / "02_broken.ipynb", "raise RuntimeError('boom')")
    build = tmp_path / "build"
    result = subprocess.run(
        [sys.executable, ROOT / "scripts" / "run_course.py", ok, broken, "--build-dir", build, "--timeout", "120"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    rows = json.loads((build / "results.json").read_text())
    assert [row["notebook"] for row in rows] == ["01_demo.ipynb", "02_broken.ipynb"]
    assert rows[0]["status"] == "ok" and rows[0]["metrics"] == {"dice": 0.5, "epochs": 3}
    assert rows[1]["status"] == "failed" and "boom" in rows[1]["error"]
    assert (build / "html" / "01_demo.html").read_text().count("record_results") >= 1
    assert (build / "notebooks" / "02_broken.ipynb").exists()
    table = (build / "results.md").read_text()
    assert "| 01_demo.ipynb |" in table and "dice=0.5" in table and "failed: " in table


def test_benchmark_runner_collects_rows(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run as bench_run
    finally:
        sys.path.pop(0)
    table = bench_run.format_table([("phantom 128 px", 1234.5, "images/s"), ("cache", 0.5, "s")])
    assert "| phantom 128 px | 1,234 | images/s |" in table
    assert "| cache | 0.5 | s |" in table
