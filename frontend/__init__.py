"""ONNX frontend: load, fold shape subgraphs, import into the nn dialect."""
