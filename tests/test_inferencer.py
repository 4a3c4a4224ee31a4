"""``UniFormerInferencer``: inputs (video files, images, frame folders,
arrays, lists, folders), batching, top-k dicts and class names from the
checkpoint. (Scores against ``tools/test.py --dump``: ``test_hub.py``.)

Tiny models with random weights saved as checkpoints; media from
``tests/data``.
"""
from pathlib import Path

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config

from uniformer_mm import UniFormerInferencer
from uniformer_mm.apis.inferencer import FrameFolder

from test_checkpoint import (TINY, build, perturb_,  # noqa: I100
                             v1_model_cfg)

DATA = Path(__file__).resolve().parent / 'data'
VIDEO = DATA / 'videos' / 'test.mp4'
FRAMES = DATA / 'frames'
NAMES = ['a', 'b', 'c', 'd', 'e']

VIDEO_PIPELINE = [
    dict(type='VideoInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1,
         test_mode=True),
    dict(type='VideoDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
IMAGE_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=72, edge='short'),
    dict(type='CenterCrop', crop_size=64),
    dict(type='PackInputs'),
]


def _model(tmp_path, kind, pipeline, seed):
    cfg = v1_model_cfg(kind, TINY)
    if kind == 'video':
        cfg['cls_head']['average_clips'] = 'prob'
        cfg['data_preprocessor'] = dict(
            type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375], format_shape='NCTHW')
    else:
        cfg['data_preprocessor'] = dict(
            type='ClsDataPreprocessor', mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375], to_rgb=True)
    config = tmp_path / f'{kind}.py'
    Config(dict(model=cfg, test_pipeline=pipeline, custom_imports=dict(
        imports=['uniformer_mm']))).dump(str(config))
    model = perturb_(build(cfg), seed=seed)
    ckpt = tmp_path / f'{kind}.pth'
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': {'classes': NAMES}}}, ckpt)
    return str(config), str(ckpt)


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    config, ckpt = _model(tmp_path_factory.mktemp('video'), 'video',
                          VIDEO_PIPELINE, seed=0)
    return UniFormerInferencer(config, pretrained=ckpt)


@pytest.fixture(scope='module')
def image(tmp_path_factory):
    config, ckpt = _model(tmp_path_factory.mktemp('image'), 'image',
                          IMAGE_PIPELINE, seed=1)
    return UniFormerInferencer(config, pretrained=ckpt)


def _frames():
    return np.stack([mmcv.imread(str(p), channel_order='rgb')
                     for p in sorted(FRAMES.glob('*.jpg'))])


def test_video_inputs_and_result_dicts(video):
    (r, ) = video(str(VIDEO), topk=3)
    assert r['input'] == str(VIDEO) and r['num_views'] == 1
    scores = r['pred_scores']
    assert scores.shape == (5, ) and scores.dtype == np.float32
    assert abs(scores.sum() - 1) < 1e-5
    order = np.argsort(-scores, kind='stable')
    assert r['pred_label'] == order[0]
    assert r['pred_score'] == pytest.approx(float(scores[order[0]]))
    assert r['pred_class'] == NAMES[order[0]]  # from the checkpoint's meta
    assert [(t['label'], t['class']) for t in r['topk']] == [
        (int(i), NAMES[i]) for i in order[:3]]
    assert scores.std() > 1e-3  # the weights matter

    # a frame folder is one video: the same as its frames as an array
    by_folder, by_array = video([str(FRAMES), _frames()])
    assert by_folder['input'] == str(FRAMES)
    assert by_array['input'] == '<array (10, 240, 320, 3)>'
    np.testing.assert_allclose(by_folder['pred_scores'],
                               by_array['pred_scores'], atol=1e-6)
    # an image for a video model: a one-frame video
    (one, ) = video(str(DATA / 'test.jpg'))
    assert one['num_views'] == 1 and one['pred_scores'].shape == (5, )


def test_video_batches_give_the_same_scores(video):
    inputs = [str(VIDEO), str(FRAMES), _frames()[:6],
              str(DATA / 'videos' / 'test.avi')]
    single = video(inputs, batch_size=1)
    batched = video(inputs, batch_size=3)
    assert [r['input'] for r in single] == [r['input'] for r in batched]
    for a, b in zip(single, batched):
        np.testing.assert_allclose(a['pred_scores'], b['pred_scores'],
                                   rtol=1e-4, atol=1e-6)
    samples = video(str(VIDEO), return_datasamples=True)
    assert torch.allclose(samples[0].pred_score.float(),
                          torch.from_numpy(single[0]['pred_scores']))


def test_image_inputs(image, tmp_path):
    files = sorted(FRAMES.glob('*.jpg'))[:3]
    by_file = image([str(f) for f in files], batch_size=2)
    assert [r['num_views'] for r in by_file] == [1, 1, 1]
    arrays = image([mmcv.imread(str(f), channel_order='rgb') for f in files])
    for a, b in zip(by_file, arrays):
        np.testing.assert_allclose(a['pred_scores'], b['pred_scores'],
                                   atol=1e-6)
    # a folder stands for its images
    folder = tmp_path / 'imgs'
    folder.mkdir()
    for f in files:
        (folder / f.name).write_bytes(f.read_bytes())
    by_folder = image(str(folder))
    assert [Path(r['input']).name for r in by_folder] == [f.name
                                                          for f in files]
    for a, b in zip(by_file, by_folder):
        np.testing.assert_allclose(a['pred_scores'], b['pred_scores'],
                                   atol=1e-6)
    with pytest.raises(ValueError, match='a video, but the model classifies '
                       'images'):
        image(str(VIDEO))


def test_bad_inputs(video, tmp_path):
    with pytest.raises(FileNotFoundError, match='neither frames'):
        video(str(tmp_path))
    with pytest.raises(FileNotFoundError, match='no frames'):
        FrameFolder(str(tmp_path))
    with pytest.raises(FileNotFoundError, match='no such file'):
        video(str(tmp_path / 'missing.mp4'))
    with pytest.raises(ValueError, match='batch_size'):
        video(str(VIDEO), batch_size=0)
