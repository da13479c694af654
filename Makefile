# kuaijian — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test test-chaos test-slow bench screenshots browser wheel clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: the whole chain (LIMS, simulated instruments, gateway) on embedded defaults; DEMO_PORT=0 takes any free port
DEMO_PORT ?= 8700
demo: $(STAMP)
	$(VENV)/bin/kuaijian demo --port $(DEMO_PORT)

## browser: Debian's chromium (and CJK fonts) for the browser tests, installed when missing
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium for the browser tests"; \
	  (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	  || echo "chromium could not be installed: browser tests will be skipped"; }

## test: the full test suite (architecture contracts, mypy over protocols/ and drivers/, browser tests included)
test: $(STAMP) browser
	$(VENV)/bin/pytest

## test-chaos: every fault scenario of tests/chaos (the fast ones also run in make test)
test-chaos: $(STAMP)
	$(VENV)/bin/pytest -m chaos -p no:randomly -s

## test-slow: property tests with >= 1e5 examples per parser and per JCS property (tests/test_jcs.py)
test-slow: $(STAMP)
	$(VENV)/bin/pytest -m slow -p no:randomly

## screenshots: a picture of every page, saved under docs/screenshots/
screenshots: $(STAMP) browser
	KUAIJIAN_SCREENSHOTS=docs/screenshots $(VENV)/bin/pytest tests/browser -k screenshot -q

## bench: gateway polling, LIMS ingest, audit verify and export, each against its bare reference; gateway backlog drain vs the LIMS's ingest rate; Merkle log work vs bare SHA-256; page render cost; JCS serializer vs rfc8785 (docs/benchmarks.md)
bench: $(STAMP)
	$(PY) bench/run.py
	$(PY) bench/merkle_log.py
	$(PY) bench/page_render.py
	$(PY) bench/jcs.py

## wheel: dist/kuaijian-<version>-py3-none-any.whl with the systemd units and the docs (docs/operations.md)
wheel: $(STAMP)
	$(PY) -m pip wheel --quiet --no-deps --wheel-dir dist .

clean:
	rm -rf $(VENV) .demo .pytest_cache .hypothesis dist build
