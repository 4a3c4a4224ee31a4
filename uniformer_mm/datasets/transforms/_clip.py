"""Small helpers shared by the video transforms.

A *clip* here is one ``uint8`` array of shape ``(T, H, W, C)``, C-contiguous.
mmaction2 stores frames as a list of ``(H, W, C)`` arrays under
``results['imgs']``; every mmaction2 transform we use also accepts such a
``(T, H, W, C)`` array (they iterate over the first axis), and FormatShape
turns a list into an array anyway. Our transforms therefore take either form
and hand back an array, so that consecutive transforms of ours never re-stack.
"""
import numpy as np


def as_clip(imgs):
    """Return ``imgs`` (list of frames or array) as a contiguous
    ``(T, H, W, C)`` array, without copying when that is possible.

    A list whose frames are consecutive views of one contiguous array (what
    ``DecordDecode`` produces: ``list(batch.asnumpy())``) gives back that
    array; any other list is stacked (copied).
    """
    if isinstance(imgs, np.ndarray):
        clip = imgs
    else:
        clip = _base_of_views(imgs)
        if clip is None:
            clip = np.stack(imgs)
    if clip.ndim == 3:  # single-channel frames
        clip = clip[..., None]
    return np.ascontiguousarray(clip)


def _base_of_views(frames):
    """The array whose consecutive rows are exactly ``frames``, if any."""
    if not frames:
        return None
    base = getattr(frames[0], 'base', None)
    if not isinstance(base, np.ndarray) or base.ndim != frames[0].ndim + 1:
        return None
    if base.shape[0] != len(frames) or base.shape[1:] != frames[0].shape:
        return None
    if not base.flags.c_contiguous:
        return None
    start = base.__array_interface__['data'][0]
    step = base.strides[0]
    for i, frame in enumerate(frames):
        if (frame.base is not base
                or frame.__array_interface__['data'][0] != start + i * step
                or not frame.flags.c_contiguous):
            return None
    return base


def get_clip(results):
    """``(clip, key)`` from an mmaction2 (``imgs``) or mmpretrain (``img``)
    results dict; a single image becomes a clip of one frame."""
    if 'imgs' in results:
        return as_clip(results['imgs']), 'imgs'
    if 'img' in results:
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        return np.ascontiguousarray(img)[None], 'img'
    raise KeyError('results has neither "imgs" (video) nor "img" (image)')


def put_clip(results, clip, key, squeeze_gray=False):
    """Store a clip back under ``key`` (inverse of :func:`get_clip`)."""
    if key == 'img':
        img = clip[0]
        if squeeze_gray and img.shape[-1] == 1:
            img = img[..., 0]
        results['img'] = img
    else:
        results['imgs'] = clip
    results['img_shape'] = clip.shape[1:3]
    return results
