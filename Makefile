# Two commands do everything on a fresh machine:
#   make demo   installs ddkit in .venv and scans the bundled sample company (reports/acme.xlsx)
#   make test   installs ddkit with its test tools in .venv and runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.ddkit-installed

.PHONY: demo test unit install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/ddkit demo

test: $(STAMP)
	bash scripts/system-deps.sh
	$(PY) -m ruff check src tests benchmarks scripts sample_repos
	$(PY) -m mypy
	$(VENV)/bin/lint-imports --no-cache --no-logo
	$(PY) -m pytest -q -p no:cacheprovider

unit: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider tests/unit

bench: $(STAMP)
	$(PY) benchmarks/bench_history.py

clean:
	rm -rf $(VENV) reports/*.xlsx reports/*.json reports/*.sarif
