"""Every config in configs/ (the model zoo rows, the short aliases, the
demos; not configs/_base_):

* it parses and its model builds (on the ``meta`` device: no memory, no
  weight loading -- ``init_weights`` is never called);
* its parameter count matches the reference numbers of the papers / the
  official code (table ``REFERENCE`` below; other class counts derived from
  the classifier size);
* its schedule is consistent (warmup from 1e-6 as the official recipes,
  cosine to the last epoch, the official global batch = ``auto_scale_lr``);
* its train / val / test pipelines run on real videos (frame folders for
  Something-Something V1 and V2, an image for ImageNet) through the real data set
  classes and give the frames, crop size and views (clips x crops) that the
  ``# paper:`` header of the row states (identical pipelines run once);
* without the data set, ``tools/train.py`` stops with one line naming the
  missing path and the data set's page in docs/datasets/, and a non-zero
  exit status, without a traceback.
"""
import functools
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import uniformer_mm  # noqa: F401  (registers our modules)
from mmengine.config import Config
from mmengine.registry import init_default_scope

from uniformer_mm.apis import config_class_names
from uniformer_mm.label_maps import read_channel_map

from _paths import FRAMES, REPO, TEST_JPG, VIDEOS
from test_model_index import metafile_params
from uniformer_mm.engine.config_knobs import load_config as knob_config  # noqa: E501

CONFIGS = REPO / 'configs'

#: Dense-prediction configs (mmdet / mmseg / mmpose): built and checked by
#: tests/test_dense_complexity.py and tests/test_dense_frameworks.py.
DENSE = ('configs/uniformer_det/', 'configs/uniformer_seg/',
         'configs/uniformer_pose/')
ALL = sorted(p.relative_to(REPO).as_posix() for p in CONFIGS.rglob('*.py')
             if '_base_' not in p.relative_to(CONFIGS).parts
             and not p.relative_to(REPO).as_posix().startswith(DENSE))
ZOO = [c for c in ALL if not c.startswith('configs/demo/')]

# Parameters (millions) of the reference: (params, classes, classifier input
# width, number of classifiers). Sources: official code enumerated (UniFormer
# V1 video S 21.40M / B 49.81M with 400 classes -- mmaction2 21.4M / 49.8M;
# UniFormerV2 K400 B/16 114.55M, L/14 354.10M, L/14@336 354.43M, SSv2 B/16
# 162.99M, L/14 573.95M with 174 classes; image models with 1000 classes).
REFERENCE = {
    'video-small': (21.40, 400, 512, 1),
    'video-base': (49.81, 400, 512, 1),
    'video-xxs': (9.83, 400, 448, 2),  # + class-token classifier
    'video-xs': (16.10, 400, 512, 2),
    'image-small': (21.55, 1000, 512, 1),
    'image-small_plus': (24.03, 1000, 512, 1),
    'image-small_plus_dim64': (24.03, 1000, 512, 1),
    'image-base': (49.78, 1000, 512, 1),
    'image-base_ls': (49.80, 1000, 512, 1),
    'image-small_tl': (22.06, 1000, 512, 2),  # + token classifier
    'image-small_tl_dim64': (22.06, 1000, 512, 2),
    'image-small_plus_tl': (24.5, 1000, 512, 2),  # "~24.5M"
    'image-small_plus_tl_dim64': (24.5, 1000, 512, 2),
    'image-base_tl': (50.29, 1000, 512, 2),
    'image-base_tl_dim64': (50.29, 1000, 512, 2),
    'image-large_ls_tl': (100.10, 1000, 640, 2),
    'image-xxs': (10.22, 1000, 448, 2),
    'image-xs': (16.51, 1000, 512, 2),
    'v2-vit-b16': (114.55, 400, 768, 1),
    'v2-vit-l14': (354.10, 400, 1024, 1),
    'v2-vit-l14-336': (354.43, 400, 1024, 1),
    'v2-vit-b16-sth': (162.99, 174, 768, 1),
    'v2-vit-l14-sth': (573.95, 174, 1024, 1),
}
# the reference rounds to 0.01M ("~24.5M": 0.05M)
TOLERANCE = {'image-small_plus_tl': 0.05, 'image-small_plus_tl_dim64': 0.05}


@functools.lru_cache(maxsize=None)
def load(rel):
    return knob_config(str(REPO / rel))


def header(rel):
    """The leading comment block of a config, as one line (an alias: that of
    the config it names)."""
    text = (REPO / rel).read_text()
    lines = []
    for line in text.splitlines():
        if not line.startswith('#'):
            break
        lines.append(line.lstrip('#').strip())
    joined = ' '.join(lines)
    if 'paper:' not in joined:
        m = re.search(r"_base_ = \[\s*'(\./[^']+)',?\s*\]", text)
        if m:
            target = (REPO / rel).parent / m.group(1)
            return header(os.path.relpath(target.resolve(), REPO))
    return joined


def registry(cfg):
    if cfg.get('default_scope') == 'mmpretrain':
        from mmpretrain.registry import MODELS
    else:
        from mmaction.registry import MODELS
    return MODELS


def model_cfg(cfg):
    """The model config, buildable on the meta device as it is (the channel
    maps of the K710-initialised heads are shipped with the package), with
    the batch blending (a torch Beta distribution, which cannot live on
    'meta') taken out (built separately)."""
    model = cfg.model.to_dict()
    blending = (model.get('data_preprocessor') or {}).pop('blending', None)
    return model, blending


def variant(model):
    bb = model['backbone']
    head = model.get('cls_head') or model.get('head')
    if bb['type'] == 'UniFormerV2Video':
        key = f'v2-{bb.get("arch", "vit-b16")}'
        return key + ('' if bb.get('no_lmhra', True) else '-sth')
    arch = bb.get('arch', 'small')
    if isinstance(arch, dict):  # the light *_ls models
        arch = {56: 'xxs', 64: 'xs'}[arch['embed_dims'][0]]
    kind = 'video' if bb['type'] == 'UniFormerVideo' else 'image'
    assert head is not None
    return f'{kind}-{arch}'


def expected_params(model):
    key = variant(model)
    ref, ref_classes, width, heads = REFERENCE[key]
    head = model.get('cls_head') or model.get('head')
    n = ref + (head['num_classes'] - ref_classes) * (width + 1) * heads / 1e6
    bb = model['backbone']
    if bb.get('frozen'):  # no `balance` gate
        n -= width / 1e6
    arch = bb.get('arch')
    if isinstance(arch, dict) and arch.get('layer_scale') == 'all':
        # layer scale of the official *_ls models: two vectors per block,
        # plus one (fast update) per token-pruning block, i.e. every global
        # block but the first one of stage 3
        d, c = arch['depths'], arch['embed_dims']
        n += (2 * sum(di * ci for di, ci in zip(d, c)) + (d[2] - 1) * c[2] +
              d[3] * c[3]) / 1e6
    return key, n, TOLERANCE.get(key, 0.0051)


@pytest.mark.parametrize('rel', ALL)
def test_config_builds(rel):
    cfg = load(rel)
    if 'train_dataloader' in cfg:  # docs/distributed.md, batch size and lr
        assert cfg.auto_scale_lr.base_batch_size > 0
        assert not cfg.auto_scale_lr.get('enable', False)  # --auto-scale-lr
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    MODELS = registry(cfg)
    model, blending = model_cfg(cfg)
    with torch.device('meta'):
        net = MODELS.build(model)
    n = sum(p.numel() for p in net.parameters()) / 1e6
    # the model index lists this count (docs/model_index.md)
    assert metafile_params(rel) == sum(p.numel() for p in net.parameters())
    if blending is not None:  # builds on CPU
        MODELS.build(dict(cfg.model.data_preprocessor.to_dict(),
                          blending=blending))
    if rel.startswith('configs/demo/'):
        return
    head = model.get('cls_head') or model.get('head')
    # the head predicts the data set's classes, and the config names them
    # (a shipped label map, or mmpretrain's ImageNet class names)
    assert head['num_classes'] == cfg.num_classes
    names = config_class_names(cfg)
    assert names is not None and len(names) == cfg.num_classes
    key, expected, tol = expected_params(model)
    assert abs(n - expected) <= tol, (key, n, expected)
    # every row states its published result
    assert 'paper:' in header(rel)


@pytest.mark.parametrize('rel', ZOO)
def test_schedule(rel):
    cfg = load(rel)
    lr = cfg.optim_wrapper.optimizer.lr
    sched = cfg.param_scheduler
    assert sched[-1]['end'] == cfg.train_cfg.max_epochs
    for s in sched:
        assert s['convert_to_iter_based'] and s['by_epoch']
    if sched[0]['type'] == 'LinearLR':  # warmup from 1e-6 (official)
        assert sched[0]['start_factor'] * lr == pytest.approx(1e-6) or (
            sched[0]['start_factor'] == 1. and lr <= 1e-6)
        assert sched[1]['begin'] == sched[0]['end']
    if sched[-1]['type'] == 'CosineAnnealingLR':
        assert sched[-1]['T_max'] == sched[-1]['end'] - sched[-1]['begin']
    # the official global batch: 8 GPUs x the per-GPU batch of the config
    text = header(rel)
    m = re.search(r'batch (\d+) \((\d+) per GPU x 8 GPUs\)', text)
    if m:
        assert int(m.group(2)) * 8 == int(m.group(1))
        assert cfg.train_dataloader.batch_size == int(m.group(2))
        assert cfg.auto_scale_lr.base_batch_size == int(m.group(1))
    m = re.search(r'lr (?:\S+ x \d+ / 512 = )?(\d[\d.e-]*\d)', text)
    if m:
        assert lr == pytest.approx(float(m.group(1))), (m.group(0), lr)
    v2 = cfg.model.backbone.type == 'UniFormerV2Video'
    head = cfg.model.get('cls_head') or cfg.model.get('head')
    if cfg.model.get('data_preprocessor', {}).get('blending'):
        assert not v2  # UniFormerV2: plain cross-entropy
        assert head.label_smooth_eps == 0.1
    if cfg.get('default_scope') == 'mmaction':
        # official score averaging: V1 sums logits, V2 softmax then sum
        assert head.average_clips == ('prob' if v2 else 'score')
        assert cfg.optim_wrapper.clip_grad.max_norm == 20
    paramwise = cfg.optim_wrapper.paramwise_cfg
    assert paramwise.norm_decay_mult == paramwise.bias_decay_mult == \
        paramwise.flat_decay_mult == 0.


# --------------------------------------------------------------- pipelines
def expected_views(rel):
    """(frames, crop, clips, crops) stated by the row (images: crop only)."""
    name = Path(rel).name
    m = re.search(r'res(\d+)', name) or re.search(r'-(\d+)px', name)
    crop = int(m.group(1)) if m else 224
    if cfg_kind(rel) == 'image':
        return None, crop, None, None
    m = re.search(r'test (\d+)x(\d+)x(\d+)', header(rel), re.I)
    assert m, f'{rel}: no "test FxCxV" (frames x crops x clips) in the header'
    frames, crops, clips = map(int, m.groups())
    return frames, crop, clips, crops


def cfg_kind(rel):
    return 'image' if load(rel).get('default_scope') == 'mmpretrain' \
        else 'video'


def leaf_datasets(ds):
    if ds.get('type') == 'ConcatDataset':
        return list(ds['datasets'])
    if 'dataset' in ds and isinstance(ds['dataset'], dict):
        return leaf_datasets(ds['dataset'])
    return [ds]


def pipeline_cases():
    """Unique (data set type, pipeline, split, expectation) -> configs."""
    cases = {}
    for rel in ZOO:
        cfg = load(rel)
        exp = expected_views(rel)
        for split in ('train', 'val', 'test'):
            loader = cfg[f'{split}_dataloader'].to_dict()
            ds = leaf_datasets(loader['dataset'])[0]
            key = json.dumps(
                [ds['type'], ds.get('filename_tmpl'), ds['pipeline'], split,
                 exp], sort_keys=True, default=str)
            cases.setdefault(key, []).append(rel)
    return cases


CASES = pipeline_cases()


@pytest.fixture(scope='module')
def frame_dir(tmp_path_factory):
    """A Something-Something V1 frame folder (00001.jpg ...) of 30 frames:
    links to the JPEG frames of tests/data."""
    root = tmp_path_factory.mktemp('rawframes')
    folder = root / '1'
    folder.mkdir()
    frames = sorted(FRAMES.glob('img_*.jpg'))
    for i in range(30):
        os.symlink(frames[i % len(frames)], folder / f'{i + 1:05}.jpg')
        # Something-Something V2 frames at 30 fps: img_00001.jpg, ...
        os.symlink(frames[i % len(frames)], folder / f'img_{i + 1:05}.jpg')
    return root


@pytest.fixture(scope='module')
def imagenet_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp('imagenet')
    for split in ('train', 'val'):
        (root / split / 'n01440764').mkdir(parents=True)
        os.symlink(TEST_JPG, root / split / 'n01440764' / 'a.jpg')
        (root / 'meta').mkdir(exist_ok=True)
        (root / 'meta' / f'{split}.txt').write_text('n01440764/a.jpg 7\n')
    return root


def real_dataset(ds, tmp_path, frame_dir, imagenet_dir):
    ds = dict(ds)
    if ds['type'] == 'ImageNet':
        ds['data_root'] = str(imagenet_dir)
        return ds
    ann = tmp_path / 'ann.txt'
    if ds['type'] == 'RawframeDataset':
        ann.write_text('1 30 5\n')
        ds['data_prefix'] = dict(img=str(frame_dir))
    else:
        ann.write_text('kinetics_arm_wrestling.mp4 5\n')
        ds['data_prefix'] = dict(video=str(VIDEOS))
    ds['ann_file'] = str(ann)
    if ds['type'] == 'LabelMapVideoDataset':  # the config's channel map
        ds['exclude_lists'] = []
    return ds


@pytest.mark.parametrize('key', sorted(CASES), ids=lambda k: '{}-{}'.format(
    Path(CASES[k][0]).stem, json.loads(k)[3]))
def test_pipeline(key, tmp_path, frame_dir, imagenet_dir):
    rels = CASES[key]
    dtype, _, _, split, (frames, crop, clips, crops) = json.loads(key)
    cfg = load(rels[0])
    scope = cfg.get('default_scope', 'mmaction')
    init_default_scope(scope)
    if scope == 'mmpretrain':
        from mmpretrain.registry import DATASETS
    else:
        from mmaction.registry import DATASETS
    ds = leaf_datasets(cfg[f'{split}_dataloader'].to_dict()['dataset'])[0]
    random.seed(0)
    np.random.seed(0)
    dataset = DATASETS.build(
        real_dataset(ds, tmp_path, frame_dir, imagenet_dir))
    assert len(dataset) == 1
    out = dataset[0]
    if dtype == 'ImageNet':
        assert tuple(out['inputs'].shape) == (3, crop, crop), rels
        assert out['data_samples'].gt_label.item() == 7
        return
    if split == 'train':
        repeats = [t for t in ds['pipeline'] if t['type'] == 'RepeatClips']
        n = repeats[0]['num_repeats'] if repeats else 1
        outs = out if isinstance(out, list) else [out]
        assert len(outs) == n, rels
        shapes = {tuple(o['inputs'].shape) for o in outs}
        assert shapes == {(1, 3, frames, crop, crop)}, (rels, shapes)
        out = outs[0]
    else:
        views = 1 if split == 'val' else clips * crops
        assert tuple(out['inputs'].shape) == (views, 3, frames, crop,
                                              crop), rels
    label = out['data_samples'].gt_label.item()
    if dtype == 'LabelMapVideoDataset':  # K400 class 5 in K710 labels
        assert label == read_channel_map(ds['channel_map'])[5]
    else:
        assert label == 5


# --------------------------------------------------------------- no data
# one config per data set family: its docs page, the path it reports
FAMILIES = {
    'kinetics': ('configs/uniformerv2_k400.py', 'kinetics.md',
                 'data/kinetics400'),
    'kinetics710': ('configs/uniformerv2/uniformerv2-base-p16-res224_clip_'
                    'u8_kinetics710-rgb.py', 'kinetics.md',
                    'data/kinetics400'),
    'sthv1': ('configs/uniformer/uniformer-small_k400-pre_u16_sthv1-rgb.py',
              'sthv1.md', 'data/sthv1'),
    'sthv2': ('configs/uniformerv2_sthv2.py', 'sthv2.md', 'data/sthv2'),
    'mit': ('configs/uniformerv2/uniformerv2-base-p16-res224_clip-k710-'
            'k400-pre_u8_mit-rgb.py', 'mit.md', 'data/mit'),
    'activitynet': ('configs/uniformerv2/uniformerv2-large-p14-res224_clip-'
                    'k710-k400-pre_u16_activitynet-rgb.py',
                    'activitynet.md', 'data/activitynet'),
    'hacs': ('configs/uniformerv2/uniformerv2-large-p14-res224_clip-k710-'
             'k400-pre_u16_hacs-rgb.py', 'hacs.md', 'data/hacs'),
    'ucf101': ('configs/uniformer/uniformer-small_k400-pre_16x4x5_ucf101-'
               'split1-rgb.py', 'ucf101.md', 'data/ucf101'),
    'hmdb51': ('configs/uniformer/uniformer-small_k400-pre_16x4x5_hmdb51-'
               'split1-rgb.py', 'hmdb51.md', 'data/hmdb51'),
    'imagenet': ('configs/uniformer_imagenet.py', 'imagenet.md',
                 'data/imagenet'),
}


def _dataset_family(rel):
    name = Path(rel).stem
    for fam in sorted(FAMILIES, key=len, reverse=True):
        if fam in name or (fam == 'imagenet' and 'in1k' in name
                           and 'pre_' not in name):
            return fam
    return {'uniformer_k400': 'kinetics',
            'uniformerv2_k400': 'kinetics'}.get(name)


@pytest.mark.parametrize('rel', ZOO)
def test_missing_data_is_one_line(rel):
    """config_checks (run by tools/train.py and tools/test.py) reports the
    missing data set of every zoo config in one line with its docs page."""
    from uniformer_mm.engine.config_checks import (ConfigCheckError,
                                                   check_config)
    fam = _dataset_family(rel)
    assert fam, rel
    page = FAMILIES[fam][1]
    cfg = load(rel)
    ds = leaf_datasets(cfg.train_dataloader.dataset.to_dict())[0]
    first = ds.get('data_root') or ds['ann_file']
    path = '/'.join(first.split('/')[:2])  # e.g. data/kinetics600
    if (REPO / path).exists():
        pytest.skip(f'{path} exists here')
    with pytest.raises(ConfigCheckError) as e:
        check_config(cfg, mode='train')
    msg, *others = str(e.value).splitlines()
    assert f'docs/datasets/{page}' in msg and path in msg, msg
    assert (REPO / 'docs' / 'datasets' / page).is_file()
    # the other lines: the initialisation checkpoints (not shipped)
    for line in others:
        assert line.startswith(_CHECKPOINT_KEYS) and \
            'docs/checkpoints.md' in line, line


#: the config keys of missing-checkpoint lines of config_checks
_CHECKPOINT_KEYS = ('load_from', 'model.backbone.init_cfg',
                    'model.backbone.clip_pretrained')


DRIVER = """
import contextlib, io, json, runpy, sys, traceback
results = {}
for fam, rel, work in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    sys.argv = ['tools/train.py', rel, '--work-dir', work]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path('tools/train.py', run_name='__main__')
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
    results[fam] = (code, out.getvalue(), err.getvalue())
print('@@RESULTS@@' + json.dumps(results))
"""


@pytest.fixture(scope='module')
def train_runs(tmp_path_factory):
    """``python tools/train.py CONFIG --work-dir DIR``: for
    configs/uniformerv2_k400.py as its own process, for one config per family
    through ``runpy`` in one more process (one import of torch / mmaction2 /
    mmpretrain instead of ten); both run at the same time."""
    work = tmp_path_factory.mktemp('work')
    alone = subprocess.Popen(
        [sys.executable, 'tools/train.py', 'configs/uniformerv2_k400.py',
         '--work-dir', str(work / 'alone')],
        cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    runs = [(fam, rel, str(work / fam))
            for fam, (rel, _, _) in sorted(FAMILIES.items())]
    driver = subprocess.Popen(
        [sys.executable, '-c', DRIVER, json.dumps(runs)], cwd=str(REPO),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = driver.communicate(timeout=600)
    assert driver.returncode == 0 and '@@RESULTS@@' in stdout, stderr
    results = json.loads(stdout.split('@@RESULTS@@')[-1])
    stdout, stderr = alone.communicate(timeout=600)
    results['alone'] = (alone.returncode, stdout, stderr)
    return results


def _check_one_line(code, stdout, stderr, page, path):
    assert code not in (0, None)
    assert 'Traceback' not in stdout + stderr, stderr
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith('train.py: error:')]
    assert len(errors) == 1, stderr
    # the data set line, then one line per missing initialisation checkpoint
    rest = lines[lines.index(errors[0]) + 1:]
    assert all(line.startswith(tuple('  ' + k for k in _CHECKPOINT_KEYS))
               for line in rest), stderr
    assert f'docs/datasets/{page}' in errors[0], errors[0]
    assert f"'{path}" in errors[0], errors[0]


def test_train_py_without_kinetics(train_runs):
    """The command of the README, on a machine without Kinetics."""
    if (REPO / 'data' / 'kinetics400').exists():
        pytest.skip('data/kinetics400 exists here')
    code, stdout, stderr = train_runs['alone']
    assert code == 2
    _check_one_line(code, stdout, stderr, 'kinetics.md', 'data/kinetics400')
    lines = stderr.strip().splitlines()
    assert lines[-1] == (
        '  model.backbone.clip_pretrained: checkpoints/clip/vit_b16.pth does '
        'not exist; give the checkpoint file (official and converted '
        'checkpoints: docs/checkpoints.md)')
    assert lines[-2] == (
        "train.py: error: train_dataloader.dataset.ann_file: annotation file "
        "'data/kinetics400/kinetics400_train_list_videos.txt' does not exist "
        "(missing directory 'data/kinetics400'; 3 more missing paths of "
        "train_dataloader, val_dataloader). See docs/datasets/kinetics.md for "
        "how to download and prepare the data")


@pytest.mark.parametrize('fam', sorted(FAMILIES))
def test_train_without_data(fam, train_runs):
    rel, page, path = FAMILIES[fam]
    if (REPO / path).exists():
        pytest.skip(f'{path} exists here')
    _check_one_line(*train_runs[fam], page, path)
