"""Config knobs (:mod:`uniformer_mm.engine.config_knobs`): a child config
or ``--cfg-options`` that sets ``clip_len``, ``num_test_clips``,
``crop_size``, a data path or the demo's ``model_family`` gets pipelines,
loaders and models built from it, with no helper call.

* a child config of two lines (``_base_`` + ``clip_len = 16``) trains with
  the real ``tools/train.py`` (the tiny demo model on generated videos) and
  the backbone sees 16-frame clips; the config mmengine dumps into the work
  directory runs again with ``tools/test.py`` (plain values, no
  references) and the backbone sees 16-frame clips there too;
* the zoo's bases follow every knob (``clip_len``, ``num_test_clips``,
  ``crop_size``, ``data_root``, ``ann_file_*``), also through
  ``--cfg-options``;
* the demo's ``model_family`` (used when its file is read) is refused with
  one line when a child config or ``--cfg-options`` changes it;
* a reference to a missing variable is one line naming it (and the nearest
  name), from ``tools/train.py`` too;
* ``update_transforms`` with a transform the pipeline does not have is an
  error naming it and the transforms present.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import uniformer_mm  # noqa: F401  (registers our modules)
from uniformer_mm.apis import load_config
from uniformer_mm.datasets.config_utils import (iter_transforms,
                                                 k710_classifier,
                                                 update_transforms)
from uniformer_mm.engine.config_knobs import (KnobError, has_references,
                                              resolve_knobs)

from _paths import REPO
from tool_driver import load_tool

DEMO = REPO / 'configs' / 'demo' / 'uniformer_demo_video.py'
V2_ROW = (REPO / 'configs' / 'uniformerv2' /
          'uniformerv2-base-p16-res224_clip_u8_kinetics400-rgb.py')
V1_ROW = (REPO / 'configs' / 'uniformer' /
          'uniformer-small_in1k-pre_16x4x1_kinetics400-rgb.py')

#: records the shape of every input the backbone is called with, per phase
PROBE = '''
import json
import os

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class InputShapeProbe(Hook):
    """Appends [phase, input shape] of every backbone call to $SHAPES."""

    phase = None

    def before_run(self, runner):
        model = getattr(runner.model, 'module', runner.model)

        def record(module, args):
            with open(os.environ['SHAPES'], 'a') as f:
                f.write(json.dumps([self.phase, list(args[0].shape)]) + '\\n')

        model.backbone.register_forward_pre_hook(record)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.phase = 'train'

    def before_val_iter(self, runner, batch_idx, data_batch=None):
        self.phase = 'val'

    def before_test_iter(self, runner, batch_idx, data_batch=None):
        self.phase = 'test'
'''


def _run(tool, args, cwd, shapes):
    env = dict(os.environ, OMP_NUM_THREADS='1', SHAPES=str(shapes),
               PYTHONPATH=os.pathsep.join(
                   [str(cwd), os.environ.get('PYTHONPATH', '')]))
    # the real tool as __main__, with the probe hook registered first
    run = ('import runpy, sys, shape_probe; sys.argv = sys.argv[1:]; '
           "runpy.run_path(sys.argv[0], run_name='__main__')")
    proc = subprocess.run(
        [sys.executable, '-c', run, str(REPO / 'tools' / tool), *args],
        cwd=cwd,
        capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [json.loads(line) for line in shapes.read_text().splitlines()]


@pytest.mark.slow
def test_two_line_child_trains_and_tests_with_16_frames(tmp_path):
    (tmp_path / 'shape_probe.py').write_text(PROBE)
    child = tmp_path / 'demo_16_frames.py'
    child.write_text(f"_base_ = [{str(DEMO)!r}]\nclip_len = 16\n")
    assert len(child.read_text().splitlines()) == 2
    probe = ['default_hooks.shape_probe.type=InputShapeProbe']
    # a small data set (data_root: a knob), two epochs
    small = [f'data_root={tmp_path / "data"}', 'train_cfg.max_epochs=2',
             'param_scheduler.1.T_max=1', 'param_scheduler.1.end=2']
    small += [f'{split}_dataloader.dataset.demo_cfg.num_{part}_per_class={n}'
              for split in ('train', 'val', 'test')
              for part, n in (('train', 2), ('val', 1))]
    work = tmp_path / 'work'
    shapes = _run('train.py', [str(child), '--work-dir', str(work),
                               '--cfg-options', *small, *probe],
                  tmp_path, tmp_path / 'train_shapes.jsonl')
    train = [s for phase, s in shapes if phase == 'train']
    val = [s for phase, s in shapes if phase == 'val']
    # 8 videos, batch 8: one step an epoch; (N, C, T, H, W) with T = 16
    assert train == [[8, 3, 16, 64, 64]] * 2, shapes
    assert val and all(s[2] == 16 for s in val), shapes

    # the config mmengine dumped: plain values, and it runs again
    dumped = work / child.name
    text = dumped.read_text()
    assert '${' not in text and 'clip_len = 16' in text
    shapes = _run('test.py', [str(dumped), str(work / 'epoch_2.pth'),
                              '--work-dir', str(tmp_path / 'test')],
                  tmp_path, tmp_path / 'test_shapes.jsonl')
    test = [s for phase, s in shapes if phase == 'test']
    # 4 val videos (1 a class), one batch, 1 clip x 1 crop each
    assert test == [[4, 3, 16, 64, 64]], shapes


def _of(loader, kind):
    return [t for t in iter_transforms(loader) if t['type'] == kind]


def test_zoo_base_follows_every_knob(tmp_path):
    child = tmp_path / 'child.py'
    child.write_text(
        f'_base_ = [{str(V2_ROW)!r}]\n'
        'clip_len = 16\nnum_test_clips = 2\ncrop_size = 192\n'
        "data_root = '/videos/train'\nann_file_val = '/lists/val.txt'\n")
    cfg = load_config(str(child))
    assert not has_references(cfg._cfg_dict)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        (sampler, ) = _of(cfg[key], 'UniformSample')
        assert sampler['clip_len'] == 16
    assert _of(cfg.test_dataloader, 'UniformSample')[0]['num_clips'] == 2
    assert _of(cfg.val_dataloader, 'UniformSample')[0]['num_clips'] == 1
    assert _of(cfg.train_dataloader,
               'FusedRandomResizedCropFlip')[0]['scale'] == 192
    assert _of(cfg.test_dataloader, 'OfficialThreeCrop')[0]['crop_size'] == 192
    assert cfg.train_dataloader.dataset.data_prefix.video == '/videos/train'
    assert cfg.val_dataloader.dataset.ann_file == '/lists/val.txt'
    # the test list follows the val list unless set
    assert cfg.test_dataloader.dataset.ann_file == '/lists/val.txt'
    assert cfg.test_pipeline == cfg.test_dataloader.dataset.pipeline


def test_cfg_options_set_knobs():
    cfg = load_config(str(V1_ROW), {'clip_len': 32, 'frame_interval': 2})
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        (sampler, ) = _of(cfg[key], 'OfficialDenseSample')
        assert (sampler['clip_len'], sampler['frame_interval']) == (32, 2)
    # the 4 x 1 test views of the row are kept
    assert _of(cfg.test_dataloader, 'OfficialDenseSample')[0][
        'num_clips'] == 4
    assert _of(cfg.test_dataloader, 'OfficialCenterCrop')


def test_model_family_through_cfg_options(tmp_path, capsys):
    """The demo chooses its model when its file is read: a later
    model_family (--cfg-options, a child config) is one line saying so."""
    assert load_config(str(DEMO)).model.backbone.type == 'UniFormerVideo'
    line = ("config: model_family = 'uniformerv2' comes too late: the config "
            "chose its settings by model_family = 'uniformer' when its file "
            "was read; change that line in the file itself")
    with pytest.raises(KnobError) as e:
        load_config(str(DEMO), {'model_family': 'uniformerv2'})
    assert str(e.value) == line
    child = tmp_path / 'child.py'
    child.write_text(
        f"_base_ = [{str(DEMO)!r}]\nmodel_family = 'uniformerv2'\n")
    with pytest.raises(KnobError, match='comes too late'):
        load_config(str(child))
    train = load_tool('tools/train.py')
    with pytest.raises(SystemExit) as e:
        train.main([str(DEMO), '--cfg-options', 'model_family=uniformerv2'])
    assert e.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f'train.py: error: {line}'], err
    # the file's own line switches (tests/test_demo_data.py builds it)
    v2 = tmp_path / 'demo_v2.py'
    text = DEMO.read_text()  # a copy elsewhere: bases by absolute paths
    text = text.replace("'../_base_/", f"'{DEMO.parent.parent}/_base_/")
    text = text.replace("'./_base_/", f"'{DEMO.parent}/_base_/")
    v2.write_text(text.replace(
        "model_family = 'uniformer'\n", "model_family = 'uniformerv2'\n"))
    assert load_config(str(v2)).model.backbone.type == 'UniFormerV2Video'


def test_missing_reference_is_one_line(capsys):
    with pytest.raises(KnobError) as e:
        load_config(str(V2_ROW), {'data_root': 'data/${dataset}/videos'})
    assert str(e.value) == (
        "config: data_root refers to ${dataset}, but the config has no "
        "top-level variable 'dataset' (did you mean 'dataset_type'?)")
    train = load_tool('tools/train.py')
    with pytest.raises(SystemExit) as e:
        train.main([str(V2_ROW), '--cfg-options',
                    'data_root=data/${dataset}/videos'])
    assert e.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'dataset'" in err[0], err


def test_reference_syntax():
    cfg = dict(a=2, name='x', path='data/${name}/${a}', whole='${a}',
               nested='${${name}_model}', x_model=dict(depth='${a}'),
               item='${lst.1}', lst=[5, 6])
    resolve_knobs(cfg)
    assert cfg['path'] == 'data/x/2' and cfg['whole'] == 2
    assert cfg['nested'] == dict(depth=2) and cfg['item'] == 6
    cfg['nested']['depth'] = 3  # a copy, not the variable itself
    assert cfg['x_model'] == dict(depth=2)
    with pytest.raises(KnobError, match='cycle: a -> b -> a'):
        resolve_knobs(dict(a='${b}', b='${a}'))
    with pytest.raises(KnobError, match="lst has no '7'"):
        resolve_knobs(dict(lst=[1], x='${lst.7}'))


def test_update_transforms_unknown_transform_is_an_error():
    cfg = load_config(str(DEMO))
    with pytest.raises(ValueError) as e:
        update_transforms(cfg.train_dataloader, SampleFrames=dict(clip_len=4))
    assert str(e.value) == (
        'update_transforms: no SampleFrames transform to update (transforms '
        'present: DefaultSampler, DemoVideoDataset, VideoInit, UniformSample, '
        'VideoDecode, RandomResizedCrop, Resize, FormatShape, '
        'PackActionInputs)')
    # a present one still works
    loader = update_transforms(cfg.train_dataloader,
                               UniformSample=dict(clip_len=4))
    assert _of(loader, 'UniformSample')[0]['clip_len'] == 4


def test_k710_classifier_rows_read_the_backbone_checkpoint():
    """The K600 rows fine-tuned from K710 take their classifier from the
    K710 rows of the K600 classes, read from the backbone's checkpoint
    (``k710_classifier`` + a reference resolved by the knobs)."""
    from uniformer_mm.label_maps import resolve_path
    cfg = load_config(str(
        REPO / 'configs/uniformerv2/'
        'uniformerv2-large-p14-res224_clip-k710-pre_u16_kinetics600-rgb.py'))
    head = cfg.model.cls_head
    assert head.channel_map.endswith('k710_channel_map_k600.json')
    assert os.path.isfile(resolve_path(head.channel_map))
    assert head.init_cfg.checkpoint == cfg.model.backbone.init_cfg.checkpoint
    assert head.init_cfg.prefix == 'cls_head.'
    assert len(json.load(open(resolve_path(head.channel_map)))) == 600
    with pytest.raises(ValueError, match='k400, k600 or k700'):
        k710_classifier('k710')
