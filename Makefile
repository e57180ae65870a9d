# Every target sets up what it needs: a fresh clone needs only `make run` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
# The port `make run` serves on and `make demo` talks to: `make run PORT=8081` when 8080 is taken.
PORT ?= 8080

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

.PHONY: install
install: $(STAMP) ## create .venv and install the project with its test extras

.PHONY: run
run: $(STAMP) ## start the service (PORT=8080): embedded Postgres unless DATABASE_URL is set, migrations, server + worker
	$(BIN)/importer migrate
	APP_URL="$${APP_URL:-http://127.0.0.1:$(PORT)}" $(BIN)/importer serve --with-worker --dev-token --port $(PORT)

.PHONY: demo
demo: $(STAMP) ## import the bundled example file from the CLI into a new wheel, against `make run` (same PORT)
	IMPORTER_URL="$${IMPORTER_URL:-http://127.0.0.1:$(PORT)}" $(BIN)/python -m importer.cli.demo

.PHONY: browser
browser: ## install Debian's chromium for the browser tests when it is missing (needs root)
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing and cannot be installed here: browser tests will say so"; fi; }

.PHONY: test
test: $(STAMP) browser typecheck ## type-check, then run the whole suite (embedded Postgres unless DATABASE_URL is set)
	$(BIN)/pytest -ra

.PHONY: typecheck
typecheck: $(STAMP) ## mypy --strict over importer/ and server/ (settings in pyproject.toml)
	$(BIN)/mypy

.PHONY: lint
lint: $(STAMP) ## ruff
	$(BIN)/ruff check .

.PHONY: bench
bench: $(STAMP) ## print the performance figures of bench/ (slow; not part of the tests)
	$(BIN)/python bench/import_throughput.py
	$(BIN)/python bench/submit_latency.py --rounds 3
	$(BIN)/python bench/preview_latency.py
	$(BIN)/python bench/sse_fanout.py
	$(BIN)/python bench/abuse.py
	$(BIN)/python bench/small_imports.py
	$(BIN)/python bench/notify_concurrency.py

.PHONY: chaos
chaos: $(STAMP) ## ten minutes of load while workers and servers are killed and Postgres restarts (bench/chaos.py)
	$(BIN)/python bench/chaos.py

.PHONY: clean
clean: ## remove the virtualenv and the local data (embedded Postgres, outbox)
	-$(BIN)/python -c 'from importer.embedded import stop; from pathlib import Path; stop(Path(".data"))' 2>/dev/null
	rm -rf $(VENV) .data .pytest_cache
