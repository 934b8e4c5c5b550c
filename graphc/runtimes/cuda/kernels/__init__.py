"""graphc's own CUDA kernels for the ops that are not elementwise: op name -> generator
(node, type_of) -> NodeCode. Elementwise ops and reductions come from the code generator
(codegen.py), driven by the registry's scalar expressions; ops listed in HOST run their NumPy
kernel on the host between device copies (their output shape or layout depends on data)."""
from __future__ import annotations

from . import gemm, layout, nn

GENERATORS = {
    "MatMul": gemm.matmul, "Gemm": gemm.gemm, "Conv": gemm.conv,
    "graphc.ConvGradInput": gemm.conv_grad_input, "graphc.ConvGradWeight": gemm.conv_grad_weight,
    "Reshape": layout.copy, "Transpose": layout.transpose, "Expand": layout.expand, "Tile": layout.tile,
    "graphc.Flip": layout.flip, "Slice": layout.slice_, "graphc.SliceGrad": layout.slice_grad,
    "Pad": layout.pad, "Concat": layout.concat, "Trilu": layout.trilu, "graphc.OneHot": layout.one_hot,
    "Gather": layout.gather, "GatherElements": layout.gather_elements,
    "graphc.GatherGrad": layout.gather_grad, "ScatterElements": layout.scatter_elements,
    "graphc.NonZero": layout.nonzero, "graphc.MaxPoolGrad": layout.max_pool_grad,
    "MaxPool": nn.max_pool, "AveragePool": nn.average_pool, "graphc.AveragePoolGrad": nn.average_pool_grad,
    "GlobalAveragePool": nn.global_average_pool, "graphc.AdaptiveAvgPool": nn.adaptive_avg_pool,
    "Softmax": nn.softmax, "LogSoftmax": nn.softmax, "Dropout": nn.dropout,
    "BatchNormalization": nn.batch_norm, "NegativeLogLikelihoodLoss": nn.nll,
    "graphc.NllLossGrad": nn.nll_grad, "ArgMax": nn.arg_extreme, "ArgMin": nn.arg_extreme,
    "TopK": nn.topk,
}

HOST = frozenset({"graphc.Index", "graphc.IndexGrad", "graphc.IndexPut", "CumSum", "graphc.CumProd"})
