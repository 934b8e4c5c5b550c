"""Cases for graphc/nn/resample.py (interpolate, pixel shuffle) and the nn.functional compositions
added with it (prelu, shrinks, distances, margin losses, instance norm)."""
from .case import Case, args, ints, randn

F = "nn.functional"


def _f(m):
    return m.nn.functional


CASES = [
    Case(("Gather",), lambda m, x: _f(m).interpolate(x, scale_factor=2), args(randn(1, 2, 3, 4)),
         id="interpolate-nearest"),
    Case(("Gather",), lambda m, x: _f(m).interpolate(x, size=(5, 3)), args(randn(2, 1, 3, 4)),
         id="interpolate-nearest-size"),
    Case(("Mul",), lambda m, x: _f(m).interpolate(x, size=(5, 7), mode="bilinear", align_corners=False),
         args(randn(1, 2, 3, 4)), id="interpolate-bilinear"),
    Case(("Mul",), lambda m, x: _f(m).interpolate(x, scale_factor=2, mode="bilinear", align_corners=True),
         args(randn(1, 2, 3, 4)), id="interpolate-bilinear-corners"),
    Case(("Mul",), lambda m, x: _f(m).interpolate(x, scale_factor=0.5, mode="bilinear"),
         args(randn(1, 1, 6, 4)), id="interpolate-bilinear-down"),
    Case(("Mul",), lambda m, x: _f(m).interpolate(x, size=7, mode="linear"), args(randn(2, 3, 4)),
         id="interpolate-linear"),
    Case(("Transpose",), lambda m, x: _f(m).pixel_unshuffle(_f(m).pixel_shuffle(x, 2) * 2, 2),
         args(randn(1, 8, 2, 3)), id="pixel-shuffle"),
    Case(("Where",), lambda m, x, w: _f(m).prelu(x, w), args(randn(2, 3, 4, away=0.0), randn(3)), grad=(0, 1),
         id="prelu"),
    Case(("Where",), lambda m, x: _f(m).softshrink(x, 0.5) + _f(m).hardshrink(x, 0.3) + _f(m).tanhshrink(x),
         args(randn(3, 4, away=0.5)), kinks=None, id="shrinks"),
    Case(("Sqrt",), lambda m, x, y: _f(m).pairwise_distance(x, y), args(randn(3, 4), randn(3, 4)), grad=(0, 1),
         id="pairwise-distance"),
    Case(("Clip",), lambda m, x, y, t: _f(m).margin_ranking_loss(x, y, t.float() * 2 - 1, margin=0.1),
         args(randn(6), randn(6), ints(0, 2, 6)), grad=(0, 1), fd=False, id="margin-ranking"),
    Case(("Clip",), lambda m, a, p, n: _f(m).triplet_margin_loss(a, p, n, reduction="none"),
         args(randn(4, 3), randn(4, 3), randn(4, 3)), grad=(0, 1, 2), fd=False, id="triplet-margin"),
    Case(("Mul",), lambda m, x, w, b: _f(m).instance_norm(x, weight=w, bias=b), args(randn(2, 3, 5), randn(3), randn(3)),
         grad=(0, 1, 2), id="instance-norm"),
    Case(("Mul",), lambda m, x, w, b: _f(m).group_norm(x, 2, w, b), args(randn(2, 4, 3, 2), randn(4), randn(4)),
         grad=(0, 1, 2), id="group-norm"),
    Case(("Conv",), lambda m, x, w, b: _f(m).conv1d(x, w, b, padding=1), args(randn(2, 3, 7), randn(4, 3, 3), randn(4)),
         grad=(0, 1, 2), id="conv1d"),
]
