"""The quality oracle against the corpus' own reference figures, and stage two's row remap bringing
failing mappings back within tolerance."""

from __future__ import annotations

import math

import pytest
import yaml

from conftest import MODELS, model_path
from h3pc.cli import main as h3pc_main
from h3pc.compiler import compile_model
from h3pc.frontend.importer import import_model
from h3pc.hardware.schema import load_hardware, parse_hardware
from h3pc.quality import Oracle, load_calib, program_inputs
from h3pc.transforms.stage1.cpsat import Point, SolverOptions
from h3pc.transforms.stage1.mappings import SearchOptions, cpsat_front
from h3pc.transforms.stage1.problem import build_problem
from h3pc.transforms.stage2.remap import row_remap

QUICK = SearchOptions(solver=SolverOptions(time_limit_s=1.0, progress=False))


def harsh():
    """A noisy photonic corner: 3-bit converters (Table 1 allows 4-6) with Lightening-Transformer's
    output noise x4 and phase noise 5 deg (docs/hardware-model.md c)."""
    d = load_hardware("h3pimap").to_dict()
    d["photonic"].update(in_bits=3, w_bits=3, output_noise_sigma=0.2, phase_noise_deg=5.0)
    d["name"] = "harsh-photonic"
    return parse_hardware(d, "test")


def oracle_for(name: str, prog, metric: str) -> Oracle:
    return Oracle(load_calib(MODELS / f"{name}.npz", program_inputs(prog)), metric)


def test_oracle_reproduces_the_corpus_reference_metrics() -> None:
    """The fp32 side of the oracle gives the manifest's figures: digits accuracy, char-LM next-char
    accuracy and bits per character (research models/README.md)."""
    mlp = compile_model(str(model_path("mlp_digits")), "hybrid").program
    q = oracle_for("mlp_digits", mlp, "top1").measure(mlp)
    assert q.reference == pytest.approx(392 / 397)
    lm = compile_model(str(model_path("charlm_llama")), "hybrid").program
    top1 = oracle_for("charlm_llama", lm, "top1")
    assert top1.measure(lm).reference == pytest.approx(0.6726, abs=5e-4)
    ppl = Oracle(top1.calib, "ppl").measure(lm)
    assert math.log2(ppl.reference) == pytest.approx(1.7166, abs=5e-4)  # bits per character
    assert ppl.passed and 0 <= ppl.degradation < 1.0
    bpc = Oracle(top1.calib, "bpc").measure(lm)  # the same run (seed 0), in bits
    assert bpc.reference == pytest.approx(math.log2(ppl.reference))
    assert bpc.value == pytest.approx(math.log2(ppl.value))
    assert bpc.degradation == pytest.approx(math.log2(ppl.value / ppl.reference))
    assert bpc.tolerance == pytest.approx(0.0693, abs=1e-4)  # the paper's ΔPPL 1.0 at PPL 20.329


@pytest.mark.parametrize("name", ["mlp_digits", "cnn_digits"])
def test_stage_two_brings_a_failing_mapping_within_tolerance(name: str) -> None:
    hw = harsh()
    imported = import_model(str(model_path(name)), {})
    problem = build_problem(imported.module, imported.weights, hw)
    if name == "mlp_digits":  # its stage-one point survives this corner: start from all-photonic
        chunks = [{"photonic": layer.chunks} for layer in problem.layers]
        lat, energy = problem.evaluate(chunks)
        start = Point(chunks, lat, energy, label="photonic")
    else:
        start = cpsat_front(problem, QUICK)[0]
    from h3pc.transforms.stage1.timeline import program_for

    prog = program_for(imported.module, imported.weights, hw, [layer.op for layer in problem.layers],
                       problem.rows(start.chunks))
    two = row_remap(problem, imported.module, imported.weights, hw, start,
                    oracle_for(name, prog, "top1"), QUICK)
    assert not two.before_quality.passed and two.before_quality.degradation > 0.02
    assert two.after_quality.passed and two.after_quality.degradation <= 0.02
    assert two.steps and two.tier_snr_db["digital"] == math.inf
    assert two.tier_snr_db["photonic"] < two.tier_snr_db["sram_pim"]  # measured, the noisy tier ranks last
    # the remap moved rows off the photonic tier and stayed within the layers' rows
    assert all(s["from"] == "photonic" for s in two.steps)
    for split, layer in zip(two.after.chunks, problem.layers):
        assert sum(split.values()) == layer.chunks
    assert two.after.latency_s == pytest.approx(problem.evaluate(two.after.chunks, two.after.streams)[0])


def test_cli_stage_two_writes_only_what_meets_the_tolerance(tmp_path, capsys) -> None:
    hw = tmp_path / "harsh.yaml"
    hw.write_text(yaml.safe_dump(harsh().to_dict()))
    out, rep = tmp_path / "p.bin", tmp_path / "r.json"
    calib = str(MODELS / "cnn_digits.npz")
    rc = h3pc_main([str(model_path("cnn_digits")), "-o", str(out), "--hw", str(hw), "--calib", calib,
                    "--tolerance", "0.02", "--report", str(rep), "--solve-time", "1", "--precision-trials", "4"])
    text = capsys.readouterr().out
    assert rc == 0 and out.exists() and "stage two: after" in text and "within tolerance 0.02" in text
    import json

    stage = json.loads(rep.read_text())["stage1"]
    two = stage["stage2"]
    assert not two["before"]["quality"]["passed"] and two["after"]["quality"]["passed"]
    assert stage["precision"]["trials"] <= 4 and stage["precision"]["quality"]["passed"]
    assert "precision refinement" in text
    bad = tmp_path / "bad.bin"
    rc = h3pc_main([str(model_path("cnn_digits")), "-o", str(bad), "--hw", str(hw), "--calib", calib,
                    "--metric", "snr", "--tolerance", "500", "--solve-time", "1"])
    err = capsys.readouterr().err.strip().splitlines()  # progress lines (a long stage two), then one error
    errors = [line for line in err if line.startswith("h3pc: error:")]
    assert rc != 0 and not bad.exists() and len(errors) == 1 and errors == err[-1:] and "stage two" in errors[0]


def test_precision_refinement_lowers_widths_the_program_keeps() -> None:
    """On mlp_digits at h3pimap's own widths: lowered widths save energy, the compiled program carries
    them (its estimate is the refinement's), and an independent measurement still meets the tolerance."""
    from h3pc.runtime.emulator import estimate
    from h3pc.transforms.stage1.partition import StageOneOptions

    calib = str(MODELS / "mlp_digits.npz")
    c = compile_model(str(model_path("mlp_digits")), "hybrid",
                      stage1=StageOneOptions(search=QUICK, calib=calib, precision_trials=16))
    pr = c.stage1.precision
    assert pr is not None and pr.trials <= 16 and pr.bits and pr.quality.passed
    assert pr.after["energy_j"] < pr.before["energy_j"] and pr.energy_saved > 0
    est = estimate(c.program)
    assert est["energy_j"] == pytest.approx(pr.after["energy_j"], rel=1e-9)
    widths = {(c.program.symbols[i.sym]["node"], i.op, knob, getattr(i, knob))
              for s in c.program.streams.values() for i in s if i.op in ("PMM", "MVM")
              for knob in ("in_bits", "w_bits", "out_bits", "input_bits", "adc_bits") if hasattr(i, knob)}
    for node, lowered in pr.bits.items():
        for key, bits in lowered.items():
            tier, _, knob = key.partition(".")
            op = "PMM" if tier == "photonic" else "MVM"
            assert (node, op, knob, bits) in widths, (node, key, bits)
    q = Oracle(load_calib(calib, program_inputs(c.program)), "top1", seed=0).measure(c.program)
    assert q.passed and q.value == pytest.approx(pr.quality.value)
