"""FLOP counting in the papers' convention (fvcore / mmengine).

"FLOPs" here are multiply-accumulates, as fvcore and mmengine's
:class:`~mmengine.analysis.FlopAnalyzer` count them and as the UniFormer and
UniFormerV2 papers report them. mmengine has no handle for
``aten::scaled_dot_product_attention``, so attention computed with
:func:`torch.nn.functional.scaled_dot_product_attention` would be silently
left out; :func:`count_flops` adds one (``q @ k^T`` plus ``attn @ v``).
"""
from functools import reduce
from operator import mul
from typing import Any, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import get_shape


def _prod(values) -> int:
    return reduce(mul, values, 1)


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """MACs of ``scaled_dot_product_attention(q, k, v)``.

    ``q``: ``[..., Lq, d]``, ``k``: ``[..., Lk, d]``, ``v``: ``[..., Lk, dv]``
    -> ``prod(...) * Lq * Lk * (d + dv)`` (softmax and scaling not counted,
    like fvcore's matmul handles).
    """
    q_shape, k_shape, v_shape = (get_shape(v) for v in inputs[:3])
    batch = _prod(q_shape[:-2])
    lq, d = q_shape[-2], q_shape[-1]
    lk, dv = k_shape[-2], v_shape[-1]
    return batch * lq * lk * (d + dv)


#: Extra handles used by :func:`count_flops`.
EXTRA_FLOP_HANDLES = {
    'aten::scaled_dot_product_attention': sdpa_flop_jit,
}


def flop_analyzer(model: nn.Module,
                  inputs: Union[torch.Tensor, Tuple[Any, ...]]) -> FlopAnalyzer:
    """A :class:`FlopAnalyzer` with the SDPA handle and quiet warnings."""
    if not isinstance(inputs, tuple):
        inputs = (inputs, )
    analyzer = FlopAnalyzer(model, inputs)
    analyzer.set_op_handle(**EXTRA_FLOP_HANDLES)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer


def count_flops(model: nn.Module,
                inputs: Union[torch.Tensor, Tuple[Any, ...]]
                ) -> Tuple[int, int]:
    """Return ``(flops, params)`` of ``model(*inputs)``.

    ``flops`` are multiply-accumulates (fvcore convention) for one call with
    these inputs, counted in eval mode without gradients; ``params`` is the
    number of parameters of ``model``.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            flops = flop_analyzer(model, inputs).total()
    finally:
        model.train(was_training)
    params = sum(p.numel() for p in model.parameters())
    return int(flops), int(params)


#: ``(H, W)`` at which the UniFormer papers count the FLOPs of the ADE20K
#: segmentation models (Semantic FPN and UperNet alike).
SEG_FLOPS_INPUT = (512, 2048)


def dense_flops_input(cfg) -> Optional[Tuple[int, int]]:
    """``(H, W)`` of the view on which the papers' FLOPs of a
    dense-prediction config are counted: 512x2048 for segmentation (mmseg),
    the model input (``codec.input_size``) for top-down pose (mmpose); None
    for detection, whose FLOPs (the papers' 800x1280) this project does not
    count."""
    scope = cfg.get('default_scope')
    if scope == 'mmseg':
        return SEG_FLOPS_INPUT
    if scope == 'mmpose':
        width, height = cfg.codec.input_size
        return int(height), int(width)
    return None


def count_dense_flops(model: nn.Module, shape: Tuple[int, int]) -> int:
    """Multiply-accumulates of one test-time forward of a segmentation
    (backbone + neck + decode head; the auxiliary head does not run at test
    time) or top-down pose model (backbone + head) on a ``(1, 3, H, W)``
    input, as the papers count them.

    Counted with :class:`torch.utils.flop_counter.FlopCounterMode` (matrix
    products, convolutions, scaled-dot-product attention; halved: it counts
    a multiply-add as two), which needs no data: the model may be on the
    ``meta`` device. Compare :func:`count_flops` (mmengine's tracer) for the
    classification models.
    """
    from torch.utils.flop_counter import FlopCounterMode
    head = getattr(model, 'decode_head', None) or getattr(model, 'head',
                                                          None)
    if head is None or not hasattr(model, 'extract_feat'):
        raise ValueError(
            f'{type(model).__name__} is no segmentor (decode_head) or '
            'top-down pose estimator (head)')
    device = next(model.parameters()).device
    x = torch.empty(1, 3, *shape, device=device)
    was_training = model.training
    model.eval()
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            head(model.extract_feat(x))
    finally:
        model.train(was_training)
    return int(counter.get_total_flops()) // 2
