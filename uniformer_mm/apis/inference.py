"""Build a model from a config and classify videos or images with it.

Video configs (mmaction2, ``default_scope = 'mmaction'``) and image configs
(mmpretrain, ``default_scope = 'mmpretrain'``) both work: the task is taken
from ``default_scope``, or from the registry that knows ``model.type`` when
the config has no scope (the files in ``configs/_base_/models``).

Dense-prediction configs (mmdet / mmseg / mmpose: :data:`DENSE_TASKS`)
are built and loaded by :func:`build_model` / :func:`init_model` too
(``get_task(cfg, dense=True)``); classifying inputs (the pipeline and
prediction functions below) is for video and image models only. A config
whose framework is not installed stops with one line
(:class:`MissingFrameworkError`) saying how to install it.

Inputs are run through the test pipeline ``tools/test.py`` would use
(:func:`test_pipeline_cfg`: ``test_dataloader.dataset.pipeline``, else the
top-level ``test_pipeline``), with its loading steps replaced to suit the
input:

* a video file (anything decord reads): ``VideoInit`` + ``VideoDecode``
  around the config's frame sampling;
* a numpy array of frames ``(T, H, W, 3)``, uint8 **RGB** (what decord
  returns): ``ArrayDecode`` instead of the file decoding;
* an image file: ``LoadImageFromFile`` (image models), or a 1-frame video
  (video models; the frame sampler repeats it);
* an image array ``(H, W, 3)``, uint8 **RGB**: converted to the BGR order
  of ``LoadImageFromFile`` (image models), or a 1-frame video.

Multi-view test pipelines (``num_clips > 1``, ``ThreeCrop``, ``TenCrop``) are
fused as the model's head does in ``test_step`` (mmaction2's
``BaseHead.average_clip``: ``'prob'`` averages the softmax of the views,
``'score'`` the raw scores).
"""
import contextlib
import copy
import logging
import os.path as osp
import re
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import MMLogger, print_log
from mmengine.registry import DefaultScope

from ..label_maps import LabelMapError, read_label_map

__all__ = [
    'VIDEO_EXTENSIONS', 'IMAGE_EXTENSIONS', 'get_task', 'load_config',
    'build_model', 'topk_predictions', 'init_model', 'build_test_pipeline',
    'prepare_inputs', 'predict_scores',
    'inference_model', 'load_label_map', 'config_class_names', 'class_names',
    'extract_clip_feature',
    'pool_backbone_output', 'count_views', 'test_pipeline_cfg',
    'scores_of_inputs', 'load_weights', 'check_model_config',
    'DENSE_TASKS', 'MissingFrameworkError', 'missing_framework'
]

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.mov', '.webm', '.flv', '.wmv',
                    '.m4v', '.mpg', '.mpeg', '.3gp', '.ts')
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif',
                    '.tiff', '.ppm', '.pgm')

_SCOPES = {'video': 'mmaction', 'image': 'mmpretrain'}

#: Dense-prediction tasks and the scope (package) of their configs.
DENSE_TASKS = {'detection': 'mmdet', 'segmentation': 'mmseg',
               'pose': 'mmpose'}
_ALL_SCOPES = dict(_SCOPES, **DENSE_TASKS)

#: How to install a dense framework (docs/dense_prediction.md): mmdet and
#: mmseg come with the ``dense`` extra; mmpose is installed without its
#: declared dependencies (torchvision, chumpy) and needs xtcocotools built
#: against the installed numpy.
_DENSE_EXTRA = ('pip install "uniformer-mm[dense]" (in a clone: pip install '
                '-e ".[dense]")')
_INSTALL = {
    'mmdet': _DENSE_EXTRA,
    'mmseg': _DENSE_EXTRA,
    'mmpose': _DENSE_EXTRA + ', then pip install --no-deps mmpose==1.3.2 '
              'and pip install --no-build-isolation --no-binary xtcocotools '
              '"xtcocotools>=1.12" (docs/dense_prediction.md)',
}


class MissingFrameworkError(ImportError):
    """A dense-prediction config whose framework (mmdet, mmseg, mmpose) is
    not installed or does not import; one line naming it and the fix."""


def missing_framework(scope: str) -> Optional[str]:
    """None when the dense framework ``scope`` (``'mmdet'``, ``'mmseg'``,
    ``'mmpose'``) imports with its models, else the reason (one line)."""
    import importlib
    import importlib.util
    if importlib.util.find_spec(scope) is None:
        return f'{scope} is not installed'
    try:
        importlib.import_module(f'{scope}.models')
    except ImportError as e:  # e.g. mmpose without xtcocotools
        return f'{scope}.models does not import ({e})'
    return None


def _dense_scopes_named(path: str, seen=None) -> List[str]:
    """The dense scopes whose configs ``path`` or the local files it names
    (its ``_base_`` chain) refer to (``'mmpose::...'``), read as text: the
    config cannot be parsed when one of them is missing."""
    seen = set() if seen is None else seen
    path = osp.abspath(path)
    if path in seen or not osp.isfile(path):
        return []
    seen.add(path)
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    scopes = [s for s in DENSE_TASKS.values() if f'{s}::' in text]
    for name in re.findall(r"""['"]([^'":]+\.py)['"]""", text):
        for scope in _dense_scopes_named(
                osp.join(osp.dirname(path), name), seen):
            if scope not in scopes:
                scopes.append(scope)
    return scopes


def _require_framework(scope: str, what: str):
    reason = missing_framework(scope)
    if reason:
        raise MissingFrameworkError(
            f'{what} needs {scope}: {reason}. Install it: {_INSTALL[scope]}')

# mmaction2 loading steps: opening a video ...
_VIDEO_INITS = {
    'DecordInit', 'PyAVInit', 'OpenCVInit', 'PIMSInit', 'VideoInit'
}
# ... and decoding the sampled frames
_VIDEO_DECODES = {
    'DecordDecode', 'PyAVDecode', 'OpenCVDecode', 'PIMSDecode',
    'VideoDecode', 'RawFrameDecode', 'ArrayDecode', 'ImageDecode',
    'PyAVDecodeMotionVector'
}
_IMAGE_LOADS = {'LoadImageFromFile', 'LoadImageFromNDArray'}

# Used when a config has no test pipeline (e.g. configs/_base_/models/*):
# the usual single-view evaluation of the papers at 224.
_DEFAULT_VIDEO_PIPELINE = [
    dict(type='VideoInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=1,
         test_mode=True),
    dict(type='VideoDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
_DEFAULT_IMAGE_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]


# --------------------------------------------------------------------------
# config / model
# --------------------------------------------------------------------------
def load_config(config: Union[str, Path, Config],
                cfg_options: Optional[dict] = None) -> Config:
    """A :class:`Config` from a path (or a copy of a Config), with
    ``cfg_options`` (dotted keys) merged in and the knob references
    resolved (:func:`uniformer_mm.engine.config_knobs.resolve_knobs`)."""
    if isinstance(config, (str, Path)):
        try:
            cfg = Config.fromfile(str(config))
        except (AssertionError, ImportError, KeyError):
            # mmengine cannot resolve an ``mmdet::`` / ``mmseg::`` /
            # ``mmpose::`` base when the package is missing
            for scope in _dense_scopes_named(str(config)):
                _require_framework(scope, f'config {config}')
            raise
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        raise TypeError('config must be a file name or a Config, got '
                        f'{type(config)}')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    # the ``${name}`` references of the zoo's bases (config_knobs)
    from ..engine.config_knobs import resolve_knobs
    return resolve_knobs(cfg)


def get_task(cfg: Config, dense: bool = False) -> str:
    """``'video'`` (mmaction2) or ``'image'`` (mmpretrain) for a config;
    with ``dense=True`` also ``'detection'`` (mmdet), ``'segmentation'``
    (mmseg) or ``'pose'`` (mmpose), told by ``default_scope``.

    Raises:
        ValueError: the task cannot be told, or a dense config without
            ``dense=True`` (one line: the caller handles video and image
            models only).
    """
    scope = cfg.get('default_scope')
    for task, name in DENSE_TASKS.items():
        if scope == name:
            if dense:
                return task
            raise ValueError(
                f'this is an {scope} ({task}) config; video and image '
                'classification only here: use tools/train.py / '
                'tools/test.py, or uniformer_mm.get_model / build_model for '
                'the model itself')
    _import_models()
    for task, name in _SCOPES.items():
        if scope == name:
            return task
    from mmaction.registry import MODELS as ACTION_MODELS
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    model = cfg.get('model') or {}
    backbone = model.get('backbone') or {}
    for name in (model.get('type'), backbone.get('type')):
        if isinstance(name, str) and '.' in name:  # 'mmaction.Recognizer3D'
            prefix = name.split('.')[0]
            for task, task_scope in _SCOPES.items():
                if prefix == task_scope:
                    return task
        in_video = name in ACTION_MODELS.module_dict
        in_image = name in PRETRAIN_MODELS.module_dict
        if in_video != in_image:
            return 'video' if in_video else 'image'
    raise ValueError(
        f'cannot tell whether the config is for mmaction2 or mmpretrain '
        f"(default_scope={scope!r}, model.type={model.get('type')!r}); set "
        "default_scope = 'mmaction' or 'mmpretrain'")


def _model_registry(task):
    if task in DENSE_TASKS:
        import importlib
        scope = DENSE_TASKS[task]
        _require_framework(scope, f'a {task} model')
        return importlib.import_module(f'{scope}.registry').MODELS
    if task == 'video':
        from mmaction.registry import MODELS
    else:
        from mmpretrain.registry import MODELS
    return MODELS


def _transform_registry(task):
    if task not in _SCOPES:
        raise ValueError(
            f'the inputs of a {task} model are not prepared here (video and '
            'image classification only): use the test pipeline of '
            f'{DENSE_TASKS.get(task, task)}')
    if task == 'video':
        from mmaction.registry import TRANSFORMS
    else:
        from mmpretrain.registry import TRANSFORMS
    return TRANSFORMS


def _scope(task):
    """Context manager making the task's registry scope the default."""
    return DefaultScope.overwrite_default_scope(_ALL_SCOPES[task])


def _drop_pretrained(model_cfg):
    """No download / file read of pretrained backbone weights at build."""
    backbone = model_cfg.get('backbone')
    if not isinstance(backbone, dict):
        return
    for key in ('pretrained', 'clip_pretrained'):
        if backbone.get(key):
            backbone[key] = None
    init_cfg = backbone.get('init_cfg')
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        backbone['init_cfg'] = None


def _import_models():
    """Import every model module of the package, so that all of them are
    registered even if a subpackage ``__init__`` does not import one."""
    import importlib
    for name in ('uniformer_mm.models.backbones.uniformerv2',
                 'uniformer_mm.models.heads.uniformerv2_head'):
        try:
            importlib.import_module(name)
        except ImportError:  # pragma: no cover - optional / in progress
            pass


def check_model_config(cfg: Config) -> None:
    """Unknown types and arguments of ``cfg.model`` as one-line errors
    (:func:`uniformer_mm.engine.config_checks.check_types`), before it is
    built.

    Raises:
        ConfigCheckError: one line per problem, with a "did you mean".
    """
    from ..engine.config_checks import ConfigCheckError, check_types
    errors = []
    check_types(cfg, errors, model_only=True)
    if errors:
        raise ConfigCheckError('\n'.join(errors))


def build_model(cfg: Config, task: Optional[str] = None) -> nn.Module:
    """Build ``cfg.model`` from the task's registry, without pretrained
    backbone weights, without ``init_weights`` (parameters keep the
    initialisation of their constructors) and without the data
    preprocessor's training-time batch ``blending`` (mixup / cutmix: not
    used at inference, and a torch ``Beta`` distribution cannot be built on
    the ``meta`` device).

    ``task``: as :func:`get_task` gives it, dense tasks included (default:
    ``get_task(cfg, dense=True)``)."""
    _import_models()
    task = task or get_task(cfg, dense=True)
    registry = _model_registry(task)  # a missing framework: its one line
    check_model_config(cfg)
    model_cfg = copy.deepcopy(cfg.model)
    _drop_pretrained(model_cfg)
    preprocessor = model_cfg.get('data_preprocessor')
    if isinstance(preprocessor, dict):
        preprocessor.pop('blending', None)
    with _scope(task):
        return registry.build(model_cfg)


def init_model(config: Union[str, Path, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None,
               min_loaded_fraction: Optional[float] = None) -> nn.Module:
    """Build a recognizer (mmaction2) or classifier (mmpretrain) -- or a
    dense-prediction model (mmdet / mmseg / mmpose) -- for inference.

    Args:
        config: config file or :class:`Config`.
        checkpoint: checkpoint file (or URL), read safely (weights only, any
            supported format, see :mod:`uniformer_mm.checkpoint.loader`);
            None: random initialisation (``init_weights``; pretrained
            backbone weights named by the config are *not* loaded).
        device: where the model goes.
        cfg_options: dotted-key overrides merged into the config.
        min_loaded_fraction: the checkpoint must fill at least this
            fraction of the model's parameters, else
            :class:`~uniformer_mm.checkpoint.coverage.PartialLoadError`
            (one line: tensors matched, the arch the checkpoint fits).
            Default: the config's ``min_loaded_fraction``, else
            ``$UNIFORMER_MM_MIN_LOADED``, else 0.5; 0 switches it off.

    Returns:
        The model in eval mode, with ``model.cfg`` (the config) and
        ``model.task`` (``'video'``, ``'image'`` or a dense task). ``model.dataset_meta``
        is taken from the checkpoint's meta when it has class names, else
        ``{'classes': config_class_names(cfg)}`` when the config names them
        (see :func:`config_class_names`).
    """
    cfg = load_config(config, cfg_options)
    task = get_task(cfg, dense=True)
    model = build_model(cfg, task)
    if checkpoint is None:
        with _scope(task), _quiet_logger():
            model.init_weights()
    else:
        ckpt = load_weights(model, str(checkpoint), min_loaded_fraction
                               if min_loaded_fraction is not None else
                               cfg.get('min_loaded_fraction'))
        meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
        if isinstance(meta, dict) and meta.get('dataset_meta'):
            model.dataset_meta = copy.deepcopy(meta['dataset_meta'])
    if task in _SCOPES and not (getattr(model, 'dataset_meta', None) or
                                {}).get('classes'):
        names = config_class_names(cfg, task)
        if names is not None:
            meta = dict(getattr(model, 'dataset_meta', None) or {})
            meta['classes'] = names
            model.dataset_meta = meta
    model.cfg = cfg
    model.task = task
    model.to(device)
    model.eval()
    return model


def load_weights(model: nn.Module, checkpoint: str,
                 min_loaded_fraction: Optional[float] = None) -> dict:
    """Load a checkpoint into a model as mmengine's ``load_checkpoint``
    does (non-strict, ``module.`` prefixes removed), after checking that it
    fills at least ``min_loaded_fraction`` of the model
    (:func:`~uniformer_mm.checkpoint.coverage.check_checkpoint_for_model`).

    Returns the loaded checkpoint.
    """
    from mmengine.runner.checkpoint import (_load_checkpoint,
                                            _load_checkpoint_to_model)

    from ..checkpoint.coverage import check_checkpoint_for_model
    from ..checkpoint.io import CheckpointError
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    if not isinstance(ckpt, dict):
        raise CheckpointError(
            f'{checkpoint} holds a {type(ckpt).__name__}, not a state dict',
            'Give a checkpoint saved by tools/train.py or torch.save')
    check_checkpoint_for_model(model, ckpt, checkpoint,
                               min_fraction=min_loaded_fraction)
    _load_checkpoint_to_model(model, ckpt, strict=False, logger='current')
    return ckpt


@contextlib.contextmanager
def _quiet_logger(level=logging.WARNING):
    """Silence mmengine's per-parameter ``init_weights`` report."""
    logger = MMLogger.get_current_instance()
    old = logger.level
    logger.setLevel(max(level, old))
    try:
        yield
    finally:
        logger.setLevel(old)


def _task_of(model):
    task = getattr(model, 'task', None)
    if task is None:
        task = get_task(model.cfg)
    return task


# --------------------------------------------------------------------------
# pipeline
# --------------------------------------------------------------------------
def test_pipeline_cfg(cfg: Config, task: Optional[str] = None
                      ) -> Tuple[List[dict], bool]:
    """The config's test pipeline: ``test_dataloader.dataset.pipeline`` (or
    that of a wrapped / the first concatenated dataset: what
    ``tools/test.py`` runs), else ``test_pipeline``, else a default 224
    single-view pipeline.

    The data loader's pipeline comes first: a config derived from another
    one updates its loaders (``update_transforms``), and the top-level
    ``test_pipeline`` it inherits still describes the base (other frames,
    another crop).

    Returns ``(steps, from_config)``.
    """
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    while isinstance(dataset, dict) and not dataset.get('pipeline'):
        if isinstance(dataset.get('dataset'), dict):
            dataset = dataset['dataset']  # RepeatDataset & co
        elif dataset.get('datasets'):
            dataset = dataset['datasets'][0]  # ConcatDataset
        else:
            break
    pipeline = dataset.get('pipeline') if isinstance(dataset, dict) else None
    if not pipeline:
        pipeline = cfg.get('test_pipeline')
    if pipeline:
        return [copy.deepcopy(dict(step)) for step in pipeline], True
    task = task or get_task(cfg)
    default = (_DEFAULT_VIDEO_PIPELINE
               if task == 'video' else _DEFAULT_IMAGE_PIPELINE)
    return copy.deepcopy(default), False


def _type(step):
    """Transform type without a scope prefix (``'mmaction.DecordInit'``)."""
    kind = step['type']
    return kind.split('.')[-1] if isinstance(kind, str) else kind


def _video_steps(steps, source):
    """Replace the loading steps of a video pipeline for ``source``
    (``'file'`` or ``'array'``)."""
    out = []
    for step in steps:
        kind = _type(step)
        if kind in _VIDEO_INITS:
            continue
        if kind in _VIDEO_DECODES:
            out.append(dict(type='VideoDecode' if source ==
                            'file' else 'ArrayDecode'))
        else:
            out.append(step)
    if not any(_type(s) in ('VideoDecode', 'ArrayDecode') for s in out):
        raise ValueError(
            'the test pipeline has no frame decoding step (DecordDecode, '
            'RawFrameDecode, ...) to replace')
    if source == 'file':
        out.insert(0, dict(type='VideoInit'))
    return out


def _image_steps(steps, source):
    if source == 'file':
        if not any(_type(s) in _IMAGE_LOADS for s in steps):
            steps = [dict(type='LoadImageFromFile')] + steps
        return [
            dict(type='LoadImageFromFile') if _type(s) in _IMAGE_LOADS else s
            for s in steps
        ]
    return [s for s in steps if _type(s) not in _IMAGE_LOADS]


def build_test_pipeline(model_or_cfg, source: str = 'file') -> Compose:
    """The test pipeline of a model (or config) for a ``'file'`` or an
    ``'array'`` input."""
    cfg = getattr(model_or_cfg, 'cfg', model_or_cfg)
    task = (_task_of(model_or_cfg)
            if isinstance(model_or_cfg, nn.Module) else get_task(cfg))
    steps, from_config = test_pipeline_cfg(cfg, task)
    if not from_config:
        print_log(
            'the config has no test_pipeline (nor test_dataloader.dataset.'
            'pipeline): using the default single-view pipeline ' +
            ('(16 frames, interval 4, short side 224, centre crop 224)'
             if task == 'video' else
             '(short side 256, centre crop 224)'),
            logger='current', level=logging.WARNING)
    steps = (_video_steps(steps, source)
             if task == 'video' else _image_steps(steps, source))
    registry = _transform_registry(task)
    with _scope(task):
        return Compose([registry.build(step) for step in steps])


def _pipeline(model, source):
    """:func:`build_test_pipeline`, cached on the model."""
    cache = model.__dict__.setdefault('_uniformer_mm_pipelines', {})
    if source not in cache:
        cache[source] = build_test_pipeline(model, source)
    return cache[source]


def _kind_of_path(path):
    ext = osp.splitext(str(path))[1].lower()
    return 'image' if ext in IMAGE_EXTENSIONS else 'video'


def prepare_inputs(model: nn.Module, source) -> dict:
    """Run ``source`` through the model's test pipeline.

    Returns the packed sample (``inputs`` + ``data_samples``) of mmaction2 /
    mmpretrain for ``source``: a path, an RGB frame array ``(T, H, W, 3)``
    or an RGB image array ``(H, W, 3)``.
    """
    task = _task_of(model)
    if isinstance(source, (str, Path)):
        path = str(source)
        if not osp.isfile(path):
            raise FileNotFoundError(f'no such file: {path}')
        kind = _kind_of_path(path)
        if task == 'image' and kind == 'video':
            raise ValueError(f'{path}: a video, but the model classifies '
                             'images')
        if task == 'video' and kind == 'image':
            import mmcv
            source = mmcv.imread(path, channel_order='rgb')
        else:
            data = (dict(filename=path, label=-1, start_index=0,
                         modality='RGB') if task == 'video' else dict(
                             img_path=path))
            return _pipeline(model, 'file')(data)
    array = np.asarray(source)
    if array.dtype != np.uint8:
        raise TypeError(f'expected a uint8 array, got {array.dtype}')
    if array.ndim == 3:
        if array.shape[-1] != 3:
            raise ValueError(f'expected an (H, W, 3) image, got {array.shape}')
        if task == 'image':
            bgr = np.ascontiguousarray(array[..., ::-1])
            data = dict(img=bgr, img_shape=bgr.shape[:2],
                        ori_shape=bgr.shape[:2])
            return _pipeline(model, 'array')(data)
        array = array[None]
    if array.ndim != 4 or array.shape[-1] != 3:
        raise ValueError(f'expected (T, H, W, 3) frames, got {array.shape}')
    if task == 'image':
        raise ValueError('a frame sequence, but the model classifies images')
    data = dict(array=array, total_frames=len(array), start_index=0,
                modality='RGB', label=-1)
    return _pipeline(model, 'array')(data)


def count_views(packed: dict, task: str) -> int:
    """Number of views (clips x crops) in a packed sample."""
    inputs = packed['inputs']
    if task == 'video' and inputs.dim() >= 5:
        return int(inputs.shape[0])
    return 1


# --------------------------------------------------------------------------
# prediction
# --------------------------------------------------------------------------
def predict_scores(model: nn.Module, source) -> Tuple[np.ndarray, int]:
    """Class scores of ``source`` (views fused as the model's head does).

    Returns ``(scores, num_views)``; ``scores`` is a float32 vector.
    """
    packed = prepare_inputs(model, source)
    return scores_of_inputs(model, packed), count_views(packed,
                                                        _task_of(model))


def scores_of_inputs(model: nn.Module, packed: dict) -> np.ndarray:
    """Class scores of one packed sample from :func:`prepare_inputs` (the
    second half of :func:`predict_scores`, for callers that also look at
    the sample, e.g. the web page showing the frames the model sees).

    Returns a float32 vector, views fused as the model's head does.
    """
    task = _task_of(model)
    with _scope(task), torch.no_grad():
        result = model.test_step(pseudo_collate([packed]))[0]
    scores = result.pred_score.detach().float().cpu().numpy()
    if scores.ndim > 1:  # average_clips=None: one row per view
        scores = scores.reshape(-1, scores.shape[-1]).mean(0)
    return scores


def load_label_map(label_map) -> Optional[List[str]]:
    """Class names from a label map (None: None): a file path, a shipped map
    (``'uniformer_mm::label_maps/kinetics400.txt'``) or a sequence; see
    :func:`uniformer_mm.label_maps.read_label_map`."""
    if label_map is None:
        return None
    return read_label_map(label_map)


def _head_num_classes(cfg: Config) -> Optional[int]:
    model = cfg.get('model') or {}
    head = model.get('cls_head') or model.get('head') or {}
    n = head.get('num_classes')
    return int(n) if isinstance(n, int) else None


def _test_dataset_type(cfg: Config) -> Optional[str]:
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader') or {}
    ds = loader.get('dataset') or {}
    while isinstance(ds, dict) and isinstance(ds.get('dataset'), dict):
        ds = ds['dataset']  # RepeatDataset / ClassBalancedDataset ...
    if isinstance(ds, dict) and isinstance(ds.get('datasets'), list) and \
            ds['datasets']:
        ds = ds['datasets'][0]  # ConcatDataset
    kind = ds.get('type') if isinstance(ds, dict) else None
    return kind if isinstance(kind, str) else None


def config_class_names(cfg: Config,
                       task: Optional[str] = None) -> Optional[List[str]]:
    """The class names a config declares, or None.

    The config's ``label_map`` (our dataset configs set it to a shipped
    map, e.g. ``'uniformer_mm::label_maps/kinetics400.txt'``), else the
    ``METAINFO['classes']`` of its test data set class (mmpretrain's
    ``ImageNet``). A label map that cannot be read, or names whose count
    differs from the head's ``num_classes``, are not used (a warning says
    so): they would label the scores wrongly.
    """
    num_classes = _head_num_classes(cfg)
    source, names = cfg.get('label_map'), None
    if source is not None:
        try:
            names = read_label_map(source)
        except (FileNotFoundError, LabelMapError) as e:
            print_log(f'class names not used: config label_map: {e}',
                      logger='current', level=logging.WARNING)
            return None
        source = f'label_map {source!r}'
    else:
        kind = _test_dataset_type(cfg)
        if kind is None:
            return None
        task = task or get_task(cfg)
        if task == 'video':
            from mmaction.registry import DATASETS
        else:
            from mmpretrain.registry import DATASETS
        cls = DATASETS.get(kind)
        classes = (getattr(cls, 'METAINFO', None) or {}).get('classes')
        if not classes:
            return None
        names, source = [str(c) for c in classes], f'{kind}.METAINFO'
    if num_classes is not None and len(names) != num_classes:
        print_log(
            f'class names not used: {source} has {len(names)} classes, the '
            f'model {num_classes} (set label_map in the config, or pass '
            '--label-map)', logger='current', level=logging.WARNING)
        return None
    return names


def class_names(model, label_map=None) -> Optional[List[str]]:
    """The names of ``model``'s classes: ``label_map`` when given (any
    :func:`load_label_map` source; ``LabelMapError`` when its count differs
    from the model's classes), else ``model.dataset_meta['classes']`` (set
    by :func:`init_model` from the checkpoint or the config), else None."""
    cfg = getattr(model, 'cfg', None)
    if label_map is not None:
        num_classes = _head_num_classes(cfg) if cfg is not None else None
        return read_label_map(label_map, num_classes)
    meta = getattr(model, 'dataset_meta', None) or {}
    classes = meta.get('classes')
    return [str(c) for c in classes] if classes is not None else None


def topk_predictions(scores: np.ndarray, topk: int = 5,
                     names: Optional[Sequence[str]] = None
                     ) -> List[Tuple[int, Optional[str], float]]:
    """``[(label_index, label_name or None, score), ...]``, best first."""
    scores = np.asarray(scores).reshape(-1)
    k = min(int(topk), scores.size)
    order = np.argsort(-scores, kind='stable')[:k]
    out = []
    for i in order:
        name = names[i] if names is not None and i < len(names) else None
        out.append((int(i), name, float(scores[i])))
    return out


def inference_model(model: nn.Module,
                    path_or_array,
                    topk: int = 5,
                    label_map=None) -> List[Tuple[int, Optional[str], float]]:
    """Top-``topk`` predictions for a video / image file or an RGB array.

    Args:
        model: from :func:`init_model`.
        path_or_array: video file (anything decord reads), image file, uint8
            RGB frames ``(T, H, W, 3)`` or image ``(H, W, 3)``.
        topk: number of predictions returned.
        label_map: file with one class name per line, or a list of names;
            None: ``model.dataset_meta['classes']`` if known, else no names.

    Returns:
        ``[(label_index, label_name or None, score), ...]`` sorted by
        decreasing score; scores are what the model's ``test_step`` returns
        (probabilities for ``average_clips='prob'`` and mmpretrain heads).
    """
    scores, _ = predict_scores(model, path_or_array)
    return topk_predictions(scores, topk, class_names(model, label_map))


# --------------------------------------------------------------------------
# features
# --------------------------------------------------------------------------
def pool_backbone_output(feats) -> torch.Tensor:
    """``[B, C]`` from a backbone output: global average over all but the
    first two dims (``[B, C, (T,) H, W]`` maps), last stage of a tuple of
    stages, the feature map of a light model's ``(map, cls_token)``."""
    if isinstance(feats, (tuple, list)):
        if len(feats) == 2 and torch.is_tensor(feats[1]) and \
                feats[1].dim() == 2 and torch.is_tensor(feats[0]) and \
                feats[0].dim() >= 4:
            feats = feats[0]  # light model: (feature map, class token)
        else:
            return pool_backbone_output(feats[-1])
    if feats.dim() > 2:
        feats = feats.flatten(2).mean(-1)
    return feats


def extract_clip_feature(model: nn.Module, source,
                         per_view: bool = False) -> np.ndarray:
    """The pooled backbone feature (before the classifier) of ``source``.

    The test pipeline and data preprocessor of the model are applied, the
    backbone runs on every view, its output is average-pooled to ``[C]`` per
    view (:func:`pool_backbone_output`), and the views are averaged (or
    returned as ``[views, C]`` with ``per_view``).
    """
    task = _task_of(model)
    packed = prepare_inputs(model, source)
    with _scope(task), torch.no_grad():
        data = model.data_preprocessor(pseudo_collate([packed]), False)
        inputs = data['inputs']
        if task == 'video' and inputs.dim() == 6:  # [N, views, C, T, H, W]
            inputs = inputs.flatten(0, 1)
        feats = pool_backbone_output(model.backbone(inputs))
    feats = feats.float().cpu().numpy()
    return feats if per_view else feats.mean(0)
