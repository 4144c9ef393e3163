"""Cost reports (JSON) and Perfetto traces from a scheduled run, for the compiler and the emulator alike.

One vocabulary for both (docs/reports.md): the engines are the machine's tiers and the DMA engine
(`HardwareConfig.engines`), each a report row under `tiers` and a trace track of the same name. An engine's
`busy_s` is the sum of its instructions' durations, i.e. of its trace slices, split by activity
(`ACTIVITY`): `compute_s` (PMM, MVM, GEMM, VOP), `load_s` (LD, FILL: operands and weights into the
engine or the buffer), `store_s` (ST), `program_s` (PROG: crossbar writes during a run) and
`sync_s` (SIGNAL, WAIT, HALT; zero with the presets); a tier's own instructions compute. `utilisation` = busy_s / latency_s. Energy:
`dynamic_energy_j` is what the engine's instructions cost (the trace's `energy_pj` summed over the
track), `static_energy_j` what the tier draws because it is powered: its static power over its busy
time when the description power-gates it (`power_gated`), else over the whole run (listed apart, with
the reason, under `static_energy`), and `energy_j` their sum.
"""

from __future__ import annotations

from typing import Any

from h3pc.backends.isa import PROGRAMS, Instr
from h3pc.backends.program import Program, entry_of, node_of, symbol_of
from h3pc.backends import tiers as registry
from h3pc.cost import COMPONENTS, Cost, power_gated
from h3pc.runtime.schedule import Event, lifetimes, max_overlap

#: what an instruction spends its engine's time on (report fields `<activity>_s`, trace `cat`)
#: (every other instruction is a tier's own: compute)
ACTIVITY = {"LD": "load", "FILL": "load", "ST": "store", "PROG": "program", "PROGS": "program", "SIGNAL": "sync",
            "WAIT": "sync", "HALT": "sync"}
ACTIVITIES = ("compute", "load", "store", "program", "sync")
#: why a tier costs energy while idle (the report's `static_energy.reason`)
STATIC_REASON = ("leakage and bias of the powered tiers: a power-gated tier (power_gated) draws its static "
                 "power only while busy (x busy_s), any other for the whole run (x latency); devices gated "
                 "per crossbar or core (PIM ADC leakage, photonic laser and integrators) are charged by the "
                 "instructions that use them")


def buffer_summary(prog: Program, events: list[Event], makespan: float) -> dict[str, Any]:
    """The report's view of the plan: capacity, peak use (addresses and live bytes), staging, spills."""
    life = lifetimes(prog, events, makespan)
    ts = prog.tensors
    planned = [t for t in life if ts[t].addr >= 0]
    peak_addr = max((ts[t].addr + ts[t].stored_bytes for t in planned), default=0)
    live_peak = max_overlap([life[t] for t in life], [ts[t].stored_bytes for t in life])
    fills = [ins.tensor for ins in prog.streams.get("dma", []) if ins.op == "FILL"]
    loaded = {ins.tensor for s in prog.streams.values() for ins in s if ins.op == "LD"}
    direct = [i for i in loaded if ts[i].role == "const" and ts[i].home == "offchip"]
    spilled = [i for i, t in enumerate(ts) if t.role in ("input", "value") and t.home == "offchip"]
    return {
        "capacity_bytes": prog.hw.memory.buffer_bytes,
        "peak_bytes": int(peak_addr),
        "live_peak_bytes": int(live_peak),
        "prefetch_depth": prog.hw.memory.prefetch_depth,
        "staged_weights": len(fills),
        "staged_bytes": int(sum(ts[t].stored_bytes for t in fills)),
        "direct_weight_bytes": int(sum(ts[t].stored_bytes for t in direct)),
        "held_weight_bytes": int(sum(t.stored_bytes for t in ts if t.home == "resident")),
        "weight_region_bytes": prog.hw.memory.weight_bytes,
        "spilled_tensors": len(spilled),
        "spilled_bytes": int(sum(ts[t].stored_bytes for t in spilled)),
    }


def _rows(prog: Program, ev: Event) -> int:
    """Output rows (columns of the layer's product) that a tier instruction computes."""
    out = getattr(ev.ins, "out", None)
    return prog.tensors[out].shape[-1] if out is not None else 0


def build(prog: Program, makespan: float, events: list[Event], load: Cost, writes: dict[str, int],
          source: str) -> dict[str, Any]:
    """The report of one inference (`source`: "compiler" estimate or "emulator" run)."""
    hw = prog.hw
    engines = hw.engines()
    tiers = {t: {"busy_s": 0.0, **{f"{a}_s": 0.0 for a in ACTIVITIES}, "utilisation": 0.0,
                 "energy_j": 0.0, "dynamic_energy_j": 0.0, "static_energy_j": 0.0} for t in engines}
    components = {c: 0.0 for c in COMPONENTS}
    layers: dict[str, dict[str, Any]] = {}
    for ev in events:
        e = ev.cost.energy_j
        row_t = tiers[ev.tier]
        row_t["busy_s"] += ev.cost.latency_s
        row_t[f"{ACTIVITY.get(ev.ins.op, 'compute')}_s"] += ev.cost.latency_s
        row_t["dynamic_energy_j"] += e
        for c, v in ev.cost.energy.items():
            components[c] = components.get(c, 0.0) + v
        entry = entry_of(prog, ev.ins)
        if entry is None:
            continue
        node = entry["node"] or entry["op"]
        row = layers.setdefault(node, {"node": node, "start_s": ev.start, "end_s": ev.end, "energy_j": 0.0,
                                       "tiers": {}})
        row["start_s"] = min(row["start_s"], ev.start)
        row["end_s"] = max(row["end_s"], ev.end)
        row["energy_j"] += e
        tier_row = row["tiers"].setdefault(ev.tier, {"rows": 0, "busy_s": 0.0, "energy_j": 0.0})
        tier_row["rows"] += _rows(prog, ev)
        tier_row["busy_s"] += ev.cost.latency_s
        tier_row["energy_j"] += e
    powered = {t.name: w for t in registry.of(hw) if (w := t.static_power_w(hw)) is not None}
    gated = {t.name for t in registry.of(hw) if power_gated(t.config(hw))}
    static = {t: w * (tiers[t]["busy_s"] if t in gated else makespan) for t, w in powered.items()}
    for t, v in tiers.items():
        v["static_energy_j"] = static.get(t, 0.0)
        v["energy_j"] = v["dynamic_energy_j"] + v["static_energy_j"]
        v["utilisation"] = v["busy_s"] / makespan if makespan > 0 else 0.0
    components["static"] += sum(static.values())
    energy = sum(v["energy_j"] for v in tiers.values())
    stationary = {t.name: t for t in registry.stationary(hw)}
    per_inference_writes = {t: 0 for t in stationary}
    spans: dict[str, list[tuple[int, int]]] = {t: [] for t in stationary}
    for ev in events:
        if ev.ins.op in PROGRAMS:
            shape = prog.tensors[ev.ins.w].shape
            tier = stationary[ev.tier]
            groups = shape[0] if len(shape) == 3 else 1
            copies = ev.ins.replicas  # type: ignore[attr-defined]
            per_inference_writes[ev.tier] += tier.program_cells(hw, shape) * copies
            base = ev.ins.base
            spans[ev.tier].append((base, base + copies * groups * tier.crossbars(hw, shape[-2], shape[-1])))
    worst = {t: max_overlap(v) for t, v in spans.items()}
    gemm_layers = [r for r in layers.values() if any(v["rows"] for v in r["tiers"].values())]
    return {
        "source": source,
        "hardware": {"name": hw.name, "digest": hw.digest},
        "latency_s": makespan,
        "energy_j": energy,
        "program_load": {
            "latency_s": load.latency_s,
            "energy_j": load.energy_j,
            "writes": {t: writes.get(t, 0) for t in stationary},
        },
        "per_inference_writes": per_inference_writes,
        "worst_crossbar_writes": worst,
        "inferences_to_wear_out": {t: stationary[t].wear_out(hw, w) for t, w in worst.items()},
        "tiers": tiers,
        "static_energy": {"energy_j": sum(static.values()), "reason": STATIC_REASON,
                          "tiers": {t: {"power_w": powered[t], "power_gated": t in gated, "energy_j": e}
                                    for t, e in static.items()}},
        "buffer_plan": buffer_summary(prog, events, makespan),
        "energy_breakdown_j": {c: v for c, v in components.items() if v},
        "layers": [{**r, "latency_s": r["end_s"] - r["start_s"]} for r in gemm_layers],
        "instructions": {t: sum(1 for ev in events if ev.tier == t) for t in engines},
    }


def trace(prog: Program, events: list[Event]) -> dict[str, Any]:
    """Chrome / Perfetto trace: one track per engine (the report's `tiers` rows, same names), one
    slice per instruction (times in microseconds; `cat` is its activity, as in the report's
    `<activity>_s` fields), so a track's slices sum to its row's `busy_s` and `dynamic_energy_j`."""
    out: list[dict[str, Any]] = [{"name": "process_name", "ph": "M", "pid": 0, "args": {"name": "h3pc"}}]
    engines = prog.hw.engines()
    for i, t in enumerate(engines):
        out.append({"name": "thread_name", "ph": "M", "pid": 0, "tid": i, "args": {"name": t}})
    tid = {t: i for i, t in enumerate(engines)}
    for ev in events:
        if ev.end <= ev.start and ev.cost.energy_j == 0 and ev.ins.op in ("SIGNAL", "WAIT", "HALT"):
            continue
        args = {"energy_pj": ev.cost.energy_j * 1e12}
        if (node := node_of(prog, ev.ins)) is not None:
            args["node"] = node
        out.append({"name": ev.ins.op, "cat": ACTIVITY.get(ev.ins.op, "compute"), "ph": "X", "pid": 0, "tid": tid[ev.tier],
                    "ts": ev.start * 1e6, "dur": (ev.end - ev.start) * 1e6, "args": args})
    return {"traceEvents": out, "displayTimeUnit": "ns"}


def _bytes(n: float) -> str:
    for scale, prefix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= scale:
            return f"{n / scale:.3g} {prefix}"
    return f"{int(n)} B"


def _si(value: float, unit: str) -> str:
    if value == 0:
        return f"0 {unit}"
    for scale, prefix in ((1, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p")):
        if abs(value) >= scale or scale == 1e-12:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value} {unit}"


def summary(rep: dict[str, Any]) -> str:
    """The human-readable cost table printed by h3pc and h3pc-run."""
    head = "estimate" if rep["source"] == "compiler" else f"emulated ({rep.get('mode', '')}, {rep.get('samples', 1)} sample(s))"
    lines = [f"{head}: latency {_si(rep['latency_s'], 's')} per inference, energy {_si(rep['energy_j'], 'J')}",
             f"  program load: {_si(rep['program_load']['latency_s'], 's')}, {_si(rep['program_load']['energy_j'], 'J')}, "
             f"{sum(rep['program_load']['writes'].values())} cell writes",
             f"  {'engine':<10} {'busy':>9} {'util':>6} {'compute':>9} {'load':>9} {'store':>9} {'program':>9} "
             f"{'energy':>9} {'static':>9}"]
    for t, v in rep["tiers"].items():  # busy = compute + load + store + program (+ sync, free)
        lines.append(f"  {t:<10} {_si(v['busy_s'], 's'):>9} {v['utilisation']:>6.1%} "
                     + " ".join(f"{_si(v[f'{a}_s'], 's'):>9}" for a in ("compute", "load", "store", "program"))
                     + f" {_si(v['dynamic_energy_j'], 'J'):>9} {_si(v['static_energy_j'], 'J'):>9}")
    st = rep.get("static_energy")
    if st and st["energy_j"]:
        powers = ", ".join(f"{t} {_si(v['power_w'], 'W')}" for t, v in st["tiers"].items() if v["power_w"])
        lines.append(f"  static {_si(st['energy_j'], 'J')}: power-gated tiers while busy, the others for the whole "
                     f"run ({powers})")
    b = rep.get("buffer_plan")
    if b:
        lines.append(f"  buffer: peak {_bytes(b['peak_bytes'])} of {_bytes(b['capacity_bytes'])}, "
                     f"{_bytes(b['held_weight_bytes'])} of weights held in the M tier "
                     f"({_bytes(b['weight_region_bytes'])}), "
                     f"{b['staged_weights']} weights staged ({_bytes(b['staged_bytes'])}), "
                     f"{b['spilled_tensors']} tensors spilled ({_bytes(b['spilled_bytes'])})")
    top = sorted(rep["energy_breakdown_j"].items(), key=lambda kv: -kv[1])[:5]
    lines.append("  top energy: " + ", ".join(f"{k} {_si(v, 'J')}" for k, v in top))
    return "\n".join(lines)
