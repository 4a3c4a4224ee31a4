"""Repeated augmentation inside the pipeline."""
import copy

import numpy as np
from mmcv.transforms import BaseTransform

from ._clip import _base_of_views


class RepeatClips(BaseTransform):
    """Run the wrapped transforms ``num_repeats`` times on the same decoded
    frames and return the list of results (repeated augmentation,
    ``AUG.NUM_SAMPLE`` of the official code).

    Put it after the decoder (DecordDecode / RawFrameDecode), wrapping the
    augmentation and formatting steps, and collate with mmaction2's
    ``repeat_pseudo_collate`` (it flattens the lists), so a loader with
    ``batch_size=B`` yields ``B * num_repeats`` clips: each video appears
    ``num_repeats`` times in a batch with independent augmentations of the
    same frames -- what the official ``kinetics.py`` / ``sth.py`` do with
    ``AUG.NUM_SAMPLE > 1``.

    Works with every data set type (videos, frame folders, ConcatDataset),
    unlike mmaction2's ``RepeatAugDataset`` (a ``VideoDataset`` subclass
    that needs decord and, unless ``sample_once=True``, samples different
    frame indices per repeat).

    Args:
        transforms (list[dict | callable]): the transforms to repeat.
        num_repeats (int): number of augmented copies. Default 2.
        copy_imgs (bool): give every repeat its own copy of ``imgs`` so that
            in-place transforms (mmaction2's ``Flip``) cannot leak into the
            other repeats. Default True.
    """

    def __init__(self, transforms, num_repeats=2, copy_imgs=True):
        from mmaction.registry import TRANSFORMS
        from mmengine.dataset import Compose
        built = [TRANSFORMS.build(t) if isinstance(t, dict) else t
                 for t in transforms]
        self.transforms = Compose(built)
        self.num_repeats = int(num_repeats)
        self.copy_imgs = copy_imgs

    def transform(self, results):
        outs = []
        copy_imgs = self.copy_imgs and self.num_repeats > 1 \
            and 'imgs' in results
        for _ in range(self.num_repeats):
            res = copy.copy(results)
            if copy_imgs:
                res['imgs'] = _copy_frames(res['imgs'])
            out = self.transforms(res)
            if out is None:
                return None
            outs.append(out)
        return outs

    def __repr__(self):
        return (f'{self.__class__.__name__}(num_repeats={self.num_repeats}, '
                f'transforms={self.transforms})')


def _copy_frames(imgs):
    """A private copy of the frames, as one (T, ...) array when possible."""
    if isinstance(imgs, np.ndarray):
        return imgs.copy()
    base = _base_of_views(imgs)
    if base is not None:  # DecordDecode's list of views of one array
        return base.copy()
    try:
        return np.stack(imgs)
    except ValueError:  # frames of different shapes
        return [np.array(img) for img in imgs]
