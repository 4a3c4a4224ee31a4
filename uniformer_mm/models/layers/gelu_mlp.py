"""``fc2(gelu(fc1(x)))`` that keeps less for the backward.

Plain autograd keeps, per MLP, the input ``x``, the pre-activation ``u =
fc1(x)`` (for GELU's backward) *and* the activation ``h = gelu(u)`` (for
fc2's weight gradient): two tensors of the hidden width (4x the channels).
:func:`gelu_mlp` keeps ``x`` and ``u`` only and recomputes ``h`` in the
backward (one elementwise pass). For UniFormer-S 16x224 that is 22 % less
peak training memory (805 -> 624 MiB on CPU, docs/benchmarks.md) for
about 3 % more time; results are the same (same operations, same order).

Used by the UniFormer (V1) MLPs (``Mlp`` of the self-attention blocks,
``CMlp`` of the convolution blocks, on the channel-last view of a
channels-last map). Where it does not apply -- no gradients, autocast,
tracing / scripting / ONNX export / ``torch.compile``, a dispatch mode (FLOP
counting), active dropout -- the plain layers run.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from .cpu_fused import _dispatch_mode_active, _exporting, _flat

__all__ = ['gelu_mlp', 'recompute_applies']


class _GeluMlpFn(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x, w1, b1, w2, b2):
        u = F.linear(x, w1, b1)
        out = F.linear(F.gelu(u), w2, b2)
        ctx.save_for_backward(x, w1, u, w2)
        ctx.has_b1, ctx.has_b2 = b1 is not None, b2 is not None
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        x, w1, u, w2 = ctx.saved_tensors
        need = ctx.needs_input_grad
        g2 = _flat(g)
        gw2 = gb2 = gx = gw1 = gb1 = None
        if need[3]:
            gw2 = g2.t().mm(_flat(F.gelu(u)))  # h recomputed
        if ctx.has_b2 and need[4]:
            gb2 = g2.sum(0)
        if need[0] or need[1] or need[2]:
            gu = torch.ops.aten.gelu_backward(g.matmul(w2), u)
            if need[0]:
                gx = gu.matmul(w1)
            if need[1]:
                gw1 = _flat(gu).t().mm(_flat(x))
            if ctx.has_b1 and need[2]:
                gb1 = _flat(gu).sum(0)
        return gx, gw1, gb1, gw2, gb2


def recompute_applies(x: torch.Tensor, *params: torch.Tensor) -> bool:
    """Whether :func:`gelu_mlp` runs its recomputing autograd function."""
    if not torch.is_grad_enabled() or not (
            x.requires_grad or any(p.requires_grad for p in params
                                   if p is not None)):
        return False
    if not x.is_floating_point() or torch.is_autocast_enabled(
            x.device.type):
        return False
    if torch.jit.is_tracing() or torch.jit.is_scripting() or _exporting():
        return False
    return not _dispatch_mode_active()


def gelu_mlp(x: torch.Tensor, w1: torch.Tensor, b1: Optional[torch.Tensor],
             w2: torch.Tensor, b2: Optional[torch.Tensor]) -> torch.Tensor:
    """``F.linear(F.gelu(F.linear(x, w1, b1)), w2, b2)`` over the last
    dimension of ``x``; see the module doc."""
    if recompute_applies(x, w1, b1, w2, b2):
        return _GeluMlpFn.apply(x, w1, b1, w2, b2)
    return F.linear(F.gelu(F.linear(x, w1, b1)), w2, b2)
