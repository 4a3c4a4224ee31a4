"""Video (and image) data transforms of uniformer-mm.

Registered in mmaction2's ``TRANSFORMS`` (scope ``mmaction``); the ones that
also make sense for single images (``VideoRandAugment``,
``VideoRandomErasing``: they accept mmpretrain's ``img`` key) are registered
in mmpretrain's ``TRANSFORMS`` as well.

* :class:`VideoRandAugment` -- timm RandAugment (``rand-m7-n4-mstd0.5-inc1``)
  with the same random parameters for every frame, cv2/numpy, vectorised.
* :class:`VideoRandomErasing` -- timm random erasing, same box per frame.
* :class:`FusedRandomResizedCropFlip` -- mmaction2's RandomResizedCrop ->
  Resize -> Flip in one pass, identical output.
* :class:`RepeatClips` -- repeated augmentation (``AUG.NUM_SAMPLE``) inside
  the pipeline; collate with ``repeat_pseudo_collate``.
* :class:`VideoInit` / :class:`VideoDecode` -- ``DecordInit`` /
  ``DecordDecode`` with identical frames, decoding only what the sampled
  frames need (PyAV; torchcodec or decord as other backends, decord as
  fallback).
* :class:`OfficialDenseSample`, :class:`OfficialSparseSample` -- the frame
  sampling of the official loaders (V1 dense clips; segments, with the
  Something-Something V2 frame-rate mapping).
* :class:`OfficialShortSideResize`, :class:`OfficialThreeCrop`,
  :class:`OfficialCenterCrop` -- the official test resize and crops.

``VideoRandAugment``, ``FusedRandomResizedCropFlip`` and
``VideoRandomErasing`` take ``defer=True``: they then only draw their random
parameters and ``DeviceAugmentPreprocessor`` applies them on the device
(``uniformer_mm/models/data_preprocessors/device_augment.py``).
"""
from .crop import FusedRandomResizedCropFlip
from .official_crop import (OfficialCenterCrop, OfficialShortSideResize,
                            OfficialThreeCrop)
from .official_sampling import OfficialDenseSample, OfficialSparseSample
from .rand_augment import VideoRandAugment
from .random_erasing import VideoRandomErasing
from .video_decode import VideoDecode, VideoDecodeError, VideoInit
from .wrappers import RepeatClips

__all__ = [
    'VideoRandAugment', 'VideoRandomErasing', 'FusedRandomResizedCropFlip',
    'RepeatClips', 'VideoInit', 'VideoDecode', 'VideoDecodeError',
    'OfficialDenseSample', 'OfficialSparseSample', 'OfficialShortSideResize',
    'OfficialThreeCrop', 'OfficialCenterCrop'
]


def _register():
    from mmaction.registry import TRANSFORMS as MMACTION_TRANSFORMS
    for cls in (VideoRandAugment, VideoRandomErasing,
                FusedRandomResizedCropFlip, RepeatClips, VideoInit,
                VideoDecode, OfficialDenseSample, OfficialSparseSample,
                OfficialShortSideResize, OfficialThreeCrop,
                OfficialCenterCrop):
        MMACTION_TRANSFORMS.register_module(module=cls, force=True)
    try:
        from mmpretrain.registry import TRANSFORMS as MMPRETRAIN_TRANSFORMS
    except ImportError:  # pragma: no cover - mmpretrain is optional here
        return
    for cls in (VideoRandAugment, VideoRandomErasing):
        MMPRETRAIN_TRANSFORMS.register_module(module=cls, force=True)


_register()
