"""model-index.yml and the metafiles (docs/model_index.md): every config is
listed once under its file name, with our parameter count (a meta-device
build), the paper's result of its header (top-1; box / mask AP, mIoU, pose
AP for the dense-prediction configs), our FLOPs (spot-checked by direct
counts; every dense segmentation / pose row counted) and well-formed weight
facts."""
import re
from pathlib import Path

import pytest
import torch
import yaml
from mmengine.config import Config

import uniformer_mm  # noqa: F401  (registers the models)
from uniformer_mm.analysis.flops import (count_dense_flops, count_flops,
                                         dense_flops_input)
from uniformer_mm.analysis.input_shape import infer_view_spec
from uniformer_mm.apis import build_model, get_task
from uniformer_mm.apis.export import ScoreModel
from uniformer_mm.apis.inference import DENSE_TASKS

from _paths import REPO
from uniformer_mm.engine.config_knobs import load_config as knob_config  # noqa: E501

CONFIGS = sorted(p.relative_to(REPO).as_posix()
                 for p in (REPO / 'configs').rglob('*.py')
                 if '_base_' not in p.relative_to(REPO).parts)

#: Dense-prediction config folders and their framework (config scope).
DENSE = {'configs/uniformer_det/': 'mmdet', 'configs/uniformer_seg/': 'mmseg',
         'configs/uniformer_pose/': 'mmpose'}
DENSE_CONFIGS = [c for c in CONFIGS if c.startswith(tuple(DENSE))]


def _models():
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    models = []
    for rel in index['Import']:
        meta = yaml.safe_load((REPO / rel).read_text())
        names = {c['Name'] for c in meta['Collections']}
        for m in meta['Models']:
            assert m['In Collection'] in names, (rel, m['Name'])
            models.append(m)
    return models


MODELS = {m['Name']: m for m in _models()}


def _header(rel):
    lines = []
    for line in (REPO / rel).read_text().splitlines():
        if not line.startswith('#'):
            break
        lines.append(line.lstrip('#').strip())
    return ' '.join(lines)


def test_every_config_once_under_its_name():
    models = _models()
    names = [m['Name'] for m in models]
    assert len(names) == len(set(names))
    assert sorted(m['Config'] for m in models) == CONFIGS
    for m in models:
        assert m['Name'] == Path(m['Config']).stem
        if 'Alias Of' in m:
            target = MODELS[m['Alias Of']]
            assert f"./{Path(target['Config']).relative_to('configs')}" in \
                (REPO / m['Config']).read_text()
            assert m['Metadata'] == target['Metadata']


def metafile_params(rel):
    """The metafile's parameter count of a config (tests/test_configs.py
    compares it with the model it builds)."""
    return MODELS[Path(rel).stem]['Metadata']['Parameters']


def _load(rel):
    """The config; a dense one is skipped (with the reason) when its
    framework is not installed."""
    for folder, scope in DENSE.items():
        if rel.startswith(folder):
            pytest.importorskip(scope, reason=f'{rel} needs {scope}')
    return knob_config(str(REPO / rel))


def _dense_results(rel, task):
    """The ``Results`` the paper line of a dense config's header gives, in
    OpenMMLab's tasks and metric names."""
    header = _header(rel)
    if task == 'detection':
        box, mask = re.search(r'paper: box AP ([0-9.]+), mask AP ([0-9.]+)',
                              header).groups()
        return [dict(Task='Object Detection', Dataset='COCO',
                     Metrics={'box AP': float(box)}),
                dict(Task='Instance Segmentation', Dataset='COCO',
                     Metrics={'mask AP': float(mask)})]
    if task == 'segmentation':
        ss, ms = re.search(r'paper: mIoU ([0-9.]+)(?: \(MS ([0-9.]+)\))?',
                           header).groups()
        metrics = {'mIoU': float(ss)}
        if ms:  # UperNet: single- and multi-scale
            metrics['mIoU(ms)'] = float(ms)
        return [dict(Task='Semantic Segmentation', Dataset='ADE20K',
                     Metrics=metrics)]
    values = re.search(r'paper: AP ([0-9.]+) \(AP50 ([0-9.]+), AP75 '
                       r'([0-9.]+), AR ([0-9.]+)\)', header).groups()
    # mmpose writes fractions (74.0 -> 0.74)
    return [dict(Task='Body 2D Keypoint', Dataset='COCO', Metrics=dict(zip(
        ('AP', 'AP@0.5', 'AP@0.75', 'AR'),
        (round(float(v) / 100, 3) for v in values))))]


def _check_dense_entry(rel, m, cfg, task):
    meta = m['Metadata']
    assert 'Test Views' not in meta  # one forward per image
    shape = dense_flops_input(cfg)
    if task == 'detection':  # FLOPs not counted: none listed, no input
        assert shape is None and 'FLOPs' not in meta and 'Input' not in meta
    else:  # the view the FLOPs are counted on (H x W)
        assert meta['Input'] == f'{shape[0]}x{shape[1]}'
        assert meta['FLOPs'] > 0
    assert m['Results'] == _dense_results(rel, task)
    # a test-time setting (w32 / h32) of a trained row: its config derives
    # from that row's, and it lists the weights that row's test loads
    base = re.search(r"_base_ = \['\./([^']+)'\]", (REPO / rel).read_text())
    rows_config = base and (Path(rel).parent / base.group(1)).as_posix()
    if 'Test Setting Of' in m:
        target = MODELS[m['Test Setting Of']]
        assert rows_config == target['Config']
        assert 'Test-time setting' in _header(rel)
        def released(row):
            return [(w['Source'], w['URL'], w['File'], w['Hash'])
                    for w in row.get('Weight Files', [])]
        assert released(m) == released(target) != []
        assert meta['Parameters'] == target['Metadata']['Parameters']
    else:
        assert rows_config is None or '_base_/' in rows_config, rel
        assert not re.search(r'-[wh]32_', rel)
    for w in m.get('Weight Files', []):
        # mmdet / mmseg / mmpose host no UniFormer weights
        assert w['Source'] == 'official'


@pytest.mark.parametrize('rel', CONFIGS)
def test_entry_matches_config(rel):
    m = MODELS[Path(rel).stem]
    cfg = _load(rel)
    task = get_task(cfg, dense=True)
    if task in DENSE_TASKS:
        assert rel.startswith(tuple(DENSE))
        _check_dense_entry(rel, m, cfg, task)
    else:
        assert 'Test Setting Of' not in m
        spec = infer_view_spec(cfg, task)
        assert m['Metadata']['Input'] == 'x'.join(map(str, spec.shape[1:]))
        assert m['Metadata']['FLOPs'] > 0
        row = MODELS[m['Alias Of']]['Config'] if 'Alias Of' in m else rel
        top1 = re.search(r'paper: top-1 ([0-9.]+)', _header(row))
        if top1 is None:  # K710 post-pretraining, demos
            assert 'Results' not in m
        else:
            (result, ) = m['Results']
            assert result['Metrics']['Top 1 Accuracy'] == float(
                top1.group(1))
    for w in m.get('Weight Files', []):
        assert w['Source'] in ('official', 'mmaction2')
        assert w['URL'].startswith('https://')
        name = w['URL'].rsplit('/', 1)[1]
        if 'drive.google.com' in w['URL']:
            assert w['File'].startswith('unknown') and w['Hash'] == 'unknown'
            continue
        assert w['File'] == name
        h = re.search(r'-([0-9a-f]{8})\.pth$', name)
        assert w['Hash'] == (f'sha256:{h.group(1)}... (prefix in the file '
                             'name)' if h else 'unknown')
    if m.get('Weight Files'):
        assert m['Weights'] == m['Weight Files'][0]['URL']


@pytest.mark.parametrize('rel', DENSE_CONFIGS)
def test_dense_params_and_flops(rel):
    """Parameters of every dense config (a meta-device build; the other
    configs' are checked in tests/test_configs.py) and the FLOPs of every
    segmentation and pose config: direct counts."""
    cfg = _load(rel)
    with torch.device('meta'):
        model = build_model(cfg)
    meta = MODELS[Path(rel).stem]['Metadata']
    assert meta['Parameters'] == sum(p.numel() for p in model.parameters())
    shape = dense_flops_input(cfg)
    if shape is not None:
        assert meta['FLOPs'] == count_dense_flops(model, shape)


@pytest.mark.slow
@pytest.mark.parametrize('rel', [
    # UniFormer, 8 frames: quadratic extension from 2, 4, 6 frames
    'configs/uniformer/uniformer-xxs-res128_in1k-pre_u8_kinetics400-rgb.py',
    'configs/uniformer/uniformer-small_in1k-pre_8x8x1_kinetics400-rgb.py',
    # UniFormerV2, 8 frames: affine extension from 2, 4 frames
    'configs/uniformerv2/uniformerv2-base-p16-res224_clip_u8_kinetics400-'
    'rgb.py',
])
def test_flops_direct_count(rel):
    """The metafile's FLOPs equal a direct count with the project's
    counter (the extension in the number of frames is exact)."""
    cfg = knob_config(str(REPO / rel))
    task = get_task(cfg)
    spec = infer_view_spec(cfg, task)
    model = build_model(cfg, task).eval()
    flops, params = count_flops(ScoreModel(model, task),
                                torch.zeros((1, ) + tuple(spec.shape)))
    m = MODELS[Path(rel).stem]['Metadata']
    assert (m['FLOPs'], m['Parameters']) == (flops, params)


@pytest.mark.parametrize('rel,shape,views', [
    # derived configs update their loaders; the inherited top-level
    # test_pipeline still describes the base (16 frames, 224 px)
    ('configs/uniformer/uniformer-small_in1k-pre_8x8x1_kinetics400-rgb.py',
     (3, 8, 224, 224), (4, 1)),
    ('configs/uniformer/uniformer-xxs_8xb512_in1k-128px.py', (3, 128, 128),
     (1, 1)),
    ('configs/uniformerv2/uniformerv2-large-p14-res336_clip-k710-pre_u64_'
     'kinetics400-rgb.py', (3, 64, 336, 336), (2, 3)),
])
def test_view_spec_is_the_test_loaders(rel, shape, views):
    """FLOPs, tools/infer.py and get_flops.py use the pipeline that
    tools/test.py runs (the test data loader's)."""
    cfg = knob_config(str(REPO / rel))
    spec = infer_view_spec(cfg, get_task(cfg))
    assert spec.shape == shape and (spec.clips, spec.crops) == views
