"""graphc's intermediate representation: typed values, the graph that holds them, its text form,
its files, and value lifetimes (DESIGN §3)."""
from .errors import GraphError, GraphFileError, ParseError
from .graph import Graph, Node
from .liveness import Liveness, liveness
from .serialize import load, save
from .types import TensorType

__all__ = ["Graph", "Node", "TensorType", "GraphError", "GraphFileError", "ParseError",
           "Liveness", "liveness", "save", "load"]
