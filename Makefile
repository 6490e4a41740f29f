# The two commands of the README:
#   make example   set everything up, build and install dx-py, run it on examples/basic
#   make check     set everything up, build, run the whole test suite (C++ and Python)
# Both are idempotent: a second run rebuilds only what changed.

VENV    := .venv
PY      := $(VENV)/bin/python
BUILD   := build/dev
SOURCES := $(shell find src python cmake -type f -not -path '*/__pycache__/*') CMakeLists.txt pyproject.toml
PIP_INSTALL := $(PY) -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
	-Cbuild-dir=$(BUILD) -Ccmake.define.DXPY_BUILD_TESTS=ON -Ccmake.build-type=Release

.PHONY: setup install example check test-cpp test-python clean
setup:
	@scripts/setup.sh

# `pip install .` of the package into .venv, reusing one CMake build folder (incremental).
$(VENV)/.dxpy-installed: $(SOURCES) requirements-dev.txt | setup
	$(PIP_INSTALL) .
	@touch $@

install: setup $(VENV)/.dxpy-installed

example: install
	cd examples/basic && ../../$(VENV)/bin/dx-py test

test-cpp: install
	ctest --test-dir $(BUILD) --output-on-failure -j2

test-python: install
	$(VENV)/bin/python -m pytest -q

check: install
	@scripts/check.sh $(BUILD)

clean:
	rm -rf build $(VENV)/.dxpy-installed
