"""Data sets and data utilities of uniformer-mm.

* :mod:`.demo_data`: synthetic demo data generators (videos whose classes
  differ only in temporal order; shape images).
* :mod:`.demo_datasets`: ``DemoVideoDataset`` (mmaction2) and
  ``DemoImageDataset`` (mmpretrain), which generate that data on first use.
"""
from .demo_data import (IMAGE_CLASSES, VIDEO_CLASSES, make_image_demo,
                        make_video_demo)
from .demo_datasets import DemoImageDataset, DemoVideoDataset

__all__ = [
    'IMAGE_CLASSES', 'VIDEO_CLASSES', 'make_image_demo', 'make_video_demo',
    'DemoImageDataset', 'DemoVideoDataset'
]
from .robust_video import (RobustVideoDataset, TooManyBadSamplesError,  # noqa: E402,E501
                           robust_collate)
from .validate import AnnotationError, validate_video_list  # noqa: E402

__all__ += [
    'RobustVideoDataset', 'TooManyBadSamplesError', 'robust_collate',
    'AnnotationError', 'validate_video_list'
]
from . import transforms  # noqa: E402,F401
from .label_map import LabelMapVideoDataset  # noqa: E402

__all__ += ['LabelMapVideoDataset']
