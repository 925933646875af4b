# Course kit: one command per step. Every target sets up what it needs first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
GRADER := $(BIN)/python -m grader
export PYTHONPATH := $(CURDIR):$(CURDIR)/assignments
export PYTHONHASHSEED := 0

.PHONY: help setup test release sample-class autograde feedback grades report demo clean

help:
	@grep -E '^## ' Makefile | sed 's/^## /  make /'

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

## test          set up and run every test (what .ci/run calls)
test: setup
	$(BIN)/python -m pytest -q

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

## clean         remove submissions, grading results, reports and the gradebook
clean:
	rm -rf submitted autograded feedback reports gradebook.db
