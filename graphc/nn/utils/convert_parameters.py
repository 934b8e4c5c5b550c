"""Parameters to one flat vector and back, as torch.nn.utils."""
from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...ops.shape import cat
from ...tensor import Tensor


def parameters_to_vector(parameters) -> Tensor:
    """All parameters, flattened and concatenated in order (differentiable, like PyTorch's)."""
    params = list(parameters)
    if not params:
        raise RuntimeError("parameters_to_vector() needs at least one parameter")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of `vec` into the parameters, in order."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    need = sum(p.numel() for p in params)
    if vec.numel() != need:
        raise RuntimeError(f"vector_to_parameters(): the vector has {vec.numel()} elements, the parameters {need}")
    at = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[at:at + n].reshape(p.shape))
            at += n
