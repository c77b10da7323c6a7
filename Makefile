# Everything runs inside .venv; `make serve` and `make test` set it up when needed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The index `make serve` serves, and where: QA_INDEX_DIR, QA_HOST and QA_PORT are honoured,
# INDEX, HOST and PORT override them. Only the default index is (re)built from seeds/; another
# index is served as it is, or first updated from SOURCE when that is given:
#   make serve INDEX=var/mine SOURCE=~/dokument
SEEDS_INDEX := var/index
INDEX ?= $(or $(QA_INDEX_DIR),$(SEEDS_INDEX))
HOST ?= $(or $(QA_HOST),127.0.0.1)
PORT ?= $(or $(QA_PORT),8000)
SOURCE ?=
IS_SEEDS := $(and $(if $(SOURCE),,1),$(filter $(abspath $(SEEDS_INDEX)),$(abspath $(INDEX))))
# The seed index comes with example questions for the page; others draw theirs from the index.
EXAMPLES := $(or $(QA_EXAMPLES_FILE),$(if $(IS_SEEDS),examples/seeds_sv.txt))
# Where pip takes torch from. Empty: pip's own configuration. On a machine whose pip reaches only
# the public package index, torch==2.13.0 resolves to the CUDA build (about 15 nvidia-* packages,
# several GB); set TORCH_INDEX to PyTorch's CPU wheel index there (docs/getting-started.md).
TORCH_INDEX ?=
TORCH_PIN := torch==2.13.0

export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup model index serve test check lint docs bench system debian clean real-docs axe

setup: $(STAMP) model

# No installer cache: the wheels would take about 2 GB more disk beside the 3 GB venv, and a CI
# machine once ran out of space during this install.
PIP_INSTALL := $(PY) -m pip install -q --no-cache-dir
# The project and its extras are installed by uv (MIT/Apache-2.0, Astral), which downloads and
# unpacks in parallel: several times faster than pip for this dependency tree
# (docs/development.md). torch alone goes through pip, whose configuration on our machines finds
# the CPU wheel on disk (uv does not read pip.conf). uv reads its index from UV_DEFAULT_INDEX
# (or uv.toml); where packages come only through pip's configuration, use INSTALLER=pip.
INSTALLER ?= uv
UV_INSTALL := $(VENV)/bin/uv pip install -q --no-cache --python $(PY)
EXTRAS := build,eval,ocr,test,cluster,docs

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, so that sentence-transformers finds it and does not pull another build.
	$(PIP_INSTALL) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) $(TORCH_PIN)
ifeq ($(INSTALLER),uv)
	$(PIP_INSTALL) uv
	$(UV_INSTALL) -e '.[$(EXTRAS)]'
else
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) -e '.[$(EXTRAS)]'
endif
	touch $(STAMP)

model: $(STAMP)
	$(PY) -m qa.cli model

$(SEEDS_INDEX)/CURRENT: $(STAMP) $(wildcard seeds/*)
	$(PY) -m qa.cli build --source seeds --index $(SEEDS_INDEX)

index: model
ifneq ($(SOURCE),)
	$(PY) -m qa.cli build --source $(SOURCE) --index $(INDEX)
else ifneq ($(IS_SEEDS),)
	$(MAKE) --no-print-directory $(SEEDS_INDEX)/CURRENT
else
	@test -e $(INDEX)/CURRENT -o -e $(INDEX)/manifest.json || { \
	  echo "no index at $(INDEX): build it with 'make index INDEX=$(INDEX) SOURCE=<folder>'" \
	       "(or .venv/bin/qa build --source <folder> --index $(INDEX))"; exit 1; }
endif

serve: setup index
	$(if $(EXAMPLES),QA_EXAMPLES_FILE=$(EXAMPLES)) $(PY) -m qa.cli serve --index $(INDEX) \
	  --host $(HOST) --port $(PORT)

# Debian packages the tests need: Chromium for the browser tests (Playwright cannot download
# browsers here), Tesseract with its Swedish model for the OCR tests, the Swedish Hunspell
# dictionary for the compound-splitting test, systemd-analyze for the unit file's test (on a
# fresh machine it arrived here only among the packages Chromium pulls in), Ghostscript and
# qpdf that make the hostile PDFs of the isolation tests (tests/ingest/hostile); Ghostscript
# also re-distils Chromium's PDFs for the real-documents tests (another PDF producer).
DEBIAN_PACKAGES := chromium tesseract-ocr tesseract-ocr-swe hunspell-sv systemd ghostscript qpdf
system:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr"; \
	{ command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx swe; } \
	  || missing="$$missing tesseract-ocr-swe"; \
	[ -f /usr/share/hunspell/sv_SE.dic ] || missing="$$missing hunspell-sv"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	command -v gs >/dev/null || missing="$$missing ghostscript"; \
	command -v qpdf >/dev/null || missing="$$missing qpdf"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "install the Debian packages$$missing (apt-get install -y$$missing) for the browser, OCR, dictionary, unit-file and hostile-file tests"; fi; \
	fi

# Real Swedish documents for tests/test_debian_documents.py: Debian's packages unpacked (not
# installed) under var/real-docs/root. LibreOffice's Swedish help (HTML pages) and LifeLines'
# Swedish manuals (DocBook books, one HTML page each). Never gimp-help-sv, cfi-sv or
# debian-edu-doc-legacy-sv: they are held back for checks from outside.
REAL_DOCS := var/real-docs
REAL_DOCS_PACKAGES := libreoffice-help-sv lifelines-doc-sv
real-docs: $(REAL_DOCS)/.unpacked
$(REAL_DOCS)/.unpacked:
	rm -rf $(REAL_DOCS) && mkdir -p $(REAL_DOCS)/debs $(REAL_DOCS)/root
	cd $(REAL_DOCS)/debs && { apt-get download $(REAL_DOCS_PACKAGES) 2>/dev/null \
	  || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get download $(REAL_DOCS_PACKAGES); }; }
	for deb in $(REAL_DOCS)/debs/*.deb; do dpkg -x "$$deb" $(REAL_DOCS)/root; done
	rm -rf $(REAL_DOCS)/debs
	touch $@

# axe-core from the npm registry, for the page's accessibility audit (WCAG 2.1 A/AA) in the
# browser tests (tests/axe.py runs it); pinned, unpacked under var/npm.
AXE_VERSION := 4.14.1
AXE := var/npm/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE):
	npm install --silent --no-save --no-audit --no-fund --prefix var/npm axe-core@$(AXE_VERSION)

lint: $(STAMP)
	$(PY) -m ruff check qa api tests bench

# The documentation site (MkDocs, Material theme), built offline into var/site: --strict fails on
# a broken link or anchor; docs/hooks/reference.py generates the configuration and HTTP API
# references from the code. Open var/site/index.html (search works from the file system too).
SITE := var/site
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --quiet --site-dir $(SITE)

# The whole suite. The venv and model are prepared while apt-get fetches the Debian packages and
# the real documents and npm fetches axe-core (network and disk, mostly: -j3); the tests then run
# in TEST_WORKERS processes (pytest-xdist), a test file per process, since many tests wait on
# servers, subprocesses and browsers rather than on the two cores. Files start longest first
# (tests/file_seconds.json; refresh it with --file-seconds-out), so that no long file is left to
# run alone at the end. The documentation site is built, --strict, by tests/test_docs.py.
TEST_WORKERS ?= 3
PYTEST_ARGS ?=
test:
	$(MAKE) --no-print-directory -j3 setup debian axe
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -q -rs -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# What the tests need from Debian: the packages, then the real documents (apt-get one at a time).
debian: system
	$(MAKE) --no-print-directory real-docs

# The fast tier, for every change: lint, types (mypy, configured in pyproject.toml) and the
# tests that need neither the model, a browser nor a cluster (tests/conftest.py marks the tiers
# by the fixtures a test uses). Under a minute on two cores; `make test` runs everything.
FAST_TESTS := not model and not browser and not cluster and not slow
check: $(STAMP)
	$(PY) -m ruff check qa api tests bench
	$(PY) -m mypy
	$(PY) -m pytest -q -n 2 -m "$(FAST_TESTS)"

bench: setup index
	$(PY) -m bench.run_all

clean:
	rm -rf var .pytest_cache .ruff_cache
