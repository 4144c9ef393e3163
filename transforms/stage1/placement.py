"""Placement files: the decisions of stage one per layer, written with `--placement-out` and read back
(wholly or partly) with `--placement-in` as pins the solver must keep.

    {"format": "h3pc-placement", "version": 1, "hardware": NAME, "mapping": ..., "layers": [
      {"node": ONNX node, "op": nn op, "rows": n, "chunk": rows per chunk,
       "split": {tier: rows}, "streamed": [PIM tiers writing their part's weights before every use],
       "latency_s": ..., "energy_j": ..., "reason": ...}, ...]}

On input only `node` and `split` are read; every other field is informative.
"""

from __future__ import annotations

from typing import Any

from h3pc.diagnostics import H3pcError, shown, shown_name
from h3pc.transforms.stage1.cpsat import Point
from h3pc.transforms.stage1.problem import Problem

FORMAT = "h3pc-placement"


def to_json(problem: Problem, point: Point, mapping: str, pinned: set[int]) -> dict[str, Any]:
    layers = []
    streams = point.streams or [frozenset()] * len(problem.layers)
    for layer, split, streamed in zip(problem.layers, point.chunks, streams):
        parts = {t: layer.part(t, c, t in streamed) for t, c in split.items() if c}
        slowest = max(parts, key=lambda t: parts[t].latency_s)
        if layer.index in pinned:
            reason = "pinned by --placement-in"
        elif len(parts) == 1:
            reason = f"{mapping} ({point.label}): whole layer on {slowest}"
        else:
            reason = (f"{mapping} ({point.label}): split over {len(parts)} tiers, {slowest} finishes last "
                      f"({parts[slowest].latency_s * 1e9:.4g} ns)")
        if not layer.static:
            reason += "; dynamic operands: not split, not on " + ", ".join(sorted(layer.why_not) or ["-"])
        if streamed:
            reason += "; weights streamed (written before every use) on " + ", ".join(sorted(streamed))
        layers.append({
            "node": layer.node, "op": layer.op.name, "rows": layer.rows, "chunk": layer.chunk,
            "split": {t: c * layer.chunk for t, c in split.items() if c},
            "streamed": sorted(streamed),
            "latency_s": max(q.latency_s for q in parts.values()) + (layer.join.latency_s if len(parts) > 1 else 0.0),
            "energy_j": sum(q.energy_j for q in parts.values()) + (layer.join.energy_j if len(parts) > 1 else 0.0),
            "reason": reason,
        })
    return {"format": FORMAT, "version": 1, "hardware": problem.hw.name, "mapping": mapping,
            "point": point.label, "latency_s": point.latency_s, "energy_j": point.energy_j, "layers": layers}


def read_pins(path: str, problem: Problem) -> dict[int, dict[str, int]]:
    """Pins (layer index -> chunks per tier) from a placement file; errors name the entry."""
    from h3pc.files import MAX_TEXT_BYTES, parse_json, read_bytes

    data = parse_json(read_bytes(path, "--placement-in", MAX_TEXT_BYTES), str(path), "placement file")
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("layers"), list):
        raise H3pcError(f"{path}: not a placement file (expected \"format\": \"{FORMAT}\" and a \"layers\" list)")
    by_node = {layer.node: layer for layer in problem.layers}
    pins: dict[int, dict[str, int]] = {}
    for i, entry in enumerate(data["layers"]):
        where = f"{path}: layers[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("node"), str) \
                or not isinstance(entry.get("split"), dict):
            raise H3pcError(f"{where}: needs \"node\" (string) and \"split\" ({{tier: rows}})")
        layer = by_node.get(entry["node"])
        if layer is None:
            raise H3pcError(f"{where}: node '{shown_name(entry['node'])}' is not a GEMM-like layer "
                            f"of this model")
        split = entry["split"]
        for t, r in split.items():
            if t not in problem.names:
                raise H3pcError(f"{where}.split: unknown tier '{shown_name(t)}' "
                                f"(expected one of {', '.join(problem.names)})")
            if not isinstance(r, int) or isinstance(r, bool) or r < 0:
                raise H3pcError(f"{where}.split.{t}: {shown(r)} must be a non-negative integer")
            if r % layer.chunk:
                raise H3pcError(f"{where}.split.{t}: {r} rows is not a multiple of the layer's chunk "
                                f"({layer.chunk} rows)")
        if sum(split.values()) != layer.rows:
            raise H3pcError(f"{where}: split covers {sum(split.values())} rows, node '{layer.node}' has {layer.rows}")
        for t, r in split.items():
            if r and t not in layer.allowed:
                raise H3pcError(f"infeasible pin ({where}): node '{layer.node}' cannot run on {t}: "
                                f"{layer.why_not[t]}; pin it to one of {', '.join(layer.allowed)}")
            if r and not layer.splittable and r != layer.rows:
                raise H3pcError(f"{where}: node '{layer.node}' has dynamic operands and is never split; "
                                f"pin all {layer.rows} rows to one tier")
        pins[layer.index] = {t: r // layer.chunk for t, r in split.items() if r}
    return pins
