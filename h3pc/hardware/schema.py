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
    """Dynamic-operand photonic tensor cores: TeMPO-style (H3PIMAP Table 1) or, with `wavelengths` > 1, a
    WDM dot-product core like Lightening-Transformer's (device library b.1; docs/hardware-model.md
    "Photonic presets")."""

    tiles: int = num()
    cores_per_tile: int = num()
    #: a core's output block: core_rows x core_cols output nodes (SimPhony's H x W)
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
    temporal_accumulation: int = num()
    reconfig_latency_ns: float = num(NONNEG)
    noise_sigma: float = num(NONNEG)  # relative Gaussian noise on each quantised operand (H3PIMAP)
    output_noise_sigma: float = num(NONNEG, default=0.0)  # relative, on each output (optional, LT)
    phase_noise_deg: float = num(NONNEG, default=0.0)  # input phase noise: x * cos(N(0, deg)) (optional, LT)
    #: static power of one output node's temporal integrator (TeMPO, b.1): drawn by every node of a
    #: powered core
    integrator_power_mw: float = num(NONNEG, default=0.0)
    #: idle cores are power-gated: laser and integrators draw power only while the cores compute
    #: (false: for the whole run). docs/hardware-model.md "Static power and power gating"
    power_gated: bool = field(default=True)
    #: WDM channels per core: each cycle a core's output node sums `wavelengths` products at once, so a
    #: core does core_rows x core_cols x wavelengths MACs per cycle and k takes ceil(k / wavelengths)
    #: cycles (SimPhony's lambda, b.1; LT-B: 12)
    wavelengths: int = num(SIDE, default=1)
    #: the B operand (core_cols x wavelengths values per cycle) is encoded once per core position and
    #: broadcast to that core in every tile (SimPhony dptc operand-2 devices W.C.lambda, no R; b.1), so
    #: tiles working on the same output columns share its DAC and modulator conversions
    tile_shared_w: bool = field(default=False)
    #: laser wall power of the whole tier at its configured resolution max(in_bits, w_bits); an instruction
    #: at b operand bits draws it x 2^b / 2^that (SimPhony Eq. 1, docs/hardware-model.md b.1). None (or
    #: absent): computed from Eq. 1's inputs below (cost.laser_power); a number overrides them
    laser_power_mw: float | None = num(NONNEG, default=None)
    # SimPhony Eq. 1 (b.1), per core: P = 10^((S + IL + 10 log10(core_rows x core_cols)) / 10) / WPE
    # x 2^b / (1 - 10^(-ER / 10)) mW, b = max(in_bits, w_bits); the tier draws it x tiles x cores_per_tile.
    # Used when laser_power_mw is None; see cost.laser_power.
    # (The ranges keep the equation finite: no overflow, no division by zero.)
    #: photodetector sensitivity S (dBm)
    pd_sensitivity_dbm: float | None = num(_rng(-100, 60), default=None)
    #: insertion loss of the critical laser-to-detector path IL (dB)
    laser_insertion_loss_db: float | None = num(_rng(0, 200), default=None)
    #: laser wall-plug efficiency, 0.001 to 1
    laser_wall_plug_efficiency: float | None = num(_rng(0.001, 1), default=None)
    #: modulator extinction ratio ER (dB); None: no extinction-ratio term (LT's own laser model)
    modulator_extinction_ratio_db: float | None = num(_rng(0.01, 100), default=None)

    def __post_init__(self) -> None:
        if self.laser_power_mw is None:
            for key in ("pd_sensitivity_dbm", "laser_insertion_loss_db", "laser_wall_plug_efficiency"):
                if getattr(self, key) is None:
                    raise H3pcError(f"{key}: missing: without laser_power_mw the laser equation needs "
                                    f"pd_sensitivity_dbm, laser_insertion_loss_db and laser_wall_plug_efficiency")


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
    #: static power of the tier besides its ADCs (periphery, control, buffers); drawn while the tier is
    #: busy when `power_gated`, else for the whole run
    static_power_mw: float = num(NONNEG)
    #: leakage of one ADC (PUMA, b.2); gated: only the ADCs of the crossbars an MVM reads leak, while it
    #: runs; not gated: every ADC of the tier, for the whole run
    adc_leakage_mw: float = num(NONNEG, default=0.0)
    #: bits one ADC resolves per tier clock cycle: a conversion of b bits takes b / adc_bits_per_cycle
    #: cycles (SAR: one comparison per bit, PUMA's ADC latency is linear in bits, h.2); None: adc_bits
    #: (one conversion at the configured resolution per cycle)
    adc_bits_per_cycle: float | None = num(POS, default=None)
    #: idle tiers and idle crossbars are power-gated (docs/hardware-model.md "Static power and power gating")
    power_gated: bool = field(default=True)
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
    #: tiles at the top of the tier through which every weight written before each use streams (dynamic
    #: operands, streamed or spilled static weights), in pieces that fit it; the rest holds resident
    #: weights, so one large streamed matrix never evicts them (backends/tier.py `crossbar_layout`)
    stream_tiles: int = num(default=1)

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
    #: the unit is power-gated while idle: its static power is drawn only while it executes
    power_gated: bool = field(default=True)


@dataclass(frozen=True)
class Memory:
    """Global buffer, off-chip memory and the TSV links between the tiers and the buffer."""

    buffer_bytes: int = num()
    buffer_freq_mhz: float = num()
    buffer_energy_pj_per_byte: float = num(NONNEG)
    #: one bank's port; the banks serve transfers in parallel
    buffer_bandwidth_bytes_per_cycle: int = num()
    offchip_energy_pj_per_byte: float = num(NONNEG)
    offchip_bandwidth_gbps: float = num()
    tsv_energy_pj_per_bit: float = num(NONNEG)
    #: the TSV link the tiers without a dedicated link share (tsv_width_bits at buffer_freq_mhz)
    tsv_width_bits: int = num()
    buffer_banks: int = num(default=1)
    #: tiers with a link of their own to the buffer, and its bandwidth in GB/s (the others share the TSV)
    links: dict[str, float] = field(default_factory=dict)
    #: the M tier's region for weights the tiers stream (photonic and digital GEMM operands): held from
    #: program load on while they fit, so only what does not fit is read from off-chip per inference
    weight_bytes: int = num(NONNEG, default=0)

    def __hash__(self) -> int:  # `links` is a dict: hash the canonical form
        return hash(json.dumps(dataclasses.asdict(self), sort_keys=True))
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
    if typing.get_origin(typ) is dict:  # a table of named values: `links: {photonic: 252}`
        if not isinstance(v, dict):
            raise H3pcError(f"{where}: {key}: expected a mapping, got {shown(v)}")
        kt, vt = typing.get_args(typ)
        return {_value(kt, k, key, where, {}): _value(vt, x, _join(key, shown_name(k)), where, meta)
                for k, x in v.items()}
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
