"""tools/data/prepare_videos.py: prepared copies as good as the originals
(PSNR, frame count and order), decodable by VideoInit's exact PyAV path,
resumable after SIGTERM / SIGKILL, broken inputs listed, not fatal.

The tool runs as a real process (real signals, real worker processes)."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import uniformer_mm  # noqa: F401
from uniformer_mm.datasets.demo_data import render_video
from uniformer_mm.datasets.transforms import VideoDecode, VideoInit
from uniformer_mm.datasets.video_prepare import (FRAME_TEMPLATE, MANIFEST,
                                                 PrepareSettings,
                                                 partial_files,
                                                 prepare_dataset, prepare_one,
                                                 read_manifest)

av = pytest.importorskip('av')
cv2 = pytest.importorskip('cv2')

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / 'tools' / 'data' / 'prepare_videos.py'
VIDEOS = Path(__file__).resolve().parent / 'data' / 'videos'
KINETICS = VIDEOS / 'kinetics_arm_wrestling.mp4'


# ----------------------------------------------------------------- helpers
def decode_all(path, size=None):
    """Every frame as RGB (T, H, W, 3); with ``size`` (w, h) scaled as
    FFmpeg's area filter does, in yuv420p, then to RGB."""
    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if size is not None:
                frame = frame.reformat(size[0], size[1], 'yuv420p',
                                       interpolation='AREA')
            out.append(frame.to_ndarray(format='rgb24'))
    return np.stack(out)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return 10 * np.log10(255.**2 / mse)


def write_video(path, frames, fps=25, codec='mpeg4'):
    """RGB frames -> a real video file (like a downloaded original)."""
    with av.open(str(path), 'w') as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = 'yuv420p'
        if codec == 'mpeg4':
            stream.options = {'qscale': '2'}
        for img in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(img)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def make_dataset(root, n, size=96, num_frames=48):
    """``n`` generated videos in two class folders + an mmaction2 list."""
    lines = []
    for i in range(n):
        rel = f'class_{i % 2}/video_{i:03d}.mp4'
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        frames = render_video(np.random.default_rng(i), i % 4,
                              num_frames=num_frames, size=size)
        write_video(root / rel, frames)
        lines.append(f'{rel} {i % 2}')
    ann = root / 'train_list_videos.txt'
    ann.write_text('\n'.join(lines) + '\n')
    return ann


def run_tool(*args, wait=True, **kwargs):
    cmd = [sys.executable, str(TOOL), *map(str, args), '--no-progress']
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                **kwargs)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          **kwargs)


def tree_digest(root):
    """{relative path: sha1} of every file below ``root``."""
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob('*')) if p.is_file()}


def stamps(out, records):
    """(inode, mtime_ns) of every verified output of ``records``."""
    result = {}
    for rec in records.values():
        video = out / rec['video']
        st = video.stat()
        result[rec['video']] = (st.st_ino, st.st_mtime_ns)
    return result


# ------------------------------------------------------------------ quality
def test_real_clip_psnr_and_frames(tmp_path):
    """The Kinetics clip at its own size (340x256): every frame kept in
    order, PSNR >= 40 dB for the H.264 copy and for the JPEG frames, the
    copy indexed by VideoInit's exact PyAV path with a key frame every 8
    frames, and decoded by VideoInit/VideoDecode like the original."""
    settings = PrepareSettings(frames=True)
    video, frames_dir = tmp_path / 'k.mp4', tmp_path / 'k'
    info = prepare_one(str(KINETICS), settings, str(video), str(frames_dir))
    assert info['frames'] == info['source_frames'] == 280
    assert (info['width'], info['height']) == (340, 256)
    orig = decode_all(KINETICS)
    prep = decode_all(video)
    assert prep.shape == orig.shape
    video_psnr = psnr(prep, orig)
    per_frame = [psnr(a, b) for a, b in zip(prep, orig)]
    jpegs = np.stack([
        cv2.imread(str(frames_dir / FRAME_TEMPLATE.format(i + 1)))[..., ::-1]
        for i in range(280)])
    jpeg_psnr = psnr(jpegs, orig)
    print(f'PSNR video {video_psnr:.2f} dB (worst frame '
          f'{min(per_frame):.2f}), JPEG frames {jpeg_psnr:.2f} dB')
    assert video_psnr >= 40 and jpeg_psnr >= 40
    assert min(per_frame) >= 35
    # frame i of the copy is frame i of the original (not a neighbour)
    shifted = psnr(prep[1:], orig[:-1])
    assert shifted < video_psnr - 8

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        keys = [i for i, e in enumerate(stream.index_entries)
                if e.is_keyframe]
        assert not container.streams.audio
    assert keys == list(range(0, 280, 8))
    results = VideoInit(fallback=None)(dict(filename=str(video)))
    assert results['video_reader'].backend == 'pyav'
    assert results['total_frames'] == 280
    assert results['avg_fps'] == 28.0
    inds = [3, 150, 279, 0, 150]
    results['frame_inds'] = np.array(inds)
    imgs = VideoDecode()(results)['imgs']
    assert all(np.array_equal(a, prep[i]) for a, i in zip(imgs, inds))


def test_downscaled_psnr(tmp_path):
    """Short side 192: the copy is the original scaled by FFmpeg's area
    filter plus codec noise only."""
    video = tmp_path / 'small.mp4'
    info = prepare_one(str(KINETICS), PrepareSettings(short_side=192),
                       str(video))
    assert (info['width'], info['height']) == (256, 192)
    prep = decode_all(video)
    orig = decode_all(KINETICS, size=(256, 192))
    value = psnr(prep, orig)
    print(f'PSNR at 256x192: {value:.2f} dB')
    assert value >= 40


def test_frame_rate_conversion(tmp_path):
    """25 -> 12.5 fps: output frame k is source frame 2k."""
    frames = render_video(np.random.default_rng(0), 1, num_frames=30,
                          size=64)
    src = tmp_path / 'src.mp4'
    write_video(src, frames)
    out = tmp_path / 'half.mp4'
    info = prepare_one(str(src), PrepareSettings(fps='25/2',
                                                 short_side=None), str(out))
    assert info['frames'] == 15 and info['source_frames'] == 30
    orig, prep = decode_all(src), decode_all(out)
    assert len(prep) == 15
    for k in range(15):
        assert psnr(prep[k], orig[2 * k]) > psnr(prep[k], orig[2 * k + 1])
    with av.open(str(out)) as container:
        assert container.streams.video[0].average_rate == 12.5


# ---------------------------------------------------------- the whole tool
def test_broken_inputs_listed_not_fatal(tmp_path):
    src, out = tmp_path / 'src', tmp_path / 'out'
    (src / 'ok').mkdir(parents=True)
    good = render_video(np.random.default_rng(1), 0, num_frames=12, size=64)
    write_video(src / 'ok' / 'good.mp4', good)
    blob = KINETICS.read_bytes()
    (src / 'ok' / 'truncated.mp4').write_bytes(blob[:len(blob) // 2])
    (src / 'ok' / 'text.mp4').write_text('not a video\n')
    (src / 'ok' / 'empty.mp4').write_bytes(b'')
    with av.open(str(src / 'ok' / 'audio.m4a'), 'w') as f:  # no video
        stream = f.add_stream('aac', rate=16000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format='fltp', layout='mono')
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            f.mux(packet)
        for packet in stream.encode():
            f.mux(packet)
    names = ['good.mp4', 'truncated.mp4', 'text.mp4', 'empty.mp4',
             'audio.m4a', 'missing.mp4']
    ann = src / 'list_videos.txt'
    ann.write_text(''.join(f'ok/{n} {i}\n' for i, n in enumerate(names)))
    before = tree_digest(src)
    res = run_tool(ann, src, out, '--workers', 2, '--frames')
    assert res.returncode == 0, res.stdout + res.stderr
    assert tree_digest(src) == before  # the originals are untouched
    failed = dict(line.split('\t') for line in
                  (out / 'list_videos.failed.txt').read_text().splitlines())
    assert set(failed) == {f'ok/{n}' for n in names[1:]}
    assert failed['ok/missing.mp4'] == 'file not found'
    assert failed['ok/audio.m4a'] == 'no video stream'
    for name in ('truncated.mp4', 'text.mp4', 'empty.mp4'):
        assert failed[f'ok/{name}'].startswith('cannot open'), failed
    assert (out / 'list_videos.txt').read_text() == 'ok/good.mp4 0\n'
    assert (out / 'list_rawframes.txt').read_text() == 'ok/good 12 0\n'
    assert 'failed 5 (listed in' in res.stdout
    assert not partial_files([out / 'ok'])
    assert sorted(p.name for p in (out / 'ok').iterdir()) == [
        'good', 'good.mp4']


def _prepare(ann, src, out, **kwargs):
    """prepare_dataset in this process; returns (result, log lines)."""
    lines = []
    result = prepare_dataset(str(ann), str(src), str(out),
                             kwargs.pop('settings', PrepareSettings()),
                             progress=False, log=lines.append, **kwargs)
    return result, '\n'.join(lines)


def test_rerun_redoes_nothing_and_settings_change_redoes(tmp_path):
    src, out = tmp_path / 'src', tmp_path / 'out'
    ann = make_dataset(src, 3, size=64, num_frames=12)
    result, _ = _prepare(ann, src, out)
    assert result['prepared'] == 3 and not result['failed']
    records = read_manifest(str(out))
    assert len(records) == 3
    first = stamps(out, records)
    result, log = _prepare(ann, src, out)
    assert result['prepared'] == 0 and result['skipped'] == 3
    assert '3 already prepared and verified, 0 to do' in log
    assert stamps(out, records) == first
    result, log = _prepare(ann, src, out, settings=PrepareSettings(crf=20))
    assert '0 already prepared and verified, 3 to do' in log
    assert all(first[k] != v for k, v in stamps(out, records).items())
    # a changed original is redone, the others are not
    later = stamps(out, records)
    (src / 'class_0' / 'video_000.mp4').touch()
    result, log = _prepare(ann, src, out, settings=PrepareSettings(crf=20))
    assert result['prepared'] == 1 and result['skipped'] == 2
    now = stamps(out, records)
    assert [k for k in now if now[k] != later[k]] == [
        'class_0/video_000.mp4']


def test_refuses_source_root_and_a_second_run(tmp_path):
    src = tmp_path / 'src'
    ann = make_dataset(src, 1, size=64, num_frames=4)
    with pytest.raises(ValueError, match='is the source root'):
        _prepare(ann, src, src)
    out = tmp_path / 'out'
    out.mkdir()
    import fcntl
    with open(out / '.prepare_videos.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(RuntimeError, match='another prepare_videos run'):
            _prepare(ann, src, out)


def _interrupt_and_resume(tmp_path, sig):
    """Start the tool on 24 videos (2 workers), send ``sig`` to the main
    process once a few videos are verified and one is being written, then
    run it again."""
    src, out = tmp_path / 'src', tmp_path / 'out'
    ann = make_dataset(src, 24)
    before = tree_digest(src)
    proc = run_tool(ann, src, out, '--workers', 2, wait=False)
    dirs = [out / 'class_0', out / 'class_1']
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        manifest = out / MANIFEST
        if manifest.exists() and \
                len(manifest.read_text().splitlines()) >= 3 and \
                partial_files(dirs):
            break
        time.sleep(0.02)
    assert proc.poll() is None, 'the run ended before it could be stopped'
    proc.send_signal(sig)
    output, _ = proc.communicate(timeout=120)
    verified = read_manifest(str(out))
    assert 3 <= len(verified) < 24, output
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM, output
        assert 'run the same command to resume' in output
        assert not partial_files(dirs)  # the workers cleaned up
    else:
        assert proc.returncode == -signal.SIGKILL
    # every output on disk is either verified or a temporary file
    kept = {str(p.relative_to(out)) for d in dirs if d.exists()
            for p in d.iterdir() if not p.name.startswith('.')}
    assert kept == {rec['video'] for rec in verified.values()}
    first = stamps(out, verified)

    res = run_tool(ann, src, out, '--workers', 2)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f'{len(verified)} already prepared and verified, ' \
        f'{24 - len(verified)} to do' in res.stdout
    assert stamps(out, verified) == first  # nothing verified was redone
    assert not partial_files(dirs)
    final = read_manifest(str(out))
    assert len(final) == 24
    lines = (out / 'train_list_videos.txt').read_text().splitlines()
    assert lines == ann.read_text().splitlines()  # same paths (.mp4)
    for rec in final.values():  # each output decodes to its frame count
        results = VideoInit(fallback=None)(
            dict(filename=str(out / rec['video'])))
        assert results['total_frames'] == rec['frames'] == 48
        results['video_reader'].close()
    assert tree_digest(src) == before
    return output


@pytest.mark.slow
def test_sigterm_then_resume(tmp_path):
    _interrupt_and_resume(tmp_path, signal.SIGTERM)


@pytest.mark.slow
def test_sigkill_then_resume(tmp_path):
    _interrupt_and_resume(tmp_path, signal.SIGKILL)


def test_manifest_torn_line_is_cut(tmp_path):
    rec = dict(src='a.mp4', settings='x')
    (tmp_path / MANIFEST).write_text(json.dumps(rec) + '\n{"src": "b.mp')
    assert list(read_manifest(str(tmp_path))) == ['a.mp4']
    assert (tmp_path / MANIFEST).read_text() == json.dumps(rec) + '\n'


# ------------------------------------------------------------ the demo
def _tool(rel):
    import runpy
    return runpy.run_path(str(REPO / rel), run_name='not_main')['main']


def _val_top1(work_dir):
    """acc/top1 of the last validation in the newest log of ``work_dir``."""
    import re
    log = sorted(Path(work_dir).glob('*/*.log'),
                 key=lambda p: p.stat().st_mtime)[-1]
    lines = [ln for ln in log.read_text().splitlines()
             if 'Epoch(val)' in ln and 'acc/top1' in ln]
    return float(re.search(r'acc/top1: ([0-9.]+)', lines[-1]).group(1))


@pytest.mark.slow
def test_demo_trains_on_prepared_data(tmp_path):
    """The video demo trained for 8 of its 20 epochs on a prepared copy of
    its data (configs/demo/uniformer_demo_video_prepared.py) learns the
    task, and the model predicts the same classes on the prepared and the
    original validation videos. (The whole demo on both data, same seed:
    100 % validation top-1 each; docs/benchmarks.md.)"""
    import pickle

    from uniformer_mm.datasets.demo_data import make_video_demo
    data, prepared = tmp_path / 'data', tmp_path / 'prepared'
    make_video_demo(str(data))
    for split in ('train', 'val'):
        result, _ = _prepare(data / f'{split}_list.txt', data, prepared,
                             settings=PrepareSettings(short_side=None),
                             workers=2)
        assert not result['failed']
    common = []
    for split in ('train', 'val', 'test'):
        common += [f'{split}_dataloader.num_workers=0',
                   f'{split}_dataloader.persistent_workers=False']
    demo = str(REPO / 'configs' / 'demo' / 'uniformer_demo_video.py')
    on_prepared = str(REPO / 'configs' / 'demo' /
                      'uniformer_demo_video_prepared.py')
    original_opts = common + [f'{s}_dataloader.dataset.data_root={data}'
                              for s in ('train', 'val', 'test')]
    prepared_opts = common + [f'{s}_dataloader.dataset.data_root={prepared}'
                              for s in ('train', 'val', 'test')]
    _tool('tools/train.py')([
        on_prepared, '--work-dir', str(tmp_path / 'prep'), '--cfg-options',
        'train_cfg.max_epochs=8', 'train_cfg.val_begin=8'] + prepared_opts)
    top1 = _val_top1(tmp_path / 'prep')
    print(f'validation top-1 after 8 epochs on prepared data: {top1}')
    assert top1 >= 0.7  # chance: 0.25

    test = _tool('tools/test.py')
    ckpt = str(tmp_path / 'prep' / 'epoch_8.pth')
    preds = []
    for cfg, opts, name in ((on_prepared, prepared_opts, 'prepared'),
                            (demo, original_opts, 'original')):
        dump = tmp_path / f'{name}.pkl'
        test([cfg, ckpt, '--dump', str(dump), '--work-dir',
              str(tmp_path / f'test_{name}'), '--cfg-options'] + opts)
        with open(dump, 'rb') as f:
            results = pickle.load(f)
        preds.append(np.array([int(r['pred_score'].argmax())
                               for r in results]))
        labels = np.array([int(r['gt_label']) for r in results])
    assert len(preds[0]) == len(preds[1]) == 48
    agree = np.mean(preds[0] == preds[1])
    acc = [float(np.mean(p == labels)) for p in preds]
    print(f'top-1 prepared / original validation videos: {acc}; same '
          f'class for {agree:.0%}')
    assert agree >= 46 / 48
    assert abs(acc[0] - acc[1]) <= 2 / 48 + 1e-9
