"""What the zoo configs do by default about bad videos and interruptions.

``configs/uniformerv2_k400.py``, the README's training command, unchanged
except for a toy backbone, 1 epoch and paths to a few real videos with a
broken one among them: its bases bring ``RobustVideoDataset`` (replace in
training, skip in val/test), ``VideoInit``/``VideoDecode``,
``AtomicCheckpointHook``, ``PreemptionCheckpointHook`` and
``BadSampleHook``. Trained through ``tools/train.py``'s runner builder.
"""
import importlib.util
import shutil
from pathlib import Path

from mmengine.config import Config

from _paths import KINETICS_CLIP as CLIP
from _paths import REPO
from uniformer_mm.engine.config_knobs import load_config as knob_config  # noqa: E501

CONFIG = REPO / 'configs' / 'uniformerv2_k400.py'


def _train_cli():
    spec = importlib.util.spec_from_file_location(
        '_zoo_defaults_train_cli', str(REPO / 'tools' / 'train.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _videos(root):
    """3 copies of the Kinetics clip and one cut in half (undecodable)."""
    root.mkdir()
    for name in ('a', 'b', 'c'):
        shutil.copy(CLIP, root / f'{name}.mp4')
    data = CLIP.read_bytes()
    (root / 'broken.mp4').write_bytes(data[:len(data) // 2])
    lines = ['a.mp4 0', 'broken.mp4 1', 'b.mp4 2', 'c.mp4 3']
    (root / 'list.txt').write_text('\n'.join(lines) + '\n')
    return root


def _zoo_cfg(tmp_path):
    cfg = knob_config(str(CONFIG))
    videos = _videos(tmp_path / 'videos')
    cfg.model.backbone = dict(
        type='UniFormerV2Video', t_size=8,
        arch=dict(input_resolution=224, patch_size=16, width=32, layers=2,
                  heads=2, return_list=[0, 1]))
    cfg.model.cls_head.in_channels = 32
    cfg.model.cls_head.num_classes = 4
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.update(ann_file=str(videos / 'list.txt'),
                              data_prefix=dict(video=str(videos)))
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.work_dir = str(tmp_path / 'work')
    cfg.launcher = 'none'
    return cfg


def test_zoo_config_defaults(tmp_path):
    cfg = _zoo_cfg(tmp_path)
    # what the bases give the README's config
    train_ds = cfg.train_dataloader.dataset
    assert train_ds.type == 'RobustVideoDataset'
    assert train_ds.get('on_bad', 'replace') == 'replace'
    assert cfg.val_dataloader.dataset.on_bad == 'skip'
    assert cfg.test_dataloader.dataset.on_bad == 'skip'
    assert [t['type'] for t in train_ds.pipeline][:3] == [
        'VideoInit', 'UniformSample', 'VideoDecode']

    cli = _train_cli()
    runner = cli.build_runner(cfg)
    hooks = [type(h).__name__ for h in runner.hooks]
    for name in ('AtomicCheckpointHook', 'PreemptionCheckpointHook',
                 'BadSampleHook'):
        assert name in hooks, hooks
    assert 'CheckpointHook' not in hooks
    runner.train()
    work = Path(cfg.work_dir)
    assert (work / 'epoch_1.pth').is_file()
    assert (work / 'last_checkpoint').read_text().strip().endswith(
        'epoch_1.pth')
    log = next(work.glob('*/*.log')).read_text()
    # the broken video: replaced in training, skipped in validation, and
    # reported with its path by the loader and by BadSampleHook
    assert 'broken.mp4' in log
    assert 'replaced by another sample' in log and '; skipped' in log
    # counted once per epoch by BadSampleHook (also through RepeatClips,
    # whose list of clips carries the record on its first clip)
    assert 'Epoch(train) [1]: 1 bad videos (1 failed loads)' in log, log
    assert 'Epoch(val) [1]: 1 bad videos (1 failed loads)' in log, log
    val = [ln for ln in log.splitlines() if 'Epoch(val) [1][2/2]' in ln]
    assert val and 'acc/top1' in val[0] and 'bad_samples: 1' in val[0]


def test_default_hook_switched_off(tmp_path):
    cfg = _zoo_cfg(tmp_path)
    cfg.default_hooks.preemption = None
    cfg.default_hooks.bad_samples = None
    cli = _train_cli()
    runner = cli.build_runner(cfg)
    hooks = [type(h).__name__ for h in runner.hooks]
    assert 'PreemptionCheckpointHook' not in hooks
    assert 'BadSampleHook' not in hooks
    assert 'AtomicCheckpointHook' in hooks
