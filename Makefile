# claimkb: two commands do everything on a fresh machine with Python 3.11+ and make.
#   make serve   build the knowledge base from data/ and serve it on 127.0.0.1
#   make test    run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8001
DB     ?= claimkb.db

.PHONY: serve test build check install chromium lock clean

serve: $(STAMP)
	$(BIN)/claimkb serve --db $(DB) --host $(HOST) --port $(PORT)

test: $(STAMP) chromium
	$(BIN)/python -m pytest

build: $(STAMP)
	$(BIN)/claimkb build --db $(DB)

install: $(STAMP)

# The virtual environment, with the exact versions of requirements.lock.
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "claimkb needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

# The browser tests drive Debian's chromium (never a downloaded browser build).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing and cannot be installed without root: apt-get install chromium" >&2; exit 1; fi; \
	fi

# Re-pin every dependency after changing pyproject.toml (writes requirements.lock).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet 'setuptools>=68' wheel -e '.[test]'
	.lock-venv/bin/pip freeze --all --exclude-editable | grep -v -E '^(claimkb|pip)==' > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) $(DB) .pytest_cache
