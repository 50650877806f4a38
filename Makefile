# iamgen: `make generate` writes generated/, `make test` runs the tests. Both bootstrap .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
IAMGEN := $(BIN)/python -m generator

.DEFAULT_GOAL := help
.PHONY: help generate check validate test test-slow bench lint format golden clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

generate: $(STAMP) ## Write generated/ from spec/aws-external-anthropic.yaml
	$(IAMGEN) generate

check: $(STAMP) ## Fail (exit 1, with a diff) when generated/ is not what the spec produces
	$(IAMGEN) check

validate: $(STAMP) ## Check the spec and its claims; report every error
	$(IAMGEN) validate

test: $(STAMP) ## Run the test suite (slow tests excluded)
	$(BIN)/python -m pytest

test-slow: $(STAMP) ## Run only the slow tests (differential, large inputs)
	$(BIN)/python -m pytest -m slow

BENCH_PACKAGES := werkzeug starlette principalmapper policyuniverse

bench: $(STAMP) ## Benchmarks P1-P5 side by side with their peers; writes bench/RESULTS.md
	@$(BIN)/python -c "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in sys.argv[1:]))" $(BENCH_PACKAGES) \
		|| $(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench

lint: $(STAMP) ## ruff and black --check on generator/, tests/, bench/; mypy --strict on generator/
	$(BIN)/ruff check generator tests bench
	$(BIN)/black --check --quiet generator tests bench
	$(BIN)/mypy

format: $(STAMP) ## Format generator/ and tests/ with black and ruff --fix
	$(BIN)/ruff check --fix --quiet generator tests bench || true
	$(BIN)/black --quiet generator tests bench

golden: $(STAMP) ## Regenerate the golden output tree of tests/fixtures/specs/minimal.yaml (review the diff!)
	$(BIN)/python -m pytest tests/test_golden.py --update-golden -q

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
