"""Field-ready runs (docs/faults.md, "Runs").

Real ``tools/train.py`` / ``tools/test.py`` runs of a tiny UniFormer video
model on the zoo's default runtime (``configs/_base_/default_runtime.py``:
``AtomicCheckpointHook``, ``PreemptionCheckpointHook``, ``BadSampleHook``)
and synthetic videos, plus a real clip cut short and a text file posing as
a video:

* pre-emption: SIGTERM to the whole process group of a run with persistent
  data loader workers (what slurm does) saves a checkpoint and exits with
  143; ``--resume`` trains exactly the remaining iterations;
* retention: ``max_keep_ckpts`` holds for iteration checkpoints, the best
  and the resume target stay, the pre-emption checkpoint goes once it is
  replaced; ``save_best=None`` works;
* resume: an iteration checkpoint of the last iteration of an epoch
  continues with the next epoch; a garbage ``last_checkpoint`` and a
  truncated latest checkpoint fall back to the newest intact one; nothing
  intact is one line;
* non-finite weights are never saved, and the stop message names what is
  intact;
* bad-sample counts, caps and ``bad_samples.json`` are the same with 0 and 2
  data loader workers; test counts are ints in the json log;
* val/test lines without a label are an error naming file:line.

The whole-walkthrough test of docs/custom_dataset.md is at the end.
"""
import glob
import importlib.util
import json
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import uniformer_mm  # noqa: F401 - registers everything
from uniformer_mm.datasets import make_video_demo
from uniformer_mm.engine import NonFiniteWeightsError

from _paths import REPO, TEST_MP4
from uniformer_mm.engine.config_knobs import load_config as knob_config  # noqa: E501

TRAIN_PY = REPO / 'tools' / 'train.py'
RUNTIME = REPO / 'configs' / '_base_' / 'default_runtime.py'


# --------------------------------------------------------------------------
# data, configs, running the tools
# --------------------------------------------------------------------------
@pytest.fixture(scope='module')
def media(tmp_path_factory):
    """root/demo (8 train, 4 val synthetic videos), root/bad (a real clip
    cut to a third, a text file), annotation lists."""
    root = tmp_path_factory.mktemp('runs_media')
    demo = make_video_demo(root / 'demo', num_train_per_class=2,
                           num_val_per_class=1, num_frames=8, size=32)
    (root / 'bad').mkdir()
    blob = TEST_MP4.read_bytes()
    (root / 'bad' / 'truncated.mp4').write_bytes(blob[:len(blob) // 3])
    (root / 'bad' / 'text.mp4').write_text('this is not a video\n')

    def lines(key):
        return [f'demo/{ln}' for ln in
                Path(demo[key]).read_text().splitlines()]

    train, val = lines('train_list'), lines('val_list')
    lists = dict(
        train=train,
        val=val,
        # 10 lines, bad ones on lines 4 and 8
        train_bad=train[:3] + ['bad/truncated.mp4 1'] + train[3:6]
        + ['bad/text.mp4 2'] + train[6:],
        val_bad=val[:2] + ['bad/text.mp4 0'] + val[2:],
        val_nolabel=val[:1] + [val[1].split()[0]] + val[2:],
    )
    for name, content in lists.items():
        (root / f'{name}.txt').write_text('\n'.join(content) + '\n')
    return root


def write_cfg(path, root, train='train', val='val', workers=0, epochs=3,
              checkpoint='', optim='', robust='', extra='',
              optim_type='SkipNonFiniteOptimWrapper'):
    """A tiny video config on the zoo's default runtime; ``checkpoint``,
    ``optim`` and ``robust`` are keyword arguments (text) added to the
    checkpoint hook, the optimizer wrapper and the training data set."""
    path.write_text(f'''
_base_ = [{str(RUNTIME)!r}]
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)
root = {str(root)!r}
model = dict(
    type='Recognizer3D',
    backbone=dict(type='UniFormerVideo', arch=dict(
        embed_dims=[16, 32, 64, 64], depths=[1, 1, 1, 1], head_dim=16)),
    cls_head=dict(type='I3DHead', in_channels=64, num_classes=4,
                  spatial_type='avg', dropout_ratio=0., average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor',
                           mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'))
train_pipeline = [
    dict(type='VideoInit'), dict(type='UniformSample', clip_len=4, num_clips=1),
    dict(type='VideoDecode'), dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')]
val_pipeline = [
    dict(type='VideoInit'),
    dict(type='UniformSample', clip_len=4, num_clips=1, test_mode=True),
    dict(type='VideoDecode'), dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')]
train_dataloader = dict(
    batch_size=2, num_workers={workers}, persistent_workers={workers > 0},
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='RobustVideoDataset', ann_file=root + '/{train}.txt',
                 data_prefix=dict(video=root), pipeline=train_pipeline,
                 num_classes=4, {robust}))
val_dataloader = dict(
    batch_size=2, num_workers={workers}, persistent_workers={workers > 0},
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='RobustVideoDataset', ann_file=root + '/{val}.txt',
                 data_prefix=dict(video=root), pipeline=val_pipeline,
                 test_mode=True, on_bad='skip', num_classes=4))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs={epochs},
                 val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type={optim_type!r},
                     optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
                     {optim})
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[3],
                        gamma=0.1)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict({checkpoint}))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
{extra}
''')
    return path


def _cli(name):
    spec = importlib.util.spec_from_file_location(
        f'_runs_{name}_cli', str(REPO / 'tools' / f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_main(name, argv):
    """tools/<name>.py's main in this process: (exit code, exception)."""
    try:
        _cli(name).main([str(a) for a in argv])
    except SystemExit as e:
        return e.code, None
    except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - returned
        return 1, e
    return 0, None


def failure(code, err, capsys):
    """The message a failed run ended with: the exception, or the one line
    ``tools/*.py`` print for it (``<tool>: error: ...``)."""
    assert code != 0, (code, err)
    if err is not None:
        return str(err)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines and ': error: ' in lines[-1], lines
    return lines[-1].split(': error: ', 1)[1]


def logs(work_dir):
    """The text of every log of the runs in ``work_dir``, oldest first."""
    return [Path(p).read_text() for p in
            sorted(glob.glob(osp.join(str(work_dir), '*', '*.log')))]


def trained(log):
    """(epoch, iteration in epoch) of every logged training iteration."""
    return [(int(e), int(i)) for e, i in
            re.findall(r'Epoch\(train\) +\[(\d+)\]\[ *(\d+)/\d+\]', log)]


def meta(path):
    return torch.load(path, map_location='cpu', weights_only=True)['meta']


def checkpoints(work_dir):
    return sorted(osp.basename(p) for p in glob.glob(str(work_dir / '*.pth')))


def all_finite(path):
    state = torch.load(path, map_location='cpu', weights_only=True)
    return all(torch.isfinite(v).all() for v in state['state_dict'].values()
               if v.is_floating_point())


# --------------------------------------------------------------------------
# pre-emption, retention, resume
# --------------------------------------------------------------------------
@pytest.mark.slow
def test_preemption_retention_and_resume(media, tmp_path, capsys):
    """3 epochs of 4 iterations, 2 persistent workers, an iteration
    checkpoint every 2 iterations, 2 kept."""
    work = tmp_path / 'work'
    cfg = write_cfg(tmp_path / 'cfg.py', media, workers=2,
                    checkpoint='by_epoch=False, interval=2, max_keep_ckpts=2')
    out = tmp_path / 'run1.out'
    with open(out, 'w') as f:
        proc = subprocess.Popen(
            [sys.executable, str(TRAIN_PY), str(cfg), '--work-dir',
             str(work)], cwd=str(REPO), stdout=f, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own process group, as under slurm
    try:
        end = time.time() + 300
        while 'Epoch(train) [2][1/4]' not in out.read_text():
            assert proc.poll() is None, out.read_text()[-3000:]
            assert time.time() < end, 'timed out waiting for epoch 2'
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGTERM)  # main process and workers
        rc = proc.wait(120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    log1 = out.read_text()
    assert rc == 143, log1[-3000:]
    assert 'PreemptionCheckpointHook: received SIGTERM' in log1
    assert 'Traceback' not in log1 and 'DataLoader worker' not in log1, \
        log1[-3000:]
    target = (work / 'last_checkpoint').read_text().strip()
    stopped = meta(target)['iter']
    assert osp.basename(target) == f'iter_{stopped}.pth' and \
        5 <= stopped < 8, target
    assert f'saved {target}; exiting with status 143' in log1
    # retention: at most 2 iteration checkpoints besides the pre-emption one
    regular = [c for c in checkpoints(work) if c.startswith('iter_')
               and c != osp.basename(target)]
    assert len(regular) <= 2, checkpoints(work)
    # the epoch-end iteration checkpoint is the end of epoch 1
    assert meta(work / 'iter_4.pth') == dict(meta(work / 'iter_4.pth'),
                                             epoch=1, iter=4)

    # --resume: exactly the remaining iterations, as an uninterrupted run
    code, err = run_main('train', [cfg, '--work-dir', work, '--resume',
                                   '--cfg-options', 'experiment_name=r2'])
    assert (code, err) == (0, None), (code, err)
    log2 = logs(work)[-1]
    assert f'resumed epoch: 1, iter: {stopped}' in log2
    done = trained(log1) + trained(log2)
    assert sorted(done) == [(e, i) for e in (1, 2, 3) for i in (1, 2, 3, 4)]
    assert meta(work / 'iter_12.pth') == dict(meta(work / 'iter_12.pth'),
                                              epoch=3, iter=12)
    best = [c for c in checkpoints(work) if c.startswith('best_')]
    assert len(best) == 1
    assert checkpoints(work) == sorted(best + ['iter_10.pth', 'iter_12.pth'])
    if stopped % 2:  # not one of the regular checkpoints
        assert f'removed {target} (pre-emption checkpoint' in log2
    else:  # the regular checkpoint of that iteration, not written twice
        assert f'{target} was saved at this iteration' in log1

    # an epoch-end iteration checkpoint as mmengine's own hook writes it
    # (epoch 2 of 0-based epochs, iteration 12) continues with epoch 4;
    # save_best=None does not crash at the validation
    ckpt = torch.load(work / 'iter_12.pth', map_location='cpu',
                      weights_only=False)
    ckpt['meta']['epoch'] = 2
    torch.save(ckpt, work / 'iter_12.pth')
    code, err = run_main('train', [
        cfg, '--work-dir', work, '--resume', '--cfg-options',
        'train_cfg.max_epochs=4', 'default_hooks.checkpoint.save_best=None',
        'experiment_name=r3'])
    assert (code, err) == (0, None), (code, err)
    log3 = logs(work)[-1]
    assert ('saved on the last iteration (12) of epoch 3: resuming with '
            'epoch 4') in log3
    assert trained(log3) == [(4, i) for i in (1, 2, 3, 4)]
    assert meta(work / 'iter_16.pth')['epoch'] == 4
    assert 'iter_14.pth' in checkpoints(work) and best[0] in checkpoints(work)

    # a garbage pointer and a truncated latest checkpoint: the newest intact
    # one (iter_14, mid-epoch 4) is used, with one line saying why
    blob = (work / 'iter_16.pth').read_bytes()
    (work / 'iter_16.pth').write_bytes(blob[:len(blob) // 2])
    (work / 'last_checkpoint').write_text('no/such/dir/iter_99.pth')
    code, err = run_main('train', [
        cfg, '--work-dir', work, '--resume', '--cfg-options',
        'train_cfg.max_epochs=5', 'experiment_name=r4'])
    assert (code, err) == (0, None), (code, err)
    log4 = logs(work)[-1]
    assert (f'--resume: {work}/last_checkpoint points to '
            'no/such/dir/iter_99.pth, which does not exist; resuming from '
            f'the newest intact checkpoint {work}/iter_14.pth (epoch 3, '
            'iteration 14) instead.') in log4, log4[:3000]
    assert trained(log4) == [(4, 3), (4, 4)] + [(5, i) for i in range(1, 5)]

    # --resume PATH to a truncated file: one line
    blob = (work / 'iter_20.pth').read_bytes()
    (work / 'iter_20.pth').write_bytes(blob[:len(blob) // 2])
    capsys.readouterr()
    code, err = run_main('train', [cfg, '--work-dir', work, '--resume',
                                   work / 'iter_20.pth'])
    assert (code, err) == (2, None)
    assert capsys.readouterr().err.strip().splitlines() == [
        f'train.py: error: --resume: checkpoint {work}/iter_20.pth is '
        'truncated or not a checkpoint (not a complete zip archive)']

    # nothing intact: one line, exit status 2
    for path in glob.glob(str(work / '*.pth')):
        blob = Path(path).read_bytes()
        Path(path).write_bytes(blob[:len(blob) // 2])
    (work / 'last_checkpoint').write_text('')
    capsys.readouterr()
    code, err = run_main('train', [cfg, '--work-dir', work, '--resume'])
    assert (code, err) == (2, None)
    lines = capsys.readouterr().err.strip().splitlines()
    n = len([c for c in checkpoints(work) if not c.startswith('best_')])
    assert len(lines) == 1 and lines[0].startswith(
        f'train.py: error: --resume: {work}/last_checkpoint is empty, and '
        f'none of the {n} checkpoint files in {work} is intact'), lines


# --------------------------------------------------------------------------
# non-finite weights
# --------------------------------------------------------------------------
def test_nonfinite_weights_are_never_saved(media, tmp_path, capsys):
    # zeroes the data preprocessor's std at the given iterations
    from test_faults import _register_nan_hook
    _register_nan_hook()
    # mmengine's plain wrapper: the NaN of iteration 5 reaches the weights;
    # the checkpoint of epoch 2 is refused, epoch 1's is named as intact
    work = tmp_path / 'plain'
    cfg = write_cfg(tmp_path / 'plain.py', media, epochs=2,
                    optim_type='OptimWrapper', extra='''
custom_hooks = [dict(type='_FaultsNaNInjectHook', iters=[4])]''')
    capsys.readouterr()
    message = failure(*run_main('train', [cfg, '--work-dir', work]), capsys)
    assert message.startswith('training stopped: ') and (
        'tensors of the model are not finite' in message), message
    assert ('so epoch_2.pth was not saved. The last checkpoint '
            f'{work}/epoch_1.pth (epoch 1, iteration 4) is intact') \
        in message, message
    assert checkpoints(work) == ['best_acc_top1_epoch_1.pth', 'epoch_1.pth']
    assert all(all_finite(work / c) for c in checkpoints(work))

    # the skipping wrapper stops before anything was saved: it says so
    work = tmp_path / 'skip'
    cfg = write_cfg(tmp_path / 'skip.py', media, epochs=2,
                    optim='max_consecutive_skips=2', extra='''
custom_hooks = [dict(type='_FaultsNaNInjectHook', iters=[0, 1])]''')
    message = failure(*run_main('train', [cfg, '--work-dir', work]), capsys)
    assert message.startswith('training stopped: 2 consecutive steps had a '
                              'non-finite loss or gradient'), message
    assert f'No intact checkpoint is in {work}' in message, message
    assert 'is intact: ' not in message
    assert checkpoints(work) == []


def test_sigint_saves_and_exits_130(media, tmp_path):
    """Ctrl-C: the iteration finishes, a checkpoint is saved, status 130."""
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS

    class CtrlCHook(Hook):

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if runner.iter == 2:
                os.kill(os.getpid(), signal.SIGINT)

    HOOKS.register_module(name='_RunsCtrlCHook', module=CtrlCHook,
                          force=True)
    work = tmp_path / 'work'
    cfg = write_cfg(tmp_path / 'c.py', media, epochs=2, extra='''
custom_hooks = [dict(type='_RunsCtrlCHook')]''')
    code, err = run_main('train', [cfg, '--work-dir', work])
    assert (code, err) == (130, None), (code, err)
    assert 'PreemptionCheckpointHook: received SIGINT' in logs(work)[-1]
    assert (work / 'last_checkpoint').read_text().strip() == \
        f'{work}/iter_3.pth'
    assert meta(work / 'iter_3.pth') == dict(meta(work / 'iter_3.pth'),
                                             epoch=0, iter=3)


def test_atomic_save_refuses_nonfinite_state(tmp_path):
    from mmengine.runner.checkpoint import save_checkpoint
    good = tmp_path / 'epoch_1.pth'
    save_checkpoint({'meta': dict(epoch=1, iter=4),
                     'state_dict': {'w': torch.ones(2)}}, str(good))
    with pytest.raises(NonFiniteWeightsError) as e:
        save_checkpoint({'meta': {}, 'state_dict': {
            'w': torch.tensor([1., float('nan')])}},
            str(tmp_path / 'epoch_2.pth'))
    assert str(e.value).startswith(
        f'not writing {tmp_path}/epoch_2.pth: 1 tensors of state_dict are '
        'not finite (w).')
    assert f'newest intact checkpoint is {good}' in str(e.value)
    assert sorted(os.listdir(tmp_path)) == ['epoch_1.pth']


# --------------------------------------------------------------------------
# bad samples: the same counts with any number of workers
# --------------------------------------------------------------------------
def test_bad_sample_counts_do_not_depend_on_workers(media, tmp_path,
                                                    capsys):
    reports = {}
    for workers in (0, 2):
        work = tmp_path / f'w{workers}'
        cfg = write_cfg(tmp_path / f'c{workers}.py', media, 'train_bad',
                        'val_bad', workers=workers, epochs=2,
                        checkpoint='max_keep_ckpts=1')
        code, err = run_main('train', [cfg, '--work-dir', work])
        assert (code, err) == (0, None), (code, err)
        # max_keep_ckpts=1 for epoch checkpoints; the best one stays
        kept = checkpoints(work)
        assert len(kept) == 2 and 'epoch_2.pth' in kept and \
            kept[0].startswith('best_acc_top1_epoch_'), kept
        log = logs(work)[-1]
        for epoch in (1, 2):
            assert (f'Epoch(train) [{epoch}]: 2 bad videos (2 failed loads)'
                    in log), log
            assert f'Epoch(val) [{epoch}]: 1 bad videos (1 failed loads)' \
                in log
        reports[workers] = json.loads((work / 'bad_samples.json').read_text())
    assert reports[0] == reports[2]
    videos = {(v['split'], osp.basename(v['path'])): v
              for v in reports[0]['videos']}
    assert sorted(videos) == [('train', 'text.mp4'),
                              ('train', 'truncated.mp4'), ('val', 'text.mp4')]
    trunc = videos[('train', 'truncated.mp4')]
    assert (trunc['list'], trunc['line'], trunc['epochs'],
            trunc['status']) == ('train_bad.txt', 4, [1, 2], 'replaced')
    assert trunc['count'] >= 2 and 'cannot load' in trunc['reason']
    val = videos[('val', 'text.mp4')]
    assert (val['line'], val['count'], val['epochs'], val['status']) == (
        3, 2, [1, 2], 'skipped')

    # the cap: 2 of the first 10 samples drawn are bad, the same stop
    messages = {}
    for workers in (0, 2):
        cfg = write_cfg(tmp_path / f'cap{workers}.py', media, 'train_bad',
                        workers=workers, epochs=2,
                        robust='max_bad_fraction=0.1')
        capsys.readouterr()
        messages[workers] = failure(*run_main(
            'train', [cfg, '--work-dir', tmp_path / f'cap{workers}']),
            capsys)
    assert messages[0] == messages[2]
    assert messages[0].startswith('2 of the 10 samples drawn so far from '
                                  f'{media}/train_bad.txt were bad (20% > '
                                  'max_bad_fraction=0.1); last: ')

    # tools/test.py: the counts are ints in the json log, bad_samples.json
    # lists the test split too
    work = tmp_path / 'w2'
    cfg = tmp_path / 'c2.py'
    code, err = run_main('test', [cfg, work / 'epoch_2.pth', '--work-dir',
                                  work, '--cfg-options',
                                  'experiment_name=test'])
    assert (code, err) == (0, None), (code, err)
    test_json = sorted(glob.glob(str(work / '*' / '*.json')))[-1]
    record = json.loads(Path(test_json).read_text().splitlines()[-1])
    assert (record['bad_samples'], record['bad_loads'],
            record['missing_videos']) == (1, 1, 0), record
    listed = json.loads((work / 'bad_samples.json').read_text())['videos']
    assert [(v['split'], v['count']) for v in listed
            if v['split'] == 'test'] == [('test', 1)]


# --------------------------------------------------------------------------
# labels of val / test lists
# --------------------------------------------------------------------------
def test_unlabeled_test_line_is_an_error(media, tmp_path, capsys):
    from uniformer_mm.datasets.validate import AnnotationError
    cfg = write_cfg(tmp_path / 'c.py', media, val='val_nolabel')
    ckpt = tmp_path / 'init.pth'
    torch.save({'meta': {}, 'state_dict': {}}, ckpt)
    capsys.readouterr()
    code, err = run_main('test', [cfg, ckpt, '--work-dir', tmp_path / 'w'])
    assert (code, err) == (2, None)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        'test.py: error: test_dataloader.dataset.ann_file: 1 malformed lines '
        f'in {media}/val_nolabel.txt: val_nolabel.txt:2: expected '
        '"<path> <label>", got'), lines
    assert 'allow_unlabeled=True' in lines[0]
    # the data set itself refuses it too (test mode)
    from mmaction.registry import DATASETS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    loaded = knob_config(str(cfg))
    with DefaultScope.overwrite_default_scope('mmaction'):
        with pytest.raises(AnnotationError, match=r'val_nolabel.txt:2: '):
            DATASETS.build(loaded.test_dataloader.dataset)
    # an inference list: allowed, but not scored
    code, err = run_main('test', [cfg, ckpt, '--cfg-options',
                                  'test_dataloader.dataset.allow_unlabeled'
                                  '=True'])
    assert code == 2
    assert ('test_dataloader.dataset.allow_unlabeled=True (a list without '
            'labels) cannot be scored by AccMetric') in capsys.readouterr().err
    with DefaultScope.overwrite_default_scope('mmaction'):
        ds = DATASETS.build(dict(loaded.test_dataloader.dataset,
                                 allow_unlabeled=True))
    assert [ds.get_data_info(i)['label'] for i in range(len(ds))][1] == -1


# --------------------------------------------------------------------------
# docs/custom_dataset.md, word for word, with a video cut in half
# --------------------------------------------------------------------------
@pytest.mark.slow
def test_custom_dataset_walkthrough(tmp_path):
    """Runs the shell blocks of sections 1-4 of docs/custom_dataset.md in a
    directory that has the repository's configs/ and tools/; the training
    command gets ``--cfg-options train_cfg.max_epochs=1`` (one epoch
    instead of six: CPU time). Section 5's data sets are built."""
    for name in ('configs', 'tools'):
        os.symlink(REPO / name, tmp_path / name)
    text = (REPO / 'docs' / 'custom_dataset.md').read_text()
    walk, recipe = text.split('## 5.')
    blocks = re.findall(r'```bash\n(.*?)```', walk, re.S)
    env = dict(os.environ,
               PATH=f'{osp.dirname(sys.executable)}:{os.environ["PATH"]}')
    outputs = []
    for block in blocks:
        if block.startswith('python tools/train.py'):
            block = block.strip() + ' --cfg-options train_cfg.max_epochs=1\n'
        proc = subprocess.run(['bash', '-ec', block], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, (block, proc.stdout[-3000:],
                                      proc.stderr[-3000:])
        outputs.append(proc.stdout + proc.stderr)
    work = tmp_path / 'work_dirs' / 'my_videos'
    log = logs(work)[0]
    assert 'Epoch(train) [1][24/24]' in log
    assert re.search(r'Epoch\(train\) \[1\]: 1 bad videos \(\d+ failed '
                     r'loads\):\n  \S+train_move_up_0003.mp4 \(line \d+ of '
                     r'train_list.txt\): cannot load', log), log[-5000:]
    listed = json.loads((work / 'bad_samples.json').read_text())['videos']
    assert [osp.basename(v['path']) for v in listed] == [
        'train_move_up_0003.mp4']
    assert 'Epoch(test)' in outputs[-1] and 'acc/top1' in outputs[-1]

    # section 5: the UniFormerV2 config builds its data sets (it crashed
    # with "unexpected keyword argument 'on_bad'" when it named VideoDataset)
    code = re.search(r'```python\n(.*?)```', recipe, re.S).group(1)
    (tmp_path / 'v2.py').write_text(code)
    from mmaction.registry import DATASETS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        cfg = knob_config('v2.py')
        with DefaultScope.overwrite_default_scope('mmaction'):
            sizes = [len(DATASETS.build(cfg[f'{split}_dataloader'].dataset))
                     for split in ('train', 'val', 'test')]
    finally:
        os.chdir(cwd)
    assert sizes == [192, 48, 48]
