"""Fidelity of the cost model against the paper: Pythia-70M, absolute latency and energy next to Table 4.

    python benchmarks/fidelity.py [--seq 32] [--no-lm-head] [--seq-sweep 16,32,48,64,128] [--points 5]
                                  [--solve-time 30] [--seed 0] [--hw h3pimap] [--verify]

H3PIMAP (Yin et al., arXiv 2503.07778) Table 4 reports Pythia-70M (TinyStories) as latency ms / energy mJ:
100% SRAM-PIM 10.21 / 13.79, 100% ReRAM-PIM 14.73 / 13.44, 100% photonic (TeMPO) 0.91 / 8.92, the equal
split over the three tiers 4.90 / 12.02, and stage one's Pareto-optimal mapping (PO) 1.34 / 9.85. The target
(issue 22) is every one of the eight homogeneous and equal-split numbers within 30% in absolute terms, with the
paper's dense packing (one copy of each weight in the crossbars), and every remaining deviation explained by a
named modelling assumption.

The workload, stated and argued (docs/hardware-model.md, "Fidelity against Table 4" and §h.1/§h.3):
  * sequence length 32 by default. The paper states neither the sequence length nor the batch. Its numbers fix
    S within a narrow range only if the LM head is counted: 0.91 ms photonic is 2.14 G MACs at the tier's
    784 MACs x 3 GHz peak, S = 48 with the head (S = 110 without); SRAM's 10.21 ms with Table 1's one ADC
    per crossbar (8 input bits x 128 columns per ADC / 100 MHz = 10.24 us per input vector and matrix)
    needs 25-37 such steps per token, i.e. S of about 32 with the head. The photonic roofline is a bound
    (S <= 48 with the head); at S = 32 the paper's 0.91 ms is 67% of the photonic peak, SRAM's 10.21 ms fits,
    and only there do both agree (§h.3).
    `--seq-sweep` prints every row at several S so the reader sees how the fit depends on S.
  * the untied LM head (512 x 50304, 25.8 M of the 70.4 M parameters) is counted; `--no-lm-head` leaves it out
    (then no S fits SRAM and photonic together: SRAM : photonic is about 29 against the paper's 11).
  * batch 1 (one sequence per inference).
  * the equal split is the paper's: every static layer's rows in thirds over SRAM-PIM, ReRAM-PIM and
    photonic at stage one's split granularity (16 pieces per layer: 6/5/5, the remainder to the tiers in that
    order, as `--mapping naive` does), pinned through a placement file (`--placement-in`),
    dynamic attention layers on the photonic tier. `--mapping naive` itself splits over every tier able to run a
    layer, which includes our digital host tier (the paper has none); it is shown as a separate row.
  * PO is stage one's CP-SAT front (`--mapping cpsat`, objective latency, `--points` points): the table shows
    every front point and the one nearest the paper's PO row (log distance in latency and energy).

The model has the shape of Pythia-70M (GPT-NeoX: 6 layers, d_model 512, 8 heads of 64, MLP 2048 with the Erf
GELU, vocabulary 50304, LayerNorm, parallel attention + MLP residual, causal softmax attention with a constant
additive mask, untied LM head; random float32 weights, rotary embeddings omitted), written with onnx.helper. Each
row is compiled and read through the compiler's estimate (h3pc.runtime.emulator.estimate), which includes every
per-inference cost (reprogramming of dynamic operands and of streamed weights, weight staging, link contention).

For every number more than 30% from the paper's, the script names the assumption that drives it, from the data:
  * the latency of the row's program decomposed exactly along its critical path into instruction categories
    (PIM reprogramming, GEMM compute, weight fetch, activation moves, vector ops, waits for a shared link);
  * each category removed in turn (its instructions charged zero time, the schedule re-run), each energy
    component and category removed in turn, and a few hardware assumptions changed (scenarios); for the equal
    split also the paper's linear model (the homogeneous rows' max(T)/3 and sum(E)/3, which is what weight
    replication would approach). The change that brings our absolute number closest to the paper's is the driver.
Replication (issue 22): the rows above are compiled with the paper's dense packing (`--pim-replication off`: one
copy of each PIM weight); then the same rows and front are compiled with replication allowed (PIM weights copied
over free crossbars, so a tier's time per vector shrinks with the rows it holds), and the hybrid's advantage is
compared both ways. A version of h3pc without the option says so in the output instead.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from h3pc import progress
from h3pc.backends import tiers
from h3pc.compiler import compile_model
from h3pc.hardware.schema import HardwareConfig, load_hardware
from h3pc.runtime.emulator import estimate

from common import RESULTS

#: paper Table 4 (Pythia-70M / TinyStories): latency ms, energy mJ, per row
PAPER = {
    "sram-pim": {"latency_ms": 10.21, "energy_mj": 13.79},
    "reram-pim": {"latency_ms": 14.73, "energy_mj": 13.44},
    "photonic": {"latency_ms": 0.91, "energy_mj": 8.92},
    "equal-split": {"latency_ms": 4.90, "energy_mj": 12.02},
    "po": {"latency_ms": 1.34, "energy_mj": 9.85},
}
#: the homogeneous rows (`--target`), in Table 4's order
HOMOGENEOUS = ("sram-pim", "reram-pim", "photonic")
#: the rows whose eight numbers are the target (within THRESHOLD of the paper's)
TARGET_ROWS = (*HOMOGENEOUS, "equal-split")
#: further rows compiled for context (no paper row): the compiler's own naive split, the digital baseline
EXTRA_ROWS = ("naive", "electronic")
THRESHOLD = 0.30
METRICS = (("latency", "latency_s", "latency_ms", 1e3, "ms"), ("energy", "energy_j", "energy_mj", 1e3, "mJ"))

PYTHIA_70M = {"layers": 6, "d_model": 512, "heads": 8, "head_dim": 64, "d_ff": 2048, "vocab": 50304,
              "ln_eps": 1e-5}

#: latency categories: what each stands for in the hardware model
CATEGORIES = {
    "pim_prog_dynamic": "per-inference reprogramming of dynamic attention operands (Q K^T, P V) into PIM "
                        "crossbars (program_latency_ns per crossbar row, program_energy_pj_per_cell)",
    "pim_prog_spilled": "per-inference reprogramming of static weights that do not stay resident in the tier's "
                        "crossbars (capacity: tiles x crossbars_per_tile, cells_per_weight; the streaming region)",
    "gemm_compute": "GEMM compute model (PIM: bit-serial input_bits passes per vector, columns_per_adc ADC "
                    "cycles per pass, one copy of the weights, all crossbars of a matrix in parallel; photonic: "
                    "2x2 cores of 14x14 at 3 GHz, k cycles per output block; digital: 256-lane SIMD)",
    "embedding_fetch": "the Gather's embedding table read from off-chip memory and through the links every "
                       "inference (not only the rows it reads)",
    "weight_fetch": "GEMM weights not resident in crossbars or the M tier's weight region (photonic, digital, "
                    "streamed PIM), staged from off-chip memory per inference (offchip_bandwidth_gbps, "
                    "offchip_energy_pj_per_byte) and read over the tier's link, in their stored format",
    "activation_move": "activation traffic through the global buffer and the links in the stored format, once "
                       "per unfused elementwise op (buffer banks and ports, tsv_width_bits, memory.links)",
    "link_wait": "time a transfer waits for a link another tier is using (tiers that share a link contend)",
    "vector": "digital vector ops (softmax, LayerNorm, GELU, residual adds) on the SIMD tier",
    "sync": "SIGNAL / WAIT / HALT (free)",
}
#: what-if groups of categories removed together
GROUPS = {"data_movement": ("embedding_fetch", "weight_fetch", "activation_move")}
GROUP_NOTES = {"data_movement": "all buffer/TSV/off-chip traffic (embedding, weights, activations): the memory "
                                "system model as a whole (bandwidths, stored formats, overlap with compute)"}
#: energy components: what each stands for
COMPONENT_NOTES = {
    "adc": "ADC conversions (PIM: one per column per input bit pass; photonic: one per output per "
           "temporal_accumulation cycles)",
    "dac": "DAC conversions (PIM: 1-bit row drivers per pass; photonic: 6-bit operand conversion)",
    "crossbar_read": "crossbar array read energy per column-scan (ADC) cycle and crossbar (columns_per_adc "
                     "cycles per pass)",
    "shift_add": "PIM shift-and-add of the bit-serial partial sums",
    "programming": "PIM cell writes per inference (dynamic attention operands, streamed weights)",
    "static": "static power of the tiers: a power-gated tier's over its busy time, any other's over the makespan",
    "leakage": "power of devices gated per crossbar or core while an instruction uses them (PIM ADC leakage, "
               "photonic integrators)",
    "laser": "photonic laser power while the cores compute, scaled by 2^(operand bits)",
    "modulator": "photonic modulator energy per converted operand",
    "detector": "photonic photodetector power while busy",
    "tia": "photonic TIA power while busy, divided by temporal_accumulation",
    "digital": "digital SIMD arithmetic",
    "buffer": "global buffer accesses",
    "tsv": "TSV transfers between tiers and buffer",
    "offchip": "off-chip (HBM) weight fetches",
}
#: the paper's linear model of a split (§h.1): what the equal split would cost if each tier's latency and
#: energy were linear in the rows it holds, computed from our own homogeneous rows
LINEAR_NOTE = ("the paper's per-tier cost is linear in the rows a tier holds (its equal split is max(T)/3 and "
               "sum(E)/3 of the homogeneous rows, §h.1), which PIM weight replication over the idle crossbars "
               "approaches; h3pc packs one copy of each weight (dense), so a PIM tier's time per input vector "
               "does not shrink with the rows it holds")


# ------------------------------------------------------------------------------------------------
# the model


class _Graph:
    """Nodes now, initializers later: weights are generated straight into the ModelProto one at a time,
    so the 280 MB of float32 weights exist about twice at the peak (proto and its serialisation)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[tuple[str, Any]] = []  # (name, () -> ndarray), generated in this order
        self.params = 0
        self.n = 0

    def name(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}_{self.n}"

    def const(self, prefix: str, arr: np.ndarray) -> str:
        name = self.name(prefix)
        self.inits.append((name, lambda: arr))
        return name

    def weight(self, prefix: str, shape: tuple[int, ...], std: float = 0.02) -> str:
        name = self.name(prefix)
        self.inits.append((name, lambda: self.rng.standard_normal(shape, dtype=np.float32) * np.float32(std)))
        return name

    def fill(self, graph: onnx.GraphProto) -> None:
        for name, make in self.inits:
            arr = np.ascontiguousarray(make())
            if arr.dtype == np.float32:
                self.params += arr.size
            graph.initializer.append(numpy_helper.from_array(arr, name))

    def op(self, op_type: str, inputs: list[str], n_out: int = 1, **attrs: Any) -> Any:
        outs = [self.name(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=self.name(op_type), **attrs))
        return outs[0] if n_out == 1 else outs

    def linear(self, x: str, k: int, n: int, prefix: str) -> str:
        y = self.op("MatMul", [x, self.weight(prefix + "_w", (k, n))])
        return self.op("Add", [y, self.weight(prefix + "_b", (n,), std=0.01)])

    def layer_norm(self, x: str, d: int, eps: float, prefix: str) -> str:
        g = self.const(prefix + "_g", np.ones(d, np.float32))
        b = self.const(prefix + "_b", np.zeros(d, np.float32))
        return self.op("LayerNormalization", [x, g, b], axis=-1, epsilon=eps)


def build_pythia70m(path: Path, seq: int, seed: int, lm_head: bool = True,
                    shape: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write a Pythia-70M-shaped ONNX model (ir 10, opset 17) to `path`; returns its statistics. `shape`:
    another GPT-NeoX shape with PYTHIA_70M's keys (the tests build a small one)."""
    c = shape or PYTHIA_70M
    d, h, hd, ff, vocab, eps = c["d_model"], c["heads"], c["head_dim"], c["d_ff"], c["vocab"], c["ln_eps"]
    g = _Graph(np.random.default_rng(seed))
    x = g.op("Gather", [g.weight("embed_in", (vocab, d)), "input_ids"], axis=0)  # [1, S, d]
    mask = np.triu(np.full((seq, seq), -1e9, np.float32), k=1)  # causal, additive
    mask_c = g.const("causal_mask", mask)
    scale_c = g.const("scale", np.array(1.0 / math.sqrt(hd), np.float32))
    qkv_shape = g.const("qkv_shape", np.array([1, seq, h, 3 * hd], np.int64))
    split_c = g.const("split", np.array([hd, hd, hd], np.int64))
    merge_shape = g.const("merge_shape", np.array([1, seq, d], np.int64))
    sqrt2 = g.const("sqrt2", np.array(math.sqrt(2.0), np.float32))
    one = g.const("one", np.array(1.0, np.float32))
    half = g.const("half", np.array(0.5, np.float32))
    for layer in range(c["layers"]):
        p = f"l{layer}"
        # attention on ln1(x): fused QKV as in GPT-NeoX (heads x [q|k|v] interleaved)
        a = g.layer_norm(x, d, eps, p + "_ln1")
        qkv = g.op("Reshape", [g.linear(a, d, 3 * d, p + "_qkv"), qkv_shape])  # [1, S, H, 3*hd]
        q, k, v = g.op("Split", [qkv, split_c], n_out=3, axis=3)
        q = g.op("Transpose", [q], perm=[0, 2, 1, 3])  # [1, H, S, hd]
        kt = g.op("Transpose", [k], perm=[0, 2, 3, 1])  # [1, H, hd, S]
        v = g.op("Transpose", [v], perm=[0, 2, 1, 3])
        s = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, kt]), scale_c]), mask_c])  # [1, H, S, S]
        o = g.op("MatMul", [g.op("Softmax", [s], axis=-1), v])  # [1, H, S, hd]
        o = g.op("Reshape", [g.op("Transpose", [o], perm=[0, 2, 1, 3]), merge_shape])
        attn = g.linear(o, d, d, p + "_dense")
        # MLP on ln2(x), GELU(y) = y * 0.5 * (1 + erf(y / sqrt 2))
        m = g.linear(g.layer_norm(x, d, eps, p + "_ln2"), d, ff, p + "_fc_in")
        gelu = g.op("Mul", [g.op("Mul", [m, g.op("Add", [g.op("Erf", [g.op("Div", [m, sqrt2])]), one])]), half])
        mlp = g.linear(gelu, ff, d, p + "_fc_out")
        x = g.op("Add", [g.op("Add", [x, attn]), mlp])  # parallel residual
    x = g.layer_norm(x, d, eps, "final_ln")
    out_dim = d
    if lm_head:
        x = g.op("MatMul", [x, g.weight("embed_out", (d, vocab))])  # untied, no bias
        out_dim = vocab
    g.nodes.append(helper.make_node("Identity", [x], ["logits"], name="logits_out"))
    graph = helper.make_graph(
        g.nodes, "pythia70m_shaped",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, seq])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, seq, out_dim])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="h3pc-fidelity")
    model.ir_version = 10
    g.fill(model.graph)  # into the model's own graph: make_model copied `graph`
    path.write_bytes(model.SerializeToString())  # (onnx.save copies the proto first: +280 MB at the peak)
    params = g.params
    del model, graph, g
    gc.collect()
    return {"params": int(params), "file_mb": path.stat().st_size / 1e6}


# ------------------------------------------------------------------------------------------------
# schedule analysis (the same schedule and charges as estimate(), with per-instruction detail)


def _sim_tools(prog):
    """(charges, simulate) for a program, as estimate() uses them."""
    from h3pc.charges import Charges
    from h3pc.runtime.schedule import simulate

    return Charges.build(prog), simulate


def _simulate(prog, charges, simulate, charge, record: bool = True):
    """The schedule as estimate() runs it: with the link contention of the description, when it has any."""
    links = getattr(charges, "links", None)
    return simulate(prog.streams, charge, record=record, **({"links": links} if links is not None else {}))


def category(prog, ins) -> str:
    op = ins.op
    if op in ("PROG", "PROGS"):
        return "pim_prog_spilled" if prog.tensors[ins.w].role == "const" else "pim_prog_dynamic"
    if op in ("PMM", "MVM", "GEMM"):
        return "gemm_compute"
    if op in ("LD", "ST", "FILL"):
        if op in ("LD", "FILL") and prog.tensors[ins.tensor].role == "const":
            return "embedding_fetch" if prog.symbols[ins.sym]["op"] == "nn.gather" else "weight_fetch"
        return "activation_move"
    if op == "VOP":
        return "vector"
    return "sync"


def critical_path(events) -> list[tuple[Any, float]]:
    """The chain of events that sets the makespan, each with the idle time before it: an event started
    when its tier's previous event ended, or (a WAIT) when the awaited SIGNAL ended, or (a transfer) when
    the link it shares with other tiers became free; that last wait is the gap."""
    if not events:
        return []
    prev_on_tier: dict[int, Any] = {}
    last: dict[str, Any] = {}
    signal: dict[int, Any] = {}
    for i, ev in enumerate(events):
        prev_on_tier[i] = last.get(ev.tier)
        last[ev.tier] = (i, ev)
        if ev.ins.op == "SIGNAL":
            signal[ev.ins.tensor] = (i, ev)
    cur = max(range(len(events)), key=lambda i: events[i].end)
    path = []
    while cur is not None:
        ev = events[cur]
        prev = prev_on_tier[cur]
        if ev.ins.op == "WAIT":
            sig = signal.get(ev.ins.tensor)
            if sig is not None and sig[1].end == ev.start and (prev is None or sig[1].end >= prev[1].end):
                path.append((ev, 0.0))
                cur = sig[0]
                continue
        path.append((ev, max(0.0, ev.start - (prev[1].end if prev is not None else 0.0))))
        cur = prev[0] if prev is not None else None
    return path[::-1]


def _stored_mb(t) -> float:
    return getattr(t, "stored_bytes", t.nbytes) / 1e6


def analyse(prog, rep: dict[str, Any]) -> dict[str, Any]:
    """Critical-path latency by category (waits for a shared link included, so the parts sum to the
    makespan), busy time and energy by (tier, category), what-ifs, PIM reprogramming volume."""
    charges, simulate = _sim_tools(prog)
    makespan, events = _simulate(prog, charges, simulate, charges.of)
    cp: dict[str, float] = {}
    top: dict[str, float] = {}
    for ev, gap in critical_path(events):
        c = category(prog, ev.ins)
        cp[c] = cp.get(c, 0.0) + ev.cost.latency_s
        if gap > 0:
            cp["link_wait"] = cp.get("link_wait", 0.0) + gap
        if ev.cost.latency_s > 0:
            ins = ev.ins
            sym = prog.symbols[ins.sym]["op"] if hasattr(ins, "sym") else ""
            programs = ("PROG", "PROGS")
            t = (prog.tensors[ins.w if ins.op in programs else ins.tensor]
                 if ins.op in ("LD", "ST", "FILL", *programs) else None)
            what = f"{ev.tier} {ev.ins.op} ({sym}"
            what += f", {t.role} {list(t.shape)} {_stored_mb(t):.3g} MB)" if t else ")"
            top[what] = top.get(what, 0.0) + ev.cost.latency_s
    busy: dict[str, float] = {}
    energy_cat: dict[str, float] = {}
    for ev in events:
        key = f"{ev.tier}:{category(prog, ev.ins)}"
        busy[key] = busy.get(key, 0.0) + ev.cost.latency_s
        energy_cat[key] = energy_cat.get(key, 0.0) + ev.cost.energy_j
    whatif: dict[str, float] = {}
    present = {category(prog, ev.ins) for ev in events}
    zero = type(events[0].cost)() if events else None
    removals = {c: (c,) for c in CATEGORIES if c not in ("sync", "link_wait") and c in present}
    removals.update({g: cats for g, cats in GROUPS.items() if present & set(cats)})
    for name, cats in removals.items():
        def charge(tier, ins, _cats=cats):
            return zero if category(prog, ins) in _cats else charges.of(tier, ins)

        whatif[name] = _simulate(prog, charges, simulate, charge, record=False)[0]
    reprog = {"dynamic": {"matrices": 0, "cells": 0}, "spilled": {"matrices": 0, "cells": 0}}
    for tier in tiers.stationary(prog.hw):
        cpw = tier.config(prog.hw).cells_per_weight
        for ins in prog.streams.get(tier.name, []):
            if ins.op in ("PROG", "PROGS") and ins.resident == 0:
                t = prog.tensors[ins.w]
                kind = "spilled" if t.role == "const" else "dynamic"
                reprog[kind]["matrices"] += 1
                reprog[kind]["cells"] += math.prod(t.shape) * cpw
    resident_cells = sum(rep["program_load"]["writes"].values())
    top_cp = dict(sorted(top.items(), key=lambda kv: -kv[1])[:5])
    return {"makespan_check_s": makespan, "critical_path_s": cp, "critical_path_top_s": top_cp, "busy_s": busy,
            "energy_by_category_j": energy_cat, "latency_without_s": whatif,
            "reprogrammed_per_inference": reprog, "resident_cells": resident_cells}


# ------------------------------------------------------------------------------------------------
# hardware sensitivity: one documented assumption changed at a time


def _adc_per_column(d: dict[str, Any]) -> None:
    """One ADC per crossbar column (b.6's v0 shortcut) instead of Table 1's one ADC per crossbar."""
    for tier in tiers.stationary():
        key = tier.name
        if key in d and "columns_per_adc" in d[key]:
            d[key]["columns_per_adc"] = 1


def _free_memory(d: dict[str, Any]) -> None:
    """Every bandwidth of the memory system (buffer ports, TSV, per-tier links, off-chip) x 1e6: data
    movement takes (almost) no time; capacities and energies unchanged."""
    m = d["memory"]
    for key, v in list(m.items()):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and ("bandwidth" in key or "width_bits" in key):
            m[key] = v * 10**6
    if isinstance(m.get("links"), dict):
        m["links"] = {t: v * 1e6 for t, v in m["links"].items()}


def _ungated(d: dict[str, Any]) -> None:
    """Every tier draws its static power over the whole run (no power gating)."""
    for block in d.values():
        if isinstance(block, dict) and "power_gated" in block:
            block["power_gated"] = False


def _weights_offchip(d: dict[str, Any]) -> None:
    """No weight region in the M tier: streamed weights are read from off-chip memory every inference."""
    if "weight_bytes" in d["memory"]:
        d["memory"]["weight_bytes"] = 0


#: PUMA's ReRAM crossbar read cycle (§b.2 "100 ns x 1.7 mW = 170 pJ")
PUMA_READ_NS = 100.0


def _reram_read_per_puma_cycle(d: dict[str, Any]) -> None:
    """ReRAM array energy per column-scan cycle at PUMA's whole 100 ns read (170 pJ) instead of 1.7 mW over
    our 10 ns cycle (the reading before §h.2)."""
    t = d["reram_pim"]
    t["crossbar_read_energy_pj"] *= PUMA_READ_NS / (1e3 / t["freq_mhz"])


def _laser_plus_3db(d: dict[str, Any]) -> None:
    """Laser power for 3 dB more insertion loss on the critical path (the preset's IL_critical = 6 dB is our
    assumption; SimPhony's Eq. 1 is linear in 10^(IL/10))."""
    d["photonic"]["laser_power_mw"] *= 10 ** 0.3


SCENARIOS = {
    "adc_per_column": ([_adc_per_column], "PIM with one ADC per crossbar column (columns_per_adc = 1, b.6's "
                       "v0 shortcut) instead of Table 1's one ADC per crossbar (128 columns take turns)"),
    "free_memory": ([_free_memory], "memory-system bandwidths (buffer, TSV, links, off-chip) made unlimited"),
    "adc_per_column+free_memory": ([_adc_per_column, _free_memory], "one ADC per PIM column and unlimited "
                                   "memory-system bandwidth together"),
    "ungated": ([_ungated], "no power gating: every tier's static power over the whole run (the preset gates "
                "idle tiers, §h.2: the paper charges no static power over idle time)"),
    "weights_offchip": ([_weights_offchip], "no M-tier weight region: photonic and digital GEMM weights read "
                        "from off-chip memory every inference (the preset keeps them resident, §h.2)"),
    "reram_read_per_puma_cycle": ([_reram_read_per_puma_cycle], "ReRAM array energy per column-scan cycle = "
                                  "PUMA's 170 pJ per 100 ns read, not 1.7 mW x our 10 ns cycle"),
    "laser_plus_3db": ([_laser_plus_3db], "photonic laser power for 3 dB more critical-path insertion loss "
                       "(IL_critical 9 dB instead of the preset's assumed 6 dB)"),
}


def scenario_hw(base: str, name: str) -> HardwareConfig:
    """The description of a scenario, in memory (the compiler takes it as it is)."""
    from h3pc.hardware.schema import parse_hardware

    d = load_hardware(base).to_dict()
    for fn in SCENARIOS[name][0]:
        fn(d)
    d["name"] = f"{d['name']}-{name}"
    return parse_hardware(d, f"scenario {name}")


# ------------------------------------------------------------------------------------------------
# the rows: homogeneous targets, the paper's equal split, the compiler's naive split, stage one's front


def stage_problem(path: Path, hw: str | HardwareConfig):
    """Stage one's problem for the model, as the partition pass builds it (layers, split granularity)."""
    from h3pc.frontend.importer import import_model
    from h3pc.transforms.stage1.problem import build_problem

    imported = import_model(str(path), {})
    config = hw if isinstance(hw, HardwareConfig) else load_hardware(hw)
    return build_problem(imported.module, imported.weights, config)


def equal_split(problem) -> list[dict[str, int]]:
    """The paper's equal split, in chunks per tier per layer: a static layer's chunks in thirds over the three
    tiers of Table 4 (the compiler's naive split restricted to them), a dynamic layer whole on the tier that
    streams both operands (the photonic one), as the naive mapping puts it."""
    from h3pc.transforms.stage1.mappings import naive_split

    return naive_split(problem, among={tiers.target_tier(t) for t in HOMOGENEOUS})


def write_pins(problem, chunks: list[dict[str, int]], path: Path) -> Path:
    """A placement file (`--placement-in`) that pins every layer to these chunks."""
    from h3pc.transforms.stage1.placement import FORMAT

    layers = [{"node": layer.node, "split": {t: c * layer.chunk for t, c in split.items() if c}}
              for layer, split in zip(problem.layers, chunks)]
    path.write_text(json.dumps({"format": FORMAT, "version": 1, "layers": layers}, indent=1))
    return path


def mac_shares(problem, chunks: list[dict[str, int]]) -> dict[str, float]:
    """Share of the model's GEMM MACs on each tier under a split."""
    macs: dict[str, float] = {}
    for layer, rows in zip(problem.layers, problem.rows(chunks)):
        for t, r in rows.items():
            macs[t] = macs.get(t, 0.0) + float(layer.g) * layer.m * layer.k * r
    total = sum(macs.values()) or 1.0
    return {t: v / total for t, v in macs.items()}


def replication_option() -> str | None:
    """None when this version compiles with PIM weight replication on request (`h3pc --pim-replication`, the
    compile API's StageOneOptions.replication); otherwise why not."""
    import dataclasses

    from h3pc.cli import build_parser
    from h3pc.transforms.stage1.partition import StageOneOptions

    if not any("--pim-replication" in a.option_strings for a in build_parser()._actions):
        return "`h3pc` has no --pim-replication option"
    if "replication" not in {f.name for f in dataclasses.fields(StageOneOptions)}:
        return "`h3pc --pim-replication` exists but the compile API (StageOneOptions) has no replication field"
    return None


def _stage1_options(mapping: str = "cpsat", points: int = 1, solve_time: float = 2.0, pins: Path | None = None,
                    replication: bool | None = None):
    """Stage one's options (objective latency); `replication` None: a version without the option."""
    from h3pc.transforms.stage1.cpsat import SolverOptions
    from h3pc.transforms.stage1.mappings import SearchOptions
    from h3pc.transforms.stage1.partition import StageOneOptions

    search = SearchOptions("latency", points, solver=SolverOptions(solve_time, 2, 0))
    extra = {"replication": replication} if replication is not None else {}
    return StageOneOptions(mapping, "latency", search, str(pins) if pins else None, **extra)


def run_compiled(path: Path, target: str, hw: str | HardwareConfig, detail: bool = True,
                 stage1=None) -> dict[str, Any]:
    """Compile one row and read its estimate (and, with `detail`, the analysis of its schedule)."""
    t = time.perf_counter()
    c = compile_model(str(path), target, hw=hw, stage1=stage1)
    compile_s = time.perf_counter() - t
    rep = estimate(c.program)
    rep.pop("layers", None)  # per-node detail: large and not needed here
    out: dict[str, Any] = {"report": rep, "compile_s": compile_s, "timings": c.timings}
    if c.stage1 is not None:
        s = c.stage1
        out["stage1"] = {"front": [{"label": p.label, "latency_s": p.latency_s, "energy_j": p.energy_j,
                                    "mac_share": mac_shares(s.problem, p.chunks), "chunks": [dict(c) for c in p.chunks],
                                    **({"status": p.solve.status, "solve_s": p.solve.wall_s} if p.solve else {})}
                                   for p in s.front],
                         "chosen": {"label": s.chosen.label, "latency_s": s.chosen.latency_s,
                                    "energy_j": s.chosen.energy_j,
                                    "mac_share": mac_shares(s.problem, s.chosen.chunks)},
                         "wall_s": c.timings.get("stage-one", 0.0)}
    if detail:
        out["analysis"] = analyse(c.program, rep)
    del c
    gc.collect()
    return out


def run_row(path: Path, row: str, hw: str | HardwareConfig, tmp: Path, detail: bool = True,
            replication: bool | None = None) -> dict[str, Any]:
    """One row of the table: a homogeneous target, the paper's equal split (pinned), or the naive split;
    `replication` False: the paper's dense packing, True: PIM weights may be replicated (None: a version
    without the option)."""
    if row == "equal-split":
        problem = stage_problem(path, hw)
        split = equal_split(problem)
        name = (hw if isinstance(hw, str) else hw.name).replace("/", "_")
        pins = write_pins(problem, split, tmp / f"equal-split-{name}.json")
        out = run_compiled(path, "hybrid", hw, detail, _stage1_options(pins=pins, replication=replication))
        out["mac_share"] = mac_shares(problem, split)
        return out
    if row == "naive":
        return run_compiled(path, "hybrid", hw, detail, _stage1_options("naive", replication=replication))
    return run_compiled(path, row, hw, detail, _stage1_options(replication=replication))


def run_front(path: Path, hw: str | HardwareConfig, tmp: Path, points: int, solve_time: float,
              replication: bool | None = None) -> dict[str, Any]:
    """Stage one's CP-SAT front (objective latency, `points` points); the program of its fastest point, and
    of the point nearest the paper's PO row (pinned through a placement file, when it is another point)."""
    t = time.perf_counter()
    fastest = run_compiled(path, "hybrid", hw, True, _stage1_options("cpsat", points, solve_time,
                                                                     replication=replication))
    wall = time.perf_counter() - t
    front = fastest["stage1"]["front"]
    po = PAPER["po"]
    near = min(range(len(front)), key=lambda i: math.hypot(
        math.log(front[i]["latency_s"] * 1e3 / po["latency_ms"]), math.log(front[i]["energy_j"] * 1e3 / po["energy_mj"])))
    out = {"front": front, "search_wall_s": wall, "stage_one_s": fastest["stage1"]["wall_s"], "nearest": near,
           "fastest": fastest}
    chosen = fastest["stage1"]["chosen"]
    if (front[near]["latency_s"], front[near]["energy_j"]) == (chosen["latency_s"], chosen["energy_j"]):
        out["po"] = fastest
    else:  # that point's chunks pinned: stage one only re-decides which PIM weights stream
        problem = stage_problem(path, hw)
        pins = write_pins(problem, front[near]["chunks"], tmp / f"po-point-{replication}.json")
        out["po"] = run_compiled(path, "hybrid", hw, True, _stage1_options(pins=pins, replication=replication))
    return out
# ------------------------------------------------------------------------------------------------
# comparison and explanation


def _fmt_share(parts: dict[str, float], total: float, top: int = 4) -> str:
    items = sorted(((k, v) for k, v in parts.items() if v > 0), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{k} {v / total:.0%}" for k, v in items) if total > 0 else "-"


def _by_category(energy_cat: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, v in energy_cat.items():
        cat = key.split(":", 1)[1]
        out[cat] = out.get(cat, 0.0) + v
    return out


def rel(ours: float, paper: float) -> float:
    return (ours - paper) / paper


def compare(row: str, rep: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Our absolute latency (ms) and energy (mJ) of a row next to Table 4's."""
    out = {}
    for metric, key, pkey, scale, _ in METRICS:
        ours, paper = rep[key] * scale, PAPER[row][pkey]
        out[metric] = {"ours": ours, "paper": paper, "rel_diff": rel(ours, paper),
                       "within": abs(rel(ours, paper)) <= THRESHOLD}
    return out


def linear_split(res: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The paper's model of the equal split (§h.1) applied to our homogeneous rows: max(T)/3, sum(E)/3."""
    n = len(HOMOGENEOUS)
    return {"latency_s": max(res[t]["report"]["latency_s"] for t in HOMOGENEOUS) / n,
            "energy_j": sum(res[t]["report"]["energy_j"] for t in HOMOGENEOUS) / n}


def explain(row: str, metric: str, r: dict[str, Any], scen: dict[str, dict[str, float]],
            models: list[tuple[str, str, dict[str, float], str]] = ()) -> dict[str, Any]:
    """What drives a row's deviation from Table 4 in one metric: the single removal (instruction category,
    energy component), hardware assumption change or other model (`models`: (kind, name, its latency_s and
    energy_j, the assumption), e.g. the paper's linear split, the paper's search method) that brings our
    absolute number closest to the paper's."""
    _, key, pkey, scale, unit = next(m for m in METRICS if m[0] == metric)
    ours, paper = r["report"][key], PAPER[row][pkey] / scale
    a = r["analysis"]
    lines = [f"{row} {metric}: ours {ours * scale:.4g} {unit} vs paper {paper * scale:.4g} {unit} "
             f"({rel(ours, paper):+.0%}, ours {'higher' if ours > paper else 'lower'})"]
    cands: list[tuple[str, str, float, str]] = []  # (kind, name, our number after the change, assumption)
    if metric == "latency":
        lines.append(f"  critical path: {_fmt_share(a['critical_path_s'], ours, 5)}")
        lines.append("    largest items: " + "; ".join(f"{k} {v * 1e3:.3g} ms"
                                                     for k, v in list(a["critical_path_top_s"].items())[:3]))
        for name, v in a["latency_without_s"].items():
            if v != ours and v > 0:
                cands.append(("without", name, v, CATEGORIES.get(name) or GROUP_NOTES[name]))
    else:
        br = r["report"]["energy_breakdown_j"]
        lines.append(f"  energy: {_fmt_share(br, ours, 5)}")
        for comp, v in br.items():
            if v > 0 and ours - v > 0:
                cands.append(("without component", comp, ours - v, COMPONENT_NOTES.get(comp, comp)))
        for cat, v in _by_category(a["energy_by_category_j"]).items():
            if cat != "sync" and v > 0 and ours - v > 0:
                cands.append(("without", cat, ours - v, CATEGORIES[cat]))
    for name, vals in scen.items():
        cands.append(("hardware", name, vals[key], SCENARIOS[name][1]))
    for kind, name, vals, note in models:
        cands.append((kind, name, vals[key], note))
    if row == "po" and dominated_by(row):  # a searched row that its own table beats
        lines.append(f"  note: in Table 4 the PO row is dominated by the paper's own {', '.join(dominated_by(row))} "
                     "row (as fast and as lean or better): the paper's search did not reach that corner")
    if metric == "energy" and ours < paper:  # removals only lower it: which component would have to grow
        br = r["report"]["energy_breakdown_j"]
        need = sorted(((c, 1 + (paper - ours) / v) for c, v in br.items() if v > 0), key=lambda kv: kv[1])[:3]
        lines.append("  to close the gap alone, a component would have to grow: "
                     + "; ".join(f"{c} x{f:.2g}" for c, f in need))
    base = abs(math.log(ours / paper))
    cands.sort(key=lambda c: abs(math.log(c[2] / paper)))
    driver = None
    if cands and abs(math.log(cands[0][2] / paper)) < base:
        kind, name, v, note = cands[0]
        after = rel(v, paper)
        driver = {"kind": kind, "name": name, "after": v * scale, "rel_diff_after": after,
                  "within_after": abs(after) <= THRESHOLD, "assumption": note}
        lines.append(f"  driver: {kind} {name}: {ours * scale:.4g} -> {v * scale:.4g} {unit} ({after:+.0%} from "
                     f"the paper; {'within' if abs(after) <= THRESHOLD else 'still outside'} {THRESHOLD:.0%})")
        lines.append(f"    assumption: {note}")
        others = [c for c in cands[1:] if abs(math.log(c[2] / paper)) < base][:3]
        if others:
            lines.append("    next: " + "; ".join(f"{k} {n} -> {v2 * scale:.4g} ({rel(v2, paper):+.0%})"
                                                 for k, n, v2, _ in others))
    else:
        lines.append("  no single removal or hardware change brings the number closer to the paper's; "
                     "see the shares above")
    return {"text": lines, "driver": driver,
            "candidates": [{"kind": k, "name": n, "after": v * scale, "assumption": note}
                           for k, n, v, note in cands]}


#: what the hybrid (PO) point is compared with: the homogeneous rows, the equal split and the homogeneous
#: rows' mean (the paper's "6.42x lower latency than the three homogeneous mappings averaged")
AGAINST = (*HOMOGENEOUS, "equal-split", "homogeneous mean")


def advantage(lat_en: dict[str, tuple[float, float]], po: tuple[float, float]) -> dict[str, dict[str, float]]:
    """How many times faster / leaner the hybrid (PO) point is than each row of AGAINST (>1: better)."""
    rows = dict(lat_en)
    rows["homogeneous mean"] = tuple(sum(rows[t][i] for t in HOMOGENEOUS) / len(HOMOGENEOUS) for i in (0, 1))
    return {t: {"latency_x": rows[t][0] / po[0], "energy_x": rows[t][1] / po[1]} for t in AGAINST}


def paper_advantage() -> dict[str, dict[str, float]]:
    po = PAPER["po"]
    return advantage({t: (PAPER[t]["latency_ms"], PAPER[t]["energy_mj"]) for t in TARGET_ROWS},
                     (po["latency_ms"], po["energy_mj"]))


def dominated_by(row: str) -> list[str]:
    """The paper's own rows that are at least as fast and as lean as `row` (Table 4)."""
    p = PAPER[row]
    return [t for t in PAPER if t != row and PAPER[t]["latency_ms"] <= p["latency_ms"]
            and PAPER[t]["energy_mj"] <= p["energy_mj"]]


def ratios_of(lat_en: dict[str, tuple[float, float]]) -> dict[str, dict[str, float]]:
    """SRAM : ReRAM : photonic (photonic = 1) of latency and energy."""
    ph = lat_en["photonic"]
    return {"latency": {t: lat_en[t][0] / ph[0] for t in HOMOGENEOUS},
            "energy": {t: lat_en[t][1] / ph[1] for t in HOMOGENEOUS}}


NSGA2_NOTE = ("the search method: the paper's NSGA-II (Alg. 1; `--mapping nsga2`, same budget) instead of "
              "CP-SAT; a genetic search need not reach the front's corners, so its point nearest the paper's PO "
              "can lie off our CP-SAT front")


def run_nsga2(path: Path, hw: str | HardwareConfig, solve_time: float, replication: bool | None) -> dict[str, Any]:
    """Stage one with the paper's search method: its front (stage one's predictions) and the point nearest
    the paper's PO row."""
    t = time.perf_counter()
    r = run_compiled(path, "hybrid", hw, False, _stage1_options("nsga2", solve_time=solve_time,
                                                                 replication=replication))
    front = r["stage1"]["front"]
    po = PAPER["po"]
    near = min(front, key=lambda p: math.hypot(math.log(p["latency_s"] * 1e3 / po["latency_ms"]),
                                               math.log(p["energy_j"] * 1e3 / po["energy_mj"])))
    return {"front": [{k: v for k, v in p.items() if k != "chunks"} for p in front],
            "nearest": {k: v for k, v in near.items() if k != "chunks"}, "wall_s": time.perf_counter() - t}


def verify(path: Path, seq: int, seed: int, hw: str) -> dict[str, Any]:
    """The built model through onnxruntime and through the ideal emulator of the hybrid program."""
    import onnxruntime as ort

    from h3pc.runtime.emulator import Emulator

    ids = np.random.default_rng(seed + 1).integers(0, PYTHIA_70M["vocab"], (1, seq), dtype=np.int64)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ref = sess.run(["logits"], {"input_ids": ids})[0]
    del sess
    prog = compile_model(str(path), "hybrid", hw=hw).program
    out, _, _ = Emulator(prog, ideal=True).run({"input_ids": ids})
    err = float(np.max(np.abs(out["logits"] - ref)))
    return {"max_abs_err": err, "ref_max_abs": float(np.max(np.abs(ref)))}




# ------------------------------------------------------------------------------------------------
# output: each table once, as text for the terminal and as markdown for benchmarks/results/fidelity.md


def text_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = lambda cells: "  ".join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}"  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), *(line([str(c) for c in r]) for r in rows)])


def md_table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "/") for c in r) + " |" for r in rows]
    return "\n".join(out)


class Output:
    """Sections of text and tables, printed as they come and kept for the markdown file."""

    def __init__(self) -> None:
        self.md: list[str] = []

    def title(self, text: str) -> None:
        print(f"\n{text}")
        self.md.append(f"\n## {text}\n")

    def text(self, text: str) -> None:
        print(text)
        self.md.append(text + "\n")

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        print(text_table(headers, rows))
        self.md.append(md_table(headers, rows) + "\n")

    def block(self, lines: list[str]) -> None:
        print("\n".join(lines))
        self.md.append("```\n" + "\n".join(lines) + "\n```\n")


def _num(v: float) -> str:
    return f"{v:.4g}"


def _pct(v: float) -> str:
    return f"{v:+.0%}"


def _shares(share: dict[str, float]) -> str:
    return ", ".join(f"{t} {v:.0%}" for t, v in sorted(share.items(), key=lambda kv: -kv[1]) if v >= 0.005)


def sweep(seqs: list[int], args: argparse.Namespace, tmp: Path, done: dict[int, dict[str, Any]],
          replication: bool | None) -> dict[int, Any]:
    """Latency and energy of the homogeneous rows and the equal split at each sequence length."""
    out: dict[int, Any] = {}
    for seq in progress.track(seqs, "fidelity: sequence-length sweep", unit="S"):
        if seq in done:
            out[seq] = done[seq]
            continue
        path = tmp / f"pythia70m_S{seq}.onnx"
        build_pythia70m(path, seq, args.seed, lm_head=not args.no_lm_head)
        out[seq] = {row: {k: v for k, v in run_row(path, row, args.hw, tmp, False, replication)["report"].items()
                          if k in ("latency_s", "energy_j")} for row in TARGET_ROWS}
        path.unlink()
    return out


def parse_seqs(text: str) -> list[int]:
    if text.strip().lower() in ("", "none", "off"):
        return []
    seqs = [int(s) for s in text.split(",") if s.strip()]
    if any(s < 1 for s in seqs):
        raise SystemExit("--seq-sweep: sequence lengths must be positive")
    return seqs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seq", type=int, default=32,
                    help="sequence length (tokens per inference), default 32: see the docstring for why")
    ap.add_argument("--seq-sweep", default="16,32,48,64,128", metavar="S,S,...",
                    help="also print every row at these sequence lengths (default 16,32,48,64,128; 'none': skip)")
    ap.add_argument("--seed", type=int, default=0, help="numpy seed of the random weights")
    ap.add_argument("--hw", default="h3pimap", help="hardware description (preset name or YAML path)")
    ap.add_argument("--no-lm-head", action="store_true",
                    help="leave out the 512x50304 LM head (the paper's 24 linear layers do not name it)")
    ap.add_argument("--points", type=int, default=5, help="points of stage one's front (at least 3), default 5")
    ap.add_argument("--solve-time", type=float, default=30.0,
                    help="search budget in seconds of stage one's front and of NSGA-II, default 30")
    ap.add_argument("--verify", action="store_true",
                    help="also run the model in onnxruntime and the ideal emulator (hybrid program) and compare")
    ap.add_argument("--out", type=Path, default=RESULTS / "fidelity.json")
    ap.add_argument("--md", type=Path, default=RESULTS / "fidelity.md")
    args = ap.parse_args()
    if args.points < 3:
        ap.error("--points must be at least 3 (a front, not a single point)")
    seqs = parse_seqs(args.seq_sweep)
    t_start = time.perf_counter()

    res: dict[str, dict[str, Any]] = {}
    scen_res: dict[str, dict[str, dict[str, Any]]] = {}
    no_replication = replication_option()  # None: available
    dense = None if no_replication else False  # the paper's dense packing, where the option exists
    with tempfile.TemporaryDirectory(prefix="h3pc-fidelity-") as tmpdir:
        tmp = Path(tmpdir)
        path = tmp / "pythia70m_shaped.onnx"
        t = time.perf_counter()
        with progress.task(f"fidelity: build the Pythia-70M-shaped model (S = {args.seq})"):
            model = build_pythia70m(path, args.seq, args.seed, lm_head=not args.no_lm_head)
        model["build_s"] = time.perf_counter() - t
        for row in progress.track((*TARGET_ROWS, *EXTRA_ROWS), "fidelity: rows", unit="row"):
            res[row] = run_row(path, row, args.hw, tmp, replication=dense)
        with progress.task(f"fidelity: stage one's front ({args.points} points, {args.solve_time:g} s)"):
            front = run_front(path, args.hw, tmp, args.points, args.solve_time, replication=dense)
        res["po"] = front["po"]
        with progress.task(f"fidelity: the paper's search, NSGA-II ({args.solve_time:g} s)"):
            ga = run_nsga2(path, args.hw, args.solve_time, dense)
        if args.verify:
            model["verify"] = verify(path, args.seq, args.seed, args.hw)
        for name in progress.track(list(SCENARIOS), "fidelity: hardware scenarios", unit="scenario"):
            hw = scenario_hw(args.hw, name)
            scen_res[name] = {row: run_row(path, row, hw, tmp, detail=False, replication=dense)
                              for row in TARGET_ROWS}
        rep_res: dict[str, Any] | None = None
        if no_replication is None:
            rep_res = {row: run_row(path, row, args.hw, tmp, detail=False, replication=True)
                       for row in progress.track(TARGET_ROWS, "fidelity: rows with replication", unit="row")}
            with progress.task("fidelity: stage one's front with replication"):
                rep_res["front"] = run_front(path, args.hw, tmp, args.points, args.solve_time, replication=True)
            rep_res["po"] = rep_res["front"]["po"]
        path.unlink()
        here = {row: {k: res[row]["report"][k] for k in ("latency_s", "energy_j")} for row in TARGET_ROWS}
        sweep_res = sweep(seqs, args, tmp, {args.seq: here}, dense)
    build_s = time.perf_counter() - t_start

    # ---- comparison -----------------------------------------------------------------------------
    comp = {row: compare(row, res[row]["report"]) for row in (*TARGET_ROWS, "po")}
    scen = {name: {row: {k: r["report"][k] for k in ("latency_s", "energy_j")} for row, r in rows.items()}
            for name, rows in scen_res.items()}
    linear = linear_split(res)
    models = {"equal-split": [("model", "linear split", linear, LINEAR_NOTE)],
              "po": [("search", "nsga2", ga["nearest"], NSGA2_NOTE)]}
    explanations: dict[str, Any] = {}
    for row in (*TARGET_ROWS, "po"):
        for metric, *_ in METRICS:
            if not comp[row][metric]["within"]:
                explanations[f"{row}:{metric}"] = explain(
                    row, metric, res[row], {n: scen[n][row] for n in scen if row in scen[n]}, models.get(row, []))
    lat_en = {t: (res[t]["report"]["latency_s"] * 1e3, res[t]["report"]["energy_j"] * 1e3) for t in TARGET_ROWS}
    po_ours = (res["po"]["report"]["latency_s"] * 1e3, res["po"]["report"]["energy_j"] * 1e3)
    ours_ratios = ratios_of(lat_en)
    paper_ratios = ratios_of({t: (PAPER[t]["latency_ms"], PAPER[t]["energy_mj"]) for t in HOMOGENEOUS})

    # ---- output ---------------------------------------------------------------------------------
    o = Output()
    o.md.append("# Fidelity against Table 4 (Pythia-70M)\n")
    shown = [a for i, a in enumerate(sys.argv[1:]) if not a.startswith(("--out", "--md"))
             and not (i and sys.argv[i] in ("--out", "--md"))]  # no local paths in the results file
    o.md.append(f"Produced by `{' '.join(['python benchmarks/fidelity.py', *shown])}`; "
                "see docs/hardware-model.md, \"Fidelity against Table 4\".\n")
    workload = (f"Workload: Pythia-70M-shaped model, {model['params'] / 1e6:.1f} M parameters, sequence length "
                f"{args.seq}, batch 1, "
                + ("LM head omitted" if args.no_lm_head else "untied LM head 512x50304 included")
                + f", seed {args.seed}, hardware {args.hw}. Why S = 32 with the head: Table 1's one ADC per PIM "
                "crossbar makes SRAM's 10.21 ms about 32 tokens' worth of 10.24 us steps only with the LM head "
                "counted, and the photonic 0.91 ms bounds S at 48 with the head (its peak); see the "
                "sequence-length sweep below. Rotary embeddings omitted (elementwise digital work only).")
    o.text(workload)
    if "verify" in model:
        v = model["verify"]
        o.text(f"verify: ideal emulator (hybrid program) vs onnxruntime max |diff| {v['max_abs_err']:.3g} "
               f"(max |logit| {v['ref_max_abs']:.3g})")

    o.title(f"Absolute latency and energy against Table 4 (dense packing; target: within {THRESHOLD:.0%})")
    rows = []
    for row in (*TARGET_ROWS, "po"):
        c = comp[row]
        name = row if row != "po" else f"PO (front point {front['nearest'] + 1} of {len(front['front'])})"
        rows.append([name, _num(c["latency"]["ours"]), _num(c["latency"]["paper"]), _pct(c["latency"]["rel_diff"]),
                     "yes" if c["latency"]["within"] else "NO", _num(c["energy"]["ours"]), _num(c["energy"]["paper"]),
                     _pct(c["energy"]["rel_diff"]), "yes" if c["energy"]["within"] else "NO"])
    for row in EXTRA_ROWS:
        r = res[row]["report"]
        rows.append([row + (" (all 4 tiers)" if row == "naive" else ""), _num(r["latency_s"] * 1e3), "-", "-", "-",
                     _num(r["energy_j"] * 1e3), "-", "-", "-"])
    o.table(["row", "ours ms", "paper ms", "diff", "<=30%", "ours mJ", "paper mJ", "diff", "<=30%"], rows)
    n_ok = sum(comp[r][m]["within"] for r in TARGET_ROWS for m, *_ in METRICS)
    o.text(f"{n_ok} of the {2 * len(TARGET_ROWS)} homogeneous and equal-split numbers are within {THRESHOLD:.0%}.")
    o.text("Equal split: " + _shares(res["equal-split"]["mac_share"]) + " of the GEMM MACs (pinned, "
           "dynamic attention on the photonic tier); naive: the compiler's --mapping naive over every tier able to "
           "run a layer, digital host included.")
    o.text(f"The paper's linear model (§h.1) applied to our homogeneous rows: equal split = max(T)/3 = "
           f"{linear['latency_s'] * 1e3:.4g} ms, sum(E)/3 = {linear['energy_j'] * 1e3:.4g} mJ (ours compiled: "
           f"{res['equal-split']['report']['latency_s'] * 1e3:.4g} ms, "
           f"{res['equal-split']['report']['energy_j'] * 1e3:.4g} mJ).")

    o.title(f"Stage one's front (CP-SAT, objective latency, {len(front['front'])} points, search wall time "
            f"{front['search_wall_s']:.1f} s of which stage one {front['stage_one_s']:.1f} s)")
    frows = []
    for i, p in enumerate(front["front"]):
        frows.append([f"{i + 1}{' *' if i == front['nearest'] else ''}", p["label"], _num(p["latency_s"] * 1e3),
                      _num(p["energy_j"] * 1e3), _shares(p["mac_share"]), p.get("status", "-")])
    o.table(["point", "label", "predicted ms", "predicted mJ", "GEMM MACs per tier", "solver"], frows)
    po_rep = res["po"]["report"]
    o.text(f"* nearest to the paper's PO ({PAPER['po']['latency_ms']} ms / {PAPER['po']['energy_mj']} mJ) in log "
           f"distance; its compiled program: {po_rep['latency_s'] * 1e3:.4g} ms / {po_rep['energy_j'] * 1e3:.4g} mJ "
           f"(stage one's prediction {front['front'][front['nearest']]['latency_s'] * 1e3:.4g} ms / "
           f"{front['front'][front['nearest']]['energy_j'] * 1e3:.4g} mJ).")

    gn = ga["nearest"]
    o.text(f"The paper's search (NSGA-II, {ga['wall_s']:.1f} s): {len(ga['front'])} front points, the nearest to "
           f"the paper's PO {gn['latency_s'] * 1e3:.4g} ms / {gn['energy_j'] * 1e3:.4g} mJ "
           f"({_shares(gn['mac_share'])}), predicted.")

    o.title("The hybrid's advantage: row / PO (>1: PO is faster or leaner)")
    ours_adv, pap_adv = advantage(lat_en, po_ours), paper_advantage()
    o.table(["against", "latency ours", "latency paper", "energy ours", "energy paper"],
            [[t, f"{ours_adv[t]['latency_x']:.3g}x", f"{pap_adv[t]['latency_x']:.3g}x",
              f"{ours_adv[t]['energy_x']:.3g}x", f"{pap_adv[t]['energy_x']:.3g}x"] for t in AGAINST])

    o.title("Ratios SRAM : ReRAM : photonic (photonic = 1), secondary")
    o.table(["metric", "", *HOMOGENEOUS],
            [r for m in ("latency", "energy") for r in (
                [m, "ours", *(f"{ours_ratios[m][t]:.3g}" for t in HOMOGENEOUS)],
                ["", "paper", *(f"{paper_ratios[m][t]:.3g}" for t in HOMOGENEOUS)],
                ["", "diff", *(_pct(rel(ours_ratios[m][t], paper_ratios[m][t])) for t in HOMOGENEOUS)])])

    o.title("Where the time and energy go (critical path share; top energy components)")
    brows = []
    for row in (*TARGET_ROWS, "po", *EXTRA_ROWS):
        r, a = res[row]["report"], res[row]["analysis"]
        rp = a["reprogrammed_per_inference"]
        brows.append([row, _fmt_share(a["critical_path_s"], r["latency_s"]),
                      _fmt_share(r["energy_breakdown_j"], r["energy_j"], 4),
                      f"{rp['dynamic']['cells'] + rp['spilled']['cells']:,}", f"{res[row]['compile_s']:.1f}"])
    o.table(["row", "latency", "energy", "cells written per inference", "compile s"], brows)

    o.title("Hardware-assumption sensitivity: latency ms / energy mJ per row")
    srows = [["as given", *(f"{res[r]['report']['latency_s'] * 1e3:.3g} / {res[r]['report']['energy_j'] * 1e3:.3g}"
                            for r in TARGET_ROWS)]]
    for name in SCENARIOS:
        srows.append([name, *(f"{scen[name][r]['latency_s'] * 1e3:.3g} / {scen[name][r]['energy_j'] * 1e3:.3g}"
                              for r in TARGET_ROWS)])
    srows.append(["paper", *(f"{PAPER[r]['latency_ms']} / {PAPER[r]['energy_mj']}" for r in TARGET_ROWS)])
    o.table(["scenario", *TARGET_ROWS], srows)
    o.text("; ".join(f"{n}: {SCENARIOS[n][1]}" for n in SCENARIOS))

    o.title(f"Numbers outside {THRESHOLD:.0%} and what drives each")
    if explanations:
        for e in explanations.values():
            o.block(e["text"])
    else:
        o.text(f"Every number is within {THRESHOLD:.0%} of the paper's.")

    if sweep_res:
        o.title("Sequence-length sweep: latency ms / energy mJ (diff from Table 4)")
        wrows = []
        for seq, rows_s in sorted(sweep_res.items()):
            cells, ok = [], 0
            for row in TARGET_ROWS:
                lat, en = rows_s[row]["latency_s"] * 1e3, rows_s[row]["energy_j"] * 1e3
                dl, de = rel(lat, PAPER[row]["latency_ms"]), rel(en, PAPER[row]["energy_mj"])
                ok += (abs(dl) <= THRESHOLD) + (abs(de) <= THRESHOLD)
                cells.append(f"{lat:.3g} ({dl:+.0%}) / {en:.3g} ({de:+.0%})")
            wrows.append([f"{seq}{' (main table)' if seq == args.seq else ''}", *cells, f"{ok}/{2 * len(TARGET_ROWS)}"])
        o.table(["S", *TARGET_ROWS, "within 30%"], wrows)

    o.title("With replication")
    replicated: dict[str, Any] | None = None
    if rep_res is None:
        o.text(f"with replication: not available in this version ({no_replication}; every row above packs one "
               "copy of each weight, Table 4's convention)")
    else:
        rf = rep_res["front"]
        rrows = []
        for row in (*TARGET_ROWS, "po"):
            v, d = rep_res[row]["report"], res[row]["report"]
            rrows.append([row, _num(v["latency_s"] * 1e3), _num(d["latency_s"] * 1e3),
                          _pct(rel(v["latency_s"] * 1e3, PAPER[row]["latency_ms"])), _num(v["energy_j"] * 1e3),
                          _num(d["energy_j"] * 1e3), _pct(rel(v["energy_j"] * 1e3, PAPER[row]["energy_mj"]))])
        o.table(["row", "replicated ms", "dense ms", "diff (paper)", "replicated mJ", "dense mJ", "diff (paper)"],
                rrows)
        o.text(f"Front with replication: {len(rf['front'])} points in {rf['search_wall_s']:.1f} s: "
               + "; ".join(f"{p['latency_s'] * 1e3:.4g} ms / {p['energy_j'] * 1e3:.4g} mJ ({_shares(p['mac_share'])})"
                           for p in rf["front"]) + f"; PO = point {rf['nearest'] + 1}.")
        rep_lat_en = {t: (rep_res[t]["report"]["latency_s"] * 1e3, rep_res[t]["report"]["energy_j"] * 1e3)
                      for t in TARGET_ROWS}
        rep_po = (rep_res["po"]["report"]["latency_s"] * 1e3, rep_res["po"]["report"]["energy_j"] * 1e3)
        rep_adv = advantage(rep_lat_en, rep_po)
        o.text("The hybrid's advantage (homogeneous row / PO), dense vs every mapping replicated, and the paper's:")
        o.table(["against", "latency dense", "latency replicated", "latency paper", "energy dense",
                 "energy replicated", "energy paper"],
                [[t, f"{ours_adv[t]['latency_x']:.3g}x", f"{rep_adv[t]['latency_x']:.3g}x",
                  f"{pap_adv[t]['latency_x']:.3g}x", f"{ours_adv[t]['energy_x']:.3g}x",
                  f"{rep_adv[t]['energy_x']:.3g}x", f"{pap_adv[t]['energy_x']:.3g}x"] for t in AGAINST])
        replicated = {"rows": {row: {k: rep_res[row]["report"][k] for k in ("latency_s", "energy_j")}
                               for row in (*TARGET_ROWS, "po")},
                      "comparison": {row: compare(row, rep_res[row]["report"]) for row in (*TARGET_ROWS, "po")},
                      "front": {k: v for k, v in rf.items() if k not in ("po", "fastest")}, "advantage": rep_adv}

    runtime = time.perf_counter() - t_start
    o.text(f"\nruntime {runtime:.1f} s (compiles and schedules {build_s:.1f} s)")

    out = {"model": {**PYTHIA_70M, **model, "seq": args.seq, "batch": 1, "seed": args.seed,
                     "lm_head": not args.no_lm_head, "rotary": "omitted", "hw": args.hw},
           "workload": workload, "paper_table4": PAPER, "threshold": THRESHOLD, "comparison": comp,
           "within": n_ok, "linear_split": linear, "nsga2": ga, "front": {k: v for k, v in front.items() if k not in ("po", "fastest")},
           "advantage": {"ours": ours_adv, "paper": pap_adv},
           "ratios": {"ours": ours_ratios, "paper": paper_ratios}, "explanations": explanations,
           "sensitivity": {n: {"change": SCENARIOS[n][1], "rows": scen[n]} for n in SCENARIOS},
           "seq_sweep": {str(s): v for s, v in sweep_res.items()},
           "packing": "dense (--pim-replication off)" if dense is False else "dense (no replication in this version)",
           "replication": replicated if replicated is not None else f"not available in this version: {no_replication}",
           "rows": res, "runtime_s": runtime}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, default=float))
    args.md.write_text("\n".join(o.md))
    print(f"wrote {args.out} and {args.md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
