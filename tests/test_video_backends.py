"""VideoInit / VideoDecode backends on original and prepared videos: the
same frames as decord's (DecordInit + DecordDecode) for PyAV (default) and
torchcodec; on a prepared copy (tools/data/prepare_videos.py) the PyAV path
decodes only a few frames per sampled one."""
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import uniformer_mm  # noqa: F401
from mmaction.registry import TRANSFORMS
from mmengine.registry import DefaultScope
from uniformer_mm.datasets.transforms import (VideoDecode, VideoDecodeError,
                                              VideoInit)
from uniformer_mm.datasets.transforms import video_decode
from uniformer_mm.datasets.video_prepare import PrepareSettings, prepare_one

decord = pytest.importorskip('decord')
av = pytest.importorskip('av')

REPO = Path(__file__).resolve().parents[1]
VIDEOS = Path(__file__).resolve().parent / 'data' / 'videos'
KINETICS = VIDEOS / 'kinetics_arm_wrestling.mp4'


@pytest.fixture(scope='module')
def prepared(tmp_path_factory):
    """The Kinetics clip prepared with the tool's defaults (key frame every
    8 frames, non-reference B-frames, fastdecode)."""
    path = tmp_path_factory.mktemp('prepared') / 'kinetics.mp4'
    prepare_one(str(KINETICS), PrepareSettings(), str(path))
    return path


def index_sets(n, seed=0):
    rng = random.Random(seed)
    sets = [[0], [n - 1], [-1, 0, -n], [n - 1, 0, 5, 5]]
    for _ in range(4):  # UniformSample(8), sorted and shuffled
        seg = n / 8
        sparse = [min(int(seg * i + rng.uniform(0, seg)), n - 1)
                  for i in range(8)]
        sets.append(sparse)
        sets.append(rng.sample(sparse, len(sparse)))
    for _ in range(2):  # SampleFrames(16, 4)
        start = rng.randrange(n - 64)
        sets.append(list(range(start, start + 64, 4)))
    return sets


def decord_frames(path, inds):
    with DefaultScope.overwrite_default_scope('mmaction'):
        results = TRANSFORMS.build(dict(type='DecordInit'))(
            dict(filename=str(path)))
        results['frame_inds'] = np.asarray(inds)
        return TRANSFORMS.build(dict(type='DecordDecode'))(results)['imgs']


def decode(path, inds, **kwargs):
    results = VideoInit(**kwargs)(dict(filename=str(path)))
    reader = results['video_reader']
    results['frame_inds'] = np.asarray(inds)
    return reader, VideoDecode()(results)['imgs']


def test_pyav_on_prepared_copy_is_exact(prepared):
    n = len(decord.VideoReader(str(prepared)))
    assert n == 280
    for inds in index_sets(n):
        reader, imgs = decode(prepared, inds)
        assert reader.backend == 'pyav'
        ref = decord_frames(prepared, inds)
        assert all(np.array_equal(a, b) for a, b in zip(imgs, ref)), inds


def test_prepared_copy_decodes_few_frames(prepared):
    """8 sparse frames: the PyAV path starts at the key frame before each
    (every 8 frames) and skips the B-frames nobody refers to, so it decodes
    at most a GOP per sampled frame; on the original (key frames at 0, 187,
    230, 268) it decodes most of the clip."""
    counts = {'original': [], 'prepared': []}
    for inds in index_sets(280, seed=3)[4:12]:  # the sparse sets
        for name, path in (('original', KINETICS), ('prepared', prepared)):
            reader, _ = decode(path, inds)
            counts[name].append(reader.decoded_frames)
    print(counts)
    assert max(counts['prepared']) <= 8 * 8
    assert sum(counts['prepared']) * 3 < sum(counts['original'])


def test_rgb_conversion_reuses_one_reformatter():
    """One single-threaded swscale context per thread and process
    (frame.to_ndarray builds one per frame, with a thread pool); the pixels
    are those of to_ndarray (decord's, tested above)."""
    a = video_decode._rgb_reformatter(av)
    assert video_decode._rgb_reformatter(av) is a
    with av.open(str(KINETICS)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            assert np.array_equal(a.reformat(frame, format='rgb24',
                                             threads=1).to_ndarray(),
                                  frame.to_ndarray(format='rgb24'))
            if i == 5:
                break


def test_decoding_in_forked_workers_after_the_parent():
    """Loader workers forked after the main process decoded (another
    frame size) decode too: no swscale context crosses the fork (one made
    with slice threads there deadlocked in the child)."""
    import torch
    decode(KINETICS, [0, 100])  # the parent converts 340x256 frames
    small = Path(__file__).resolve().parent / 'data' / 'videos' / 'test.mp4'

    class Frames(torch.utils.data.Dataset):

        def __len__(self):
            return 4

        def __getitem__(self, i):
            path = KINETICS if i % 2 else small
            return int(np.stack(decode(path, [i, 50])[1]).sum())

    loader = torch.utils.data.DataLoader(
        Frames(), num_workers=2, batch_size=None,
        multiprocessing_context='fork', timeout=120)
    sums = [int(s) for s in loader]
    expected = [int(np.stack(decode(KINETICS if i % 2 else small,
                                    [i, 50])[1]).sum()) for i in range(4)]
    assert sums == expected


# --------------------------------------------------------------- torchcodec
_TORCHCODEC_CHECK = textwrap.dedent('''
    import sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    import test_video_backends as t
    from uniformer_mm.datasets.transforms import VideoDecodeError
    prepared = {prepared!r}
    for path in (str(t.KINETICS), str(t.VIDEOS / 'test.mp4'), prepared):
        n = len(t.decord.VideoReader(path))
        vr = t.decord.VideoReader(path)
        for inds in t.index_sets(n):
            reader, imgs = t.decode(path, inds, backend='torchcodec',
                                    fallback=None)
            assert reader.backend == 'torchcodec'
            ref = t.decord_frames(path, inds)
            assert len(imgs) == len(ref)
            assert all(np.array_equal(a, b) for a, b in zip(imgs, ref)), (
                path, inds)
        res = t.VideoInit(backend='torchcodec')(dict(filename=path))
        assert res['total_frames'] == n, (res['total_frames'], n)
        assert res['avg_fps'] == vr.get_avg_fps()
        print('EXACT:', path, n)
    # file backend (bytes in memory)
    reader, imgs = t.decode(t.KINETICS, [200, 0, 100], backend='torchcodec',
                            io_backend='local')
    ref = t.decord_frames(t.KINETICS, [200, 0, 100])
    assert all(np.array_equal(a, b) for a, b in zip(imgs, ref))
    # AVI (no stored timestamps): decord, as for PyAV
    reader, _ = t.decode(t.VIDEOS / 'test.avi', [0, 10],
                         backend='torchcodec')
    assert reader.backend == 'decord'
    # truncated: the container lists more frames than can be read (the
    # prepared copy has its index in front)
    import os, tempfile
    with tempfile.TemporaryDirectory() as tmp:
        cut = os.path.join(tmp, 'cut.mp4')
        data = open(prepared, 'rb').read()
        open(cut, 'wb').write(data[:len(data) // 2])
        try:
            t.VideoInit(backend='torchcodec')(dict(filename=cut))
        except VideoDecodeError as err:
            assert 'truncated' in str(err) and cut in str(err), err
        else:
            raise AssertionError('no error for a truncated file')
    print('torchcodec ok')
''')


@pytest.mark.slow
def test_torchcodec_backend_exact(prepared, tmp_path):
    """torchcodec (exact seek mode) gives decord's frames, in a process
    whose library path holds the FFmpeg of PyAV's wheel."""
    import importlib.util
    if importlib.util.find_spec('torchcodec') is None:
        pytest.skip('torchcodec is not installed')
    from uniformer_mm.datasets.ffmpeg_libs import pyav_ffmpeg_env
    try:
        env = pyav_ffmpeg_env(str(tmp_path / 'ffmpeg'))
    except RuntimeError as err:
        pytest.skip(f'no FFmpeg libraries for torchcodec: {err}')
    script = _TORCHCODEC_CHECK.format(
        tests=str(Path(__file__).resolve().parent), prepared=str(prepared))
    res = subprocess.run([sys.executable, '-c', script], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert 'torchcodec ok' in res.stdout
    assert res.stdout.count('EXACT:') == 3


def test_torchcodec_unloadable_falls_back(monkeypatch):
    """Without torchcodec (or its FFmpeg libraries): decord, or one clear
    error with fallback=None."""
    monkeypatch.setitem(video_decode._TORCHCODEC, 'result',
                        (None, 'torchcodec is not installed'))
    inds = [270, 3, 3, 100]
    reader, imgs = decode(KINETICS, inds, backend='torchcodec')
    assert reader.backend == 'decord'
    ref = decord_frames(KINETICS, inds)
    assert all(np.array_equal(a, b) for a, b in zip(imgs, ref))
    with pytest.raises(VideoDecodeError,
                       match='torchcodec is not installed.*fallback=None'):
        VideoInit(backend='torchcodec', fallback=None)(
            dict(filename=str(KINETICS)))
    with pytest.raises(ValueError, match='backend must be one of'):
        VideoInit(backend='opencv')
