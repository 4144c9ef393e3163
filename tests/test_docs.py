"""Generated docs match the code's own tables."""

from h3pc.docgen import DOC, supported_ops_markdown


def test_supported_ops_doc_is_current() -> None:
    assert DOC.read_text() == supported_ops_markdown(), "run `make docs` to regenerate docs/supported-ops.md"


def test_issue_coverage_list_is_supported() -> None:
    from h3pc.frontend.registry import load_importers

    required = """Gemm MatMul Conv ConvTranspose BatchNormalization LayerNormalization RMSNormalization Gelu Erf Tanh
    Softmax LogSoftmax Attention Resize MaxPool AveragePool GlobalAveragePool GlobalMaxPool Add Sub Mul Div Pow
    Cast Where Equal Less Greater And Or Not Neg Reciprocal ReduceMean ReduceSum ReduceMax ReduceMin ArgMax
    Transpose Reshape Flatten Squeeze Unsqueeze Expand Concat Split Slice Gather GatherElements GatherND Pad Tile
    Range Sum Mean Max Min Sigmoid HardSigmoid HardSwish Relu LeakyRelu PRelu Clip Sqrt Exp Log LRN Dropout
    Identity Shape ConstantOfShape Constant""".split()
    missing = sorted(set(required) - set(load_importers()))
    assert not missing, missing
