"""`h3pc-objdump`: what is inside a program.bin: header, sections, and each stream disassembled."""

from __future__ import annotations

import argparse
import sys

from h3pc import __version__
from h3pc.diagnostics import ArgumentParser
from h3pc.tool import run_main
from h3pc.hardware.schema import BLOCKS, DMA


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="h3pc-objdump", description="Show the contents of an h3pc program.bin.")
    p.add_argument("program", help="program.bin")
    p.add_argument("-H", "--headers", action="store_true", help="header and section table only")
    p.add_argument("--stream", choices=[*BLOCKS, DMA], action="append",
                   help="disassemble only this engine's stream (repeatable)")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    p.add_argument("--version", action="version", version=f"h3pc-objdump {__version__}")
    return p


def main_args(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from h3pc.backends import container
    from h3pc.backends.isa import disassemble
    from h3pc.backends.program import from_container
    from h3pc.backends.program import entry_of

    raw = container.map_file(args.program)  # mapped, not read: a 3 GB program costs no 3 GB of memory
    c = container.decode(raw, args.program)
    prog = from_container(c, args.program)
    out = [f"{args.program}: h3pc program, format {container.FORMAT_VERSION}, tool {c.tool_version}, "
           f"{len(raw)} bytes",
           f"hardware: {prog.hw.name} sha256:{c.hw_digest.hex()}",
           "inputs:  " + ", ".join(f"{i['name']} %{i['tensor']} {list(prog.tensors[i['tensor']].shape)} "
                                   f"{prog.tensors[i['tensor']].dtype}" for i in prog.inputs),
           "outputs: " + ", ".join(f"{o['name']} %{o['tensor']} {list(prog.tensors[o['tensor']].shape)} "
                                   f"{prog.tensors[o['tensor']].dtype}" for o in prog.outputs),
           _buffer_line(prog),
           "", "sections:", f"  {'name':<18} {'kind':<10} {'offset':>10} {'size':>12}  crc32"]
    for s in c.sections:
        out.append(f"  {s.name:<18} {s.kind:<10} {s.offset:>10} {len(s.data):>12}  {s.crc32:08x}")
    if not args.headers:
        for tier in args.stream or prog.hw.engines():
            instrs = prog.streams.get(tier, [])
            out += ["", f"stream.{tier}: {len(instrs)} instructions"]
            for i, ins in enumerate(instrs):
                entry = entry_of(prog, ins)
                note = f"  ; {entry['node']} ({entry['op']})" if entry is not None else ""
                out.append(f"  {i:>6}: {disassemble(ins)}{note}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def _buffer_line(prog) -> str:
    """The buffer plan as the tensor table records it: placed tensors and their extent, spills."""
    placed = [t for t in prog.tensors if t.addr >= 0]
    spilled = [t for t in prog.tensors if t.role in ("input", "value") and t.home == "offchip"]
    fills = sum(1 for ins in prog.streams.get("dma", []) if ins.op == "FILL")
    top = max((t.addr + t.stored_bytes for t in placed), default=0)
    return (f"buffer:  {len(placed)} tensors placed in bytes [0, {top}) of {prog.hw.memory.buffer_bytes}, "
            f"{fills} weights staged by the DMA engine, {len(spilled)} tensors spilled off-chip")


def main(argv: list[str] | None = None) -> int:
    return run_main("h3pc-objdump", main_args, argv)


if __name__ == "__main__":
    sys.exit(main())
