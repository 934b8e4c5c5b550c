"""Graph-to-graph passes (DESIGN §4): pure, named functions composed into printable pipelines."""
from .fuse import FUSED, fuse
from .memory import MemoryPlan, PlanError, check_plan, plan_memory
from .pipeline import Pass, Pipeline, graph_pass
from .simplify import algebraic, cse, dce, fold_constants, simplify

DEFAULT_PIPELINE = Pipeline([simplify, fuse])

__all__ = ["Pass", "Pipeline", "graph_pass", "DEFAULT_PIPELINE", "simplify", "dce", "cse",
           "fold_constants", "algebraic", "fuse", "FUSED", "plan_memory", "check_plan",
           "MemoryPlan", "PlanError"]
