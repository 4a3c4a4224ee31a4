"""Faults and bad input: training survives bad data and crashes, and loses
nothing (docs/faults.md).

* bad videos (truncated, empty, not a video, missing, too short) mixed into
  a small data set of good ones: training and testing finish, the bad files
  are named in the log, the counts are right; mostly broken data stops;
* annotation lists and configs with mistakes: the message names the file and
  line or the key;
* a NaN loss is skipped, too many in a row stop training with the last
  checkpoint intact;
* SIGKILL in the middle of writing a checkpoint, then ``--resume``; SIGTERM
  saves a checkpoint that ``--resume`` continues from;
* checkpoints are loaded with ``weights_only=True``.

The good videos come from the synthetic demo generator (32x32, 16 frames);
the broken ones are made from the real Kinetics clip in tests/data/videos.
"""
import glob
import os
import os.path as osp
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import uniformer_mm  # noqa: F401 - registers everything
from uniformer_mm.datasets import make_video_demo
from uniformer_mm.datasets.robust_video import (BAD_SAMPLES_KEY,
                                                RobustVideoDataset,
                                                TooManyBadSamplesError,
                                                robust_collate)
from uniformer_mm.datasets.validate import (AnnotationError,
                                            validate_video_list)
from uniformer_mm.engine import ConfigCheckError, check_config

from _paths import KINETICS_CLIP as REAL_MP4
from _paths import REPO

TRAIN_PY = REPO / 'tools' / 'train.py'
CLIP_LEN = 16
BAD_NAMES = ('bad/truncated.mp4', 'bad/empty.mp4', 'bad/text.mp4',
             'bad/missing.mp4', 'bad/short3.mp4')

# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def _write_short_video(path, frames=3, size=32):
    import cv2
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 8,
                             (size, size))
    assert writer.isOpened()
    rng = np.random.default_rng(0)
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    writer.release()


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """root/demo (good synthetic videos), root/bad (broken ones), lists."""
    root = tmp_path_factory.mktemp('faults_data')
    demo = make_video_demo(root / 'demo', num_train_per_class=2,
                           num_val_per_class=1, num_frames=CLIP_LEN, size=32)
    bad = root / 'bad'
    bad.mkdir()
    blob = REAL_MP4.read_bytes()
    (bad / 'truncated.mp4').write_bytes(blob[:len(blob) * 30 // 100])
    (bad / 'empty.mp4').write_bytes(b'')
    (bad / 'text.mp4').write_text('this is a text file, not a video\n')
    _write_short_video(bad / 'short3.mp4', frames=3)

    def demo_lines(split):
        with open(demo[f'{split}_list']) as f:
            return [f'demo/{line}' for line in f.read().splitlines()]

    good_train = demo_lines('train')  # 8 videos, labels 0..3
    good_val = demo_lines('val')  # 4 videos
    bad_lines = [f'{name} {i % 4}' for i, name in enumerate(BAD_NAMES)]
    lists = {
        'train_good': good_train,
        'val_good': good_val,
        # a real Kinetics video among the good ones (absolute path)
        'train_bad': good_train[:4] + bad_lines[:3] + good_train[4:]
        + [f'{REAL_MP4} 0'] + bad_lines[3:],
        'test_bad': good_val[:2] + bad_lines + good_val[2:],
    }
    paths = {}
    for name, lines in lists.items():
        paths[name] = root / f'{name}.txt'
        paths[name].write_text('\n'.join(lines) + '\n')
    return dict(root=root, lists=paths,
                n={k: len(v) for k, v in lists.items()})


def pipeline(test_mode=False, clip_len=CLIP_LEN):
    return [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=clip_len, frame_interval=1,
             num_clips=1, test_mode=test_mode),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs'),
    ]


def new_dataset(**kwargs):
    """A RobustVideoDataset built in mmaction2's scope (as a runner does)."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmaction'):
        return RobustVideoDataset(**kwargs)


def robust_dataset(data, list_name, test_mode=False, **kwargs):
    kwargs.setdefault('on_missing', 'keep')
    kwargs.setdefault('max_bad_fraction', 0.6)
    return new_dataset(
        ann_file=str(data['lists'][list_name]),
        data_prefix=dict(video=str(data['root'])),
        pipeline=pipeline(test_mode), test_mode=test_mode, num_classes=4,
        **kwargs)


def tiny_cfg(work_dir, data, train_list='train_good', **over):
    """A tiny UniFormer video config (plain dict) on the test data."""
    cfg = dict(
        default_scope='mmaction',
        work_dir=str(work_dir),
        # unique per test: runners of one process share a logger by name
        experiment_name=f'faults_{Path(work_dir).parent.name}',
        model=dict(
            type='Recognizer3D',
            backbone=dict(
                type='UniFormerVideo',
                arch=dict(embed_dims=[16, 32, 64, 64], depths=[1, 1, 1, 1],
                          head_dim=16)),
            cls_head=dict(type='I3DHead', in_channels=64, num_classes=4,
                          spatial_type='avg', dropout_ratio=0.,
                          average_clips='prob'),
            data_preprocessor=dict(
                type='ActionDataPreprocessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375], format_shape='NCTHW')),
        train_dataloader=make_loader(data, train_list, False, 2),
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=2,
                       val_interval=100),
        optim_wrapper=dict(type='SkipNonFiniteOptimWrapper',
                           optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        default_hooks=dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=1),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=dict(type='AtomicCheckpointHook', interval=1),
            sampler_seed=dict(type='DistSamplerSeedHook')),
        env_cfg=dict(cudnn_benchmark=False,
                     mp_cfg=dict(mp_start_method='fork',
                                 opencv_num_threads=0),
                     dist_cfg=dict(backend='gloo')),
        randomness=dict(seed=0),
        log_level='INFO',
        launcher='none',
        load_from=None,
        resume=False)
    cfg.update(over)
    return cfg


def make_loader(data, list_name, test_mode, batch_size, workers=0,
                clip_len=8, **ds):
    """A data loader config; 8-frame clips unless asked (CPU time)."""
    root = str(data['root'])
    ds_type = ds.pop('type', 'VideoDataset')
    return dict(
        batch_size=batch_size, num_workers=workers,
        persistent_workers=workers > 0,
        sampler=dict(type='DefaultSampler', shuffle=not test_mode),
        dataset=dict(type=ds_type, ann_file=str(data['lists'][list_name]),
                     data_prefix=dict(video=root),
                     pipeline=pipeline(test_mode, clip_len),
                     test_mode=test_mode, **ds))


def read_log(work_dir):
    logs = sorted(glob.glob(osp.join(str(work_dir), '*', '*.log')))
    assert logs, f'no log in {work_dir}'
    return '\n'.join(Path(p).read_text() for p in logs)


def build_runner(cfg):
    from mmengine.config import Config
    from mmengine.runner import Runner
    return Runner.from_cfg(Config(cfg))


# --------------------------------------------------------------------------
# annotation lists
# --------------------------------------------------------------------------
def test_annotation_errors_name_file_and_line(tmp_path):
    (tmp_path / 'a.mp4').write_bytes(b'x')
    ann = tmp_path / 'train.txt'
    ann.write_text('a.mp4 0\n'
                   'a.mp4\n'  # 2: no label
                   'b c.mp4 1\n'  # 3: three fields
                   'a.mp4 x\n'  # 4: label not an int
                   '\n'  # blank lines are fine
                   'a.mp4 7\n')  # 6: label out of range
    with pytest.raises(AnnotationError) as e:
        validate_video_list(str(ann), str(tmp_path), num_classes=4)
    msg = str(e.value)
    for lineno in (2, 3, 4):
        assert f'train.txt:{lineno}:' in msg, msg
    assert 'train.txt:6: label 7 is outside [0, 4)' in msg, msg
    assert 'malformed' in msg and str(ann) in msg


def test_annotation_missing_and_duplicates(tmp_path):
    for i in range(3):
        (tmp_path / f'v{i}.mp4').write_bytes(b'x')
    ann = tmp_path / 'train.txt'
    ann.write_text('v0.mp4 0\nv1.mp4 1\nsub/gone.mp4 1\nv2.mp4 2\n'
                   'v1.mp4 1\nalso_gone.mp4 0\n')
    with pytest.raises(AnnotationError) as e:
        validate_video_list(str(ann), str(tmp_path), on_missing='error')
    msg = str(e.value)
    assert ('2 of 6 videos listed in train.txt are missing' in msg
            and 'first: line 3: sub/gone.mp4' in msg), msg

    warnings = []
    report = validate_video_list(str(ann), str(tmp_path), on_missing='skip',
                                 on_duplicate='skip',
                                 logger=warnings.append)
    assert [e.lineno for e in report.entries] == [1, 2, 4]
    assert any('duplicate' in w and 'train.txt:5: v1.mp4 (first listed on '
               'line 2)' in w for w in warnings), warnings
    assert any('2 of 6 videos' in w for w in warnings), warnings

    with pytest.raises(AnnotationError, match='duplicate.*train.txt:5'):
        validate_video_list(str(ann), str(tmp_path), on_missing='keep',
                            on_duplicate='error')
    # skipping is capped too: a list that is mostly missing is an error
    with pytest.raises(AnnotationError, match='max_bad_fraction=0.25'):
        validate_video_list(str(ann), str(tmp_path), on_missing='skip',
                            max_missing_fraction=0.25)


def test_dataset_validates_at_load_time(tmp_path, data):
    ann = tmp_path / 'bad_labels.txt'
    ann.write_text('demo/videos/train/move_left_0000.mp4 0\n'
                   'demo/videos/train/move_left_0001.mp4 9\n')
    with pytest.raises(AnnotationError, match=r'bad_labels.txt:2: label 9'):
        new_dataset(ann_file=str(ann),
                    data_prefix=dict(video=str(data['root'])),
                    pipeline=pipeline(), num_classes=4)
    # missing files skipped at load time (the default), and counted
    ds = robust_dataset(data, 'train_bad', on_missing='skip')
    assert len(ds) == data['n']['train_bad'] - 1
    assert [m['path'] for m in ds.load_report['missing']] == [
        'bad/missing.mp4']


# --------------------------------------------------------------------------
# bad samples, data set level
# --------------------------------------------------------------------------
def test_bad_samples_are_replaced_and_reported(data, caplog):
    ds = robust_dataset(data, 'test_bad', test_mode=True)
    n = len(ds)
    records = []
    for i in range(n):
        sample = ds[i]
        assert sample['inputs'].shape == (1, 3, CLIP_LEN, 32, 32)
        records += sample['data_samples'].metainfo.get(BAD_SAMPLES_KEY, [])
    by_name = {osp.relpath(r['path'], str(data['root'])): r for r in records}
    assert sorted(by_name) == sorted(BAD_NAMES)
    kinds = {k: r['kind'] for k, r in by_name.items()}
    assert kinds == {'bad/truncated.mp4': 'decode', 'bad/empty.mp4': 'empty',
                     'bad/text.mp4': 'decode', 'bad/missing.mp4': 'missing',
                     'bad/short3.mp4': 'short'}
    assert 'truncated, corrupt or not a video' in \
        by_name['bad/truncated.mp4']['reason']
    assert by_name['bad/short3.mp4']['reason'].startswith(
        'short video: 3 frames, the clip needs 16')
    assert by_name['bad/empty.mp4']['line'] == 4  # line in test_bad.txt


def test_short_video_accepted_and_skip_mode(data):
    ds = robust_dataset(data, 'test_bad', test_mode=True, accept_short=True)
    idx = [i for i in range(len(ds))
           if ds.get_data_info(i)['filename'].endswith('short3.mp4')][0]
    sample = ds[idx]  # looped by SampleFrames, reported, not replaced
    assert sample['inputs'].shape == (1, 3, CLIP_LEN, 32, 32)
    short = sample['data_samples'].metainfo['short_video']
    assert short['kind'] == 'short' and 'short3.mp4' in short['path']

    ds = robust_dataset(data, 'test_bad', test_mode=True, on_bad='skip')
    items = [ds[i] for i in range(len(ds))]
    batch = robust_collate(items)
    assert len(batch['inputs']) == len(ds) - len(BAD_NAMES)
    assert len(batch[BAD_SAMPLES_KEY]) == len(BAD_NAMES)
    only_bad = robust_collate([items[2]])
    assert set(only_bad) == {BAD_SAMPLES_KEY}


def test_mostly_broken_data_stops(data, tmp_path):
    # more bad samples than max_bad_fraction: counted by BadSampleHook in the
    # main process (the same for any num_workers)
    cfg = tiny_cfg(
        tmp_path / 'work', data,
        test_dataloader=make_loader(
            data, 'test_bad', True, 1, clip_len=CLIP_LEN,
            type='RobustVideoDataset', on_bad='skip', on_missing='keep',
            max_bad_fraction=0.2, num_classes=4),
        test_evaluator=dict(type='AccMetric'), test_cfg=dict(type='TestLoop'),
        custom_hooks=[dict(type='BadSampleHook')])
    with pytest.raises(TooManyBadSamplesError,
                       match=r'5 of the 9 samples drawn so far .* were bad '
                       r'\(56% > max_bad_fraction=0.2\)'):
        build_runner(cfg).test()
    # a run of failures
    ann = tmp_path / 'all_bad.txt'
    ann.write_text(''.join(f'{n} 0\n' for n in BAD_NAMES[:3]) * 2)
    ds = new_dataset(ann_file=str(ann),
                     data_prefix=dict(video=str(data['root'])),
                     pipeline=pipeline(), max_consecutive_bad=4,
                     max_bad_fraction=1., on_duplicate='warn')
    with pytest.raises(TooManyBadSamplesError, match='4 samples in a row'):
        ds[0]


# --------------------------------------------------------------------------
# bad samples, training and testing
# --------------------------------------------------------------------------
@pytest.mark.slow
def test_training_and_testing_survive_bad_videos(data, tmp_path):
    work_dir = tmp_path / 'work'
    robust = dict(type='RobustVideoDataset', on_missing='keep',
                  max_bad_fraction=0.6, num_classes=4)
    cfg = tiny_cfg(
        work_dir, data,
        train_dataloader=make_loader(data, 'train_bad', False, 4, workers=1,
                                     clip_len=CLIP_LEN, **robust),
        test_dataloader=make_loader(data, 'test_bad', True, 2,
                                    clip_len=CLIP_LEN, **robust),
        test_evaluator=dict(type='AccMetric'),
        test_cfg=dict(type='TestLoop'),
        custom_hooks=[dict(type='BadSampleHook')])
    assert check_config(cfg) == []
    runner = build_runner(cfg)
    runner.train()
    hook = [h for h in runner.hooks if type(h).__name__ == 'BadSampleHook'][0]
    train_report = hook.last_report['train']
    assert train_report['bad_samples'] == len(BAD_NAMES)  # last epoch
    assert train_report['bad_loads'] >= len(BAD_NAMES)
    metrics = runner.test()
    assert metrics['bad_samples'] == len(BAD_NAMES)
    # test mode replaces by the next video: the chain from the first bad one
    # also tries the four after it (named, not counted as more failed draws)
    assert metrics['bad_loads'] == 5
    assert metrics['missing_videos'] == 0
    assert 'acc/top1' in metrics

    log = read_log(work_dir)
    for name in BAD_NAMES:
        assert name in log, f'{name} not named in the log'
    assert log.count('Epoch(train) [1]: 5 bad videos') == 1, log
    assert 'Epoch(train) [2]: 5 bad videos' in log
    assert 'Test: 5 bad videos (5 failed loads)' in log
    assert 'file not found' in log and 'empty file (0 bytes)' in log
    assert 'short video: 3 frames, the clip needs 16' in log
    assert osp.isfile(work_dir / 'epoch_2.pth')


def test_skip_mode_in_testing(data, tmp_path):
    """on_bad='skip': the bad videos are left out of the predictions; a
    batch of bad videos only is not run at all."""
    work_dir = tmp_path / 'work'
    dump = tmp_path / 'preds.pkl'
    cfg = tiny_cfg(
        work_dir, data,
        test_dataloader=make_loader(
            data, 'test_bad', True, 1, clip_len=CLIP_LEN,
            type='RobustVideoDataset', on_bad='skip', on_missing='keep',
            max_bad_fraction=0.6, num_classes=4),
        test_evaluator=[dict(type='AccMetric'),
                        dict(type='DumpResults', out_file_path=str(dump))],
        test_cfg=dict(type='TestLoop'),
        custom_hooks=[dict(type='BadSampleHook')])
    metrics = build_runner(cfg).test()
    assert (metrics['bad_samples'], metrics['bad_loads']) == (5, 5)
    with open(dump, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == data['n']['test_bad'] - len(BAD_NAMES)
    log = read_log(work_dir)
    assert 'Test: 5 bad videos (5 failed loads)' in log
    assert '(skipped)' in log


# --------------------------------------------------------------------------
# config checks
# --------------------------------------------------------------------------
def _ok_cfg(data, tmp_path):
    return tiny_cfg(tmp_path / 'w', data)


def _check_error(cfg, mode='train'):
    with pytest.raises(ConfigCheckError) as e:
        check_config(cfg, mode=mode)
    return str(e.value)


def test_config_checks(data, tmp_path):
    cfg = _ok_cfg(data, tmp_path)
    assert check_config(cfg) == []

    bad = _ok_cfg(data, tmp_path)
    bad['model']['backbone']['arch'] = 'smal'
    msg = _check_error(bad)
    assert msg.startswith("model.backbone.arch: Unknown UniFormer arch 'smal'")
    assert '\n' not in msg

    bad = _ok_cfg(data, tmp_path)
    bad['model']['backbone'] = dict(type='UniFormerV2Video', arch='vit-b/15')
    assert _check_error(bad).startswith('model.backbone.arch: unknown arch')

    bad = _ok_cfg(data, tmp_path)
    bad['train_dataloader']['dataset']['pipeline'][3]['scale'] = (56, 56)
    msg = _check_error(bad)
    assert msg.startswith('train_dataloader.dataset.pipeline[3: Resize]: '
                          'input size 56x56 is not a multiple of 32'), msg

    bad = _ok_cfg(data, tmp_path)
    bad['model']['backbone'] = dict(type='UniFormerV2Video', arch='vit-l14')
    msg = _check_error(bad)
    assert 'not a multiple of 14, which UniFormerV2Video (patch size 14)' \
        in msg, msg

    bad = _ok_cfg(data, tmp_path)
    bad['train_dataloader']['dataset']['data_root'] = str(tmp_path / 'nope')
    msg = _check_error(bad)
    assert msg.startswith('train_dataloader.dataset.data_root: directory')
    assert str(tmp_path / 'nope') in msg and 'docs/datasets/' in msg

    bad = _ok_cfg(data, tmp_path)
    bad['train_dataloader']['dataset']['ann_file'] = str(tmp_path / 'x.txt')
    msg = _check_error(bad)
    assert msg.startswith('train_dataloader.dataset.ann_file: annotation '
                          f"file '{tmp_path / 'x.txt'}' does not exist")

    # labels beyond the head's num_classes (the list has labels 0..3)
    bad = _ok_cfg(data, tmp_path)
    bad['model']['cls_head']['num_classes'] = 3
    msg = _check_error(bad)
    assert ('train_dataloader.dataset.ann_file (num_classes from '
            'model.cls_head.num_classes): 2 labels out of range in') in msg
    assert 'train_good.txt:7: label 3 is outside [0, 3)' in msg, msg

    bad = _ok_cfg(data, tmp_path)
    bad['train_dataloader']['dataset'].update(type='RobustVideoDataset',
                                              on_bad='skip')
    assert "on_bad='skip' needs the BadSampleHook" in _check_error(bad)

    # test mode only looks at the test data
    assert check_config(dict(bad, test_dataloader=None), mode='test') == []


def test_config_check_head_mismatch(data, tmp_path):
    cfg = _ok_cfg(data, tmp_path)
    ckpt = tmp_path / 'k400.pth'
    torch.save({'state_dict': {
        'backbone.norm.weight': torch.ones(64),
        'cls_head.fc_cls.weight': torch.zeros(400, 64),
        'cls_head.fc_cls.bias': torch.zeros(400)}}, ckpt)
    cfg['load_from'] = str(ckpt)
    msg = _check_error(cfg)
    assert msg.startswith('model.cls_head.num_classes=4 but the classifier '
                          f'of load_from={ckpt} has [400] classes'), msg
    assert 'cls_head.fc_cls.weight has 400 rows' in msg
    cfg['allow_head_mismatch'] = True
    assert check_config(cfg) == []


def test_config_check_missing_checkpoints(data, tmp_path):
    cfg = _ok_cfg(data, tmp_path)
    cfg['load_from'] = str(tmp_path / 'typo.pth')
    msg = _check_error(cfg)
    assert msg == (f'load_from: {tmp_path / "typo.pth"} does not exist; give '
                   'the checkpoint file (official and converted checkpoints: '
                   'docs/checkpoints.md)')
    cfg['load_from'] = 'uniformer://' + str(tmp_path)
    assert _check_error(cfg).startswith(
        f'load_from: {tmp_path} is a directory;')
    assert _check_error(cfg, mode='test').startswith('load_from:')
    cfg['load_from'] = 'https://example.com/k400.pth'  # not checked
    assert check_config(cfg) == []

    cfg = _ok_cfg(data, tmp_path)
    cfg['model']['backbone']['init_cfg'] = dict(
        type='Pretrained', checkpoint=str(tmp_path / 'in1k.pth'))
    msg = _check_error(cfg)
    assert msg.startswith('model.backbone.init_cfg.checkpoint: '
                          f'{tmp_path / "in1k.pth"} does not exist'), msg
    # testing loads a whole checkpoint: the init weights are not read
    assert check_config(cfg, mode='test') == []
    torch.save({}, tmp_path / 'in1k.pth')
    assert check_config(cfg) == []

    cfg = _ok_cfg(data, tmp_path)
    cfg['model']['backbone'] = dict(type='UniFormerV2Video', arch='vit-b16',
                                    clip_pretrained='checkpoints/no.pt')
    assert 'model.backbone.clip_pretrained: checkpoints/no.pt does not ' \
        'exist' in _check_error(cfg)
    cfg['config_checks'] = dict(skip=['checkpoints'])
    assert check_config(cfg) == []


def test_tools_report_config_mistakes_in_one_line(data, tmp_path, capsys):
    import importlib.util

    from mmengine.config import Config
    spec = importlib.util.spec_from_file_location('_faults_train_cli',
                                                  str(TRAIN_PY))
    train_cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_cli)
    cfg = _ok_cfg(data, tmp_path)
    cfg['model']['backbone']['arch'] = 'smal'
    cfg['train_dataloader']['dataset']['ann_file'] = 'nope.txt'
    path = tmp_path / 'bad_cfg.py'
    Config(cfg).dump(str(path))
    with pytest.raises(SystemExit) as e:
        train_cli.main([str(path)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("train.py: error: model.backbone.arch: Unknown "
                             "UniFormer arch 'smal'"), err
    assert err[1].startswith('  train_dataloader.dataset.ann_file: '
                             "annotation file 'nope.txt' does not exist"), err
    assert len(err) == 2


# --------------------------------------------------------------------------
# non-finite loss
# --------------------------------------------------------------------------
def test_optim_wrapper_skips_nonfinite_unit():
    import torch.nn as nn
    from mmengine.logging import MessageHub
    from mmengine.optim import build_optim_wrapper

    from uniformer_mm.engine import NonFiniteLossError
    MessageHub.get_instance('faults_unit')
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    wrapper = build_optim_wrapper(model, dict(
        type='SkipNonFiniteOptimWrapper', max_consecutive_skips=2,
        optimizer=dict(type='SGD', lr=0.1)))

    def step(x):
        with wrapper.optim_context(model):
            loss = model(x).sum()
        wrapper.update_params(loss)

    step(torch.randn(8, 3))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    step(torch.full((8, 3), float('nan')))  # skipped
    after = model.state_dict()
    for k in before:  # neither parameters nor BN statistics changed
        assert torch.equal(before[k], after[k]), k
    assert wrapper.skipped_steps == 1 and wrapper.consecutive_skips == 1
    step(torch.randn(8, 3))  # a good step resets the run
    assert wrapper.consecutive_skips == 0
    step(torch.full((8, 3), float('inf')))
    with pytest.raises(NonFiniteLossError, match='2 consecutive steps'):
        step(torch.full((8, 3), float('nan')))


def _register_nan_hook():
    """A test hook that zeroes the data preprocessor's std for some
    iterations, so that the inputs and then the loss are NaN/inf."""
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS

    class NaNInjectHook(Hook):

        def __init__(self, iters):
            self.iters = set(iters)

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if runner.iter in self.iters:
                pre = runner.model.data_preprocessor
                self._std = pre.std.clone()
                pre.std.zero_()

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            if runner.iter in self.iters:
                runner.model.data_preprocessor.std.copy_(self._std)

    HOOKS.register_module(name='_FaultsNaNInjectHook', module=NaNInjectHook,
                          force=True)


@pytest.mark.slow
def test_nan_loss_skipped_then_training_stops(data, tmp_path):
    from uniformer_mm.engine import NonFiniteLossError
    _register_nan_hook()
    work_dir = tmp_path / 'work'
    cfg = tiny_cfg(
        work_dir, data,
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=3,
                       val_interval=100),
        optim_wrapper=dict(type='SkipNonFiniteOptimWrapper',
                           max_consecutive_skips=2,
                           optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        custom_hooks=[dict(type='_FaultsNaNInjectHook', iters=[1, 5, 6])])
    cfg['default_hooks']['checkpoint'] = dict(
        type='AtomicCheckpointHook', interval=1, by_epoch=False,
        max_keep_ckpts=2)
    runner = build_runner(cfg)
    with pytest.raises(NonFiniteLossError) as e:
        runner.train()
    assert 'iterations 6-7' in str(e.value) and 'resume' in str(e.value)
    log = read_log(work_dir)
    assert 'SkipNonFiniteOptimWrapper: loss is nan at iteration 2: skipped ' \
        'the update (1 in a row' in log, log
    assert 'at iteration 6: skipped the update (1 in a row' in log
    # the last checkpoint is intact: it is the state after the skipped
    # iteration 6, identical to the one after iteration 5
    last = (work_dir / 'last_checkpoint').read_text().strip()
    assert osp.basename(last) == 'iter_6.pth'
    ck6 = torch.load(last, map_location='cpu', weights_only=True)
    ck5 = torch.load(work_dir / 'iter_5.pth', map_location='cpu',
                     weights_only=True)
    assert ck6['meta']['iter'] == 6
    for k, v in ck6['state_dict'].items():
        if v.is_floating_point():
            assert torch.isfinite(v).all(), k
        assert torch.equal(v, ck5['state_dict'][k]), k
    assert ck6['message_hub']['runtime_info']['skipped_steps'] == 2


# --------------------------------------------------------------------------
# checkpoints: atomic writes, SIGKILL, SIGTERM, weights_only
# --------------------------------------------------------------------------
def test_atomic_save_never_leaves_partial_file(tmp_path, monkeypatch):
    from mmengine.runner import checkpoint as ckpt_mod

    from uniformer_mm.engine.atomic_checkpoint import atomic_write_text
    path = tmp_path / 'epoch_1.pth'
    ckpt_mod.save_checkpoint({'a': torch.ones(3)}, str(path))
    assert torch.equal(torch.load(path, weights_only=True)['a'],
                       torch.ones(3))

    class Boom(Exception):
        pass

    real_save = torch.save

    def failing_save(obj, f, *a, **k):
        real_save(obj, f, *a, **k)
        f.write(b'partial')
        raise Boom()

    monkeypatch.setattr(torch, 'save', failing_save)
    with pytest.raises(Boom):
        ckpt_mod.save_checkpoint({'a': torch.zeros(3)}, str(path))
    monkeypatch.undo()
    # the old file is untouched and no temporary file is left
    assert torch.equal(torch.load(path, weights_only=True)['a'],
                       torch.ones(3))
    assert os.listdir(tmp_path) == ['epoch_1.pth']
    atomic_write_text('x.pth', str(tmp_path / 'last_checkpoint'))
    assert (tmp_path / 'last_checkpoint').read_text() == 'x.pth'


def test_checkpoints_load_weights_only(data, tmp_path, monkeypatch):
    """resume and load_from go through torch.load(weights_only=True)."""
    for var in ('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD',
                'UNIFORMER_MM_ALLOW_UNSAFE_PICKLE'):
        monkeypatch.delenv(var, raising=False)
    marker = tmp_path / 'pwned'

    class Evil:

        def __reduce__(self):
            return (os.system, (f'touch {marker}', ))

    evil = tmp_path / 'evil.pth'
    torch.save({'meta': {}, 'state_dict': {}, 'x': Evil()}, evil)
    runner = build_runner(_ok_cfg(data, tmp_path))
    for load in (runner.load_checkpoint, runner.resume):
        with pytest.raises(Exception) as e:
            load(str(evil))
        assert isinstance(e.value, pickle.UnpicklingError) or \
            'weights' in str(e.value).lower(), repr(e.value)
        assert not marker.exists()


def _runner_script(tmp_path):
    """tools/train.py, with os.fsync slowed down by $SLOW_FSYNC seconds so
    that a checkpoint is being written for most of the run."""
    script = tmp_path / 'run_train.py'
    script.write_text(
        'import os, runpy, sys, time\n'
        "delay = float(os.environ.get('SLOW_FSYNC', '0'))\n"
        'real_fsync = os.fsync\n'
        'def slow_fsync(fd):\n'
        '    time.sleep(delay)\n'
        '    real_fsync(fd)\n'
        'if delay:\n'
        '    os.fsync = slow_fsync\n'
        f'sys.argv = [{str(TRAIN_PY)!r}] + sys.argv[1:]\n'
        f'runpy.run_path({str(TRAIN_PY)!r}, run_name="__main__")\n')
    return script


def _start(script, cfg_path, work_dir, *extra, env=None):
    out = open(work_dir.parent / f'{work_dir.name}_{len(extra)}.out', 'w')
    proc = subprocess.Popen(
        [sys.executable, str(script), str(cfg_path), '--work-dir',
         str(work_dir), *extra], cwd=str(REPO), stdout=out,
        stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {})))
    return proc, out.name


def _wait_for(pred, proc, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        if proc.poll() is not None:
            raise AssertionError(f'process ended ({proc.returncode}) before '
                                 f'{what}')
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f'timed out waiting for {what}')


def _load_ok(path):
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    assert 'state_dict' in ckpt and 'meta' in ckpt
    return ckpt


def _dump_cfg(cfg, path):
    from mmengine.config import Config
    Config(cfg).dump(str(path))
    return path


@pytest.mark.slow
def test_sigkill_while_writing_checkpoint_then_resume(data, tmp_path):
    """A checkpoint every iteration, each one written slowly (fsync takes
    0.5 s); SIGKILL while the second one is being written; --resume."""
    work_dir = tmp_path / 'work'
    iters_per_epoch, epochs = 2, 3  # 8 videos, batch 4
    cfg = tiny_cfg(work_dir, data, train_cfg=dict(
        type='EpochBasedTrainLoop', max_epochs=epochs, val_interval=100))
    cfg['train_dataloader'] = make_loader(data, 'train_good', False, 4)
    cfg['default_hooks']['checkpoint'] = dict(
        type='AtomicCheckpointHook', interval=1, by_epoch=False,
        max_keep_ckpts=1)
    cfg_path = _dump_cfg(cfg, tmp_path / 'cfg.py')
    script = _runner_script(tmp_path)
    proc, out = _start(script, cfg_path, work_dir, env={'SLOW_FSYNC': '0.5'})
    pointer = work_dir / 'last_checkpoint'

    def writing_second_checkpoint():
        tmps = glob.glob(str(work_dir / '.*.pth.*.tmp'))
        return pointer.exists() and bool(tmps)

    try:
        _wait_for(writing_second_checkpoint, proc, 200,
                  'a checkpoint being written after the first one')
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    # killed mid-write: a temporary file is there, but every .pth and the
    # pointer are complete (max_keep_ckpts=1: mmengine's CheckpointHook
    # would have deleted the only complete checkpoint before this write)
    assert glob.glob(str(work_dir / '.*.pth.*.tmp'))
    last = pointer.read_text().strip()
    assert osp.isfile(last), f'last_checkpoint points to missing {last}'
    meta = _load_ok(last)['meta']
    for path in glob.glob(str(work_dir / '*.pth')):
        _load_ok(path)

    proc, out = _start(script, cfg_path, work_dir, '--resume')
    assert proc.wait(240) == 0, Path(out).read_text()[-3000:]
    log = Path(out).read_text()
    assert f"resumed epoch: {meta['epoch']}, iter: {meta['iter']}" in log
    assert 'removed 1 temporary files of an interrupted save' in log
    final = _load_ok((work_dir / 'last_checkpoint').read_text().strip())
    # mmengine restarts an interrupted epoch from its beginning
    done_in_epoch = meta['iter'] - meta['epoch'] * iters_per_epoch
    assert final['meta']['iter'] == epochs * iters_per_epoch + done_in_epoch
    assert not glob.glob(str(work_dir / '.*.tmp'))


@pytest.mark.slow
def test_sigterm_saves_checkpoint_and_resume_continues(data, tmp_path):
    work_dir = tmp_path / 'work'
    cfg = tiny_cfg(work_dir, data, train_cfg=dict(
        type='EpochBasedTrainLoop', max_epochs=2, val_interval=100),
        custom_hooks=[dict(type='PreemptionCheckpointHook')])
    cfg['train_dataloader'] = make_loader(data, 'train_good', False, 2,
                                          workers=1)
    cfg_path = _dump_cfg(cfg, tmp_path / 'cfg.py')
    script = _runner_script(tmp_path)
    proc, out = _start(script, cfg_path, work_dir)
    try:
        _wait_for(lambda: 'Epoch(train) [1][2/4]' in Path(out).read_text(),
                  proc, 200, 'the second training iteration')
        os.kill(proc.pid, signal.SIGTERM)
        rc = proc.wait(120)
    finally:
        if proc.poll() is None:
            proc.kill()
    log = Path(out).read_text()
    assert rc == 143, log[-3000:]
    assert 'PreemptionCheckpointHook: received SIGTERM' in log
    assert 'Traceback' not in log, log[-3000:]
    last = (work_dir / 'last_checkpoint').read_text().strip()
    ckpt = _load_ok(last)
    stopped = ckpt['meta']['iter']
    # stopped inside epoch 1: an iteration checkpoint; on its last
    # iteration the checkpoint is the epoch's (it resumes at epoch 2)
    expected = 'epoch_1.pth' if stopped == 4 else f'iter_{stopped}.pth'
    assert osp.basename(last) == expected and 2 <= stopped <= 4
    assert f'saved {last}; exiting with status 143' in log

    proc, out = _start(script, cfg_path, work_dir, '--resume')
    assert proc.wait(240) == 0, Path(out).read_text()[-3000:]
    log = Path(out).read_text()
    assert f"resumed epoch: {ckpt['meta']['epoch']}, iter: {stopped}" in log
    if stopped < 4:
        assert (f'resumed in the middle of epoch 1: its first {stopped} of '
                '4 batches were trained before the interruption') in log
    final = _load_ok(work_dir / 'epoch_2.pth')['meta']
    assert (final['epoch'], final['iter']) == (2, 8)  # nothing repeated

