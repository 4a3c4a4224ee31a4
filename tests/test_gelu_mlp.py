"""The UniFormer MLPs with the GELU output recomputed in the backward
(uniformer_mm/models/layers/gelu_mlp.py): same outputs and gradients as
the plain layers, less kept for the backward."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import uniformer_mm  # noqa: F401
from uniformer_mm.models.layers.uniformer_blocks import CMlp, Mlp


def _close(a, b, tol=1e-5):
    scale = max(float(b.abs().max()), 1.)
    assert float((a - b).abs().max()) <= tol * scale


def _grads(module, x, g):
    module.zero_grad(set_to_none=True)
    x = x.detach().requires_grad_()
    out = module(x)
    out.backward(g)
    grads = {n: p.grad.clone() for n, p in module.named_parameters()}
    grads['x'] = x.grad
    return out.detach(), grads, type(out.grad_fn).__name__


def _plain(module, x):
    """The unfused reference: the same layers without gelu_mlp."""
    return module.fc2(module.act(module.fc1(x)))


@pytest.mark.parametrize('kind', ['mlp', 'cmlp3d', 'cmlp2d'])
def test_same_outputs_and_gradients(kind):
    torch.manual_seed(0)
    if kind == 'mlp':
        module = Mlp(16, 64)
        x = torch.randn(2, 9, 16)
    elif kind == 'cmlp3d':
        module = CMlp(3, 16, 64)
        x = torch.randn(2, 3, 4, 5, 16).permute(0, 4, 1, 2, 3)
    else:
        module = CMlp(2, 16, 64)
        x = torch.randn(2, 5, 6, 16).permute(0, 3, 1, 2)
    g = torch.randn(module(x).shape)
    out, grads, fn = _grads(module, x, g)
    assert fn in ('_GeluMlpFnBackward', 'PermuteBackward0')
    ref_mod = type('Ref', (nn.Module, ), {'forward': _plain})()
    ref_mod.fc1, ref_mod.act, ref_mod.fc2 = module.fc1, module.act, module.fc2
    ref_out, ref_grads, _ = _grads(ref_mod, x, g)
    _close(out, ref_out)
    for k in ref_grads:
        _close(grads[k], ref_grads[k])


def _saved_bytes(fn):
    total = []

    def pack(t):
        total.append(t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(total)


def test_keeps_less_for_the_backward():
    torch.manual_seed(0)
    module = CMlp(3, 32, 128)
    x = torch.randn(1, 8, 14, 14, 32).permute(0, 4, 1, 2, 3)
    x.requires_grad_()
    ours = _saved_bytes(lambda: module(x))
    plain = _saved_bytes(lambda: _plain(module, x))
    hidden = 8 * 14 * 14 * 128 * 4  # one float32 map of the hidden width
    # plain keeps u (GELU input) and h (fc2 input); ours u only
    assert plain - ours >= hidden, (plain, ours, hidden)


def test_plain_path_with_dropout_or_without_grad():
    module = Mlp(16, 64, drop=0.5).train()
    x = torch.randn(2, 9, 16, requires_grad=True)
    assert type(module(x).grad_fn).__name__ != '_GeluMlpFnBackward'
    module.eval()
    assert type(module(x).grad_fn).__name__ == '_GeluMlpFnBackward'
    with torch.no_grad():
        _close(module(x), F.linear(F.gelu(module.fc1(x)), module.fc2.weight,
                                   module.fc2.bias))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert type(module(x).grad_fn).__name__ != '_GeluMlpFnBackward'
