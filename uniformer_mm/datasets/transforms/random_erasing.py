"""Random erasing for video clips (timm / SlowFast ``RandomErasing(cube=True)``
semantics) on uint8 frames."""
import math

import numpy as np
from mmcv.transforms import BaseTransform

from ._clip import get_clip, put_clip
from .rand_augment import add_deferred


class VideoRandomErasing(BaseTransform):
    """Erase the same random box(es) in every frame of a clip.

    Follows timm's ``RandomErasing`` as used (``cube=True``) by the official
    UniFormer video code: with probability ``probability`` draw
    ``count`` boxes (``min_count``..``max_count``); each box tries 10 times an
    area ``U(min_area, max_area) * H * W / count`` and a log-uniform aspect
    ratio in ``[min_aspect, max_aspect]`` until it fits strictly inside the
    frame; the box is the same for all frames, its content is drawn anew
    for every frame.

    timm erases *normalised* tensors; here the frames are still uint8
    (mmaction2 normalises in the data preprocessor), so a normalised value
    ``z`` is written as ``mean + std * z``, rounded and clipped to [0, 255]:

    * ``'pixel'``: ``z ~ N(0, 1)`` per pixel and channel (recipes' ``RE_MODE
      pixel``);
    * ``'rand'``: ``z ~ N(0, 1)`` per channel (one colour per box and frame);
    * ``'const'``: ``z = 0``, i.e. the mean colour.

    Clipping affects ``z < -mean/std`` (2.3 % of the draws for mean 114.75,
    std 57.375) and ``z > (255 - mean)/std`` (0.7 %).

    Args:
        probability (float): probability of erasing a clip. Default 0.25.
        min_area (float): min relative area of the erased region. 0.02.
        max_area (float): max relative area. Default 1/3.
        min_aspect (float): min aspect ratio (h / w). Default 0.3.
        max_aspect (float, optional): max aspect. Default ``1 / min_aspect``.
        mode (str): 'pixel' (default), 'rand' or 'const'.
        min_count (int): min number of boxes. Default 1.
        max_count (int, optional): max number of boxes. Default
            ``min_count``.
        mean (sequence[float]): per-channel mean of the normalisation (frame
            channel order). Default 114.75 (0.45 * 255, the V1/V2 videos).
        std (sequence[float]): per-channel std. Default 57.375 (0.225 * 255).
        defer (bool): only draw the boxes (and the seeds of their noise, as
            many draws as erasing takes) and record them in
            ``results['deferred_augs']``; ``DeviceAugmentPreprocessor``
            erases on the device. The boxes are drawn for
            ``results['img_shape']`` (after a deferred crop: its output
            size). Default False.
    """

    def __init__(self,
                 probability=0.25,
                 min_area=0.02,
                 max_area=1 / 3,
                 min_aspect=0.3,
                 max_aspect=None,
                 mode='pixel',
                 min_count=1,
                 max_count=None,
                 mean=(114.75, 114.75, 114.75),
                 std=(57.375, 57.375, 57.375),
                 defer=False):
        if mode not in ('pixel', 'rand', 'const'):
            raise ValueError(f'mode must be pixel, rand or const, got {mode}')
        self.probability = probability
        self.min_area = min_area
        self.max_area = max_area
        max_aspect = max_aspect or 1 / min_aspect
        self.log_aspect_ratio = (math.log(min_aspect), math.log(max_aspect))
        self.mode = mode
        self.min_count = min_count
        self.max_count = max_count or min_count
        self.mean = np.array(mean, np.float32).reshape(-1)
        self.std = np.array(std, np.float32).reshape(-1)
        self.defer = defer

    def get_boxes(self, img_h, img_w):
        """Draw the boxes ``(top, left, h, w)`` of one clip (maybe none)."""
        if np.random.rand() > self.probability:
            return []
        area = img_h * img_w
        count = self.min_count if self.min_count == self.max_count else \
            np.random.randint(self.min_count, self.max_count + 1)
        boxes = []
        for _ in range(count):
            for _attempt in range(10):
                target_area = np.random.uniform(self.min_area,
                                                self.max_area) * area / count
                aspect_ratio = math.exp(
                    np.random.uniform(*self.log_aspect_ratio))
                h = int(round(math.sqrt(target_area * aspect_ratio)))
                w = int(round(math.sqrt(target_area / aspect_ratio)))
                if w < img_w and h < img_h:
                    top = np.random.randint(0, img_h - h + 1)
                    left = np.random.randint(0, img_w - w + 1)
                    boxes.append((top, left, h, w))
                    break
        return boxes

    def _noise_seed(self):
        """The seed of one box's noise (one draw of the global state)."""
        return int(np.random.randint(2**31))

    def _fill(self, shape):
        """uint8 content of one box for all frames: ``shape`` (T, h, w, C)."""
        t, h, w, c = shape
        mean = np.resize(self.mean, c)
        std = np.resize(self.std, c)
        if self.mode == 'const':
            values = np.broadcast_to(mean, shape)
        else:
            # a Generator seeded from the global numpy state: deterministic
            # under np.random.seed and much faster for large draws
            rng = np.random.default_rng(self._noise_seed())
            noise_shape = shape if self.mode == 'pixel' else (t, 1, 1, c)
            values = rng.standard_normal(noise_shape, dtype=np.float32)
            values = values * std + mean
        values = np.clip(np.rint(values), 0, 255)
        return np.broadcast_to(values.astype(np.uint8), shape)

    def transform(self, results):
        if self.defer:
            return self._defer(results)
        key = 'imgs' if 'imgs' in results else 'img'
        gray = key == 'img' and results['img'].ndim == 2
        clip, key = get_clip(results)
        boxes = self.get_boxes(*clip.shape[1:3])
        if not boxes:
            return results
        clip = clip.copy()  # never write into frames someone else holds
        for top, left, h, w in boxes:
            clip[:, top:top + h, left:left + w] = self._fill(
                (clip.shape[0], h, w, clip.shape[-1]))
        results['erase_boxes'] = np.array(boxes, np.int64)
        return put_clip(results, clip, key, squeeze_gray=gray)

    def _defer(self, results):
        boxes = self.get_boxes(*results['img_shape'][:2])
        if not boxes:
            return results
        seeds = [None if self.mode == 'const' else self._noise_seed()
                 for _ in boxes]
        results['erase_boxes'] = np.array(boxes, np.int64)
        add_deferred(results, ('random_erasing', dict(
            boxes=[tuple(int(v) for v in box) for box in boxes],
            seeds=seeds, mode=self.mode, mean=self.mean.tolist(),
            std=self.std.tolist())))
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(probability={self.probability}, '
                f'min_area={self.min_area}, max_area={self.max_area}, '
                f'log_aspect_ratio={self.log_aspect_ratio}, '
                f'mode={self.mode!r}, count=({self.min_count}, '
                f'{self.max_count}), mean={self.mean.tolist()}, '
                f'std={self.std.tolist()}, defer={self.defer})')
