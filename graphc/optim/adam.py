"""Adam and AdamW: torch.optim.Adam's single-tensor update, written with graphc tensor ops.

The step counter is a 0-d float32 tensor (as in PyTorch) and the bias corrections are computed
from it with float64 tensor ops, which reproduces PyTorch's Python-float arithmetic while keeping
the whole update traceable (a recorded step reads the counter as a graph value, not a constant).
"""
from __future__ import annotations

from .. import dtypes
from ..factories import tensor, zeros_like
from ..ops.elementwise import cast, div, mul, sqrt, sub
from .optimizer import Optimizer, _use_grad


class Adam(Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 maximize: bool = False, decoupled_weight_decay: bool = False, foreach=None,
                 capturable: bool = False, differentiable: bool = False, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused))

    def _state(self, p, amsgrad: bool) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = tensor(0.0, dtype=dtypes.float32)
            state["exp_avg"] = zeros_like(p)
            state["exp_avg_sq"] = zeros_like(p)
            if amsgrad:
                state["max_exp_avg_sq"] = zeros_like(p)
        return state

    @_use_grad
    def step(self) -> None:
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                state = self._state(p, amsgrad)
                step_t, exp_avg, exp_avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]
                step_t.add_(1)
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        p.mul_(1 - lr * weight_decay)
                    else:
                        grad = grad.add(p, alpha=weight_decay)
                exp_avg.add_(mul(sub(grad, exp_avg), 1 - beta1))  # lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).add_(mul(mul(grad, 1 - beta2), grad))  # addcmul_
                step = cast(step_t, dtypes.float64)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
                step_size = lr / bias_correction1
                if amsgrad:
                    second = state["max_exp_avg_sq"].maximum_(exp_avg_sq)
                else:
                    second = exp_avg_sq
                # PyTorch rounds these Python-float scalars to the parameter's dtype inside its kernels.
                denom = div(sqrt(second), cast(bias_correction2_sqrt, p.dtype)).add_(eps)
                p.add_(div(mul(exp_avg, cast(-step_size, p.dtype)), denom))  # addcdiv_(value=-step_size)


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the Adam update."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach=None, capturable: bool = False,
                 differentiable: bool = False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, foreach=foreach, capturable=capturable,
                         differentiable=differentiable, fused=fused)
