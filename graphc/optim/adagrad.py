"""Adagrad: torch.optim.Adagrad's single-tensor update (lr decay, weight decay, initial accumulator,
maximize), written with graphc tensor ops so that a traced step records it."""
from __future__ import annotations

from .. import dtypes
from ..factories import full_like, tensor
from ..ops.elementwise import div, mul
from .optimizer import Optimizer, _use_grad


class Adagrad(Optimizer):
    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None):
        for name, value in (("learning rate", lr), ("lr_decay value", lr_decay),
                            ("weight_decay value", weight_decay),
                            ("initial_accumulator_value value", initial_accumulator_value),
                            ("epsilon value", eps)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        for group in self.param_groups:  # PyTorch makes Adagrad's state eagerly
            for p in group["params"]:
                self.state[p]["step"] = tensor(0.0, dtype=dtypes.float32)
                self.state[p]["sum"] = full_like(p, group["initial_accumulator_value"])

    @_use_grad
    def step(self) -> None:
        """sum += g^2; p -= clr * g / (sqrt(sum) + eps), clr = lr / (1 + (step - 1) * lr_decay)."""
        for group in self.param_groups:
            lr, lr_decay, eps, weight_decay = group["lr"], group["lr_decay"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                state = self.state[p]
                state["step"].add_(1)
                if weight_decay != 0:
                    grad = grad.add(p, alpha=weight_decay)
                state["sum"].add_(mul(grad, grad))
                update = div(grad, state["sum"].sqrt().add_(eps))
                if lr_decay != 0:
                    clr = div(lr, mul(state["step"].sub(1), lr_decay).add_(1))
                    p.sub_(mul(update, clr.to(p.dtype)))
                else:
                    p.add_(update, alpha=-lr)
