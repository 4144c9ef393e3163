"""GEMM shapes and digital work extracted from real models."""

from __future__ import annotations

import pytest

from conftest import model_path
from h3pc.frontend.importer import import_model
from h3pc.workload import gemm_work, layers, vector_work


def _ops(name: str):
    return list(import_model(model_path(name)).func.body.block.ops)


def test_mlp_layers() -> None:
    ls = layers(_ops("mlp_digits"))
    assert [(l.m, l.k, l.n, l.groups, l.static_weights) for l in ls] == [
        (1, 64, 128, 1, True), (1, 128, 64, 1, True), (1, 64, 10, 1, True)]


def test_macs_match_the_manifest() -> None:
    # models/README.md: MACs of MatMul, Gemm and Conv from the inferred shapes
    for name, macs in [("cnn_digits", 0.45e6), ("mobilenet_v2", 301e6), ("vit_tiny", 124e6), ("gpt2_tiny", 8.5e6)]:
        total = sum(l.macs for l in layers(_ops(name)))
        assert total == pytest.approx(macs, rel=0.02), name


def test_attention_matmuls_are_dynamic() -> None:
    ls = layers(_ops("gpt2_tiny"))
    dynamic = [l for l in ls if not l.static_weights]
    # 2 layers x (Q.K^T and P.V), 4 heads each, sequence 16, head dim 32
    assert len(dynamic) == 4
    assert {(l.m, l.k, l.n, l.groups) for l in dynamic} == {(16, 32, 16, 4), (16, 16, 32, 4)}


def test_depthwise_conv_groups() -> None:
    ls = layers(_ops("mobilenet_v2"))
    dw = [l for l in ls if l.groups > 1]
    assert dw and all(l.k == 9 and l.n == 1 for l in dw)


def test_vector_work_counts() -> None:
    ops = _ops("gpt2_tiny")
    softmax = next(o for o in ops if o.name == "nn.softmax")
    w = vector_work(softmax)
    assert (w.adds, w.specials) == (2 * 4 * 16 * 16, 2 * 4 * 16 * 16)
    reshape = next(o for o in ops if o.name == "nn.reshape")
    assert vector_work(reshape).bytes_moved == 0
    assert gemm_work(softmax) is None
