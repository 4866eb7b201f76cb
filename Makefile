# Parley: `make run` starts it, `make test` runs the whole suite. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A CPU build of this torch is on the machine; an unpinned torch pulls a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: install install-dev browser postgres run test lint check bench eval train clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

HAS_TOKEN := from parley.settings import Settings; raise SystemExit(not Settings().telegram_bot_token)

run: install
	$(BIN)/parley db upgrade
	@if $(BIN)/python -c '$(HAS_TOKEN)'; then \
		$(BIN)/parley run; \
	else \
		echo "TELEGRAM_BOT_TOKEN is not set: starting the playground, the real bot on a local Telegram stand-in."; \
		$(BIN)/parley playground; \
	fi

# Debian's Chromium and its driver for the browser tests; nothing downloads a browser build.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		echo "Installing chromium and chromium-driver for the browser tests"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

# Debian's PostgreSQL for the suite's PostgreSQL variants: the tests start a throwaway server
# of their own on a loopback port (tests/support/postgres.py) and remove it afterwards.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
		echo "Installing postgresql for the PostgreSQL test variants"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	fi

test: install-dev browser postgres
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

check: lint test

# The benchmark suite (issue 6): tables on the terminal, figures in bench/results/latest.json.
# BENCH_ARGS passes options through, e.g. BENCH_ARGS="--quick" or "--only retrieval --sizes 1000000".
bench: install-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

# Answer quality on held-out questions: tables on the terminal, every record in
# evaluation/results/latest.json. EVAL_ARGS passes options, e.g. "--only negotiations --limit 5".
eval: install-dev
	$(BIN)/python -m evaluation $(EVAL_ARGS)

# Refit the answer-ranking weights (issue 9): knowledge/ranking_weights.json, shipped, and
# evaluation/weights/fold-{a,b}.json, each fitted without that fold, for `make eval`.
# TRAIN_ARGS="--reuse" refits from the evidence gathered last time (features recomputed).
train: install-dev
	$(BIN)/python -m evaluation.train $(TRAIN_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
