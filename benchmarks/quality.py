"""Matched quality: latency, energy and quality of every mapping on models with a task metric.

    python benchmarks/quality.py [--models SUBSTR] [--solve-time S] [--precision-trials N]
                                 [--out benchmarks/results/quality.json]

Per model (metric, tolerance: the paper's matched-quality thresholds, docs/hardware-model.md a.5):
mlp_digits and cnn_digits (accuracy on eval/x, eval/y; 0.02), charlm_llama (bits per character on
the next byte, `bpc`, also given as perplexity; see CHARLM_BITS), minilm_l6_real (cosine of each sentence
embedding with the fp32 one; 0.01, plus the paraphrase-pair gap of tests/models/README.md) and
efficientnet_lite0_real (top-1 agreement with PyTorch on eval/images; 0.02). Mappings: each
homogeneous target (all GEMMs on one tier), naive (every layer split equally), stage one alone
(cpsat, min latency) and stage one + two (row remap and precision refinement against the metric).
Every program is emulated with h3pimap's noise (seed 0) on all evaluation samples; latency and energy
are the program's per-inference estimate (the emulator's charges, within 2%). The summary compares
stage one + two with the fastest homogeneous analog mapping (photonic, SRAM-PIM, ReRAM-PIM) that
meets the tolerance, and with the all-digital one.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from h3pc import progress

from common import DEV_MODELS, EXTRA_MODELS, RESULTS

from h3pc.quality import PAPER_BITS

#: The paper's LM threshold, ΔPPL <= 1.0 at Pythia-70M's PPL 20.329, is 0.0693 bits per *token*
#: (h3pc.quality.PAPER_BITS). charlm_llama predicts bytes, so its bits-per-character equivalent divides
#: by the characters per token of the paper's tokenizer on English prose: about 4 (the usual figure for
#: GPT-2-style BPE, which Pythia's GPT-NeoX tokenizer is; a documented assumption, not a measurement).
#: Reading a character as a token instead allows 4x the loss per character of text; the second charlm
#: entry reports that reading too, so the verdict's dependence on it is visible. The old ΔPPL <= 1.0
#: on charlm's PPL of 3.29 allowed 0.38 bits per character, 22x the per-text equivalent.
CHARS_PER_TOKEN = 4.0
CHARLM_BITS = PAPER_BITS / CHARS_PER_TOKEN

#: label -> (model, metric, tolerance, folder)
MODELS: dict[str, tuple[str, str, float, Path]] = {
    "mlp_digits": ("mlp_digits", "top1", 0.02, DEV_MODELS),
    "cnn_digits": ("cnn_digits", "top1", 0.02, DEV_MODELS),
    "charlm_llama": ("charlm_llama", "bpc", CHARLM_BITS, DEV_MODELS),
    "charlm_llama, a character read as a token": ("charlm_llama", "bpc", PAPER_BITS, DEV_MODELS),
    "minilm_l6_real": ("minilm_l6_real", "cosine", 0.01, EXTRA_MODELS),
    "efficientnet_lite0_real": ("efficientnet_lite0_real", "top1", 0.02, DEV_MODELS),
}
HOMOGENEOUS = ("photonic", "sram-pim", "reram-pim")
PAIRS = ((0, 1), (2, 3), (4, 5), (6, 7))  # minilm's paraphrase rows (tests/models/README.md)


def paraphrase_gap(emb) -> dict[str, float]:
    """Mean cosine over the paraphrase pairs and over every other off-diagonal pair."""
    import numpy as np

    e = emb.reshape(emb.shape[0], -1).astype(np.float64)
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    sim = e @ e.T
    pairs = {p for a, b in PAIRS for p in ((a, b), (b, a))}
    same = [sim[a, b] for a, b in pairs]
    other = [sim[a, b] for a in range(len(e)) for b in range(len(e)) if a != b and (a, b) not in pairs]
    return {"pairs": float(np.mean(same)), "other": float(np.mean(other))}


def measure(name: str, label: str, compiled, oracle, t_compile: float) -> dict[str, Any]:
    from h3pc.runtime.emulator import Emulator, estimate

    prog = compiled.program
    est = estimate(prog)
    t = time.perf_counter()
    q = oracle.measure(prog)
    row: dict[str, Any] = {"mapping": label, "latency_s": est["latency_s"], "energy_j": est["energy_j"],
                           "quality": q.to_json(), "compile_s": t_compile, "emulate_s": time.perf_counter() - t}
    if q.metric == "bpc":
        row["ppl"] = 2 ** q.value
        row["ppl_fp32"] = 2 ** q.reference
    if name == "minilm_l6_real":
        out = Emulator(prog, seed=oracle.seed).run(oracle.calib.feeds)[0]
        row["paraphrase"] = paraphrase_gap(next(iter(out.values())))
    stage = compiled.stage1
    if stage is not None and stage.stage2 is not None:
        row["stage2"] = {"remap_moves": len(stage.stage2.steps), "before": stage.stage2.before_quality.to_json()}
    if stage is not None and stage.precision is not None:
        pr = stage.precision
        row["precision"] = {"bits": pr.bits, "energy_saved": pr.energy_saved, "trials": pr.trials,
                            "before": pr.before, "after": pr.after}
    return row


def run_model(label: str, solve_time: float, trials: int) -> dict[str, Any]:
    from h3pc.compiler import compile_model
    from h3pc.quality import Oracle, load_calib, program_inputs
    from h3pc.transforms.stage1.cpsat import SolverOptions
    from h3pc.transforms.stage1.mappings import SearchOptions
    from h3pc.transforms.stage1.partition import StageOneOptions

    name, metric, tol, folder = MODELS[label]
    path, calib = str(folder / f"{name}.onnx"), str(folder / f"{name}.npz")
    search = SearchOptions(solver=SolverOptions(time_limit_s=solve_time, workers=2, seed=0, progress=False))
    runs: dict[str, Any] = {
        **{t: (t, None) for t in (*HOMOGENEOUS, "electronic")},
        "naive": ("hybrid", StageOneOptions("naive", search=search)),
        "stage one": ("hybrid", StageOneOptions(search=search)),
        "stage one + two": ("hybrid", StageOneOptions(search=search, calib=calib, metric=metric, tolerance=tol,
                                                      precision_trials=trials)),
    }
    rows, oracle = [], None
    for mapping, (target, opts) in runs.items():
        t = time.perf_counter()
        c = compile_model(path, target, stage1=opts)
        t_compile = time.perf_counter() - t
        if oracle is None:  # one calibration set and one fp32 reference for every mapping
            oracle = Oracle(load_calib(calib, program_inputs(c.program)), metric, tol, seed=0)
        rows.append(measure(name, mapping, c, oracle, t_compile))
        q = rows[-1]["quality"]
        print(f"  {name:<24} {mapping:<16} {rows[-1]['latency_s'] * 1e6:>11.2f} us {rows[-1]['energy_j'] * 1e6:>11.2f} uJ "
              f"{metric} {q['value']:.4f} (fp32 {q['reference']:.4f}) {'ok' if q['passed'] else 'FAILS'}"
              f"  [{t_compile:.1f} s compile]", flush=True)
    return {"model": name, "label": label, "metric": metric, "tolerance": tol, "rows": rows,
            "summary": summarise(rows)}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by = {r["mapping"]: r for r in rows}
    best = by["stage one + two"]
    meets = [by[t] for t in HOMOGENEOUS if by[t]["quality"]["passed"]]
    out: dict[str, Any] = {"stage12_meets": best["quality"]["passed"],
                           "homogeneous_meeting": [r["mapping"] for r in meets]}
    if meets:
        ref = min(meets, key=lambda r: r["latency_s"])
        out.update(best_homogeneous=ref["mapping"], speedup=ref["latency_s"] / best["latency_s"],
                   energy_ratio=best["energy_j"] / ref["energy_j"])
    dig = by["electronic"]
    out.update(speedup_vs_digital=dig["latency_s"] / best["latency_s"], energy_ratio_vs_digital=best["energy_j"] / dig["energy_j"])
    out["target_met"] = bool(best["quality"]["passed"] and meets and out["speedup"] >= 2 and out["energy_ratio"] <= 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="", help="only models whose name contains this")
    ap.add_argument("--solve-time", type=float, default=5.0)
    ap.add_argument("--precision-trials", type=int, default=24)
    ap.add_argument("--out", default=str(RESULTS / "quality.json"))
    args = ap.parse_args()
    results = []
    for label, (name, _, tol, folder) in progress.track(MODELS.items(), "quality: models", unit="model"):
        if args.models not in label:
            continue
        if not (folder / f"{name}.onnx").exists():
            print(f"  {label}: skipped ({folder / f'{name}.onnx'} not found; `make models` makes it)")
            continue
        results.append(run_model(label, args.solve_time, args.precision_trials))
        s = results[-1]["summary"]
        print(f"  {label} (tolerance {tol:.4g}): stage one + two {'meets' if s['stage12_meets'] else 'MISSES'} the tolerance; "
              + (f"{s['speedup']:.2f}x faster than {s['best_homogeneous']} (the fastest homogeneous mapping that "
                 f"meets it), energy x{s['energy_ratio']:.2f}; " if "speedup" in s else "no homogeneous analog mapping meets it; ")
              + f"{s['speedup_vs_digital']:.2f}x faster than all-digital, energy x{s['energy_ratio_vs_digital']:.2f}",
              flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
