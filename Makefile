# Two entry points (README): `make demo` and `make test`. Both bootstrap .venv from the pinned project files.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lit bench docs fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# compile the bundled example for the hybrid target, emulate it, print the cost report
demo: $(STAMP)
	mkdir -p build
	$(BIN)/h3pc examples/mlp_digits.onnx -o build/mlp_digits.bin --target hybrid --report build/estimate.json
	$(BIN)/h3pc-run build/mlp_digits.bin --inputs examples/mlp_digits.npz --outputs build/outputs.npz \
		--report build/report.json --trace build/trace.json

test: $(STAMP)
	$(BIN)/python -m pytest -q

lit: $(STAMP)
	$(BIN)/lit -v tests/filecheck

bench: $(STAMP)
	$(BIN)/python benchmarks/import.py
	$(BIN)/python benchmarks/speed.py
	$(BIN)/python benchmarks/fidelity.py
	$(BIN)/python benchmarks/partition.py
	$(BIN)/python benchmarks/memory.py
	$(BIN)/python benchmarks/sweep.py

# differential fuzzing at length: random graphs x targets x placements against onnxruntime
fuzz: $(STAMP)
	H3PC_FUZZ_PROFILE=long H3PC_FUZZ_EXAMPLES=$${H3PC_FUZZ_EXAMPLES:-5000} H3PC_FUZZ_STEPS=$${H3PC_FUZZ_STEPS:-10} \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz_differential.py tests/test_fuzz_program.py --hypothesis-show-statistics

docs: $(STAMP)
	$(BIN)/python -m h3pc.docgen

clean:
	rm -rf $(VENV) build *.egg-info
