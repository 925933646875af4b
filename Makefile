# Course kit: one command per step. Every target sets up what it needs first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
GRADER := $(BIN)/python -m grader
export PYTHONHASHSEED := 0
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help setup lint test mutants release sample-class autograde feedback grades report demo bench bench-notebooks clean

help:
	@grep -E '^## ' Makefile | sed 's/^## /  make /'

setup: $(VENV)/.installed

# Debian packages: bubblewrap (the sandbox for student code), postgresql (the gradebook test server).
DEBIAN_PACKAGES := bubblewrap postgresql

$(VENV)/.installed: requirements.txt pyproject.toml
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "please install the Debian packages: $$missing (sudo apt-get install $$missing)"; fi; \
	fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

## test          set up and run every test (what .ci/run calls): lint, pytest, the catalogs of mutants
test: setup lint
	$(BIN)/python -m pytest -q
	$(GRADER) mutants

## lint          ruff and mypy
lint: setup
	$(BIN)/ruff check grader catalog tests assignments/nnkit nbgrader_config.py
	$(BIN)/mypy

## mutants       test the tests: grade the catalogs of buggy and correct-but-different implementations (whole submissions)
mutants: setup
	$(GRADER) mutants

## demo          set up, release, build a sample class, autograde, feedback, grades, report
demo: setup
	$(GRADER) demo

## release       nbgrader generate_assignment for every assignment into release/
release: setup
	$(GRADER) release

## sample-class  build the sample class under submitted/
sample-class: setup
	$(GRADER) sample-class

## autograde     autograde every submission under submitted/
autograde: setup
	$(GRADER) autograde

## feedback      per-student feedback under feedback/
feedback: setup
	$(GRADER) feedback

## grades        reports/grades.csv and reports/grades_by_test.csv
grades: setup
	$(GRADER) grades

## report        the class report with plots under reports/
report: setup
	$(GRADER) report

## bench         grade a class of 50 submissions with plain serial nbgrader and with the kit, side by side
bench: setup
	$(GRADER) bench

## bench-notebooks  execution time of every source notebook
bench-notebooks: setup
	$(GRADER) bench-notebooks

## clean         remove submissions, grading results, reports and the gradebook
clean:
	rm -rf submitted autograded feedback reports gradebook.db .staged
