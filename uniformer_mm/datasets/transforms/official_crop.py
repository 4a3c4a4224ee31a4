"""Test-time resize and crops exactly as the official UniFormer / UniFormerV2
loaders (``utils.spatial_sampling`` with a fixed spatial index ->
``transform.random_short_side_scale_jitter`` with ``min = max = size`` and
``transform.uniform_crop``).

* :class:`OfficialShortSideResize`: the short side becomes ``short_side``,
  the long side ``floor(L / S * short_side)`` (mmaction2's ``Resize(-1, S)``
  rounds instead: 340x256 -> 298 wide vs the official 297); frames whose
  short side already has that size are not touched; bilinear interpolation
  without anti-aliasing on float values (``torch.nn.functional.interpolate``,
  ``align_corners=False``), as the official code, which resizes the
  normalised float frames. The output is float32, not rounded to uint8:
  normalising afterwards (our data preprocessor) gives the official input up
  to float rounding, since the resize is linear.
* :class:`OfficialThreeCrop`: three ``crop_size`` squares along the long side
  at ``0``, ``ceil((L - crop) / 2)`` and ``L - crop`` (mmaction2's
  ``ThreeCrop``: ``0``, ``floor``, ``2 * floor``), in this order (official
  spatial index 0, 1, 2); the short side is cropped at ``ceil((S - crop) /
  2)``.
* :class:`OfficialCenterCrop`: the middle one of them (official spatial index
  1, the one-crop test and validation view).

The crops are laid out like mmaction2's ``ThreeCrop`` output (all frames of
the first crop, then the second, ...), so ``FormatShape`` makes ``crops x
clips`` views.
"""
import math
from typing import Dict, List, Tuple

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from ._clip import as_clip

__all__ = [
    'OfficialShortSideResize', 'OfficialThreeCrop', 'OfficialCenterCrop',
    'official_short_side_size', 'official_crop_boxes'
]


def official_short_side_size(height: int, width: int,
                             short_side: int) -> Tuple[int, int]:
    """``(new_h, new_w)`` of the official short-side resize."""
    if width < height:
        return int(math.floor(float(height) / width * short_side)), short_side
    return short_side, int(math.floor(float(width) / height * short_side))


def official_crop_boxes(height: int, width: int, crop_size: int,
                        spatial_indices=(0, 1, 2)) -> List[Tuple[int, ...]]:
    """``(x1, y1, x2, y2)`` of the official uniform crops with the given
    spatial indices (0: left / top, 1: centre, 2: right / bottom)."""
    if height < crop_size or width < crop_size:
        raise ValueError(
            f'cannot crop {crop_size}x{crop_size} from a {height}x{width} '
            'frame (resize it first: OfficialShortSideResize)')
    boxes = []
    for idx in spatial_indices:
        y = int(math.ceil((height - crop_size) / 2))
        x = int(math.ceil((width - crop_size) / 2))
        if height > width:
            y = {0: 0, 1: y, 2: height - crop_size}[idx]
        else:
            x = {0: 0, 1: x, 2: width - crop_size}[idx]
        boxes.append((x, y, x + crop_size, y + crop_size))
    return boxes


class OfficialShortSideResize(BaseTransform):
    """Resize the frames so that the short side is ``short_side``, with the
    official size arithmetic and float bilinear interpolation (module
    docstring).

    Required keys: ``imgs``, ``img_shape``. Modified keys: ``imgs`` (a
    float32 ``(T, H, W, C)`` array, or uint8 with ``round_to_uint8``),
    ``img_shape``, ``scale_factor``, ``keep_ratio``.

    Args:
        short_side (int): Target short side (the official
            ``DATA.TEST_CROP_SIZE``).
        round_to_uint8 (bool): Round the resized frames to uint8 (a quarter
            of the memory of float32 views, e.g. for 10 x 3 views of 32
            frames; differs from the official input by up to half a grey
            level). Defaults to False.
    """

    def __init__(self, short_side: int, round_to_uint8: bool = False) -> None:
        if not (isinstance(short_side, int) and short_side > 0):
            raise ValueError('OfficialShortSideResize: short_side must be a '
                             f'positive int, got {short_side!r}')
        self.short_side = short_side
        self.round_to_uint8 = round_to_uint8

    def transform(self, results: Dict) -> Dict:
        clip = as_clip(results['imgs'])
        h, w = clip.shape[1:3]
        if (w <= h and w == self.short_side) or (h <= w
                                                 and h == self.short_side):
            new_h, new_w = h, w
            out = clip.astype(np.float32)
        else:
            new_h, new_w = official_short_side_size(h, w, self.short_side)
            frames = torch.from_numpy(clip).permute(0, 3, 1, 2).float()
            out = torch.nn.functional.interpolate(
                frames, size=(new_h, new_w), mode='bilinear',
                align_corners=False).permute(0, 2, 3, 1).contiguous()
            out = out.numpy()
        if self.round_to_uint8:
            out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
        results['imgs'] = out
        results['img_shape'] = (new_h, new_w)
        scale = np.array([new_w / w, new_h / h], np.float32)
        results['scale_factor'] = results.get(
            'scale_factor', np.array([1, 1], np.float32)) * scale
        results['keep_ratio'] = True
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(short_side={self.short_side}, '
                f'round_to_uint8={self.round_to_uint8})')


class OfficialThreeCrop(BaseTransform):
    """The three official test crops (left / centre / right of a landscape
    frame, top / centre / bottom of a portrait one; module docstring).

    Required keys: ``imgs``, ``img_shape``. Modified keys: ``imgs``,
    ``img_shape``, ``crop_bbox`` (one box per crop). Added key:
    ``crop_quadruple`` is left as it is (multi-crop outputs have none).

    Args:
        crop_size (int): Side of the square crops.
    """

    #: official spatial indices of the crops, in output order
    spatial_indices = (0, 1, 2)

    def __init__(self, crop_size: int) -> None:
        if not (isinstance(crop_size, int) and crop_size > 0):
            raise ValueError(f'{self.__class__.__name__}: crop_size must be '
                             f'a positive int, got {crop_size!r}')
        self.crop_size = crop_size

    def transform(self, results: Dict) -> Dict:
        clip = as_clip(results['imgs'])
        h, w = clip.shape[1:3]
        boxes = official_crop_boxes(h, w, self.crop_size,
                                    self.spatial_indices)
        crops = [clip[:, y1:y2, x1:x2] for x1, y1, x2, y2 in boxes]
        results['imgs'] = crops[0] if len(crops) == 1 else np.concatenate(
            crops)
        results['img_shape'] = (self.crop_size, self.crop_size)
        results['crop_bbox'] = np.array(boxes if len(boxes) > 1 else boxes[0])
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(crop_size={self.crop_size})'


class OfficialCenterCrop(OfficialThreeCrop):
    """The official one-crop view: the centre crop of
    :class:`OfficialThreeCrop` (offsets rounded up)."""

    spatial_indices = (1, )
