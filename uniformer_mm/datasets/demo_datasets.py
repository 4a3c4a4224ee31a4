"""Data sets that generate the synthetic demo data on first use.

``DemoVideoDataset`` (mmaction2 registry) is a ``RobustVideoDataset``
(mmaction2's ``VideoDataset`` that validates its list and survives bad
videos, see :mod:`uniformer_mm.datasets.robust_video`) and
``DemoImageDataset`` (mmpretrain registry) is mmpretrain's
``CustomDataset``; before loading their annotations they call
:func:`~uniformer_mm.datasets.demo_data.make_video_demo` /
:func:`~uniformer_mm.datasets.demo_data.make_image_demo` on ``data_root``,
which is a no-op once the data is there. Generation holds a file lock and
renames a complete temporary directory into place, so several processes
(e.g. distributed ranks, or the train and val data sets) may build the data
set at the same time.

Example (mmaction2 config)::

    train_dataloader = dict(
        ...,
        dataset=dict(
            type='DemoVideoDataset',
            data_root='data/demo_video',
            ann_file='train_list.txt',
            data_prefix=dict(video=''),
            demo_cfg=dict(num_train_per_class=48, num_val_per_class=12),
            pipeline=train_pipeline))
"""
import os.path as osp

from mmaction.registry import DATASETS as MMACTION_DATASETS
from mmpretrain.datasets import CustomDataset
from mmpretrain.registry import DATASETS as MMPRETRAIN_DATASETS

from .demo_data import VIDEO_CLASSES, make_image_demo, make_video_demo
from .robust_video import RobustVideoDataset

__all__ = ['DemoVideoDataset', 'DemoImageDataset']

# (kind, absolute root) -> demo_cfg used by a data set built in this process
_REQUESTED = {}


def _prepare(kind, make_fn, data_root, demo_cfg):
    """Generate the data unless present; catch conflicting demo_cfgs.

    Two data sets of one run (train and val) that name the same root with
    different ``demo_cfg`` would regenerate each other's data; that is a
    configuration error (e.g. ``--cfg-options`` changing only one of them).
    """
    demo_cfg = dict(demo_cfg or {})
    if demo_cfg.get('overwrite'):
        raise ValueError(
            'demo_cfg.overwrite is not supported by the data sets (every '
            'data set built would regenerate the data under the others); '
            f'delete {data_root!r} to regenerate it.')
    key = (kind, osp.abspath(data_root))
    previous = _REQUESTED.setdefault(key, demo_cfg)
    if previous != demo_cfg:
        raise ValueError(
            f'Two {kind} data sets of this process use data_root='
            f'{data_root!r} with different demo_cfg ({previous} vs '
            f'{demo_cfg}); use the same demo_cfg (or another data_root).')
    return make_fn(data_root, **demo_cfg)


@MMACTION_DATASETS.register_module()
class DemoVideoDataset(RobustVideoDataset):
    """``RobustVideoDataset`` over the synthetic motion-direction videos.

    Args:
        data_root (str): Where the demo data lives / is generated. Relative
            ``ann_file`` and ``data_prefix`` are joined to it as usual.
        demo_cfg (dict, optional): Keyword arguments of
            :func:`make_video_demo` (``num_train_per_class``,
            ``num_val_per_class``, ``num_frames``, ``size``, ``seed``, ...).
            Use the same in the train and val data sets, or they regenerate
            each other's data.
        **kwargs: Everything else of ``RobustVideoDataset`` (``ann_file``,
            ``pipeline``, ``data_prefix``, ``test_mode``, ``on_bad``, ...).

    Its ``metainfo`` names the classes, so checkpoints of the demo carry
    them (``meta['dataset_meta']['classes']``) and inference tools show
    names without a label map.
    """

    #: class names in label order: stored by mmengine's runner in every
    #: checkpoint (``meta['dataset_meta']['classes']``), so that inference
    #: names the predictions
    METAINFO = dict(classes=list(VIDEO_CLASSES))

    def __init__(self, data_root, demo_cfg=None, **kwargs):
        self.demo_info = _prepare('video', make_video_demo, data_root,
                                  demo_cfg)
        super().__init__(data_root=data_root, **kwargs)


@MMPRETRAIN_DATASETS.register_module()
class DemoImageDataset(CustomDataset):
    """mmpretrain ``CustomDataset`` over the synthetic shape images.

    Args:
        data_root (str): Where the demo data lives / is generated; use
            ``data_prefix='train'`` or ``'val'`` for the split.
        demo_cfg (dict, optional): Keyword arguments of
            :func:`make_image_demo`.
        **kwargs: Everything else of ``CustomDataset``.
    """

    def __init__(self, data_root, demo_cfg=None, **kwargs):
        self.demo_info = _prepare('image', make_image_demo, data_root,
                                  demo_cfg)
        super().__init__(data_root=data_root, **kwargs)
