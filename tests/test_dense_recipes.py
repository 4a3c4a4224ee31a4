"""Every dense-prediction row follows its official ``exp`` config.

The official values are restated here from Sense-X/UniFormer
``object_detection/exp/*``, ``semantic_segmentation/exp/*``,
``semantic_segmentation/fpn_seg/exp/*`` and ``pose_estimation/exp/*``
(``config.py``, and ``run.sh``: 8 GPUs each): the batch per GPU (and the
8-GPU total, which is ``auto_scale_lr``'s base, the ``8xbN`` of the file
name and the ``batch T (N x 8 GPUs)`` of the header), learning rate,
weight decay, drop path, schedule, stage-3 attention, input / crop sizes
and test settings. The configs are read with mmengine (no model is
built); the schedules are stepped with mmengine's schedulers and compared
with mmcv 1's (warm-up factor x schedule), and the Semantic FPN test
pipeline is run on an image and compared with the official AlignResize.
"""
import math
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

import uniformer_mm  # noqa: F401  (registers our modules)

from _paths import REPO, TEST_JPG
from test_model_index import _header
from uniformer_mm.engine.config_knobs import load_config as knob_config  # noqa: E501

GPUS = 8

# ------------------------------------------------------------- detection
#: name -> (arch, drop path); official exp/{mask_rcnn_1x,mask_rcnn_3x_ms,
#: cascade_mask_rcnn_3x_ms}_hybrid_{small,base}: hybrid stage 3, window 14
DET = {
    'mask-rcnn_uniformer-small-h14_in1k-pre_fpn_1x_coco': ('small', 0.2),
    'mask-rcnn_uniformer-base-h14_in1k-pre_fpn_1x_coco': ('base', 0.3),
    'mask-rcnn_uniformer-small-h14_in1k-pre_fpn_ms-crop-3x_coco':
    ('small', 0.1),
    'mask-rcnn_uniformer-base-h14_in1k-pre_fpn_ms-crop-3x_coco':
    ('base', 0.3),
    'cascade-mask-rcnn_uniformer-small-h14_in1k-pre_fpn_ms-crop-3x_coco':
    ('small', 0.2),
    'cascade-mask-rcnn_uniformer-base-h14_in1k-pre_fpn_ms-crop-3x_coco':
    ('base', 0.4),
}

# ---------------------------------------------------------- segmentation
#: (stage-3 attention, window) of the trained rows (official hybrid=True:
#: h14) and the test settings (official test_config_{w32,h32,g}.py)
ATTN = {'h14': ('hybrid', 14), 'w32': ('window', 32), 'h32': ('hybrid', 32),
        '': ('global', 14)}
#: UperNet: official exp/upernet_{global,hybrid}_{small,base}
UPER_DROP = {'small': 0.25, 'base': 0.4}
#: Semantic FPN: official fpn_seg/exp/fpn_{global,hybrid}_{small,base}
FPN_DROP = {'small': 0.1, 'base': 0.2}


def seg_rows():
    rows = {}
    for arch in ('small', 'base'):
        for tag in ATTN:
            suffix = f'-{tag}' if tag else ''
            rows[f'upernet_uniformer-{arch}{suffix}_in1k-pre_8xb2-160k_'
                 'ade20k-512x512'] = ('upernet', arch, tag)
            rows[f'fpn_uniformer-{arch}{suffix}_in1k-pre_8xb4-80k_'
                 'ade20k-512x512'] = ('fpn', arch, tag)
    return rows


SEG = seg_rows()

# ------------------------------------------------------------------ pose
#: name -> (arch, drop path, lr, batch per GPU, input (w, h), heatmap (w, h),
#: sigma); official exp/top_down_{256x192,384x288,448x320}_global_*
POSE = {
    'td-hm_uniformer-small_8xb128-210e_coco-256x192':
    ('small', 0.2, 2e-3, 128, (192, 256), (48, 64), 2),
    'td-hm_uniformer-base_8xb128-210e_coco-256x192':
    ('base', 0.4, 2e-3, 128, (192, 256), (48, 64), 2),
    'td-hm_uniformer-small_8xb128-210e_coco-384x288':
    ('small', 0.2, 2e-3, 128, (288, 384), (72, 96), 3),
    'td-hm_uniformer-base_8xb32-210e_coco-384x288':
    ('base', 0.5, 5e-4, 32, (288, 384), (72, 96), 3),
    'td-hm_uniformer-small_8xb64-210e_coco-448x320':
    ('small', 0.2, 1e-3, 64, (320, 448), (80, 112), 3),
    'td-hm_uniformer-base_8xb32-210e_coco-448x320':
    ('base', 0.55, 5e-4, 32, (320, 448), (80, 112), 3),
}

FOLDERS = {'configs/uniformer_det': ('mmdet', DET),
           'configs/uniformer_seg': ('mmseg', SEG),
           'configs/uniformer_pose': ('mmpose', POSE)}


def test_every_dense_row_is_listed():
    """The tables above cover every dense row config and nothing else."""
    for folder, (_, table) in FOLDERS.items():
        names = sorted(p.stem for p in (REPO / folder).glob('*.py'))
        assert names == sorted(table), folder


def load(folder, name):
    scope = FOLDERS[folder][0]
    pytest.importorskip(scope, reason=f'{folder} needs {scope}')
    rel = f'{folder}/{name}.py'
    return rel, knob_config(str(REPO / rel))


def check_batch(rel, cfg, per_gpu, in_name=True):
    """Per-GPU batch, the 8-GPU total as auto_scale_lr's base, the file
    name's ``8xbN`` and the header's ``batch T (N x 8 GPUs)``."""
    assert cfg.train_dataloader.batch_size == per_gpu
    assert cfg.auto_scale_lr.base_batch_size == per_gpu * GPUS
    if in_name:
        assert re.findall(r'_(\d+)xb(\d+)-', Path(rel).stem) == [
            (str(GPUS), str(per_gpu))]
    header = _header(rel)
    if 'Test-time setting' not in header:  # trained rows state the batch
        assert f'batch {per_gpu * GPUS} ({per_gpu} x {GPUS} GPUs)' in header


def check_optimizer(cfg, lr, weight_decay, norm_decay):
    opt = cfg.optim_wrapper.optimizer
    assert opt.type == 'AdamW' and opt.lr == lr
    assert opt.weight_decay == weight_decay
    assert tuple(opt.get('betas', (0.9, 0.999))) == (0.9, 0.999)
    keys = cfg.optim_wrapper.get('paramwise_cfg', {}).get('custom_keys', {})
    assert (keys.get('norm') == dict(decay_mult=0.)) == norm_decay
    assert cfg.optim_wrapper.get('type', 'OptimWrapper') == 'OptimWrapper'


def check_backbone(cfg, arch, drop_path, attn, window):
    bb = cfg.model.backbone
    assert bb.type == 'UniFormerDense'
    assert (bb.arch, bb.drop_path_rate) == (arch, drop_path)
    assert bb.stage3_attn == attn
    if attn != 'global':
        assert bb.window_size == window


def stepped_lrs(cfg, scope, iters, lr):
    """The learning rate of each of the first ``iters`` iterations under the
    config's (iteration-based) schedulers."""
    from mmengine.registry import PARAM_SCHEDULERS, DefaultScope
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=lr)
    with DefaultScope.overwrite_default_scope(scope):
        schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=optimizer))
                      for s in cfg.param_scheduler]
    lrs = []
    for _ in range(iters):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for s in schedulers:
            s.step()
    return np.array(lrs)


def mmcv_warmup(it, warmup_iters, ratio):
    """mmcv 1's linear warm-up factor (it multiplies the regular lr)."""
    if it >= warmup_iters:
        return 1.0
    return 1 - (1 - it / warmup_iters) * (1 - ratio)


# ------------------------------------------------------------------ tests
@pytest.mark.parametrize('name', sorted(DET))
def test_detection_rows(name):
    rel, cfg = load('configs/uniformer_det', name)
    arch, drop_path = DET[name]
    check_backbone(cfg, arch, drop_path, 'hybrid', 14)
    check_batch(rel, cfg, 2, in_name=False)
    check_optimizer(cfg, 1e-4, 0.05, norm_decay=True)
    epochs, milestones = ((36, [27, 33]) if '3x' in name else (12, [8, 11]))
    assert cfg.train_cfg.max_epochs == epochs
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.begin, warmup.end,
            warmup.by_epoch) == ('LinearLR', 0.001, 0, 500, False)
    assert (steps.type, steps.milestones, steps.by_epoch, steps.end) == (
        'MultiStepLR', milestones, True, epochs)
    # training: (1333, 800) resize, or the DETR multi-scale + crop policy
    train = cfg.train_dataloader.dataset.pipeline
    types = [t.type for t in train]
    if '3x' in name:
        (choice, ) = [t for t in train if t.type == 'RandomChoice']
        short, crop_branch = choice.transforms
        assert [min(s) for s in short[0].scales] == list(range(480, 801, 32))
        assert [min(s) for s in crop_branch[0].scales] == [400, 500, 600]
        assert (crop_branch[1].crop_type, tuple(crop_branch[1].crop_size)) \
            == ('absolute_range', (384, 600))
    else:
        (resize, ) = [t for t in train if t.type == 'Resize']
        assert tuple(resize.scale) == (1333, 800) and resize.keep_ratio
    assert 'RandomFlip' in types
    # test: (1333, 800), one scale, no flip
    test = cfg.test_dataloader.dataset.pipeline
    (resize, ) = [t for t in test if t.type == 'Resize']
    assert tuple(resize.scale) == (1333, 800) and resize.keep_ratio
    assert 'RandomFlip' not in [t.type for t in test]
    assert cfg.model.get('test_cfg').rcnn.max_per_img == 100


@pytest.mark.parametrize('name', sorted(SEG))
def test_segmentation_rows(name):
    rel, cfg = load('configs/uniformer_seg', name)
    head, arch, tag = SEG[name]
    attn, window = ATTN[tag]
    upernet = head == 'upernet'
    check_backbone(cfg, arch, (UPER_DROP if upernet else FPN_DROP)[arch],
                   attn, window)
    check_batch(rel, cfg, 2 if upernet else 4)
    if upernet:
        check_optimizer(cfg, 6e-5, 0.01, norm_decay=True)
        assert cfg.train_cfg.max_iters == 160000
    else:
        check_optimizer(cfg, 2e-4, 1e-4, norm_decay=False)
        # 160k iterations on 4 GPUs in mmseg / PVT, halved on 8 GPUs
        assert cfg.train_cfg.max_iters == 80000
    # 512x512 crops of images resized to (2048, 512) x 0.5-2.0
    train = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    assert tuple(train['RandomResize'].scale) == (2048, 512)
    assert tuple(train['RandomResize'].ratio_range) == (0.5, 2.0)
    assert tuple(train['RandomCrop'].crop_size) == (512, 512)
    assert train['RandomCrop'].cat_max_ratio == 0.75
    assert tuple(cfg.model.data_preprocessor.size) == (512, 512)
    # whole-image test at (2048, 512); Semantic FPN then aligns to 32
    assert cfg.model.test_cfg.mode == 'whole'
    for loader in ('val_dataloader', 'test_dataloader'):
        types = [(t.type, t.get('scale'), t.get('size_divisor'))
                 for t in cfg[loader].dataset.pipeline]
        resizes = [t for t in types if 'Resize' in t[0]]
        assert resizes == [('Resize', (2048, 512), None)] + (
            [] if upernet else [('ResizeToMultiple', None, 32)]), loader


@pytest.mark.parametrize('name', sorted(POSE))
def test_pose_rows(name):
    rel, cfg = load('configs/uniformer_pose', name)
    arch, drop_path, lr, batch, size, heatmap, sigma = POSE[name]
    check_backbone(cfg, arch, drop_path, 'global', None)
    assert cfg.model.backbone.out_indices == (3, )
    check_batch(rel, cfg, batch)
    check_optimizer(cfg, lr, 0.01, norm_decay=False)
    assert cfg.train_cfg.max_epochs == 210
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end) == ('LinearLR',
                                                              0.001, 500)
    assert (steps.milestones, steps.by_epoch) == ([170, 200], True)
    # the file name's input size, the codec, and everything that uses it
    h, w = map(int, re.search(r'coco-(\d+)x(\d+)$', name).groups())
    assert (w, h) == size
    codec = dict(type='MSRAHeatmap', input_size=size, heatmap_size=heatmap,
                 sigma=sigma)

    def same(c):
        return {k: (tuple(v) if isinstance(v, (list, tuple)) else v)
                for k, v in c.items() if k != '_scope_'} == codec

    assert same(cfg.codec) and same(cfg.model.head.decoder)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        pipeline = cfg[loader].dataset.pipeline
        affine = [t for t in pipeline if t.type == 'TopdownAffine']
        assert [tuple(t.input_size) for t in affine] == [size], loader
        targets = [t for t in pipeline if t.type == 'GenerateTarget']
        assert [same(t.encoder) for t in targets] == (
            [True] if loader == 'train_dataloader' else []), loader
    # the official augmentation: flip, half body, scale and rotation, no
    # random shift of the box
    from mmengine.registry import DefaultScope
    from mmpose.registry import TRANSFORMS
    train = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    # under mmpose's scope whatever scope an earlier test left current
    with DefaultScope.overwrite_default_scope('mmpose'):
        bbox = TRANSFORMS.build(train['RandomBBoxTransform'])
        half = TRANSFORMS.build(train['RandomHalfBody'])
    assert bbox.shift_prob == 0
    assert tuple(bbox.scale_factor) == (0.5, 1.5)  # official 0.5
    assert (bbox.rotate_factor, bbox.rotate_prob) == (80, 0.6)  # 40 x 2
    assert (half.prob, half.min_total_keypoints) == (0.3, 9)  # > 8
    # flip test with shifted heatmaps, on the AP_H 56 person detections
    test_cfg = cfg.model.test_cfg
    assert test_cfg.flip_test and test_cfg.shift_heatmap
    assert cfg.test_dataloader.dataset.bbox_file.endswith(
        'COCO_val2017_detections_AP_H_56_person.json')


@pytest.mark.parametrize('name,kind', [
    ('upernet_uniformer-small_in1k-pre_8xb2-160k_ade20k-512x512', 'poly'),
    ('fpn_uniformer-small_in1k-pre_8xb4-80k_ade20k-512x512', 'cosine'),
])
def test_segmentation_schedule_equals_mmcv(name, kind):
    """mmcv 1's schedules multiply the warm-up factor into the schedule's
    own rate from iteration 0 (UperNet: poly over all 160k iterations;
    Semantic FPN: cosine over all 80k); the mmengine schedulers give the
    same rates (the first 3000 iterations: warm-up and beyond)."""
    _, cfg = load('configs/uniformer_seg', name)
    lr = cfg.optim_wrapper.optimizer.lr
    iters = 3000
    got = stepped_lrs(cfg, 'mmseg', iters, lr)
    total = cfg.train_cfg.max_iters
    if kind == 'poly':  # warm-up 1500 from 1e-6, power 1, min 0
        want = [lr * (1 - it / total) * mmcv_warmup(it, 1500, 1e-6)
                for it in range(iters)]
    else:  # warm-up 1000 from 0.1, cosine to lr x 1e-8
        low = lr * 1e-8
        want = [(low + 0.5 * (lr - low) * (1 + math.cos(math.pi * it / total)))
                * mmcv_warmup(it, 1000, 0.1) for it in range(iters)]
    # mmcv steps its rate one iteration later than mmengine within warm-up
    assert np.abs(got - np.array(want)).max() < 2e-3 * lr


def test_fpn_test_resize_is_the_official_align_resize():
    """The Semantic FPN test pipeline resizes as the official AlignResize
    (fpn_seg/align_resize.py): rescale into (2048, 512) keeping the ratio,
    then stretch each side up to a multiple of 32."""
    pytest.importorskip('mmseg')
    from mmcv.transforms import Compose
    from mmengine.registry import DefaultScope
    _, cfg = load('configs/uniformer_seg',
                  'fpn_uniformer-small_in1k-pre_8xb4-80k_ade20k-512x512')
    pipeline = [t for t in cfg.test_dataloader.dataset.pipeline
                if t.type not in ('LoadAnnotations', 'PackSegInputs')]
    with DefaultScope.overwrite_default_scope('mmseg'):
        results = Compose(pipeline)(dict(img_path=str(TEST_JPG)))
    h, w = cv2.imread(str(TEST_JPG)).shape[:2]
    scale = min(2048 / max(h, w), 512 / min(h, w))
    rescaled = int(w * scale + 0.5), int(h * scale + 0.5)
    aligned = tuple(math.ceil(s / 32) * 32 for s in rescaled)
    assert rescaled != aligned  # the image tests the alignment
    assert results['img'].shape[:2] == results['img_shape'] == aligned[::-1]
    assert results['ori_shape'] == (h, w)
