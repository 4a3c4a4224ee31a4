"""The Kinetics data pipelines that the benchmarks compare.

Shared by ``tools/analysis/compare_mmaction.py`` (``--pipeline``) and
``tools/analysis/bench_video_pipeline.py``:

* ours: the pipelines of the data set base configs
  (``configs/_base_/datasets/kinetics400.py``: UniFormerV2 recipe, sparse 8
  frames; ``kinetics400_dense.py``: UniFormer V1 recipe, 16x4 dense, 2
  repeated augmentations, random erasing), with the decoding backend of
  ``VideoInit`` or frame folders (mmaction2's ``RawFrameDecode``) swapped in
  where asked, and with the augmentation deferred to the device
  (:func:`uniformer_mm.datasets.config_utils.defer_augmentation`);
* mmaction2's: the same training chain with mmaction2's transforms
  (DecordInit/DecordDecode, RandomResizedCrop, Resize, Flip) *without*
  RandAugment -- mmaction2's RandAugment is ``PytorchVideoWrapper(op=
  'RandAugment')`` (pytorchvideo + torchvision), not installable here, so
  the chain is a lower bound of the cost of mmaction2's recipe -- and its
  test chain (4 clips x 3 crops at short side 224).
"""
import copy
import os.path as osp
from typing import Dict, List, Tuple

__all__ = [
    'OUR_PIPELINE_CONFIG', 'DENSE_PIPELINE_CONFIG', 'config_pipelines',
    'mmaction2_train_chain', 'mmaction2_test_chain', 'pipeline_chains',
    'without', 'split_decode', 'with_backend', 'for_frames'
]

#: our Kinetics pipelines: the ones of the configs
OUR_PIPELINE_CONFIG = 'configs/_base_/datasets/kinetics400.py'
DENSE_PIPELINE_CONFIG = 'configs/_base_/datasets/kinetics400_dense.py'


def repo_root() -> str:
    return osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def plain(obj):
    """ConfigDict/tuple-free deep copy of a pipeline."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(plain(v) for v in obj) if isinstance(
            obj, tuple) else [plain(v) for v in obj]
    return obj


def config_pipelines(config: str = OUR_PIPELINE_CONFIG) -> Dict[str, list]:
    """``{'train': ..., 'val': ..., 'test': ...}`` of a data set base config
    (path relative to the repository)."""
    from mmengine.config import Config
    from uniformer_mm.engine.config_knobs import resolve_knobs
    cfg = resolve_knobs(Config.fromfile(osp.join(repo_root(), config)))
    return {split: plain(cfg[f'{split}_pipeline'])
            for split in ('train', 'val', 'test')}


def mmaction2_train_chain(clip_len: int = 8, short_side: int = 256,
                          crop: int = 224) -> List[dict]:
    """mmaction2's transforms for the UniFormerV2 training recipe, without
    RandAugment (see the module docstring)."""
    return [
        dict(type='DecordInit', io_backend='disk'),
        dict(type='UniformSample', clip_len=clip_len, num_clips=1),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, short_side)),
        dict(type='RandomResizedCrop'),
        dict(type='Resize', scale=(crop, crop), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs'),
    ]


def mmaction2_test_chain(clip_len: int = 8, num_clips: int = 4,
                         crop: int = 224) -> List[dict]:
    """mmaction2's test chain of the UniFormerV2 configs (``num_clips``
    clips x 3 crops)."""
    return [
        dict(type='DecordInit', io_backend='disk'),
        dict(type='UniformSample', clip_len=clip_len, num_clips=num_clips,
             test_mode=True),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, crop)),
        dict(type='ThreeCrop', crop_size=crop),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs'),
    ]


def pipeline_chains(clip_len: int = 8, short_side: int = 256,
                    crop: int = 224) -> Dict[str, List[dict]]:
    """The Kinetics training pipelines of ``compare_mmaction.py
    --pipeline``: mmaction2's chain (no RandAugment), ours (the UniFormerV2
    recipe of ``kinetics400.py``: VideoInit/VideoDecode, UniformSample 8,
    short side 256, VideoRandAugment rand-m7-n4-mstd0.5-inc1, fused
    RandomResizedCrop + resize + flip, random erasing p=0) and ours without
    RandAugment (like for like)."""
    ours = config_pipelines()['train']
    return {'mmaction2 (no RandAugment)':
            mmaction2_train_chain(clip_len, short_side, crop),
            'ours (recipe, with RandAugment)': ours,
            'ours without RandAugment': without(ours, 'VideoRandAugment')}


def without(pipeline: List[dict], type_name: str) -> List[dict]:
    """The pipeline without the transforms of type ``type_name`` (also
    inside wrappers' ``transforms``)."""
    out = []
    for t in pipeline:
        if t.get('type') == type_name:
            continue
        t = dict(t)
        if isinstance(t.get('transforms'), list):
            t['transforms'] = without(t['transforms'], type_name)
        out.append(t)
    return out


def split_decode(pipeline: List[dict]) -> Tuple[List[dict], List[dict]]:
    """(decoding part, augmentation part): split after ``*Decode``."""
    for i, t in enumerate(pipeline):
        if t['type'].endswith('Decode'):
            return pipeline[:i + 1], pipeline[i + 1:]
    return [], pipeline


def with_backend(pipeline: List[dict], backend: str) -> List[dict]:
    """The pipeline with ``VideoInit(backend=backend)``."""
    out = copy.deepcopy(pipeline)
    for t in out:
        if t['type'] == 'VideoInit':
            t['backend'] = backend
    return out


def for_frames(pipeline: List[dict]) -> List[dict]:
    """The pipeline on JPEG frame folders: ``VideoInit`` dropped,
    ``VideoDecode`` -> mmaction2's ``RawFrameDecode`` (the results need
    ``frame_dir``, ``total_frames``, ``filename_tmpl``, ``start_index``)."""
    out = []
    for t in copy.deepcopy(pipeline):
        if t['type'] == 'VideoInit':
            continue
        if t['type'] == 'VideoDecode':
            t = dict(type='RawFrameDecode', io_backend='disk')
        out.append(t)
    return out
