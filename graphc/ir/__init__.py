"""graphc's intermediate representation: typed values and (later) the graph that holds them."""
from .types import TensorType

__all__ = ["TensorType"]
