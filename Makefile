# Two entry points (README): `make demo` and `make test`. Both bootstrap .venv from the pinned project files.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lit bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/h3pc --op-stats examples/mlp_digits.onnx
	$(BIN)/h3pc examples/mlp_digits.onnx --emit nn

test: $(STAMP)
	$(BIN)/python -m pytest -q

lit: $(STAMP)
	$(BIN)/lit -v tests/filecheck

bench: $(STAMP)
	$(BIN)/python benchmarks/import.py

docs: $(STAMP)
	$(BIN)/python -m h3pc.docgen

clean:
	rm -rf $(VENV) build *.egg-info
