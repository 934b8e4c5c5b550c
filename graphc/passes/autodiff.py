"""Reverse-mode autodiff over a static graph.

The forward graph is replayed through the dispatcher on abstract (shape-only) tensors while a
recorder writes a new graph, then the eager backward engine runs over the grad_fn nodes that
replay made: the registry's VJP rules, recorded. One implementation of differentiation serves
eager `backward()` and this pass; applying the pass to its own result gives higher orders.
"""
from __future__ import annotations

from ..autograd import grad as autograd_grad
from ..factories import zeros
from ..ir import Graph
from ..ops.registry import REGISTRY
from ..state import STATE
from ..tensor import Tensor
from ..trace import Recorder


def autodiff(graph: Graph, outputs=None, wrt=None) -> Graph:
    """A graph computing `graph`'s outputs followed by d(outputs)/d(wrt), one per name in wrt.

    outputs: names of the outputs to differentiate (default: all floating-point outputs); a
    non-scalar output gets a cotangent input ``grad_<name>``. wrt: names of graph inputs or
    initializers (default: every floating-point input). An input the outputs do not depend on
    gets a zero gradient.
    """
    outputs = list(outputs if outputs is not None else
                   [v for v in graph.outputs if graph.type_of(v).dtype.is_floating_point])
    wrt = list(wrt if wrt is not None else
               [v for v in graph.inputs if graph.type_of(v).dtype.is_floating_point])
    new = Graph(graph.name)
    rec = Recorder(new)
    env: dict[str, Tensor] = {}
    for v in graph.inputs:
        env[v] = _leaf(rec, new.add_input(v, graph.type_of(v)), Tensor._abstract(graph.type_of(v)))
    for v, data in graph.initializers.items():
        env[v] = _leaf(rec, new.add_initializer(v, data), Tensor._make(data))
    for v in wrt:
        env[v].requires_grad = True
    cotangents = []
    for v in outputs:
        ty = graph.type_of(v)
        if ty.shape:
            name = new.add_input(new.fresh_name(f"grad_{v}"), ty)
            cotangents.append(_leaf(rec, name, Tensor._abstract(ty)))
        else:
            cotangents.append(None)
    prev, prev_grad = STATE.recorder, STATE.grad_enabled
    STATE.recorder, STATE.grad_enabled = rec, True
    try:
        _replay(graph, env, rec)
        grads = autograd_grad([env[v] for v in outputs], [env[v] for v in wrt], cotangents,
                              allow_unused=True)
        grads = [g if g is not None else zeros(*graph.type_of(v).shape, dtype=graph.type_of(v).dtype)
                 for g, v in zip(grads, wrt)]
        new.set_outputs([rec.name_of(env[v]) for v in graph.outputs] + [rec.name_of(g) for g in grads])
    finally:
        STATE.recorder, STATE.grad_enabled = prev, prev_grad
    new.verify()
    from .simplify import dce

    return dce(new)


def _leaf(rec: Recorder, name: str, t: Tensor) -> Tensor:
    rec.bind(t, name)
    return t


def _replay(graph: Graph, env: dict, rec: Recorder) -> None:
    """Run every node through the dispatcher, keeping its value names and source line."""
    from ..dispatch import dispatch

    for node in graph.nodes():
        if node.subgraph is not None:
            raise ValueError(f"autodiff: node {node.name!r} is fused; differentiate before fusion")
        op = REGISTRY[node.op]
        rec.source_override = node.source
        rec.output_names = list(node.outputs)
        outs = dispatch(op, [env[v] for v in node.inputs], op.complete_attrs(dict(node.attrs)))
        rec.source_override = None
        env.update(zip(node.outputs, outs if isinstance(outs, tuple) else (outs,)))
