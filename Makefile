# chipwire: `make help` lists the targets.
PY ?= .venv/bin/python
RUN_STAMP = .venv/.runtime
VENV_STAMP = .venv/.installed

.PHONY: help setup run demo test lint typecheck format schemas bench clean docs browser openapi lock

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-10s %s\n",$$1,$$2}'

# runtime dependencies only, pinned by requirements/run.lock: what `make run` and `make demo` need
$(RUN_STAMP): pyproject.toml requirements/run.lock
	python3 -m venv .venv
	.venv/bin/pip install -q -U pip
	.venv/bin/pip install -q -r requirements/run.lock
	.venv/bin/pip install -q --no-deps -e .
	touch $(RUN_STAMP)

# plus the test and development tools, pinned by requirements/test.lock (what CI runs on)
$(VENV_STAMP): $(RUN_STAMP) requirements/test.lock
	.venv/bin/pip install -q -r requirements/test.lock
	touch $(VENV_STAMP)

setup: $(VENV_STAMP) ## create .venv with chipwire and the test extras

run: $(RUN_STAMP) ## poll the default sources on embedded defaults (Ctrl-C stops cleanly)
	.venv/bin/chipwire run

demo: $(RUN_STAMP) ## the whole pipeline offline on the sample corpus (kept in .chipwire-demo/)
	.venv/bin/chipwire demo --data-dir .chipwire-demo

test: setup browser ## lint, types and the whole test suite
	$(MAKE) lint typecheck
	$(PY) -m pytest -q

# the browser tests drive Debian's chromium through Playwright (never `playwright install`)
browser: ## install chromium for the browser tests when it is missing (apt-get, as root)
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: the browser tests will skip"

openapi: setup ## regenerate docs/openapi.json from the web app
	$(PY) -m chipwire.web.openapi

lint: setup ## ruff lint + format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: setup ## mypy --strict on the packages
	$(PY) -m mypy

format: setup ## apply ruff format and safe fixes
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

schemas: setup ## regenerate schemas/*.json from the contract models
	$(PY) -m chipwire.schemas

bench: setup ## benchmarks (minutes); results in bench/results/, summary in docs/benchmarks.md
	$(PY) bench/run_all.py

clean: ## remove local state
	rm -rf .chipwire .chipwire-demo .pytest_cache .mypy_cache .ruff_cache .venv-lock

# uv resolves from PyPI for any platform on Python 3.11+; existing pins are kept unless
# `make lock UPGRADE=--upgrade` (or a changed pyproject.toml) asks for newer ones
LOCK = .venv-lock/bin/uv pip compile -q --universal --python-version 3.11 $(UPGRADE) pyproject.toml
lock: ## re-resolve requirements/run.lock and test.lock from pyproject.toml (uv, from PyPI)
	test -x .venv-lock/bin/uv || (python3 -m venv .venv-lock && .venv-lock/bin/pip install -q uv)
	$(LOCK) -o requirements/run.lock
	$(LOCK) --extra test -o requirements/test.lock

docs: setup ## regenerate docs/CONFIG.md's settings table
	$(PY) -c "import re,pathlib; from chipwire.settings import settings_table as t; p=pathlib.Path('docs/CONFIG.md'); s=p.read_text(); i=s.index('| key (chipwire.toml)'); p.write_text(s[:i]+t())"
