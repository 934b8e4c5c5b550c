"""RMSprop: torch.optim.RMSprop's single-tensor update (momentum, centered, weight decay,
maximize), written with graphc tensor ops so that a traced step records it."""
from __future__ import annotations

from .. import dtypes
from ..factories import tensor, zeros_like
from ..ops.elementwise import div, mul
from .optimizer import Optimizer, _use_grad


class RMSprop(Optimizer):
    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False):
        for name, value in (("learning rate", lr), ("epsilon value", eps), ("momentum value", momentum),
                            ("weight_decay value", weight_decay), ("alpha value", alpha)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, capturable=capturable,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def _state(self, p, group) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = tensor(0.0, dtype=dtypes.float32)
            state["square_avg"] = zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = zeros_like(p)
        return state

    @_use_grad
    def step(self) -> None:
        """square_avg = alpha * square_avg + (1 - alpha) * g^2; avg = sqrt(square_avg (- grad_avg^2)) + eps;
        p -= lr * g / avg (or through the momentum buffer)."""
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            weight_decay, momentum = group["weight_decay"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                state = self._state(p, group)
                state["step"].add_(1)
                if weight_decay != 0:
                    grad = grad.add(p, alpha=weight_decay)
                square_avg = state["square_avg"]
                square_avg.mul_(alpha).add_(mul(mul(grad, 1 - alpha), grad))  # addcmul_
                if group["centered"]:
                    grad_avg = state["grad_avg"]
                    grad_avg.add_(mul(grad.sub(grad_avg), 1 - alpha))  # lerp_(grad, 1 - alpha)
                    avg = square_avg.sub(mul(grad_avg, grad_avg)).sqrt_()
                else:
                    avg = square_avg.sqrt()
                avg = avg.add_(eps)
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf.mul_(momentum).add_(div(grad, avg))
                    p.add_(buf, alpha=-lr)
                else:
                    p.add_(div(grad, avg), alpha=-lr)
