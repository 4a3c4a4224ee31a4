"""The fused oneDNN CPU kernels of UniFormerV2 (uniformer_mm/models/layers/
cpu_fused.py) against the plain PyTorch code."""
import pytest
import torch
import torch.nn.functional as F

import uniformer_mm  # noqa: F401
from uniformer_mm.models.layers import cpu_fused as cf

pytestmark = pytest.mark.skipif(not cf.fused_available(),
                                reason='oneDNN linear op not available')


def _tensors(seed=0, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=gen, dtype=dtype).requires_grad_()

    return dict(x=r(3, 37, 64), w1=r(256, 64), b1=r(256), w2=r(64, 256),
                b2=r(64), res=r(3, 37, 64))


def _run(fn, ts):
    for t in ts.values():
        t.grad = None
    out = fn(**ts)
    gen = torch.Generator().manual_seed(1)
    out.backward(torch.randn(out.shape, generator=gen, dtype=out.dtype))
    return out.detach(), {k: t.grad for k, t in ts.items()}


def _reference(fn, ts):
    cf.set_enabled(False)
    try:
        return _run(fn, ts)
    finally:
        cf.set_enabled(True)


def _close(a, b, tol=1e-4):
    scale = max(float(b.abs().max()), 1.)
    assert float((a - b).abs().max()) <= tol * scale


@pytest.mark.parametrize('residual', [False, True])
def test_linear_matches_reference(residual):
    ts = _tensors()
    ts = dict(x=ts['x'], weight=ts['w1'], bias=ts['b1'],
              residual=torch.randn(3, 37, 256, requires_grad=True)
              if residual else None)
    ts = {k: v for k, v in ts.items() if v is not None}
    assert cf.can_fuse(*ts.values())
    out, grads = _run(cf.linear, ts)
    ref_out, ref_grads = _reference(cf.linear, ts)
    _close(out, ref_out)
    for k in grads:
        _close(grads[k], ref_grads[k])
    with torch.no_grad():
        _close(cf.linear(**ts), ref_out)


def test_quick_gelu_mlp_matches_reference():
    ts = _tensors()
    ts['residual'] = ts.pop('res')
    out, grads = _run(cf.quick_gelu_mlp, ts)
    ref_out, ref_grads = _reference(cf.quick_gelu_mlp, ts)
    # the reference is CLIP's x * sigmoid(1.702 x)
    x, w1, b1, w2, b2 = (ts[k].detach() for k in ('x', 'w1', 'b1', 'w2',
                                                   'b2'))
    u = F.linear(x, w1, b1)
    manual = ts['residual'].detach() + F.linear(
        u * torch.sigmoid(1.702 * u), w2, b2)
    _close(ref_out, manual, 1e-6)
    _close(out, ref_out)
    for k in grads:
        _close(grads[k], ref_grads[k])
    with torch.no_grad():  # SiLU fused into the first GEMM
        _close(cf.quick_gelu_mlp(**ts), ref_out)


def test_frozen_weights_and_input_without_grad():
    ts = _tensors()
    w = ts['w1'].detach()
    x = ts['x']
    out = cf.linear(x, w, None)
    out.sum().backward()
    _close(x.grad, torch.ones(3, 37, 256) @ w)
    x2 = ts['x'].detach()
    out = cf.linear(x2, ts['w1'], None)
    out.sum().backward()
    _close(ts['w1'].grad, torch.ones(256, 3 * 37) @ x2.reshape(-1, 64))


def test_fallbacks():
    ts = _tensors(dtype=torch.float64)
    assert not cf.can_fuse(ts['x'], ts['w1'])  # float64
    assert torch.autograd.gradcheck(
        lambda x, w: cf.linear(x, w, None),
        (ts['x'][:1, :3, :5].detach().requires_grad_(),
         ts['w1'][:4, :5].detach().requires_grad_()))
    ts = _tensors()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert not cf.can_fuse(ts['x'], ts['w1'])
        assert cf.linear(ts['x'], ts['w1']).dtype == torch.bfloat16
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        assert not cf.can_fuse(ts['x'], ts['w1'])
        cf.linear(ts['x'], ts['w1'])
    assert counter.get_total_flops() == 2 * 3 * 37 * 64 * 256
    cf.set_enabled(False)
    try:
        assert not cf.can_fuse(ts['x'], ts['w1'])
    finally:
        cf.set_enabled(True)
    assert cf.can_fuse(ts['x'], ts['w1'])


def test_double_backward_is_refused():
    ts = _tensors()
    out = cf.linear(ts['x'], ts['w1'], ts['b1'])
    (g, ) = torch.autograd.grad(out.sum(), ts['x'], create_graph=True)
    with pytest.raises(RuntimeError):
        g.sum().backward()
