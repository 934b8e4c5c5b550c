"""Lowering a graph to CUDA: every node becomes a `NodeCode` (its kernels, scratch, or a host
call), and the graph's distinct kernels become one CUDA C module."""
from __future__ import annotations

from ...errors import GraphcError
from ...ops.registry import REGISTRY
from .codegen import FUSED, REDUCTIONS, elementwise_code, fused_code, reduction_code
from .kernel import NodeCode
from .kernels import GENERATORS, HOST


class CudaCodegenError(GraphcError):
    """A node could not be turned into CUDA code."""


def node_code(node, type_of) -> NodeCode:
    """The CUDA code that computes `node` (type_of gives each value's TensorType)."""
    try:
        if node.op == FUSED:
            return fused_code(node)
        op = REGISTRY.get(node.op)
        if op is not None and op.elementwise and op.expr:
            return elementwise_code(node, type_of)
        if node.op in REDUCTIONS:
            return reduction_code(node, type_of)
        gen = GENERATORS.get(node.op)
        if gen is not None:
            return gen(node, type_of)
        if node.op in HOST:
            return NodeCode(node.name, node.op, host=_host_kernel(op, node))
    except (KeyError, NotImplementedError, ValueError, TypeError) as exc:
        raise CudaCodegenError(f"node {node.name!r} ({node.op}): no CUDA code: {exc}") from exc
    raise CudaCodegenError(f"node {node.name!r}: the CUDA runtime has no kernel for op {node.op}")


def _host_kernel(op, node):
    attrs = op.complete_attrs(dict(node.attrs))
    return lambda *arrays: op.kernel(*arrays, **attrs)


def graph_code(graph) -> list[NodeCode]:
    return [node_code(node, graph.type_of) for node in graph.nodes()]


def module_source(codes) -> str:
    """One CUDA C translation unit holding every distinct kernel of `codes`, in first-use order."""
    from .compiler import Module

    return Module(codes).source
