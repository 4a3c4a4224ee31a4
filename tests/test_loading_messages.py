"""Loading and configuration faults (docs/faults.md, "Loading and
configuration"):

* a TorchScript archive (OpenAI's CLIP ``.pt``) is read without running
  any of its code, exactly as ``torch.jit.load(...).state_dict()`` would
  return it; an archive whose pickle names another global is refused; a
  results dump is read without ``pickle.load``;
* a checkpoint that fills too little of the model (a V1 checkpoint for a
  V2 config, another width) is a one-line error through ``load_from``,
  ``tools/test.py``, ``init_cfg``, ``clip_pretrained`` and ``init_model``,
  unless ``min_loaded_fraction=0``;
* the tools read the test loader's pipeline, as ``tools/test.py`` runs it;
* head / data class counts that differ are reported before anything runs;
* unknown types, unexpected keywords, wrong ``--cfg-options`` types,
  ``ann_file=None``, bad data, non-finite losses and checkpoint errors end
  the tools with one line (no traceback unless ``--debug``).

The tool checks run in one subprocess (``tests/tool_driver.py`` calls the
tools' ``main`` for each case), plus two real command lines.
"""
import json
import os
import pickle
import re
import subprocess
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

import uniformer_mm  # noqa: F401 - registers everything
from uniformer_mm import apis
from uniformer_mm.apis import init_model
from uniformer_mm.analysis.input_shape import infer_view_spec
from uniformer_mm.checkpoint.clip import read_clip_checkpoint
from uniformer_mm.checkpoint.coverage import (PartialLoadError,
                                              check_load_coverage)
from uniformer_mm.checkpoint.io import (CorruptCheckpointError,
                                        UnsafePickleError,
                                        load_checkpoint_file)
from uniformer_mm.checkpoint.safe_pickle import (RefusedGlobalError,
                                                 load_plain_pickle,
                                                 read_torchscript_state_dict)
from uniformer_mm.datasets import make_video_demo
from uniformer_mm.engine import ConfigCheckError, check_config
from uniformer_mm.engine.config_knobs import load_config as knob_config  # noqa: E501

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / 'data'
DRIVER = REPO / 'tests' / 'tool_driver.py'

V1_ARCH = dict(embed_dims=[16, 32, 64, 64], depths=[1, 1, 1, 1], head_dim=16)
V2_ARCH = dict(input_resolution=32, patch_size=16, width=32, layers=2,
               heads=2, return_list=[0, 1])


# --------------------------------------------------------------------------
# a CLIP-like module, saved as TorchScript (scripted and traced)
# --------------------------------------------------------------------------
class _Block(nn.Module):

    def __init__(self, width):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, 2)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict(
            c_fc=nn.Linear(width, 4 * width), gelu=nn.GELU(),
            c_proj=nn.Linear(4 * width, width)))
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class _Transformer(nn.Module):

    def __init__(self, width, layers):
        super().__init__()
        self.resblocks = nn.Sequential(*[_Block(width)
                                         for _ in range(layers)])

    def forward(self, x):
        return self.resblocks(x)


class _Visual(nn.Module):

    def __init__(self, width=32, layers=2, patch=16, res=32):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, patch, patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(width))
        self.positional_embedding = nn.Parameter(
            torch.randn((res // patch)**2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = _Transformer(width, layers)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.randn(width, 16))

    def forward(self, x):
        x = self.conv1(x).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(x.shape[0], 1, x.shape[-1])
        x = torch.cat([cls, x], 1) + self.positional_embedding
        x = self.transformer(self.ln_pre(x).transpose(0, 1))
        return self.ln_post(x[0]) @ self.proj


class _TinyCLIP(nn.Module):
    """Image tower with CLIP's names, a text embedding, a buffer and a
    scalar parameter (the layout of OpenAI's ``ViT-B-16.pt``)."""

    def __init__(self, width=32):
        super().__init__()
        self.visual = _Visual(width)
        self.token_embedding = nn.Embedding(10, 16)
        self.logit_scale = nn.Parameter(torch.tensor(4.6))
        self.register_buffer('attn_mask', torch.full((4, 4), -1.).triu(1))
        self.scale = 2.0  # a plain attribute (not in the state dict)

    def forward(self, image):
        return self.visual(image) * self.logit_scale.exp() * self.scale


def _save_clip(path, how, width=32, half=False):
    torch.manual_seed(0)
    model = _TinyCLIP(width).eval()
    if half:
        model = model.half()
    if how == 'script':
        module = torch.jit.script(model)
    else:
        module = torch.jit.trace(model, torch.randn(1, 3, 32, 32))
    torch.jit.save(module, str(path))
    return path


def _with_evil_pickle(src, dst, marker):
    """A copy of a TorchScript archive whose data.pkl calls os.system."""

    class Evil:

        def __reduce__(self):
            return (os.system, (f'touch {marker}', ))

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w') as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith('/data.pkl'):
                data = pickle.dumps(Evil(), protocol=2)
            zout.writestr(item, data)
    return dst


@pytest.mark.parametrize('how,half', [('script', True), ('trace', False)])
def test_torchscript_reader_matches_jit_load(tmp_path, how, half):
    path = _save_clip(tmp_path / 'ViT-T-16.pt', how, half=half)
    expected = torch.jit.load(str(path), map_location='cpu').state_dict()
    got = read_torchscript_state_dict(str(path))
    assert list(got) == list(expected)  # same names, same order
    assert 'visual.transformer.resblocks.1.attn.in_proj_weight' in got
    assert 'attn_mask' in got and 'scale' not in got
    for key, value in expected.items():
        assert got[key].dtype == value.dtype, key
        assert got[key].shape == value.shape, key
        assert torch.equal(got[key], value), key
    # every loading entry point reads it this way
    assert set(load_checkpoint_file(str(path))) == set(expected)
    clip = read_clip_checkpoint(str(path))
    assert torch.equal(clip['visual.conv1.weight'],
                       expected['visual.conv1.weight'].float())


def test_torchscript_with_foreign_global_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    good = _save_clip(tmp_path / 'ViT-T-16.pt', 'script')
    evil = _with_evil_pickle(good, tmp_path / 'evil.pt', marker)
    with pytest.raises(RefusedGlobalError) as err:
        read_torchscript_state_dict(str(evil))
    assert (err.value.module, err.value.name) in (('posix', 'system'),
                                                  ('os', 'system'))
    for load in (load_checkpoint_file, read_clip_checkpoint):
        with pytest.raises(UnsafePickleError) as err:
            load(str(evil))
        msg = str(err.value)
        assert '\n' not in msg and str(evil) in msg and '.system' in msg
        assert 'UNIFORMER_MM_ALLOW_UNSAFE_PICKLE=1' in msg
    # a truncated archive is a one-line CorruptCheckpointError
    data = good.read_bytes()
    cut = tmp_path / 'cut.pt'
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(CorruptCheckpointError):
        load_checkpoint_file(str(cut))
    assert not marker.exists()


def test_results_dump_read_without_pickle(tmp_path, capsys):
    """What tools/test.py --dump writes (mmengine's DumpResults) is read by
    the restricted reader; a dump that would run code is refused."""
    from mmengine.evaluator import DumpResults
    dump = tmp_path / 'dump.pkl'
    metric = DumpResults(out_file_path=str(dump))
    samples = [dict(pred_score=torch.tensor([0.1, 0.7, 0.2]),
                    gt_label=torch.tensor(1), num_classes=3,
                    img_shape=(32, 32), filename=f'v{i}.mp4',
                    frame_inds=np.arange(4)) for i in range(3)]
    samples[2]['gt_label'] = torch.tensor(2)
    metric.process({}, samples)
    metric.compute_metrics(metric.results)
    back = load_plain_pickle(dump)
    assert len(back) == 3 and back[0]['filename'] == 'v0.mp4'
    assert torch.equal(back[1]['pred_score'], samples[1]['pred_score'])
    np.testing.assert_array_equal(back[0]['frame_inds'], np.arange(4))

    sys.path.insert(0, str(REPO / 'tools' / 'analysis'))
    try:
        import confusion_matrix
    finally:
        sys.path.pop(0)
    acc = confusion_matrix.main([str(dump), '--out',
                                 str(tmp_path / 'cm.png')])
    assert acc['correct'] == 2 and acc['total'] == 3

    marker = tmp_path / 'pwned'

    class Evil:

        def __reduce__(self):
            return (os.system, (f'touch {marker}', ))

    evil = tmp_path / 'evil.pkl'
    evil.write_bytes(pickle.dumps([dict(pred_score=Evil())]))
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        confusion_matrix.main([str(evil), '--out', str(tmp_path / 'x.png')])
    line = str(e.value.code)
    assert line.startswith('confusion_matrix.py: error: ') and '\n' not in \
        line and '.system' in line and '--allow-unsafe-pickle' in line
    assert not marker.exists()
    # a label map of another length is refused too
    labels = tmp_path / 'labels.txt'
    labels.write_text('a\nb\nc\nd\n')
    with pytest.raises(SystemExit) as e:
        confusion_matrix.main([str(dump), '--out', str(tmp_path / 'y.png'),
                               '--label-map', str(labels)])
    assert "has 4 classes, the model 3" in str(e.value.code)


def test_url_checkpoints_are_read_safely(tmp_path, monkeypatch):
    """load_from / init_cfg URLs: mmengine would unpickle the download with
    weights_only=False; ours reads it like a local file (a real server)."""
    import functools
    import http.server
    import threading

    from mmengine.runner.checkpoint import CheckpointLoader
    marker = tmp_path / 'pwned'

    class Evil:

        def __reduce__(self):
            return (os.system, (f'touch {marker}', ))

    served = tmp_path / 'served'
    served.mkdir()
    weights = {'backbone.w': torch.arange(6.).reshape(2, 3)}
    torch.save({'state_dict': weights, 'meta': {}}, served / 'good.pth')
    torch.save({'state_dict': weights, 'x': Evil()}, served / 'evil.pth')

    class Quiet(http.server.SimpleHTTPRequestHandler):

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(Quiet, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.delenv('UNIFORMER_MM_ALLOW_UNSAFE_PICKLE', raising=False)
    url = f'http://127.0.0.1:{server.server_address[1]}'
    try:
        ckpt = CheckpointLoader.load_checkpoint(f'{url}/good.pth', 'cpu')
        assert torch.equal(ckpt['state_dict']['backbone.w'],
                           weights['backbone.w'])
        assert (tmp_path / 'torch_home' / 'hub' / 'checkpoints' /
                'good.pth').is_file()
        with pytest.raises(UnsafePickleError, match='evil.pth'):
            CheckpointLoader.load_checkpoint(f'{url}/evil.pth', 'cpu')
    finally:
        server.shutdown()
    assert not marker.exists()


# --------------------------------------------------------------------------
# how much of a model a checkpoint fills
# --------------------------------------------------------------------------
def _video_model_cfg(family='v1', num_classes=4, width=None):
    if family == 'v1':
        arch = dict(V1_ARCH)
        if width:
            arch['embed_dims'] = [width, 2 * width, 4 * width, 4 * width]
        backbone = dict(type='UniFormerVideo', arch=arch)
        head = dict(type='I3DHead', in_channels=arch['embed_dims'][-1],
                    num_classes=num_classes, spatial_type='avg',
                    dropout_ratio=0., average_clips='prob')
    else:
        arch = dict(V2_ARCH, width=width or V2_ARCH['width'])
        backbone = dict(type='UniFormerV2Video', arch=arch, n_layers=2,
                        n_dim=arch['width'], n_head=2, mlp_factor=2.0)
        head = dict(type='UniFormerV2Head', in_channels=arch['width'],
                    num_classes=num_classes, dropout_ratio=0.,
                    average_clips='prob')
    return dict(
        type='Recognizer3D', backbone=backbone, cls_head=head,
        data_preprocessor=dict(type='ActionDataPreprocessor',
                               mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375],
                               format_shape='NCTHW'))


def _save_model(path, family, width=None, num_classes=4):
    torch.manual_seed(1)
    model = init_model(Config(dict(default_scope='mmaction',
                                   model=_video_model_cfg(
                                       family, num_classes, width))))
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


def test_coverage_of_a_foreign_checkpoint(tmp_path):
    v1 = _save_model(tmp_path / 'v1.pth', 'v1')
    v2_cfg = Config(dict(default_scope='mmaction',
                         model=_video_model_cfg('v2')))
    with pytest.raises(PartialLoadError) as err:
        init_model(v2_cfg, str(v1))
    msg = str(err.value)
    assert '\n' not in msg
    m = re.search(r'fills only (\d+) of the (\d+) tensors of the model', msg)
    v2_model = init_model(v2_cfg)
    assert m and int(m.group(1)) == 1  # cls_head.fc_cls.bias [4]
    assert int(m.group(2)) == len([k for k in v2_model.state_dict()
                                   if 'num_batches_tracked' not in k])
    assert 'looks like UniFormerVideo with an arch dict with depths=[1, 1, ' \
        '1, 1], embed_dims=[16, 32, 64, 64]' in msg, msg
    assert 'the model is UniFormerV2Video with arch=dict(width=32, ' \
        'layers=2, patch_size=16, input_resolution=32' in msg, msg
    assert 'min_loaded_fraction=0' in msg
    # the opt-out
    model = init_model(v2_cfg, str(v1), min_loaded_fraction=0)
    assert model.task == 'video'
    # a checkpoint of the right model fills all of it
    own = tmp_path / 'v2.pth'
    torch.save(dict(state_dict=v2_model.state_dict()), own)
    cov = check_load_coverage(v2_model.state_dict(),
                              torch.load(own)['state_dict'], str(own))
    assert cov.matched == cov.total and cov.fraction == 1.0
    # a new head (other class count) is a small part: loads with a warning
    other = _save_model(tmp_path / 'v1_400.pth', 'v1', num_classes=400)
    v1_cfg = Config(dict(default_scope='mmaction',
                         model=_video_model_cfg('v1')))
    init_model(v1_cfg, str(other))


# --------------------------------------------------------------------------
# the test views: tools read the test loader's pipeline
# --------------------------------------------------------------------------
def _pipeline(clip_len, num_clips, crop, three_crop=False):
    return [
        dict(type='VideoInit'),
        dict(type='SampleFrames', clip_len=clip_len, frame_interval=1,
             num_clips=num_clips, test_mode=True),
        dict(type='VideoDecode'),
        dict(type='Resize', scale=(-1, crop)),
        dict(type='ThreeCrop' if three_crop else 'CenterCrop',
             crop_size=crop),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs'),
    ]


def test_test_pipeline_is_the_test_loaders():
    cfg = Config(dict(
        default_scope='mmaction', model=_video_model_cfg('v1'),
        test_pipeline=_pipeline(8, 1, 64),
        test_dataloader=dict(dataset=dict(
            type='VideoDataset', ann_file='x.txt',
            pipeline=_pipeline(4, 2, 32, three_crop=True)))))
    steps, from_config = apis.test_pipeline_cfg(cfg)
    assert from_config and steps[1]['num_clips'] == 2
    spec = infer_view_spec(cfg)
    assert spec.shape == (3, 4, 32, 32) and spec.views == 6
    # through dataset wrappers
    cfg.test_dataloader = dict(dataset=dict(
        type='RepeatDataset', times=2, dataset=dict(
            type='VideoDataset', ann_file='x.txt',
            pipeline=_pipeline(4, 2, 32))))
    assert infer_view_spec(cfg).shape == (3, 4, 32, 32)
    # no test loader (configs/_base_/models): the top-level one
    cfg.test_dataloader = None
    assert infer_view_spec(cfg).shape == (3, 8, 64, 64)


# --------------------------------------------------------------------------
# config checks: types, arguments, ann_file, class counts
# --------------------------------------------------------------------------
@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    """4 classes of generated videos (1 train + 1 val each, 8 frames of
    32x32) with train_list.txt, val_list.txt and label_map.txt."""
    root = tmp_path_factory.mktemp('demo4')
    info = make_video_demo(root / 'data', num_train_per_class=1,
                           num_val_per_class=1, num_frames=8, size=32)
    return info


def _loader(info, split, pipeline=None, **ds):
    test_mode = split != 'train'
    dataset = dict(type='VideoDataset', ann_file=str(info[f'{split}_list']),
                   data_prefix=dict(video=str(info['root'])),
                   pipeline=pipeline or _pipeline(4, 1, 32),
                   test_mode=test_mode)
    dataset.update(ds)
    return dict(batch_size=2, num_workers=0, persistent_workers=False,
                sampler=dict(type='DefaultSampler', shuffle=not test_mode),
                dataset=dataset)


def _run_cfg(info, work_dir, family='v1', **over):
    cfg = dict(
        default_scope='mmaction', work_dir=str(work_dir),
        model=_video_model_cfg(family),
        train_dataloader=_loader(info, 'train'),
        val_dataloader=_loader(info, 'val'),
        test_dataloader=_loader(info, 'val'),
        val_evaluator=dict(type='AccMetric'),
        test_evaluator=dict(type='AccMetric'),
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=1,
                       val_interval=10),
        val_cfg=dict(type='ValLoop'), test_cfg=dict(type='TestLoop'),
        optim_wrapper=dict(type='SkipNonFiniteOptimWrapper',
                           optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=dict(type='AtomicCheckpointHook',
                                           interval=1)),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        randomness=dict(seed=0), launcher='none', load_from=None,
        resume=False)
    cfg.update(over)
    return cfg


def _errors(cfg, mode='train'):
    with pytest.raises(ConfigCheckError) as e:
        check_config(cfg, mode=mode)
    return str(e.value).splitlines()


def test_config_checks_types_arguments_and_classes(demo, tmp_path):
    ok = _run_cfg(demo, tmp_path)
    assert check_config(ok) == []

    cfg = _run_cfg(demo, tmp_path)
    cfg['model']['backbone']['type'] = 'UniFormerV2Vidoe'
    cfg['model']['cls_head']['num_clases'] = 4
    cfg['train_dataloader']['dataset']['pipeline'][4]['type'] = 'CentreCrop'
    cfg['custom_hooks'] = [dict(type='BadSampleHok')]
    assert _errors(cfg) == [
        "model.backbone.type: unknown type 'UniFormerV2Vidoe' (not in the "
        "mmaction::model registry); did you mean 'UniFormerV2Video'?",
        "model.cls_head: I3DHead has no argument 'num_clases'; did you mean "
        "'num_classes'?",
        "train_dataloader.dataset.pipeline[4].type: unknown type "
        "'CentreCrop' (not in the mmaction::transform registry); did you "
        "mean 'CenterCrop'?",
        "custom_hooks[0].type: unknown type 'BadSampleHok' (not in the "
        "mmaction::hook registry); did you mean 'BadSampleHook'?"]

    cfg = _run_cfg(demo, tmp_path)
    cfg['model']['backbon'] = cfg['model'].pop('backbone')
    cfg['train_dataloader']['dataset']['ann_file'] = None
    assert _errors(cfg) == [
        "model: Recognizer3D has no argument 'backbon'; did you mean "
        "'backbone'?",
        'train_dataloader.dataset.ann_file is None, but VideoDataset needs '
        "an annotation list; set train_dataloader.dataset.ann_file='path/to/"
        "list.txt' (docs/custom_dataset.md)"]

    # a 5-class head on the 4-class data: the label map next to the lists
    # and the training labels say 4
    cfg = _run_cfg(demo, tmp_path)
    cfg['model']['cls_head']['num_classes'] = 5
    errors = _errors(cfg)
    label_map = Path(demo['root']) / 'label_map.txt'
    assert errors[0] == (
        f'model.cls_head.num_classes=5 but the label map {label_map} next to '
        'train_list.txt (4 lines) says 4 classes: set '
        'model.cls_head.num_classes=4 (or fix the data set)')
    assert errors[1].startswith(
        'model.cls_head.num_classes=5 but the labels of the training list '
        f"{demo['train_list']} (train_dataloader.dataset.ann_file) go up to "
        '3 (4 classes): classes 4..4 never appear in training')
    assert any(e.startswith('model.cls_head.num_classes=5 but the label map')
               and 'val_list.txt' in e for e in errors[2:])
    # a class list of the data set with another length
    cfg = _run_cfg(demo, tmp_path)
    cfg['val_dataloader']['dataset']['metainfo'] = dict(
        classes=['a', 'b', 'c'])
    cfg['train_dataloader']['dataset']['num_classes'] = 6
    assert _errors(cfg) == [
        'model.cls_head.num_classes=4 but train_dataloader.dataset.'
        'num_classes says 6 classes: set model.cls_head.num_classes=6 (or '
        'fix the data set)',
        'model.cls_head.num_classes=4 but val_dataloader.dataset.metainfo.'
        'classes (3 names) says 3 classes: set model.cls_head.num_classes=3 '
        '(or fix the data set)']
    cfg['config_checks'] = dict(skip=['num_classes'])
    assert check_config(cfg) == []
    # the config's label map (the names of its predictions)
    cfg = _run_cfg(demo, tmp_path, label_map=['a', 'b', 'c'])
    assert _errors(cfg) == [
        'model.cls_head.num_classes=4 but label_map names 3 classes: set '
        'model.cls_head.num_classes=3, or label_map to the class names of '
        'the data set']
    cfg['label_map'] = str(Path(demo['root']) / 'label_map.txt')
    assert check_config(cfg) == []


def test_zoo_configs_pass_the_type_checks():
    """No false alarms: one config of each folder of configs/ (video, image,
    UniFormerV2, demo, detection, segmentation, pose; a framework that is
    not installed is skipped by the check)."""
    from uniformer_mm.engine.config_checks import check_types
    picked = {}
    for path in sorted((REPO / 'configs').rglob('*.py')):
        if '_base_' not in path.parts:
            picked.setdefault(path.parent, path)
    assert len(picked) >= 5
    for path in picked.values():
        try:
            cfg = knob_config(str(path))
        except ImportError:  # mmdet:: bases without mmdet
            continue
        errors = []
        check_types(cfg, errors)
        assert errors == [], (path, errors)


def test_cfg_options_value_types():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        '_loading_train_cli', REPO / 'tools' / 'train.py')
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    cfg = Config(dict(train_cfg=dict(max_epochs=2, by_epoch=True),
                      optim_wrapper=dict(optimizer=dict(lr=0.1)),
                      model=dict(backbone=dict(arch=dict(depths=[1]),
                                               drop=None))))
    ok = {'train_cfg.max_epochs': 5, 'optim_wrapper.optimizer.lr': 1,
          'model.backbone.arch': 'small', 'model.backbone.drop': 0.1,
          'train_cfg.by_epoch': False, 'train_cfg.max_epochs.x': None}
    for key, value in list(ok.items())[:-1]:
        cli.check_cfg_options(cfg, {key: value})
    bad = {
        ('train_cfg.max_epochs', 'ten'):
        "--cfg-options train_cfg.max_epochs='ten': expects an integer (the "
        "config has 2), got a string; e.g. train_cfg.max_epochs=2",
        ('train_cfg.max_epochs', 2.5): 'expects an integer',
        ('optim_wrapper.optimizer.lr', 'fast'): 'expects a number',
        ('train_cfg.by_epoch', 1): 'expects a boolean',
    }
    for (key, value), message in bad.items():
        with pytest.raises(cli.CLIError, match=re.escape(message)):
            cli.check_cfg_options(cfg, {key: value})


# --------------------------------------------------------------------------
# the tools, in one driver process and two real command lines
# --------------------------------------------------------------------------
def _write(path, cfg):
    Config(cfg).dump(str(path))
    return path


@pytest.fixture(scope='module')
def files(demo, tmp_path_factory):
    """Configs and checkpoints of the tool cases."""
    d = tmp_path_factory.mktemp('tools')
    f = dict(dir=d)
    f['v1_ckpt'] = _save_model(d / 'v1.pth', 'v1')
    f['v2_ckpt'] = _save_model(d / 'v2.pth', 'v2')
    f['v2_wide_ckpt'] = _save_model(d / 'v2_w64.pth', 'v2', width=64)
    data = f['v1_ckpt'].read_bytes()
    f['truncated'] = d / 'truncated.pth'
    f['truncated'].write_bytes(data[:len(data) // 3])
    clip = _save_clip(d / 'ViT-T-16.pt', 'script', half=True)
    f['evil_clip'] = _with_evil_pickle(clip, d / 'evil_clip.pt',
                                       d / 'pwned')
    f['wide_clip'] = _save_clip(d / 'ViT-W-16.pt', 'script', width=64)
    f['v1'] = _write(d / 'v1.py', _run_cfg(demo, d / 'w_v1'))
    backbon = _run_cfg(demo, d / 'w_backbon')
    backbon['model']['backbon'] = backbon['model'].pop('backbone')
    f['backbon'] = _write(d / 'backbon.py', backbon)
    f['v2'] = _write(d / 'v2.py', _run_cfg(demo, d / 'w_v2', family='v2'))
    # the multi-view config: a top-level test_pipeline of one 8-frame view
    # that the test loader does not use (4 frames, 2 clips x 3 crops)
    mv = _run_cfg(demo, d / 'w_mv', test_pipeline=_pipeline(8, 1, 32))
    mv['test_dataloader'] = _loader(
        demo, 'val', _pipeline(4, 2, 32, three_crop=True))
    one = d / 'one_video.txt'
    first = Path(demo['val_list']).read_text().splitlines()[0]
    one.write_text(first + '\n')
    mv['test_dataloader']['dataset']['ann_file'] = str(one)
    f['one_video'] = Path(demo['root']) / first.split()[0]
    f['mv'] = _write(d / 'mv.py', mv)
    # broken data: every listed video is broken
    bad_dir = d / 'bad'
    bad_dir.mkdir()
    (bad_dir / 'empty.mp4').write_bytes(b'')
    (bad_dir / 'text.mp4').write_text('not a video\n')
    bad_list = d / 'bad_list.txt'
    bad_list.write_text('empty.mp4 0\ntext.mp4 1\nempty.mp4 2\n'
                        'text.mp4 3\n' * 2)
    bad = _run_cfg(demo, d / 'w_bad')
    bad['train_dataloader'].update(num_workers=1, persistent_workers=False)
    bad['train_dataloader']['dataset'].update(
        type='RobustVideoDataset', ann_file=str(bad_list),
        data_prefix=dict(video=str(bad_dir)), max_consecutive_bad=2,
        max_bad_fraction=1.0, on_duplicate='warn')
    f['bad'] = _write(d / 'bad.py', bad)
    nan = _run_cfg(demo, d / 'w_nan')
    nan['model']['data_preprocessor']['std'] = [0., 0., 0.]
    nan['optim_wrapper']['max_consecutive_skips'] = 2
    f['nan'] = _write(d / 'nan.py', nan)
    return f


def _cases(f, demo):
    d = f['dir']
    v1, v2, mv = str(f['v1']), str(f['v2']), str(f['mv'])
    train, test, infer = 'tools/train.py', 'tools/test.py', 'tools/infer.py'

    def run(name, cfg, *options, tool=train, ckpt=None, extra=()):
        """A train.py / test.py case with its own work dir and logger."""
        argv = [cfg] + ([ckpt] if ckpt else []) + [
            '--work-dir', d / f'wd_{name}', *extra, '--cfg-options',
            f'experiment_name={name}', *options]
        return dict(name=name, tool=tool, argv=argv)

    def init_cfg(ckpt):
        return ('model.backbone.init_cfg.type=Pretrained',
                f'model.backbone.init_cfg.checkpoint={ckpt}')

    labels3 = d / 'labels3.txt'
    labels3.write_text('a\nb\nc\n')
    return [
        # messages
        run('unknown_type', v2, 'model.backbone.type=UniFormerV2Vidoe'),
        run('unknown_type_runtime', v2, 'model.cls_head.type=UniFormerV2Hed',
            'config_checks.skip=[types]'),
        run('unknown_type_debug', v2, 'model.cls_head.type=UniFormerV2Hed',
            'config_checks.skip=[types]', extra=['--debug']),
        run('keyword', str(f['backbon'])),
        run('value_type', v1, 'train_cfg.max_epochs=ten'),
        run('ann_file_none', v1, 'train_dataloader.dataset.ann_file=None'),
        run('too_many_bad', str(f['bad'])),
        run('nonfinite', str(f['nan'])),
        run('classes', v1, 'model.cls_head.num_classes=5'),
        # checkpoints
        run('init_cfg_v1_into_v2', v2, *init_cfg(f['v1_ckpt'])),
        run('init_cfg_truncated', v1, *init_cfg(f['truncated'])),
        run('clip_evil', v2,
            f"model.backbone.clip_pretrained={f['evil_clip']}"),
        run('clip_other_width', v2,
            f"model.backbone.clip_pretrained={f['wide_clip']}"),
        run('load_from_other_width', v2, f"load_from={f['v2_wide_ckpt']}"),
        run('test_v1_into_v2', v2, tool=test, ckpt=f['v1_ckpt']),
        run('test_opt_out', v2, 'min_loaded_fraction=0', tool=test,
            ckpt=f['v1_ckpt']),
        dict(name='infer_truncated', tool=infer, argv=[
            v2, f['truncated'], f['one_video']]),
        dict(name='infer_v1_into_v2', tool=infer, argv=[
            v2, f['v1_ckpt'], f['one_video']]),
        dict(name='infer_label_map', tool=infer, argv=[
            v1, f['v1_ckpt'], f['one_video'], '--label-map', labels3]),
        # the test views
        dict(name='flops', tool='tools/analysis/get_flops.py', argv=[mv]),
        dict(name='onnx', tool='tools/export_onnx.py', argv=[
            mv, f['v1_ckpt'], '--out', d / 'mv.onnx']),
        dict(name='infer_mv', tool=infer, argv=[
            mv, f['v1_ckpt'], f['one_video'], '--out', d / 'infer.json']),
        dict(name='features_mv', tool='tools/extract_features.py', argv=[
            mv, f['v1_ckpt'], f['one_video'].parent, '--out-dir',
            d / 'feats', '--per-view']),
        run('test_mv', mv, tool=test, ckpt=f['v1_ckpt'],
            extra=['--dump', d / 'mv_dump.pkl']),
        dict(name='confusion_mv', tool='tools/analysis/confusion_matrix.py',
             argv=[d / 'mv_dump.pkl', '--out', d / 'cm.png']),
    ]


def _one_line_error(r, prog, code=2):
    lines = [ln for ln in r['stderr'].splitlines()
             if ln.startswith(f'{prog}: error: ')]
    assert r['escaped'] is None, r['escaped']
    assert r['code'] == code, (r['code'], r['stderr'][-2000:])
    assert len(lines) == 1, r['stderr'][-2000:]
    assert 'Traceback' not in r['stderr']
    return lines[0][len(f'{prog}: error: '):]


@pytest.mark.slow
def test_tools_loading_and_messages(files, demo, tmp_path):
    cases = _cases(files, demo)
    cases_json = tmp_path / 'cases.json'
    cases_json.write_text(json.dumps(cases, default=str))
    out_json = tmp_path / 'results.json'
    proc = subprocess.run(
        [sys.executable, str(DRIVER), str(cases_json), str(out_json)],
        cwd=str(REPO), capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-4000:]
    r = json.loads(out_json.read_text())

    # -- messages
    line = _one_line_error(r['unknown_type'], 'train.py')
    assert line == ("model.backbone.type: unknown type 'UniFormerV2Vidoe' "
                    '(not in the mmaction::model registry); did you mean '
                    "'UniFormerV2Video'?")
    line = _one_line_error(r['unknown_type_runtime'], 'train.py')
    assert line == ("type: unknown type 'UniFormerV2Hed' (not in the "
                    "mmaction::model registry); did you mean "
                    "'UniFormerV2Head'?")
    assert 'UniFormerV2Hed' in r['unknown_type_debug']['escaped']
    line = _one_line_error(r['keyword'], 'train.py')
    assert line == ("model: Recognizer3D has no argument 'backbon'; did you "
                    "mean 'backbone'?")
    line = _one_line_error(r['value_type'], 'train.py')
    assert line.startswith("--cfg-options train_cfg.max_epochs='ten': "
                           'expects an integer (the config has 1)')
    line = _one_line_error(r['ann_file_none'], 'train.py')
    assert line.startswith('train_dataloader.dataset.ann_file is None, but '
                           'VideoDataset needs an annotation list')
    line = _one_line_error(r['too_many_bad'], 'train.py', code=1)
    assert 'could not be used (max_consecutive_bad=2)' in line
    assert 'empty.mp4' in line and 'max_bad_fraction' in line, line
    line = _one_line_error(r['nonfinite'], 'train.py', code=1)
    assert line.startswith('training stopped: 2 consecutive steps had a '
                           'non-finite loss'), line
    line = _one_line_error(r['classes'], 'train.py')
    assert line.startswith('model.cls_head.num_classes=5 but the label map')

    # -- checkpoints
    line = _one_line_error(r['init_cfg_v1_into_v2'], 'train.py')
    assert line.startswith(f"{files['v1_ckpt']} fills only 0 of the ")
    assert 'tensors of the UniFormerV2Video backbone' in line
    assert 'looks like UniFormerVideo with an arch dict' in line
    line = _one_line_error(r['init_cfg_truncated'], 'train.py')
    assert str(files['truncated']) in line and 'truncated' in line
    line = _one_line_error(r['clip_evil'], 'train.py')
    assert 'is a TorchScript archive whose data.pkl needs' in line
    assert not (files['dir'] / 'pwned').exists()
    line = _one_line_error(r['clip_other_width'], 'train.py')
    assert line.startswith(f"clip_pretrained={files['wide_clip']} fills "
                           'only 0 of the'), line
    assert 'a CLIP image encoder (width 64, 2 layers, patch 16, 32 px)' \
        in line
    line = _one_line_error(r['load_from_other_width'], 'train.py')
    assert line.startswith(f"{files['v2_wide_ckpt']} fills only ")
    assert 'UniFormerV2Video with arch=dict(width=64' in line
    line = _one_line_error(r['test_v1_into_v2'], 'test.py')
    # (only the classifier bias [4] has a name and shape in common)
    assert line.startswith(f"{files['v1_ckpt']} fills only 1 of the ")
    assert r['test_opt_out']['code'] == 0, r['test_opt_out']['stderr'][-2000:]
    line = _one_line_error(r['infer_truncated'], 'infer.py')
    assert 'truncated' in line
    line = _one_line_error(r['infer_v1_into_v2'], 'infer.py')
    assert 'fills only 1 of the' in line
    line = _one_line_error(r['infer_label_map'], 'infer.py', code=1)
    assert line.endswith("labels3.txt' has 3 classes, the model 4: use the "
                         'label map of the data set the model was trained on')

    # -- the test views are the test loader's: 4 frames, 2 clips x 3 crops
    assert 'input: 1x3x4x32x32' in r['flops']['stdout']
    assert 'views: 2 clips x 3 crops = 6' in r['flops']['stdout']
    assert 'input 1x3x4x32x32' in r['onnx']['stdout']
    assert '(video, 6 views)' in r['infer_mv']['stdout']
    assert '[6, 64]' in r['features_mv']['stdout']
    assert r['test_mv']['code'] == 0, r['test_mv']['stderr'][-2000:]
    dump = load_plain_pickle(files['dir'] / 'mv_dump.pkl')
    infer = json.loads((files['dir'] / 'infer.json').read_text())
    top = infer[0]['predictions'][0]
    scores = dump[0]['pred_score']
    assert int(scores.argmax()) == top['label']
    assert float(scores.max()) == pytest.approx(top['score'], abs=1e-5)
    assert r['confusion_mv']['code'] == 0
    assert 'samples: 1  classes: 4' in r['confusion_mv']['stdout']


@pytest.mark.slow
def test_real_command_lines(files):
    """The real tools/test.py and tools/train.py: one line on stderr, exit
    status 2, no traceback."""
    for args, prog, start in (
            (['tools/test.py', files['v2'], files['v1_ckpt']], 'test.py',
             f"{files['v1_ckpt']} fills only 1 of the "),
            (['tools/train.py', files['backbon']], 'train.py',
             "model: Recognizer3D has no argument 'backbon'; did you mean "
             "'backbone'?")):
        proc = subprocess.run(
            [sys.executable, *map(str, args), '--work-dir',
             str(files['dir'] / f'real_{prog}')], cwd=str(REPO),
            capture_output=True, text=True, timeout=600)
        errors = [ln for ln in proc.stderr.splitlines()
                  if ln.startswith(f'{prog}: error: ')]
        assert proc.returncode == 2, proc.stderr[-3000:]
        assert len(errors) == 1 and errors[0][len(prog) + 9:].startswith(
            start), proc.stderr[-3000:]
        assert 'Traceback' not in proc.stderr + proc.stdout
