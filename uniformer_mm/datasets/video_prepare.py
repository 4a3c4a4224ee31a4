"""Training-ready copies of video data sets (``tools/data/prepare_videos.py``).

Raw Kinetics downloads are 720p/1080p H.264 with key frames every few
seconds: a training pipeline that needs 8 frames of a clip decodes most of
its frames, at full resolution, to get them. :func:`prepare_dataset` writes
a copy of a data set that is cheap to read:

* **short side** ``short_side`` (what the training pipeline resizes to; the
  long side keeps the aspect ratio, rounded to even as H.264 4:2:0 needs;
  never upscaled unless asked), scaled with FFmpeg's area filter;
* **frame rate**: the original frames one to one (frame ``i`` of the copy is
  frame ``i`` of the original, what ``VideoInit`` / decord call frame
  ``i``), or a new rate ``fps`` (output frame ``k`` is the last source
  frame shown at ``k / fps``);
* **random access** (H.264, libx264): a key frame every ``gop`` frames
  (fixed, no scene-cut key frames, closed GOPs), ``bframes`` B-frames that
  no other frame refers to (``b-pyramid=none``: ``VideoDecode`` skips the
  ones it does not need), ``tune=fastdecode`` (CAVLC, no deblocking filter:
  about half the decoding time); quality ``crf`` (see below); video stream
  only (no audio), index in front (``faststart``);
* optionally **JPEG frame folders** (``img_00001.jpg`` ..., mmaction2's
  ``RawframeDataset`` layout) of the same frames.

Quality: PSNR of the copy against the originals' frames scaled to the same
size (RGB, whole clip), libx264 of PyAV 18.1 (file sizes for 10 s):

==========================================  ================  ===============
clip, copy size                             CRF 12 (default)  CRF 14
==========================================  ================  ===============
real Kinetics clip, 340x256 (its own size)  42.9 dB, 1.9 MB   41.8 dB, 1.6 MB
real Kinetics clip, 170x128                 40.0 dB, 0.7 MB   38.7 dB, 0.6 MB
``tests/data/videos/test.mp4``, 340x256     41.3 dB, 3.5 MB   40.2 dB, 2.8 MB
``tests/data/videos/test.mp4``, 170x128     39.3 dB, 1.3 MB   38.0 dB, 1.0 MB
==========================================  ================  ===============

Content is denser after downscaling, so the same CRF loses more there; a
higher CRF makes smaller files that decode a little faster (CRF 14: about
10 % less decoding CPU time than 12 on the Kinetics clip). The JPEG frames
(quality 95) of the Kinetics clip are at 42.1 dB.

Every output is written under a temporary name (``.<name>.partial-<pid>``)
next to its final place, verified -- a video must be indexed by
``VideoInit`` on its exact PyAV path and decode (``VideoDecode``, every
frame) to the expected number of frames; a frame folder must hold exactly
that many readable JPEGs -- and only then renamed into place. A manifest
(``.prepare_videos.jsonl`` in the output root, one JSON line per verified
input, appended with a single ``write`` + ``fsync``) makes a run resumable:
after an interruption (SIGTERM/SIGINT: workers delete their temporary
files; SIGKILL: the next run deletes them) the same command skips what the
manifest lists as verified (same settings, same source size and mtime,
outputs present) and redoes the rest. The originals are only read.

Inputs that fail (missing, not a video, truncated, undecodable) are listed
with the reason in ``<list>.failed.txt`` and left out of the new annotation
lists; they do not stop the run.
"""
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import os.path as osp
import re
import shutil
import signal
import sys
import time
from fractions import Fraction
from typing import (Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple)

import numpy as np

__all__ = [
    'PrepareSettings', 'PrepareError', 'output_size', 'transcode',
    'prepare_one', 'prepare_dataset', 'read_manifest', 'partial_files',
    'MANIFEST', 'FRAME_TEMPLATE'
]

#: manifest of verified outputs, in the output root
MANIFEST = '.prepare_videos.jsonl'
LOCK = '.prepare_videos.lock'
#: frame file names (mmaction2's RawFrameDecode default, start index 1)
FRAME_TEMPLATE = 'img_{:05d}.jpg'
_PARTIAL = re.compile(r'^\..+\.partial-\d+$')


class PrepareError(RuntimeError):
    """One input cannot be prepared; the message is the reason."""


class _Terminated(SystemExit):
    """SIGTERM in a worker: unwind (removing temporary files) and exit
    quietly (multiprocessing prints no traceback for SystemExit)."""


@dataclasses.dataclass(frozen=True)
class PrepareSettings:
    """What the prepared copy looks like (see the module docstring).

    Args:
        short_side: short side in pixels (even sizes; 256 for the 224 px
            recipes, 384 for the 336 px ones). None keeps the size.
        fps: output frame rate; None keeps every frame (one to one).
        gop: key frame interval in frames (1: every frame a key frame).
        bframes: B-frames between reference frames (none referenced).
        crf: libx264 constant rate factor (lower = better, larger).
        preset: libx264 preset (speed of the encoder, not the decoder).
        tune: libx264 tune; ``'fastdecode'`` or None.
        upscale: also scale videos whose short side is below
            ``short_side`` up (default: keep them).
        video: write the H.264 copy.
        frames: write JPEG frame folders.
        jpeg_quality: JPEG quality of the frames (OpenCV, 0-100).
        threads: encoder/decoder threads per worker process.
    """
    short_side: Optional[int] = 256
    fps: Optional[str] = None
    gop: int = 8
    bframes: int = 3
    crf: float = 12
    preset: str = 'veryfast'
    tune: Optional[str] = 'fastdecode'
    upscale: bool = False
    video: bool = True
    frames: bool = False
    jpeg_quality: int = 95
    threads: int = 1

    def __post_init__(self):
        if not (self.video or self.frames):
            raise ValueError('nothing to write: video and frames are both '
                             'off')
        if self.short_side is not None and self.short_side < 2:
            raise ValueError(f'short_side must be >= 2, got {self.short_side}')
        if self.gop < 1:
            raise ValueError(f'gop must be >= 1, got {self.gop}')
        if self.bframes < 0:
            raise ValueError(f'bframes must be >= 0, got {self.bframes}')
        if self.fps is not None and Fraction(str(self.fps)) <= 0:
            raise ValueError(f'fps must be > 0, got {self.fps}')

    def digest(self) -> str:
        """Short hash of the settings that change the outputs."""
        fields = dataclasses.asdict(self)
        fields.pop('threads')
        if not self.video:
            for key in ('gop', 'bframes', 'crf', 'preset', 'tune'):
                fields.pop(key)
        if not self.frames:
            fields.pop('jpeg_quality')
        text = json.dumps(fields, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def x264_options(self) -> Dict[str, str]:
        """libx264 options of the copy."""
        params = [f'keyint={self.gop}', f'min-keyint={self.gop}',
                  'scenecut=0', 'open-gop=0', f'bframes={self.bframes}']
        if self.bframes:
            params.append('b-pyramid=none')  # B-frames never references
        opts = {'crf': str(self.crf), 'preset': self.preset,
                'x264-params': ':'.join(params)}
        if self.tune:
            opts['tune'] = self.tune
        return opts


# --------------------------------------------------------------------------
# one video
# --------------------------------------------------------------------------
def output_size(width: int, height: int, short_side: Optional[int],
                upscale: bool = False) -> Tuple[int, int]:
    """``(w, h)`` with the short side ``short_side``, the aspect ratio kept
    (mmaction2's ``Resize(scale=(-1, s))`` rounding), both even."""

    def even(v):
        return max(2, 2 * int(v / 2 + 0.5))

    if short_side is None or (min(width, height) <= short_side
                              and not upscale):
        return even(width), even(height)
    scale = short_side / min(width, height)
    if width <= height:
        return even(short_side), even(int(height * scale + 0.5))
    return even(int(width * scale + 0.5)), even(short_side)


def _open_input(av, src: str, threads: int):
    try:
        container = av.open(src, metadata_errors='ignore')
    except FileNotFoundError:
        raise PrepareError('file not found')
    except Exception as err:
        raise PrepareError(f'cannot open: {type(err).__name__}: {err}')
    if not container.streams.video:
        container.close()
        raise PrepareError('no video stream')
    stream = container.streams.best('video')
    if threads == 1:
        stream.thread_type = 'NONE'
        stream.codec_context.thread_count = 1
    else:
        stream.thread_type = 'FRAME'
        stream.codec_context.thread_count = threads
    return container, stream


def _frames_at_rate(frames, stream, fps: Optional[Fraction]):
    """Yield the source frames to write: all of them (``fps`` None) or, for
    output frame ``k``, the last source frame shown at ``k / fps``."""
    if fps is None:
        yield from frames
        return
    tb = stream.time_base
    rate = stream.average_rate or stream.guessed_rate or Fraction(30)
    first = None
    prev = prev_t = None
    k = 0
    for j, frame in enumerate(frames):
        if frame.pts is None or tb is None:
            t = Fraction(j) / Fraction(rate)
        else:
            if first is None:
                first = frame.pts
            t = Fraction(frame.pts - first) * tb
        while prev is not None and Fraction(k) / fps < t:
            yield prev
            k += 1
        prev, prev_t = frame, t
    while prev is not None and Fraction(k) / fps <= prev_t:
        yield prev
        k += 1


def _decoded(container, stream, src_label):
    """Decoded frames of ``stream``; decoder errors become PrepareError."""
    try:
        for frame in container.decode(stream):
            yield frame
    except (_Terminated, KeyboardInterrupt):
        raise
    except Exception as err:
        raise PrepareError(f'decoding failed ({src_label}): '
                           f'{type(err).__name__}: {err}')


def _partial_name(final: str) -> str:
    return osp.join(osp.dirname(final),
                    f'.{osp.basename(final)}.partial-{os.getpid()}')


def _remove(path: Optional[str]) -> None:
    if not path:
        return
    if osp.isdir(path) and not osp.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif osp.lexists(path):
        with contextlib.suppress(OSError):
            os.remove(path)


def transcode(src: str, settings: PrepareSettings,
              video_path: Optional[str] = None,
              frames_dir: Optional[str] = None,
              x264_options: Optional[Dict[str, str]] = None,
              size: Optional[Tuple[int, int]] = None) -> Dict:
    """Decode ``src`` once and write the copy (``video_path``, an H.264 MP4)
    and/or the JPEG frames (into the existing folder ``frames_dir``) as
    ``settings`` say, without verification or renaming (see
    :func:`prepare_one`). ``x264_options`` replaces the random-access
    options and ``size`` (w, h) the short-side rule (e.g. the benchmark's
    1280x720 long-GOP "raw download").

    Returns:
        dict: ``frames`` written, ``width``, ``height``, ``source_frames``.
    """
    import av
    import cv2
    from av.video.frame import PictureType
    from av.video.reformatter import Interpolation, VideoReformatter

    container, stream = _open_input(av, src, settings.threads)
    out = None
    try:
        src_w, src_h = stream.codec_context.width, stream.codec_context.height
        if not src_w or not src_h:
            raise PrepareError('video stream without a frame size')
        width, height = size or output_size(
            src_w, src_h, settings.short_side, settings.upscale)
        interp = Interpolation.AREA if width * height < src_w * src_h else \
            Interpolation.BICUBIC
        fps = Fraction(str(settings.fps)) if settings.fps else None
        rate = fps or stream.average_rate or stream.guessed_rate
        if not rate:
            raise PrepareError('unknown frame rate; give --fps')
        rate = Fraction(rate).limit_denominator(1000000)
        if video_path:
            out = av.open(video_path, 'w', format='mp4',
                          options={'movflags': '+faststart'})
            ostream = out.add_stream('libx264', rate=rate)
            ostream.width, ostream.height = width, height
            ostream.pix_fmt = 'yuv420p'
            ostream.codec_context.thread_count = settings.threads
            ostream.options = dict(x264_options or settings.x264_options())
        scaler, rgb = VideoReformatter(), VideoReformatter()
        jpeg = [int(cv2.IMWRITE_JPEG_QUALITY), int(settings.jpeg_quality)]
        decoded = [0]

        def counted(frames):
            for frame in frames:
                decoded[0] += 1
                yield frame

        written = 0
        last = scaled = None
        frames = _frames_at_rate(
            counted(_decoded(container, stream, src)), stream, fps)
        for frame in frames:
            if frame is not last:  # (a frame repeated for a higher rate)
                scaled = scaler.reformat(frame, width, height, 'yuv420p',
                                         interpolation=interp, threads=1)
                last = frame
            if out is not None:
                scaled.pts = written
                scaled.time_base = 1 / rate
                # the source's I-frames would force key frames (libx264
                # honours the picture type): the copy has its own GOPs
                scaled.pict_type = PictureType.NONE
                for packet in ostream.encode(scaled):
                    out.mux(packet)
            if frames_dir:
                img = rgb.reformat(scaled, format='rgb24',
                                   threads=1).to_ndarray()
                name = osp.join(frames_dir, FRAME_TEMPLATE.format(written + 1))
                if not cv2.imwrite(name, img[..., ::-1], jpeg):
                    raise PrepareError(f'cannot write {name}')
            written += 1
        if out is not None:
            for packet in ostream.encode(None):
                out.mux(packet)
            out.close()
            out = None
        if not written:
            raise PrepareError('no frame could be decoded')
        declared = stream.frames
        if declared and decoded[0] != declared:
            raise PrepareError(
                f'truncated or corrupt: {decoded[0]} of the {declared} frames '
                'the container lists could be decoded')
        return dict(frames=written, width=width, height=height,
                    source_frames=decoded[0])
    finally:
        if out is not None:
            with contextlib.suppress(Exception):
                out.close()
        container.close()


def verify_video(path: str, expected: int) -> None:
    """``VideoInit`` indexes ``path`` on its PyAV path (no fallback) and
    ``VideoDecode`` decodes all ``expected`` frames."""
    from .transforms.video_decode import VideoDecode, VideoInit
    try:
        results = VideoInit(fallback=None)(dict(filename=path))
        total = results['total_frames']
        if total != expected:
            results['video_reader'].close()
            raise PrepareError(f'verification: the copy has {total} frames, '
                               f'{expected} expected')
        results['frame_inds'] = np.arange(total)
        imgs = VideoDecode()(results)['imgs']
    except PrepareError:
        raise
    except Exception as err:
        raise PrepareError(f'verification: the copy does not decode: '
                           f'{type(err).__name__}: {err}')
    if len(imgs) != expected:
        raise PrepareError(f'verification: {len(imgs)} frames decoded, '
                           f'{expected} expected')


def verify_frames(folder: str, expected: int, size: Tuple[int, int]) -> None:
    """``folder`` holds exactly ``img_00001.jpg`` .. the ``expected``-th, the
    first and last readable at ``size`` (w, h)."""
    import cv2
    names = sorted(n for n in os.listdir(folder) if n.endswith('.jpg'))
    want = [FRAME_TEMPLATE.format(i + 1) for i in range(expected)]
    if names != want:
        raise PrepareError(f'verification: {len(names)} frame files, '
                           f'{expected} expected')
    for name in (want[0], want[-1]):
        img = cv2.imread(osp.join(folder, name))
        if img is None or (img.shape[1], img.shape[0]) != tuple(size):
            raise PrepareError(f'verification: {name} is not a readable '
                               f'{size[0]}x{size[1]} JPEG')


@contextlib.contextmanager
def _signals_deferred():
    """SIGTERM / SIGINT wait until the block is done (renaming outputs and
    recording them must not be split by a signal)."""
    sigs = {signal.SIGTERM, signal.SIGINT}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def prepare_one(src: str, settings: PrepareSettings,
                video_path: Optional[str] = None,
                frames_dir: Optional[str] = None,
                commit: Optional[Callable[[Dict], None]] = None) -> Dict:
    """Prepare one video: transcode into temporary names, verify, rename
    into place and call ``commit(info)`` (the manifest record), the last
    two with SIGTERM/SIGINT deferred. Raises :class:`PrepareError` (the
    reason) when the input cannot be prepared; temporary files never stay
    behind (unless the process is killed: :func:`partial_files` finds
    them)."""
    tmp_video = _partial_name(video_path) if video_path else None
    tmp_frames = _partial_name(frames_dir) if frames_dir else None
    try:
        for final in (video_path, frames_dir):
            if final:
                os.makedirs(osp.dirname(final) or '.', exist_ok=True)
        if tmp_frames:
            _remove(tmp_frames)
            os.makedirs(tmp_frames)
        info = transcode(src, settings, tmp_video, tmp_frames)
        if tmp_video:
            verify_video(tmp_video, info['frames'])
            info['video_bytes'] = osp.getsize(tmp_video)
        if tmp_frames:
            verify_frames(tmp_frames, info['frames'],
                          (info['width'], info['height']))
        if tmp_frames:
            _remove(frames_dir)  # an unverified leftover of an earlier run
        with _signals_deferred():
            if tmp_video:
                os.replace(tmp_video, video_path)
                tmp_video = None
            if tmp_frames:
                os.rename(tmp_frames, frames_dir)
                tmp_frames = None
            if commit is not None:
                commit(info)
        return info
    finally:
        _remove(tmp_video)
        _remove(tmp_frames)


def partial_files(folders: Iterable[str]) -> List[str]:
    """Temporary outputs (``.<name>.partial-<pid>``) in ``folders``."""
    found = []
    for folder in sorted(set(folders)):
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            found += [osp.join(folder, n) for n in os.listdir(folder)
                      if _PARTIAL.match(n)]
    return found


# --------------------------------------------------------------------------
# a data set
# --------------------------------------------------------------------------
@dataclasses.dataclass
class _Task:
    src_rel: str
    src: str
    video_rel: Optional[str]
    frames_rel: Optional[str]


def read_list(path: str) -> List[Tuple[str, str]]:
    """``[(video path, rest of the line)]`` of an mmaction2 video list
    (``path label ...``; blank and ``#`` lines skipped)."""
    entries = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            parts = line.split(maxsplit=1)
            entries.append((parts[0], parts[1] if len(parts) > 1 else ''))
    return entries


def read_manifest(out_root: str) -> Dict[str, Dict]:
    """Verified outputs recorded in ``out_root`` (last record per source).
    A torn last line (a kill during the write) is cut off."""
    path = osp.join(out_root, MANIFEST)
    if not osp.exists(path):
        return {}
    with open(path, 'rb+') as f:
        data = f.read()
        if data and not data.endswith(b'\n'):
            cut = data.rfind(b'\n') + 1
            f.truncate(cut)
            data = data[:cut]
    records = {}
    for line in data.decode('utf-8', 'replace').splitlines():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            rec = json.loads(line)
            records[rec['src']] = rec
    return records


def _append_manifest(out_root: str, record: Dict) -> None:
    line = (json.dumps(record, sort_keys=True) + '\n').encode()
    fd = os.open(osp.join(out_root, MANIFEST),
                 os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)  # one write: a signal cannot split the line
        os.fsync(fd)
    finally:
        os.close(fd)


def _source_stamp(path: str) -> Dict:
    st = os.stat(path)
    return dict(src_size=st.st_size, src_mtime_ns=st.st_mtime_ns)


def _is_done(rec: Optional[Dict], task: _Task, out_root: str,
             digest: str) -> bool:
    """The manifest says ``task`` was verified with these settings, the
    source is unchanged and the outputs are still there."""
    if not rec or rec.get('settings') != digest:
        return False
    try:
        if {k: rec.get(k) for k in ('src_size', 'src_mtime_ns')} != \
                _source_stamp(task.src):
            return False
    except OSError:
        return False
    if task.video_rel:
        path = osp.join(out_root, task.video_rel)
        if rec.get('video') != task.video_rel or not osp.isfile(path) or \
                osp.getsize(path) != rec.get('video_bytes'):
            return False
    if task.frames_rel:
        folder = osp.join(out_root, task.frames_rel)
        n = rec.get('frames') or 0
        if rec.get('frames_dir') != task.frames_rel or not n or \
                not osp.isfile(osp.join(folder, FRAME_TEMPLATE.format(n))) \
                or osp.exists(osp.join(folder, FRAME_TEMPLATE.format(n + 1))):
            return False
    return True


def _set_parent_death_signal() -> None:
    """Linux: die with the parent (SIGKILL of the main process)."""
    with contextlib.suppress(Exception):
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _raise_terminated(signum, frame):
    raise _Terminated()


def _worker_init(parent: int, lock_fd: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides
    signal.signal(signal.SIGTERM, _raise_terminated)
    _set_parent_death_signal()
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)
    # the run's lock is the main process's alone: a killed run must not
    # leave it held by a worker that is still exiting
    with contextlib.suppress(OSError):
        os.close(lock_fd)
    # (OpenCV: single-threaded, set in the parent before the fork; changing
    # it here would wait for the parent's pool threads, which a forked
    # child does not have)


@contextlib.contextmanager
def _opencv_threads_off():
    """OpenCV without its thread pool while workers are forked (a pool
    that the parent used does not survive ``fork``: the child would wait
    for its threads forever); the caller's setting is restored after."""
    try:
        import cv2
    except ImportError:
        yield
        return
    old = cv2.getNumThreads()
    cv2.setNumThreads(0)
    try:
        yield
    finally:
        cv2.setNumThreads(old)


def _work(args) -> Tuple[_Task, Optional[Dict], Optional[str]]:
    """Prepare one task; the manifest record is appended here, right after
    the outputs are renamed into place (signals deferred in between)."""
    task, out_root, settings, digest = args
    record = {}

    def commit(info):
        record.update(src=task.src_rel, settings=digest,
                      video=task.video_rel, frames_dir=task.frames_rel,
                      **stamp, **info)
        _append_manifest(out_root, record)

    try:
        stamp = _source_stamp(task.src)
        prepare_one(
            task.src, settings,
            osp.join(out_root, task.video_rel) if task.video_rel else None,
            osp.join(out_root, task.frames_rel) if task.frames_rel else None,
            commit=commit)
    except FileNotFoundError:
        return task, None, 'file not found'
    except PrepareError as err:
        return task, None, str(err)
    except Exception as err:  # anything else: that input fails, not the run
        return task, None, f'{type(err).__name__}: {err}'
    return task, record, None


class _Progress:
    """A one-line progress bar on a terminal, a line every 10 % or 30 s
    otherwise."""

    def __init__(self, total: int, stream=None, enabled: bool = True):
        self.total, self.stream, self.enabled = total, stream or sys.stderr, \
            enabled
        self.tty = self.enabled and getattr(self.stream, 'isatty',
                                            lambda: False)()
        self.start = self.last_print = time.monotonic()
        self.last_fraction = 0.

    def update(self, done: int, failed: int, skipped: int,
               final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        fraction = done / max(self.total, 1)
        if final and not self.tty and self.last_fraction >= 1:
            return  # the complete line is out already
        if not (final or self.tty or fraction - self.last_fraction >= 0.1
                or now - self.last_print >= 30 or fraction >= 1):
            return
        self.last_print, self.last_fraction = now, fraction
        worked = done - skipped
        rate = worked / max(now - self.start, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else float('nan')
        eta_s = '?' if eta != eta else time.strftime('%H:%M:%S',
                                                     time.gmtime(eta))
        bar = '#' * int(30 * fraction)
        line = (f'[{bar:<30}] {done}/{self.total} ({failed} failed, '
                f'{skipped} already done) {rate:.2f} videos/s, ETA {eta_s}')
        if self.tty:
            self.stream.write('\r' + line + ('\n' if final else ''))
        else:
            self.stream.write(line + '\n')
        self.stream.flush()


def _rel_outputs(rel: str, settings: PrepareSettings):
    stem = osp.splitext(rel)[0]
    return (stem + '.mp4' if settings.video else None,
            stem if settings.frames else None)


def _default_names(ann_file: str, out_root: str) -> Dict[str, str]:
    base = osp.basename(ann_file)
    stem, ext = osp.splitext(base)
    frames = stem.replace('_videos', '_rawframes') if '_videos' in stem \
        else stem + '_rawframes'
    return dict(video_list=osp.join(out_root, base),
                frame_list=osp.join(out_root, frames + (ext or '.txt')),
                failed_list=osp.join(out_root, stem + '.failed.txt'))


def _write_atomic(path: str, lines: Sequence[str]) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = _partial_name(path)
    with open(tmp, 'w') as f:
        f.writelines(line + '\n' for line in lines)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class _Interrupted(BaseException):

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def prepare_dataset(ann_file: str,
                    src_root: str,
                    out_root: str,
                    settings: PrepareSettings,
                    workers: int = 1,
                    video_list: Optional[str] = None,
                    frame_list: Optional[str] = None,
                    failed_list: Optional[str] = None,
                    progress: bool = True,
                    log=print) -> Dict:
    """Prepare every video of ``ann_file`` (paths relative to ``src_root``)
    into ``out_root`` (same relative paths, ``.mp4`` / frame folders), in
    ``workers`` processes; resumable (see the module docstring).

    Returns:
        dict: ``prepared``, ``skipped`` (already verified), ``failed``
        (``[(path, reason)]``), ``lists`` written. Raises SystemExit with
        128 + signal number when interrupted by SIGTERM / SIGINT (the
        manifest keeps what was verified; run again to resume).
    """
    if osp.exists(out_root) and osp.exists(src_root) and \
            osp.samefile(src_root, out_root):
        raise ValueError(f'the output root {out_root} is the source root: '
                         'the originals are never overwritten; choose '
                         'another folder')
    names = _default_names(ann_file, out_root)
    video_list = video_list or names['video_list']
    frame_list = frame_list or names['frame_list']
    failed_list = failed_list or names['failed_list']
    entries = read_list(ann_file)
    os.makedirs(out_root, exist_ok=True)
    lock = open(osp.join(out_root, LOCK), 'w')
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise RuntimeError(f'another prepare_videos run holds '
                           f'{osp.join(out_root, LOCK)}; wait for it or '
                           'use another output folder')
    try:
        return _prepare_locked(entries, src_root, out_root, settings,
                               workers, video_list, frame_list, failed_list,
                               progress, log, lock.fileno())
    finally:
        lock.close()


def _prepare_locked(entries, src_root, out_root, settings, workers,
                    video_list, frame_list, failed_list, progress, log,
                    lock_fd):
    import multiprocessing

    digest = settings.digest()
    tasks, failed, seen, targets = {}, {}, set(), {}
    for rel, _rest in entries:
        if rel in seen:
            continue
        seen.add(rel)
        if osp.isabs(rel) or rel.startswith('..'):
            failed[rel] = ('the list must give paths relative to the source '
                           'root')
            continue
        video_rel, frames_rel = _rel_outputs(rel, settings)
        clash = targets.get(video_rel or frames_rel)
        if clash:
            failed[rel] = f'same output name as {clash}'
            continue
        targets[video_rel or frames_rel] = rel
        tasks[rel] = _Task(rel, osp.join(src_root, rel), video_rel,
                           frames_rel)
    out_dirs = set()
    for task in tasks.values():
        for rel in (task.video_rel, task.frames_rel):
            if rel:
                out_dirs.add(osp.dirname(osp.join(out_root, rel)))
    stale = partial_files(out_dirs)
    for path in stale:  # left by a killed run (we hold the lock)
        _remove(path)
    if stale:
        log(f'removed {len(stale)} partial outputs of an interrupted run')
    manifest = read_manifest(out_root)
    done = {rel: manifest[rel] for rel, task in tasks.items()
            if _is_done(manifest.get(rel), task, out_root, digest)}
    todo = [task for rel, task in tasks.items() if rel not in done]
    log(f'{len(entries)} list entries, {len(tasks)} videos: {len(done)} '
        f'already prepared and verified, {len(todo)} to do, '
        f'{len(failed)} rejected; settings {digest} '
        f'({dataclasses.asdict(settings)})')
    bar = _Progress(len(tasks) + len(failed), enabled=progress)
    count = dict(done=len(done) + len(failed), prepared=0)
    manifest_done = set(done)

    def record(task, rec, reason):
        count['done'] += 1
        if reason is not None:
            failed[task.src_rel] = reason
        else:
            done[task.src_rel] = rec
            count['prepared'] += 1
        bar.update(count['done'], len(failed), len(manifest_done))

    handlers = {}

    def on_signal(signum, frame):
        raise _Interrupted(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        handlers[sig] = signal.signal(sig, on_signal)
    pool = None
    try:
        if workers <= 1 or len(todo) <= 1:
            for task in todo:
                record(*_work((task, out_root, settings, digest)))
        else:
            ctx = multiprocessing.get_context('fork')
            with _opencv_threads_off():
                pool = ctx.Pool(min(workers, len(todo)), _worker_init,
                                (os.getpid(), lock_fd))
            jobs = ((task, out_root, settings, digest) for task in todo)
            for result in pool.imap_unordered(_work, jobs):
                record(*result)
            pool.close()
            pool.join()
            pool = None
    except (_Interrupted, KeyboardInterrupt) as err:
        signum = getattr(err, 'signum', signal.SIGINT)
        if pool is not None:
            pool.terminate()  # SIGTERM: the workers delete their temp files
            pool.join()
        for path in partial_files(out_dirs):
            _remove(path)
        verified = len(read_manifest(out_root))
        log(f'\ninterrupted ({signal.Signals(signum).name}): '
            f'{verified} verified videos are kept (manifest '
            f'{osp.join(out_root, MANIFEST)}); run the same command to '
            'resume')
        raise SystemExit(128 + signum)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    bar.update(count['done'], len(failed), len(manifest_done), final=True)

    # the new annotation lists, in the order of the input list
    video_lines, frame_lines = [], []
    for rel, rest in entries:
        rec = done.get(rel)
        if rec is None:
            continue
        tail = f' {rest}' if rest else ''
        if rec.get('video'):
            video_lines.append(rec['video'] + tail)
        if rec.get('frames_dir'):
            frame_lines.append(f'{rec["frames_dir"]} {rec["frames"]}{tail}')
    lists = {}
    if settings.video:
        _write_atomic(video_list, video_lines)
        lists['video'] = video_list
    if settings.frames:
        _write_atomic(frame_list, frame_lines)
        lists['frames'] = frame_list
    _write_atomic(failed_list, [f'{rel}\t{reason}'
                                for rel, reason in failed.items()])
    lists['failed'] = failed_list
    log(f'prepared {count["prepared"]}, already done {len(manifest_done)}, '
        f'failed {len(failed)}' +
        (f' (listed in {failed_list})' if failed else '') +
        ''.join(f'; {kind} list: {path}' for kind, path in lists.items()
                if kind != 'failed'))
    return dict(prepared=count['prepared'], skipped=len(manifest_done),
                failed=sorted(failed.items()), lists=lists)

