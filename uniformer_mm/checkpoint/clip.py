"""CLIP visual-encoder weights -> UniFormerV2 backbone (``UniFormerV2Video``).

UniFormerV2 starts from the image encoder of OpenAI CLIP (ViT-B/16, ViT-L/14,
ViT-L/14@336px). Two file forms are met in practice:

* the OpenAI release itself, a TorchScript archive (``ViT-B-16.pt``) whose
  ``state_dict()`` holds the whole CLIP model; the image encoder's keys start
  with ``visual.``. Its tensors are read without running the TorchScript
  code it carries (:mod:`.safe_pickle`, through
  :func:`~uniformer_mm.checkpoint.io.load_checkpoint_file`);
* an extracted image encoder (what UniFormerV2's ``extract_clip`` notebook and
  mmaction2's ``clipVisualEncoder`` files contain): a plain state dict
  without the ``visual.`` prefix, sometimes wrapped as ``{'state_dict': ...}``
  or ``{'model': ...}``.

:func:`read_clip_checkpoint` reads either form into a flat state dict,
:func:`clip_to_uniformerv2` maps it onto the backbone's parameter names:
strip ``visual.``, drop the text tower and the image projection (``proj``,
``ln_post.*``, which UniFormerV2 does not use), inflate the 2D patch kernel
``conv1.weight`` [W, 3, p, p] to [W, 3, kt, p, p] with the 2D kernel in the
centre frame and zeros elsewhere (UniFormerV2's ``inflate_weight(center=True)``)
and, if asked, resize the spatial position embedding to another grid.
"""
import math
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from .io import CheckpointError, load_checkpoint_file

#: Keys of the CLIP image encoder that UniFormerV2 does not use.
CLIP_UNUSED_KEYS = ('proj', 'ln_post.weight', 'ln_post.bias')

_WRAPPER_KEYS = ('state_dict', 'model', 'model_state', 'module')


def read_clip_checkpoint(path: str) -> 'OrderedDict[str, torch.Tensor]':
    """Read a CLIP checkpoint (TorchScript archive or pickled state dict).

    Returns a flat ``{name: tensor}`` dict on the CPU, with wrappers such as
    ``{'state_dict': ...}`` removed. Keys keep whatever prefix the file has.
    Reading is safe (:func:`~uniformer_mm.checkpoint.io.load_checkpoint_file`:
    weights only, no code of a TorchScript archive is run); its one-line
    errors name the file.
    """
    state_dict = load_checkpoint_file(path, map_location='cpu')
    # unwrap {'state_dict': {...}} / {'model': {...}} containers
    while isinstance(state_dict, dict):
        inner = [k for k in _WRAPPER_KEYS
                 if isinstance(state_dict.get(k), dict)]
        if not inner or any(torch.is_tensor(v) for v in state_dict.values()):
            break
        state_dict = state_dict[inner[0]]
    if not isinstance(state_dict, dict):
        raise CheckpointError(
            f'{path} does not hold a state dict (got '
            f'{type(state_dict).__name__})',
            'Give the CLIP release (.pt) or an extracted image encoder')
    return OrderedDict((k, v.detach().float().cpu() if v.is_floating_point()
                        else v.detach().cpu())
                       for k, v in state_dict.items() if torch.is_tensor(v))


def inflate_center(weight_2d: torch.Tensor, time_dim: int) -> torch.Tensor:
    """[O, I, kh, kw] -> [O, I, time_dim, kh, kw], 2D kernel at ``time_dim//2``.

    The other frames are zero, so a clip of identical frames gives the same
    response as the 2D kernel on one frame.
    """
    if weight_2d.dim() != 4:
        raise ValueError(f'expected a 4D kernel, got {tuple(weight_2d.shape)}')
    frames = [torch.zeros_like(weight_2d)] * time_dim
    frames[time_dim // 2] = weight_2d
    return torch.stack(frames, dim=2)


def resize_pos_embed(pos_embed: torch.Tensor,
                     new_grid: Tuple[int, int],
                     old_grid: Optional[Tuple[int, int]] = None,
                     mode: str = 'bicubic') -> torch.Tensor:
    """Resize a ``[1 + gh*gw, C]`` position embedding to ``new_grid``.

    The class position (row 0) is kept, the spatial rows are interpolated on
    their 2D grid (square unless ``old_grid`` says otherwise).
    """
    n_spatial = pos_embed.shape[0] - 1
    if old_grid is None:
        side = int(math.isqrt(n_spatial))
        if side * side != n_spatial:
            raise ValueError('cannot infer the grid of a position embedding '
                             f'with {n_spatial} spatial rows; pass old_grid')
        old_grid = (side, side)
    old_grid = tuple(old_grid)
    new_grid = tuple(new_grid)
    if old_grid == new_grid:
        return pos_embed
    cls_pos, grid = pos_embed[:1], pos_embed[1:]
    channels = grid.shape[-1]
    grid = grid.reshape(1, old_grid[0], old_grid[1], channels)
    grid = grid.permute(0, 3, 1, 2)
    grid = F.interpolate(
        grid.float(), size=new_grid, mode=mode, align_corners=False)
    grid = grid.to(pos_embed.dtype).permute(0, 2, 3, 1).reshape(-1, channels)
    return torch.cat([cls_pos, grid], dim=0)


def clip_to_uniformerv2(
        state_dict: Dict[str, torch.Tensor],
        conv1_time_dim: Optional[int] = None,
        pos_grid: Optional[Union[int, Sequence[int]]] = None,
) -> 'OrderedDict[str, torch.Tensor]':
    """Map CLIP image-encoder weights onto UniFormerV2 backbone names.

    Args:
        state_dict: CLIP weights, either the full CLIP model (keys
            ``visual.*`` and text-tower keys) or the extracted image encoder
            (no prefix). A ``backbone.`` prefix is tolerated as well.
        conv1_time_dim: temporal kernel size of the target ``conv1`` (3 with
            temporal downsampling, else 1). A 2D ``conv1.weight`` is inflated
            to it with the centre-frame rule. ``None`` leaves it 2D.
        pos_grid: target spatial grid of ``positional_embedding`` (int or
            (gh, gw)); if it differs from the checkpoint's square grid the
            spatial part is bicubic-interpolated. ``None`` keeps it.

    Returns:
        An ordered dict with the backbone's ViT keys: ``conv1.weight``,
        ``class_embedding``, ``positional_embedding``, ``ln_pre.*`` and
        ``transformer.resblocks.{i}.{attn.*, ln_1.*, mlp.*, ln_2.*}``.
    """
    keys = list(state_dict)
    if any(k.startswith('visual.') for k in keys):
        prefix = 'visual.'
    elif any(k.startswith('backbone.') for k in keys):
        prefix = 'backbone.'
    else:
        prefix = ''
    out = OrderedDict()
    for key, value in state_dict.items():
        if not key.startswith(prefix):
            continue  # the text tower of a full CLIP model
        name = key[len(prefix):]
        if name in CLIP_UNUSED_KEYS:
            continue
        out[name] = value
    if 'conv1.weight' in out and conv1_time_dim is not None:
        weight = out['conv1.weight']
        if weight.dim() == 4:
            out['conv1.weight'] = inflate_center(weight, conv1_time_dim)
        elif weight.dim() == 5 and weight.shape[2] != conv1_time_dim:
            raise ValueError(
                f'conv1.weight has temporal size {weight.shape[2]}, the '
                f'model expects {conv1_time_dim}')
    if pos_grid is not None and 'positional_embedding' in out:
        if isinstance(pos_grid, int):
            pos_grid = (pos_grid, pos_grid)
        out['positional_embedding'] = resize_pos_embed(
            out['positional_embedding'], tuple(pos_grid))
    return out
