# The two commands of the README:
#   make demo   set up, fill tiyan.db with the demo world, train and score its churn model,
#               serve http://127.0.0.1:8000
#   make test   set up and run the whole test suite (lint, types, unit, integration, browser)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test setup serve lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tiyan needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

# the text analysis's cache files (jieba lexicons, IDF tables, taxonomies; ~/.cache/tiyan): built
# here, not by the first `tiyan text analyze`; a second run only checks that they are in place.
# tiyan's own modules are compiled here too: an editable install leaves that to the first import,
# and where PYTHONDONTWRITEBYTECODE is set every command would compile them again (~50 ms each)
setup: $(STAMP)
	$(BIN)/python -m compileall -q src
	$(BIN)/tiyan text prepare

demo: setup
	$(BIN)/tiyan demo
	$(BIN)/tiyan predict train
	$(BIN)/tiyan predict score
	$(BIN)/tiyan serve --host 127.0.0.1 --port 8000

# the suite runs in parallel workers (one per core, at most 4); each test file stays on one
# worker, so a file's tests run in their order and share its fixtures
test: setup lint
	$(BIN)/python -m pytest --numprocesses auto --maxprocesses 4 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) tiyan.db tiyan.db-wal tiyan.db-shm tiyan-data
