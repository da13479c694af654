# kuaijian — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test test-slow bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: the whole chain (LIMS, simulated instruments, gateway) on embedded defaults
demo: $(STAMP)
	$(VENV)/bin/kuaijian demo

## test: the full test suite (architecture contracts included)
test: $(STAMP)
	$(VENV)/bin/pytest

## test-slow: property tests with >= 1e5 examples per parser
test-slow: $(STAMP)
	$(VENV)/bin/pytest -m slow -p no:randomly

clean:
	rm -rf $(VENV) .demo .pytest_cache .hypothesis
