"""Fused / faster CPU kernels (float32) with autograd: linear layers
(oneDNN) and the backward of depthwise 3D convolutions.

PyTorch runs float32 ``F.linear`` on CPU through MKL ``sgemm`` plus
separate passes for the bias, the activation and the residual addition.
``torch.ops.mkldnn._linear_pointwise`` (the oneDNN matmul that
``torch.compile`` uses for CPU linear layers) computes ``x W^T + b`` with an
optional fused activation (``'swish'`` = SiLU) or a fused addition of
another tensor (the ``binary`` overload with ``'add'``) in one kernel. On
the 2-core AMD EPYC used for docs/benchmarks.md its forward GEMMs are also
10-25 % faster than MKL's for the ViT-B shapes.

This module wraps it in autograd functions:

* :func:`linear` ``(x, weight, bias=None, residual=None)`` =
  ``residual + F.linear(x, weight, bias)``;
* :func:`quick_gelu_mlp` ``(x, w1, b1, w2, b2, residual=None)`` =
  ``residual + F.linear(quick_gelu(F.linear(x, w1, b1)), w2, b2)`` with
  ``quick_gelu(u) = u * sigmoid(1.702 u)`` computed as
  ``silu(1.702 u) / 1.702`` (one fused SiLU kernel forward and one
  ``silu_backward`` kernel backward instead of three and five elementwise
  passes); without gradients the SiLU is fused into the first GEMM
  (weights pre-scaled by 1.702, the ``1 / 1.702`` folded into ``w2``).

Backward: input gradients ``g W`` with oneDNN, weight gradients
``g^T x`` with ``torch.mm`` (MKL; oneDNN is slower for the transposed
operand), bias gradients ``g.sum(0)``. The saved tensors are those of the
plain layers (the MLP keeps the pre-activation and the activation, as
PyTorch does); double backward is not supported (``once_differentiable``).

:func:`depthwise_conv3d` computes its backward as two depthwise
convolutions (see :class:`_DepthwiseConv3dFn`), much faster than PyTorch's
CPU depthwise-convolution backward on channels-last maps.

The results equal the plain PyTorch ones up to float32 rounding (the
summation order of the GEMMs differs; ~1e-6 relative). The fused path is
used only where it is safe: CPU, float32, strided plain tensors, no
autocast, not while tracing / scripting / compiling / exporting, and no
``TorchDispatchMode`` (e.g. ``FlopCounterMode``) active; everywhere else
the functions run the reference PyTorch code. A one-time self-test checks
the op against ``F.linear`` before it is used; ``UNIFORMER_MM_CPU_FUSED=0``
in the environment (or :func:`set_enabled` ``(False)``) turns it off.
"""
import os
from typing import Optional

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from ... import compat

__all__ = ['linear', 'quick_gelu_mlp', 'quick_gelu', 'depthwise_conv3d',
           'fused_available', 'set_enabled', 'can_fuse']

QUICK_GELU_ALPHA = 1.702

_STATE = {'checked': False, 'ok': False,
          'enabled': os.environ.get('UNIFORMER_MM_CPU_FUSED', '1') != '0'}


def set_enabled(enabled: bool) -> None:
    """Turn the fused CPU path on or off (process-wide)."""
    _STATE['enabled'] = bool(enabled)


def _op():
    return torch.ops.mkldnn._linear_pointwise


def fused_available() -> bool:
    """Whether the oneDNN op exists and passed the self-test."""
    if not _STATE['checked']:
        _STATE['checked'] = True
        try:
            if not torch.backends.mkldnn.is_available():
                raise RuntimeError('oneDNN not available')
            gen = torch.Generator().manual_seed(0)
            x = torch.randn(3, 5, 16, generator=gen)
            w = torch.randn(8, 16, generator=gen)
            b = torch.randn(8, generator=gen)
            r = torch.randn(3, 5, 8, generator=gen)
            ref = F.linear(x, w, b)
            op = _op()
            with torch.no_grad():
                outs = [(op(x, w, b, 'none', [], ''), ref),
                        (op.binary(x, r, w, b, 'add'), ref + r),
                        (op(x, w, b, 'swish', [], ''), F.silu(ref)),
                        (op(x, w.t().contiguous().t(), None, 'none', [], ''),
                         F.linear(x, w)),
                        (op(x.transpose(0, 1), w, b, 'none', [], ''),
                         ref.transpose(0, 1))]
            _STATE['ok'] = all(
                o.shape == e.shape and torch.allclose(o, e, atol=1e-4,
                                                      rtol=1e-4)
                for o, e in outs)
        except Exception:  # noqa: BLE001 - any failure disables the path
            _STATE['ok'] = False
    return _STATE['ok']


def _dispatch_mode_active() -> bool:
    try:
        from torch.utils._python_dispatch import _get_current_dispatch_mode
        return _get_current_dispatch_mode() is not None
    except Exception:  # noqa: BLE001 - private API moved: be conservative
        return True


def _exporting() -> bool:
    try:
        if torch.onnx.is_in_onnx_export():
            return True
    except Exception:  # noqa: BLE001
        pass
    try:
        return bool(torch.compiler.is_compiling())
    except Exception:  # noqa: BLE001
        return False


def can_fuse(*tensors: Optional[torch.Tensor]) -> bool:
    """True where the fused oneDNN path may run for these tensors."""
    return eligible(*tensors) and fused_available()


def eligible(*tensors: Optional[torch.Tensor]) -> bool:
    """True where a custom CPU float32 path may run for these tensors
    (switched on, plain CPU float32 tensors, no autocast, tracing,
    compiling, exporting or dispatch mode)."""
    if not _STATE['enabled']:
        return False
    for t in tensors:
        if t is None:
            continue
        if type(t) not in (torch.Tensor, torch.nn.Parameter) or \
                t.device.type != 'cpu' or t.dtype != torch.float32 or \
                t.layout != torch.strided:
            return False
    if torch.jit.is_tracing() or torch.jit.is_scripting() or _exporting():
        return False
    return not (torch.is_autocast_enabled('cpu') or _dispatch_mode_active())


def quick_gelu(x: torch.Tensor) -> torch.Tensor:
    """CLIP's ``x * sigmoid(1.702 x)`` (reference form)."""
    return x * torch.sigmoid(QUICK_GELU_ALPHA * x)


def _flat(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(-1, t.shape[-1])


def _input_grad(g: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    # g @ W as a "linear" with the transposed weight (oneDNN)
    return _op()(g, weight.t(), None, 'none', [], '')


def _weight_grad(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return _flat(g).t().mm(_flat(x))


#: forward GEMM of the autograd functions: 'dnn' (oneDNN, epilogues
#: fused; measured faster here) or 'mkl' (torch.addmm, then in-place
#: epilogues)
FORWARD_GEMM = 'dnn'


def _fwd_linear(x, weight, bias, residual=None):
    if FORWARD_GEMM == 'mkl':
        x2 = _flat(x)
        if bias is None:
            out = x2.mm(weight.t())
        else:
            out = torch.addmm(bias, x2, weight.t())
        out = out.view(*x.shape[:-1], weight.shape[0])
        if residual is not None:
            out.add_(residual)
        return out
    op = _op()
    if residual is None:
        return op(x, weight, bias, 'none', [], '')
    return op.binary(x, residual, weight, bias, 'add')


class _LinearFn(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x, weight, bias, residual):
        out = _fwd_linear(x, weight, bias, residual)
        # keep only what the needed gradients use (frozen weights: no x)
        need = ctx.needs_input_grad
        ctx.save_for_backward(x if need[1] else None,
                              weight if need[0] else None)
        ctx.has_bias = bias is not None
        ctx.has_residual = residual is not None
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        gx = gw = gb = gr = None
        if ctx.needs_input_grad[0]:
            gx = _input_grad(g, weight)
        if ctx.needs_input_grad[1]:
            gw = _weight_grad(g, x)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = _flat(g).sum(0)
        if ctx.has_residual and ctx.needs_input_grad[3]:
            gr = g
        return gx, gw, gb, gr


def _needs_grad(*tensors) -> bool:
    return torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in tensors)


def linear(x: torch.Tensor,
           weight: torch.Tensor,
           bias: Optional[torch.Tensor] = None,
           residual: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``residual + F.linear(x, weight, bias)`` (``residual`` optional)."""
    if not can_fuse(x, weight, bias, residual) or \
            (residual is not None and residual.shape[:-1] != x.shape[:-1]):
        out = F.linear(x, weight, bias)
        return out if residual is None else residual + out
    if _needs_grad(x, weight, bias, residual):
        return _LinearFn.apply(x, weight, bias, residual)
    return _fwd_linear(x, weight, bias, residual)


class _QuickGeluMlpFn(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x, w1, b1, w2, b2, residual):
        au = _fwd_linear(x, w1, b1).mul_(QUICK_GELU_ALPHA)
        y = F.silu(au).mul_(1. / QUICK_GELU_ALPHA)  # quick_gelu(u)
        out = _fwd_linear(y, w2, b2, residual)
        ctx.save_for_backward(x, w1, au, y, w2)
        ctx.has_b1, ctx.has_b2 = b1 is not None, b2 is not None
        ctx.has_residual = residual is not None
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        x, w1, au, y, w2 = ctx.saved_tensors
        need = ctx.needs_input_grad
        gw2 = _weight_grad(g, y) if need[3] else None
        gb2 = _flat(g).sum(0) if ctx.has_b2 and need[4] else None
        gr = g if ctx.has_residual and need[5] else None
        gx = gw1 = gb1 = None
        if need[0] or need[1] or need[2]:
            # y = silu(a u) / a  ->  dy/du = silu'(a u)
            gu = torch.ops.aten.silu_backward(_input_grad(g, w2), au)
            if need[0]:
                gx = _input_grad(gu, w1)
            if need[1]:
                gw1 = _weight_grad(gu, x)
            if ctx.has_b1 and need[2]:
                gb1 = _flat(gu).sum(0)
        return gx, gw1, gb1, gw2, gb2, gr


def quick_gelu_mlp(x: torch.Tensor,
                   w1: torch.Tensor,
                   b1: Optional[torch.Tensor],
                   w2: torch.Tensor,
                   b2: Optional[torch.Tensor],
                   residual: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``residual + linear(quick_gelu(linear(x, w1, b1)), w2, b2)``."""
    if not can_fuse(x, w1, b1, w2, b2, residual) or \
            (residual is not None and residual.shape[:-1] != x.shape[:-1]):
        out = F.linear(quick_gelu(F.linear(x, w1, b1)), w2, b2)
        return out if residual is None else residual + out
    if _needs_grad(x, w1, b1, w2, b2, residual):
        return _QuickGeluMlpFn.apply(x, w1, b1, w2, b2, residual)
    op = _op()
    a = QUICK_GELU_ALPHA
    # silu(a (x w1^T + b1)) = a * quick_gelu(.): SiLU fused into the GEMM,
    # the 1 / a folded into w2
    h = op(x, w1 * a, None if b1 is None else b1 * a, 'swish', [], '')
    w2 = w2 * (1. / a)
    if residual is None:
        return op(h, w2, b2, 'none', [], '')
    return op.binary(h, residual, w2, b2, 'add')


# ---------------------------------------------------------------------------
# depthwise 3D convolution with a faster CPU backward
# ---------------------------------------------------------------------------
def _same_padding(weight: torch.Tensor, padding) -> Optional[tuple]:
    """The per-dimension padding if it is 'same' (``(k - 1) / 2``) for the
    odd kernel sizes of ``weight``, else None."""
    ks = tuple(weight.shape[2:])
    pad = tuple(padding) if isinstance(padding, (tuple, list)) else \
        (padding, ) * len(ks)
    if len(pad) != len(ks) or any(k % 2 == 0 or 2 * p + 1 != k
                                  for k, p in zip(ks, pad)):
        return None
    return pad


class _DepthwiseConv3dFn(torch.autograd.Function):
    """Stride-1 'same' depthwise 3D convolution whose backward is two more
    depthwise convolutions (oneDNN's forward kernels):

    * input gradient: the gradient convolved with the flipped kernel;
    * weight gradient of channel ``c``: the input map of ``c`` correlated
      with the gradient map of ``c`` as the kernel (output ``k x k x k``),
      i.e. a depthwise convolution with the gradient as the weight, one per
      sample (summed).

    On a channels-last map this is 2-7x faster than PyTorch's depthwise
    convolution backward on CPU (docs/benchmarks.md), with the same results
    up to float32 summation order.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, padding):
        ctx.save_for_backward(x, weight)
        ctx.padding = padding
        ctx.has_bias = bias is not None
        return F.conv3d(x, weight, bias, padding=padding, groups=x.shape[1])

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need = ctx.needs_input_grad
        channels = x.shape[1]
        gx = gw = gb = None
        if need[0]:
            gx = F.conv3d(g, weight.flip(2, 3, 4), None, padding=ctx.padding,
                          groups=channels)
        if need[1]:
            for n in range(x.shape[0]):
                part = F.conv3d(x[n:n + 1], g[n].unsqueeze(1), None,
                                padding=ctx.padding, groups=channels)
                gw = part if gw is None else gw.add_(part)
            gw = gw.transpose(0, 1).reshape(weight.shape)
        if ctx.has_bias and need[2]:
            gb = g.sum((0, 2, 3, 4))
        return gx, gw, gb, None


def depthwise_conv3d(x: torch.Tensor, weight: torch.Tensor,
                     bias: Optional[torch.Tensor], padding) -> torch.Tensor:
    """``F.conv3d(x, weight, bias, padding=padding, groups=C)`` for a
    stride-1 depthwise convolution (``weight``: ``[C, 1, kt, kh, kw]``).

    With gradients, on a channels-last CPU float32 map and 'same' padding,
    the backward runs as depthwise convolutions (:class:`_DepthwiseConv3dFn`);
    everywhere else this is plain ``F.conv3d``.
    """
    channels = x.shape[1] if x.dim() == 5 else -1
    pad = _same_padding(weight, padding)
    if pad is not None and weight.shape[0] == channels and \
            weight.shape[1] == 1 and _needs_grad(x, weight, bias) and \
            x.is_contiguous(memory_format=torch.channels_last_3d) and \
            eligible(x, weight, bias):
        return _DepthwiseConv3dFn.apply(x, weight, bias, pad)
    if compat.STATE['bf16_depthwise_conv3d'] and channels > 0 and \
            x.device.type == 'cpu' and _needs_grad(x, weight, bias) and \
            _bf16(x) and not x.is_contiguous():
        x = x.contiguous()  # compat bf16_depthwise_conv3d
    return F.conv3d(x, weight, bias, padding=padding, groups=channels)


def _bf16(x: torch.Tensor) -> bool:
    """Whether a CPU convolution of ``x`` runs in bfloat16 (the tensor's
    dtype or CPU autocast)."""
    if x.dtype == torch.bfloat16:
        return True
    return torch.is_autocast_enabled('cpu') and \
        torch.get_autocast_dtype('cpu') == torch.bfloat16
