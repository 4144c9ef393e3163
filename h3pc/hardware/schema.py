"""Typed, frozen hardware description loaded from YAML with strict validation.

Units are part of every key name (`_pj`, `_ns`, `_mhz`, `_mw`, `_bytes`, ...). An unknown key, a
missing key, a wrong type or an out-of-range value is an error naming the file and the key path.
Presets ship as package data (`presets/*.yaml`); every constant there cites its source row in
research/hardware-model.md or is marked as a documented default.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from h3pc.diagnostics import H3pcError, shown, shown_name

PRESETS = Path(__file__).parent / "presets"


def _rng(lo: float | None = None, hi: float | None = None, *, strict_lo: bool = False) -> dict[str, Any]:
    return {"lo": lo, "hi": hi, "strict_lo": strict_lo}


POS = _rng(0, strict_lo=True)  # > 0
NONNEG = _rng(0)  # >= 0
BITS = _rng(1, 16)
#: the largest crossbar or core side: the emulator pads an operand to a crossbar's rows, so a file asking
#: for 10^9 rows made every run allocate gigabytes (real arrays have 64 to 1024)
MAX_ARRAY_SIDE = 1 << 16
SIDE = _rng(0, MAX_ARRAY_SIDE, strict_lo=True)
FRACTION = _rng(0, 1)


def num(meta: dict[str, Any] = POS, default: Any = dataclasses.MISSING) -> Any:
    return field(metadata=meta, default=default)


@dataclass(frozen=True)
class PhotonicTier:
    """TeMPO-style dynamic-operand photonic tensor cores (H3PIMAP Table 1 + device library b.1)."""

    tiles: int = num()
    cores_per_tile: int = num()
    core_rows: int = num(SIDE)
    core_cols: int = num(SIDE)
    freq_mhz: float = num()
    in_bits: int = num(BITS)
    w_bits: int = num(BITS)
    out_bits: int = num(BITS)
    dac_energy_pj: float = num(NONNEG)
    adc_energy_pj: float = num(NONNEG)
    modulator_energy_pj: float = num(NONNEG)
    detector_power_mw: float = num(NONNEG)
    tia_power_mw: float = num(NONNEG)
    laser_power_mw: float = num(NONNEG)
    temporal_accumulation: int = num()
    reconfig_latency_ns: float = num(NONNEG)
    noise_sigma: float = num(NONNEG)  # relative Gaussian noise on each quantised operand (H3PIMAP)
    output_noise_sigma: float = num(NONNEG, default=0.0)  # relative, on each output (optional, LT)
    phase_noise_deg: float = num(NONNEG, default=0.0)  # input phase noise: x * cos(N(0, deg)) (optional, LT)


@dataclass(frozen=True)
class PimTier:
    """A weight-stationary crossbar tier (SRAM- or ReRAM-PIM)."""

    tiles: int = num()
    crossbars_per_tile: int = num()
    crossbar_rows: int = num(SIDE)
    crossbar_cols: int = num(SIDE)
    cell_bits: int = num(BITS)
    weight_bits: int = num(BITS)
    input_bits: int = num(BITS)
    adc_bits: int = num(BITS)
    adcs_per_tile: int = num()
    columns_per_adc: int = num()
    freq_mhz: float = num()
    adc_energy_pj: float = num(NONNEG)
    dac_energy_pj: float = num(NONNEG)
    shift_add_energy_pj: float = num(NONNEG)
    crossbar_read_energy_pj: float = num(NONNEG)
    program_latency_ns: float = num(NONNEG)
    program_energy_pj_per_cell: float = num(NONNEG)
    static_power_mw: float = num(NONNEG)
    endurance_writes: float | None = num(POS, default=None)
    allow_dynamic_operands: bool = field(default=False)
    # cell conductance read noise (thermal + shot, H3PIMAP Eq. 1) over the conductance range
    read_noise: bool = field(default=False)
    g_min_us: float = num(POS, default=1.0)
    g_max_us: float = num(POS, default=10.0)
    read_voltage_v: float = num(POS, default=0.2)
    temperature_k: float = num(POS, default=300.0)
    # optional, off by default: programming noise (relative to the conductance range, per cell) and
    # conductance drift G (t / t0)^-nu with nu ~ N(drift_nu, drift_nu_sigma) per weight
    program_noise_sigma: float = num(NONNEG, default=0.0)
    drift_nu: float = num(NONNEG, default=0.0)
    drift_nu_sigma: float = num(NONNEG, default=0.0)
    drift_time_s: float = num(NONNEG, default=0.0)
    drift_t0_s: float = num(POS, default=20.0)
    #: stage one may stream static weights that do not fit (rewritten before every use, charged per
    #: inference and against endurance) instead of treating the tier's capacity as a hard limit
    allow_reprogramming: bool = field(default=False)

    @property
    def cells_per_weight(self) -> int:
        return -(-self.weight_bits // self.cell_bits)

    def __post_init__(self) -> None:
        if self.g_min_us >= self.g_max_us:
            raise H3pcError(f"g_min_us ({self.g_min_us}) must be below g_max_us ({self.g_max_us})")

    @property
    def capacity_weights(self) -> int:
        """How many weights fit at once (all crossbars, bit-sliced over cells)."""
        cells = self.tiles * self.crossbars_per_tile * self.crossbar_rows * self.crossbar_cols
        return cells // self.cells_per_weight


@dataclass(frozen=True)
class DigitalTier:
    """The electronic SIMD vector unit for non-GEMM ops and the GEMM fallback."""

    lanes: int = num()
    freq_mhz: float = num()
    add_energy_pj: float = num(NONNEG)
    mul_energy_pj: float = num(NONNEG)
    special_energy_pj: float = num(NONNEG)
    static_power_mw: float = num(NONNEG)


@dataclass(frozen=True)
class Memory:
    """Global buffer, off-chip memory and the TSV links between the tiers and the buffer."""

    buffer_bytes: int = num()
    buffer_freq_mhz: float = num()
    buffer_energy_pj_per_byte: float = num(NONNEG)
    buffer_bandwidth_bytes_per_cycle: int = num()
    offchip_energy_pj_per_byte: float = num(NONNEG)
    offchip_bandwidth_gbps: float = num()
    tsv_energy_pj_per_bit: float = num(NONNEG)
    tsv_width_bits: int = num()
    #: weights the DMA engine may stage ahead of each tier (2: double buffering; 0: no staging)
    prefetch_depth: int = num(NONNEG, default=2)


#: the engine beside the tiers that stages weights from off-chip memory into the global buffer
DMA = "dma"

#: the description's tier blocks: key -> (config type, required), in report order. The built-in
#: tiers' blocks are declared here, with the description's format, so that a description (and the
#: hardware section of a program.bin) reads without loading any tier's code; a new tier adds its own
#: block with `register_block` (h3pc/backends/tiers.py). A description without an optional block
#: describes a machine without that tier.
BLOCKS: dict[str, tuple[type, bool]] = {
    "photonic": (PhotonicTier, True),
    "sram_pim": (PimTier, True),
    "reram_pim": (PimTier, True),
    "digital": (DigitalTier, True),
}


def register_block(key: str, config: type, required: bool = False) -> None:
    """Declare a tier's block: `key` in the YAML, `config` a frozen dataclass built like the others."""
    if key in BLOCKS and BLOCKS[key][0] is not config:
        raise H3pcError(f"hardware block '{key}' is already declared by {BLOCKS[key][0].__name__}")
    BLOCKS[key] = (config, required)


@dataclass(frozen=True)
class HardwareConfig:
    """A machine: its name, one config block per tier it has (`tiers`, in `BLOCKS` order, read as
    `hw.photonic` or `hw.tier("photonic")`) and its memory system."""

    name: str
    tiers: tuple[tuple[str, Any], ...]
    memory: Memory
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        # each tier's block as a plain attribute (`hw.photonic`): the cost formulas read them in hot loops
        for k, cfg in self.tiers:
            if k not in ("name", "tiers", "memory", "source"):
                object.__setattr__(self, k, cfg)

    def __getattr__(self, key: str) -> Any:
        raise AttributeError(f"hardware description '{self.__dict__.get('name')}' has no '{key}'")

    def tier(self, key: str) -> Any:
        return getattr(self, key)

    def has(self, key: str) -> bool:
        return any(k == key for k, _ in self.tiers)

    def with_tier(self, key: str, config: Any) -> "HardwareConfig":
        """This description with one tier's block replaced or added (in `BLOCKS` order)."""
        blocks = dict(self.tiers)
        blocks[key] = config
        order = [k for k in BLOCKS if k in blocks] + [k for k in blocks if k not in BLOCKS]
        return dataclasses.replace(self, tiers=tuple((k, blocks[k]) for k in order))

    def engines(self) -> tuple[str, ...]:
        """Every engine with an instruction stream: the tiers, then the DMA engine."""
        return (*(k for k, _ in self.tiers), DMA)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **{k: dataclasses.asdict(c) for k, c in self.tiers},
                "memory": dataclasses.asdict(self.memory)}

    @functools.cached_property
    def digest(self) -> str:
        """sha256 of the canonical JSON form: what program.bin records and the emulator checks."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


def _convert(cls: type, data: Any, path: str, where: str) -> Any:
    """Build dataclass `cls` from `data`, strictly."""
    if not isinstance(data, dict):
        raise H3pcError(f"{where}: {path or 'top level'}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    unknown = sorted(set(data) - set(fields), key=str)  # YAML keys may be numbers, null, ...
    if unknown:
        raise H3pcError(f"{where}: {_join(path, shown_name(unknown[0]))}: unknown key "
                        f"(expected one of {', '.join(fields)})")
    kwargs = {}
    for name, f in fields.items():
        key = _join(path, name)
        if name not in data:
            if f.default is dataclasses.MISSING:
                raise H3pcError(f"{where}: {key}: missing key")
            continue
        kwargs[name] = _value(hints[name], data[name], key, where, f.metadata)
    try:
        return cls(**kwargs)
    except H3pcError as exc:  # a cross-field check of the dataclass: name the file and the section
        raise H3pcError(f"{where}: {path or 'top level'}: {exc}") from None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _value(typ: Any, v: Any, key: str, where: str, meta: Any) -> Any:
    if dataclasses.is_dataclass(typ):
        return _convert(typ, v, key, where)
    args = typing.get_args(typ)
    if isinstance(typ, types.UnionType) or typing.get_origin(typ) is typing.Union:
        if v is None and type(None) in args:
            return None
        typ = next(a for a in args if a is not type(None))
    if typ is bool:
        if not isinstance(v, bool):
            raise H3pcError(f"{where}: {key}: expected true or false, got {shown(v)}")
        return v
    if typ is str:
        if not isinstance(v, str):
            raise H3pcError(f"{where}: {key}: expected a string, got {shown(v)}")
        return v
    if typ is int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise H3pcError(f"{where}: {key}: expected an integer, got {shown(v)}")
    elif typ is float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise H3pcError(f"{where}: {key}: expected a number, got {shown(v)}")
        v = float(v)
        if not math.isfinite(v):  # NaN passes every range check below
            raise H3pcError(f"{where}: {key}: expected a finite number, got {shown(v)}")
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and (v < lo or (meta.get("strict_lo") and v == lo)):
        raise H3pcError(f"{where}: {key}: {shown(v)} must be {'>' if meta.get('strict_lo') else '>='} {lo}")
    if hi is not None and v > hi:
        raise H3pcError(f"{where}: {key}: {shown(v)} must be <= {hi}")
    return v


def parse_hardware(data: Any, where: str) -> HardwareConfig:
    if not isinstance(data, dict):
        raise H3pcError(f"{where}: top level: expected a mapping, got {type(data).__name__}")
    keys = ("name", *BLOCKS, "memory")
    unknown = sorted(set(data) - set(keys), key=str)  # YAML keys may be numbers, null, ...
    if unknown:
        raise H3pcError(f"{where}: {shown_name(unknown[0])}: unknown key (expected one of {', '.join(keys)})")
    values: dict[str, Any] = {}
    for key in keys:  # in order, each checked before the next: the first problem is the one reported
        if key not in data:
            if key in ("name", "memory") or BLOCKS[key][1]:
                raise H3pcError(f"{where}: {key}: missing key")
            continue
        values[key] = (_value(str, data[key], key, where, {}) if key == "name"
                       else _convert(Memory if key == "memory" else BLOCKS[key][0], data[key], key, where))
    name = values["name"]
    tiers = tuple((k, values[k]) for k in BLOCKS if k in values)
    cfg = HardwareConfig(name, tiers, values["memory"], source=where)
    for key, t in cfg.tiers:
        if isinstance(t, PimTier) and t.weight_bits % t.cell_bits:
            raise H3pcError(f"{where}: {key}.weight_bits: {t.weight_bits} is not a multiple of cell_bits "
                            f"{t.cell_bits}")
    return cfg


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS.glob("*.yaml"))


def parse_yaml(text: str, where: str, what: str) -> Any:
    """YAML text as data, with the limits of every file the tools read (h3pc.files.parse_yaml: size,
    nesting, aliases counted as expanded, duplicate keys refused); a syntax error names its line."""
    from h3pc.files import parse_yaml as parse

    return parse(text, where, what)


def load_hardware(spec: str | Path = "h3pimap") -> HardwareConfig:
    """A preset name (`h3pimap`) or the path of a YAML file."""
    path = Path(spec)
    if not path.suffix and str(spec) in preset_names():
        path = PRESETS / f"{spec}.yaml"
    if not path.exists():
        raise H3pcError(f"--hw {spec}: no such preset or file (presets: {', '.join(preset_names())})")
    from h3pc.files import MAX_YAML_BYTES, read_text

    # a FIFO or folder is refused unopened; the size is bounded
    text = read_text(path, None, "YAML text", MAX_YAML_BYTES)
    data = parse_yaml(text, str(path), "hardware description")
    if data is None:
        raise H3pcError(f"{path}: empty file, expected a hardware description (a mapping)")
    return parse_hardware(data, str(path))
