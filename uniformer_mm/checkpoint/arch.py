"""Architecture facts of checkpoints and models; the head_dim check.

``head_dim`` (channels per attention head, ``num_heads = C // head_dim``)
changes no parameter shape: a UniFormer V1 checkpoint trained with
``head_dim=32`` loads into a ``head_dim=64`` model with ``strict=True`` and
silently loses accuracy (Sense-X/UniFormer#20, #124, #128). No test on the
weights alone can tell, and checking numerically needs data. What we do:

* every checkpoint we write records ``meta['uniformer_arch']`` (including
  ``head_dim``), and our V1 backbones add it to their state-dict metadata
  (``state_dict._metadata['backbone']['uniformer_arch']``), so checkpoints
  saved by an mmengine runner carry it too;
* loading a checkpoint that has it into a model with another ``head_dim``
  raises :class:`HeadDimMismatchError` naming both values and the fix;
* for foreign (official) files, the file-name convention of the official
  releases is used (:func:`head_dim_from_filename`: ``dim64`` -> 64,
  token-labeling ``_tl``/``384`` -> 32, ``small_plus`` -> 32, ``xxs`` -> 28,
  ...); when the name says nothing a warning says head_dim could not be
  verified.

Set ``UNIFORMER_MM_HEAD_DIM_CHECK=0`` to turn the check off.
"""
import os
import re
from typing import Mapping, Optional, Tuple

from .io import CheckpointError, _env_flag

HEAD_DIM_ENV = 'UNIFORMER_MM_HEAD_DIM_CHECK'


class HeadDimMismatchError(CheckpointError):
    """The checkpoint's head_dim differs from the model's."""


def head_dim_check_enabled() -> bool:
    value = os.environ.get(HEAD_DIM_ENV)
    return value is None or _env_flag(HEAD_DIM_ENV)


# ---------------------------------------------------------------------------
# V1
# ---------------------------------------------------------------------------
def _stage_depth(sd, prefix, s):
    pat = re.compile(re.escape(f'{prefix}blocks{s}.') + r'(\d+)\.')
    idx = [int(m.group(1)) for m in map(pat.match, sd) if m]
    return max(idx) + 1 if idx else 0


def v1_arch_from_keys(sd: Mapping,
                      prefix: str = 'backbone.') -> Optional[dict]:
    """Structure of a V1 backbone from its keys (no head_dim: it is not in
    the weights). ``None`` if ``sd`` is not a V1 state dict."""
    depths = [_stage_depth(sd, prefix, s) for s in range(1, 5)]
    if not all(depths):
        return None
    dims = []
    for s in range(1, 5):
        w = sd.get(f'{prefix}blocks{s}.0.pos_embed.weight')
        if w is None:
            return None
        dims.append(int(w.shape[0]))
    fc1 = sd.get(f'{prefix}blocks1.0.mlp.fc1.weight')
    mlp_ratio = float(fc1.shape[0]) / dims[0] if fc1 is not None else None
    if f'{prefix}blocks1.0.gamma_1' in sd:
        layer_scale = 'all'
    elif f'{prefix}blocks3.0.gamma_1' in sd:
        layer_scale = 'global'
    else:
        layer_scale = None
    video = sd[f'{prefix}blocks1.0.pos_embed.weight'].dim() == 5
    return dict(depths=depths, embed_dims=dims,
                conv_stem=f'{prefix}patch_embed1.proj.0.weight' in sd,
                layer_scale=layer_scale, light=f'{prefix}cls_token' in sd,
                mlp_ratio=mlp_ratio, dims=3 if video else 2)


def v1_arch_names(structure: Mapping, head_dim: Optional[int] = None):
    """Names of :data:`ARCH_ZOO` with this structure (and head_dim)."""
    from uniformer_mm.models.arch_zoo import ARCH_ZOO, resolve_arch
    names = []
    for name in ARCH_ZOO:
        s = resolve_arch(name)
        if (s['depths'] == list(structure['depths'])
                and s['embed_dims'] == list(structure['embed_dims'])
                and bool(s['conv_stem']) == bool(structure['conv_stem'])
                and s['layer_scale'] == structure['layer_scale']
                and bool(s['light']) == bool(structure['light'])
                and (head_dim is None or s['head_dim'] == head_dim)):
            names.append(name)
    return names


def describe_v1(structure: Mapping, head_dim: Optional[int] = None) -> str:
    names = v1_arch_names(structure, head_dim)
    desc = (f"depths={list(structure['depths'])}, "
            f"embed_dims={list(structure['embed_dims'])}, "
            f"conv_stem={structure['conv_stem']}, "
            f"layer_scale={structure['layer_scale']!r}, "
            f"light={structure['light']}")
    if names:
        return f"arch={names[0]!r} ({desc})" + (
            f" or {', '.join(map(repr, names[1:]))}" if len(names) > 1 else
            '')
    return f'an arch dict with {desc}'


#: File-name conventions of the official V1 releases -> head_dim, first
#: match wins (``uniformer_small_plus_dim64_in1k.pth`` -> 64, token labeling
#: ``uniformer_small_tl_384.pth`` -> 32, ``uniformer_large_ls_tl_384`` ->
#: 64, ``uniformer_xxs16_160_k400.pth`` -> 28, ``uniformer_small_in1k`` ->
#: 64).
HEAD_DIM_FILENAME_RULES = (
    (r'dim64', 64, "'dim64' releases use head_dim 64"),
    (r'xxs', 28, 'light XXS releases use head_dim 28'),
    (r'(^|[^a-z])xs(\d|[^a-z]|$)', 32, 'light XS releases use head_dim 32'),
    (r'large', 64, 'the large (L+LS) release uses head_dim 64'),
    (r'(^|[^a-z])tl([^a-z]|$)|token', 32,
     'token-labeling releases use head_dim 32'),
    (r'384', 32, 'the 384px (token-labeling) releases use head_dim 32'),
    (r'small[_-]?plus|small\+|s\+', 32,
     'small_plus (S+) uses head_dim 32 unless named dim64'),
    (r'small|base', 64, 'plain small/base releases use head_dim 64'),
)


def head_dim_from_filename(path: str) -> Tuple[Optional[int], str]:
    """``(head_dim, rule)`` from an official V1 file name, or ``(None, '')``.
    """
    name = os.path.basename(str(path)).lower()
    for pattern, value, rule in HEAD_DIM_FILENAME_RULES:
        if re.search(pattern, name):
            return value, rule
    return None, ''


# ---------------------------------------------------------------------------
# V2
# ---------------------------------------------------------------------------
def v2_arch_from_keys(sd: Mapping, prefix: str = 'backbone.'):
    """Structure of a UniFormerV2 backbone from its keys (our names)."""
    emb = sd.get(prefix + 'class_embedding')
    conv1 = sd.get(prefix + 'conv1.weight')
    pos = sd.get(prefix + 'positional_embedding')
    if emb is None or conv1 is None or pos is None:
        return None
    blocks = re.compile(re.escape(prefix) + r'transformer\.resblocks\.(\d+)\.')
    dec = re.compile(re.escape(prefix) + r'transformer\.dec\.(\d+)\.')
    layers = len({m.group(1) for m in map(blocks.match, sd) if m})
    n_layers = len({m.group(1) for m in map(dec.match, sd) if m})
    lmhra1 = any('.lmhra1.' in k for k in sd)
    lmhra2 = any('.lmhra2.' in k for k in sd)
    patch = int(conv1.shape[-1])
    grid = int(round((pos.shape[0] - 1)**0.5))
    return dict(width=int(emb.shape[0]), layers=layers, patch_size=patch,
                input_resolution=grid * patch,
                conv1_time=int(conv1.shape[2]) if conv1.dim() == 5 else None,
                n_layers=n_layers, no_lmhra=not lmhra1, double_lmhra=lmhra2,
                frozen=(prefix + 'transformer.balance') not in sd)


def describe_v2(s: Mapping) -> str:
    arch = {(768, 12, 16, 224): 'vit-b16', (1024, 24, 14, 224): 'vit-l14',
            (1024, 24, 14, 336): 'vit-l14-336'}.get(
                (s['width'], s['layers'], s['patch_size'],
                 s['input_resolution']), None)
    parts = [f"arch={arch!r}" if arch else
             f"arch=dict(width={s['width']}, layers={s['layers']}, "
             f"patch_size={s['patch_size']}, "
             f"input_resolution={s['input_resolution']}, ...)"]
    parts.append(f"{s['n_layers']} global blocks")
    parts.append(f"no_lmhra={s['no_lmhra']}")
    if not s['no_lmhra']:
        parts.append(f"double_lmhra={s['double_lmhra']}")
    if s['conv1_time'] is not None:
        parts.append(f"temporal_downsample={s['conv1_time'] > 1}")
    parts.append(f"frozen={s['frozen']}")
    return ', '.join(parts)


def describe_checkpoint(sd: Mapping, head_dim: Optional[int] = None,
                        prefix: str = 'backbone.') -> str:
    """What backbone config would fit a state dict of our layout (backbone
    keys under ``prefix``)."""
    v1 = v1_arch_from_keys(sd, prefix)
    if v1 is not None:
        kind = 'UniFormerVideo' if v1['dims'] == 3 else 'UniFormer'
        return f'{kind} with {describe_v1(v1, head_dim)}'
    v2 = v2_arch_from_keys(sd, prefix)
    if v2 is not None:
        return f'UniFormerV2Video with {describe_v2(v2)}'
    return 'an unknown backbone'


def _clip_arch(sd: Mapping, prefix: str = 'backbone.') -> str:
    s = v2_arch_from_keys(sd, prefix)
    arch = {(768, 12, 16, 224): 'vit-b16', (1024, 24, 14, 224): 'vit-l14',
            (1024, 24, 14, 336): 'vit-l14-336'}.get(
                (s['width'], s['layers'], s['patch_size'],
                 s['input_resolution'])) if s else None
    if s is None:
        return 'a CLIP image encoder'
    shape = (f"width {s['width']}, {s['layers']} layers, patch "
             f"{s['patch_size']}, {s['input_resolution']} px")
    return (f"a CLIP image encoder for UniFormerV2Video arch={arch!r} "
            f'({shape})' if arch else
            f'a CLIP image encoder ({shape}) for UniFormerV2Video '
            f"arch=dict(width={s['width']}, layers={s['layers']}, "
            f"patch_size={s['patch_size']}, "
            f"input_resolution={s['input_resolution']}, ...)")


def _classes(sd: Mapping) -> str:
    from .head import classifier_keys
    rows = sorted({int(sd[k].shape[0]) for k in classifier_keys(sd)
                   if k.endswith('.weight')})
    return f', {rows[0]}-class head' if len(rows) == 1 else ''


def describe_state_dict(ckpt) -> str:
    """What model a checkpoint looks like it fits, from its keys and
    shapes: a state dict of our layout (full model or bare backbone), or a
    file of any supported format (converted first), or a CLIP encoder.

    E.g. ``"UniFormerVideo with arch='small' (depths=[3, 4, 8, 3], ...),
    400-class head"``.
    """
    sd = ckpt
    if isinstance(sd, Mapping) and not any(
            hasattr(v, 'shape') for v in sd.values()):
        for key in ('state_dict', 'model', 'model_state', 'module'):
            if isinstance(sd.get(key), Mapping):
                sd = sd[key]
                break
    if not isinstance(sd, Mapping):
        return 'no state dict'
    sd = {k: v for k, v in sd.items() if hasattr(v, 'shape')}
    for prefix in ('backbone.', ''):
        if v1_arch_from_keys(sd, prefix) is not None or \
                (v2_arch_from_keys(sd, prefix) is not None
                 and any('.lmhra' in k or 'transformer.dec.' in k
                         for k in sd)):
            return describe_checkpoint(sd, prefix=prefix) + _classes(sd)
    from .formats import convert_checkpoint, detect_format
    from .io import CheckpointError
    try:
        fmt = detect_format(sd)
        converted = convert_checkpoint(sd, src_format=fmt).state_dict
    except (CheckpointError, KeyError, ValueError, RuntimeError):
        fmt, converted = None, None
    if fmt == 'clip':
        return _clip_arch(converted)
    if converted is not None and fmt != 'ours':
        desc = describe_checkpoint(converted)
        if desc != 'an unknown backbone':
            return f'{desc}{_classes(converted)} ({fmt} file)'
    keys = list(sd)[:3]
    return (f'no UniFormer backbone ({len(sd)} tensors, e.g. '
            f"{', '.join(keys)})" if keys else 'no tensors')


# ---------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------
def find_backbone(model):
    """The UniFormer V1/V2 backbone of a model (or the model itself)."""
    backbone = getattr(model, 'backbone', model)
    return backbone


def arch_meta(backbone) -> Optional[dict]:
    """``meta['uniformer_arch']`` of a backbone (V1 or V2), else None."""
    settings = getattr(backbone, 'arch_settings', None)
    if settings is not None and hasattr(backbone, 'embed_dims'):
        meta = dict(family='uniformer', dims=int(backbone.dims))
        for key in ('depths', 'embed_dims', 'head_dim', 'mlp_ratio',
                    'conv_stem', 'layer_scale', 'light'):
            value = settings.get(key)
            meta[key] = list(value) if isinstance(value, (list,
                                                          tuple)) else value
        names = v1_arch_names(meta, meta['head_dim'])
        meta['arch'] = names[0] if names else None
        return meta
    if hasattr(backbone, 'transformer') and hasattr(backbone,
                                                    'class_embedding'):
        arch = dict(getattr(backbone, 'arch', {}))
        tr = backbone.transformer
        blk = tr.resblocks[0]
        return dict(
            family='uniformerv2', width=int(backbone.width),
            layers=len(tr.resblocks), heads=arch.get('heads'),
            patch_size=int(backbone.patch_size),
            input_resolution=list(backbone.input_resolution),
            return_list=list(tr.return_list),
            temporal_downsample=bool(backbone.temporal_downsample),
            no_lmhra=bool(blk.no_lmhra), double_lmhra=bool(blk.double_lmhra),
            frozen=bool(backbone.frozen))
    return None


def checkpoint_head_dim(meta: Mapping, state_dict, source_format: str,
                        filename: Optional[str]) -> Tuple[Optional[int], str]:
    """``(head_dim, how it is known)`` of a checkpoint, or ``(None, why)``.
    """
    recorded = meta.get('uniformer_arch') if isinstance(meta,
                                                        Mapping) else None
    if isinstance(recorded, Mapping) and recorded.get('head_dim'):
        return int(recorded['head_dim']), 'recorded in its meta'
    md = getattr(state_dict, '_metadata', None) or {}
    for value in md.values():
        if isinstance(value, Mapping) and isinstance(
                value.get('uniformer_arch'), Mapping):
            hd = value['uniformer_arch'].get('head_dim')
            if hd:
                return int(hd), 'recorded in its state-dict metadata'
    if source_format in ('v1_det', 'v1_seg', 'v1_pose'):
        return 64, ('every official dense-prediction release (detection, '
                    'segmentation, pose) uses head_dim 64')
    if source_format.startswith('v1_') and filename:
        hd, rule = head_dim_from_filename(filename)
        if hd is not None:
            return hd, f'from its file name: {rule}'
    return None, 'not recorded and not given by the file name'


def check_head_dim(backbone, ckpt_head_dim: Optional[int], how: str,
                   source: str, logger='current') -> bool:
    """Raise :class:`HeadDimMismatchError` if a V1 backbone's head_dim
    differs from the checkpoint's; warn if the checkpoint's is unknown.

    Returns True when verified, False otherwise (unknown, V2, disabled).
    """
    settings = getattr(backbone, 'arch_settings', None)
    if settings is None or not head_dim_check_enabled():
        return False
    model_hd = settings['head_dim']
    if ckpt_head_dim is None:
        from mmengine.logging import print_log
        import logging
        print_log(
            f'uniformer_mm: could not verify the head_dim of {source} '
            f'({how}); the model uses head_dim={model_hd}. head_dim changes '
            'no parameter shape, so a wrong value loads silently and '
            'degrades accuracy: check it against the release notes.',
            logger=logger, level=logging.WARNING)
        return False
    if int(ckpt_head_dim) != int(model_hd):
        structure = dict(settings)
        names = v1_arch_names(structure, int(ckpt_head_dim))
        alt = f" or arch={names[0]!r}" if names else ''
        raise HeadDimMismatchError(
            f'head_dim mismatch: {source} was trained with '
            f'head_dim={ckpt_head_dim} ({how}) but the model uses '
            f'head_dim={model_hd}',
            f'Set head_dim={ckpt_head_dim} in the backbone config{alt} '
            f'(or {HEAD_DIM_ENV}=0 to skip this check)')
    return True


__all__ = ['HeadDimMismatchError', 'head_dim_check_enabled',
           'v1_arch_from_keys', 'v1_arch_names', 'describe_v1',
           'head_dim_from_filename', 'v2_arch_from_keys', 'describe_v2',
           'describe_checkpoint', 'describe_state_dict', 'find_backbone', 'arch_meta',
           'checkpoint_head_dim', 'check_head_dim', 'HEAD_DIM_ENV']
