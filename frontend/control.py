"""Resolve ONNX control flow (If, Loop, Scan) into a flat graph of ordinary nodes.

An accelerator program is a fixed sequence of kernels, so control flow must be gone before import. Once the
inputs are pinned and constants folded (frontend/folding.py), most control flow in real files is static:
an `If` on a sample rate or on a shape, a `Loop` with a constant trip count, a `Scan` over a tensor of known
length. Each such node is replaced by the nodes of its subgraph: the chosen branch of an `If`, or one copy
of the body per iteration of a `Loop` or `Scan` (at most `max_unroll` copies over the whole model). Every
tensor defined inside a subgraph is renamed uniquely; references to the outer scope keep their names, so
they resolve naturally. Folding then continues over the new nodes (a nested `If` resolves in a later round).

A node that stays dynamic is refused in one line naming it and what would make it compile (`refusal`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from h3pc.diagnostics import H3pcError, UnsupportedError

#: the ops resolved here; the importer has no entry for them
CONTROL_OPS = ("If", "Loop", "Scan")
#: default limit on the body copies that all Loop and Scan unrolling of one model may make together
DEFAULT_MAX_UNROLL = 4096
#: the largest --max-unroll: every copy is a body's worth of nodes to infer, fold, import and compile
MAX_UNROLL = 1 << 20


def is_control(node: Any) -> bool:
    return node.domain in ("", "ai.onnx") and node.op_type in CONTROL_OPS


def subgraphs(node: Any) -> list[Any]:
    """The graphs held by a node's attributes (then/else branches, a loop or scan body)."""
    out = []
    for a in node.attribute:
        if a.HasField("g"):
            out.append(a.g)
        out.extend(a.graphs)
    return out


def _defined(graph: Any) -> set[str]:
    return ({i.name for i in graph.input} | {t.name for t in graph.initializer}
            | {o for n in graph.node for o in n.output if o})


def _free_names(graph: Any) -> set[str]:
    """Names a subgraph reads from its enclosing scopes."""
    reads = {o.name for o in graph.output}
    for n in graph.node:
        reads.update(i for i in n.input if i)
        for g in subgraphs(n):
            reads |= _free_names(g)
    return reads - _defined(graph) - {""}


def implicit_inputs(node: Any) -> set[str]:
    """Outer-scope tensors a node's subgraphs read: inputs of the node as much as its listed ones."""
    out: set[str] = set()
    for g in subgraphs(node):
        out |= _free_names(g)
    return out


def node_inputs(node: Any) -> list[str]:
    """Every tensor a node reads: its listed inputs, then what its subgraphs read from outside."""
    listed = [i for i in node.input if i]
    return listed + sorted(implicit_inputs(node) - set(listed)) if node.attribute else listed


def _all_names(graph: Any, into: set[str]) -> set[str]:
    into |= _defined(graph) | {o.name for o in graph.output}
    for n in graph.node:
        for g in subgraphs(n):
            _all_names(g, into)
    return into


def _rename_refs(graph: Any, mapping: dict[str, str]) -> None:
    """Rename the outer-scope references inside a nested subgraph (its own names shadow `mapping`)."""
    local = {k: v for k, v in mapping.items() if k not in _defined(graph)}
    if not local:
        return
    for n in graph.node:
        for k, i in enumerate(n.input):
            if i in local:
                n.input[k] = local[i]
        for g in subgraphs(n):
            _rename_refs(g, local)
    for o in graph.output:
        if o.name in local:
            o.name = local[o.name]


class Resolver:
    """One pass over a graph's top-level control-flow nodes, replacing each that is static now.

    `value(name)` gives a constant's array (None when not constant), `add_constant(name, array)` records a
    new one (subgraph initializers, iteration numbers, gather indices), `types` maps a tensor to its
    (element type, static shape) where inferred; `budget[0]` is the body copies still allowed."""

    def __init__(self, graph: Any, opset: int, value: Callable[[str], np.ndarray | None],
                 add_constant: Callable[[str, np.ndarray], None], types: dict[str, tuple[int, tuple[int, ...]]],
                 budget: list[int], max_unroll: int, path: Any) -> None:
        self.graph, self.opset, self.value, self.add_constant = graph, opset, value, add_constant
        self.types, self.budget, self.max_unroll, self.path = types, budget, max_unroll, path
        self.names = _all_names(graph, set())

    # --- helpers ----------------------------------------------------------------------------

    def fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self.names:
            k += 1
            name = f"{base}_{k}"
        self.names.add(name)
        return name

    def constant(self, base: str, arr: np.ndarray) -> str:
        name = self.fresh(base)
        self.add_constant(name, arr)
        return name

    def where(self, node: Any) -> str:
        return f"{self.path}: {node.op_type} '{node.name or node.output[0]}'"

    def inline(self, body: Any, bound: dict[str, str], prefix: str) -> tuple[list[Any], list[str]]:
        """Copies of a subgraph's nodes with every name it defines renamed under `prefix`; its inputs
        are `bound` to outer names. Returns the nodes and the outer names of its outputs."""
        from onnx import NodeProto, numpy_helper

        if body.sparse_initializer:
            raise UnsupportedError(f"{prefix.rstrip('/')}: sparse initializers in a subgraph are not supported")
        local = dict(bound)
        for t in body.initializer:
            local[t.name] = self.constant(prefix + t.name, numpy_helper.to_array(t))
        for n in body.node:
            for o in n.output:
                if o:
                    local[o] = self.fresh(prefix + o)
        nodes = []
        for n in body.node:
            c = NodeProto()
            c.CopyFrom(n)
            c.name = prefix + (n.name or f"{n.op_type}_{n.output[0]}")
            for k, i in enumerate(c.input):
                if i in local:
                    c.input[k] = local[i]
            for k, o in enumerate(c.output):
                if o:
                    c.output[k] = local[o]
            for g in subgraphs(c):
                _rename_refs(g, local)
            nodes.append(c)
        return nodes, [local.get(o.name, o.name) for o in body.output]

    def identity(self, src: str, dst: str, name: str) -> Any:
        from onnx import helper

        return helper.make_node("Identity", [src], [dst], name=name)

    def unsqueeze(self, src: str, axis: int, name: str) -> tuple[list[Any], str]:
        from onnx import helper

        out = self.fresh(f"{name}_unsq")
        if self.opset >= 13:
            axes = self.constant(f"{name}_axes", np.asarray([axis], np.int64))
            return [helper.make_node("Unsqueeze", [src, axes], [out], name=f"{name}/unsqueeze")], out
        return [helper.make_node("Unsqueeze", [src], [out], name=f"{name}/unsqueeze", axes=[axis])], out

    def stack(self, pieces: list[str], axis: int, dst: str, name: str) -> list[Any]:
        """`dst` = the pieces stacked along a new `axis` (negative: counted in the stacked rank)."""
        from onnx import helper

        nodes, parts = [], []
        for k, p in enumerate(pieces):
            ns, out = self.unsqueeze(p, axis, f"{name}/{k}")
            nodes += ns
            parts.append(out)
        if len(parts) == 1:
            nodes.append(self.identity(parts[0], dst, f"{name}/stack"))
        else:
            nodes.append(helper.make_node("Concat", parts, [dst], name=f"{name}/stack", axis=axis))
        return nodes

    def spend(self, node: Any, copies: int) -> None:
        if copies > self.budget[0]:
            used = self.max_unroll - self.budget[0]
            fix = (f"raise --max-unroll to at least {used + copies} to compile it" if used + copies <= MAX_UNROLL
                   else f"more than --max-unroll may allow ({MAX_UNROLL}), so it cannot be unrolled")
            raise UnsupportedError(
                f"{self.where(node)}: unrolling {copies} iterations would exceed --max-unroll {self.max_unroll} "
                f"({used} body copies already made); {fix}")
        self.budget[0] -= copies

    def graph_attr(self, node: Any, name: str) -> Any:
        for a in node.attribute:
            if a.name == name and a.HasField("g"):
                return a.g
        raise H3pcError(f"{self.where(node)}: has no '{name}' graph attribute")

    def scalar(self, node: Any, what: str, tensor: str, arr: np.ndarray) -> Any:
        """The one element of a condition or trip count (refused, named, when it has another count)."""
        if arr.size != 1:
            raise H3pcError(f"{self.where(node)}: {what} '{tensor}' has {arr.size} elements, not 1")
        return arr.reshape(-1)[0]

    # --- the three ops ----------------------------------------------------------------------

    def resolve(self) -> int:
        """Replace every control-flow node that is static now; the number replaced."""
        out, done = [], 0
        self.empty: set[str] = set()  # scan outputs of loops that ended after their peeled iterations
        for node in self.graph.node:
            new = None
            if is_control(node):
                new = getattr(self, f"_{node.op_type.lower()}")(node)
            if new is None:
                out.append(node)
            else:
                out.extend(new)
                done += 1
        if self.empty:
            out = self._drop_empty(out)
        if done:
            del self.graph.node[:]
            self.graph.node.extend(out)
        return done

    def _drop_empty(self, nodes: list[Any]) -> list[Any]:
        """The Concat that appends a finished loop's (empty) remaining scan output to its peeled iterations
        loses that input (an Identity when one is left); no other node may read it."""
        from onnx import helper

        out = []
        for n in nodes:
            if not self.empty.intersection(n.input):
                out.append(n)
                continue
            if n.op_type != "Concat":
                raise UnsupportedError(f"{self.path}: node '{n.name}' ({n.op_type}) reads the scan output of a loop "
                                       "that ran 0 times (an empty tensor, which is not supported)")
            keep = [i for i in n.input if i not in self.empty]
            if len(keep) == 1:
                out.append(helper.make_node("Identity", keep, list(n.output), name=n.name))
            else:
                del n.input[:]
                n.input.extend(keep)
                out.append(n)
        return out

    def _if(self, node: Any) -> list[Any] | None:
        cond = self.value(node.input[0])
        if cond is None:
            return None
        taken = "then_branch" if bool(self.scalar(node, "condition", node.input[0], cond)) else "else_branch"
        branch = self.graph_attr(node, taken)
        name = node.name or node.output[0]
        nodes, outs = self.inline(branch, {}, f"{name}/{taken.split('_')[0]}/")
        if len(outs) != len(node.output):
            raise H3pcError(f"{self.where(node)}: its {taken} has {len(outs)} outputs for {len(node.output)}")
        nodes += [self.identity(src, dst, f"{name}/out{k}") for k, (src, dst) in enumerate(zip(outs, node.output))
                  if dst]
        return nodes

    def _loop(self, node: Any) -> list[Any] | None:
        body = self.graph_attr(node, "body")
        m_name = node.input[0] if len(node.input) > 0 else ""
        c_name = node.input[1] if len(node.input) > 1 else ""
        carried = list(node.input[2:])
        n_state = len(carried)
        trips = self.value(m_name) if m_name else None
        cond = self.value(c_name) if c_name else None
        if (m_name and trips is None) or (c_name and cond is None):
            return None  # not static yet (refusal() says why if it stays so)
        n_scan = len(body.output) - 1 - n_state
        name = node.name or node.output[0]
        if cond is not None and not bool(self.scalar(node, "condition", c_name, cond)):
            trip_count = 0  # the condition is checked before the first iteration
        elif trips is not None and int(self.scalar(node, "trip count", m_name, trips)) <= 0:
            trip_count = 0
        elif not m_name or not _body_keeps_cond(body):
            # onnxruntime stops on the body's condition (even in a for loop): peel one iteration, and the
            # rest of the loop waits for that condition to fold
            return self._peel(node, body, trips, n_state, n_scan)
        else:
            trip_count = int(trips.reshape(-1)[0])
        if trip_count == 0 and n_scan:
            scan_outs = [o for o in node.output[n_state:] if o]
            if scan_outs and not all(o.startswith(_REST) for o in scan_outs):
                raise UnsupportedError(f"{self.where(node)}: runs 0 times, so its scan outputs would be empty "
                                       "tensors, which are not supported")
            self.empty.update(scan_outs)
        self.spend(node, trip_count)
        iter_shape = _declared_shape(body.input[0]) or ()
        cond_shape = _declared_shape(body.input[1]) or ()
        nodes: list[Any] = []
        state = carried
        elems: list[list[str]] = [[] for _ in range(n_scan)]
        for t in range(trip_count):
            it = self.constant(f"{name}/iter{t}", np.full(iter_shape, t, np.int64))
            ci = self.constant(f"{name}/cond{t}", np.full(cond_shape, True))
            bound = {body.input[0].name: it, body.input[1].name: ci}
            bound.update({b.name: s for b, s in zip(body.input[2:], state)})
            ns, outs = self.inline(body, bound, f"{name}/{t}/")
            nodes += ns
            state = outs[1:1 + n_state]
            for k in range(n_scan):
                elems[k].append(outs[1 + n_state + k])
        nodes += [self.identity(src, dst, f"{name}/out{k}") for k, (src, dst) in enumerate(zip(state, node.output))
                  if dst]
        for k in range(n_scan):
            dst = node.output[n_state + k] if n_state + k < len(node.output) else ""
            if dst and elems[k]:
                nodes += self.stack(elems[k], 0, dst, f"{name}/scan{k}")
        return nodes

    def _peel(self, node: Any, body: Any, trips: np.ndarray | None, n_state: int, n_scan: int) -> list[Any]:
        """One iteration of a loop whose condition the body computes, then the same loop for the rest:
        trip count one less, the condition and state this iteration computed, the iteration number offset
        by one (a counter kept in the body), its scan outputs appended to this iteration's."""
        from onnx import GraphProto, helper, numpy_helper

        self.spend(node, 1)
        name = node.name or node.output[0]
        offset_name = f"{_REST}offset"
        offset = next((int(numpy_helper.to_array(t)) for t in body.initializer if t.name == offset_name), 0)
        iter_shape = _declared_shape(body.input[0]) or ()
        # the body's own iteration input is 0 here: after the first peel the body adds the offset itself
        it = self.constant(f"{name}/iter{offset}", np.zeros(iter_shape, np.int64))
        ci = self.constant(f"{name}/cond{offset}", np.full(_declared_shape(body.input[1]) or (), True))
        bound = {body.input[0].name: it, body.input[1].name: ci}
        bound.update({b.name: s for b, s in zip(body.input[2:], node.input[2:])})
        nodes, outs = self.inline(body, bound, f"{name}/{offset}/")
        rest = GraphProto()
        rest.CopyFrom(body)
        if offset:  # the counter is there: one more
            for t in rest.initializer:
                if t.name == offset_name:
                    t.CopyFrom(numpy_helper.from_array(np.asarray(offset + 1, np.int64), offset_name))
        else:  # iteration number = the rest's own + offset
            raw = f"{_REST}iter"
            user_iter = rest.input[0].name
            rest.input[0].name = raw
            rest.initializer.append(numpy_helper.from_array(np.asarray(1, np.int64), offset_name))
            add = helper.make_node("Add", [raw, offset_name], [user_iter], name=f"{_REST}iteration")
            nodes_before = list(rest.node)
            del rest.node[:]
            rest.node.extend([add] + nodes_before)
        m_rest = ""
        if trips is not None:
            m_rest = self.constant(f"{name}/trips_left{offset + 1}", np.asarray(int(trips.reshape(-1)[0]) - 1,
                                                                                 np.int64))
        scan_rest = [self.fresh(f"{_REST}{name}/scan{k}") for k in range(n_scan)]
        loop = helper.make_node("Loop", [m_rest, outs[0]] + outs[1:1 + n_state],
                                list(node.output[:n_state]) + scan_rest, name=node.name, body=rest)
        nodes.append(loop)
        for k in range(n_scan):
            dst = node.output[n_state + k] if n_state + k < len(node.output) else ""
            if dst:
                ns, first = self.unsqueeze(outs[1 + n_state + k], 0, f"{name}/{offset}/scan{k}")
                nodes += ns
                nodes.append(helper.make_node("Concat", [first, scan_rest[k]], [dst], name=f"{name}/{offset}/cat{k}",
                                              axis=0))
        return nodes

    def _scan(self, node: Any) -> list[Any] | None:
        from onnx import helper

        attrs = {a.name: a for a in node.attribute}
        body = self.graph_attr(node, "body")
        if "num_scan_inputs" not in attrs:
            raise H3pcError(f"{self.where(node)}: has no 'num_scan_inputs' attribute")
        n_scan_in = attrs["num_scan_inputs"].i
        ins = list(node.input)
        n_state = len(ins) - n_scan_in
        n_scan_out = len(body.output) - n_state
        in_axes = list(attrs["scan_input_axes"].ints) if "scan_input_axes" in attrs else [0] * n_scan_in
        in_dirs = list(attrs["scan_input_directions"].ints) if "scan_input_directions" in attrs else [0] * n_scan_in
        out_axes = list(attrs["scan_output_axes"].ints) if "scan_output_axes" in attrs else [0] * n_scan_out
        out_dirs = (list(attrs["scan_output_directions"].ints) if "scan_output_directions" in attrs
                    else [0] * n_scan_out)
        scan_ins = ins[n_state:]
        if (n_state < 0 or n_scan_out < 0 or len(body.input) != len(ins) or len(in_axes) != n_scan_in
                or len(in_dirs) != n_scan_in or len(out_axes) != n_scan_out or len(out_dirs) != n_scan_out):
            raise H3pcError(f"{self.where(node)}: its inputs, body and scan attributes do not agree in number "
                            f"({len(ins)} inputs, {n_scan_in} scanned, a body of {len(body.input)} inputs and "
                            f"{len(body.output)} outputs)")
        if any(x not in self.types for x in scan_ins):
            return None
        name = node.name or node.output[0]
        lengths = set()
        axes = []
        for x, ax in zip(scan_ins, in_axes):
            shape = self.types[x][1]
            ax = ax + len(shape) if ax < 0 else ax
            if not 0 <= ax < len(shape):
                raise H3pcError(f"{self.where(node)}: scan_input_axes {in_axes} out of range for '{x}' {list(shape)}")
            axes.append(ax)
            lengths.add(shape[ax])
        if len(lengths) != 1:
            raise H3pcError(f"{self.where(node)}: its scan inputs have different lengths {sorted(lengths)}")
        steps = lengths.pop()
        if steps == 0:
            raise UnsupportedError(f"{self.where(node)}: scans 0 steps, so its outputs would be empty tensors, "
                                   "which are not supported")
        self.spend(node, steps)
        nodes: list[Any] = []
        state = ins[:n_state]
        elems: list[list[str]] = [[] for _ in range(n_scan_out)]
        for t in range(steps):
            bound = {b.name: s for b, s in zip(body.input[:n_state], state)}
            for j, (x, ax, rev) in enumerate(zip(scan_ins, axes, in_dirs)):
                idx = self.constant(f"{name}/idx{t}_{j}", np.asarray(steps - 1 - t if rev else t, np.int64))
                sl = self.fresh(f"{name}/{t}/in{j}")
                nodes.append(helper.make_node("Gather", [x, idx], [sl], name=f"{name}/{t}/slice{j}", axis=ax))
                bound[body.input[n_state + j].name] = sl
            ns, outs = self.inline(body, bound, f"{name}/{t}/")
            nodes += ns
            state = outs[:n_state]
            for k in range(n_scan_out):
                elems[k].append(outs[n_state + k])
        nodes += [self.identity(src, dst, f"{name}/out{k}") for k, (src, dst) in enumerate(zip(state, node.output))
                  if dst]
        for k in range(n_scan_out):
            dst = node.output[n_state + k] if n_state + k < len(node.output) else ""
            if dst:
                seq = elems[k][::-1] if out_dirs[k] else elems[k]
                nodes += self.stack(seq, out_axes[k], dst, f"{name}/scan{k}")
        return nodes


#: prefix of the names a peeled loop keeps for itself (its remaining scan outputs, its iteration counter)
_REST = "h3pc.rest/"


def _declared_shape(vi: Any) -> tuple[int, ...] | None:
    """A value_info's static shape, or None when it declares none (or an open dim)."""
    tt = vi.type.tensor_type
    if not vi.type.HasField("tensor_type") or not tt.HasField("shape"):
        return None
    if not all(d.HasField("dim_value") for d in tt.shape.dim):
        return None
    return tuple(d.dim_value for d in tt.shape.dim)


def _body_keeps_cond(body: Any) -> bool:
    """The body's condition output is its condition input passed through (directly or by Identity) or a
    constant true: the loop then runs exactly its trip count."""
    from onnx import numpy_helper

    out = body.output[0].name
    producers = {o: n for n in body.node for o in n.output if o}
    seen = 0
    while out in producers and producers[out].op_type == "Identity" and seen < len(body.node):
        out, seen = producers[out].input[0], seen + 1
    if out == body.input[1].name:
        return True
    for t in body.initializer:
        if t.name == out:
            return bool(numpy_helper.to_array(t).all())
    n = producers.get(out)
    if n is not None and n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
        return bool(numpy_helper.to_array(n.attribute[0].t).all())
    return False


def depends_on(graph: Any, name: str, inputs: Iterable[str]) -> list[str]:
    """The graph inputs among `inputs` that tensor `name` is computed from."""
    producers = {o: n for n in graph.node for o in n.output if o}
    wanted = set(inputs)
    found, seen, stack = [], set(), [name]
    while stack:
        x = stack.pop()
        if x in seen:
            continue
        seen.add(x)
        if x in wanted:
            found.append(x)
        n = producers.get(x)
        if n is not None:
            stack.extend(node_inputs(n))
    return sorted(found)


def refusal(node: Any, graph: Any, inputs: Iterable[str], constant: Callable[[str], bool], path: Any
            ) -> UnsupportedError:
    """Why a control-flow node is still there after folding, and what would resolve it, in one line."""
    where = f"{path}: {node.op_type} '{node.name or node.output[0]}'"
    inputs = list(inputs)

    def pin(what: str, tensor: str) -> str:
        deps = depends_on(graph, tensor, inputs)
        on = f" (it depends on input{'s' if len(deps) > 1 else ''} {', '.join(repr(d) for d in deps)})" if deps else ""
        return (f"{where}: {what} '{tensor}' is not constant after folding{on}; pin the inputs it depends on "
                "with --input-value/--input-shape")

    if node.op_type == "If":
        return UnsupportedError(pin("condition", node.input[0]))
    if node.op_type == "Loop":
        m = node.input[0] if len(node.input) > 0 else ""
        c = node.input[1] if len(node.input) > 1 else ""
        if not m:
            return UnsupportedError(f"{where}: has no trip count (a while loop); only loops with a trip count "
                                    "that is constant after folding are unrolled")
        if not constant(m):
            return UnsupportedError(pin("trip count", m))
        if c and not constant(c):
            return UnsupportedError(pin("condition", c))
        return UnsupportedError(f"{where}: its body computes the loop condition, so the number of iterations is "
                                "only known at run time; only loops whose body passes the condition through "
                                "(a fixed trip count) are unrolled")
    return UnsupportedError(f"{where}: the length of its scan inputs is not static; pin the inputs they depend on "
                            "with --input-shape")
