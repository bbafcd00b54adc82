# DueFlow. Two commands do everything on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3.11
# the one Python minor version: the tests run on it, the layer's wheels are built for it, and the Lambda
# functions deploy on it (infra/constructs/compute.py RUNTIME; docs/deploy.md "Runtime")
PYTHON_MINOR := 3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LAYER  := build/layers/deps/python
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled

.PHONY: install demo test unit lint typecheck synth bench serve clean

$(STAMP): requirements.txt requirements-dev.txt requirements-layer.txt constraints.txt pyproject.toml package.json package-lock.json
	@$(PYTHON) -c 'import sys; v = "%d.%d" % sys.version_info[:2]; sys.exit(0 if v == "$(PYTHON_MINOR)" else "$(PYTHON) is Python " + v + ": DueFlow is tested and deployed on $(PYTHON_MINOR)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	npm ci --no-audit --no-fund --loglevel=error
	# the Lambda layer's dependencies, for the Lambda platform (no Docker needed to synthesize)
	rm -rf $(LAYER) && $(PY) -m pip install --quiet --disable-pip-version-check --target $(LAYER) \
		--platform manylinux2014_x86_64 --python-version $(PYTHON_MINOR) --implementation cp --only-binary=:all: \
		-r requirements-layer.txt -c constraints.txt
	# the browser tests drive the distribution's Chromium through its chromedriver
	bash .ci/browser-deps
	touch $(STAMP)

install: $(STAMP) ## create .venv and node_modules with the pinned dependencies

demo: $(STAMP) ## simulate 120 days of a generated 2,000-loan book through the real workflow
	$(VENV)/bin/dueflow simulate --generate 2000 --seed 7 --start 2026-03-01 --days 120 --out demo-out --replace
	@echo "Open the report: $(CURDIR)/demo-out/report.html  (the cases: $(VENV)/bin/dueflow case list --run demo-out; one case: $(VENV)/bin/dueflow case show L00000036 --run demo-out)"

serve: $(STAMP) ## the collectors' workbench and the API on http://127.0.0.1:8000/ (local sign-in)
	$(VENV)/bin/dueflow serve --generate 400 --seed 7

test: $(STAMP) lint typecheck ## lint, type-check and run the whole test suite (the browser tests included)
	$(PY) -m pytest -n 2 tests

unit: $(STAMP)
	$(PY) -m pytest tests/unit tests/property

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

synth: $(STAMP) ## synthesize the CloudFormation template into cdk.out (offline)
	npx --no-install cdk synth --quiet --no-notices

bench: $(STAMP) ## performance figures (not part of make test)
	$(PY) bench/run.py --sim-100k

clean:
	rm -rf $(VENV) node_modules demo-out cdk.out .mypy_cache .ruff_cache .hypothesis
