# The two commands a newcomer needs: `make demo` and `make test`.
# Each creates the local virtualenv .venv on first use (only python3 is required).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test sandbox clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/bulk-onboard demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

sandbox: $(STAMP)
	$(BIN)/bulk-onboard sandbox

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
