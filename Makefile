# The two commands a new maintainer needs: `make book` then `make test`. `make help` lists the rest.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SITE   := _build/html
SITE_STAMP := _build/.built
BUILD_FLAGS := --all -W --keep-going
# The venv's own Python runs Jupyter Book (a copied .venv's scripts would name the original's Python in their #!).
JB     := $(BIN)/python $(BIN)/jupyter-book
# Reproducible output: dates that Sphinx would take from the clock come from the last commit instead.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
ifneq ($(SOURCE_DATE_EPOCH),)
export SOURCE_DATE_EPOCH
endif
PDF    := $(SITE)/_downloads/book.pdf
ROOT_DOC := $(shell sed -n 's/^root: *//p' _toc.yml 2>/dev/null)
NODE   := _build/node
VNU    := $(NODE)/node_modules/vnu-jar/build/dist/vnu.jar
# Debian packages: graphviz draws the diagrams; chromium runs the browser tests and prints the PDF;
# Java runs the Nu Html Checker, which npm installs (package.json, package-lock.json) into $(NODE); faketime runs a
# test build under another wall-clock date (tests/test_reproducible.py); pdftotext reads the PDF in tests/test_pdf.py.
DEBS   := graphviz:dot chromium:chromium default-jre-headless:java npm:npm faketime:faketime poppler-utils:pdftotext
SOURCES := $(shell git ls-files 2>/dev/null | grep -E '^(_config.yml|_toc.yml|intro.md|references.bib|CITATION.cff|chapters/|data/|relaxbook/|_static/|_templates/)' ) $(wildcard chapters/*.md data/* _static/* _templates/*)

.PHONY: help book pdf test validate serve clean lock sysdeps check-python check-venv bench lint mutate release
.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# Prints the version it finds and compares it in the shell, so even a Python too old to run our code is named clearly.
check-python:
	@found=$$($(PYTHON) -c 'import sys; print("Python %d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true); \
	ver=$$(printf '%s\n' "$$found" | grep -oE '[0-9]+\.[0-9]+' | head -n1 || true); \
	major=$${ver%%.*}; minor=$${ver#*.}; \
	if [ -z "$$ver" ] || [ "$$major" -lt 3 ] || { [ "$$major" -eq 3 ] && [ "$$minor" -lt 11 ]; }; then \
	  echo "error: Python >= 3.11 is required to build the book, but PYTHON=$(PYTHON) is $${found:-not a working Python}." >&2; \
	  echo "       Install Python 3.11 or newer and run: PYTHON=/path/to/python3.11 make book" >&2; exit 1; fi

sysdeps: ## Install the Debian packages the build and tests need, when missing (needs root)
	@missing=""; for pair in $(DEBS); do pkg=$${pair%%:*}; cmd=$${pair##*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi

$(STAMP): requirements.lock pyproject.toml | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

# A .venv copied with the checkout (cp -a) still runs the original checkout's relaxbook: point it at this one. A .venv
# that is a link to another folder is not ours to change: stop and say so.
check-venv:
	@here=$$($(BIN)/python -P -c 'import pathlib, relaxbook; print(pathlib.Path(relaxbook.__file__).resolve().parents[1])'); \
	if [ "$$here" != "$$(pwd -P)" ]; then \
	  if [ -L $(VENV) ]; then echo "error: .venv links to a virtual environment that runs $$here; remove the link and run make book" >&2; exit 1; fi; \
	  echo "this .venv ran the book in $$here; installing this checkout's relaxbook into it"; \
	  $(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .; fi

validate: $(STAMP) ## Check data/ and references.bib without building (seconds)
	@$(MAKE) --no-print-directory check-venv
	$(BIN)/python -m relaxbook.data.validate

# Atomic: build into a fresh _build/tmp.XXXXXX and move the site into place only when the whole build succeeded, so a
# failed build leaves the previous _build/html (and _build/jupyter_execute) untouched. By hand, `jupyter-book build .`
# with the same flags writes the same files straight into _build/html.
# Every page's footer names the commit it was built from, and its date (SOURCE_DATE_EPOCH): a new commit rebuilds the
# site (chapters come from the execution cache; nothing runs again). The file's name is the commit.
COMMIT_STAMP := _build/.commit-$(shell git rev-parse HEAD 2>/dev/null)
$(COMMIT_STAMP):
	@mkdir -p _build; rm -f _build/.commit-*; touch $@

$(SITE_STAMP): $(STAMP) $(SOURCES) $(COMMIT_STAMP)
	@$(MAKE) --no-print-directory check-venv
	$(MAKE) --no-print-directory sysdeps
	$(BIN)/python -m relaxbook.data.validate
	@mkdir -p _build; tmp=$$(mktemp -d _build/tmp.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; \
	echo "Building into $$tmp; $(SITE) is replaced only if the build succeeds."; \
	if ! $(JB) build . $(BUILD_FLAGS) --path-output "$$tmp" 2>&1 | tee "$$tmp/build.log"; then \
	  $(BIN)/python -m relaxbook.data.validate --explain-build-log "$$tmp/build.log" || true; \
	  echo "error: the build failed; the previous site in $(SITE) is unchanged." >&2; exit 1; fi; \
	for d in html jupyter_execute; do \
	  rm -rf "_build/$$d.old"; if [ -e "_build/$$d" ]; then mv "_build/$$d" "_build/$$d.old"; fi; \
	  mv "$$tmp/_build/$$d" "_build/$$d"; rm -rf "_build/$$d.old"; done
	touch $@

book: $(SITE_STAMP) $(PDF) ## Create the venv, install what is missing, validate the data, build the site and its PDF
	@echo "The site is at $(CURDIR)/$(SITE)/index.html  (make serve to browse it)"

# Printed by chromium through Playwright (page numbers, bookmarks); its dates and id come from SOURCE_DATE_EPOCH and
# its content, so two builds of one commit give the same bytes (relaxbook/tools/pdf.py).
$(PDF): $(SITE_STAMP)
	$(JB) build . --builder singlehtml -W --keep-going
	$(BIN)/python -m relaxbook.tools.pdf _build/singlehtml/$(ROOT_DOC).html $@
	@test -s $@ && echo "The PDF is at $(CURDIR)/$@"

pdf: $(PDF) ## Build the whole book as one PDF, offline (single-page HTML printed by chromium, with page numbers and bookmarks)

$(VNU): package.json package-lock.json
	$(MAKE) --no-print-directory sysdeps
	mkdir -p $(NODE) && cp package.json package-lock.json $(NODE)/
	cd $(NODE) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# Two pytest workers (pytest-xdist): much of the suite waits on browsers and builds. Each test module runs on one
# worker, in order (--dist loadscope): tests/test_cache.py rebuilds one scratch copy step by step. Modules are handed
# out slowest first (tests/conftest.py SLOWEST_FIRST), not by their number of tests.
TEST_WORKERS ?= 2
test: $(SITE_STAMP) $(PDF) $(VNU) ## Run the whole test suite (lint, data, build, site, HTML, accessibility, browser)
	@$(MAKE) --no-print-directory check-venv
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

bench: $(STAMP) ## Time cold/warm/edit builds on a scratch copy; prints a table, writes _build/bench.json (~10 min)
	$(MAKE) --no-print-directory sysdeps
	$(BIN)/python -m relaxbook.tools.bench

# Mutation testing (tests/mutation-survivors.md lists the survivors accepted, each with its reason). mutmut works in
# a copy under mutants/, which this target removes first; it is never part of make test.
mutate: $(STAMP) ## Mutation score of the modules that compute what readers see (about 50 min on 2 cores)
	@$(MAKE) --no-print-directory check-venv
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 || true
	$(BIN)/mutmut results --all true > _build/mutation-results.txt || true
	@$(BIN)/python -c "import collections,re,sys; t=open('_build/mutation-results.txt').read(); c=collections.Counter(re.findall(r': (\w[\w ]*)$$', t, re.M)); k=c['killed']; n=sum(c.values()); print(f'mutation score: {k}/{n} killed', dict(c))"

# A release is one commit and one tag made from a clean checkout (relaxbook/tools/release.py says what it writes);
# it needs the venv `make book` made, and never creates one.
release: ## Snapshot the claims' statuses into data/releases.csv, bump the version, commit and tag (VERSION=x.y.z)
	@test -n "$(VERSION)" || { echo "error: say which version: make release VERSION=x.y.z" >&2; exit 1; }
	@test -x $(BIN)/python || { echo "error: no $(BIN)/python: run make book first" >&2; exit 1; }
	$(BIN)/python -m relaxbook.tools.release $(VERSION)

serve: $(SITE_STAMP) ## Serve the built site on http://127.0.0.1:8000 only
	$(BIN)/python -m http.server 8000 --bind 127.0.0.1 --directory $(SITE)

lock: ## Re-resolve requirements.in into requirements.lock (needs the package registry)
	rm -rf _build/lockvenv && $(PYTHON) -m venv _build/lockvenv
	_build/lockvenv/bin/pip install -q -r requirements.in
	{ echo "# Full pinned environment for the book (Python 3.11). Generated by 'make lock' from requirements.in."; \
	  echo "# Do not edit by hand."; _build/lockvenv/bin/pip freeze | grep -v '^-e'; } > requirements.lock

clean: ## Remove the built site (keeps the venv); `make clean-all` also removes .venv
	rm -rf _build

clean-all: clean
	rm -rf $(VENV)
