"""A video data set that survives bad samples.

:class:`RobustVideoDataset` is mmaction2's ``VideoDataset`` (same
annotation format and arguments) with two additions:

* **The annotation list is validated when it is loaded**
  (:func:`~uniformer_mm.datasets.validate.validate_video_list`): malformed
  lines, labels outside ``[0, num_classes)``, duplicates and missing videos
  are reported with file name and line number before anything is trained.
* **A sample whose pipeline fails is replaced (or skipped), not fatal**: a
  missing, empty, truncated or undecodable video, or one with fewer frames
  than the clip needs, is logged with its path and the reason, and another
  sample takes its place (``on_bad='replace'``; a random one in training,
  the next one in test mode) or the sample is dropped from its batch
  (``on_bad='skip'``; needs :class:`~uniformer_mm.engine.BadSampleHook`,
  which drops it in the data loader's collate function).

The replacement sample carries what went wrong in its data sample's
metainfo (``bad_samples``: a list of dicts with ``path``, ``line``,
``reason``, ``kind``), so the information reaches the main process from
data loader workers of any kind (fork or spawn, persistent or not) without
shared state; ``BadSampleHook`` reads it from each batch and reports the
bad samples at the end of each epoch and in the test metrics.

Caps keep a mostly broken data set from training on: more than
``max_consecutive_bad`` failures in a row, or a fraction of bad videos
above ``max_bad_fraction`` (checked per loader process once it has seen
``min(50, len(dataset))`` videos, by ``BadSampleHook`` at the end of each
epoch, and for missing files when the list is loaded) stop with
:class:`TooManyBadSamplesError` naming the last failures.

Short videos: mmaction2's ``SampleFrames`` silently loops (or repeats the
last frame of) a video that is shorter than the clip and ``UniformSample``
repeats frames; here a video with fewer frames than the sampler needs
(``clip_len * frame_interval`` for ``SampleFrames`` in training,
``(clip_len - 1) * frame_interval + 1`` in test mode, ``clip_len`` for
``UniformSample``; or ``min_frames``) is a bad sample of kind ``'short'``
and replaced, unless ``accept_short=True``: then it is used as the sampler
makes it and still reported (``short_video`` in the metainfo).
"""
import logging
import os.path as osp
import random
from typing import Callable, List, Optional, Union

from mmaction.datasets import VideoDataset
from mmaction.registry import DATASETS
from mmengine.logging import print_log
from mmengine.registry import FUNCTIONS

from .validate import validate_video_list

__all__ = [
    'RobustVideoDataset', 'TooManyBadSamplesError', 'robust_collate',
    'BAD_SAMPLES_KEY', 'is_bad_sample_marker', 'required_frames'
]

#: Key of the bad-sample records: in a data sample's metainfo, in a skipped
#: sample's marker dict and in a batch (after :func:`robust_collate`).
BAD_SAMPLES_KEY = 'bad_samples'
#: Metainfo key of an accepted short video.
SHORT_VIDEO_KEY = 'short_video'

#: Transforms that choose frame indices from ``total_frames``.
_SAMPLERS = ('SampleFrames', 'UniformSample', 'DenseSampleFrames',
             'UniformSampleFrames', 'SampleAVAFrames', 'OfficialDenseSample',
             'OfficialSparseSample')


class TooManyBadSamplesError(RuntimeError):
    """The data set is (mostly) broken; the message says why."""


class _ShortVideo(Exception):
    pass


def required_frames(transform, test_mode: bool) -> Optional[int]:
    """Frames a video needs for ``transform`` to sample a clip without
    repeating frames (None if unknown)."""
    name = type(transform).__name__
    clip_len = getattr(transform, 'clip_len', None)
    if not isinstance(clip_len, int) or clip_len < 1:
        return None
    interval = getattr(transform, 'frame_interval', 1) or 1
    if name in ('UniformSample', 'UniformSampleFrames',
                'OfficialSparseSample'):
        return clip_len
    if name == 'OfficialDenseSample':  # every clip spans the whole span
        return clip_len * interval
    if getattr(transform, 'target_fps', None):
        return None  # depends on the video's frame rate
    test = getattr(transform, 'test_mode', test_mode)
    if test:
        return (clip_len - 1) * interval + 1
    return clip_len * interval


def is_bad_sample_marker(item) -> bool:
    """What a skipped sample is replaced by: ``{BAD_SAMPLES_KEY: [...]}``."""
    return (isinstance(item, dict) and len(item) == 1
            and BAD_SAMPLES_KEY in item)


def _describe_error(path, err):
    """(kind, reason) of a failed load."""
    if path and not osp.exists(path):
        return 'missing', 'file not found'
    if path and osp.isfile(path) and osp.getsize(path) == 0:
        return 'empty', 'empty file (0 bytes)'
    text = ' '.join(str(err).split())[:200] or 'no details'
    reason = f'cannot load: {type(err).__name__}: {text}'
    if 'Error reading' in text or 'Invalid data' in text:
        reason += ' (truncated, corrupt or not a video)'
    return 'decode', reason


@DATASETS.register_module()
class RobustVideoDataset(VideoDataset):
    """mmaction2 ``VideoDataset`` that validates its list and survives bad
    videos.

    Args:
        ann_file (str): Annotation list (``<path> <label>`` lines).
        pipeline (list): Data transforms (as for ``VideoDataset``).
        on_bad (str): ``'replace'`` a bad sample by another one (random in
            training, the next one in test mode) or ``'skip'`` it (the batch
            is one smaller; needs ``BadSampleHook``). Defaults to
            ``'replace'``.
        accept_short (bool): Use videos shorter than the clip (reported, not
            replaced). Defaults to False.
        min_frames (int, optional): Frames a video must have; default: what
            the frame sampler of the pipeline needs (see
            :func:`required_frames`).
        max_bad_fraction (float): Stop (``TooManyBadSamplesError``) when more
            than this fraction of the videos is bad (missing at load time, or
            failing to load). Defaults to 0.25.
        max_consecutive_bad (int): Stop after this many failures in a row.
            Defaults to 10.
        on_missing (str): Videos of the list that do not exist when it is
            loaded: ``'skip'`` (drop them, warn), ``'error'`` (stop) or
            ``'keep'`` (keep them; they are replaced when loaded). Defaults
            to ``'skip'``.
        on_duplicate (str): Videos listed twice: ``'warn'``, ``'skip'`` or
            ``'error'``. Defaults to ``'warn'``.
        check_files (bool): Check at load time that the videos exist.
            Defaults to True.
        num_classes (int, optional): Labels must be in ``[0, num_classes)``.
        **kwargs: Everything else of ``VideoDataset``.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 on_bad: str = 'replace',
                 accept_short: bool = False,
                 min_frames: Optional[int] = None,
                 max_bad_fraction: float = 0.25,
                 max_consecutive_bad: int = 10,
                 on_missing: str = 'skip',
                 on_duplicate: str = 'warn',
                 check_files: bool = True,
                 **kwargs) -> None:
        if on_bad not in ('replace', 'skip'):
            raise ValueError(f"on_bad must be 'replace' or 'skip', got "
                             f'{on_bad!r}')
        if not 0 <= max_bad_fraction <= 1:
            raise ValueError('max_bad_fraction must be in [0, 1], got '
                             f'{max_bad_fraction}')
        if max_consecutive_bad < 1:
            raise ValueError('max_consecutive_bad must be >= 1, got '
                             f'{max_consecutive_bad}')
        self.on_bad = on_bad
        self.accept_short = accept_short
        self.min_frames = min_frames
        self.max_bad_fraction = max_bad_fraction
        self.max_consecutive_bad = max_consecutive_bad
        self.on_missing = on_missing
        self.on_duplicate = on_duplicate
        self.check_files = check_files
        self.load_report = None
        # statistics of this process (each data loader worker has its own)
        self._seen = set()
        self._bad = set()
        self._consecutive_bad = 0
        self._last_problems = []
        super().__init__(ann_file, pipeline, **kwargs)
        self._sampler_pos = self._find_sampler()

    # ------------------------------------------------------------ loading
    def load_data_list(self) -> List[dict]:
        prefix = self.data_prefix.get('video') if isinstance(
            self.data_prefix, dict) else None
        report = validate_video_list(
            self.ann_file,
            data_prefix=prefix or '',
            num_classes=self.num_classes,
            multi_class=self.multi_class,
            delimiter=self.delimiter,
            allow_unlabeled=self.test_mode,
            check_files=self.check_files,
            on_missing=self.on_missing,
            on_duplicate=self.on_duplicate,
            max_missing_fraction=self.max_bad_fraction)
        self.load_report = dict(
            ann_file=self.ann_file,
            videos=report.num_videos,
            used=len(report.entries),
            missing=[dict(line=n, path=p) for n, p in report.missing],
            duplicates=len(report.duplicates))
        return [
            dict(filename=e.path, label=e.label, ann_line=e.lineno)
            for e in report.entries
        ]

    def _find_sampler(self):
        for i, t in enumerate(getattr(self.pipeline, 'transforms', [])):
            if type(t).__name__ in _SAMPLERS or (
                    hasattr(t, 'clip_len') and hasattr(t, 'num_clips')):
                return i
        return None

    # ------------------------------------------------------------ samples
    def _run_pipeline(self, idx):
        """(data, None) or (None, problem dict)."""
        info = self.get_data_info(idx)
        path = info.get('filename')
        problem = dict(index=int(idx), path=path, line=info.get('ann_line'),
                       ann_file=osp.basename(str(self.ann_file)))
        short = None
        results = info
        try:
            transforms = getattr(self.pipeline, 'transforms', None)
            if transforms is None:  # a plain callable pipeline
                results = self.pipeline(results)
                transforms = []
            for i, t in enumerate(transforms):
                if i == self._sampler_pos and 'total_frames' in results:
                    short = self._check_length(t, results)
                results = t(results)
                if results is None:
                    problem.update(kind='error',
                                   reason=f'{type(t).__name__} returned None')
                    return None, problem
        except _ShortVideo as e:
            problem.update(kind='short', reason=str(e))
            return None, problem
        except MemoryError:
            raise
        except Exception as e:  # noqa: BLE001 - any failure of the sample
            kind, reason = _describe_error(path, e)
            problem.update(kind=kind, reason=reason)
            return None, problem
        if short is not None:
            problem.update(kind='short', reason=short)
            _attach(results, SHORT_VIDEO_KEY, problem)
        return results, None

    def _check_length(self, sampler, results):
        needed = self.min_frames or required_frames(sampler, self.test_mode)
        total = results['total_frames']
        if needed is None or total >= needed:
            return None
        reason = (f'short video: {total} frames, the clip needs {needed} '
                  f'({type(sampler).__name__})')
        if not self.accept_short:
            raise _ShortVideo(reason)
        self._log(f'{results.get("filename")}: {reason}; used anyway '
                  '(accept_short=True)')
        return reason

    def __getitem__(self, idx: int):
        if not self._fully_initialized:
            self.full_init()
        problems = []
        current = idx
        while True:
            self._seen.add(current)
            data, problem = self._run_pipeline(current)
            if problem is None:
                self._consecutive_bad = 0
                if self._bad:
                    self._check_fraction()
                if problems:
                    _attach(data, BAD_SAMPLES_KEY, problems)
                return data
            problems.append(problem)
            self._record_bad(problem)
            if self.on_bad == 'skip':
                return {BAD_SAMPLES_KEY: problems}
            current = self._replacement(current)

    def _record_bad(self, problem):
        self._bad.add(problem['index'])
        self._consecutive_bad += 1
        self._last_problems = (self._last_problems + [problem])[-5:]
        what = ('skipped' if self.on_bad == 'skip' else
                'replaced by another sample')
        self._log(f'bad sample {_where(problem)}: {problem["reason"]}; '
                  f'{what}', logging.WARNING)
        if self._consecutive_bad >= self.max_consecutive_bad:
            raise TooManyBadSamplesError(
                f'{self._consecutive_bad} samples in a row of {self.ann_file} '
                f'could not be used (max_consecutive_bad='
                f'{self.max_consecutive_bad}); last: '
                + '; '.join(f'{_where(p)}: {p["reason"]}'
                            for p in self._last_problems[-3:])
                + '. Is data_prefix right and is the data complete?')
        self._check_fraction()

    def _check_fraction(self):
        """Stop if more than max_bad_fraction of the videos this process has
        seen (once it has seen min(50, len(self))) are bad."""
        n_seen = len(self._seen)
        if n_seen >= min(50, len(self)) and \
                len(self._bad) / n_seen > self.max_bad_fraction:
            raise TooManyBadSamplesError(
                f'{len(self._bad)} of {n_seen} videos of {self.ann_file} '
                f'loaded so far are bad ({100. * len(self._bad) / n_seen:.0f}%'
                f' > max_bad_fraction={self.max_bad_fraction:g}); last: '
                + '; '.join(f'{_where(p)}: {p["reason"]}'
                            for p in self._last_problems[-3:]))

    def _replacement(self, idx):
        n = len(self)
        if len(self._bad) >= n:
            raise TooManyBadSamplesError(
                f'every video of {self.ann_file} failed to load; last: '
                f'{self._last_problems[-1]["reason"]}')
        if self.test_mode:  # deterministic: the next usable one
            nxt = (idx + 1) % n
            while nxt in self._bad:
                nxt = (nxt + 1) % n
            return nxt
        for _ in range(20):
            cand = random.randrange(n)
            if cand not in self._bad:
                return cand
        good = [i for i in range(n) if i not in self._bad]
        return random.choice(good)

    def _log(self, message, level=logging.INFO):
        print_log(f'{type(self).__name__}: {message}', logger='current',
                  level=level)


def _where(problem):
    line = problem.get('line')
    where = f' (line {line} of {problem.get("ann_file")})' if line else ''
    return f'{problem.get("path")}{where}'


def _attach(data, key, value):
    """Put ``value`` into the data sample's metainfo."""
    # Only data samples can carry it: a new key in some samples of a batch
    # but not in others would break the collate function. (The loader
    # process has logged it anyway.) A list is the clips of one video
    # (RepeatClips): the first carries it, so that it is counted once.
    if isinstance(data, (list, tuple)) and data:
        data = data[0]
    sample = data.get('data_samples') if isinstance(data, dict) else None
    if sample is not None and hasattr(sample, 'set_metainfo'):
        sample.set_metainfo({key: value})


@FUNCTIONS.register_module()
def robust_collate(data_batch, inner='pseudo_collate'):
    """Collate function that drops the markers of skipped samples.

    The records of the skipped samples are put into the batch under
    ``bad_samples`` (``BadSampleHook`` removes them before the model sees
    the batch); a batch of skipped samples only is ``{'bad_samples':
    [...]}``, which ``BadSampleHook`` does not pass to the model.

    Args:
        data_batch (list): Samples of the batch.
        inner (str | callable): The collate function of the rest; a name of
            mmengine's ``FUNCTIONS`` registry. Defaults to
            ``'pseudo_collate'``.
    """
    if isinstance(inner, str):
        inner = FUNCTIONS.get(inner)
    good, bad = [], []
    for item in data_batch:
        if is_bad_sample_marker(item):
            bad.extend(item[BAD_SAMPLES_KEY])
        else:
            good.append(item)
    batch = inner(good) if good else {}
    if bad:
        if not isinstance(batch, dict):
            raise TypeError('robust_collate needs a collate function that '
                            f'returns a dict, got {type(batch).__name__}')
        batch[BAD_SAMPLES_KEY] = bad
    return batch

