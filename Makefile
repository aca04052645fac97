# The course in three commands (see README.md):
#   make course   set up .venv if needed, execute every notebook into build/ (HTML + results table)
#   make test     set up .venv if needed, run ruff, the unit tests on TensorFlow and JAX, and every notebook (nbval)
#   make lab      set up .venv if needed, open JupyterLab on notebooks/
# `make unit` and `make unit-jax` run the unit tests on every CPU core (pytest-xdist): 7 + 4 min instead of 10 + 6 on 2 cores.
# `make bench` prints the throughput and wall-time measurements of benchmarks/.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

# Library tests whose math runs on the Keras backend; they run a second time with KERAS_BACKEND=jax.
BACKEND_TESTS := $(wildcard tests/test_losses.py tests/test_metrics.py tests/test_boxes.py tests/test_layers.py tests/test_gradients.py tests/test_models*.py)

export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

.PHONY: setup course test lint unit unit-jax notebooks check-notebooks lab bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

course: $(STAMP)
	$(PY) scripts/run_course.py

test: $(STAMP)
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory lint check-notebooks unit unit-jax notebooks && \
	echo "make test: all checks passed in $$(( $$(date +%s) - start )) s"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check-notebooks: $(STAMP)
	$(PY) scripts/check_notebooks.py notebooks

unit: $(STAMP)
	KERAS_BACKEND=tensorflow $(VENV)/bin/pytest tests -q -n auto

unit-jax: $(STAMP)
	KERAS_BACKEND=jax $(VENV)/bin/pytest $(BACKEND_TESTS) -q -n auto

notebooks: $(STAMP)
	KERAS_BACKEND=tensorflow $(VENV)/bin/pytest --nbval-lax --nbval-cell-timeout=900 notebooks -q -p no:randomly

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf build .pytest_cache .ruff_cache
