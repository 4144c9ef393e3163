"""ONNX node-test conformance: the runner (`python -m tests.conformance.runner`) and its pytest check."""
