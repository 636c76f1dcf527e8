# govmon: `make demo` and `make test` each bootstrap .venv from a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo demo-recording test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,browser]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/govmon demo --output demo-out

# the demo's bundled recording, made again from its static files (after a change to them, or to
# what the crawler requests): govmon demo replays it, govmon demo --live scans the files
demo-recording: $(STAMP)
	$(BIN)/python -m crawler.demo --record crawler/demo/district.warc.gz

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) lint typecheck
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) demo-out .mypy_cache .pytest_cache .ruff_cache
