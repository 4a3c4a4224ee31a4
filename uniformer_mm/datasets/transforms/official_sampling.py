"""Frame sampling exactly as the official UniFormer / UniFormerV2 loaders.

Two rules are used by the official code (SlowFast forks of Sense-X/UniFormer
``video_classification`` and OpenGVLab/UniFormerV2):

* **dense** (V1 Kinetics, UCF101 and HMDB51: ``kinetics.py`` / ``hmdb.py``
  with ``decoder.get_start_end_idx`` and ``DATA.USE_OFFSET_SAMPLING True``):
  a clip spans ``span = clip_len * frame_interval`` frames; in training it
  starts anywhere in ``[0, delta]`` (a float, ``delta = max(n - span, 0)``),
  test clip ``k`` of ``K`` starts at ``k * floor(delta / (K - 1))`` (one clip:
  ``floor(delta / 2)``), and the frames are ``torch.linspace(start, start +
  span - 1, clip_len)`` (float32) clamped to ``[0, n - 1]`` and truncated.
  The effective stride is ``(span - 1) / (clip_len - 1)`` (4.2 for 16x4),
  videos shorter than the span repeat their last frame. mmaction2's
  ``SampleFrames`` differs (integer stride, other test starts);
  :class:`OfficialDenseSample` restates the official rule.
* **sparse** (V1 and V2 ``sth.py``, V2 ``kinetics_sparse.py`` /
  ``decoder.get_seq_frames``, ``mit.py``): the video is cut into ``clip_len``
  segments of ``seg = (n - 1) / clip_len`` frames; training takes a random
  frame in ``[round(seg * i), round(seg * (i + 1))]`` (numpy's round: half to
  even), test clip ``k`` of ``K`` takes ``round(seg * i) + int(seg / (K + 1) *
  (k + 1))``. mmaction2's ``UniformSample`` is the same rule;
  :class:`OfficialSparseSample` adds the frame-rate mapping for
  Something-Something V2, whose official frames were extracted at 30 fps
  from the 12 fps videos.

Frame-rate mapping (:func:`resampled_frame_count`,
:func:`source_frame_indices`): a source of ``n`` frames at ``src_fps`` seen
at ``dst_fps`` has ``round(n * dst_fps / src_fps)`` frames (half up), and
frame ``k`` of it is the source frame nearest in time,
``round(k * src_fps / dst_fps)`` (half up), clamped to ``n - 1``. The
Something-Something V2 frame extraction of this project
(``tools/data/sthv2/extract_frames.py``) writes exactly these frames, so the
official indices over its 30 fps frames and the mapped indices over the
12 fps frames (or the webm videos) show the same pictures.
"""
import math
from fractions import Fraction
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

__all__ = [
    'OfficialDenseSample', 'OfficialSparseSample', 'official_dense_start',
    'official_dense_indices', 'official_sparse_indices',
    'resampled_frame_count', 'source_frame_indices'
]


def _total_frames(results: Dict, sampler) -> int:
    """``results['total_frames']``; a video without frames is an error that
    names it."""
    num_frames = int(results['total_frames'])
    if num_frames < 1:
        where = results.get('filename') or results.get('frame_dir') or \
            'a video'
        raise ValueError(f'{type(sampler).__name__}: {where} has no frames '
                         f'(total_frames={num_frames})')
    return num_frames


# ------------------------------------------------------------------ dense
def official_dense_start(num_frames: int, span: int, clip_index: int,
                         num_clips: int) -> int:
    """Start frame of test clip ``clip_index`` of ``num_clips`` (official
    ``get_start_end_idx`` with ``use_offset=True``)."""
    delta = max(num_frames - span, 0)
    if num_clips == 1:
        return math.floor(delta / 2)
    return clip_index * math.floor(delta / (num_clips - 1))


def official_dense_indices(start: float, span: int, clip_len: int,
                           num_frames: int) -> np.ndarray:
    """The ``clip_len`` frame indices of a clip of ``span`` frames starting
    at ``start`` (float32 ``linspace`` as the official code, clamped to the
    video, truncated)."""
    index = torch.linspace(float(start), float(start) + span - 1, clip_len)
    index = torch.clamp(index, 0, num_frames - 1).long()
    return index.numpy()


class OfficialDenseSample(BaseTransform):
    """Dense clip sampling of the official UniFormer (V1) Kinetics, UCF101
    and HMDB51 loaders (see the module docstring).

    Required keys: ``total_frames``, ``start_index`` (optional, default 0).
    Added keys: ``frame_inds``, ``clip_len``, ``frame_interval``,
    ``num_clips``.

    Args:
        clip_len (int): Frames per clip (official ``DATA.NUM_FRAMES``).
        frame_interval (int): Official ``DATA.SAMPLING_RATE``; the clip spans
            ``clip_len * frame_interval`` frames. Defaults to 1.
        num_clips (int): Clips (test: ``TEST.NUM_ENSEMBLE_VIEWS``).
            Defaults to 1.
        test_mode (bool): Offset starts (test / val) instead of a random
            start (training). Defaults to False.
    """

    def __init__(self,
                 clip_len: int,
                 frame_interval: int = 1,
                 num_clips: int = 1,
                 test_mode: bool = False) -> None:
        if clip_len < 1 or frame_interval < 1 or num_clips < 1:
            raise ValueError(
                'OfficialDenseSample: clip_len, frame_interval and num_clips '
                f'must be >= 1, got {clip_len}, {frame_interval}, '
                f'{num_clips}')
        self.clip_len = int(clip_len)
        self.frame_interval = int(frame_interval)
        self.num_clips = int(num_clips)
        self.test_mode = test_mode

    @property
    def span(self) -> int:
        """Frames one clip spans (official ``clip_sz``)."""
        return self.clip_len * self.frame_interval

    def _starts(self, num_frames: int) -> list:
        if self.test_mode:
            return [
                official_dense_start(num_frames, self.span, k, self.num_clips)
                for k in range(self.num_clips)
            ]
        delta = max(num_frames - self.span, 0)
        return [np.random.uniform(0, delta) for _ in range(self.num_clips)]

    def transform(self, results: Dict) -> Dict:
        num_frames = _total_frames(results, self)
        inds = np.concatenate([
            official_dense_indices(s, self.span, self.clip_len, num_frames)
            for s in self._starts(num_frames)
        ])
        results['frame_inds'] = inds + results.get('start_index', 0)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = self.frame_interval
        results['num_clips'] = self.num_clips
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'frame_interval={self.frame_interval}, '
                f'num_clips={self.num_clips}, test_mode={self.test_mode})')


# ----------------------------------------------------------------- sparse
def official_sparse_indices(num_frames: int,
                            clip_len: int,
                            clip_index: Optional[int] = None,
                            num_clips: int = 1) -> np.ndarray:
    """0-based frame indices of the official segment rule: one random frame
    per segment (``clip_index=None``, training) or test clip ``clip_index``
    of ``num_clips``."""
    seg = max(0., float(num_frames - 1) / clip_len)
    starts = [int(np.round(seg * i)) for i in range(clip_len + 1)]
    if clip_index is None:
        inds = [np.random.randint(starts[i], starts[i + 1] + 1)
                for i in range(clip_len)]
    else:
        offset = int(seg / (num_clips + 1) * (clip_index + 1))
        inds = [starts[i] + offset for i in range(clip_len)]
    return np.minimum(np.asarray(inds, dtype=np.int64), num_frames - 1)


def _rate(fps) -> Fraction:
    if isinstance(fps, Fraction):
        return fps
    return Fraction(fps).limit_denominator(1001)


def resampled_frame_count(num_frames: int, src_fps, dst_fps) -> int:
    """Frames of a ``num_frames`` source at ``src_fps`` seen at ``dst_fps``:
    ``round(num_frames * dst_fps / src_fps)`` (half up), at least 1."""
    ratio = _rate(dst_fps) / _rate(src_fps)
    return max(1, math.floor(num_frames * ratio + Fraction(1, 2)))


def source_frame_indices(num_frames: int, src_fps, dst_fps,
                         dst_indices: Optional[Sequence[int]] = None
                         ) -> np.ndarray:
    """Source frame shown by each frame of the ``dst_fps`` view (all of
    them, or ``dst_indices``): the nearest in time, ``round(k * src_fps /
    dst_fps)`` (half up), clamped to the last source frame."""
    if dst_indices is None:
        dst_indices = range(resampled_frame_count(num_frames, src_fps,
                                                  dst_fps))
    ratio = _rate(src_fps) / _rate(dst_fps)
    out = [min(math.floor(int(k) * ratio + Fraction(1, 2)), num_frames - 1)
           for k in dst_indices]
    return np.asarray(out, dtype=np.int64)


class OfficialSparseSample(BaseTransform):
    """Segment ("sparse") sampling of the official loaders (module
    docstring), optionally computed over the frames at another frame rate.

    With ``official_frame_rate`` set (Something-Something V2: 30, the rate
    the official frames were extracted at) and frames stored at another
    rate (``frame_rate``; SSv2 webm videos and frames kept at their own
    rate: 12), the official indices are computed over the
    ``official_frame_rate`` view of the video (:func:`resampled_frame_count`
    frames) and each is mapped to the source frame that view shows
    (:func:`source_frame_indices`): the sampled pictures are those the
    official loader reads from 30 fps frames. Without ``official_frame_rate``
    (or with equal rates) this is mmaction2's ``UniformSample``.

    Required keys: ``total_frames``, ``start_index`` (optional, default 0),
    ``avg_fps`` (optional: the rate of a video opened by ``VideoInit``).
    Added keys: ``frame_inds``, ``clip_len``, ``frame_interval`` (None),
    ``num_clips``.

    Args:
        clip_len (int): Frames (segments) per clip.
        num_clips (int): Test clips (official ``TEST.NUM_ENSEMBLE_VIEWS``).
            Defaults to 1.
        test_mode (bool): Test offsets instead of random frames. Defaults to
            False.
        official_frame_rate (float, optional): Frame rate of the frames the
            official indices refer to. Defaults to None (no mapping).
        frame_rate (float, optional): Frame rate of the frames read. None:
            ``results['avg_fps']`` for a video (``VideoInit``), else
            ``official_frame_rate`` (frame folders extracted at the official
            rate). Defaults to None.
    """

    def __init__(self,
                 clip_len: int,
                 num_clips: int = 1,
                 test_mode: bool = False,
                 official_frame_rate: Optional[float] = None,
                 frame_rate: Optional[float] = None) -> None:
        if clip_len < 1 or num_clips < 1:
            raise ValueError('OfficialSparseSample: clip_len and num_clips '
                             f'must be >= 1, got {clip_len}, {num_clips}')
        for name, value in (('official_frame_rate', official_frame_rate),
                            ('frame_rate', frame_rate)):
            if value is not None and not value > 0:
                raise ValueError(f'OfficialSparseSample: {name} must be > 0, '
                                 f'got {value}')
        self.clip_len = int(clip_len)
        self.num_clips = int(num_clips)
        self.test_mode = test_mode
        self.official_frame_rate = official_frame_rate
        self.frame_rate = frame_rate
        self._warned = False

    def _source_rate(self, results):
        if self.frame_rate is not None:
            return self.frame_rate
        fps = results.get('avg_fps')
        if fps:
            return fps
        return self.official_frame_rate

    def transform(self, results: Dict) -> Dict:
        num_frames = _total_frames(results, self)
        official = self.official_frame_rate
        rate = self._source_rate(results) if official else None
        mapped = official is not None and _rate(rate) != _rate(official)
        if (self.frame_rate is not None and results.get('avg_fps')
                and not self._warned
                and abs(results['avg_fps'] - self.frame_rate) >
                0.01 * self.frame_rate):
            self._warned = True
            print_log(
                f'OfficialSparseSample: frame_rate={self.frame_rate} but '
                f'{results.get("filename", "the video")} runs at '
                f'{results["avg_fps"]:.3f} fps; the indices follow '
                'frame_rate (set frame_rate=None to use the video\'s rate)',
                logger='current', level=30)
        count = resampled_frame_count(num_frames, rate, official) \
            if mapped else num_frames
        clips = range(self.num_clips) if self.test_mode else [None]
        inds = np.concatenate([
            official_sparse_indices(count, self.clip_len, k, self.num_clips)
            for k in clips
        ])
        if mapped:
            inds = source_frame_indices(num_frames, rate, official, inds)
        results['frame_inds'] = inds + results.get('start_index', 0)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips if self.test_mode else 1
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'num_clips={self.num_clips}, test_mode={self.test_mode}, '
                f'official_frame_rate={self.official_frame_rate}, '
                f'frame_rate={self.frame_rate})')
