"""The command-line tools: tools/train.py, tools/test.py and the launchers.

The real training runs the tiny image UniFormer of
``tests/configs/uniformer_tiny_imagefolder.py`` through mmpretrain on a
16-image folder dataset written into a temporary directory.
"""
import os
import os.path as osp
import pickle
import re
import stat
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TRAIN = osp.join(ROOT, 'tools', 'train.py')
TEST = osp.join(ROOT, 'tools', 'test.py')
TINY_CONFIG = osp.join(ROOT, 'tests', 'configs',
                       'uniformer_tiny_imagefolder.py')
TIMEOUT = 600


def run(args, cwd, env=None, timeout=TIMEOUT):
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env=dict(os.environ, **(env or {})))


def error_lines(proc):
    return [line for line in proc.stderr.splitlines() if line.strip()]


# --------------------------------------------------------------------------
# one-line errors
# --------------------------------------------------------------------------
def test_train_missing_config_is_one_line(tmp_path):
    proc = run([sys.executable, TRAIN, 'configs/no_such_config.py'],
               cwd=tmp_path)
    assert proc.returncode == 2
    assert error_lines(proc) == [
        "train.py: error: config file 'configs/no_such_config.py' does not "
        'exist'], proc.stderr
    assert 'Traceback' not in proc.stdout + proc.stderr


def test_test_missing_checkpoint_is_one_line(tmp_path):
    proc = run([sys.executable, TEST, TINY_CONFIG, 'no_such.pth'],
               cwd=tmp_path)
    assert proc.returncode == 2
    assert error_lines(proc) == [
        "test.py: error: checkpoint 'no_such.pth' does not exist"]


def test_train_cfg_options_typo_is_one_line(tmp_path):
    proc = run([sys.executable, TRAIN, TINY_CONFIG, '--work-dir',
                str(tmp_path / 'wd'), '--cfg-options',
                'train_cfg.max_epoch=3'], cwd=tmp_path)
    assert proc.returncode == 2
    assert 'Traceback' not in proc.stdout + proc.stderr
    last = error_lines(proc)[-1]
    assert last == ("train.py: error: --cfg-options train_cfg.max_epoch: "
                    "'train_cfg' has no key 'max_epoch' (did you mean "
                    "'max_epochs'?)")
    assert not (tmp_path / 'wd').exists()  # nothing was built


def test_check_cfg_options_rules():
    """The rules of --cfg-options checking, without a subprocess."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('_train_cli_test', TRAIN)
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    from mmengine.config import Config
    cfg = Config(dict(
        model=dict(type='X', backbone=dict(type='B', depth=2)),
        train_cfg=dict(max_epochs=2),
        pipeline=[dict(type='A'), dict(type='B')],
        optim_wrapper=dict(optimizer=dict(lr=0.1))))
    ok = ['model.backbone.depth', 'model.backbone.drop_path_rate',
          'pipeline.1.type', 'randomness.seed', 'work_dir',
          'optim_wrapper.optimizer.momentum', 'train_cfg.val_interval']
    cli.check_cfg_options(cfg, dict.fromkeys(ok, 1))
    bad = {
        'train_cfg.max_epoch': "did you mean 'max_epochs'",
        'optim_wraper.optimizer.lr': "did you mean 'optim_wrapper'",
        'no_such_key': "no top-level key 'no_such_key'",
        'pipeline.2.type': 'out of range',
        'pipeline.type': 'is a list',
        'model.type.x': 'not a dict',
    }
    for key, message in bad.items():
        with pytest.raises(cli.CLIError, match=re.escape(message)):
            cli.check_cfg_options(cfg, {key: 1})


# --------------------------------------------------------------------------
# launchers: argument plumbing, with stand-ins for torchrun and srun
# --------------------------------------------------------------------------
def _fake_command(folder, name):
    path = folder / name
    path.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_dist_train_sh_arguments(tmp_path):
    fake = _fake_command(tmp_path, 'torchrun')
    proc = run(['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), 'cfg.py',
                '2', '--amp', '--cfg-options', 'a.b=1'], cwd=tmp_path,
               env=dict(TORCHRUN=str(fake), PORT='29999', NNODES='',
                        NODE_RANK='', MASTER_ADDR=''))  # '' = default
    assert proc.returncode == 0, proc.stderr
    argv = proc.stdout.splitlines()
    assert argv[:5] == ['--nnodes=1', '--node_rank=0',
                        '--master_addr=127.0.0.1', '--nproc_per_node=2',
                        '--master_port=29999']
    assert argv[5] == TRAIN
    assert argv[6:] == ['cfg.py', '--launcher', 'pytorch', '--amp',
                        '--cfg-options', 'a.b=1']


def test_dist_test_sh_arguments(tmp_path):
    fake = _fake_command(tmp_path, 'torchrun')
    proc = run(['bash', osp.join(ROOT, 'tools', 'dist_test.sh'), 'cfg.py',
                'ckpt.pth', '4', '--dump', 'r.pkl'], cwd=tmp_path,
               env=dict(TORCHRUN=str(fake), MASTER_ADDR='10.0.0.1',
                        PORT=''))  # '' = default
    assert proc.returncode == 0, proc.stderr
    argv = proc.stdout.splitlines()
    assert '--nproc_per_node=4' in argv and '--master_port=29500' in argv
    assert '--master_addr=10.0.0.1' in argv
    assert argv[argv.index(TEST):] == [
        TEST, 'cfg.py', 'ckpt.pth', '--launcher', 'pytorch', '--dump',
        'r.pkl']


@pytest.mark.parametrize('work_dir', [True, False])
def test_slurm_train_sh_arguments(tmp_path, work_dir):
    _fake_command(tmp_path, 'srun')
    extra = ['wd'] if work_dir else []
    proc = run(['bash', osp.join(ROOT, 'tools', 'slurm_train.sh'), 'part',
                'job', 'cfg.py', *extra, '--seed', '1'], cwd=tmp_path,
               env=dict(PATH=f'{tmp_path}:{os.environ["PATH"]}', GPUS='16',
                        GPUS_PER_NODE='8', SRUN_ARGS='--quotatype=auto',
                        CPUS_PER_TASK='', PYTHON='py'))
    assert proc.returncode == 0, proc.stderr
    argv = proc.stdout.splitlines()
    assert argv[:2] == ['-p', 'part']
    for option in ('--job-name=job', '--gres=gpu:8', '--ntasks=16',
                   '--ntasks-per-node=8', '--cpus-per-task=5',
                   '--kill-on-bad-exit=1', '--quotatype=auto'):
        assert option in argv
    tail = argv[argv.index('py'):]
    assert tail == ['py', '-u', TRAIN, 'cfg.py',
                    *(['--work-dir', 'wd'] if work_dir else []),
                    '--launcher', 'slurm', '--seed', '1']


def test_slurm_test_sh_arguments(tmp_path):
    _fake_command(tmp_path, 'srun')
    proc = run(['bash', osp.join(ROOT, 'tools', 'slurm_test.sh'), 'part',
                'job', 'cfg.py', 'ckpt.pth', '--dump', 'r.pkl'], cwd=tmp_path,
               env=dict(PATH=f'{tmp_path}:{os.environ["PATH"]}', GPUS='1',
                        GPUS_PER_NODE='1', PYTHON='py'))
    assert proc.returncode == 0, proc.stderr
    argv = proc.stdout.splitlines()
    assert '--ntasks=1' in argv and '--gres=gpu:1' in argv
    assert argv[argv.index('py'):] == [
        'py', '-u', TEST, 'cfg.py', 'ckpt.pth', '--launcher', 'slurm',
        '--dump', 'r.pkl']


# --------------------------------------------------------------------------
# real training, resuming and testing (image UniFormer, mmpretrain)
# --------------------------------------------------------------------------
def make_image_folder(root, classes=2, per_class=8, size=32):
    """``root/class_<i>/<j>.png``: coloured squares on a dark background."""
    import random

    from PIL import Image
    rng = random.Random(0)
    colours = [(220, 40, 40), (40, 40, 220), (40, 200, 40)]
    for c in range(classes):
        folder = root / f'class_{c}'
        folder.mkdir(parents=True)
        for j in range(per_class):
            image = Image.new('RGB', (size, size), (rng.randint(0, 60), ) * 3)
            x, y = rng.randint(0, size // 2), rng.randint(0, size // 2)
            image.paste(colours[c], (x, y, x + size // 2 - 2,
                                     y + size // 2 - 2))
            image.save(folder / f'{j}.png')
    return root


def data_options(data_root):
    return [f'{split}_dataloader.dataset.data_root={data_root}'
            for split in ('train', 'val', 'test')]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Train 2 epochs, then resume to 3 epochs. Returns (work_dir, logs)."""
    tmp = tmp_path_factory.mktemp('train')
    data = make_image_folder(tmp / 'data')
    work_dir = tmp / 'work_dir'
    first = run([sys.executable, TRAIN, TINY_CONFIG, '--work-dir',
                 str(work_dir), '--cfg-options', 'train_cfg.max_epochs=2',
                 *data_options(data)], cwd=tmp)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert (work_dir / 'epoch_2.pth').is_file()
    second = run([sys.executable, TRAIN, TINY_CONFIG, '--work-dir',
                  str(work_dir), '--resume', '--cfg-options',
                  'train_cfg.max_epochs=3', *data_options(data)], cwd=tmp)
    assert second.returncode == 0, \
        second.stdout[-3000:] + second.stderr[-3000:]
    return work_dir, data, first.stdout + first.stderr, \
        second.stdout + second.stderr


def train_lines(log):
    """(epoch, iter, lr) of every `Epoch(train) [e][i/n]  lr: x` line."""
    return [(int(e), int(i), float(lr)) for e, i, lr in re.findall(
        r'Epoch\(train\)\s+\[(\d+)\]\[\s*(\d+)/\d+\]\s+lr: (\S+)', log)]


@pytest.mark.slow
def test_train_then_resume(trained):
    import torch
    import uniformer_mm  # noqa: F401  (weights-only loading of mmengine)
    work_dir, _, first_log, second_log = trained

    # first run: epochs 1-2, lr halves every epoch
    first = train_lines(first_log)
    assert {e for e, _, _ in first} == {1, 2}
    assert {lr for e, _, lr in first if e == 2} == {0.005}

    # second run: resumed at the end of epoch 2, trains epoch 3 only, with
    # the learning rate the restored scheduler gives epoch 3
    assert 'Auto resumed from the latest checkpoint' in second_log
    assert 'resumed epoch: 2, iter: 8' in second_log
    second = train_lines(second_log)
    assert second and {e for e, _, _ in second} == {3}, second
    assert {lr for _, _, lr in second} == {0.0025}
    assert 'uniformer_mm.compat fixes in effect' in second_log

    ckpt = torch.load(work_dir / 'epoch_3.pth', map_location='cpu')
    assert ckpt['meta']['epoch'] == 3
    assert ckpt['meta']['iter'] == 3 * 4  # 16 images, batch size 4
    optim_state = ckpt['optimizer']
    assert optim_state['state'] and all(
        'momentum_buffer' in s for s in optim_state['state'].values())
    assert optim_state['param_groups'][0]['lr'] == pytest.approx(0.00125)
    (scheduler, ) = ckpt['param_schedulers']
    assert scheduler['last_step'] == 3
    assert any(k.startswith('backbone.') for k in ckpt['state_dict'])
    with open(work_dir / 'last_checkpoint') as f:
        assert f.read().strip().endswith('epoch_3.pth')


@pytest.mark.slow
def test_test_py_dump(trained, tmp_path):
    work_dir, data, _, _ = trained
    dump = tmp_path / 'preds.pkl'
    proc = run([sys.executable, TEST, TINY_CONFIG,
                str(work_dir / 'epoch_3.pth'), '--work-dir',
                str(tmp_path / 'test_wd'), '--dump', str(dump),
                '--cfg-options', f'test_dataloader.dataset.data_root={data}'],
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'accuracy/top1' in proc.stdout + proc.stderr
    with open(dump, 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == 16
    assert {'pred_label', 'pred_score', 'gt_label', 'img_path'} <= set(
        predictions[0])
