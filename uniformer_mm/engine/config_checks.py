"""Catch configuration mistakes before anything is built.

:func:`check_config` is called by ``tools/train.py`` and ``tools/test.py``
after the command line is merged into the config. Each problem gets one
plain line that names the config key (and the file / line where there is
one):

``arch``
    An unknown arch name of a UniFormer backbone (``model.backbone.arch:
    unknown UniFormer arch 'smal'; choose one of ...``).
``input_size``
    A crop / resize size the backbone cannot take whole: UniFormer (V1)
    downsamples by 32, UniFormerV2 by its patch size (16 or 14); other sizes
    silently drop the border pixels. Checked on the last fixed size of each
    pipeline (``Resize(keep_ratio=False)``, ``CenterCrop``, ``ThreeCrop``,
    ``TenCrop``, ``RandomCrop``, mmpretrain's ``RandomResizedCrop``, our
    ``OfficialCenterCrop`` / ``OfficialThreeCrop``).
    Both backbones take any number of frames, so there is no frame rule.
``head``
    ``load_from`` whose classifier has another number of classes than the
    model's head (mmengine would silently skip the mismatched weights and
    train a random classifier). Convert the checkpoint first (e.g.
    ``tools/convert_checkpoint.py --drop-head`` or a label map), load only
    the backbone, or set ``allow_head_mismatch = True``.
``data_paths``
    A missing ``data_root``, annotation file or ``data_prefix`` directory of
    a data set: one line per data set, naming the first missing path, the
    missing data-set directory and the data set's page in docs/datasets/
    (:data:`DATA_DOCS`; a config may name its own page with ``data_docs``).
``annotations``
    Labels of a video annotation list outside the head's ``num_classes``,
    malformed lines (file and line numbers; see
    :mod:`uniformer_mm.datasets.validate`).
``robust_data``
    ``RobustVideoDataset(on_bad='skip')`` without ``BadSampleHook``.
``device_augment``
    A training pipeline whose transforms leave their work to the device
    (``defer=True``, :func:`uniformer_mm.datasets.config_utils.
    defer_augmentation`) without ``model.data_preprocessor.type=
    'DeviceAugmentPreprocessor'``, or without ``'deferred_augs'`` in its
    ``PackActionInputs`` meta keys: the model would train on uncropped,
    unaugmented clips.
``checkpoints``
    A local checkpoint that does not exist: ``load_from`` (also
    ``uniformer://PATH``; ``uniformer://NAME`` of the model index is
    fetched when loaded) and, in training, a backbone's
    ``init_cfg=dict(type='Pretrained', checkpoint=...)`` and UniFormerV2's
    ``clip_pretrained`` (URLs and ``open-mmlab://``-style names are not
    checked).
``types``
    Every ``type`` the runner builds (the model and its direct parts --
    backbone, neck, heads, data preprocessor --, data sets, pipelines,
    samplers, hooks, optimizer wrapper and optimizer, schedulers,
    evaluators, loops, visualizer) must be registered in the config's scope
    (mmaction2, mmpretrain, mmdet, ... and mmengine):
    ``model.backbone.type: unknown type 'UniFormerV2Vidoe' (not in the
    mmaction::model registry); did you mean 'UniFormerV2Video'?``. The
    keywords of those model parts, data sets, transforms, samplers, hooks,
    metrics and loops must be arguments of their class
    (``model: Recognizer3D has no argument 'backbon'; did you mean
    'backbone'?``; through ``**kwargs`` only near misses of known
    arguments are reported), and a data set whose class needs an
    annotation list must have one (``ann_file=None``). Deeper model dicts
    (losses, ``norm_cfg``, ...) are read by helpers with their own rules;
    their mistakes are one line when the model is built. See
    :mod:`uniformer_mm.engine.errors`.
``num_classes``
    The head's ``num_classes`` against the class count of the data: the
    config's ``label_map``, a data set's ``num_classes``, its ``classes`` /
    ``metainfo.classes`` (list or file), a ``label_map.txt`` next to its
    annotation list, and the labels of the training list (a 5-class head
    trained on labels 0..3 never sees class 4). Each message names both
    numbers and where they come from.

A config can switch checks off with ``config_checks = dict(skip=['head'])``.
"""
import os.path as osp
import re

from ..label_maps import resolve_path

__all__ = ['ConfigCheckError', 'check_config', 'check_types']

DOCS = 'docs/datasets/'
CHECKS = ('arch', 'input_size', 'head', 'data_paths', 'annotations',
          'robust_data', 'device_augment', 'checkpoints', 'types',
          'num_classes')
_V1 = ('UniFormer', 'UniFormerVideo')
_V2 = ('UniFormerV2Video', )
#: Data sets that create their data on first use (no path checks).
_GENERATING = ('DemoVideoDataset', 'DemoImageDataset')


class ConfigCheckError(ValueError):
    """One or more config mistakes; one line each."""


def _name(type_):
    if isinstance(type_, str):
        return type_.rsplit('.', 1)[-1]
    return getattr(type_, '__name__', str(type_))


def _get(cfg, key, default=None):
    try:
        return cfg.get(key, default)
    except AttributeError:
        return default


def _one_line(err):
    text = str(err)
    if isinstance(err, KeyError) and len(err.args) == 1:
        text = str(err.args[0])
    return ' '.join(text.split())


# ------------------------------------------------------------------ model
def _backbone(cfg):
    model = _get(cfg, 'model') or {}
    return _get(model, 'backbone') or {}


def _head_num_classes(cfg):
    model = _get(cfg, 'model') or {}
    for key in ('cls_head', 'head'):
        head = _get(model, key)
        if head is not None and _get(head, 'num_classes') is not None:
            return f'model.{key}.num_classes', int(head['num_classes'])
    return None, None


def _check_arch(cfg, errors):
    backbone = _backbone(cfg)
    name = _name(_get(backbone, 'type'))
    arch = _get(backbone, 'arch')
    if not isinstance(arch, str):
        return
    try:
        if name in _V1:
            from ..models.arch_zoo import resolve_arch
            resolve_arch(arch)
        elif name in _V2:
            from ..models.arch_zoo import resolve_v2_arch
            resolve_v2_arch(arch)
    except (KeyError, ValueError, TypeError) as e:
        errors.append(f'model.backbone.arch: {_one_line(e)}')


def _backbone_stride(cfg):
    """(stride, what) the input size must be a multiple of, or (None, _)."""
    backbone = _backbone(cfg)
    name = _name(_get(backbone, 'type'))
    if name in _V1:
        return 32, f'{name} (UniFormer V1 downsamples by 32)'
    if name in _V2:
        arch = _get(backbone, 'arch', 'vit-b16')
        try:
            from ..models.arch_zoo import resolve_v2_arch
            patch = resolve_v2_arch(
                arch if isinstance(arch, str) else dict(arch))['patch_size']
        except Exception:  # noqa: BLE001 - reported by _check_arch
            return None, None
        return patch, f'{name} (patch size {patch})'
    return None, None


def _pair_hw(value):
    """(h, w) of an int or a (w, h) pair, else None."""
    if isinstance(value, int) and value > 0:
        return value, value
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, int) and v > 0 for v in value):
        return value[1], value[0]
    return None


def final_size(pipeline, scope='mmaction'):
    """The fixed (h, w) a pipeline ends with, and the transform that set it
    (None, None if unknown)."""
    size, where = None, None
    for i, t in enumerate(pipeline or []):
        if not isinstance(t, dict):
            size = None
            continue
        type_ = _get(t, 'type')
        name = _name(type_)
        t_scope = (type_.split('.')[0] if isinstance(type_, str)
                   and '.' in type_ else scope)
        new = 'keep'
        if name in ('CenterCrop', 'ThreeCrop', 'TenCrop',
                    'OfficialCenterCrop', 'OfficialThreeCrop'):
            new = _pair_hw(_get(t, 'crop_size'))
        elif name == 'RandomCrop':
            new = _pair_hw(_get(t, 'size', _get(t, 'crop_size')))
        elif name == 'RandomResizedCrop':
            new = _pair_hw(_get(t, 'scale')) if 'scale' in t else None
        elif name == 'Resize':
            keep_default = t_scope == 'mmaction'
            if _get(t, 'keep_ratio', keep_default):
                new = None
            else:
                new = _pair_hw(_get(t, 'scale'))
        elif name in ('MultiScaleCrop', 'RandomRescale', 'ResizeEdge',
                      'RandomResize', 'RandomChoiceResize', 'Fuse',
                      'OfficialShortSideResize'):
            new = None
        if new != 'keep':
            size, where = new, f'{i}: {name}'
    return size, where


def _loader_datasets(cfg, loaders):
    """``(loader key, dataset key, dataset)`` of the leaf data sets of the
    given loaders (through ``dataset`` / ``datasets`` wrappers)."""
    for loader_key in loaders:
        loader = _get(cfg, loader_key)
        if not loader:
            continue
        for path, ds in _leaf_datasets(_get(loader, 'dataset'),
                                       f'{loader_key}.dataset'):
            yield loader_key, path, ds


def _pipelines(cfg, loaders):
    for _, path, ds in _loader_datasets(cfg, loaders):
        pipeline = _get(ds, 'pipeline')
        if isinstance(pipeline, (list, tuple)):
            yield f'{path}.pipeline', pipeline


def _check_input_size(cfg, loaders, errors):
    stride, what = _backbone_stride(cfg)
    if not stride:
        return
    scope = _get(cfg, 'default_scope') or 'mmaction'
    for key, pipeline in _pipelines(cfg, loaders):
        size, where = final_size(pipeline, scope)
        if size is None:
            continue
        bad = [s for s in size if s % stride]
        if bad:
            h, w = size
            fix_h, fix_w = (max(stride, round(v / stride) * stride)
                            for v in size)
            errors.append(
                f'{key}[{where}]: input size {h}x{w} is not a multiple of '
                f'{stride}, which {what} needs (the border pixels would be '
                f'dropped); use e.g. {fix_h}x{fix_w}')


def _state_dict_of(path):
    """The state dict of a checkpoint, read safely (weights only) and, where
    the file format allows, memory-mapped (only the head is looked at)."""
    import torch
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True,
                          mmap=True)
    except Exception:  # noqa: BLE001 - legacy format etc.: the reader
        from ..checkpoint.io import load_checkpoint_file  # explains it
        ckpt = load_checkpoint_file(path, map_location='cpu')
    if isinstance(ckpt, dict):
        for key in ('state_dict', 'model', 'module'):
            if isinstance(ckpt.get(key), dict):
                return ckpt[key]
    return ckpt if isinstance(ckpt, dict) else {}


def _classifier_rows(state_dict):
    """{key: rows} of the classifier weights of a state dict."""
    try:
        from ..checkpoint.head import classifier_keys
        keys = [k for k in classifier_keys(state_dict)
                if k.endswith('.weight')]
    except ImportError:  # pragma: no cover
        keys = []
    if not keys:  # any 2D weight of the head
        keys = [k for k, v in state_dict.items()
                if k.split('.')[0] in ('head', 'cls_head')
                and k.endswith('.weight') and getattr(v, 'ndim', 0) == 2]
    return {k: int(state_dict[k].shape[0]) for k in keys}


def _check_head(cfg, errors):
    load_from = _get(cfg, 'load_from')
    if not load_from or not isinstance(load_from, str) or '://' in load_from:
        return
    if _get(cfg, 'allow_head_mismatch', False):
        return
    key, num_classes = _head_num_classes(cfg)
    if num_classes is None or not osp.isfile(load_from):
        return  # a missing file is reported by the tools / the runner
    try:
        state_dict = _state_dict_of(load_from)
    except Exception as e:  # noqa: BLE001 - unreadable: say so in one line
        errors.append(f'load_from: cannot read {load_from}: {_one_line(e)}')
        return
    rows = _classifier_rows(state_dict)
    if not rows or num_classes in rows.values():
        return
    shown = ', '.join(f'{k} has {n} rows' for k, n in sorted(rows.items()))
    errors.append(
        f'{key}={num_classes} but the classifier of load_from={load_from} '
        f'has {sorted(set(rows.values()))} classes ({shown}). Without a '
        'mapping its head would be silently dropped: convert the checkpoint '
        '(tools/convert_checkpoint.py --drop-head for a new classifier, or '
        'label maps to re-order / select classes), load only the backbone '
        "(model.backbone.init_cfg=dict(type='Pretrained', checkpoint=..., "
        "prefix='backbone.') and load_from=None), or set "
        'allow_head_mismatch=True')


# ------------------------------------------------------------------ data
def _leaf_datasets(ds, path):
    if not isinstance(ds, dict):
        return
    inner = _get(ds, 'dataset')
    inners = _get(ds, 'datasets')
    if isinstance(inner, dict):
        yield from _leaf_datasets(inner, f'{path}.dataset')
    elif isinstance(inners, (list, tuple)):
        for i, d in enumerate(inners):
            yield from _leaf_datasets(d, f'{path}.datasets.{i}')
    else:
        yield path, ds


def _is_remote(p):
    return isinstance(p, str) and '://' in p


def _join(root, p):
    if not root or osp.isabs(p):
        return p
    return osp.join(root, p)


#: Docs page per data set, matched against the components of a missing
#: path (first match wins); a config may name its own with ``data_docs``.
DATA_DOCS = (
    (r'kinetics', 'kinetics.md'), (r'(sthv1|something-something-v1)',
                                   'sthv1.md'),
    (r'(sthv2|something-something-v2)', 'sthv2.md'),
    (r'(mit|moments)', 'mit.md'), (r'(activitynet|anet)', 'activitynet.md'),
    (r'hacs', 'hacs.md'), (r'ucf101', 'ucf101.md'), (r'hmdb51', 'hmdb51.md'),
    (r'imagenet', 'imagenet.md'), (r'coco', 'coco.md'),
    (r'(ade|adechallengedata)', 'ade20k.md'))


def _docs_page(cfg, path):
    page = _get(cfg, 'data_docs')
    if isinstance(page, str) and page:
        return page
    parts = [p.lower() for p in path.replace('\\', '/').split('/') if p]
    for pattern, name in DATA_DOCS:
        if any(re.match(pattern + r'(\d+|_|-|$)', p) for p in parts):
            return DOCS + name
    return DOCS


def _missing_top(path):
    """The shortest missing prefix of ``path`` (at least two components,
    e.g. ``data/kinetics400`` rather than ``data``)."""
    parts = path.split(osp.sep)
    start = 3 if osp.isabs(path) else 2
    for i in range(start, len(parts)):
        prefix = osp.sep.join(parts[:i])
        if not osp.exists(prefix):
            return prefix
    return path


def _missing_map(path) -> bool:
    """A local label / channel map path (``uniformer_mm::`` paths resolved)
    that names no file."""
    if not isinstance(path, str) or _is_remote(path):
        return False
    try:
        return not osp.isfile(resolve_path(path))
    except FileNotFoundError:
        return True


def _check_data_paths(cfg, loaders, errors):
    missing = []  # (key, what, path)
    for _, path, ds in _loader_datasets(cfg, loaders):
        if _name(_get(ds, 'type')) in _GENERATING:
            continue
        root = _get(ds, 'data_root') or ''
        if root and not _is_remote(root) and not osp.isdir(root):
            missing.append((f'{path}.data_root', 'directory', root))
            continue
        ann = _get(ds, 'ann_file') or ''
        if isinstance(ann, str) and ann and not _is_remote(ann):
            full = _join(root, ann)
            if not osp.isfile(full):
                missing.append(
                    (f'{path}.ann_file', 'annotation file', full))
        prefix = _get(ds, 'data_prefix')
        items = (prefix.items() if isinstance(prefix, dict) else
                 [('', prefix)] if isinstance(prefix, str) else [])
        for k, v in items:
            if not isinstance(v, str) or not v or _is_remote(v):
                continue
            full = _join(root, v)
            if not osp.isdir(full):
                sub = f'.{k}' if k else ''
                missing.append(
                    (f'{path}.data_prefix{sub}', 'directory', full))
        cmap = _get(ds, 'channel_map')  # LabelMapVideoDataset (K710)
        if _missing_map(cmap):
            missing.append((f'{path}.channel_map', 'channel map', cmap))
    # the K710 -> K400/600/700 head maps (read when the model is built)
    model = _get(cfg, 'model') or {}
    cmap = _get(_get(model, 'cls_head') or {}, 'channel_map')
    if _missing_map(cmap):
        missing.append(('model.cls_head.channel_map', 'channel map', cmap))
    # One line per docs page (= per data set): the first missing path, the
    # missing data set directories, the other keys that need them.
    groups = {}
    for key, what, full in missing:
        groups.setdefault(_docs_page(cfg, full), []).append((key, what, full))
    for page, items in groups.items():
        key, what, full = items[0]
        extra = []
        tops = [t for t in dict.fromkeys(_missing_top(f) for _, _, f in items)
                if t != full]
        if tops:
            extra.append(('missing directory ' if len(tops) == 1 else
                          'missing directories ') +
                         ', '.join(repr(t) for t in tops))
        others = items[1:]
        if others and all(f == full for _, _, f in others):
            extra.append('also needed by ' +
                         ', '.join(k for k, _, _ in others))
        elif others:
            owners = ', '.join(dict.fromkeys(
                k.split('.')[0] for k, _, _ in others))
            extra.append(f'{len(others)} more missing path'
                         f'{"s" if len(others) > 1 else ""} of {owners}')
        extra = f' ({"; ".join(extra)})' if extra else ''
        errors.append(f'{key}: {what} {full!r} does not exist{extra}. See '
                      f'{page} for how to download and prepare the data')


def _check_annotations(cfg, loaders, errors, reports):
    """Validate the video lists; their reports go to ``reports``
    (``{dataset key: AnnotationReport}``)."""
    from ..datasets.validate import AnnotationError, validate_video_list
    key, head_classes = _head_num_classes(cfg)
    for loader_key, path, ds in _loader_datasets(cfg, loaders):
        if _name(_get(ds, 'type')) not in ('VideoDataset',
                                           'RobustVideoDataset'):
            continue
        if _get(ds, 'allow_unlabeled', False):
            _check_unlabeled(cfg, loader_key, path, errors)
        ann = _get(ds, 'ann_file')
        if not isinstance(ann, str) or _is_remote(ann):
            continue
        full = _join(_get(ds, 'data_root') or '', ann)
        if not osp.isfile(full):
            continue  # reported by _check_data_paths
        num_classes = _get(ds, 'num_classes') or head_classes
        try:
            reports[path] = validate_video_list(
                full, num_classes=num_classes,
                multi_class=bool(_get(ds, 'multi_class', False)),
                delimiter=_get(ds, 'delimiter', ' '),
                allow_unlabeled=bool(_get(ds, 'allow_unlabeled', False)),
                check_files=False, on_duplicate='warn',
                logger=lambda m: None)
        except AnnotationError as e:
            src = (f' (num_classes from {key})' if not _get(
                ds, 'num_classes') and key else '')
            for line in str(e).splitlines():
                errors.append(f'{path}.ann_file{src}: {line}')


def _check_unlabeled(cfg, loader_key, path, errors):
    """A list without labels (allow_unlabeled=True) cannot be trained on nor
    scored: its labels are -1 and would count as wrong answers."""
    if loader_key == 'train_dataloader':
        errors.append(f'{path}.allow_unlabeled=True: training needs labels')
        return
    evaluator = _get(cfg, loader_key.replace('_dataloader', '_evaluator'))
    items = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    scoring = [_name(_get(e, 'type')) for e in items if e is not None
               and _name(_get(e, 'type')) != 'DumpResults']
    if scoring:
        key = loader_key.replace('_dataloader', '_evaluator')
        errors.append(
            f'{path}.allow_unlabeled=True (a list without labels) cannot be '
            f'scored by {", ".join(map(str, scoring))}: set {key} = '
            "dict(type='DumpResults', out_file_path='preds.pkl') to save "
            'the predictions instead')


def _hook_types(cfg):
    hooks = list(_get(cfg, 'custom_hooks') or [])
    hooks += list((_get(cfg, 'default_hooks') or {}).values())
    return {_name(_get(h, 'type')) for h in hooks if isinstance(h, dict)}


def _check_robust_data(cfg, loaders, errors, warnings):
    hooks = _hook_types(cfg)
    for _, path, ds in _loader_datasets(cfg, loaders):
        if _name(_get(ds, 'type')) != 'RobustVideoDataset':
            continue
        if 'BadSampleHook' in hooks:
            continue
        if _get(ds, 'on_bad', 'replace') == 'skip':
            errors.append(
                f"{path}.on_bad='skip' needs the BadSampleHook: add "
                "custom_hooks=[dict(type='BadSampleHook')]")
        else:
            warnings.append(
                f'{path} is a RobustVideoDataset but the config has no '
                'BadSampleHook: bad samples are logged by the loader '
                "only; add custom_hooks=[dict(type='BadSampleHook')] "
                'for counts per epoch and in the test results')


def _flat_transforms(pipeline):
    for t in pipeline or []:
        if isinstance(t, dict):
            yield t
            yield from _flat_transforms(_get(t, 'transforms'))


def _check_device_augment(cfg, loaders, errors):
    preprocessor = _name(_get(_get(_get(cfg, 'model') or {},
                                   'data_preprocessor') or {}, 'type'))
    for key, pipeline in _pipelines(cfg, loaders):
        steps = list(_flat_transforms(pipeline))
        deferred = [_name(_get(t, 'type')) for t in steps
                    if _get(t, 'defer')]
        if not deferred:
            continue
        if preprocessor != 'DeviceAugmentPreprocessor':
            errors.append(
                f'{key}: {deferred[0]}(defer=True) leaves its work to '
                "model.data_preprocessor.type='DeviceAugmentPreprocessor', "
                f'which is {preprocessor or "not set"}; set it, or remove '
                'defer=True')
        packs = [t for t in steps
                 if _name(_get(t, 'type')) == 'PackActionInputs']
        if packs and not all('deferred_augs' in (_get(t, 'meta_keys') or ())
                             for t in packs):
            errors.append(
                f"{key}: PackActionInputs must pack 'deferred_augs' "
                f'(meta_keys) for the deferred {deferred[0]}; use '
                'uniformer_mm.datasets.config_utils.defer_augmentation')


def _local_checkpoint(path):
    """The local file a checkpoint reference points to, or None for URLs,
    model-zoo names and non-strings."""
    if not isinstance(path, str) or not path:
        return None
    from ..checkpoint.loader import SCHEME, is_hub_model
    if path.startswith(SCHEME):
        path = path[len(SCHEME):]
        if not osp.isfile(path):
            if is_hub_model(path):  # uniformer://NAME: the model hub's
                return None
    return None if _is_remote(path) else path


def _init_checkpoints(init_cfg):
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    for i, c in enumerate(cfgs):
        if _get(c, 'type') == 'Pretrained':
            yield i, _get(c, 'checkpoint')


def _check_checkpoints(cfg, errors, mode):
    refs = [('load_from', _get(cfg, 'load_from'))]
    backbone = _backbone(cfg)
    # initialisation weights are read by init_weights(), i.e. in training
    # only (testing loads a whole checkpoint with load_from)
    if mode == 'train':
        init_cfg = _get(backbone, 'init_cfg')
        multi = isinstance(init_cfg, (list, tuple))
        for i, ckpt in _init_checkpoints(init_cfg):
            key = 'model.backbone.init_cfg' + (f'[{i}]' if multi else '')
            refs.append((f'{key}.checkpoint', ckpt))
        refs.append(('model.backbone.clip_pretrained',
                     _get(backbone, 'clip_pretrained')))
    for key, ref in refs:
        path = _local_checkpoint(ref)
        if path is None or osp.isfile(path):
            continue
        what = 'is a directory' if osp.isdir(path) else 'does not exist'
        errors.append(
            f'{key}: {path} {what}; give the checkpoint file (official and '
            'converted checkpoints: docs/checkpoints.md)')


# ------------------------------------------------------------------ types
#: Top-level keys and the registry kind of the typed dicts under them;
#: ``args``: also check their keywords against the class signature.
_TOP_TYPED = (
    ('train_pipeline', 'transform', True), ('val_pipeline', 'transform', True),
    ('test_pipeline', 'transform', True), ('custom_hooks', 'hook', True),
    ('optim_wrapper', 'optimizer wrapper', False),
    ('param_scheduler', 'parameter scheduler', False),
    ('val_evaluator', 'metric', True), ('test_evaluator', 'metric', True),
    ('train_cfg', 'loop', True), ('val_cfg', 'loop', True),
    ('test_cfg', 'loop', True), ('visualizer', 'visualizer', False),
    ('log_processor', 'log processor', False))
#: Keys that the runner pops before building (not constructor arguments).
_NOT_ARGS = {'type', '_scope_', 'priority'}
_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _typed(node):
    return isinstance(node, dict) and isinstance(_get(node, 'type'), str)


def _items(node, key):
    """``(key, item)`` of a dict or each dict of a list."""
    if isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            yield f'{key}[{i}]', item
    elif node is not None:
        yield key, node


def _model_nodes(node, key, depth=0):
    """Typed dicts of a model config: (key, node, kind, check args).

    The model and its direct parts (backbone, neck, heads, data
    preprocessor), which the registry builds from exactly these keys.
    Deeper dicts (``norm_cfg``, RoI layers, ``nms``, coders, ...) are often
    read by helpers, by name or from other registries; a mistake there is
    still one line when the model is built
    (:func:`uniformer_mm.engine.errors.explain`).
    """
    if _typed(node):
        yield key, node, 'model', not key.endswith('_cfg')
    if not isinstance(node, dict) or depth >= 1:
        return
    for name, value in node.items():
        if name in ('type', '_scope_', 'init_cfg') or name.endswith('_cfg'):
            continue
        for k, v in _items(value, f'{key}.{name}'):
            if isinstance(v, dict):
                yield from _model_nodes(v, k, depth + 1)


def _dataset_nodes(ds, key):
    if not isinstance(ds, dict):
        return
    if _typed(ds):
        yield key, ds, 'dataset', True
    inner = _get(ds, 'dataset')
    if isinstance(inner, dict):
        yield from _dataset_nodes(inner, f'{key}.dataset')
    for k, v in _items(_get(ds, 'datasets'), f'{key}.datasets'):
        yield from _dataset_nodes(v, k)
    yield from _pipeline_nodes(_get(ds, 'pipeline'), f'{key}.pipeline')


def _pipeline_nodes(pipeline, key):
    for k, t in _items(pipeline if isinstance(pipeline, (list, tuple))
                       else None, key):
        if _typed(t):
            yield k, t, 'transform', True
            for name in ('transforms', ):  # RandomChoice & co
                for k2, t2 in _items(_get(t, name), f'{k}.{name}'):
                    if isinstance(t2, (list, tuple)):
                        yield from _pipeline_nodes(t2, k2)
                    elif _typed(t2):
                        yield k2, t2, 'transform', True


def _typed_nodes(cfg, loaders=_LOADERS):
    """Every typed dict of ``cfg`` the runner builds (only the loaders of
    the mode): ``(key, node, registry kind, check args)``."""
    model = _get(cfg, 'model')
    if isinstance(model, dict):
        yield from _model_nodes(model, 'model')
    for loader_key in loaders:
        loader = _get(cfg, loader_key)
        if not isinstance(loader, dict):
            continue
        for name in ('sampler', 'batch_sampler'):
            node = _get(loader, name)
            if _typed(node):
                yield f'{loader_key}.{name}', node, 'data sampler', True
        yield from _dataset_nodes(_get(loader, 'dataset'),
                                  f'{loader_key}.dataset')
    for key, kind, args in _TOP_TYPED:
        value = _get(cfg, key)
        if key.endswith('_pipeline'):
            yield from _pipeline_nodes(value, key)
            continue
        for k, node in _items(value, key):
            if isinstance(node, dict) and isinstance(
                    _get(node, 'metrics'), (list, tuple, dict)):
                for k2, m in _items(_get(node, 'metrics'), f'{k}.metrics'):
                    if _typed(m):
                        yield k2, m, 'metric', True
                continue
            if _typed(node):
                yield k, node, kind, args
        if key == 'optim_wrapper' and isinstance(value, dict):
            opt = _get(value, 'optimizer')
            if _typed(opt):
                yield 'optim_wrapper.optimizer', opt, 'optimizer', False
        if key == 'visualizer' and isinstance(value, dict):
            for k, b in _items(_get(value, 'vis_backends'),
                               'visualizer.vis_backends'):
                if _typed(b):
                    yield k, b, 'visualization backend', False
    for name, hook in (_get(cfg, 'default_hooks') or {}).items():
        if _typed(hook):
            yield f'default_hooks.{name}', hook, 'hook', True


def _scope(cfg):
    """``default_scope``, else the scope whose model registry alone knows
    the model's type (base configs such as ``configs/_base_/models``)."""
    scope = _get(cfg, 'default_scope')
    if isinstance(scope, str) and scope:
        return scope
    from .errors import find_type
    model = _get(cfg, 'model') or {}
    for name in (_get(model, 'type'), _get(_get(model, 'backbone') or {},
                                           'type')):
        if not isinstance(name, str):
            continue
        if '.' in name:
            return name.split('.')[0]
        found = [s for s in ('mmaction', 'mmpretrain')
                 if find_type(name, 'model', s) is not None]
        if len(found) == 1:
            return found[0]
    return None  # a config fragment: either


def _requires(obj, arg):
    """True when ``obj``'s constructor chain declares ``arg`` without a
    default (``VideoDataset(ann_file, ...)``)."""
    import inspect
    for klass in inspect.getmro(obj) if inspect.isclass(obj) else ():
        init = vars(klass).get('__init__')
        if init is None:
            continue
        try:
            param = inspect.signature(init).parameters.get(arg)
        except (TypeError, ValueError):
            return False
        if param is not None:
            return param.default is inspect.Parameter.empty
    return False


def check_types(cfg, errors, loaders=_LOADERS, model_only=False):
    """The ``types`` check (see the module doc); problems are appended to
    ``errors``."""
    from .errors import (argument_error_line, argument_names, find_type,
                         registered_anywhere, scope_registries,
                         type_error_line)
    scope = _scope(cfg)
    if scope and scope_registries(scope) is None:
        return  # a framework that is not installed: nothing to look up in
    nodes = (_model_nodes(_get(cfg, 'model'), 'model') if model_only
             else _typed_nodes(cfg, loaders))
    scopes = [scope] if scope else ['mmaction', 'mmpretrain']
    for key, node, kind, check_args in nodes:
        name = node['type']
        obj = next((o for o in (find_type(name, kind, sc) for sc in scopes)
                    if o is not None), None)
        if obj is None:
            line = type_error_line(f'{key}.type', name, kind, scopes[0])
            if line and not any(registered_anywhere(name, sc)
                                for sc in scopes):
                errors.append(line)
            continue
        if kind == 'dataset' and _get(node, 'ann_file', '') in (None, '') \
                and _requires(obj, 'ann_file'):
            what = (f'is {node["ann_file"]!r}' if 'ann_file' in node else
                    'is not set')
            errors.append(
                f'{key}.ann_file {what}, but {_name(name)} needs an '
                f"annotation list; set {key}.ann_file='path/to/list.txt' "
                '(docs/custom_dataset.md)')
        if not check_args or scope is None:  # a fragment: which class?
            continue
        names, closed = argument_names(obj)
        for arg in node:
            if arg in _NOT_ARGS:
                continue
            line = argument_error_line(key, obj, arg, closed, names)
            if line:
                errors.append(line)


# ------------------------------------------------------------ num_classes
def _count_lines(path):
    with open(path, encoding='utf-8') as f:
        return sum(1 for line in f if line.strip())


def _data_class_counts(ds, path):
    """``[(count, where)]``: what a data set config says about its number
    of classes."""
    found = []
    n = _get(ds, 'num_classes')
    if isinstance(n, int) and not isinstance(n, bool):
        found.append((n, f'{path}.num_classes'))
    for key in ('classes', 'metainfo'):
        value = _get(ds, key)
        if key == 'metainfo':
            value = _get(value, 'classes') if isinstance(value, dict) \
                else None
            key = 'metainfo.classes'
        if isinstance(value, (list, tuple)):
            found.append((len(value), f'{path}.{key} ({len(value)} names)'))
        elif isinstance(value, str) and not _is_remote(value):
            try:
                full = _join(_get(ds, 'data_root') or '', resolve_path(value))
            except FileNotFoundError:  # reported by the data set
                continue
            if osp.isfile(full):
                count = _count_lines(full)
                found.append((count, f'{path}.{key} ({full}, {count} '
                              'lines)'))
    ann = _get(ds, 'ann_file')
    if isinstance(ann, str) and ann and not _is_remote(ann):
        full = _join(_get(ds, 'data_root') or '', ann)
        label_map = osp.join(osp.dirname(full), 'label_map.txt')
        if osp.isfile(full) and osp.isfile(label_map):
            count = _count_lines(label_map)
            found.append((count, f'the label map {label_map} next to '
                          f'{osp.basename(full)} ({count} lines)'))
    return found


def _check_label_map(cfg, key, head, errors):
    """The config's ``label_map`` (the class names of its predictions)
    against the head."""
    source = _get(cfg, 'label_map')
    if source is None or _is_remote(source):
        return
    from ..label_maps import LabelMapError, read_label_map
    try:
        names = read_label_map(source)
    except (FileNotFoundError, LabelMapError) as e:
        errors.append(f'label_map: {_one_line(e)}')
        return
    if len(names) != head:
        what = f'label_map={source!r}' if isinstance(source, str) else \
            'label_map'
        errors.append(
            f'{key}={head} but {what} names {len(names)} classes: set '
            f'{key}={len(names)}, or label_map to the class names of the '
            'data set')


def _check_num_classes(cfg, loaders, errors, reports):
    key, head = _head_num_classes(cfg)
    if head is None:
        return
    _check_label_map(cfg, key, head, errors)
    for loader_key, path, ds in _loader_datasets(cfg, loaders):
        for count, where in _data_class_counts(ds, path):
            if count != head:
                errors.append(
                    f'{key}={head} but {where} says {count} classes: '
                    f'set {key}={count} (or fix the data set)')
        report = reports.get(path)
        if (loader_key != 'train_dataloader' or report is None
                or _get(ds, 'multi_class', False)):
            continue
        labels = [e.label for e in report.entries
                  if isinstance(e.label, int) and e.label >= 0]
        if labels and max(labels) + 1 < head:
            top = max(labels)
            errors.append(
                f'{key}={head} but the labels of the training list '
                f'{report.ann_file} ({path}.ann_file) go up to {top} '
                f'({top + 1} classes): classes {top + 1}..{head - 1} '
                f'never appear in training; set {key}={top + 1}, add '
                "their videos, or config_checks=dict(skip=['num_classes'])"
                ' if that is intended')


# ------------------------------------------------------------------ main
def check_config(cfg, mode='train'):
    """Check ``cfg`` (an mmengine ``Config`` or dict) for the mistakes
    listed in the module doc.

    Args:
        cfg: The config, after command-line options were merged.
        mode (str): ``'train'`` checks the train and val data, ``'test'``
            the test data.

    Returns:
        list[str]: Warnings (things that work but are probably unintended).

    Raises:
        ConfigCheckError: One line per problem.
    """
    if mode not in ('train', 'test', 'val'):
        raise ValueError(f'mode must be train, val or test, got {mode!r}')
    loaders = {
        'train': ('train_dataloader', 'val_dataloader'),
        'val': ('val_dataloader', ),
        'test': ('test_dataloader', )
    }[mode]
    skip = set((_get(_get(cfg, 'config_checks') or {}, 'skip') or ()))
    unknown = skip - set(CHECKS)
    if unknown:
        raise ConfigCheckError(
            f'config_checks.skip: unknown checks {sorted(unknown)}; '
            f'choose from {list(CHECKS)}')
    errors, warnings, reports = [], [], {}
    if 'types' not in skip:
        check_types(cfg, errors, loaders)
    if 'arch' not in skip:
        _check_arch(cfg, errors)
    if 'input_size' not in skip:
        _check_input_size(cfg, loaders, errors)
    if 'data_paths' not in skip:
        _check_data_paths(cfg, loaders, errors)
    if 'annotations' not in skip:
        _check_annotations(cfg, loaders, errors, reports)
    if 'num_classes' not in skip:
        _check_num_classes(cfg, loaders, errors, reports)
    if 'robust_data' not in skip:
        _check_robust_data(cfg, loaders, errors, warnings)
    if 'device_augment' not in skip:
        _check_device_augment(cfg, loaders, errors)
    if 'checkpoints' not in skip:
        _check_checkpoints(cfg, errors, mode)
    if 'head' not in skip:
        _check_head(cfg, errors)
    if errors:
        raise ConfigCheckError('\n'.join(errors))
    return warnings
