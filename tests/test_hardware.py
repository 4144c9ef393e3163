"""The hardware description: the h3pimap preset reproduces paper Table 1; validation is strict."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from h3pc.diagnostics import H3pcError
from h3pc.hardware import load_hardware
from h3pc.hardware.schema import PRESETS, preset_names


def test_h3pimap_matches_paper_table_1() -> None:
    hw = load_hardware("h3pimap")
    p, s, r = hw.photonic, hw.sram_pim, hw.reram_pim
    assert (p.tiles, p.cores_per_tile, p.core_rows, p.core_cols, p.freq_mhz) == (2, 2, 14, 14, 3000)
    assert p.tiles * p.cores_per_tile * p.core_rows * p.core_cols == 784  # MAC sites
    assert (s.tiles, s.crossbars_per_tile, s.crossbar_rows, s.cell_bits, s.adc_bits, s.freq_mhz) == (100, 256, 128, 1, 7, 100)
    assert (r.tiles, r.crossbars_per_tile, r.cell_bits, r.adc_bits, r.freq_mhz) == (100, 64, 2, 8, 100)
    assert (s.program_latency_ns, r.program_latency_ns) == (1, 100)
    # hardware-model.md a.2: "about 52M" and "about 26M" 8-bit weights
    assert s.capacity_weights == pytest.approx(52.4e6, rel=0.01)
    assert r.capacity_weights == pytest.approx(26.2e6, rel=0.01)
    assert p.noise_sigma == 0.0031
    assert r.endurance_writes == 1e6 and s.endurance_writes is None


def test_every_preset_constant_cites_a_source() -> None:
    """A value line carries a comment, or follows a comment block that explains it."""
    for name in preset_names():
        lines = (PRESETS / f"{name}.yaml").read_text().splitlines()
        for n, line in enumerate(lines):
            key, sep, value = line.split("#")[0].partition(":")
            if not sep or not value.strip() or key.strip() == "name":
                continue
            assert "#" in line or lines[n - 1].lstrip().startswith("#"), f"{name}.yaml:{n + 1} cites no source"


def test_digest_is_stable_and_sensitive() -> None:
    a, b = load_hardware("h3pimap"), load_hardware("h3pimap")
    assert a.digest == b.digest and len(a.digest) == 64
    data = yaml.safe_load((PRESETS / "h3pimap.yaml").read_text())
    data["photonic"]["tiles"] = 4
    from h3pc.hardware.schema import parse_hardware

    assert parse_hardware(data, "x").digest != a.digest


def _write(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load((PRESETS / "h3pimap.yaml").read_text())
    edit(data)
    p = tmp_path / "hw.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["photonic"].update(wavelenghts=4), "photonic.wavelenghts: unknown key"),
        (lambda d: d["sram_pim"].pop("adc_bits"), "sram_pim.adc_bits: missing key"),
        (lambda d: d["reram_pim"].update(tiles="many"), "reram_pim.tiles: expected an integer"),
        (lambda d: d["reram_pim"].update(tiles=-3), "reram_pim.tiles: -3 must be > 0"),
        (lambda d: d["photonic"].update(in_bits=40), "photonic.in_bits: 40 must be <= 16"),
        (lambda d: d["memory"].update(offchip_bandwidth_gbps=True), "memory.offchip_bandwidth_gbps: expected a number"),
        (lambda d: d["reram_pim"].update(cell_bits=3), "reram_pim.weight_bits: 8 is not a multiple of cell_bits 3"),
        (lambda d: d.update(digital=[1, 2]), "digital: expected a mapping"),
        (lambda d: d.pop("memory"), "memory: missing key"),
        (lambda d: d["sram_pim"].update(allow_dynamic_operands="yes"), "expected true or false"),
    ],
)
def test_validation_names_the_key_path(tmp_path: Path, edit, message: str) -> None:
    p = _write(tmp_path, edit)
    with pytest.raises(H3pcError) as err:
        load_hardware(p)
    assert message in str(err.value) and str(p) in str(err.value)


def test_unknown_preset_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(H3pcError, match="no such preset or file"):
        load_hardware("nosuch")
    bad = tmp_path / "bad.yaml"
    bad.write_text("photonic: [1, 2\n")
    with pytest.raises(H3pcError, match="not valid YAML at line"):
        load_hardware(bad)
