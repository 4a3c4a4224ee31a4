"""Helpers for config files: change the pipeline steps of a base config.

mmengine evaluates a base config before the child config, so a child that
sets ``clip_len = 32`` does not change the pipelines that the base built
from its own ``clip_len``. :func:`update_transforms` updates the transform
dicts of a whole data loader (nested pipelines of ``RepeatClips`` and the
sub data sets of a ``ConcatDataset`` included) in one call::

    _base_ = ['../_base_/datasets/kinetics400.py']
    from uniformer_mm.datasets.config_utils import update_transforms  # noqa

    num_frames = 16
    train_dataloader = update_transforms(
        _base_.train_dataloader, UniformSample=dict(clip_len=num_frames))
    val_dataloader = update_transforms(
        _base_.val_dataloader, UniformSample=dict(clip_len=num_frames))
    test_dataloader = update_transforms(
        _base_.test_dataloader, UniformSample=dict(clip_len=num_frames))

(The ``import`` must come after ``_base_ = ...``: mmengine reads a config
whose first statement is a non-builtin import as a "new style" config.)

:func:`defer_augmentation` moves the training augmentation from the data
loader workers to the device (see
``uniformer_mm/models/data_preprocessors/device_augment.py``)::

    train_augment = defer_augmentation(_base_.train_augment)  # zoo bases
    train_dataloader = defer_augmentation(_base_.train_dataloader)  # others
    model = dict(data_preprocessor=dict(type='DeviceAugmentPreprocessor'))
"""
import copy
from typing import Any, Dict, Optional


def update_transforms(node: Any, **updates: Dict[str, Any]) -> Any:
    """A deep copy of ``node`` with every transform dict updated.

    Args:
        node: a config value (dict / list / data loader config / pipeline).
        **updates: ``TransformType=dict(arg=value, ...)``: every dict with
            ``type == TransformType`` gets these arguments (merged); if the
            update itself has a ``type``, the transform is replaced by it.
            The value ``None`` removes the transform from its list.

    Returns:
        The updated copy (dicts become plain ``dict``; mmengine converts them
        back to ``ConfigDict``).

    Raises:
        ValueError: an update names a transform type that ``node`` does not
            have (one line naming it and the transforms present): a row that
            still says ``SampleFrames=...`` after its base switched sampler
            would otherwise keep the base's frames without a word.

    Legacy: the zoo's bases build their pipelines from knobs
    (``clip_len = 16`` in a child; configs/README.md), which needs no call.
    """
    present = transform_types(node)
    missing = [k for k in updates if k not in present]
    if missing:
        names = ', '.join(present) or 'none'
        from ..engine.config_knobs import has_references
        hint = ('; its pipeline is built from knobs: set clip_len, '
                'crop_size, ... or the *_sampler / train_augment dicts in '
                'the config instead (configs/README.md, "Knobs")'
                if has_references(node) else '')
        raise ValueError(
            f'update_transforms: no {", ".join(missing)} transform to update '
            f'(transforms present: {names}){hint}')

    def visit(value):
        if isinstance(value, dict):
            kind = value.get('type')
            if isinstance(kind, str) and kind in updates:
                update = updates[kind]
                if update is None:
                    return _REMOVE
                if 'type' in update:
                    return copy.deepcopy(dict(update))
                value = {**value, **copy.deepcopy(dict(update))}
            return {k: visit(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            items = [visit(v) for v in value]
            items = [v for v in items if v is not _REMOVE]
            return type(value)(items) if isinstance(value, tuple) else items
        return copy.deepcopy(value)

    return visit(node)


class _Remove:
    pass


def iter_transforms(node: Any):
    """Every transform dict (a dict with a string ``type``) under ``node``,
    nested ones included (``RepeatClips``, data sets, loaders)."""
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            yield node
        for value in node.values():
            yield from iter_transforms(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from iter_transforms(value)


def transform_types(node: Any) -> list:
    """The ``type`` of every transform dict under ``node``, in order of
    appearance, each once."""
    return list(dict.fromkeys(t['type'] for t in iter_transforms(node)))


#: transforms that can leave their work to DeviceAugmentPreprocessor
DEFERRABLE = ('VideoRandAugment', 'FusedRandomResizedCropFlip',
              'VideoRandomErasing')
#: what may follow a deferred transform in a pipeline (pixels untouched)
_AFTER_DEFERRED = DEFERRABLE + ('FormatShape', 'PackActionInputs')
#: mmaction2's PackActionInputs default meta_keys
_PACK_META_KEYS = ('img_shape', 'img_key', 'video_id', 'timestamp')


def defer_augmentation(node: Any) -> Any:
    """A deep copy of a data loader (or a pipeline: a list) whose
    ``VideoRandAugment``, ``FusedRandomResizedCropFlip`` and
    ``VideoRandomErasing`` only draw their random parameters
    (``defer=True``) and whose ``PackActionInputs`` packs them
    (``'deferred_augs'`` in ``meta_keys``), for
    ``DeviceAugmentPreprocessor`` to apply on the device. The workers then
    decode (and resize) only.

    Raises:
        ValueError: a transform that changes pixels follows a deferred one
            (it would see the frames before the deferred augmentation).
    """
    from ..models.data_preprocessors.device_augment import DEFERRED_KEY

    def pipeline(steps):
        out, deferred = [], None
        for step in steps:
            if not isinstance(step, dict):
                out.append(step)
                continue
            kind = step.get('type')
            if kind in DEFERRABLE:
                step = {**step, 'defer': True}
                deferred = deferred or kind
            elif kind == 'PackActionInputs':
                keys = tuple(step.get('meta_keys', _PACK_META_KEYS))
                if DEFERRED_KEY not in keys:
                    keys += (DEFERRED_KEY, )
                step = {**step, 'meta_keys': keys}
            elif deferred and kind not in _AFTER_DEFERRED:
                raise ValueError(
                    f'{kind} follows the deferred {deferred}: it would see '
                    'the frames before that augmentation; move it before, '
                    'or keep the augmentation in the workers')
            if isinstance(step.get('transforms'), (list, tuple)):
                step = {**step, 'transforms': pipeline(step['transforms'])}
            out.append(step)
        return out

    def visit(value):
        if isinstance(value, dict):
            return {k: pipeline(v) if k == 'pipeline' and
                    isinstance(v, (list, tuple)) else visit(v)
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(visit(v) for v in value)
        return value

    node = copy.deepcopy(node)
    if isinstance(node, (list, tuple)):  # a pipeline given directly
        out = pipeline(node)
    elif isinstance(node, dict) and isinstance(node.get('type'), str):
        out = pipeline([node])[0]  # one step, e.g. the bases' train_augment
    else:
        out = visit(node)
    if not any(t.get('defer') for t in iter_transforms(out)):
        from ..engine.config_knobs import has_references
        where = (': its pipeline is built from knobs, defer the bases\' '
                 'train augmentation instead: train_augment = '
                 'defer_augmentation(_base_.train_augment) '
                 '(configs/_base_/datasets/README.md)'
                 if has_references(node) else '')
        raise ValueError('defer_augmentation: no '
                         f'{", ".join(DEFERRABLE)} found to defer{where}')
    return out


_REMOVE = _Remove()


def k710_classifier(target: str) -> dict:
    """The ``cls_head`` change of a row fine-tuned from a Kinetics-710
    model on one of its Kinetics sets: the classifier starts from the K710
    rows of the target's classes (the official ``label_mixto600.json`` /
    ``label_mixto700.json``; channel maps: ``docs/datasets/kinetics.md``),
    read from the K710 checkpoint of the backbone::

        _base_ = ['./uniformerv2-base-p16-res224_clip-k710-pre_u8_kinetics400-rgb.py']
        dataset_name = 'kinetics600'
        num_classes = 600
        from uniformer_mm.datasets.config_utils import k710_classifier  # noqa
        model = dict(cls_head=k710_classifier('k600'))

    Args:
        target (str): ``'k400'``, ``'k600'`` or ``'k700'`` (a channel map in
            ``uniformer_mm/label_maps/k710_channel_map_<target>.json``).

    Returns:
        dict: ``channel_map`` and a ``Pretrained`` ``init_cfg`` (prefix
        ``cls_head.``) whose checkpoint is the reference
        ``'${model.backbone.init_cfg.checkpoint}'``.
    """
    if target not in ('k400', 'k600', 'k700'):
        raise ValueError(f'k710_classifier: no K710 channel map for '
                         f'{target!r}; use k400, k600 or k700')
    return dict(
        channel_map=f'uniformer_mm::label_maps/k710_channel_map_{target}.json',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='${model.backbone.init_cfg.checkpoint}',
            prefix='cls_head.'))


def image_resolution(loader: Any, size: int, crop_pct: float = 0.875) -> Any:
    """A deep copy of an ImageNet data loader of the image recipes
    (``configs/_base_/datasets/imagenet_bs128_uniformer.py``) at another
    resolution, by the rule of the official evaluation (DeiT / timm): train
    ``RandomResizedCrop`` to ``size``; test short side
    ``floor(size / crop_pct)`` (``ResizeEdge``) + ``CenterCrop`` of
    ``size``. Only the transforms the loader has are changed::

        _base_ = ['./uniformer-xxs_8xb512_in1k.py']
        from uniformer_mm.datasets.config_utils import image_resolution  # noqa

        train_dataloader = image_resolution(_base_.train_dataloader, 160)
        val_dataloader = image_resolution(_base_.val_dataloader, 160)  # 182
        test_dataloader = val_dataloader

    Args:
        loader: a data loader config (or a pipeline) with
            ``RandomResizedCrop`` and / or ``ResizeEdge`` + ``CenterCrop``.
        size (int): The crop size (pixels).
        crop_pct (float): The centre crop's share of the test short side:
            0.875 = 224 / 256 (DeiT, the UniFormer image recipes; 128 px ->
            146, 160 -> 182, 192 -> 219), 0.9 (timm's default, the token
            labeling recipe; 384 -> 426).

    Returns:
        The updated copy (see :func:`update_transforms`).

    Raises:
        ValueError: ``loader`` has none of these transforms, or ``size`` /
            ``crop_pct`` is out of range.
    """
    if size < 1 or not 0 < crop_pct <= 1:
        raise ValueError(f'image_resolution: need size >= 1 and 0 < crop_pct '
                         f'<= 1, got size={size}, crop_pct={crop_pct}')
    updates = dict(
        RandomResizedCrop=dict(scale=size),
        ResizeEdge=dict(scale=int(size / crop_pct)),
        CenterCrop=dict(crop_size=size))
    present = transform_types(loader)
    if not any(kind in present for kind in updates):
        raise ValueError(
            f'image_resolution: no RandomResizedCrop, ResizeEdge or '
            f'CenterCrop transform to set to {size} px (transforms present: '
            f'{", ".join(present) or "none"})')
    return update_transforms(
        loader, **{k: v for k, v in updates.items() if k in present})
