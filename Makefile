# claimkb: two commands do everything on a fresh machine with Python 3.11+ and make.
#   make serve      build the knowledge base from data/ and serve it on 127.0.0.1
#   make test       run the whole test suite (lint included)
# and, for the next Datasette line:
#   make test-next  the site's tests on the newest Datasette 1.0 pre-release (its own venv)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NEXT   := .venv-next
NEXT_STAMP := $(NEXT)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8001
DB     ?= claimkb.db
PIP    := --quiet --disable-pip-version-check --progress-bar off
# what depends on Datasette: the site, its browser tests, serving, hostile web input
SITE_TESTS := tests/test_site.py tests/test_browser.py tests/test_hostile_web.py \
              tests/test_serve.py tests/test_architecture.py

.PHONY: serve test test-next lint format build check install chromium lock lock-next clean

serve: $(STAMP)
	$(BIN)/claimkb serve --db $(DB) --host $(HOST) --port $(PORT)

test: $(STAMP) chromium lint
	@echo "== tests (Datasette $$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("datasette"))')); about 6 minutes"
	$(BIN)/python -m pytest

test-next: $(NEXT_STAMP) chromium
	@echo "== tests on Datasette $$($(NEXT)/bin/python -c 'import importlib.metadata as m; print(m.version("datasette"))')"
	$(NEXT)/bin/python -m pytest $(SITE_TESTS)

lint: $(STAMP)
	@echo "== ruff: lint and format check"
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: $(STAMP)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

build: $(STAMP)
	$(BIN)/claimkb build --db $(DB)

install: $(STAMP)

# The virtual environment, with the exact versions of requirements.lock.
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "claimkb needs Python 3.11 or newer (set PYTHON=...)")'
	@echo "== first run: creating $(VENV) and installing the locked dependencies (about a minute)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP) -r requirements.lock
	$(BIN)/python -m pip install $(PIP) --no-deps --no-build-isolation -e .
	@echo "== installed: the claimkb command is $(BIN)/claimkb (or run: . $(BIN)/activate)"
	@touch $@

# A second environment: the same locked dependencies, with Datasette 1.0 (requirements-next.lock).
$(NEXT_STAMP): requirements-next.lock pyproject.toml
	@echo "== creating $(NEXT) with the newest Datasette 1.0 pre-release (about a minute)"
	$(PYTHON) -m venv $(NEXT)
	$(NEXT)/bin/python -m pip install $(PIP) -r requirements-next.lock
	$(NEXT)/bin/python -m pip install $(PIP) --no-deps --no-build-isolation -e .
	@touch $@

# The browser tests drive Debian's chromium (never a downloaded browser build).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "== installing Debian's chromium for the browser tests (a few minutes, once)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing and cannot be installed without root: apt-get install chromium" >&2; exit 1; fi; \
	  echo "== chromium installed"; \
	fi

# Re-pin every dependency after changing pyproject.toml (writes requirements.lock).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install $(PIP) 'setuptools>=68' wheel -e '.[test]'
	.lock-venv/bin/pip freeze --all --exclude-editable | grep -v -E '^(claimkb|pip)==' > requirements.lock
	rm -rf .lock-venv

# Re-pin the Datasette 1.0 environment: requirements.lock with the newest 1.0 pre-release.
lock-next: requirements.lock
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install $(PIP) -r requirements.lock
	.lock-venv/bin/pip install $(PIP) --pre --upgrade 'datasette>=1.0a0'
	.lock-venv/bin/pip freeze --all --exclude-editable | grep -v -E '^(claimkb|pip)==' > requirements-next.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) $(NEXT) $(DB) .pytest_cache
