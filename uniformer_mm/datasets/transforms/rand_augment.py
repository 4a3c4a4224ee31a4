"""RandAugment for video clips (timm / SlowFast semantics, cv2 + numpy).

``VideoRandAugment('rand-m7-n4-mstd0.5-inc1')`` reproduces the augmentation
of the official UniFormer / UniFormerV2 training code
(``slowfast/datasets/rand_augment.py``, a copy of timm's ``auto_augment.py``
that applies every op to all frames of a clip), but

* every random quantity -- which ops, whether each op fires, its magnitude,
  its sign, the interpolation -- is drawn **once per clip** and used for every
  frame (the official code draws the interpolation per frame when it is
  'random'; with the recipes' fixed ``bicubic`` it is the same);
* it works on ``uint8`` numpy frames with OpenCV/numpy instead of PIL images,
  vectorised over the frames: point ops are one ``cv2.LUT`` over the whole
  clip, colour/sharpness blends one ``cv2.addWeighted``, histogram ops one
  LUT per frame, geometric ops one ``cv2.warpAffine`` per frame;
* all randomness comes from ``numpy.random`` (seeded per worker by mmengine).

Config string (timm): ``rand-m{M}-n{N}-mstd{S}-mmax{X}-inc{0|1}-w{0}-p{P}``:
``m`` magnitude (0..10, default 10), ``n`` ops per clip (default 2), ``mstd``
std of a Gaussian jitter of the magnitude per op (``inf``: uniform in
``[0, m]``), ``mmax`` upper clip of the magnitude (default 10), ``inc1`` the
increasing-severity op set, ``w0`` timm's op-choice weights (ops drawn
without replacement), ``p`` probability of each chosen op (default 0.5).
Ops are drawn with replacement (timm) unless weights are given.

Op semantics follow PIL exactly where that is free (LUT ops: Posterize,
Solarize, SolarizeAdd, Invert, AutoContrast, Equalize, Brightness, Contrast
use PIL's formulas incl. its truncation); Color / Sharpness blends round
instead of truncating (<= 1 grey level), and the affine ops use OpenCV's
bicubic (a=-0.75) instead of PIL's (a=-0.5) with PIL's pixel-centre geometry.
"""
import math
import re

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from ._clip import get_clip, put_clip

_MAX_LEVEL = 10.

RAND_TRANSFORMS = [
    'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'Posterize', 'Solarize',
    'SolarizeAdd', 'Color', 'Contrast', 'Brightness', 'Sharpness', 'ShearX',
    'ShearY', 'TranslateXRel', 'TranslateYRel'
]
RAND_INCREASING_TRANSFORMS = [
    'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'PosterizeIncreasing',
    'SolarizeIncreasing', 'SolarizeAdd', 'ColorIncreasing',
    'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing',
    'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel'
]
# timm's `_RAND_CHOICE_WEIGHTS_0` (config key `w0`)
RAND_CHOICE_WEIGHTS_0 = {
    'Rotate': 0.3, 'ShearX': 0.2, 'ShearY': 0.2, 'TranslateXRel': 0.1,
    'TranslateYRel': 0.1, 'Color': .025, 'Sharpness': 0.025,
    'AutoContrast': 0.025, 'Solarize': .005, 'SolarizeAdd': .005,
    'Contrast': .005, 'Brightness': .005, 'Equalize': .005, 'Posterize': 0,
    'Invert': 0
}

_INTERP = {
    'nearest': cv2.INTER_NEAREST,
    'bilinear': cv2.INTER_LINEAR,
    'bicubic': cv2.INTER_CUBIC,
}
_ARANGE = np.arange(256, dtype=np.float64)


# --------------------------------------------------------------------------
# magnitude -> op arguments (timm's *_level_to_arg, sign drawn by caller)
# --------------------------------------------------------------------------
def _negate():
    """timm's ``_randomly_negate``: -1 with probability 1/2."""
    return -1. if np.random.rand() > 0.5 else 1.


def level_to_args(name, level, translate_pct=0.45, translate_const=100):
    """timm's op arguments for magnitude ``level`` (0..10).

    Signed ops draw their sign from ``numpy.random``.
    """
    frac = level / _MAX_LEVEL
    if name in ('AutoContrast', 'Equalize', 'Invert'):
        return ()
    if name == 'Rotate':
        return (frac * 30. * _negate(), )
    if name == 'Posterize':
        return (int(frac * 4), )
    if name == 'PosterizeIncreasing':
        return (4 - int(frac * 4), )
    if name == 'PosterizeOriginal':
        return (int(frac * 4) + 4, )
    if name == 'Solarize':
        return (int(frac * 256), )
    if name == 'SolarizeIncreasing':
        return (256 - int(frac * 256), )
    if name == 'SolarizeAdd':
        return (int(frac * 110), )
    if name in ('Color', 'Contrast', 'Brightness', 'Sharpness'):
        return (frac * 1.8 + 0.1, )
    if name in ('ColorIncreasing', 'ContrastIncreasing',
                'BrightnessIncreasing', 'SharpnessIncreasing'):
        return (1.0 + frac * .9 * _negate(), )
    if name in ('ShearX', 'ShearY'):
        return (frac * 0.3 * _negate(), )
    if name in ('TranslateXRel', 'TranslateYRel'):
        return (frac * translate_pct * _negate(), )
    if name in ('TranslateX', 'TranslateY'):
        return (frac * float(translate_const) * _negate(), )
    raise KeyError(f'unknown RandAugment op {name!r}')


# --------------------------------------------------------------------------
# ops on clips: (T, H, W, C) uint8 -> new (T, H, W, C) uint8
# --------------------------------------------------------------------------
def _lut_all(clip, lut):
    """Apply one 256-entry LUT to every pixel of the clip (one cv2 call)."""
    t, h, w, c = clip.shape
    lut = np.ascontiguousarray(lut, dtype=np.uint8)
    out = cv2.LUT(clip.reshape(t * h, w, c), lut)
    return out.reshape(clip.shape)


def _lut_per_frame(clip, luts):
    """``luts``: (T, C, 256) uint8, one LUT per frame and channel."""
    out = np.empty_like(clip)
    c = clip.shape[-1]
    for i in range(clip.shape[0]):
        if c == 1:
            out[i, ..., 0] = cv2.LUT(clip[i, ..., 0], luts[i, 0])
        else:
            # cv2 wants a (256, 1, C) table for a C-channel image
            lut = np.ascontiguousarray(luts[i].T[:, None, :])
            out[i] = cv2.LUT(clip[i], lut)
    return out


def _clip_trunc(values):
    """PIL's float -> uint8 conversion: clamp to [0, 255], truncate."""
    return np.clip(values, 0, 255).astype(np.uint8)


# 256-entry tables of the point ops (shared with the device-side ops of
# uniformer_mm.models.data_preprocessors.device_augment)
def invert_lut():
    return 255 - _ARANGE


def posterize_lut(bits):
    bits = int(bits)
    if bits >= 8:
        return _ARANGE.copy()
    mask = ~(2**(8 - max(bits, 0)) - 1) & 0xFF
    return np.arange(256) & mask


def solarize_lut(thresh):
    return np.where(_ARANGE < thresh, _ARANGE, 255 - _ARANGE)


def solarize_add_lut(add, thresh=128):
    return np.where(_ARANGE < thresh, np.minimum(255, _ARANGE + add),
                    _ARANGE)


def brightness_lut(factor):
    # PIL: blend(black, img, f) = f * img, truncated
    return _clip_trunc(_ARANGE * factor)


#: op name -> function of the op's arguments giving its table
POINT_LUTS = {
    'Invert': invert_lut,
    'Posterize': posterize_lut,
    'PosterizeIncreasing': posterize_lut,
    'PosterizeOriginal': posterize_lut,
    'Solarize': solarize_lut,
    'SolarizeIncreasing': solarize_lut,
    'SolarizeAdd': solarize_add_lut,
    'Brightness': brightness_lut,
    'BrightnessIncreasing': brightness_lut,
}


def invert(clip, **_):
    return _lut_all(clip, invert_lut())


def posterize(clip, bits, **_):
    if int(bits) >= 8:
        return clip.copy()
    return _lut_all(clip, posterize_lut(bits))


def solarize(clip, thresh, **_):
    return _lut_all(clip, solarize_lut(thresh))


def solarize_add(clip, add, thresh=128, **_):
    return _lut_all(clip, solarize_add_lut(add, thresh))


def brightness(clip, factor, **_):
    return _lut_all(clip, brightness_lut(factor))


GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # PIL 'L', in RGB order


def gray_means_from_channel_means(ch, channel_order):
    """Per-frame mean of the PIL 'L' conversion, rounded like PIL, from the
    per-frame channel means ``ch`` (T, C)."""
    if ch.shape[1] == 1:
        means = ch[:, 0]
    else:
        weights = GRAY_WEIGHTS[::-1] if channel_order == 'bgr' else \
            GRAY_WEIGHTS
        means = ch[:, :3] @ np.array(weights)
    return np.floor(means + 0.5)


def _gray_means(clip, channel_order):
    """Per-frame mean of the PIL 'L' conversion, rounded like PIL."""
    if clip.shape[-1] == 1:
        ch = clip.reshape(clip.shape[0], -1).mean(1)[:, None]
    else:
        ch = np.array([cv2.mean(f)[:3] for f in clip])  # (T, 3)
    return gray_means_from_channel_means(ch, channel_order)


def contrast_luts(means, factor, channels):
    """(T, C, 256) tables of Contrast for the per-frame grey ``means``."""
    luts = _clip_trunc(means[:, None] +
                       factor * (_ARANGE[None] - means[:, None]))  # (T, 256)
    return np.repeat(luts[:, None], channels, axis=1)


def contrast(clip, factor, channel_order='rgb', **_):
    # PIL: degenerate = constant image of the rounded grey mean
    means = _gray_means(clip, channel_order)  # (T,)
    return _lut_per_frame(clip, contrast_luts(means, factor, clip.shape[-1]))


def _blend(degenerate, clip, factor):
    """``degenerate + factor * (clip - degenerate)``, rounded, saturated."""
    t, h, w, c = clip.shape
    out = cv2.addWeighted(
        clip.reshape(t * h, w, c), float(factor),
        degenerate.reshape(t * h, w, c), float(1. - factor), 0.)
    return out.reshape(clip.shape)


def color(clip, factor, channel_order='rgb', **_):
    t, h, w, c = clip.shape
    if c == 1:
        return clip.copy()
    code = cv2.COLOR_RGB2GRAY if channel_order == 'rgb' else \
        cv2.COLOR_BGR2GRAY
    gray = cv2.cvtColor(clip.reshape(t * h, w, c), code)
    gray3 = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB).reshape(clip.shape)
    return _blend(gray3, clip, factor)


_SMOOTH = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], np.float32) / 13.


def sharpness(clip, factor, **_):
    t, h, w, c = clip.shape
    flat = clip.reshape(t * h, w, c)
    smooth = cv2.filter2D(flat, -1, _SMOOTH, borderType=cv2.BORDER_REPLICATE)
    smooth = smooth.reshape(clip.shape)
    # PIL's filter keeps the border pixels of every frame (this also undoes
    # the mixing of neighbouring frames at their shared rows)
    smooth[:, 0] = clip[:, 0]
    smooth[:, -1] = clip[:, -1]
    smooth[:, :, 0] = clip[:, :, 0]
    smooth[:, :, -1] = clip[:, :, -1]
    return _blend(smooth, clip, factor)


def _histograms(clip):
    """(T, C, 256) int64 histograms of every frame and channel."""
    t, c = clip.shape[0], clip.shape[-1]
    hists = np.empty((t, c, 256), np.int64)
    for i in range(t):
        for ch in range(c):
            hists[i, ch] = cv2.calcHist([clip[i]], [ch], None, [256],
                                        [0, 256]).ravel()
    return hists


def auto_contrast_luts(hists):
    """(T, C, 256) tables of PIL ``ImageOps.autocontrast(cutoff=0)`` (stretch
    [lo, hi] of every band) from the histograms (T, C, 256)."""
    nonzero = hists > 0
    lo = np.argmax(nonzero, axis=-1).astype(np.float64)  # (T, C)
    hi = (255 - np.argmax(nonzero[..., ::-1], axis=-1)).astype(np.float64)
    valid = hi > lo
    scale = np.where(valid, 255.0 / np.maximum(hi - lo, 1), 1.)
    offset = np.where(valid, -lo * scale, 0.)
    return _clip_trunc(_ARANGE[None, None] * scale[..., None] +
                       offset[..., None])  # (T, C, 256)


def equalize_luts(hists):
    """(T, C, 256) tables of PIL ``ImageOps.equalize``."""
    luts = np.empty(hists.shape, np.uint8)
    for i in range(hists.shape[0]):
        for ch in range(hists.shape[1]):
            luts[i, ch] = _pil_equalize_lut(hists[i, ch])
    return luts


#: histogram ops: name -> tables from the (T, C, 256) histograms
HISTOGRAM_LUTS = {'AutoContrast': auto_contrast_luts,
                  'Equalize': equalize_luts}


def auto_contrast(clip, **_):
    return _lut_per_frame(clip, auto_contrast_luts(_histograms(clip)))


def equalize(clip, **_):
    return _lut_per_frame(clip, equalize_luts(_histograms(clip)))


def _pil_equalize_lut(hist):
    """PIL ``ImageOps.equalize`` table for one band."""
    nonzero = hist[hist > 0]
    if len(nonzero) <= 1:
        return np.arange(256)
    step = (int(nonzero.sum()) - int(nonzero[-1])) // 256
    if not step:
        return np.arange(256)
    n = step // 2 + np.concatenate([[0], np.cumsum(hist)[:-1]])
    return np.minimum(n // step, 255)


def affine_matrix(name, args, height, width):
    """3x3 PIL ``Image.AFFINE`` matrix of a geometric op: it maps *output*
    to *input* coordinates, in PIL's continuous coordinates (the centre of
    pixel i is at i + 0.5)."""
    (v, ) = args
    if name == 'Rotate':  # PIL Image.rotate: counter-clockwise about centre
        angle = -math.radians(v)
        a, b = round(math.cos(angle), 15), round(math.sin(angle), 15)
        d, e = round(-math.sin(angle), 15), round(math.cos(angle), 15)
        cx, cy = width / 2.0, height / 2.0
        m = [[a, b, a * -cx + b * -cy + cx], [d, e, d * -cx + e * -cy + cy]]
    elif name == 'ShearX':
        m = [[1, v, 0], [0, 1, 0]]
    elif name == 'ShearY':
        m = [[1, 0, 0], [v, 1, 0]]
    elif name == 'TranslateXRel':
        m = [[1, 0, v * width], [0, 1, 0]]
    elif name == 'TranslateYRel':
        m = [[1, 0, 0], [0, 1, v * height]]
    elif name == 'TranslateX':
        m = [[1, 0, v], [0, 1, 0]]
    elif name == 'TranslateY':
        m = [[1, 0, 0], [0, 1, v]]
    else:
        raise KeyError(f'{name!r} is not a geometric op')
    return np.array(m + [[0, 0, 1]], np.float64)


def opencv_inverse_map(matrix):
    """The 2x3 matrix that maps OpenCV output pixel indices (pixel centres
    at integers) to input indices, for a PIL-convention ``matrix``
    (``WARP_INVERSE_MAP``)."""
    (a, b, c), (d, e, f) = matrix[:2]
    return np.array([[a, b, c + 0.5 * (a + b) - 0.5],
                     [d, e, f + 0.5 * (d + e) - 0.5]], np.float64)


def warp_affine(clip, matrix, interpolation='bilinear', fill=(128, ) * 3):
    """Warp every frame with a 3x3 PIL-convention matrix (see
    :func:`affine_matrix`), constant ``fill`` outside the frame."""
    m = opencv_inverse_map(matrix)
    t, h, w, ch = clip.shape
    out = np.empty_like(clip)
    flags = _INTERP[interpolation] | cv2.WARP_INVERSE_MAP
    border = tuple(float(v) for v in fill)[:4]
    for i in range(t):
        src = clip[i] if ch > 1 else clip[i, ..., 0]
        dst = out[i] if ch > 1 else out[i, ..., 0]
        res = cv2.warpAffine(src, m, (w, h), dst=dst, flags=flags,
                             borderMode=cv2.BORDER_CONSTANT,
                             borderValue=border)
        if res is not dst:  # pragma: no cover - cv2 reallocated
            dst[...] = res.reshape(dst.shape)
    return out


def _geometric(name):

    def op(clip, *args, interpolation='bilinear', fill=(128, ) * 3, **_):
        matrix = affine_matrix(name, args, clip.shape[1], clip.shape[2])
        return warp_affine(clip, matrix, interpolation, fill)

    op.__name__ = name
    return op


rotate = _geometric('Rotate')
shear_x = _geometric('ShearX')
shear_y = _geometric('ShearY')
translate_x_abs = _geometric('TranslateX')
translate_y_abs = _geometric('TranslateY')
translate_x_rel = _geometric('TranslateXRel')
translate_y_rel = _geometric('TranslateYRel')


NAME_TO_OP = {
    'AutoContrast': auto_contrast,
    'Equalize': equalize,
    'Invert': invert,
    'Rotate': rotate,
    'Posterize': posterize,
    'PosterizeIncreasing': posterize,
    'PosterizeOriginal': posterize,
    'Solarize': solarize,
    'SolarizeIncreasing': solarize,
    'SolarizeAdd': solarize_add,
    'Color': color,
    'ColorIncreasing': color,
    'Contrast': contrast,
    'ContrastIncreasing': contrast,
    'Brightness': brightness,
    'BrightnessIncreasing': brightness,
    'Sharpness': sharpness,
    'SharpnessIncreasing': sharpness,
    'ShearX': shear_x,
    'ShearY': shear_y,
    'TranslateX': translate_x_abs,
    'TranslateY': translate_y_abs,
    'TranslateXRel': translate_x_rel,
    'TranslateYRel': translate_y_rel,
}
GEOMETRIC_OPS = {
    'Rotate', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY',
    'TranslateXRel', 'TranslateYRel'
}


def channel_fill(fill, channels):
    """``fill`` for ``channels`` channels (the last value repeated)."""
    fill = tuple(fill)
    if len(fill) != channels:
        fill = (fill + fill[-1:] * channels)[:channels]
    return fill


def plan_ops(params, height, width, compose_affine=True):
    """The steps that apply ``params`` (``(name, args, interpolation)``
    tuples) to frames of ``height`` x ``width``: ``('warp', matrix,
    interpolation)`` for a run of consecutive geometric ops composed into
    one affine warp (bicubic if any of them is), ``('op', name, args,
    interpolation)`` otherwise."""
    steps = []
    i = 0
    while i < len(params):
        name, args, interp = params[i]
        if name in GEOMETRIC_OPS and compose_affine:
            matrix = affine_matrix(name, args, height, width)
            while i + 1 < len(params) and params[i + 1][0] in GEOMETRIC_OPS:
                i += 1
                nxt, nargs, ninterp = params[i]
                # out(x) = prev(M2 x) = in(M1 M2 x)
                matrix = matrix @ affine_matrix(nxt, nargs, height, width)
                if ninterp == 'bicubic':
                    interp = ninterp
            steps.append(('warp', matrix, interp))
        else:
            steps.append(('op', name, args, interp))
        i += 1
    return steps


def add_deferred(results, record):
    """Append a deferred augmentation ``(kind, params)`` to
    ``results['deferred_augs']`` (a new list: repeats of ``RepeatClips``
    share the dict they were copied from)."""
    results['deferred_augs'] = list(results.get('deferred_augs') or []) + \
        [record]


def apply_op(clip, name, args, interpolation='bilinear', fill=(128, ) * 3,
             channel_order='rgb'):
    """Apply one op with fixed arguments to every frame of ``clip``."""
    return NAME_TO_OP[name](
        clip, *args, interpolation=interpolation, fill=fill,
        channel_order=channel_order)


def parse_rand_config(config_str):
    """Parse a timm RandAugment string into a dict of settings."""
    parts = config_str.split('-')
    if parts[0] != 'rand':
        raise ValueError(f'RandAugment config must start with "rand": '
                         f'{config_str!r}')
    cfg = dict(magnitude=_MAX_LEVEL, num_layers=2, magnitude_std=0.,
               magnitude_max=_MAX_LEVEL, increasing=False, weight_idx=None,
               prob=0.5)
    for part in parts[1:]:
        split = re.split(r'(\d.*|inf)', part)
        if len(split) < 2:
            continue
        key, val = split[:2]
        if key == 'mstd':
            cfg['magnitude_std'] = float(val)
        elif key == 'mmax':
            cfg['magnitude_max'] = float(val)
        elif key == 'inc':
            # timm uses bool(val), which is True even for 'inc0'
            cfg['increasing'] = bool(int(val))
        elif key == 'm':
            cfg['magnitude'] = float(val)
        elif key == 'n':
            cfg['num_layers'] = int(val)
        elif key == 'w':
            cfg['weight_idx'] = int(val)
        elif key == 'p':
            cfg['prob'] = float(val)
        else:
            raise ValueError(f'unknown RandAugment config key {key!r} in '
                             f'{config_str!r}')
    return cfg


class VideoRandAugment(BaseTransform):
    """timm RandAugment applied identically to all frames of a clip.

    Required keys: ``imgs`` (list of ``(H, W, C)`` uint8 frames or a
    ``(T, H, W, C)`` array; mmaction2) or ``img`` (one image; mmpretrain).
    Modified keys: ``imgs`` (now a ``(T, H, W, C)`` array) / ``img``,
    ``img_shape``.

    Args:
        config_str (str): timm config, e.g. ``'rand-m7-n4-mstd0.5-inc1'``
            (the UniFormer / UniFormerV2 video recipe), ``'rand-m9-mstd0.5-
            inc1'`` (DeiT images), ``'rand-m5-n2-mstd0.25'``, ``'rand'``.
        magnitude, num_layers, magnitude_std, magnitude_max, increasing,
        prob: override the corresponding settings of ``config_str``.
        ops (list[str], optional): explicit op names (overrides the op set
            chosen by ``inc``).
        fill (tuple): border colour of the geometric ops, in the frames'
            channel order. Default (128, 128, 128) as in the official video
            code (timm images use the ImageNet mean).
        interpolation (str): 'bicubic' (recipes), 'bilinear', 'nearest' or
            'random' (bilinear or bicubic, drawn per op and clip).
        translate_pct (float): max relative translation. Default 0.45.
        translate_const (int): max absolute translation of 'TranslateX/Y'
            (not in the RandAugment op sets). Default 100.
        channel_order (str): 'rgb' (mmaction2 decoders) or 'bgr'
            (mmpretrain's LoadImageFromFile); used by Color and Contrast.
        compose_affine (bool): compose consecutive geometric ops into one
            warp (faster, one interpolation). Default True.
        defer (bool): only draw the random parameters and record them in
            ``results['deferred_augs']``; the frames are left alone and
            ``DeviceAugmentPreprocessor`` applies the ops on the device
            (same draws, same ops; see
            ``uniformer_mm/models/data_preprocessors/device_augment.py``).
            Default False.
    """

    def __init__(self,
                 config_str='rand-m7-n4-mstd0.5-inc1',
                 magnitude=None,
                 num_layers=None,
                 magnitude_std=None,
                 magnitude_max=None,
                 increasing=None,
                 prob=None,
                 ops=None,
                 fill=(128, 128, 128),
                 interpolation='bicubic',
                 translate_pct=0.45,
                 translate_const=100,
                 channel_order='rgb',
                 compose_affine=True,
                 defer=False):
        cfg = parse_rand_config(config_str)
        for key, val in dict(magnitude=magnitude, num_layers=num_layers,
                             magnitude_std=magnitude_std,
                             magnitude_max=magnitude_max,
                             increasing=increasing, prob=prob).items():
            if val is not None:
                cfg[key] = val
        self.config_str = config_str
        self.magnitude = float(cfg['magnitude'])
        self.num_layers = int(cfg['num_layers'])
        self.magnitude_std = float(cfg['magnitude_std'])
        self.magnitude_max = float(cfg['magnitude_max'])
        self.prob = float(cfg['prob'])
        if ops is None:
            ops = RAND_INCREASING_TRANSFORMS if cfg['increasing'] \
                else RAND_TRANSFORMS
        unknown = [op for op in ops if op not in NAME_TO_OP]
        if unknown:
            raise ValueError(f'unknown RandAugment ops {unknown}')
        self.ops = list(ops)
        self.choice_weights = None
        if cfg['weight_idx'] is not None:
            if cfg['weight_idx'] != 0:
                raise ValueError('only RandAugment weights w0 exist')
            weights = np.array([RAND_CHOICE_WEIGHTS_0.get(op, 0.)
                                for op in self.ops], np.float64)
            self.choice_weights = weights / weights.sum()
        if interpolation not in ('random', *_INTERP):
            raise ValueError(f'interpolation {interpolation!r} not in '
                             f'{["random", *_INTERP]}')
        self.interpolation = interpolation
        self.fill = tuple(fill)
        self.translate_pct = translate_pct
        self.translate_const = translate_const
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError('channel_order must be "rgb" or "bgr"')
        self.channel_order = channel_order
        self.compose_affine = compose_affine
        self.defer = defer

    # -- randomness ------------------------------------------------------
    def _sample_magnitude(self):
        magnitude = self.magnitude
        if self.magnitude_std == float('inf'):
            magnitude = np.random.uniform(0, magnitude)
        elif self.magnitude_std > 0:
            magnitude = np.random.normal(magnitude, self.magnitude_std)
        return min(self.magnitude_max, max(0., magnitude))

    def get_params(self):
        """Draw the augmentation of one clip.

        Returns:
            list[tuple]: ``(op_name, args, interpolation)`` of every op that
            fires, in order (ops that do not fire are left out).
        """
        if self.choice_weights is None:
            idx = np.random.randint(len(self.ops), size=self.num_layers)
        else:
            idx = np.random.choice(len(self.ops), self.num_layers,
                                   replace=False, p=self.choice_weights)
        params = []
        for i in idx:
            name = self.ops[i]
            if self.prob < 1.0 and np.random.rand() > self.prob:
                continue
            level = self._sample_magnitude()
            args = level_to_args(name, level, self.translate_pct,
                                 self.translate_const)
            interp = self.interpolation
            if interp == 'random':
                interp = 'bilinear' if np.random.rand() < 0.5 else 'bicubic'
            params.append((name, args, interp))
        return params

    def apply(self, clip, params):
        """Apply ``params`` (from :meth:`get_params`) to a (T, H, W, C)
        uint8 clip. Returns a new array.

        Consecutive geometric ops are composed into one affine warp (the
        same geometry with one resampling instead of several).
        """
        fill = channel_fill(self.fill, clip.shape[-1])
        out = clip
        h, w = clip.shape[1:3]
        for step in plan_ops(params, h, w, self.compose_affine):
            if step[0] == 'warp':
                out = warp_affine(out, step[1], step[2], fill)
            else:
                name, args, interp = step[1:]
                out = apply_op(out, name, args, interpolation=interp,
                               fill=fill, channel_order=self.channel_order)
        if out is clip:
            out = clip.copy()
        return out

    def deferred(self, params):
        """The record of ``params`` that ``DeviceAugmentPreprocessor``
        (``uniformer_mm.models.data_preprocessors``) applies
        (``defer=True``)."""
        return ('rand_augment',
                dict(ops=[(name, tuple(float(a) for a in args), interp)
                          for name, args, interp in params],
                     fill=tuple(self.fill), channel_order=self.channel_order,
                     compose_affine=self.compose_affine))

    def transform(self, results):
        params = self.get_params()
        if self.defer:
            if params:
                add_deferred(results, self.deferred(params))
            return results
        if not params:  # nothing fires: leave the data untouched
            return results
        key = 'imgs' if 'imgs' in results else 'img'
        gray = key == 'img' and results['img'].ndim == 2
        clip, key = get_clip(results)
        if clip.dtype != np.uint8:
            raise TypeError(f'VideoRandAugment needs uint8 frames, got '
                            f'{clip.dtype}')
        return put_clip(results, self.apply(clip, params), key,
                        squeeze_gray=gray)

    def __repr__(self):
        return (f'{self.__class__.__name__}(config_str={self.config_str!r}, '
                f'magnitude={self.magnitude}, num_layers={self.num_layers}, '
                f'magnitude_std={self.magnitude_std}, prob={self.prob}, '
                f'ops={self.ops}, fill={self.fill}, '
                f'interpolation={self.interpolation!r}, defer={self.defer})')
