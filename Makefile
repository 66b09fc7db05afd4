# HCS: every set-up step lives here, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test bench lint install system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip uv
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# WeasyPrint needs libharfbuzz-subset0 (without it, import warns and letters are 4x slower);
# the browser tests need Debian's Chromium. Installed when we are root and they are missing.
system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; \
	  ldconfig -p | grep -q libharfbuzz-subset.so.0 || missing="$$missing libharfbuzz-subset0"; \
	  [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	  if [ -n "$$missing" ]; then \
	    echo "installing system packages:$$missing"; \
	    (apt-get install -y -q $$missing >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null && apt-get install -y -q $$missing >/dev/null)); \
	  fi; \
	fi

run: $(STAMP) system-deps
	mkdir -p var
	$(BIN)/hcs init --demo
	$(BIN)/hcs run --host $(HOST) --port $(PORT)

# Bytecode is compiled ahead (the dependencies' at install, ours before each run): where
# PYTHONDONTWRITEBYTECODE is set, every process the suite starts (the suite itself, its Celery
# workers and letter renderers) would otherwise compile every module it imports again.
# The suite runs on two pytest-xdist workers, a test file per worker at a time (module fixtures
# such as a browser or a served app stay in one process); each worker has its own PostgreSQL
# database and Redis db (tests/support/parallel.py). TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2

test: $(STAMP) system-deps
	$(BIN)/lint-imports
	$(BIN)/python -m compileall -q hcs channels templates_store migrations tests >/dev/null
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile tests --ignore=tests/perf

bench: $(STAMP) system-deps
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[dev,bench]'
	$(BIN)/pytest -q -p no:cacheprovider tests/perf -m perf -s

lint: $(STAMP)
	$(BIN)/ruff check hcs channels templates_store tests migrations
	$(BIN)/ruff format --check hcs channels templates_store tests migrations
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache
