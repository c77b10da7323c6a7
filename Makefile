# Everything runs inside .venv; `make serve` and `make test` set it up when needed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
INDEX := var/index
HOST ?= 127.0.0.1
PORT ?= 8000
# Where pip takes torch from. Empty: pip's own configuration. On a machine whose pip reaches only
# the public package index, torch==2.13.0 resolves to the CUDA build (about 15 nvidia-* packages,
# several GB); set TORCH_INDEX to PyTorch's CPU wheel index there (see README, "Set-up").
TORCH_INDEX ?=
TORCH_PIN := torch==2.13.0

export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup model index serve test lint bench browser clean

setup: $(STAMP) model

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, so that sentence-transformers finds it and does not pull another build.
	$(PY) -m pip install -q $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) $(TORCH_PIN)
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

model: $(STAMP)
	$(PY) -m qa.cli model

$(INDEX)/CURRENT: $(STAMP) $(wildcard seeds/*)
	$(PY) -m qa.cli build --source seeds --index $(INDEX)

index: model $(INDEX)/CURRENT

serve: setup index
	$(PY) -m qa.cli serve --index $(INDEX) --host $(HOST) --port $(PORT)

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "install Debian's chromium (apt-get install chromium) for the browser tests"; fi; }

lint: $(STAMP)
	$(PY) -m ruff check qa api tests bench

test: setup browser lint
	$(PY) -m pytest -q -rs

bench: setup index
	$(PY) -m bench.run_all

clean:
	rm -rf var .pytest_cache .ruff_cache
