"""Video decoding that decodes only what the sampled frames need.

:class:`VideoInit` + :class:`VideoDecode` are drop-in replacements of
mmaction2's ``DecordInit`` + ``DecordDecode`` (same keys, same frames, bit
for bit), decoding with PyAV:

* ``VideoInit`` opens the video and reads its packets once (no decoding,
  about a millisecond for a Kinetics clip) to index it: frame ``i`` is the
  frame with the ``i``-th smallest presentation timestamp (what decord's
  frame ``i`` is), and the key frames are known.
* ``VideoDecode`` decodes the frames of ``results['frame_inds']`` only: it
  starts at the key frame before the first needed frame, decodes the packets
  of frames that are not needed with ``skip_frame='NONREF'`` (frames nothing
  else refers to are not decoded at all), jumps to the next needed frame's
  key frame when that lies ahead instead of decoding the gap, stops after
  the last needed frame and converts only the needed frames to RGB.

For sparse sampling (``UniformSample``: 8 frames spread over the video)
decord decodes every frame up to the last sampled one; this does less. On
a copy made by ``tools/data/prepare_videos.py`` (a key frame every 8
frames, B-frames that nothing refers to) the same rules -- restart at the
key frame before a needed frame when the decoder is behind it, skip what
is not referred to -- decode about 3 frames per sampled one (the key
frames are read from the packet index, not from any mark of the tool); on
the real Kinetics clip of the tests (key frames 187 frames apart) about 16
(``reader.decoded_frames`` counts them; docs/benchmarks.md).

The PyAV path is used for containers that store presentation timestamps
(MP4/MOV, Matroska/WebM) whose packets can be indexed (every packet has a
unique timestamp, none is flagged to be discarded, the first packet is a key
frame shown first). Anything else -- PyAV not installed, AVI (whose
timestamps are guessed by the demuxer and do not give decord's frame order
for packed B-frames), an odd stream -- is decoded by decord exactly as
``DecordInit`` + ``DecordDecode`` do (``fallback='decord'``; logged once per
reason and process). While decoding, the decoder's output is checked
against the index (timestamps known and increasing); a mismatch also falls
back to decord for that video.

Other backends (``VideoInit(backend=...)``): ``'decord'`` decodes with
decord exactly as ``DecordInit`` + ``DecordDecode`` do; ``'torchcodec'``
decodes with torchcodec's ``VideoDecoder`` (``seek_mode='exact'``: it scans
the file, frame ``i`` is the ``i``-th by timestamp, the same frames bit for
bit; it seeks to key frames but decodes every frame between a key frame and
a needed one). torchcodec needs FFmpeg 4-8 shared libraries on the library
path (``uniformer_mm.datasets.ffmpeg_libs`` can point it to the copy PyAV
ships); when it cannot be loaded, or for containers without stored
timestamps, ``fallback`` applies as for PyAV.

Broken videos raise :class:`VideoDecodeError` (a ``RuntimeError``) naming
the file: empty or not a video, truncated (the container promises more
frames than can be read, or a needed frame is not produced: the message
lists the missing indices), corrupt. A missing file raises
``FileNotFoundError``.
"""
import bisect
import io
import logging
import os
import os.path as osp
import threading
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

__all__ = ['VideoInit', 'VideoDecode', 'VideoDecodeError']

#: Demuxers (``container.format.name`` items) whose packets carry stored
#: presentation timestamps.
_PTS_FORMATS = frozenset({'mov', 'mp4', 'matroska', 'webm'})

_LOGGED = set()


class VideoDecodeError(RuntimeError):
    """A video cannot be read or decoded; the message names the file."""


class _NotIndexable(Exception):
    """The PyAV path cannot be used for this video (the message says why)."""


def _log_once(key, message, level=logging.INFO):
    if key in _LOGGED:
        return
    _LOGGED.add(key)
    print_log(message, logger='current', level=level)


def _import_av():
    """The ``av`` module, or None when PyAV is not installed."""
    try:
        import av
    except ImportError:
        return None
    return av


_LOCAL = threading.local()


def _rgb_reformatter(av):
    """One single-threaded PyAV ``VideoReformatter`` per thread and process:
    it keeps its swscale context between frames of the same size and
    format, whereas ``frame.to_ndarray(format='rgb24')`` builds a new one
    for every frame, with a pool of slice threads (``threads=0``: about
    twice the CPU time per frame). Same conversion, same pixels.

    Never shared across ``fork`` (the pid is checked): a context that
    another process made, with threads that do not exist here, would
    deadlock (what data loader workers forked after the main process
    decoded a video would run into)."""
    cached = getattr(_LOCAL, 'reformatter', None)
    if cached is None or cached[0] != os.getpid():
        cached = _LOCAL.reformatter = (
            os.getpid(), av.video.reformatter.VideoReformatter())
    return cached[1]


def _err_text(err):
    return f'{type(err).__name__}: {err}'


# ----------------------------------------------------------------- readers
def _checked_indices(frame_inds, total, filename):
    """``frame_inds`` as a flat int64 array, negative indices counted from
    the end (as decord does); IndexError naming the video if out of range."""
    inds = np.asarray(frame_inds, dtype=np.int64).reshape(-1)
    inds = np.where(inds < 0, inds + total, inds)
    bad = (inds < 0) | (inds >= total)
    if bad.any():
        raise IndexError(
            f'frame indices {np.asarray(frame_inds).reshape(-1)[bad]} out of '
            f'range for video {filename} ({total} frames)')
    return inds


class _DecordReader:
    """decord's ``VideoReader``, as ``DecordInit`` + ``DecordDecode`` use
    it."""

    backend = 'decord'

    def __init__(self, source, filename, num_threads):
        try:
            import decord
        except ImportError:
            raise ImportError(
                'Please run "pip install decord" (or "pip install av") to '
                'decode videos.')
        self.filename = filename
        try:
            self._vr = decord.VideoReader(source, num_threads=num_threads)
        except Exception as err:
            raise VideoDecodeError(
                f'cannot open video {filename}: {_err_text(err)}') from err
        self.total_frames = len(self._vr)
        self.avg_fps = self._vr.get_avg_fps()

    def get_frames(self, frame_inds):
        try:
            return list(self._vr.get_batch(frame_inds).asnumpy())
        except Exception as err:
            raise VideoDecodeError(
                f'cannot decode frames of video {self.filename}: '
                f'{_err_text(err)}') from err

    def close(self):
        self._vr = None


class _PyAVReader:
    """Packet index of one video stream and a decoder that decodes only the
    frames asked for (see the module docstring)."""

    backend = 'pyav'

    def __init__(self, av, source, filename, num_threads, fallback='decord'):
        self.filename = filename
        self._source = source  # a path or the file's bytes
        self._num_threads = num_threads
        self._fallback_backend = fallback
        self._rgb = _rgb_reformatter(av)
        #: frames the decoder produced for this reader (the sampled ones and
        #: the reference frames they need; skipped frames are not counted)
        self.decoded_frames = 0
        self._container = None
        self._packets = None
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        try:
            container = av.open(source, metadata_errors='ignore')
        except FileNotFoundError:
            raise
        except Exception as err:  # av.error.InvalidDataError, ...
            raise VideoDecodeError(
                f'cannot open video {filename}: {_err_text(err)}') from err
        self._container = container
        try:
            self._index(container)
        except BaseException:
            container.close()
            self._container = None
            raise

    # ----------------------------------------------------------- index
    def _index(self, container):
        filename = self.filename
        demuxers = set(container.format.name.split(','))
        if not demuxers & _PTS_FORMATS:
            raise _NotIndexable(
                f'container format {container.format.name!r} has no stored '
                'frame timestamps')
        if not container.streams.video:
            raise VideoDecodeError(f'no video stream in {filename}')
        stream = container.streams.best('video')
        if stream is None:
            raise VideoDecodeError(f'no video stream in {filename}')
        self._stream = stream
        if self._num_threads == 1:  # (before the decoder is opened)
            stream.thread_type = 'NONE'
            stream.codec_context.thread_count = 1
        else:
            stream.thread_type = 'FRAME'
            # 0: FFmpeg's choice
            stream.codec_context.thread_count = self._num_threads
        packets = []
        try:
            for packet in container.demux(stream):
                if packet.size == 0:  # the demuxer's end-of-stream packet
                    continue
                if packet.pts is None:
                    raise _NotIndexable('a packet without timestamp')
                if packet.is_discard:
                    raise _NotIndexable('packets flagged to be discarded '
                                        '(edit list)')
                packets.append(packet)
        except _NotIndexable:
            raise
        except Exception as err:
            raise VideoDecodeError(
                f'Error reading video {filename}: {_err_text(err)}') from err
        if not packets:
            raise VideoDecodeError(
                f'Invalid data in video {filename}: no video frames')
        declared = stream.frames
        if declared and len(packets) < declared:
            raise VideoDecodeError(
                f'Invalid data in video {filename}: truncated (the container '
                f'lists {declared} frames, {len(packets)} can be read)')
        pts = np.fromiter((p.pts for p in packets), np.int64, len(packets))
        order = np.argsort(pts, kind='stable')  # frame index -> position
        sorted_pts = pts[order]
        if len(packets) > 1 and (np.diff(sorted_pts) == 0).any():
            raise _NotIndexable('duplicate packet timestamps')
        if not packets[0].is_keyframe or pts[0] != sorted_pts[0]:
            raise _NotIndexable('the stream does not start with a key frame '
                                'shown first')
        self._packets = packets
        self._pts = pts  # by decoding position
        self._pos = order  # decoding position of frame i
        frame_at = np.empty_like(order)
        frame_at[order] = np.arange(len(order))
        self._frame_at = frame_at.tolist()  # frame index at a position
        self._frame_of_pts = {int(p): i for i, p in enumerate(sorted_pts)}
        self._key_pos = [i for i, p in enumerate(packets) if p.is_keyframe]
        self._key_pts = [int(pts[i]) for i in self._key_pos]
        self.total_frames = len(packets)
        rate = stream.average_rate or stream.guessed_rate
        self.avg_fps = float(rate) if rate else 0.0

    def _start_position(self, frame):
        """Decoding position of the key frame to start from for ``frame``:
        the last one before it in decoding order that is not shown after it
        (so that leading frames of an open GOP start one GOP earlier)."""
        pos = int(self._pos[frame])
        pts = int(self._pts[pos])
        j = bisect.bisect_right(self._key_pos, pos) - 1
        while j > 0 and self._key_pts[j] > pts:
            j -= 1
        return self._key_pos[j]

    # ---------------------------------------------------------- decode
    def get_frames(self, frame_inds):
        inds = _checked_indices(frame_inds, self.total_frames, self.filename)
        n = self.total_frames
        if len(inds) == 0:
            return []
        try:
            decoded = self._decode(sorted(set(inds.tolist())))
        except _NotIndexable as err:
            return self._fallback(inds, str(err))
        missing = sorted(set(inds.tolist()) - set(decoded))
        if missing:
            raise VideoDecodeError(
                f'Invalid data in video {self.filename}: the decoder produced '
                f'no frame for indices {missing} (of {n} frames; truncated or '
                'corrupt stream)')
        first = decoded[int(inds[0])]
        batch = np.empty((len(inds), ) + first.shape, first.dtype)
        for k, i in enumerate(inds.tolist()):
            frame = decoded[i]
            if frame.shape != first.shape:
                raise VideoDecodeError(
                    f'frames of different sizes in video {self.filename}: '
                    f'{first.shape} and {frame.shape}')
            batch[k] = frame
        return list(batch)

    def _decode(self, needed):
        """{frame index: RGB array} for the sorted unique ``needed``."""
        ctx = self._stream.codec_context
        packets, pts_at = self._packets, self._pts
        frame_of_pts, frame_at = self._frame_of_pts, self._frame_at
        wanted = set(needed)
        got = {}
        # last output timestamp since the (re)start; frames before the
        # current target are done (decoded, or missing)
        state = dict(last=None, target=0)

        def take(frames):
            for frame in frames:
                if frame.pts is None:
                    raise _NotIndexable('a decoded frame without timestamp')
                if state['last'] is not None and frame.pts <= state['last']:
                    raise _NotIndexable('decoded frames out of timestamp '
                                        'order')
                state['last'] = frame.pts
                self.decoded_frames += 1
                i = frame_of_pts.get(frame.pts)
                if i is None:
                    raise _NotIndexable('a decoded frame with a timestamp '
                                        'that no packet has')
                if i >= state['target'] and i in wanted and i not in got:
                    got[i] = self._rgb.reformat(
                        frame, format='rgb24', threads=1).to_ndarray()

        skip = None
        next_pos = None  # decoding position of the next packet to send
        at_end = False
        try:
            for target in needed:
                if target in got:
                    continue
                if at_end:
                    break
                start = self._start_position(target)
                if next_pos is None or start > next_pos:
                    # (re)start at the key frame instead of decoding the gap
                    if next_pos is not None:
                        ctx.flush_buffers()
                    next_pos = start
                    state['last'] = None
                state['target'] = target
                target_pts = int(pts_at[self._pos[target]])
                while target not in got:
                    if state['last'] is not None and \
                            state['last'] > target_pts:
                        # passed without being produced (not at the end)
                        raise _NotIndexable(
                            f'frame {target} was not produced in timestamp '
                            'order')
                    if next_pos >= len(packets):
                        if skip != 'DEFAULT':
                            ctx.skip_frame = skip = 'DEFAULT'
                        take(ctx.decode(None))  # drain the decoder
                        at_end = True
                        break
                    packet = packets[next_pos]
                    i = frame_at[next_pos]
                    next_pos += 1
                    mode = 'DEFAULT' if (i in wanted
                                         and i not in got) else 'NONREF'
                    if mode != skip:
                        ctx.skip_frame = skip = mode
                    take(ctx.decode(packet))
        except _NotIndexable:
            raise
        except Exception as err:
            raise VideoDecodeError(
                f'cannot decode video {self.filename}: {_err_text(err)}'
            ) from err
        return got

    def _fallback(self, inds, reason):
        if self._fallback_backend is None:
            self.close()
            raise VideoDecodeError(
                f'cannot decode video {self.filename} with PyAV: {reason} '
                '(fallback=None)')
        _log_once(('decode', reason),
                  f'VideoDecode: {reason} in {self.filename}; decoding such '
                  'videos with decord (logged once)', logging.WARNING)
        self.close()
        source = self._source
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        reader = _DecordReader(source, self.filename, self._num_threads)
        try:
            return reader.get_frames(inds)
        finally:
            reader.close()

    def close(self):
        if self._container is not None:
            self._container.close()
            self._container = None
        self._packets = None


#: file name extensions of the containers that store frame timestamps
#: (what the torchcodec backend decodes; others go to the fallback)
_TIMESTAMPED_EXTENSIONS = ('.mp4', '.m4v', '.mov', '.mkv', '.webm')

_TORCHCODEC = {}


def _import_torchcodec():
    """``(VideoDecoder, None)``, or ``(None, reason)`` when torchcodec is
    not installed or cannot load its FFmpeg libraries (cached)."""
    if 'result' not in _TORCHCODEC:
        try:
            from torchcodec.decoders import VideoDecoder
        except ImportError:
            result = None, 'torchcodec is not installed'
        except (RuntimeError, OSError) as err:
            first = str(err).strip().splitlines()[0] if str(err) else ''
            result = None, (
                'torchcodec cannot load its FFmpeg libraries ('
                f'{first.rstrip(".")}; it needs FFmpeg 4-8 shared libraries '
                'on the library path, e.g. LD_LIBRARY_PATH from '
                'uniformer_mm.datasets.ffmpeg_libs.pyav_ffmpeg_env)')
        else:
            result = VideoDecoder, None
        _TORCHCODEC['result'] = result
    return _TORCHCODEC['result']


class _TorchCodecReader:
    """torchcodec's ``VideoDecoder`` in exact seek mode: the file is scanned
    once, frame ``i`` is the ``i``-th frame by timestamp (decord's frame
    ``i``); ``get_frames_at`` seeks to the key frame before a needed frame
    when that is ahead of the decoder."""

    backend = 'torchcodec'

    def __init__(self, decoder_cls, source, filename, num_threads):
        self.filename = filename
        try:
            self._decoder = decoder_cls(
                source, seek_mode='exact', num_ffmpeg_threads=num_threads,
                dimension_order='NHWC')
            meta = self._decoder.metadata
        except Exception as err:
            raise VideoDecodeError(
                f'cannot open video {filename}: {_err_text(err)}') from err
        content, header = meta.num_frames_from_content, \
            meta.num_frames_from_header
        if not content:
            raise VideoDecodeError(
                f'Invalid data in video {filename}: no video frames')
        if header and content < header:
            raise VideoDecodeError(
                f'Invalid data in video {filename}: truncated (the container '
                f'lists {header} frames, {content} can be read)')
        self.total_frames = int(content)
        fps = meta.average_fps_from_header or meta.average_fps
        self.avg_fps = float(fps) if fps else 0.0

    def get_frames(self, frame_inds):
        inds = _checked_indices(frame_inds, self.total_frames, self.filename)
        if len(inds) == 0:
            return []
        try:
            batch = self._decoder.get_frames_at(inds.tolist()).data.numpy()
        except Exception as err:
            raise VideoDecodeError(
                f'cannot decode frames of video {self.filename}: '
                f'{_err_text(err)}') from err
        return list(batch)

    def close(self):
        self._decoder = None


# -------------------------------------------------------------- transforms
class VideoInit(BaseTransform):
    """Open a video and index it for :class:`VideoDecode` (replaces
    mmaction2's ``DecordInit``).

    Required Keys:

        - filename

    Added Keys:

        - video_reader
        - total_frames
        - avg_fps

    Args:
        io_backend (str): File backend (mmengine ``fileio``). Local files
            (``'disk'``) are opened directly, others are read into memory.
            Defaults to ``'disk'``.
        num_threads (int): Decoder threads; more than 1 uses frame threading
            (0: FFmpeg's choice). Defaults to 1.
        backend (str): ``'pyav'`` (decode only what is needed, falling back
            as ``fallback`` says), ``'torchcodec'`` (torchcodec's exact
            mode; same frames) or ``'decord'`` (always decord, as
            ``DecordInit`` + ``DecordDecode``). All give decord's frames.
            Defaults to ``'pyav'``.
        fallback (str | None): What to do when PyAV (torchcodec) is not
            installed or cannot be loaded, cannot index a video, or the
            decoder's output does not fit the index: ``'decord'`` decodes the
            video with decord; ``None`` raises :class:`VideoDecodeError`.
            Defaults to ``'decord'``.
        **kwargs: Further arguments of the file backend.
    """

    BACKENDS = ('pyav', 'torchcodec', 'decord')

    def __init__(self,
                 io_backend: str = 'disk',
                 num_threads: int = 1,
                 backend: str = 'pyav',
                 fallback: Optional[str] = 'decord',
                 **kwargs) -> None:
        if backend not in self.BACKENDS:
            raise ValueError(f'backend must be one of {self.BACKENDS}, got '
                             f'{backend!r}')
        if fallback not in ('decord', None):
            raise ValueError(f"fallback must be 'decord' or None, got "
                             f'{fallback!r}')
        if num_threads < 0:
            raise ValueError(f'num_threads must be >= 0, got {num_threads}')
        self.io_backend = io_backend
        self.num_threads = num_threads
        self.backend = backend
        self.fallback = fallback
        self.kwargs = kwargs

    def _source(self, filename):
        """A local path, or the file's bytes (other backends)."""
        if self.io_backend == 'disk' and not self.kwargs:
            if not osp.isfile(filename):
                raise FileNotFoundError(f'video file not found: {filename}')
            return filename
        from mmengine.fileio import get
        backend = 'local' if self.io_backend == 'disk' else self.io_backend
        return get(filename, backend_args=dict(backend=backend, **self.kwargs))

    def _decord(self, source, filename):
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        return _DecordReader(source, filename, self.num_threads)

    def _open(self, filename):
        source = self._source(filename)
        if self.backend == 'decord':
            _log_once(('init', 'decord'),
                      'VideoInit: decoding videos with decord (backend='
                      "'decord')")
            return self._decord(source, filename)
        if self.backend == 'torchcodec':
            return self._open_torchcodec(source, filename)
        av = _import_av()
        if av is None:
            reason = 'PyAV is not installed'
        else:
            try:
                reader = _PyAVReader(av, source, filename, self.num_threads,
                                     self.fallback)
            except _NotIndexable as err:
                reason = f'PyAV cannot index the video: {err}'
                key = str(err)
            else:
                _log_once(('init', 'pyav'),
                          f'VideoInit: decoding videos with PyAV '
                          f'{av.__version__} (only the frames needed)')
                return reader
        if self.fallback is None:
            raise VideoDecodeError(
                f'cannot decode video {filename}: {reason} (fallback=None)')
        _log_once(('init', 'fallback', 'no av' if av is None else key),
                  f'VideoInit: {reason} ({filename}); decoding such videos '
                  'with decord (logged once)')
        return self._decord(source, filename)

    def _open_torchcodec(self, source, filename):
        decoder_cls, reason = _import_torchcodec()
        key = reason
        if decoder_cls is not None:
            ext = osp.splitext(filename)[1].lower()
            if ext in _TIMESTAMPED_EXTENSIONS:
                reader = _TorchCodecReader(decoder_cls, source, filename,
                                           self.num_threads)
                _log_once(('init', 'torchcodec'),
                          'VideoInit: decoding videos with torchcodec '
                          "(backend='torchcodec', exact seek mode)")
                return reader
            reason = (f'torchcodec backend: {ext or "no extension"} is not a '
                      'container with stored frame timestamps')
            key = ext
        if self.fallback is None:
            raise VideoDecodeError(
                f'cannot decode video {filename}: {reason} (fallback=None)')
        _log_once(('init', 'torchcodec fallback', key),
                  f'VideoInit: {reason} ({filename}); decoding such videos '
                  'with decord (logged once)')
        return self._decord(source, filename)

    def transform(self, results: Dict) -> Dict:
        filename = results['filename']
        if osp.splitext(filename)[0] == filename:  # as DecordInit does
            filename = filename + '.mp4'
        reader = self._open(filename)
        results['total_frames'] = reader.total_frames
        results['video_reader'] = reader
        results['avg_fps'] = reader.avg_fps
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(io_backend={self.io_backend}, '
                f'num_threads={self.num_threads}, backend={self.backend}, '
                f'fallback={self.fallback})')


class VideoDecode(BaseTransform):
    """Decode the frames ``results['frame_inds']`` of the video opened by
    :class:`VideoInit` (replaces mmaction2's ``DecordDecode``, mode
    ``'accurate'``: same frames, same keys).

    Required Keys:

        - video_reader
        - frame_inds

    Added Keys:

        - imgs (list of ``(H, W, 3)`` uint8 RGB arrays, in the order of
          ``frame_inds``; views of one ``(T, H, W, 3)`` array)
        - original_shape
        - img_shape

    ``video_reader`` is closed and set to None. A ``video_reader`` made by
    ``DecordInit`` is decoded as ``DecordDecode`` does.
    """

    def transform(self, results: Dict) -> Dict:
        reader = results['video_reader']
        if results['frame_inds'].ndim != 1:
            results['frame_inds'] = np.squeeze(results['frame_inds'])
        frame_inds = results['frame_inds']
        try:
            if hasattr(reader, 'get_frames'):
                imgs = reader.get_frames(frame_inds)
            else:  # decord's VideoReader (DecordInit)
                imgs = list(reader.get_batch(frame_inds).asnumpy())
        finally:
            if hasattr(reader, 'close'):
                reader.close()
            results['video_reader'] = None
        del reader

        results['imgs'] = imgs
        results['original_shape'] = imgs[0].shape[:2]
        results['img_shape'] = imgs[0].shape[:2]

        # as DecordDecode: scale normalised boxes to pixels
        if 'gt_bboxes' in results:
            h, w = results['img_shape']
            scale_factor = np.array([w, h, w, h])
            gt_bboxes = results['gt_bboxes']
            gt_bboxes = (gt_bboxes * scale_factor).astype(np.float32)
            results['gt_bboxes'] = gt_bboxes
            if 'proposals' in results and results['proposals'] is not None:
                proposals = results['proposals']
                proposals = (proposals * scale_factor).astype(np.float32)
                results['proposals'] = proposals
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'
