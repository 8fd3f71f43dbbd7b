# `make run`: set everything up and run the quickstart study. `make test`: set up and run the tests.
# Both are idempotent: each step leaves a stamp and is skipped when done.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FMNIST_DIR := /usr/share/datasets/fashion-mnist
RUN_DIR ?= runs/quickstart

.PHONY: run test lint bench setup system clean

setup: $(STAMP) system

# `$(INSTALL) ARGS` is `pip install ARGS` done by uv (installed into the venv by pip: it installs
# the same lock several times faster); where uv is absent or fails, pip does the install itself.
# uv reads no pip.conf: pip's find-links ($PIP_FIND_LINKS, e.g. a local torch CPU wheel) are passed on.
# --compile-bytecode, as pip does: without .pyc files every command start compiles typer, rich, pydantic.
UV_VERSION := 0.13.8
INSTALL = $(SHELL) -c '[ -x $(BIN)/uv ] && $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python \
	  $${PIP_FIND_LINKS:+--find-links "$$PIP_FIND_LINKS"} "$$@" || $(BIN)/pip install -q "$$@"' install

$(BIN)/python:
	@echo "==> creating virtual environment $(VENV) (installer: uv, else pip)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q uv==$(UV_VERSION) || $(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml requirements-lock.txt
	@echo "==> installing nastransfer with torch pinned (CPU wheel), Ray and the test tools"
	$(INSTALL) -r requirements-lock.txt
	$(INSTALL) -c requirements-lock.txt -e '.[ray,tables,dev]'
	# the tests' reference implementation; --no-deps: its metadata pins numpy<=1.19.5, it runs on ours
	$(INSTALL) --no-deps xautodl==1.0.0
	@touch $(STAMP)

# Debian packages: the offline Fashion-MNIST files, and Chromium for the report's rendering test.
system:
	@missing=""; \
	[ -f $(FMNIST_DIR)/train-images-idx3-ubyte.gz ] || missing="$$missing dataset-fashion-mnist"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -z "$$missing" ]; then \
	  echo "==> Debian packages present (Fashion-MNIST in $(FMNIST_DIR), chromium)"; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  echo "==> installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	else \
	  echo "==> no apt-get: put Fashion-MNIST's IDX files under \$$NASTRANSFER_DATA/fashion-mnist (missing:$$missing)"; \
	fi

run: setup
	@echo "==> running the quickstart study (configs/quickstart.toml) into $(RUN_DIR)"
	$(BIN)/nastransfer run configs/quickstart.toml --dir $(RUN_DIR)

# One test process per core (pytest-xdist). A test file that shares a module-scoped fixture runs on one
# process, so the fixture is built once; other tests are spread one by one (tests/xdist_schedule.py).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 1)

test: setup
	@echo "==> running the tests on $(TEST_WORKERS) processes"
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

lint: setup
	$(BIN)/ruff check .

# Runs every benchmarks/bench_*.py and writes what each prints into docs/benchmarks.md, stamped.
bench: setup
	$(BIN)/python benchmarks/refresh_docs.py

clean:
	rm -rf $(VENV) runs .pytest_cache
