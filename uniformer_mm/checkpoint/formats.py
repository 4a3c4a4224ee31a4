"""Checkpoint formats of UniFormer V1 / V2 and their conversion to ours.

Our layout is the state dict of the full model built from our configs:

* mmpretrain image classifiers (``ImageClassifier``): ``backbone.*`` (the
  official V1 backbone names) + ``head.fc.*`` (official ``head``),
  ``head.fc_aux.*`` (token labeling ``aux_head``), ``head.fc_cls_token.*`` /
  ``head.norm_cls_token.*`` (light ``head_cls`` / ``norm_cls``);
* mmaction2 recognizers (``Recognizer3D``): ``backbone.*`` +
  ``cls_head.fc_cls.*``
  (official ``head`` / V2 ``transformer.proj.2``), light video
  ``cls_head.fc_cls_token.*`` / ``cls_head.norm_cls_token.*``; V2 keeps the
  official backbone names except ``transformer.proj.0`` ->
  ``transformer.norm``.

Formats (:func:`detect_format`):

==============  ===============================================================
``ours``        mmengine checkpoint of our models (``state_dict`` with
                ``backbone.`` keys and our head names).
``v1_image``    official image release: DeiT ``{'model': sd}`` or raw sd with
                ``patch_embed1``/``blocks1``/``head``.
``v1_tl``       token-labeling release (timm saver ``state_dict`` /
                ``state_dict_ema``), has ``aux_head``.
``v1_video``    official video release (``{'model_state': sd}``), 5-D kernels.
``v1_light``    light / hourglass release (image or video): ``cls_token`` +
                ``head_cls``.
``v1_mmaction`` mmaction2 model zoo V1 (``backbone.`` + ``cls_head.fc_cls``,
                5-D kernels). Same names as ours.
``v2_official`` official UniFormerV2 (raw sd with ``backbone.`` prefix or
                ``{'model_state': sd}``; ``backbone.transformer.proj.{0,2}``).
``v2_mmaction`` mmaction2 UniFormerV2 (``backbone.transformer.norm`` +
                ``cls_head.fc_cls``). Same names as ours.
``clip``        CLIP image encoder (``visual.*`` keys of the full CLIP model
                or the extracted encoder: 4-D ``conv1.weight`` +
                ``transformer.resblocks``).
``v1_det``      official detection release (Sense-X/UniFormer
                ``object_detection``, mmdet 2): ``backbone.`` with
                ``norm1..4`` + ``neck``/``rpn_head``/``roi_head``.
``v1_seg``      official segmentation release (mmseg 0.x): ``backbone.`` +
                ``decode_head``/``auxiliary_head`` (+ ``neck`` for FPN).
``v1_pose``     official pose release (mmpose 0.x): ``backbone.`` +
                ``keypoint_head``.
==============  ===============================================================

One filter function per foreign format (timm style) maps a flat state dict
to our layout: :func:`convert_v1_image`, :func:`convert_v1_tl`,
:func:`convert_v1_video`, :func:`convert_v1_light`,
:func:`convert_v1_mmaction`, :func:`convert_v2_official`,
:func:`convert_v2_mmaction`, :func:`convert_clip`, :func:`convert_v1_det`,
:func:`convert_v1_seg`, :func:`convert_v1_pose`; :func:`to_mmaction` is the
reverse for our video models (V1 and V2), a lossless round trip.

The dense-prediction models (``UniFormerDense`` in mmdet 3 / mmseg 1 /
mmpose 1) keep the official backbone names (``norm1..4`` are the per-stage
output norms). mmdet 3 and mmseg 1 kept the head names of mmdet 2 / mmseg
0.x for the heads the releases use (their own model zoos load the 2.x / 0.x
files), so detection and segmentation files only have their keys checked;
pose files get mmpose 1's head names (``keypoint_head`` -> ``head``).
"""
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import List, Mapping, Optional, Tuple

import torch

from .clip import clip_to_uniformerv2
from .io import CheckpointError

FORMATS = ('ours', 'v1_image', 'v1_tl', 'v1_video', 'v1_light',
           'v1_mmaction', 'v2_official', 'v2_mmaction', 'clip', 'v1_det',
           'v1_seg', 'v1_pose')

#: Official dense-prediction releases and the head prefixes that tell them
#: apart (first match wins).
DENSE_FORMATS = OrderedDict([
    ('v1_pose', ('keypoint_head.', )),
    ('v1_seg', ('decode_head.', 'auxiliary_head.')),
    ('v1_det', ('rpn_head.', 'roi_head.', 'bbox_head.')),
])
#: Every prefix a file of a dense format may hold.
_DENSE_PREFIXES = {
    'v1_det': ('backbone.', 'neck.', 'rpn_head.', 'roi_head.', 'bbox_head.'),
    'v1_seg': ('backbone.', 'neck.', 'decode_head.', 'auxiliary_head.'),
    'v1_pose': ('backbone.', 'keypoint_head.'),
}

#: Formats of the official releases: their names differ from ours, so they
#: are converted on the fly even by the plain ``load_from=PATH`` loader.
OFFICIAL_FORMATS = ('v1_image', 'v1_tl', 'v1_video', 'v1_light',
                    'v2_official', 'v1_det', 'v1_seg', 'v1_pose')

#: Containers that wrap a state dict, in the order they are tried.
_WRAPPERS = ('state_dict', 'model', 'model_state', 'module')
_EMA = {'state_dict': 'state_dict_ema', 'model': 'model_ema'}

#: Official V1 classifier prefixes -> ours, per head layout.
V1_HEADS = {
    'mmpretrain': OrderedDict([('head.', 'head.fc.'),
                               ('aux_head.', 'head.fc_aux.'),
                               ('head_cls.', 'head.fc_cls_token.'),
                               ('norm_cls.', 'head.norm_cls_token.')]),
    'mmaction': OrderedDict([('head.', 'cls_head.fc_cls.'),
                             ('head_cls.', 'cls_head.fc_cls_token.'),
                             ('norm_cls.', 'cls_head.norm_cls_token.')]),
}


@dataclass
class Unwrapped:
    """A flat state dict and where it came from."""
    state_dict: 'OrderedDict[str, torch.Tensor]'
    container: Optional[str] = None  # 'state_dict', 'model', ...
    meta: dict = field(default_factory=dict)


@dataclass
class ConvertResult:
    """Output of :func:`convert_checkpoint`."""
    state_dict: 'OrderedDict[str, torch.Tensor]'
    source_format: str
    meta: dict = field(default_factory=dict)  # meta of the source file
    notes: List[str] = field(default_factory=list)
    container: Optional[str] = None  # 'model', 'model_state', ... / None


def unwrap(ckpt, use_ema: bool = False) -> Unwrapped:
    """Find the state dict inside a checkpoint container.

    Accepts raw state dicts and the containers of mmengine
    (``state_dict``), DeiT (``model``, ``model_ema``), timm
    (``state_dict``, ``state_dict_ema``) and SlowFast (``model_state``). A
    ``module.`` prefix (DataParallel) is removed.
    """
    if not isinstance(ckpt, Mapping):
        raise CheckpointError(
            f'the checkpoint holds a {type(ckpt).__name__}, not a dict of '
            'tensors', 'Pass a state dict or a checkpoint file')
    meta = ckpt.get('meta') if isinstance(ckpt.get('meta'), Mapping) else {}
    obj, container = ckpt, None
    if not any(torch.is_tensor(v) for v in ckpt.values()):
        for key in _WRAPPERS:
            if isinstance(ckpt.get(key), Mapping):
                container = key
                ema = _EMA.get(key)
                if use_ema:
                    if not isinstance(ckpt.get(ema or ''), Mapping):
                        raise CheckpointError(
                            f'the checkpoint has no EMA weights '
                            f'({ema or key + "_ema"})',
                            'Drop --ema to use the regular weights')
                    key = ema
                obj = ckpt[key]
                break
    tensors = OrderedDict(
        (k, v) for k, v in obj.items() if torch.is_tensor(v))
    if tensors and all(k.startswith('module.') for k in tensors):
        tensors = OrderedDict((k[len('module.'):], v)
                              for k, v in tensors.items())
    metadata = getattr(obj, '_metadata', None)
    if metadata is not None:
        tensors._metadata = metadata
    return Unwrapped(tensors, container, dict(meta))


def _has(keys, prefix):
    return any(k.startswith(prefix) for k in keys)


def _v1_is_video(sd, prefix=''):
    for name in ('blocks1.0.attn.weight', 'blocks1.0.pos_embed.weight',
                 'patch_embed1.proj.weight', 'patch_embed1.proj.0.weight'):
        value = sd.get(prefix + name)
        if value is not None:
            return value.dim() == 5
    return False


def detect_format(ckpt, use_ema: bool = False) -> str:
    """Name the format of a loaded checkpoint (one of :data:`FORMATS`).

    Raises:
        CheckpointError: the layout is none of the known ones.
    """
    u = unwrap(ckpt, use_ema=use_ema)
    sd, keys = u.state_dict, set(u.state_dict)
    md = getattr(sd, '_metadata', None) or {}
    ours_meta = isinstance(u.meta.get('uniformer_arch'), Mapping) or any(
        isinstance(v, Mapping) and isinstance(v.get('uniformer_arch'),
                                              Mapping) for v in md.values())
    if not keys:
        raise CheckpointError('the checkpoint holds no tensors',
                              'Check that the file is a model checkpoint')
    conv1 = sd.get('conv1.weight', sd.get('backbone.conv1.weight'))
    if _has(keys, 'visual.') or (
            conv1 is not None and conv1.dim() == 4
            and (_has(keys, 'transformer.resblocks.')
                 or _has(keys, 'backbone.transformer.resblocks.'))
            and not _has(keys, 'backbone.transformer.dec.')):
        return 'clip'
    if _has(keys, 'backbone.transformer.') or 'backbone.conv1.weight' in keys:
        if _has(keys, 'backbone.transformer.proj.'):
            return 'v2_official'
        if _has(keys, 'backbone.transformer.norm.') or \
                _has(keys, 'cls_head.'):
            return 'ours' if ours_meta else 'v2_mmaction'
        # no classifier: the official container or the missing `norm`
        return 'v2_official'
    if _has(keys, 'transformer.proj.') and _has(keys, 'transformer.dec.'):
        return 'v2_official'  # official V2 without the wrapper prefix
    if _has(keys, 'backbone.patch_embed1.') or _has(keys, 'backbone.blocks1.'):
        if ours_meta:
            return 'ours'
        for fmt, heads in DENSE_FORMATS.items():
            if any(_has(keys, h) for h in heads):
                return fmt
        if 'cls_head.fc_cls.weight' in keys and _v1_is_video(
                sd, 'backbone.') and 'backbone.cls_token' not in keys and \
                not _has(keys, 'cls_head.fc_cls_token.'):
            return 'v1_mmaction'
        return 'ours'
    if _has(keys, 'patch_embed1.') and _has(keys, 'blocks1.'):
        if 'cls_token' in keys or _has(keys, 'head_cls.'):
            return 'v1_light'
        if _has(keys, 'aux_head.'):
            return 'v1_tl'
        if _v1_is_video(sd):
            return 'v1_video'
        return 'v1_image'
    sample = ', '.join(sorted(keys)[:4])
    raise CheckpointError(
        f'unknown checkpoint format (keys like {sample})',
        f'Pass --src-format with one of {", ".join(FORMATS)} if it is one of '
        'them')


# ---------------------------------------------------------------------------
# filters: flat state dict -> our layout
# ---------------------------------------------------------------------------
def _convert_v1(sd: Mapping[str, torch.Tensor],
                layout: Optional[str]) -> 'OrderedDict[str, torch.Tensor]':
    if layout is None:
        layout = 'mmaction' if _v1_is_video(sd) else 'mmpretrain'
    if layout not in V1_HEADS:
        raise ValueError(f'layout must be one of {sorted(V1_HEADS)}')
    heads = V1_HEADS[layout]
    out = OrderedDict()
    for key, value in sd.items():
        if key.startswith('backbone.') or key.startswith(
                ('head.fc.', 'cls_head.')):
            raise CheckpointError(
                f'{key} is already in our layout, not an official V1 key',
                'Use --src-format ours (or v1_mmaction)')
        for old, new in heads.items():
            if key.startswith(old):
                out[new + key[len(old):]] = value
                break
        else:
            if key.startswith('aux_head.'):
                raise CheckpointError(
                    'token-labeling aux_head has no place in the mmaction2 '
                    'layout', 'Convert to the image (mmpretrain) layout')
            out['backbone.' + key] = value
    return out


def convert_v1_image(sd, layout: str = None):
    """Official V1 image (DeiT) state dict -> ours (mmpretrain layout by
    default; ``layout='mmaction'`` names the classifier
    ``cls_head.fc_cls``)."""
    return _convert_v1(sd, layout or 'mmpretrain')


def convert_v1_tl(sd, layout: str = None):
    """Token-labeling state dict -> ours (``aux_head`` -> ``head.fc_aux``)."""
    return _convert_v1(sd, layout or 'mmpretrain')


def convert_v1_video(sd, layout: str = None):
    """Official V1 video (SlowFast) state dict -> ours (mmaction2 layout)."""
    return _convert_v1(sd, layout or 'mmaction')


def convert_v1_light(sd, layout: str = None):
    """Light (hourglass) state dict -> ours: ``head_cls`` ->
    ``fc_cls_token``, ``norm_cls`` -> ``norm_cls_token``; image models get
    the mmpretrain layout, video models the mmaction2 one."""
    return _convert_v1(sd, layout)


_DATA_PREPROCESSOR = 'data_preprocessor.'


def _check_known(sd, pattern, what):
    unknown = [k for k in sd if not pattern.match(k)]
    if unknown:
        raise CheckpointError(
            f'not {what} keys: {", ".join(unknown[:5])}'
            f'{" ..." if len(unknown) > 5 else ""}',
            'Pass the right --src-format')


_V1_OURS = re.compile(r'^(backbone\.|cls_head\.|head\.)')


def convert_v1_mmaction(sd):
    """mmaction2 V1 (``UniFormer`` + ``I3DHead``) -> ours: the same names;
    validates them and drops ``data_preprocessor`` buffers."""
    out = OrderedDict((k, v) for k, v in sd.items()
                      if not k.startswith(_DATA_PREPROCESSOR))
    _check_known(out, _V1_OURS, 'mmaction2 UniFormer')
    return out


def convert_v2_official(sd):
    """Official UniFormerV2 -> ours: ``backbone.transformer.proj.0`` ->
    ``backbone.transformer.norm``, ``backbone.transformer.proj.2`` ->
    ``cls_head.fc_cls`` (the dropout ``proj.1`` has no parameters)."""
    out = OrderedDict()
    for key, value in sd.items():
        if not key.startswith('backbone.'):
            key = 'backbone.' + key
        if key.startswith('backbone.transformer.proj.0.'):
            key = 'backbone.transformer.norm.' + key.split('.', 4)[-1]
        elif key.startswith('backbone.transformer.proj.2.'):
            key = 'cls_head.fc_cls.' + key.split('.', 4)[-1]
        elif key.startswith('backbone.transformer.proj.'):
            raise CheckpointError(f'unexpected official V2 key {key}',
                                  'Check the file')
        out[key] = value
    return out


def convert_v2_mmaction(sd, frozen: bool = False):
    """mmaction2 UniFormerV2 (``UniFormerV2`` + ``UniFormerHead``) -> ours:
    the same names (see :mod:`uniformer_mm.checkpoint.mmaction_v2`);
    ``frozen=True`` drops ``balance`` for a frozen target."""
    from .mmaction_v2 import mmaction_to_uniformerv2
    try:
        return mmaction_to_uniformerv2(sd, frozen=frozen)
    except KeyError as e:
        raise CheckpointError(str(e.args[0] if e.args else e),
                              'Pass the right --src-format') from e


def convert_clip(sd, conv1_time_dim: Optional[int] = None,
                 pos_grid=None):
    """CLIP image encoder -> our V2 backbone keys (``backbone.`` prefix).

    Drops the text tower and ``proj``/``ln_post``; ``conv1_time_dim``
    inflates ``conv1`` with the centre-frame rule (None keeps it 2D).
    """
    mapped = clip_to_uniformerv2(sd, conv1_time_dim=conv1_time_dim,
                                 pos_grid=pos_grid)
    return OrderedDict(('backbone.' + k, v) for k, v in mapped.items())


def _check_dense(sd, fmt):
    prefixes = _DENSE_PREFIXES[fmt]
    _check_known(sd, re.compile('^(' + '|'.join(
        re.escape(p) for p in prefixes) + ')'),
        f'official {fmt} ({", ".join(p[:-1] for p in prefixes)})')
    if not _has(sd, 'backbone.norm4.'):
        raise CheckpointError(
            f'no backbone.norm4: not an official {fmt} UniFormer file (the '
            'dense backbones normalise every stage output with norm1..4)',
            'Pass the right --src-format')


def convert_v1_det(sd):
    """Official detection (mmdet 2 fork) -> ours (mmdet 3): the same names
    (``backbone.norm1..4``, ``neck``, ``rpn_head``, ``roi_head``);
    validates them."""
    _check_dense(sd, 'v1_det')
    return OrderedDict(sd)


def convert_v1_seg(sd):
    """Official segmentation (mmseg 0.x fork) -> ours (mmseg 1): the same
    names (``decode_head``, ``auxiliary_head``, FPN ``neck``); validates
    them."""
    _check_dense(sd, 'v1_seg')
    return OrderedDict(sd)


#: Output norms of the official pose backbone that its forward computes but
#: never returns (it returns the last stage only).
POSE_UNUSED_NORMS = ('backbone.norm1.', 'backbone.norm2.', 'backbone.norm3.')


def convert_v1_pose(sd):
    """Official pose (mmpose 0.x fork, ``TopDown`` + ``TopDownSimpleHead``)
    -> ours (mmpose 1 ``TopdownPoseEstimator`` + ``HeatmapHead``, backbone
    ``out_indices=(3, )``).

    ``keypoint_head.`` -> ``head.``; a ``final_layer.N.*`` stack (extra
    convolutions before the last one) becomes ``conv_layers.N.*`` +
    ``final_layer.*`` as mmpose 1 names them; ``backbone.norm1..3`` are
    dropped: the official forward normalises every stage but returns only
    the last, so they never affect an output.
    """
    _check_dense(sd, 'v1_pose')
    finals = sorted({int(k.split('.')[2]) for k in sd
                     if k.startswith('keypoint_head.final_layer.')
                     and k.split('.')[2].isdigit()})
    out = OrderedDict()
    for key, value in sd.items():
        if key.startswith(POSE_UNUSED_NORMS):
            continue
        if key.startswith('keypoint_head.'):
            parts = key.split('.')[1:]
            if parts[0] == 'final_layer' and finals and parts[1].isdigit():
                parts = (['final_layer'] + parts[2:]
                         if int(parts[1]) == finals[-1] else
                         ['conv_layers'] + parts[1:])
            key = 'head.' + '.'.join(parts)
        out[key] = value
    return out


def convert_ours(sd):
    """Ours -> ours (drops ``data_preprocessor`` buffers)."""
    return OrderedDict((k, v) for k, v in sd.items()
                       if not k.startswith(_DATA_PREPROCESSOR))


CONVERTERS = {
    'ours': convert_ours,
    'v1_image': convert_v1_image,
    'v1_tl': convert_v1_tl,
    'v1_video': convert_v1_video,
    'v1_light': convert_v1_light,
    'v1_mmaction': convert_v1_mmaction,
    'v2_official': convert_v2_official,
    'v2_mmaction': convert_v2_mmaction,
    'clip': convert_clip,
    'v1_det': convert_v1_det,
    'v1_seg': convert_v1_seg,
    'v1_pose': convert_v1_pose,
}


def convert_checkpoint(ckpt, src_format: Optional[str] = None,
                       use_ema: bool = False,
                       **kwargs) -> ConvertResult:
    """Detect (or take) the format of ``ckpt`` and convert it to ours.

    Args:
        ckpt: a loaded checkpoint (container or flat state dict).
        src_format (str, optional): skip detection.
        use_ema (bool): take the EMA weights of a DeiT/timm container.
        **kwargs: passed to the format's filter (``layout`` for V1,
            ``conv1_time_dim``/``pos_grid`` for CLIP, ``frozen`` for
            mmaction2 V2).
    """
    fmt = src_format or detect_format(ckpt, use_ema=use_ema)
    if fmt not in CONVERTERS:
        raise CheckpointError(f'unknown source format {fmt!r}',
                              f'Use one of {", ".join(FORMATS)}')
    u = unwrap(ckpt, use_ema=use_ema)
    try:
        sd = CONVERTERS[fmt](u.state_dict, **kwargs)
    except TypeError as e:
        raise CheckpointError(f'option not supported for format {fmt}: {e}',
                              'Drop the option') from e
    metadata = getattr(u.state_dict, '_metadata', None)
    if fmt == 'ours' and metadata is not None:
        sd._metadata = metadata
    notes = []
    if u.container:
        notes.append(f'unwrapped {u.container!r}' +
                     (' (EMA weights)' if use_ema else ''))
    return ConvertResult(sd, fmt, u.meta, notes, u.container)


# ---------------------------------------------------------------------------
# reverse: ours -> mmaction2
# ---------------------------------------------------------------------------
def to_mmaction(sd) -> 'OrderedDict[str, torch.Tensor]':
    """Our V1 video / V2 recognizer state dict -> mmaction2's layout.

    mmaction2's ``UniFormer`` + ``I3DHead`` and ``UniFormerV2`` +
    ``UniFormerHead`` use our names, so this only validates: mmaction2 has
    no image UniFormer, no light (hourglass) model and cannot build frozen
    UniFormerV2 models (no ``transformer.balance``).
    """
    keys = list(sd)
    if _has(keys, 'head.'):
        raise CheckpointError(
            'mmaction2 has no image UniFormer (this state dict has an '
            'mmpretrain head)', 'Convert a video model')
    if 'backbone.cls_token' in sd or _has(keys, 'cls_head.fc_cls_token.'):
        raise CheckpointError('mmaction2 has no light (hourglass) UniFormer',
                              'Keep our layout for XXS/XS models')
    v2 = _has(keys, 'backbone.transformer.')
    if v2 and 'backbone.transformer.balance' not in sd:
        raise CheckpointError(
            'mmaction2 cannot build frozen UniFormerV2 models (no '
            'backbone.transformer.balance)', 'Keep our layout for frozen '
            'models')
    if not v2 and not _v1_is_video(sd, 'backbone.'):
        raise CheckpointError('not a UniFormer video state dict',
                              'Convert a V1 video or V2 model')
    out = OrderedDict((k, v) for k, v in sd.items()
                      if not k.startswith(_DATA_PREPROCESSOR))
    _check_known(out, re.compile(r'^(backbone\.|cls_head\.fc_cls\.)'),
                 'mmaction2 UniFormer')
    return out


# ---------------------------------------------------------------------------
# reverse: ours -> the official layouts and containers
# ---------------------------------------------------------------------------
#: Official family -> the container its code base saves and loads:
#: DeiT ``main.py`` (V1 image, light image) ``{'model': sd}``, timm's
#: CheckpointSaver (token labeling) ``{'state_dict': sd}``, SlowFast
#: ``checkpoint_amp.save_checkpoint`` (V1 video, light video)
#: ``{'model_state': sd}``; UniFormerV2 releases are the raw state dict
#: (``UNIFORMERV2.PRETRAIN`` indexes it directly, and its SlowFast
#: ``load_checkpoint`` takes a raw dict as well as ``{'model_state': sd}``).
OFFICIAL_CONTAINERS = OrderedDict([
    ('v1_image', 'model'),
    ('v1_tl', 'state_dict'),
    ('v1_light_image', 'model'),
    ('v1_video', 'model_state'),
    ('v1_light_video', 'model_state'),
    ('v2_official', None),
])
#: Containers that :func:`to_official` may be asked for (None: raw).
CONTAINER_CHOICES = ('model', 'state_dict', 'model_state', None)


def official_family(sd) -> str:
    """The official family of a state dict in our layout: a key of
    :data:`OFFICIAL_CONTAINERS`.

    Raises:
        CheckpointError: not a UniFormer classification model (e.g. a
            dense-prediction model, whose official layouts are ours).
    """
    keys = list(sd)
    if 'backbone.class_embedding' in sd or _has(keys, 'backbone.transformer.'):
        return 'v2_official'
    if not (_has(keys, 'backbone.patch_embed1.')
            and _has(keys, 'backbone.blocks1.')):
        raise CheckpointError(
            'not a UniFormer / UniFormerV2 classifier in our layout (no '
            'backbone.patch_embed1 / backbone.class_embedding)',
            'Convert a classification model (dense-prediction models keep '
            'the official names already)')
    if _has(keys, 'backbone.norm4.') and not _has(keys, 'backbone.norm.'):
        raise CheckpointError(
            'a dense-prediction backbone (norm1..4): its official detection '
            '/ segmentation / pose files use these names already',
            'Use the file as it is')
    video = _v1_is_video(sd, 'backbone.')
    if 'backbone.cls_token' in sd or _has(keys, 'head.fc_cls_token.') or \
            _has(keys, 'cls_head.fc_cls_token.'):
        return 'v1_light_video' if video else 'v1_light_image'
    if _has(keys, 'head.fc_aux.'):
        return 'v1_tl'
    return 'v1_video' if video else 'v1_image'


def _reverse_v1(sd):
    pairs = [(new, old) for heads in V1_HEADS.values()
             for old, new in heads.items()]
    pairs.append(('head.fc_aux.', 'aux_head.'))
    out = OrderedDict()
    for key, value in sd.items():
        if key.startswith(_DATA_PREPROCESSOR):
            continue
        if key.startswith('backbone.'):
            out[key[len('backbone.'):]] = value
            continue
        for ours, official in pairs:
            if key.startswith(ours):
                out[official + key[len(ours):]] = value
                break
        else:
            raise CheckpointError(
                f'{key} has no place in the official UniFormer layout',
                'Export a model of our configs (backbone + classifier)')
    return out


def _reverse_v2(sd):
    out = OrderedDict()
    for key, value in sd.items():
        if key.startswith(_DATA_PREPROCESSOR):
            continue
        if key.startswith('backbone.transformer.norm.'):
            key = 'backbone.transformer.proj.0.' + key.split('.', 3)[-1]
        elif key.startswith('cls_head.fc_cls.'):
            key = 'backbone.transformer.proj.2.' + key.split('.', 2)[-1]
        elif not key.startswith('backbone.'):
            raise CheckpointError(
                f'{key} has no place in the official UniFormerV2 layout',
                'Export a model of our configs (UniFormerV2Video + '
                'UniFormerV2Head)')
        out[key] = value
    return out


def to_official(sd, container: Optional[str] = 'auto'):
    """Our state dict -> the official layout and container of its family.

    The inverse of the official filters (:func:`convert_v1_image`,
    :func:`convert_v1_tl`, :func:`convert_v1_light`,
    :func:`convert_v1_video`, :func:`convert_v2_official`): official ->
    ours -> official gives back the same keys, in the same order, with the
    same tensors.

    Args:
        sd: a flat state dict of our layout (``data_preprocessor`` buffers
            are dropped).
        container: ``'auto'`` (the family's, :data:`OFFICIAL_CONTAINERS`),
            or one of ``'model'``, ``'state_dict'``, ``'model_state'``,
            ``None`` (the raw state dict).

    Returns:
        ``(checkpoint, family)``: what to ``torch.save`` and the family
        name (a key of :data:`OFFICIAL_CONTAINERS`).
    """
    family = official_family(sd)
    flat = _reverse_v2(sd) if family == 'v2_official' else _reverse_v1(sd)
    if container == 'auto':
        container = OFFICIAL_CONTAINERS[family]
    if container not in CONTAINER_CHOICES:
        raise CheckpointError(f'unknown container {container!r}',
                              "Use 'model', 'state_dict', 'model_state' or "
                              'None (raw)')
    return (flat if container is None else {container: flat}), family


def head_layout(sd) -> Tuple[str, List[str]]:
    """``('mmpretrain'|'mmaction'|'none', classifier keys)`` of our layout."""
    keys = [k for k in sd if k.startswith(('head.', 'cls_head.'))]
    if not keys:
        return 'none', []
    return ('mmaction' if keys[0].startswith('cls_head.') else
            'mmpretrain'), keys


__all__ = [
    'FORMATS', 'OFFICIAL_FORMATS', 'V1_HEADS', 'Unwrapped', 'ConvertResult',
    'unwrap', 'detect_format', 'convert_checkpoint', 'convert_v1_image',
    'convert_v1_tl', 'convert_v1_video', 'convert_v1_light',
    'convert_v1_mmaction', 'convert_v2_official', 'convert_v2_mmaction',
    'convert_clip', 'convert_ours', 'CONVERTERS', 'to_mmaction',
    'head_layout', 'DENSE_FORMATS', 'convert_v1_det', 'convert_v1_seg',
    'convert_v1_pose', 'POSE_UNUSED_NORMS', 'OFFICIAL_CONTAINERS',
    'official_family', 'to_official'
]
