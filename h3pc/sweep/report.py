"""What a sweep leaves behind: the table (Parquet, and CSV beside it), the plots (Pareto fronts per
model, sensitivity of latency and energy to each axis) and a short markdown summary.

Everything here is rebuilt from the rows, so a resumed sweep writes the same files as one that never
stopped (but for the time columns). Every file is written atomically.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from h3pc.files import write_file
from h3pc.transforms.stage1.mappings import non_dominated
from h3pc.sweep.point import RESULT_COLUMNS, STATUSES, TIME_COLUMNS

ID_COLUMNS = ("key", "model", "hw_id", "hw_point", "hw_digest")
CHOICE_COLUMNS = ("target", "mapping", "objective")
FLOAT_COLUMNS = {"latency_s", "energy_j", "edp_js", "predicted_latency_s", "predicted_energy_j", "quality_reference",
                 "quality_value", "quality_degradation", "area_mm2", *TIME_COLUMNS}
INT_COLUMNS = {"stage2_moves"}
BOOL_COLUMNS = {"quality_passed"}
#: objective -> the column it minimises
OBJECTIVE_COLUMN = {"latency": "latency_s", "energy": "energy_j", "edp": "edp_js"}
FILES = ("sweep.parquet", "sweep.csv", "pareto.png", "sensitivity.png", "summary.md")


def columns(axes: list[str]) -> list[str]:
    """The table's columns in order: identity, one per axis, the choice, results, then times."""
    return [*ID_COLUMNS, *axes, *CHOICE_COLUMNS, *RESULT_COLUMNS, *TIME_COLUMNS]


def write_table(rows: list[dict[str, Any]], axes: list[str], out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = columns(axes)
    arrays, fields = [], []
    for c in cols:
        values = [r.get(c) for r in rows]
        typ = (pa.float64() if c in FLOAT_COLUMNS else pa.int64() if c in INT_COLUMNS else pa.bool_()
               if c in BOOL_COLUMNS else None if c in axes else pa.string())
        try:
            arr = pa.array(values, type=typ)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # an axis mixing kinds of values
            arr = pa.array([None if v is None else str(v) for v in values], type=pa.string())
        arrays.append(arr)
        fields.append(pa.field(c, arr.type))
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    write_file(out / "sweep.parquet", sink.getvalue().to_pybytes())
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
    write_file(out / "sweep.csv", buf.getvalue())


def read_table(path: Path) -> list[dict[str, Any]]:
    """The rows of a sweep.parquet (tests and scripts)."""
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


# -- plots -----------------------------------------------------------------------------------------
def _ok(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["status"] == "ok"]


def _choice(r: dict[str, Any]) -> str:
    return r["mapping"] + (f" ({r['objective']})" if r.get("objective") else "")


def plot_pareto(rows: list[dict[str, Any]], models: list[str], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(1, len(models))
    ncols = min(3, n)
    nrows = -(-n // ncols)
    fig, axs = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 4.2 * nrows), squeeze=False)
    choices = sorted({_choice(r) for r in rows})
    colours = {c: plt.get_cmap("tab10")(i % 10) for i, c in enumerate(choices)}
    for ax, model in zip(axs.flat, models):
        ok = [r for r in _ok(rows) if r["model"] == model]
        ax.set_title(model)
        if not ok:
            ax.text(0.5, 0.5, "no successful point", ha="center", va="center", transform=ax.transAxes)
            continue
        for c in choices:
            mine = [r for r in ok if _choice(r) == c]
            if not mine:
                continue
            ax.scatter([r["latency_s"] * 1e6 for r in mine], [r["energy_j"] * 1e6 for r in mine], s=22,
                       color=colours[c], label=c, alpha=0.8)
        front = non_dominated(ok, lambda r: (r["latency_s"], r["energy_j"]))
        ax.step([r["latency_s"] * 1e6 for r in front], [r["energy_j"] * 1e6 for r in front], where="post",
                color="black", linestyle="--", linewidth=1, label="front")
        for r in front:
            ax.annotate(r["hw_id"], (r["latency_s"] * 1e6, r["energy_j"] * 1e6), fontsize=7,
                        textcoords="offset points", xytext=(3, 3))
        _scale(ax.xaxis, ax.set_xscale, [r["latency_s"] for r in ok])
        _scale(ax.yaxis, ax.set_yscale, [r["energy_j"] for r in ok])
        ax.set_xlabel("latency (us)")
        ax.set_ylabel("energy (uJ)")
        ax.legend(fontsize=7)
    for ax in list(axs.flat)[n:]:
        ax.axis("off")
    fig.suptitle("Pareto fronts across hardware points (labels: hardware point ids, see summary.md)")
    fig.tight_layout()
    _save(fig, out / "pareto.png")


def sensitivity(rows: list[dict[str, Any]], axes: dict[str, list[Any]], metric: str) -> dict[str, dict[str, list]]:
    """Per axis, per (model, mapping): the geometric mean of `metric` at each axis value over the
    other axes, relative to the group's overall geometric mean (1: the axis does not matter)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in _ok(rows):
        if r[metric] and r[metric] > 0:
            groups[f"{r['model']} {_choice(r)}"].append(r)
    out: dict[str, dict[str, list]] = {}
    for axis, values in axes.items():
        out[axis] = {}
        for name, rs in groups.items():
            mean = _geomean([r[metric] for r in rs])
            out[axis][name] = [(_geomean([r[metric] for r in rs if r[axis] == v]) or math.nan) / mean
                               for v in values]
    return out


def _geomean(xs: list[float]) -> float | None:
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def plot_sensitivity(rows: list[dict[str, Any]], axes: dict[str, list[Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(axes)
    fig, axs = plt.subplots(max(1, len(names)), 2, figsize=(11, 3.2 * max(1, len(names))), squeeze=False)
    if not names:
        for ax in axs.flat:
            ax.axis("off")
        axs[0][0].text(0.5, 0.5, "no axes in the sweep file", ha="center", va="center", transform=axs[0][0].transAxes)
    for col, (metric, label) in enumerate((("latency_s", "latency"), ("energy_j", "energy"))):
        sens = sensitivity(rows, axes, metric)
        for i, axis in enumerate(names):
            ax = axs[i][col]
            xs = list(range(len(axes[axis])))
            for group, ys in sorted(sens[axis].items()):
                ax.plot(xs, ys, marker="o", linewidth=1, markersize=3, label=group)
            ax.set_xticks(xs, [str(v) for v in axes[axis]])
            ax.set_xlabel(axis)
            ax.set_ylabel(f"{label} / group mean")
            _scale(ax.yaxis, ax.set_yscale, [y for ys in sens[axis].values() for y in ys])
            ax.axhline(1.0, color="grey", linewidth=0.5)
            if i == 0 and sens[axis]:
                ax.legend(fontsize=6)
    fig.suptitle("Sensitivity: geometric mean over the other axes, relative to each model and mapping's mean")
    fig.tight_layout()
    _save(fig, out / "sensitivity.png")


def _scale(axis: Any, set_scale: Any, values: list[float]) -> None:
    """Log scale where the values span more than a decade, with plain tick labels."""
    from matplotlib.ticker import NullFormatter

    vs = [v for v in values if v == v and v > 0]
    if vs and max(vs) > 10 * min(vs):
        set_scale("log")
        axis.set_minor_formatter(NullFormatter())


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    write_file(path, buf.getvalue())


# -- summary ---------------------------------------------------------------------------------------
def best(rows: list[dict[str, Any]], model: str, objective: str) -> dict[str, Any] | None:
    """The successful row of `model` with the least latency, energy or EDP (ties: table order)."""
    col = OBJECTIVE_COLUMN[objective]
    ok = [r for r in _ok(rows) if r["model"] == model and r[col] is not None]
    return min(ok, key=lambda r: r[col]) if ok else None


def _us(v: float | None) -> str:
    return "-" if v is None else f"{v * 1e6:.4g}"


def summary(rows: list[dict[str, Any]], spec: Any, engine: str, wall_s: float, ran: int) -> str:
    models = [m.name for m in spec.models]
    counts = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
    failed = len(rows) - counts["ok"]
    lines = ["# Sweep summary", "",
             f"`{spec.path.name}`: {len(models)} model(s) x {len(spec.points)} hardware point(s) x "
             f"{len(spec.choices)} mapping(s), objectives {', '.join(spec.objectives)}: {len(rows)} points "
             f"({ran} run now on {engine} in {wall_s:.1f} s, {len(rows) - ran} from the store).", ""]
    if failed:
        lines += [f"**{failed} of {len(rows)} points failed** ("
                  + ", ".join(f"{n} {s}" for s, n in counts.items() if n and s != "ok")
                  + "); each is a row with its `status` and `reason`. The sweep itself completed.", ""]
    else:
        lines += [f"All {len(rows)} points succeeded.", ""]
    lines += ["## Best hardware point per model and objective", "",
              "Among the points with status `ok`" + (" (quality within tolerance)" if spec.quality else "") + ".", "",
              "| model | objective | hardware point | mapping | latency (us) | energy (uJ) | EDP (us*uJ) | quality |",
              "|---|---|---|---|---|---|---|---|"]
    for model in models:
        for objective in spec.objectives:
            r = best(rows, model, objective)
            if r is None:
                lines.append(f"| {model} | {objective} | (no successful point) | | | | | |")
                continue
            q = "-" if r["quality_value"] is None else f"{r['quality_metric']} {r['quality_value']:.4g}"
            lines.append(f"| {model} | {objective} | {r['hw_id']}: {r['hw_point']} | {_choice(r)} | "
                         f"{_us(r['latency_s'])} | {_us(r['energy_j'])} | {r['edp_js'] * 1e12:.4g} | {q} |")
    if spec.axes:
        lines += ["", "## Sensitivity", "",
                  "Spread (largest over smallest) of the geometric mean over the other axes, median over "
                  "models and mappings (see sensitivity.png).", "",
                  "| axis | values | latency spread | energy spread |", "|---|---|---|---|"]
        spreads = {m: sensitivity(rows, spec.axes, m) for m in ("latency_s", "energy_j")}
        for axis, values in spec.axes.items():
            cells = []
            for m in ("latency_s", "energy_j"):
                per = [max(ys) / min(ys) for ys in spreads[m][axis].values()
                       if ys and all(y == y and y > 0 for y in ys)]
                cells.append(f"{sorted(per)[len(per) // 2]:.3f}x" if per else "-")
            lines.append(f"| {axis} | {', '.join(map(str, values))} | {cells[0]} | {cells[1]} |")
    lines += ["", "## Hardware points", "", "| id | values | digest |", "|---|---|---|"]
    for p in spec.points:
        lines.append(f"| {p.id} | {p.label} | {p.digest[:12]} |")
    bad = [r for r in rows if r["status"] != "ok"]
    if bad:
        lines += ["", "## Failed points", "", "| model | hardware point | mapping | status | reason |",
                  "|---|---|---|---|---|"]
        for r in bad[:30]:
            lines.append(f"| {r['model']} | {r['hw_id']} | {_choice(r)} | {r['status']} | "
                         f"{str(r['reason']).replace('|', '/')} |")
        if len(bad) > 30:
            lines.append(f"| ... | | | | {len(bad) - 30} more in sweep.csv |")
    lines += ["", "Files: " + ", ".join(f"`{f}`" for f in FILES) + ", `points/` (one JSON per finished point), "
              "`spec.json` (the resolved sweep).", ""]
    return "\n".join(lines)


def write_report(rows: list[dict[str, Any]], spec: Any, out: Path, engine: str, wall_s: float, ran: int) -> None:
    axes = list(spec.axes)
    write_table(rows, axes, out)
    plot_pareto(rows, [m.name for m in spec.models], out)
    plot_sensitivity(rows, spec.axes, out)
    write_file(out / "summary.md", summary(rows, spec, engine, wall_s, ran))
