# Course kit: one command per step. Every target sets up what it needs first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
GRADER := $(BIN)/python -m grader
export PYTHONHASHSEED := 0
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help setup debian-packages lint test test-browser screenshots mutants release sample-class autograde feedback grades report demo bench bench-notebooks clean

help:
	@grep -E '^## ' Makefile | sed 's/^## /  make /'

setup: debian-packages $(VENV)/.installed

# Debian packages: bubblewrap (the sandbox for student code), postgresql (the gradebook test server),
# chromium (the browser tests drive it with Playwright; Playwright's own browser download is not used).
# Checked on every setup (cheap), installed with apt-get only when missing.
DEBIAN_PACKAGES := bubblewrap postgresql chromium

debian-packages:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "please install the Debian packages: $$missing (sudo apt-get install $$missing)"; fi; \
	fi

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

## test          set up and run every test (what .ci/run calls): lint, pytest, the catalogs of mutants
test: setup lint
	$(BIN)/python -m pytest -q
	$(GRADER) mutants

## test-browser  the browser tests only (tests/browser: JupyterLab, Notebook 7, the formgrader, feedback; headless)
test-browser: setup
	$(BIN)/python -m pytest -q tests/browser --durations=0

## screenshots   run the browser tests saving each step under reports/screenshots/, and refresh the README's two
screenshots: setup
	KIT_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/browser
	mkdir -p docs/screenshots
	cp reports/screenshots/student_lab_blank_validate.png docs/screenshots/student_validate.png
	cp reports/screenshots/formgrader_manual_grade.png docs/screenshots/formgrader_manual_grade.png

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
