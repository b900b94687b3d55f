# Switchboard: `make run` starts the local stack, `make test` runs every tier. Both set themselves up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
TOOLS := .venv-tools
SCAN := .venv-scan
# Where the test tiers record the AWS calls each function makes, for the IAM coverage check.
export SWITCHBOARD_AWS_CALLS_DIR := $(CURDIR)/.local/aws-calls
# The unit tier runs again this far ahead, so a test that only passes near the day it was written fails now.
CLOCK_AHEAD := +400d
PY := $(VENV)/bin/python
export PYTHONPATH := .:layers/switchboard:functions/admin_api
# The Lambda runtime is python3.13: find it on PATH or through pyenv.
PYTHON313 := $(shell for p in "$$(pyenv prefix 3.13.0 2>/dev/null)/bin/python3.13" python3.13; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { command -v "$$p"; break; }; done)
PYTHON313_BIN := $(dir $(PYTHON313))
export SAM_CLI_TELEMETRY := 0

.PHONY: help setup run test test-unit test-unit-ahead test-integration test-template test-deploy-gate test-iam-coverage test-browser lint invoke build bench clean-local build-ConsoleFunction soak redrive

help:
	@echo "make run     start the local stack (API, DynamoDB Local, queues, schedules, carrier sandbox)"
	@echo "make test    lint, type-check and run every test tier"
	@echo "make invoke FN=<function> EVENT=events/<function>/<file>.json   run one handler on a sample event"
	@echo "make build   sam build (python3.13 on PATH)"
	@echo "make bench   benchmarks, written to bench/RESULTS.md"
	@echo "make soak    the long reliability runs (carrier faults, hundreds of webhooks)"
	@echo "make redrive QUEUE=OutboundQueue   send a queue's dead letters back (local stack)"

$(PY):
	@test -n "$(PYTHON313)" || { echo "python3.13 not found (pyenv install 3.13.0, or put python3.13 on PATH)"; exit 1; }
	$(PYTHON313) -m venv $(VENV)

$(VENV)/.installed: $(PY) requirements-dev.txt layers/switchboard/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(TOOLS)/.installed: requirements-tools.txt
	@test -n "$(PYTHON313)" || { echo "python3.13 not found"; exit 1; }
	test -x $(TOOLS)/bin/python || $(PYTHON313) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	touch $@

$(SCAN)/.installed: requirements-scan.txt
	@test -n "$(PYTHON313)" || { echo "python3.13 not found"; exit 1; }
	test -x $(SCAN)/bin/python || $(PYTHON313) -m venv $(SCAN)
	$(SCAN)/bin/pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.local/.debian-packages-4:
	@mkdir -p .local
	@missing=""; command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v faketime >/dev/null || missing="$$missing faketime"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq $$missing; fi; fi
	touch $@

setup: $(VENV)/.installed node_modules/.installed .local/.debian-packages-4

run: setup
	$(PY) -m local.stack --data-dir .local --port 3000

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Each tier prints how long it took. `make test` runs the tiers two at a time (the machine's two cores; the
# integration tier spends much of its time waiting on the local stack's clocks): the integration tier, then the
# deploy gate, on one; the two unit runs on the other; the browser tier on whichever frees first. The IAM coverage
# check comes last, because it reads the AWS calls every tier before it recorded.
TIMED = @started=$$(date +%s); trap 'echo "== $@: $$(( $$(date +%s) - started )) s"' EXIT;
IAM_COVERAGE := tests/template/test_iam_coverage.py

test-unit: $(VENV)/.installed
	$(TIMED) $(PY) -m pytest tests/unit -q -p no:cacheprovider --durations=8

# NO_FAKE_STAT: files keep the times the kernel gave them. Faked, pytest would judge the integration tier's
# temporary directories (running alongside) a year stale and remove them; it also cost a tenth of the run.
AHEAD := FAKETIME_DONT_FAKE_MONOTONIC=1 NO_FAKE_STAT=1 faketime -f "$(CLOCK_AHEAD)"
test-unit-ahead: $(VENV)/.installed .local/.debian-packages-4
	$(TIMED) $(AHEAD) $(PY) tests/clock_ahead.py "$(CLOCK_AHEAD)" \
		&& $(AHEAD) $(PY) -m pytest tests/unit -q -p no:cacheprovider --durations=8

test-integration: setup
	$(TIMED) $(PY) -m pytest tests/integration tests/reliability -q -p no:cacheprovider --durations=8

test-browser: setup
	$(TIMED) $(PY) -m pytest tests/browser -q -p no:cacheprovider --durations=8

test-deploy-gate: $(VENV)/.installed $(TOOLS)/.installed $(SCAN)/.installed
	$(TIMED) PATH="$(PYTHON313_BIN):$$PATH" $(PY) -m pytest tests/template -q -p no:cacheprovider --durations=8 --ignore $(IAM_COVERAGE)

test-iam-coverage: $(VENV)/.installed $(TOOLS)/.installed
	$(TIMED) $(PY) -m pytest $(IAM_COVERAGE) -q -p no:cacheprovider --durations=8

test-template: test-deploy-gate test-iam-coverage

test: setup $(TOOLS)/.installed $(SCAN)/.installed lint
	@rm -rf "$(SWITCHBOARD_AWS_CALLS_DIR)"
	@started=$$(date +%s); \
	$(MAKE) --no-print-directory -j2 --output-sync=target \
		test-integration test-unit-ahead test-unit test-deploy-gate test-browser \
		&& $(MAKE) --no-print-directory test-iam-coverage; status=$$?; \
	echo "== make test: $$(( $$(date +%s) - started )) s"; exit $$status

invoke: setup
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=admin_api EVENT=events/admin_api/list_practices.json"; exit 2; }
	$(PY) -m local.invoke $(FN) $(EVENT)

build: $(TOOLS)/.installed
	PATH="$(PYTHON313_BIN):$$PATH" $(TOOLS)/bin/sam build --cached --parallel --language-extensions

bench: setup
	$(PY) -m bench

soak: setup
	$(PY) -m pytest tests/reliability -m soak -q -s -p no:cacheprovider

redrive: setup
	@test -n "$(QUEUE)" || { echo "usage: make redrive QUEUE=OutboundQueue   (moves its dead letters back, local stack)"; exit 2; }
	$(PY) -m local.redrive --queue $(QUEUE) --data-dir .local

# sam build runs this for ConsoleFunction (BuildMethod makefile): the handler and the console's files beside it.
build-ConsoleFunction:
	cp functions/console/app.py "$(ARTIFACTS_DIR)/app.py"
	rm -rf "$(ARTIFACTS_DIR)/console"
	cp -R console "$(ARTIFACTS_DIR)/console"

clean-local:
	rm -rf .local
