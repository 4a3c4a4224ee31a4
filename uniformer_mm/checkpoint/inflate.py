"""2D -> 3D inflation of image weights for video models.

Two rules, as in the official code (reference doc section 5.4):

* **V1** (``Uniformer.get_pretrained_model`` of the official video code,
  ``inflate_weight(center=False)``): a 2D kernel ``[O, I, kh, kw]`` becomes
  ``[O, I, T, kh, kw]`` by repeating it over time and dividing by ``T``
  (``T`` is the target's temporal kernel size: 3 for ``patch_embed1`` and
  ``pos_embed``, 5 for the local ``attn``, 1 for the 1x1 convolutions). A
  clip of identical frames then gives the 2D response. Note mmaction2's port
  uses the centre rule instead; we follow the official video code.
* **V2** (``conv1`` from CLIP, ``inflate_weight(center=True)``): the 2D
  kernel in the centre frame ``T // 2``, zeros elsewhere.

:func:`inflate_state_dict` applies a rule against a target state dict (or a
``{key: shape}`` map): keys the target lacks are skipped and reported
(never a ``KeyError``, cf. Sense-X/UniFormer#65), shape mismatches that are
not inflatable -- e.g. ``ndim <= 2`` like a classifier with another number
of classes -- are dropped and reported.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Sequence, Tuple, Union

import torch

from .clip import inflate_center, resize_pos_embed

Shape = Tuple[int, ...]


def inflate_average(weight_2d: torch.Tensor, time_dim: int) -> torch.Tensor:
    """``[O, I, *k]`` -> ``[O, I, time_dim, *k]``: repeat over time, / T."""
    if weight_2d.dim() < 3:
        raise ValueError('only convolution kernels can be inflated, got '
                         f'shape {tuple(weight_2d.shape)}')
    w = weight_2d.unsqueeze(2)
    repeats = [1] * w.dim()
    repeats[2] = time_dim
    return w.repeat(*repeats) / time_dim


@dataclass
class InflateReport:
    """What :func:`inflate_state_dict` did, for logging."""
    inflated: List[Tuple[str, Shape, Shape]] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)  # absent in target
    dropped: List[Tuple[str, Shape, Shape]] = field(default_factory=list)
    resized: List[Tuple[str, Shape, Shape]] = field(default_factory=list)

    def lines(self, verbose: bool = False) -> List[str]:
        """Human-readable summary; inflated kernels are summarised (three
        examples) unless ``verbose``; dropped and skipped keys are listed.
        """
        out = []
        if self.inflated:
            shown = self.inflated if verbose else self.inflated[:3]
            out.append(f'inflated {len(self.inflated)} 2D kernels to 3D: ' +
                       ', '.join(f'{k} {list(a)} -> {list(b)}'
                                 for k, a, b in shown) +
                       (' ...' if len(shown) < len(self.inflated) else ''))
        for what, items in (('resized', self.resized),
                            ('dropped (shape mismatch)', self.dropped)):
            for k, a, b in items:
                out.append(f'{what}: {k} {list(a)} -> {list(b)}')
        if self.skipped:
            out.append('skipped (not in the model): ' +
                       ', '.join(self.skipped))
        return out


def _shape(x) -> Shape:
    return tuple(x.shape) if torch.is_tensor(x) else tuple(x)


def inflate_state_dict(
        state_dict: Mapping[str, torch.Tensor],
        target: Mapping[str, Union[torch.Tensor, Sequence[int]]],
        mode: str = 'average',
        center_keys: Sequence[str] = (),
        resize_pos_embed_keys: Sequence[str] = (),
) -> Tuple['OrderedDict[str, torch.Tensor]', InflateReport]:
    """Adapt ``state_dict`` to the shapes of ``target``.

    Args:
        state_dict: source weights (same key names as ``target``).
        target: the model's state dict or ``{key: shape}``.
        mode: ``'average'`` (V1 rule) or ``'center'`` (V2 rule) for every
            inflatable kernel.
        center_keys: keys inflated with the centre rule whatever ``mode``.
        resize_pos_embed_keys: 2D ``[1 + g*g, C]`` position embeddings that
            are bicubic-resized to the target grid instead of dropped.

    Returns:
        ``(new_state_dict, report)``.
    """
    if mode not in ('average', 'center'):
        raise ValueError(f"mode must be 'average' or 'center', got {mode!r}")
    report = InflateReport()
    out = OrderedDict()
    for key, value in state_dict.items():
        if key not in target:
            report.skipped.append(key)
            continue
        src, dst = tuple(value.shape), _shape(target[key])
        if src == dst:
            out[key] = value
        elif (value.dim() > 2 and len(dst) == value.dim() + 1
              and dst[:2] == src[:2] and dst[3:] == src[2:]):
            rule = 'center' if key in center_keys else mode
            fn = inflate_center if rule == 'center' else inflate_average
            out[key] = fn(value, dst[2])
            report.inflated.append((key, src, dst))
        elif key in resize_pos_embed_keys and value.dim() == 2 and \
                len(dst) == 2 and dst[1] == src[1]:
            side = int(round((dst[0] - 1)**0.5))
            if side * side != dst[0] - 1:
                report.dropped.append((key, src, dst))
                continue
            out[key] = resize_pos_embed(value, (side, side))
            report.resized.append((key, src, dst))
        else:
            report.dropped.append((key, src, dst))
    return out, report


def inflate_v1(state_dict, target):
    """V1 rule (repeat over time / T) for every inflatable kernel."""
    return inflate_state_dict(state_dict, target, mode='average')


def inflate_v2(state_dict, target):
    """V2 rule: ``conv1`` centre-frame inflation; position embeddings
    resized to the target grid."""
    keys = [k for k in state_dict if k.endswith('positional_embedding')]
    return inflate_state_dict(state_dict, target, mode='center',
                              resize_pos_embed_keys=keys)


def target_shapes(module: torch.nn.Module) -> Dict[str, Shape]:
    """``{key: shape}`` of a module's state dict (works on meta modules)."""
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


__all__ = ['inflate_average', 'inflate_center', 'inflate_state_dict',
           'inflate_v1', 'inflate_v2', 'InflateReport', 'target_shapes']
