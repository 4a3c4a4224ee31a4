"""ONNX export of UniFormer / UniFormerV2 classifiers for inference.

:class:`ScoreModel` wraps a recognizer (mmaction2) or classifier (mmpretrain)
into a plain module ``x -> class scores`` for **one view**: ``x`` is the
normalised input ``[B, 3, T, H, W]`` (video) or ``[B, 3, H, W]`` (image),
i.e. what the data preprocessor produces; the result is ``[B, classes]`` raw
scores (logits), or probabilities with ``softmax=True``. Views are fused
outside the graph (average the probabilities of the views for
``average_clips='prob'``).

The export uses the TorchScript-based exporter (``dynamo=False``), opset 17
by default: ``F.scaled_dot_product_attention`` needs opset >= 14, the token
pruning of the light models (``argsort`` / ``gather``) exports as
``TopK`` / ``GatherElements``. The batch axis is dynamic.
"""
import contextlib
import os
import os.path as osp
import warnings
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

__all__ = ['ScoreModel', 'export_onnx', 'run_onnx', 'verify_onnx']

MIN_OPSET = 14  # scaled_dot_product_attention


class ScoreModel(nn.Module):
    """``backbone (+ neck) + head`` of an OpenMMLab classifier as a module
    returning class scores of one view.

    Args:
        model: an mmaction2 recognizer or an mmpretrain classifier (e.g. from
            :func:`uniformer_mm.apis.init_model`).
        task (str, optional): ``'video'`` or ``'image'``; default
            ``model.task``, else guessed from the model's attributes.
        softmax (bool): return probabilities instead of raw scores.
    """

    def __init__(self, model: nn.Module, task: Optional[str] = None,
                 softmax: bool = False):
        super().__init__()
        if task is None:
            task = getattr(model, 'task', None)
        if task is None:
            task = 'video' if hasattr(model, 'cls_head') else 'image'
        if task not in ('video', 'image'):
            raise ValueError(f'task must be video or image, got {task!r}')
        self.model = model
        self.task = task
        self.softmax = softmax

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        model = self.model
        if self.task == 'video':
            feats = model.backbone(x)
            if getattr(model, 'with_neck', False):
                feats = model.neck(feats)
                if isinstance(feats, tuple) and len(feats) == 2 and \
                        isinstance(feats[1], dict):
                    feats = feats[0]  # (feature, aux losses)
            scores = model.cls_head(feats)
        else:
            scores = model.head(model.extract_feat(x))
        if self.softmax:
            scores = scores.softmax(dim=-1)
        return scores


def _contiguous_symbolic(g, input, memory_format):
    """``Tensor.contiguous(memory_format=...)`` is the identity in ONNX.

    ONNX tensors have no memory layout, but the TorchScript exporter refuses
    ``memory_format`` values other than ``contiguous_format`` / ``preserve``
    (``onnx memory_format support is not implemented``), e.g. the
    ``channels_last_3d`` maps of the UniFormer video backbone.
    """
    return input


@contextlib.contextmanager
def _export_symbolics(opset: int):
    """Our symbolic overrides, registered for one export."""
    from torch.onnx import (register_custom_op_symbolic,
                            unregister_custom_op_symbolic)
    register_custom_op_symbolic('aten::contiguous', _contiguous_symbolic,
                                opset)
    try:
        yield
    finally:
        unregister_custom_op_symbolic('aten::contiguous', opset)


def export_onnx(model: nn.Module,
                out_file: str,
                input_shape: Sequence[int],
                opset: int = 17,
                dynamic_batch: bool = True,
                softmax: bool = False,
                seed: int = 0) -> Tuple[str, torch.Tensor]:
    """Export ``model`` (recognizer, classifier or :class:`ScoreModel`) to
    ``out_file``.

    Args:
        input_shape: full input shape including the batch,
            ``(B, 3, T, H, W)`` or ``(B, 3, H, W)``.
        opset: ONNX opset (>= 14).
        dynamic_batch: make the batch axis dynamic.

    Returns:
        ``(out_file, example_input)``: the random example used for tracing.
    """
    if opset < MIN_OPSET:
        raise ValueError(f'opset {opset} < {MIN_OPSET}: '
                         'scaled_dot_product_attention needs opset >= 14')
    wrapper = model if isinstance(model, ScoreModel) else ScoreModel(
        model, softmax=softmax)
    wrapper.eval()
    device = next(wrapper.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    example = torch.randn(tuple(input_shape), generator=gen).to(device)
    dynamic_axes = ({
        'input': {
            0: 'batch'
        },
        'scores': {
            0: 'batch'
        }
    } if dynamic_batch else None)
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings(), _export_symbolics(
            opset):
        # the exporter's TracerWarnings about Python ints are expected: the
        # shapes other than the batch are fixed by the example
        warnings.simplefilter('ignore')
        torch.onnx.export(
            wrapper, (example, ),
            out_file,
            input_names=['input'],
            output_names=['scores'],
            opset_version=opset,
            dynamic_axes=dynamic_axes,
            do_constant_folding=True,
            dynamo=False)
    _fix_negative_transpose_perms(out_file)
    return out_file, example


def _fix_negative_transpose_perms(onnx_file: str) -> int:
    """Make ``Transpose`` permutations non-negative, in place.

    The TorchScript exporter writes ``x.movedim(-1, 1)`` (used by the
    UniFormer patch embeddings around their LayerNorm) as a ``Transpose``
    whose ``perm`` holds ``-1``, which the ONNX spec (and onnxruntime's
    shape inference) reject. ``perm`` has one entry per input axis, so the
    rank is known and the entries can be normalised. Returns the number of
    nodes fixed.
    """
    import onnx
    model = onnx.load(onnx_file, load_external_data=False)
    fixed = 0
    graphs = [model.graph]
    while graphs:
        graph = graphs.pop()
        for node in graph.node:
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    graphs.append(attr.g)
                elif attr.type == onnx.AttributeProto.GRAPHS:
                    graphs.extend(attr.graphs)
            if node.op_type != 'Transpose':
                continue
            for attr in node.attribute:
                if attr.name == 'perm' and any(p < 0 for p in attr.ints):
                    rank = len(attr.ints)
                    perm = [p % rank for p in attr.ints]
                    del attr.ints[:]
                    attr.ints.extend(perm)
                    fixed += 1
    if fixed:
        onnx.save(model, onnx_file)
    return fixed


def run_onnx(onnx_file: str, inputs: np.ndarray) -> np.ndarray:
    """Run an exported model with onnxruntime (CPU)."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(
        onnx_file, options, providers=['CPUExecutionProvider'])
    name = session.get_inputs()[0].name
    return session.run(None, {name: np.ascontiguousarray(inputs,
                                                         np.float32)})[0]


def verify_onnx(model: nn.Module, onnx_file: str,
                inputs: torch.Tensor) -> float:
    """Max absolute difference between onnxruntime and PyTorch outputs."""
    import onnx
    onnx.checker.check_model(onnx_file)
    wrapper = model if isinstance(model, ScoreModel) else ScoreModel(model)
    wrapper.eval()
    with torch.no_grad():
        expected = wrapper(inputs).float().cpu().numpy()
    got = run_onnx(onnx_file, inputs.float().cpu().numpy())
    if got.shape != expected.shape:
        raise AssertionError(f'onnxruntime output {got.shape} != PyTorch '
                             f'{expected.shape}')
    return float(np.abs(got - expected).max())
