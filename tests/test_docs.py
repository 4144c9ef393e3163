"""Generated docs match the code's own tables."""

import pytest

from h3pc.docgen import GENERATED


@pytest.mark.parametrize("path", list(GENERATED), ids=lambda p: p.name)
def test_generated_docs_are_current(path) -> None:
    assert path.read_text() == GENERATED[path](), f"run `make docs` to regenerate {path.name}"


def test_issue_coverage_list_is_supported() -> None:
    from h3pc.frontend.ops import load_importers

    required = """Gemm MatMul Conv ConvTranspose BatchNormalization LayerNormalization RMSNormalization Gelu Erf Tanh
    Softmax LogSoftmax Attention Resize MaxPool AveragePool GlobalAveragePool GlobalMaxPool Add Sub Mul Div Pow
    Cast Where Equal Less Greater And Or Not Neg Reciprocal ReduceMean ReduceSum ReduceMax ReduceMin ArgMax
    Transpose Reshape Flatten Squeeze Unsqueeze Expand Concat Split Slice Gather GatherElements GatherND Pad Tile
    Range Sum Mean Max Min Sigmoid HardSigmoid HardSwish Relu LeakyRelu PRelu Clip Sqrt Exp Log LRN Dropout
    Identity Shape ConstantOfShape Constant""".split()
    missing = sorted(set(required) - set(load_importers()))
    assert not missing, missing
