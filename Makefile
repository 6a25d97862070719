# Two commands a new user needs (see README): `make run` and `make test`.
# Each creates its own virtual environment in .venv from pyproject.toml the first time.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= out

.PHONY: run test bench clean

# The warm-up compiles the numba kernels into their cache once, here, instead of in the first run.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m simulate warm-up
	touch $@

run: $(VENV)/.installed
	$(PY) -m calibrate demo --out $(OUT)

test: $(VENV)/.installed
	$(PY) -m pytest

$(VENV)/.bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	touch $@

bench: $(VENV)/.bench
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(OUT)
