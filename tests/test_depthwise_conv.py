"""Depthwise 3D convolution with the faster CPU backward
(``cpu_fused.depthwise_conv3d`` / ``DepthwiseConv3d``) against plain
``nn.Conv3d``: same outputs and gradients, used only where it applies."""
import pytest
import torch
import torch.nn as nn

import uniformer_mm  # noqa: F401
from uniformer_mm.models.layers import cpu_fused as cf
from uniformer_mm.models.layers.uniformer_blocks import (DepthwiseConv3d,
                                                         conv_nd)


def _channels_last(shape, seed, requires_grad=True):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=gen).contiguous(
        memory_format=torch.channels_last_3d)
    return x.requires_grad_(requires_grad)


def _fwd_bwd(conv, x, seed=1):
    conv.zero_grad(set_to_none=True)
    if x.requires_grad:
        x.grad = None
    out = conv(x)
    gen = torch.Generator().manual_seed(seed)
    out.backward(torch.randn(out.shape, generator=gen))
    grads = dict(weight=conv.weight.grad, x=x.grad)
    if conv.bias is not None:
        grads['bias'] = conv.bias.grad
    return out.detach(), grads, type(out.grad_fn).__name__


def _close(a, b, tol=1e-5):
    scale = max(float(b.abs().max()), 1.)
    err = float((a - b).abs().max())
    assert err <= tol * scale, (err, scale)


@pytest.mark.parametrize('shape,kernel,bias', [
    ((1, 16, 4, 7, 6), 3, True),
    ((2, 8, 5, 6, 6), 5, False),
    ((3, 12, 6, 4, 5), (3, 1, 1), True),
])
def test_matches_conv3d(shape, kernel, bias):
    channels = shape[1]
    ks = (kernel, ) * 3 if isinstance(kernel, int) else kernel
    conv = DepthwiseConv3d(channels, channels, kernel,
                           padding=tuple(k // 2 for k in ks),
                           groups=channels, bias=bias)
    x = _channels_last(shape, 0)
    out, grads, fn = _fwd_bwd(conv, x)
    assert fn == '_DepthwiseConv3dFnBackward'  # the fast path ran
    cf.set_enabled(False)
    try:
        ref_out, ref_grads, ref_fn = _fwd_bwd(conv, x)
    finally:
        cf.set_enabled(True)
    assert ref_fn == 'ConvolutionBackward0'
    _close(out, ref_out)
    assert set(grads) == set(ref_grads)
    for k in grads:
        _close(grads[k], ref_grads[k])
    # and nn.Conv3d itself (the module's own forward bypassed)
    _close(out, nn.Conv3d.forward(conv, x).detach())


def test_input_without_grad_and_frozen_weight():
    conv = DepthwiseConv3d(8, 8, 3, padding=1, groups=8)
    x = _channels_last((1, 8, 4, 5, 5), 0, requires_grad=False)
    _, grads, fn = _fwd_bwd(conv, x)
    assert fn == '_DepthwiseConv3dFnBackward' and grads['x'] is None
    ref = nn.Conv3d(8, 8, 3, padding=1, groups=8)
    ref.load_state_dict(conv.state_dict())
    _, ref_grads, _ = _fwd_bwd(ref, x)
    _close(grads['weight'], ref_grads['weight'])
    conv.weight.requires_grad_(False)
    conv.bias.requires_grad_(False)
    x.requires_grad_()
    _, grads, _ = _fwd_bwd(conv, x)
    _, ref_grads, _ = _fwd_bwd(ref, x)
    _close(grads['x'], ref_grads['x'])


def test_plain_path_where_it_does_not_apply():
    conv = DepthwiseConv3d(8, 8, 3, padding=1, groups=8)
    # standard (not channels-last) layout, no grad, float64, stride 2,
    # not 'same' padding: plain nn.Conv3d
    x = torch.randn(1, 8, 4, 5, 5, requires_grad=True)
    assert type(conv(x).grad_fn).__name__ == 'ConvolutionBackward0'
    with torch.no_grad():
        assert conv(_channels_last((1, 8, 4, 5, 5), 0)).grad_fn is None
    x64 = _channels_last((1, 8, 4, 5, 5), 0).double()
    assert type(conv.double()(x64).grad_fn).__name__ == \
        'ConvolutionBackward0'
    strided = DepthwiseConv3d(8, 8, 3, padding=1, groups=8, stride=2)
    assert type(strided(_channels_last((1, 8, 4, 6, 6), 0)).grad_fn
                ).__name__ == 'ConvolutionBackward0'
    valid = DepthwiseConv3d(8, 8, 3, padding=0, groups=8)
    out = valid(_channels_last((1, 8, 4, 6, 6), 0))
    assert type(out.grad_fn).__name__ == 'ConvolutionBackward0'
    assert out.shape == (1, 8, 2, 4, 4)


def test_conv_nd_and_state_dict():
    dw = conv_nd(3, 16, 16, 5, padding=2, groups=16)
    assert type(dw) is DepthwiseConv3d and isinstance(dw, nn.Conv3d)
    assert type(conv_nd(3, 16, 32, 3, padding=1)) is nn.Conv3d
    assert type(conv_nd(2, 16, 16, 3, padding=1, groups=16)) is nn.Conv2d
    ref = nn.Conv3d(16, 16, 5, padding=2, groups=16)
    assert list(dw.state_dict()) == list(ref.state_dict())
    dw.load_state_dict(ref.state_dict(), strict=True)
