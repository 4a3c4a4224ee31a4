"""Fused random-resized-crop + resize + horizontal flip for video clips."""
import cv2
import numpy as np
from mmaction.datasets.transforms import RandomResizedCrop
from mmcv.transforms import BaseTransform

from .rand_augment import add_deferred

_INTERP = {
    'nearest': cv2.INTER_NEAREST,
    'bilinear': cv2.INTER_LINEAR,
    'bicubic': cv2.INTER_CUBIC,
    'area': cv2.INTER_AREA,
    'lanczos': cv2.INTER_LANCZOS4,
}


class FusedRandomResizedCropFlip(BaseTransform):
    """``RandomResizedCrop -> Resize(scale, keep_ratio=False) -> Flip`` of
    mmaction2 in one pass: one ``cv2.resize`` of the cropped region per frame
    (written into a preallocated ``(T, h, w, C)`` array) and an in-place flip.

    With the same random state it draws exactly what mmaction2's chain
    draws (the crop box with ``RandomResizedCrop.get_crop_bbox`` -- numpy
    for area/aspect, python ``random`` for the offsets -- then
    ``np.random.rand() < flip_ratio``) and produces the same pixels and the
    same ``crop_bbox``, ``crop_quadruple``, ``img_shape``, ``scale_factor``,
    ``flip`` and ``flip_direction``.

    Required keys: ``imgs``, ``img_shape``. Modified keys: ``imgs`` (a
    ``(T, h, w, C)`` array), ``img_shape``, ``crop_bbox``,
    ``crop_quadruple``, ``scale_factor``, ``keep_ratio``, ``flip``,
    ``flip_direction``.

    Args:
        scale (int | tuple[int]): output size, int or ``(w, h)``.
        area_range (tuple[float]): relative crop area range.
            Default (0.08, 1.0).
        aspect_ratio_range (tuple[float]): crop aspect (w / h) range.
            Default (3/4, 4/3).
        flip_ratio (float): probability of a horizontal flip. 0 disables it
            (Something-Something). Default 0.5.
        interpolation (str): as mmaction2's Resize. Default 'bilinear'.
        defer (bool): only draw the box and the flip (same draws) and do the
            bookkeeping; record them in ``results['deferred_augs']`` and
            leave the frames to ``DeviceAugmentPreprocessor`` (bilinear,
            bicubic or nearest). Default False.
    """

    def __init__(self,
                 scale=224,
                 area_range=(0.08, 1.0),
                 aspect_ratio_range=(3 / 4, 4 / 3),
                 flip_ratio=0.5,
                 interpolation='bilinear',
                 defer=False):
        if isinstance(scale, int):
            scale = (scale, scale)
        self.scale = tuple(int(s) for s in scale)
        self.area_range = tuple(float(a) for a in area_range)
        self.aspect_ratio_range = tuple(float(a) for a in aspect_ratio_range)
        self.flip_ratio = flip_ratio
        if interpolation not in _INTERP:
            raise ValueError(f'interpolation must be one of {list(_INTERP)}')
        self.interpolation = interpolation
        if defer and interpolation not in ('nearest', 'bilinear', 'bicubic'):
            raise ValueError('defer=True supports the interpolations '
                             "'nearest', 'bilinear' and 'bicubic'")
        self.defer = defer

    def transform(self, results):
        imgs = results['imgs']  # list of frames or (T, H, W, C) array
        img_h, img_w = results['img_shape']
        left, top, right, bottom = RandomResizedCrop.get_crop_bbox(
            (img_h, img_w), self.area_range, self.aspect_ratio_range)
        flip = bool(np.random.rand() < self.flip_ratio)
        new_w, new_h = self.scale
        crop_w, crop_h = right - left, bottom - top

        if self.defer:
            out = imgs
            add_deferred(results, ('resized_crop_flip', dict(
                bbox=(int(left), int(top), int(right), int(bottom)),
                size=(new_w, new_h), flip=flip,
                interpolation=self.interpolation)))
        else:
            out = self._crop_resize_flip(imgs, (left, top, right, bottom),
                                         flip)

        # bookkeeping identical to RandomResizedCrop + Resize + Flip
        if 'crop_quadruple' not in results:
            results['crop_quadruple'] = np.array([0, 0, 1, 1], np.float32)
        old_x, old_y, old_w, old_h = results['crop_quadruple'][:4]
        results['crop_quadruple'] = np.array([
            old_x + left / img_w * old_w, old_y + top / img_h * old_h,
            crop_w / img_w * old_w, crop_h / img_h * old_h
        ], np.float32)
        results['crop_bbox'] = np.array([left, top, right, bottom])
        scale_factor = results.get('scale_factor',
                                   np.array([1, 1], np.float32))
        results['scale_factor'] = scale_factor * np.array(
            [new_w / crop_w, new_h / crop_h], np.float32)
        results['keep_ratio'] = False
        results['flip'] = flip
        results['flip_direction'] = 'horizontal'
        results['imgs'] = out
        results['img_shape'] = (new_h, new_w)
        return results

    def _crop_resize_flip(self, imgs, bbox, flip):
        left, top, right, bottom = bbox
        new_w, new_h = self.scale
        first = imgs[0]
        channels = first.shape[2:]  # () for single-channel frames
        out = np.empty((len(imgs), new_h, new_w) + channels, first.dtype)
        interp = _INTERP[self.interpolation]
        for i, frame in enumerate(imgs):
            src = frame[top:bottom, left:right]
            dst = out[i]
            if channels == (1, ):
                src, dst = src[..., 0], dst[..., 0]
            res = cv2.resize(src, (new_w, new_h), dst=dst,
                             interpolation=interp)
            if res is not dst:  # pragma: no cover - cv2 reallocated
                dst[...] = res.reshape(dst.shape)
            if flip:
                cv2.flip(dst, 1, dst=dst)
        return out

    def __repr__(self):
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'area_range={self.area_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range}, '
                f'flip_ratio={self.flip_ratio}, '
                f'interpolation={self.interpolation!r}, defer={self.defer})')
