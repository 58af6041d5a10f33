# Two commands do all the set-up on a fresh clone (Python 3.11 and pip are all it needs):
#   make run    start the bot on the embedded default (SQLite + the simulated WeChat)
#   make test   run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Bytecode compiled ahead: where Python may not write it (PYTHONDONTWRITEBYTECODE, as container
# images set, or a read-only checkout) each start would compile ~180 modules again (~0.3 s).
run: $(STAMP)
	$(BIN)/python -m compileall -q bot handlers storage
	$(BIN)/jingmin run

test: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_pipeline.py

clean:
	rm -rf $(VENV) data .pytest_cache
