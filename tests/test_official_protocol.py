"""The zoo's data pipelines take the frames and crops the official UniFormer /
UniFormerV2 evaluation (and training) code takes.

The official rules are restated here from the official loaders
(Sense-X/UniFormer ``video_classification/slowfast/datasets/{kinetics,hmdb,
sth,decoder,utils,transform}.py``, OpenGVLab/UniFormerV2
``slowfast/datasets/{kinetics_sparse,sth,decoder}.py``), independently of
``uniformer_mm.datasets.transforms.official_*``, and compared with the real
pipelines of the data set base configs, run through the real data set
classes on videos and frame folders made here whose frames encode their own
index (the three colour channels are its digits in base 8), so the test
reads which frames were sampled:

* V1 dense sampling (Kinetics / UCF101 / HMDB51), test, val and train;
* sparse sampling (UniFormerV2 Kinetics-style data sets), test and train;
* Something-Something V1 frames and V2 frames at 30 fps, and the 12 fps
  switch against frames extracted by ``tools/data/sthv2/extract_frames.py``;
* the official test resize and three crops (sizes, offsets and pixels);
* an official-format SSv2 checkpoint evaluated by ``tools/test.py`` gives
  the scores of the model on the official (BGR) input.
"""
import math
import os
import pickle
import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import uniformer_mm  # noqa: F401  (registers our modules)
from mmengine.config import Config
from mmengine.registry import init_default_scope
from uniformer_mm.datasets.config_utils import (transform_types,
                                                 update_transforms)
from uniformer_mm.engine.config_knobs import load_config as knob_config  # noqa: E501

REPO = Path(__file__).resolve().parents[1]
BASE = REPO / 'configs' / '_base_' / 'datasets'
H, W = 48, 64  # size of the generated frames


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')
    np.random.seed(0)
    random.seed(0)


# ------------------------------------------------------------ media
def code_frame(idx, h=H, w=W):
    """An RGB frame whose channels are the base-8 digits of ``idx``."""
    digits = [idx // 64, (idx // 8) % 8, idx % 8]
    assert idx < 512
    return np.broadcast_to(
        np.array([32 * d + 16 for d in digits], np.uint8), (h, w, 3)).copy()


def read_index(frames):
    """Indices encoded in RGB frames (..., H, W, 3)."""
    means = np.asarray(frames, np.float64).mean(axis=(-3, -2))
    digits = np.clip(np.round((means - 16) / 32), 0, 7).astype(int)
    return digits[..., 0] * 64 + digits[..., 1] * 8 + digits[..., 2]


def write_video(path, num_frames, fps, codec='libx264'):
    """A video whose frame ``i`` encodes ``i``.

    VP9 is written in a fresh process: once decord has decoded anything in
    a process, its bundled libvpx shadows PyAV's and the VP9 encoder no
    longer opens (``avcodec_open2("libvpx-vp9") returned 22``); decoding
    is not affected."""
    if codec != 'libx264' and 'decord' in sys.modules:
        subprocess.run([sys.executable, '-c',
                        'import sys; sys.path.insert(0, sys.argv[1]); '
                        'import test_official_protocol as t; '
                        't.write_video(sys.argv[2], int(sys.argv[3]), '
                        'float(sys.argv[4]), sys.argv[5])',
                        str(Path(__file__).parent), str(path),
                        str(num_frames), str(fps), codec], check=True)
        return path
    import av
    with av.open(str(path), 'w') as container:
        stream = container.add_stream(
            codec, rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = W, H, 'yuv420p'
        if codec == 'libx264':
            stream.options = {'preset': 'ultrafast', 'crf': '0'}
        else:  # VP9 (Something-Something V2 webm)
            stream.options = {'deadline': 'realtime', 'cpu-used': '8',
                              'crf': '4', 'b': '0'}
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(code_frame(i), format='rgb24')
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_frames(folder, num_frames, tmpl, first=1):
    """JPEG frames ``tmpl.format(first + i)`` encoding ``i``."""
    folder.mkdir(parents=True)
    for i in range(num_frames):
        cv2.imwrite(str(folder / tmpl.format(first + i)),
                    code_frame(i)[..., ::-1])  # cv2 writes BGR
    return folder


# ------------------------------------------------------------ official
def official_dense(n, clip_len, rate, clip_index, num_clips):
    """``kinetics.py`` / ``hmdb.py`` + ``decoder.get_start_end_idx``
    (USE_OFFSET_SAMPLING) + the decord index computation, test mode."""
    span = clip_len * rate
    delta = max(n - span, 0)
    if num_clips == 1:
        start = math.floor(delta / 2)
    else:
        start = clip_index * math.floor(delta / (num_clips - 1))
    return official_dense_from(start, n, clip_len, rate)


def official_dense_from(start, n, clip_len, rate):
    index = torch.linspace(start, start + clip_len * rate - 1, clip_len)
    return torch.clamp(index, 0, n - 1).long().tolist()


def official_sparse(n, clip_len, clip_index, num_clips):
    """``decoder.get_seq_frames`` / ``sth.get_seq_frames``, test mode
    (0-based)."""
    seg_size = max(0., float(n - 1) / clip_len)
    duration = seg_size / (num_clips + 1)
    return [min(int(np.round(seg_size * i)) + int(duration *
                                                  (clip_index + 1)), n - 1)
            for i in range(clip_len)]


def official_sparse_bounds(n, clip_len):
    seg_size = max(0., float(n - 1) / clip_len)
    return [(int(np.round(seg_size * i)), int(np.round(seg_size * (i + 1))))
            for i in range(clip_len)]


# ------------------------------------------------------------ helpers
def load(name):
    return knob_config(str(BASE / f'{name}.py'))


def update_present(node, **updates):
    """``update_transforms`` with the updates of the transforms ``node``
    has (the tables here name both test crops; update_transforms refuses a
    type that is not there)."""
    present = transform_types(node)
    return update_transforms(
        node, **{k: v for k, v in updates.items() if k in present})


def build(loader, tmp_path, ann, prefix, **updates):
    """The (first) data set of ``loader`` reading ``ann`` / ``prefix``;
    ``updates`` of transforms the loader has (SMALL names both crops)."""
    from mmaction.registry import DATASETS
    loader = update_present(loader.to_dict(), **updates)
    ds = loader['dataset']
    if ds['type'] == 'ConcatDataset':
        ds = ds['datasets'][0]
    ann_file = tmp_path / f'ann_{len(list(tmp_path.iterdir()))}.txt'
    ann_file.write_text(ann)
    ds['ann_file'] = str(ann_file)
    key = 'img' if ds['type'] == 'RawframeDataset' else 'video'
    ds['data_prefix'] = {key: str(prefix)}
    return DATASETS.build(ds)


def sampled(dataset, idx=0, steps=None):
    """Frame indices of sample ``idx``: (views, T) from the whole pipeline,
    or (1, T) from its first ``steps`` transforms (through the decoder)."""
    if steps is None:
        inputs = dataset[idx]['inputs']  # (views, 3, T, H, W)
        return read_index(inputs.permute(0, 2, 3, 4, 1).numpy())
    results = dataset.get_data_info(idx)
    for t in dataset.pipeline.transforms[:steps]:
        results = t(results)
    return read_index(np.stack(results['imgs']))[None]


def views_by_clip(indices, num_clips, num_crops):
    """(clips, T) of a (crops x clips, T) output; every crop of a clip must
    have the same frames."""
    v = np.asarray(indices).reshape(num_crops, num_clips, -1)
    assert (v == v[:1]).all(), v
    return v[0]


SMALL = dict(OfficialShortSideResize=dict(short_side=32),
             OfficialThreeCrop=dict(crop_size=32),
             OfficialCenterCrop=dict(crop_size=32))

# (frames, fps): lengths below, at and above the 64-frame span of 16x4
VIDEOS = [(30, 25), (63, 30), (64, 24), (65, 30), (120, 25), (301, 30)]


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('videos')
    return {n: write_video(root / f'v{n}.mp4', n, fps).name
            for n, fps in VIDEOS}, root


# ------------------------------------------------------------ V1 dense
@pytest.mark.parametrize('name,clips,crops,sampling', [
    ('kinetics400_dense', 4, 1, (16, 4)),
    ('kinetics400_dense', 4, 1, (8, 8)),
    ('kinetics600_dense', 4, 1, (32, 4)),
    ('ucf101', 5, 3, (16, 4)),
    ('hmdb51', 5, 3, (16, 4)),
])
def test_dense_test_and_val_views(name, clips, crops, sampling, videos,
                                  tmp_path):
    files, root = videos
    cfg = load(name)
    clip_len, rate = sampling
    upd = dict(SMALL, OfficialDenseSample=dict(clip_len=clip_len,
                                               frame_interval=rate))
    ann = ''.join(f'{f} 1\n' for f in files.values())
    test = build(cfg.test_dataloader, tmp_path, ann, root, **upd)
    val = build(cfg.val_dataloader, tmp_path, ann, root, **upd)
    for i, n in enumerate(files):
        want = [official_dense(n, clip_len, rate, k, clips)
                for k in range(clips)]
        got = views_by_clip(sampled(test, i), clips, crops)
        assert got.tolist() == want, (name, n)
        assert sampled(val, i).tolist() == [
            official_dense(n, clip_len, rate, 0, 1)], (name, n)


def test_dense_differs_from_mmaction_sampleframes():
    """The example of the issue: 300 frames, 16x4, 4 clips: the official
    starts 0/78/156/234; mmaction2's SampleFrames 0/80/159/239 (so the test
    above would fail with it)."""
    from mmaction.registry import TRANSFORMS
    starts = [official_dense(300, 16, 4, k, 4)[0] for k in range(4)]
    assert starts == [0, 78, 156, 234]
    mm = TRANSFORMS.build(dict(type='SampleFrames', clip_len=16,
                               frame_interval=4, num_clips=4,
                               test_mode=True))
    inds = mm(dict(total_frames=300, start_index=0))['frame_inds']
    assert inds.reshape(4, 16)[:, 0].tolist() == [0, 80, 159, 239]
    assert official_dense(300, 16, 4, 0, 4)[:6] == [0, 4, 8, 12, 16, 21]


@pytest.mark.parametrize('name', ['kinetics400_dense', 'hmdb51'])
def test_dense_train_clips(name, videos, tmp_path):
    """Training clips: the official linspace from a start in [0, n - span]
    (a float), every draw one of the official clips, starts spread over the
    whole range."""
    files, root = videos
    cfg = load(name)
    ds = build(cfg.train_dataloader, tmp_path,
               ''.join(f'{f} 1\n' for f in files.values()), root)
    steps = [t['type'] for t in cfg.train_pipeline].index('VideoDecode') + 1
    for i, n in enumerate(files):
        delta = max(n - 64, 0)
        firsts = []
        for _ in range(12):
            got = sampled(ds, i, steps)[0].tolist()
            first = got[0]
            assert 0 <= first <= delta
            assert any(official_dense_from(first + j / 64, n, 16, 4) == got
                       for j in range(64)), (n, got)
            firsts.append(first)
        if delta >= 50:
            assert min(firsts) < delta / 3 and max(firsts) > 2 * delta / 3


# ------------------------------------------------------------ V2 sparse
@pytest.mark.parametrize('name,clip_len,clips', [
    ('kinetics400', 8, 4), ('mit', 8, 4), ('activitynet', 16, 10),
    ('kinetics400_light', 16, 1)])
def test_sparse_test_views(name, clip_len, clips, videos, tmp_path):
    files, root = videos
    cfg = load(name)
    crops = 3 if any(t['type'] == 'OfficialThreeCrop'
                     for t in cfg.test_pipeline) else 1
    ann = ''.join(f'{f} 1\n' for f in files.values())
    # a video shorter than the clip too
    short = write_video(tmp_path / 'short.mp4', 5, 30)
    ann += f'{short} 1\n'
    test = build(cfg.test_dataloader, tmp_path, ann, root, **SMALL)
    for i, n in enumerate(list(files) + [5]):
        got = views_by_clip(sampled(test, i), clips, crops)
        assert got.tolist() == [official_sparse(n, clip_len, k, clips)
                                for k in range(clips)], (name, n)


def test_sparse_train_clips(videos, tmp_path):
    files, root = videos
    cfg = load('kinetics400')
    ds = build(cfg.train_dataloader, tmp_path,
               ''.join(f'{f} 1\n' for f in files.values()), root)
    seen = {}
    for i, n in enumerate(files):
        bounds = official_sparse_bounds(n, 8)
        for _ in range(12):
            got = sampled(ds, i, 3)[0]
            for j, (lo, hi) in enumerate(bounds):
                assert lo <= got[j] <= hi, (n, j, got)
                seen.setdefault((n, j), set()).add(int(got[j]))
    # the draws cover the segments (not always their first frame)
    assert sum(len(v) > 1 for v in seen.values()) > len(seen) // 2


# ------------------------------------------------------------ SSv1 / SSv2
SS_LENGTHS = [12, 37, 50, 123, 250]


@pytest.mark.parametrize('name,tmpl', [('sthv1', '{:05}.jpg'),
                                       ('sthv2', 'img_{:05}.jpg')])
def test_something_something_frames(name, tmpl, tmp_path):
    """1-based frame files, the official segment rule over all of them (SSv2:
    the 30 fps frames), test (1 x 3 views) and train; the model input is
    BGR."""
    cfg = load(name)
    assert cfg.bgr_input is True
    assert cfg.train_dataloader.dataset.filename_tmpl == tmpl
    root = tmp_path / 'frames'
    for n in SS_LENGTHS:
        write_frames(root / f'v{n}', n, tmpl)
    ann = ''.join(f'v{n} {n} 3\n' for n in SS_LENGTHS)
    test = build(cfg.test_dataloader, tmp_path, ann, root, **SMALL)
    train = build(cfg.train_dataloader, tmp_path, ann, root)
    for i, n in enumerate(SS_LENGTHS):
        got = views_by_clip(sampled(test, i), 1, 3)
        assert got.tolist() == [official_sparse(n, 16, 0, 1)], (name, n)
        bounds = official_sparse_bounds(n, 16)
        for _ in range(5):
            got = sampled(train, i, 2)[0]
            assert all(lo <= g <= hi for g, (lo, hi) in zip(got, bounds))


def _extract_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        '_extract_frames', REPO / 'tools' / 'data' / 'sthv2' /
        'extract_frames.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sthv2_12fps_switch_reads_the_official_pictures(tmp_path):
    """Frames kept at 12 fps (and the webm videos themselves) with the
    frame-rate switch give the pictures the official loader reads from the
    30 fps frames extracted by tools/data/sthv2/extract_frames.py; without
    the switch other pictures are read."""
    tool = _extract_tool()
    cfg = load('sthv2')
    lengths = [7, 20, 45, 50]
    webm, frames30, frames12 = (tmp_path / d for d in ('webm', '30', '12'))
    webm.mkdir()
    for n in lengths:
        write_video(webm / f'{n}.webm', n, 12, codec='libvpx-vp9')
        count = tool.extract(str(webm / f'{n}.webm'), str(frames30 / str(n)),
                             fps=30, short_side=64)
        assert count == math.floor(n * 30 / 12 + 0.5)
        write_frames(frames12 / str(n), n, 'img_{:05}.jpg')
    # the official loader on the 30 fps frames: which 12 fps pictures
    want = {}
    for n in lengths:
        count = len(os.listdir(frames30 / str(n)))
        seq = [j + 1 for j in official_sparse(count, 16, 0, 1)]
        want[n] = [int(read_index(cv2.imread(
            str(frames30 / str(n) / f'img_{j:05}.jpg'))[..., ::-1]))
            for j in seq]
        img = cv2.imread(str(frames30 / str(n) / 'img_00001.jpg'))
        assert img.shape == (64, 85, 3)  # short side 64, 64 * 4 / 3 -> 85
    ann = ''.join(f'{n} {n} 3\n' for n in lengths)
    switch = build(cfg.test_dataloader, tmp_path, ann, frames12,
                   OfficialSparseSample=dict(frame_rate=12), **SMALL)
    plain = build(cfg.test_dataloader, tmp_path, ann, frames12, **SMALL)
    # the webm videos: the sampler takes their frame rate (12)
    video_pipeline = [dict(type='VideoInit')] + [
        t for t in cfg.test_pipeline if t['type'] != 'RawFrameDecode']
    video_pipeline.insert(2, dict(type='VideoDecode'))
    vcfg = cfg.test_dataloader.copy()
    vcfg.dataset = dict(type='RobustVideoDataset', pipeline=video_pipeline,
                        test_mode=True, accept_short=True)
    videos = build(vcfg, tmp_path, ''.join(f'{n}.webm 3\n'
                                           for n in lengths), webm, **SMALL)
    differs = 0
    for i, n in enumerate(lengths):
        assert views_by_clip(sampled(switch, i), 1, 3).tolist() == [want[n]]
        assert views_by_clip(sampled(videos, i), 1, 3).tolist() == [want[n]]
        differs += views_by_clip(sampled(plain, i), 1, 3).tolist() != [
            want[n]]
    assert differs >= 3



def test_extract_frames_cli(tmp_path, capsys):
    """extract_frames.py: every video of the folder, 30 fps, short side 320
    (default), FFmpeg JPEGs; a broken video is named in one line (exit
    status 1) and leaves nothing behind; a rerun skips finished videos."""
    tool = _extract_tool()
    videos = tmp_path / 'videos'
    videos.mkdir()
    write_video(videos / '3.webm', 6, 12, codec='libvpx-vp9')
    (videos / '10.webm').write_bytes(b'not a video')
    out = tmp_path / 'out'
    assert tool.main([str(videos), str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and err.startswith('10.webm: ')
    assert sorted(os.listdir(out)) == ['3']
    names = sorted(os.listdir(out / '3'))
    assert names == [f'img_{k:05}.jpg' for k in range(1, 16)]  # 6 x 2.5
    img = cv2.imread(str(out / '3' / 'img_00003.jpg'))[..., ::-1]
    assert img.shape == (320, 427, 3)
    assert [int(read_index(cv2.imread(str(out / '3' / n))[..., ::-1]))
            for n in names] == [0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5]
    (videos / '10.webm').unlink()
    assert tool.main([str(videos), str(out), '--ids',
                      str(tmp_path / 'nope.txt')]) == 2
    assert tool.main([str(videos), str(out)]) == 0
    assert '0 videos extracted' in capsys.readouterr().out

# ------------------------------------------------------------ crops
def official_view(frames, size, spatial_idx):
    """``utils.tensor_normalize`` + ``spatial_sampling`` with a fixed spatial
    index (``random_short_side_scale_jitter(size, size)`` +
    ``uniform_crop``) on (T, H, W, 3) uint8 frames -> (T, size, size, 3),
    normalised."""
    x = (torch.from_numpy(frames).float() / 255.0 - 0.45) / 0.225
    x = x.permute(3, 0, 1, 2)  # C T H W
    height, width = x.shape[2], x.shape[3]
    if not ((width <= height and width == size) or
            (height <= width and height == size)):
        new_w = new_h = size
        if width < height:
            new_h = int(math.floor((float(height) / width) * size))
        else:
            new_w = int(math.floor((float(width) / height) * size))
        x = torch.nn.functional.interpolate(x, size=(new_h, new_w),
                                            mode='bilinear',
                                            align_corners=False)
    height, width = x.shape[2], x.shape[3]
    y_off = int(math.ceil((height - size) / 2))
    x_off = int(math.ceil((width - size) / 2))
    if height > width:
        y_off = {0: 0, 1: y_off, 2: height - size}[spatial_idx]
    else:
        x_off = {0: 0, 1: x_off, 2: width - size}[spatial_idx]
    crop = x[:, :, y_off:y_off + size, x_off:x_off + size]
    return crop.permute(1, 2, 3, 0).numpy(), (x_off, y_off, height, width)


# (H, W) of the frames, crop size
SHAPES = [((256, 340), 224), ((240, 427), 224), ((320, 240), 224),
          ((224, 298), 224), ((360, 640), 336), ((128, 171), 112),
          ((224, 224), 224), ((230, 224), 224), ((240, 320), 224)]


@pytest.mark.parametrize('shape,size', SHAPES)
def test_official_test_crops(shape, size):
    """The test / val steps of the configs (OfficialShortSideResize +
    OfficialThreeCrop / OfficialCenterCrop) give the official views of a
    textured frame: sizes, offsets and pixels (normalised as the data
    preprocessor does)."""
    from mmaction.registry import TRANSFORMS
    cfg = load('kinetics400')
    rng = np.random.RandomState(sum(shape))
    frames = cv2.GaussianBlur(
        rng.randint(0, 256, (2, ) + shape + (3, )).astype(np.uint8)
        .reshape(2 * shape[0], shape[1], 3), (5, 5), 1).reshape(
            (2, ) + shape + (3, ))
    for pipeline, indices in ((cfg.test_pipeline, (0, 1, 2)),
                              (cfg.val_pipeline, (1, ))):
        steps = [t for t in pipeline if t['type'].startswith('Official')
                 and t['type'] != 'OfficialSparseSample']
        assert len(steps) == 2
        steps = update_present(steps,
                               OfficialShortSideResize=dict(short_side=size),
                               OfficialThreeCrop=dict(crop_size=size),
                               OfficialCenterCrop=dict(crop_size=size))
        results = dict(imgs=list(frames), img_shape=shape)
        for t in steps:
            results = TRANSFORMS.build(t)(results)
        out = np.asarray(results['imgs']).reshape(len(indices), 2, size,
                                                  size, 3)
        out = (out - 114.75) / 57.375
        for k, idx in enumerate(indices):
            want, (x_off, y_off, h, w) = official_view(frames, size, idx)
            boxes = np.asarray(results['crop_bbox']).reshape(-1, 4)
            assert boxes[k].tolist() == [x_off, y_off, x_off + size,
                                         y_off + size]
            np.testing.assert_allclose(out[k], want, atol=2e-5)
        if shape == (256, 340) and len(indices) == 3:  # the numbers
            assert (h, w) == (224, 297)
            assert boxes[:, 0].tolist() == [0, 37, 73]


def test_resize_round_to_uint8():
    """The memory-saving option: uint8 within half a grey level."""
    from uniformer_mm.datasets.transforms import OfficialShortSideResize
    rng = np.random.RandomState(0)
    frames = rng.randint(0, 256, (2, 256, 340, 3)).astype(np.uint8)
    exact = OfficialShortSideResize(224)(dict(imgs=list(frames)))['imgs']
    small = OfficialShortSideResize(224, round_to_uint8=True)(
        dict(imgs=list(frames)))['imgs']
    assert exact.dtype == np.float32 and small.dtype == np.uint8
    assert small.shape == exact.shape == (2, 224, 297, 3)
    assert np.abs(small - exact).max() <= 0.5 + 1e-4


def test_mmaction_resize_and_three_crop_differ():
    """mmaction2's Resize(-1, 224) + ThreeCrop put a 340x256 frame at 298
    wide and crop at 0 / 37 / 74: not the official views."""
    from mmaction.registry import TRANSFORMS
    results = dict(imgs=[np.zeros((256, 340, 3), np.uint8)],
                   img_shape=(256, 340))
    results = TRANSFORMS.build(dict(type='Resize', scale=(-1, 224)))(results)
    assert results['img_shape'] == (224, 298)
    results = TRANSFORMS.build(dict(type='ThreeCrop', crop_size=224))(
        dict(imgs=[np.zeros((224, 297, 3), np.uint8)], img_shape=(224, 297)))
    assert sorted(results['crop_bbox'][:, 0].tolist()) == [0, 36, 72]


def test_tools_read_the_official_transforms():
    """FLOPs / view counting and the short-video rule know the new steps."""
    from uniformer_mm.analysis.input_shape import infer_view_spec
    from uniformer_mm.datasets.robust_video import required_frames
    from uniformer_mm.datasets.transforms import OfficialDenseSample
    spec = infer_view_spec(knob_config(
        str(REPO / 'configs' / 'uniformerv2_k400.py')))
    assert (spec.shape, spec.clips, spec.crops) == ((3, 8, 224, 224), 4, 3)
    spec = infer_view_spec(knob_config(str(
        REPO / 'configs' / 'uniformer' /
        'uniformer-base_in1k-pre_32x4x1_kinetics400-rgb.py')))
    assert (spec.shape, spec.clips, spec.crops) == ((3, 32, 224, 224), 4, 1)
    assert required_frames(OfficialDenseSample(16, 4, 4, True), True) == 64



@pytest.mark.parametrize('shape', [(375, 500), (500, 333), (256, 256),
                                   (300, 301)])
@pytest.mark.parametrize('size', [224, 384])
def test_imagenet_eval_view(shape, size, tmp_path):
    """ImageNet val/test: the official eval transform (DeiT
    ``build_transform``: torchvision ``Resize(int(256 / 224 * size),
    bicubic)`` + ``CenterCrop(size)`` on PIL images), restated with PIL, on
    the same decoded pixels."""
    from PIL import Image
    from mmpretrain.registry import TRANSFORMS
    init_default_scope('mmpretrain')
    cfg = load('imagenet_bs128_uniformer')
    resize = int((256 / 224) * size)
    steps = update_transforms(cfg.test_pipeline.to_list()
                              if hasattr(cfg.test_pipeline, 'to_list')
                              else list(cfg.test_pipeline),
                              ResizeEdge=dict(scale=resize),
                              CenterCrop=dict(crop_size=size),
                              PackInputs=None)
    rng = np.random.RandomState(shape[0])
    rgb = cv2.GaussianBlur(rng.randint(0, 256, shape + (3, )).astype(
        np.uint8), (7, 7), 2)
    path = tmp_path / 'img.png'
    cv2.imwrite(str(path), rgb[..., ::-1])
    results = dict(img_path=str(path))
    for t in steps:
        results = TRANSFORMS.build(t)(results)
    ours = results['img'][..., ::-1]  # the data preprocessor's to_rgb

    img = Image.fromarray(rgb)
    w, h = img.size
    if (w <= h and w == resize) or (h <= w and h == resize):
        pass
    elif w < h:
        img = img.resize((resize, int(resize * h / w)), Image.BICUBIC)
    else:
        img = img.resize((int(resize * w / h), resize), Image.BICUBIC)
    w, h = img.size
    top = int(round((h - size) / 2.0))
    left = int(round((w - size) / 2.0))
    want = np.asarray(img.crop((left, top, left + size, top + size)))
    assert ours.shape == want.shape == (size, size, 3)
    assert np.array_equal(ours, want)


IMAGE_ROWS = sorted(p.name for p in (REPO / 'configs' / 'uniformer').glob(
    'uniformer-*_8xb*_in1k*.py'))


@pytest.mark.parametrize('row', IMAGE_ROWS)
def test_imagenet_rows_resize_as_the_official_eval(row):
    """DeiT rows: short side int(256 / 224 * S); token-labeling rows (timm
    0.4.5 validate.py, ViT default crop_pct 0.9): floor(S / 0.9)."""
    cfg = knob_config(str(REPO / 'configs' / 'uniformer' / row))
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        steps = {t['type']: t for t in loader.dataset.pipeline}
        size = steps['CenterCrop']['crop_size']
        want = math.floor(size / 0.9) if '-tl' in row else \
            int((256 / 224) * size)
        assert steps['ResizeEdge']['scale'] == want, (row, size)
        assert steps['ResizeEdge']['backend'] == 'pillow'


# ------------------------------------------------------------ logits
def to_official_v2(state_dict):
    """Our UniFormerV2 recognizer keys -> the official layout (the
    ``Uniformerv2`` wrapper's ``backbone.`` prefix, ``transformer.proj.0``
    LayerNorm and ``transformer.proj.2`` classifier)."""
    out = {}
    for k, v in state_dict.items():
        if k.startswith('backbone.transformer.norm.'):
            k = 'backbone.transformer.proj.0.' + k.rsplit('.', 1)[-1]
        elif k.startswith('cls_head.fc_cls.'):
            k = 'backbone.transformer.proj.2.' + k.rsplit('.', 1)[-1]
        out[k] = v.clone()
    return out


TINY_V2 = dict(input_resolution=32, patch_size=16, width=32, layers=3,
               heads=2)


@pytest.mark.slow
def test_official_ssv2_checkpoint_through_tools_test(tmp_path):
    """An official-format SSv2 UniFormerV2 checkpoint (random weights, tiny
    arch) evaluated by tools/test.py with the zoo's SSv2 config on 30 fps
    frames gives the softmax-averaged scores of the model fed the official
    input -- BGR frames (cv2), official indices, resize and crops -- and
    not those of the RGB input."""
    from mmaction.registry import MODELS
    n, clip_len, size = 37, 8, 32
    folder = tmp_path / 'frames' / 'clip'
    folder.mkdir(parents=True)
    rng = np.random.RandomState(0)
    for i in range(n):  # 40x57 textured frames, short side -> 32
        img = cv2.GaussianBlur(rng.randint(0, 256, (40, 57, 3)).astype(
            np.uint8), (5, 5), 1) // 3
        img[..., 0] += 10  # dark blue, bright red: the order shows
        img[..., 2] += 160
        cv2.imwrite(str(folder / f'img_{i + 1:05}.jpg'), img)  # BGR file
    (tmp_path / 'val.txt').write_text(f'clip {n} 7\n')
    child = tmp_path / 'cfg.py'
    child.write_text(f'''
_base_ = [{str(REPO / "configs" / "uniformerv2_sthv2.py")!r}]
model = dict(backbone=dict(arch=dict(_delete_=True, **{TINY_V2!r}),
                           return_list=[1, 2],
                           n_layers=2, t_size={clip_len},
                           clip_pretrained=None),
             cls_head=dict(in_channels=32))
clip_len = {clip_len}
crop_size = {size}
ann_file_test = {str(tmp_path / "val.txt")!r}
data_root_val = {str(tmp_path / "frames")!r}
test_dataloader = dict(num_workers=0, persistent_workers=False)
''')
    cfg = knob_config(str(child))
    assert cfg.model.data_preprocessor.to_rgb is True
    model = MODELS.build(cfg.model.to_dict())
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for k, v in model.state_dict().items():
            if v.is_floating_point():
                v.copy_(0.5 + torch.rand(v.shape, generator=g)
                        if k.endswith('running_var') else
                        0.2 * torch.randn(v.shape, generator=g))
    model.eval()
    ckpt = tmp_path / 'sthv2_uniformerv2_tiny.pyth'
    torch.save(to_official_v2(model.state_dict()), ckpt)  # raw, as released

    dump = tmp_path / 'scores.pkl'
    proc = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'test.py'), str(child),
         str(ckpt), '--dump', str(dump), '--work-dir', str(tmp_path / 'w')],
        cwd=str(REPO), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(dump, 'rb') as f:
        result = pickle.load(f)
    assert len(result) == 1
    scores = torch.as_tensor(result[0]['pred_score']).float()

    # the official input, restated: cv2 frames (BGR), sth.py indices (1-based
    # files), spatial_sampling views; the model takes (views, 3, T, H, W)
    seq = [j + 1 for j in official_sparse(n, clip_len, 0, 1)]
    bgr = np.stack([cv2.imread(str(folder / f'img_{j:05}.jpg'))
                    for j in seq])

    def views(frames):
        out = [official_view(frames, size, idx)[0] for idx in (0, 1, 2)]
        return torch.from_numpy(np.stack(out)).permute(0, 4, 1, 2, 3)

    with torch.no_grad():
        def predict(x):
            return model.cls_head(model.backbone(x)).softmax(-1).mean(0)
        want = predict(views(bgr))
        rgb = predict(views(np.ascontiguousarray(bgr[..., ::-1])))
    diff = (scores.log() - want.log()).abs().max()
    assert diff < 1e-4, diff
    assert (rgb.log() - want.log()).abs().max() > 1e-2  # the order matters
