"""Video augmentation on the device: the data loader workers only decode.

The training pipelines of the recipes spend more CPU time on RandAugment,
the random resized crop and random erasing than on decoding a prepared
video. With ``defer=True`` those transforms (``VideoRandAugment``,
``FusedRandomResizedCropFlip``, ``VideoRandomErasing``) only draw their
random parameters -- the same draws, from the same random state, in the
same order as when they augment -- and record them in
``results['deferred_augs']``; the worker ships the uncropped uint8 clip and
the record (``PackActionInputs(meta_keys=(..., 'deferred_augs'))``), and
:class:`DeviceAugmentPreprocessor` applies them to each clip on the model's
device, then stacks, normalises and blends as mmaction2's
``ActionDataPreprocessor`` does.

Same distribution by construction (the draws are the workers'), and the
same pixels up to rounding: the ops follow the OpenCV/numpy ones of the
workers step by step on uint8 frames --

* point ops (Invert, Posterize, Solarize, SolarizeAdd, Brightness) and the
  histogram ops (AutoContrast, Equalize, Contrast) use the very tables of
  the worker code (``uniformer_mm.datasets.transforms.rand_augment``),
  built from statistics computed on the device: identical results;
* Color / Sharpness: OpenCV's fixed-point grey and 3x3 filter, then the
  blend in float32: at most 1 grey level apart;
* geometric ops: the affine map quantised exactly as ``cv2.warpAffine``
  does (1/32 pixel), bicubic (a = -0.75) / bilinear weights in float where
  OpenCV uses 15-bit fixed point: a few grey levels at most on sharp edges;
* crop + resize: ``F.interpolate`` (same pixel-centre geometry as
  ``cv2.resize``; float weights where OpenCV uses 11-bit ones): at most 1
  level; flip exact;
* random erasing: the same boxes; the noise is drawn on the device from the
  recorded seed (``torch.Generator``), with the same law (N(0, 1) per pixel
  written as ``mean + std * z``, rounded, clipped).

Use it with :func:`uniformer_mm.datasets.config_utils.defer_augmentation`
(see ``configs/_base_/datasets/README.md``; the zoo's video bases)::

    train_augment = defer_augmentation(_base_.train_augment)
    model = dict(data_preprocessor=dict(type='DeviceAugmentPreprocessor'))
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmaction.models.data_preprocessors import ActionDataPreprocessor
from mmaction.registry import MODELS

from ...datasets.transforms import rand_augment as ra

__all__ = ['DeviceAugmentPreprocessor', 'apply_deferred', 'DEFERRED_KEY']

#: results / metainfo key of the deferred augmentations
DEFERRED_KEY = 'deferred_augs'


# --------------------------------------------------------------------------
# ops on uint8 frames (N, C, H, W)
# --------------------------------------------------------------------------
def _uint8(x: torch.Tensor) -> torch.Tensor:
    """float -> uint8, rounding half to even (OpenCV's cvRound)."""
    return x.round().clamp_(0, 255).to(torch.uint8)


def _table(values, device) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(values, dtype=np.uint8),
                           device=device)


def lut_all(x: torch.Tensor, lut) -> torch.Tensor:
    """One 256-entry table for every pixel."""
    return _table(lut, x.device)[x.long()]


def _plane_offsets(x: torch.Tensor) -> torch.Tensor:
    n, c = x.shape[:2]
    return (torch.arange(n * c, device=x.device) * 256).view(n, c, 1, 1)


def lut_per_frame(x: torch.Tensor, luts: np.ndarray) -> torch.Tensor:
    """One table per frame and channel (``luts``: (N, C, 256))."""
    table = _table(luts, x.device).reshape(-1)
    return table[x.long() + _plane_offsets(x)]


def histograms(x: torch.Tensor) -> np.ndarray:
    """(N, C, 256) int64 histograms of every frame and channel."""
    n, c = x.shape[:2]
    counts = torch.bincount((x.long() + _plane_offsets(x)).reshape(-1),
                            minlength=n * c * 256)
    return counts.view(n, c, 256).cpu().numpy()


def channel_means(x: torch.Tensor) -> np.ndarray:
    """(N, C) float64 means (exact: integer sums in float64)."""
    return x.double().mean(dim=(2, 3)).cpu().numpy()


def blend(degenerate: torch.Tensor, x: torch.Tensor,
          factor: float) -> torch.Tensor:
    """``x * f + degenerate * (1 - f)``, rounded (``cv2.addWeighted``)."""
    return _uint8(x.float() * float(factor) +
                  degenerate.float() * float(1. - factor))


def color(x: torch.Tensor, factor: float,
          channel_order: str = 'rgb') -> torch.Tensor:
    if x.shape[1] == 1:
        return x.clone()
    r, g, b = (x[:, 0], x[:, 1], x[:, 2]) if channel_order == 'rgb' else \
        (x[:, 2], x[:, 1], x[:, 0])
    # cv2.COLOR_RGB2GRAY on uint8: 14-bit fixed point
    gray = ((r.int() * 4899 + g.int() * 9617 + b.int() * 1868 + 8192) >>
            14).to(torch.uint8)
    return blend(gray.unsqueeze(1).expand_as(x), x, factor)


def sharpness(x: torch.Tensor, factor: float) -> torch.Tensor:
    c = x.shape[1]
    kernel = torch.as_tensor(ra._SMOOTH, device=x.device)
    kernel = kernel.view(1, 1, 3, 3).expand(c, 1, 3, 3)
    padded = F.pad(x.float(), (1, 1, 1, 1), mode='replicate')
    smooth = _uint8(F.conv2d(padded, kernel, groups=c))
    # PIL's filter keeps the border pixels
    smooth[..., 0, :] = x[..., 0, :]
    smooth[..., -1, :] = x[..., -1, :]
    smooth[..., :, 0] = x[..., :, 0]
    smooth[..., :, -1] = x[..., :, -1]
    return blend(smooth, x, factor)


def _opencv_source_coords(m: np.ndarray, height: int, width: int,
                          nearest: bool, device) -> Tuple[torch.Tensor, ...]:
    """Source coordinates of ``cv2.warpAffine(..., WARP_INVERSE_MAP)`` for
    every output pixel, quantised as OpenCV does: 10-bit fixed point per
    row and column term, then 1/32 pixel (5 interpolation bits), or whole
    pixels (nearest)."""
    ab_scale = 1024
    xs = torch.arange(width, device=device, dtype=torch.float64)
    ys = torch.arange(height, device=device, dtype=torch.float64)
    adelta = torch.round(m[0, 0] * xs * ab_scale).long()
    bdelta = torch.round(m[1, 0] * xs * ab_scale).long()
    shift = 10 if nearest else 5
    round_delta = 512 if nearest else 16
    x0 = torch.round((m[0, 1] * ys + m[0, 2]) * ab_scale).long() + round_delta
    y0 = torch.round((m[1, 1] * ys + m[1, 2]) * ab_scale).long() + round_delta
    sx = ((x0[:, None] + adelta[None]) >> shift).double()
    sy = ((y0[:, None] + bdelta[None]) >> shift).double()
    if not nearest:
        sx, sy = sx / 32, sy / 32
    return sx, sy


def warp_affine(x: torch.Tensor, matrix: np.ndarray, interpolation: str,
                fill: Sequence[float]) -> torch.Tensor:
    """``rand_augment.warp_affine`` on the device (constant ``fill``)."""
    n, c, h, w = x.shape
    m = ra.opencv_inverse_map(matrix)
    nearest = interpolation == 'nearest'
    sx, sy = _opencv_source_coords(m, h, w, nearest, x.device)
    # grid_sample, align_corners=True: -1 / 1 are the first / last centres
    gx = sx * 2 / max(w - 1, 1) - 1
    gy = sy * 2 / max(h - 1, 1) - 1
    grid = torch.stack([gx, gy], -1).float().expand(n, h, w, 2)
    fill_t = torch.tensor(list(fill), dtype=torch.float32,
                          device=x.device).view(1, c, 1, 1)
    # zeros outside == fill outside, also for the taps of bicubic
    out = F.grid_sample(x.float() - fill_t, grid, mode=interpolation,
                        padding_mode='zeros', align_corners=True)
    return _uint8(out + fill_t)


def apply_op(x: torch.Tensor, name: str, args: Sequence[float],
             interpolation: str, fill: Sequence[float],
             channel_order: str) -> torch.Tensor:
    """One RandAugment op with fixed arguments on every frame."""
    if name in ra.POINT_LUTS:
        return lut_all(x, ra.POINT_LUTS[name](*args))
    if name in ra.HISTOGRAM_LUTS:
        return lut_per_frame(x, ra.HISTOGRAM_LUTS[name](histograms(x)))
    if name in ('Contrast', 'ContrastIncreasing'):
        means = ra.gray_means_from_channel_means(channel_means(x),
                                                 channel_order)
        return lut_per_frame(x, ra.contrast_luts(means, args[0], x.shape[1]))
    if name in ('Color', 'ColorIncreasing'):
        return color(x, args[0], channel_order)
    if name in ('Sharpness', 'SharpnessIncreasing'):
        return sharpness(x, args[0])
    if name in ra.GEOMETRIC_OPS:
        matrix = ra.affine_matrix(name, args, x.shape[2], x.shape[3])
        return warp_affine(x, matrix, interpolation, fill)
    raise KeyError(f'unknown RandAugment op {name!r}')


def rand_augment(x: torch.Tensor, ops: List[tuple], fill: Sequence[float],
                 channel_order: str = 'rgb',
                 compose_affine: bool = True) -> torch.Tensor:
    """``VideoRandAugment.apply`` on the device."""
    fill = ra.channel_fill(fill, x.shape[1])
    for step in ra.plan_ops(ops, x.shape[2], x.shape[3], compose_affine):
        if step[0] == 'warp':
            x = warp_affine(x, step[1], step[2], fill)
        else:
            x = apply_op(x, step[1], step[2], step[3], fill, channel_order)
    return x


def resized_crop_flip(x: torch.Tensor, bbox: Sequence[int],
                      size: Sequence[int], flip: bool,
                      interpolation: str = 'bilinear') -> torch.Tensor:
    """``FusedRandomResizedCropFlip`` on the device: crop ``bbox`` (left,
    top, right, bottom), resize to ``size`` (w, h), flip horizontally."""
    left, top, right, bottom = bbox
    new_w, new_h = size
    crop = x[..., top:bottom, left:right]
    if (right - left, bottom - top) != (new_w, new_h):
        kwargs = {} if interpolation == 'nearest' else \
            dict(align_corners=False)
        crop = _uint8(F.interpolate(crop.float(), size=(new_h, new_w),
                                    mode=interpolation, **kwargs))
    else:
        crop = crop.clone()
    return crop.flip(-1) if flip else crop


def random_erasing(x: torch.Tensor, boxes: Sequence[Sequence[int]],
                   seeds: Sequence[Optional[int]], mode: str,
                   mean: Sequence[float],
                   std: Sequence[float]) -> torch.Tensor:
    """``VideoRandomErasing`` on the device: the recorded boxes, noise from
    the recorded seeds."""
    x = x.clone()
    n, c = x.shape[:2]
    mean_t = torch.tensor(np.resize(np.asarray(mean, np.float32), c),
                          device=x.device).view(1, c, 1, 1)
    std_t = torch.tensor(np.resize(np.asarray(std, np.float32), c),
                         device=x.device).view(1, c, 1, 1)
    for (top, left, h, w), seed in zip(boxes, seeds):
        if mode == 'const':
            values = _uint8(mean_t.expand(n, c, h, w))
        else:
            gen = torch.Generator(device=x.device)
            gen.manual_seed(int(seed))
            shape = (n, c, h, w) if mode == 'pixel' else (n, c, 1, 1)
            z = torch.randn(shape, generator=gen, device=x.device)
            values = _uint8(z * std_t + mean_t).expand(n, c, h, w)
        x[:, :, top:top + h, left:left + w] = values
    return x


_APPLY = {'rand_augment': rand_augment,
          'resized_crop_flip': resized_crop_flip,
          'random_erasing': random_erasing}


def apply_deferred(clip: torch.Tensor, augs: Sequence[Tuple[str, Dict]]
                   ) -> torch.Tensor:
    """Apply the deferred augmentations ``augs`` (in order) to one sample's
    uint8 ``clip``: (M, C, T, H, W) as ``FormatShape('NCTHW')`` packs it,
    or (N, C, H, W) (``'NCHW'``). All frames of the sample get the same
    parameters, as in the worker."""
    if clip.dtype != torch.uint8:
        raise TypeError(f'deferred augmentation needs uint8 clips, got '
                        f'{clip.dtype} (no ToFloat/Normalize before '
                        'PackActionInputs)')
    if clip.ndim == 5:
        m, c, t, h, w = clip.shape
        frames = clip.permute(0, 2, 1, 3, 4).reshape(m * t, c, h, w)
    elif clip.ndim == 4:
        frames = clip
    else:
        raise ValueError(f'unexpected clip shape {tuple(clip.shape)}')
    for kind, params in augs:
        if kind not in _APPLY:
            raise KeyError(f'unknown deferred augmentation {kind!r}')
        frames = _APPLY[kind](frames, **params)
    if clip.ndim == 5:
        h, w = frames.shape[-2:]
        return frames.reshape(m, t, c, h, w).permute(0, 2, 1, 3,
                                                     4).contiguous()
    return frames.contiguous()


@MODELS.register_module()
class DeviceAugmentPreprocessor(ActionDataPreprocessor):
    """mmaction2's ``ActionDataPreprocessor`` that first applies each
    sample's deferred augmentations (``data_sample.metainfo
    ['deferred_augs']``, recorded by the ``defer=True`` transforms) to its
    uint8 clip on the device, then stacks, normalises and blends as usual.

    Samples without deferred augmentations (validation, test) pass as
    with ``ActionDataPreprocessor``; same arguments.
    """

    def preprocess(self, inputs: Union[List[torch.Tensor], torch.Tensor],
                   data_samples, training: bool = False):
        inputs = list(inputs)
        for i, sample in enumerate(data_samples):
            augs = sample.metainfo.get(DEFERRED_KEY)
            if augs:
                inputs[i] = apply_deferred(inputs[i], augs)
            elif training:
                self._check_not_deferred(inputs[i], sample)
        return super().preprocess(inputs, data_samples, training)

    @staticmethod
    def _check_not_deferred(clip, sample):
        """A clip whose size is not its ``img_shape`` was cropped by a
        deferred transform whose record did not reach us."""
        shape = sample.metainfo.get('img_shape')
        if shape is not None and tuple(clip.shape[-2:]) != tuple(shape)[:2]:
            raise ValueError(
                f'a clip of size {tuple(clip.shape[-2:])} with img_shape '
                f'{tuple(shape)} and no deferred augmentations: the '
                "pipeline's PackActionInputs must pack 'deferred_augs' "
                '(meta_keys); use uniformer_mm.datasets.config_utils.'
                'defer_augmentation')
