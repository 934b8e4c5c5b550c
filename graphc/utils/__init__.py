"""graphc.utils: data loading (graphc.utils.data), as torch.utils."""
from . import data

__all__ = ["data"]
