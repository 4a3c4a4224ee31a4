"""The config helpers: functions that configs import and call while
mmengine reads them, so that a row states only its own facts and every tool
sees plain values.

* :func:`uniformer_mm.engine.schedules.video_schedule`: a video row (V1
  and V2) states its recipe numbers once (videos per GPU, lr, epochs,
  warmup) and gets the loader batch, the optimizer lr, the warmup + cosine
  scheduler, the loop's epochs and ``auto_scale_lr`` (8 GPUs x the batch);
  the V1 video bases name the checkpoint after the backbone's ``arch``
  (``'${model.backbone.arch}'``): a row that only says ``arch='base'``
  starts from the UniFormer-B weights;
* :func:`uniformer_mm.datasets.config_utils.image_resolution`: an image row
  at another size gets the train crop, the test short side
  ``floor(size / crop_pct)`` and the centre crop from the size alone;
* :func:`uniformer_mm.models.config_utils.uniformerv2_model`: the model
  change a UniFormerV2 row states as its facts (arch, frames,
  initialisation); the rows that use it resolve to the backbone and head
  they state;
* the dense configs' helpers (:func:`~uniformer_mm.models.config_utils.
  dense_backbone`, ``replace_backbone``, ``topdown_heatmap``) return the
  exact dicts the configs stated before; the pose pipelines they build run
  on an image with mmpose's transforms and give the input and heatmap sizes
  of their codec; a config that calls them loads with plain
  ``mmengine.Config.fromfile`` (as mmdet's / mmseg's / mmpose's own
  ``tools/train.py`` load it: no knob resolution) and its ``cfg.dump()``
  loads back to the same dict.
"""
import numpy as np
import pytest
from mmengine.config import Config

import uniformer_mm  # noqa: F401  (registers our modules, stack fixes)
from uniformer_mm.apis import load_config
from uniformer_mm.datasets.config_utils import (image_resolution,
                                                 iter_transforms)
from uniformer_mm.engine.schedules import video_schedule, warmup_cosine
from uniformer_mm.models.config_utils import (dense_backbone,
                                              replace_backbone,
                                              topdown_heatmap,
                                              uniformerv2_model)

from _paths import REPO, TEST_JPG

V1 = REPO / 'configs' / 'uniformer'



# --------------------------------------------------------------------------
# UniFormer (V1): video_schedule, image_resolution
# --------------------------------------------------------------------------
def test_video_schedule_states_each_number_once():
    (loader, optim, scheduler, loop, scale) = video_schedule(
        batch_size=5, lr=1.25e-4, max_epochs=110, warmup_epochs=10)
    assert loader == dict(batch_size=5)
    assert optim == dict(optimizer=dict(lr=1.25e-4))
    assert scheduler == warmup_cosine(
        lr=1.25e-4, max_epochs=110, warmup_epochs=10)
    assert scheduler[0]['start_factor'] == pytest.approx(1e-6 / 1.25e-4)
    assert scheduler[-1]['end'] == 110
    assert loop == dict(max_epochs=110)
    assert scale == dict(base_batch_size=40)
    # the optional settings appear only where given
    (_, optim, _, loop, scale) = video_schedule(
        batch_size=16, lr=4e-4, max_epochs=110, warmup_epochs=10,
        num_gpus=4, weight_decay=0.05, val_interval=1)
    assert optim == dict(optimizer=dict(lr=4e-4, weight_decay=0.05))
    assert loop == dict(max_epochs=110, val_interval=1)
    assert scale == dict(base_batch_size=64)
    with pytest.raises(ValueError, match='batch_size >= 1'):
        video_schedule(batch_size=0, lr=1e-4, max_epochs=10, warmup_epochs=1)


def test_rows_calling_video_schedule_resolve_to_its_numbers():
    """UniFormer-B 8x8 on Kinetics-400 (official exp/uniformer_b8x8_k400:
    8 per GPU x 8 GPUs, lr 2e-4, 100 epochs, 10 warmup) over its schedule
    base (lr 1e-4 for 32 videos, 110 epochs)."""
    cfg = load_config(
        str(V1 / 'uniformer-base_in1k-pre_8x8x1_kinetics400-rgb.py'))
    assert cfg.train_dataloader.batch_size == 8
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=64)
    assert cfg.optim_wrapper.optimizer.lr == 2e-4
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'  # merged, not replaced
    assert cfg.train_cfg.max_epochs == 100
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop'
    assert [s['end'] for s in cfg.param_scheduler] == [10, 100]
    # the data set of the base stays (mmengine merges the loader dict)
    assert cfg.train_dataloader.dataset.type == 'RobustVideoDataset'
    # the Something-Something recipe validates every epoch
    sth = load_config(str(V1 / 'uniformer-base_k400-pre_u16_sthv2-rgb.py'))
    assert sth.train_cfg.val_interval == 1 and sth.train_cfg.max_epochs == 50
    assert sth.auto_scale_lr.base_batch_size == 40


@pytest.mark.parametrize('row, checkpoint', [
    ('uniformer-small_in1k-pre_16x4x1_kinetics400-rgb.py',
     'checkpoints/uniformer_small_in1k.pth'),
    ('uniformer-base_in1k-pre_32x4x1_kinetics400-rgb.py',
     'checkpoints/uniformer_base_in1k.pth'),
    ('uniformer-base_k400-pre_u32_sthv1-rgb.py',
     'checkpoints/uniformer_base_k400_16x4.pth'),
    ('uniformer-small_k400-pre_16x4x5_ucf101-split1-rgb.py',
     'checkpoints/uniformer_small_k400_16x4.pth'),
])
def test_checkpoint_follows_the_backbone_arch(row, checkpoint):
    cfg = load_config(str(V1 / row))
    assert cfg.model.backbone.init_cfg.checkpoint == checkpoint
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'


def _args(loader, kind):
    return [t for t in iter_transforms(loader) if t['type'] == kind]


@pytest.mark.parametrize('row, size, short_side', [
    ('uniformer-xxs_8xb512_in1k-128px.py', 128, 146),
    ('uniformer-xxs_8xb512_in1k-160px.py', 160, 182),
    ('uniformer-xs_8xb512_in1k-192px.py', 192, 219),
    ('uniformer-small-tl_8xb64_in1k-384px.py', 384, 426),  # crop_pct 0.9
])
def test_image_rows_at_their_resolution(row, size, short_side):
    cfg = load_config(str(V1 / row))
    (crop, ) = _args(cfg.train_dataloader, 'RandomResizedCrop')
    assert crop['scale'] == size
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        assert [t['scale'] for t in _args(loader, 'ResizeEdge')] == [
            short_side]
        assert [t['crop_size'] for t in _args(loader, 'CenterCrop')] == [
            size]


def test_image_resolution_changes_only_the_size():
    loader = dict(dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=256, edge='short'),
        dict(type='CenterCrop', crop_size=224),
    ]))
    out = image_resolution(loader, 160)
    assert out['dataset']['pipeline'] == [
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=182, edge='short'),
        dict(type='CenterCrop', crop_size=160),
    ]
    assert loader['dataset']['pipeline'][1]['scale'] == 256  # a copy
    assert _args(image_resolution(loader, 224, crop_pct=0.9),
                 'ResizeEdge')[0]['scale'] == 248
    with pytest.raises(ValueError, match='no RandomResizedCrop'):
        image_resolution(dict(pipeline=[dict(type='Resize')]), 160)
    with pytest.raises(ValueError, match='crop_pct'):
        image_resolution(loader, 160, crop_pct=1.5)



# --------------------------------------------------------------------------
# UniFormerV2: uniformerv2_model
# --------------------------------------------------------------------------
def test_uniformerv2_model_values():
    model = uniformerv2_model(
        'vit-l14-336', t_size=32, with_cp=True,
        checkpoint='k710_uniformerv2_l14_8x336.pyth')
    assert model == dict(
        backbone=dict(
            arch='vit-l14-336', t_size=32, with_cp=True,
            clip_pretrained=None,
            init_cfg=dict(
                type='Pretrained',
                checkpoint='checkpoints/uniformerv2/'
                'k710_uniformerv2_l14_8x336.pyth',
                prefix='backbone.')),
        cls_head=dict(in_channels=1024))
    # the head follows the arch's width; no arch: the base's head stays
    assert uniformerv2_model('vit-b16')['cls_head'] == dict(in_channels=768)
    assert uniformerv2_model(clip='vit_l14.pth') == dict(
        backbone=dict(clip_pretrained='checkpoints/clip/vit_l14.pth'))
    # a path with a folder is kept as it is
    assert uniformerv2_model(checkpoint='work_dirs/x/epoch_5.pth')[
        'backbone']['init_cfg']['checkpoint'] == 'work_dirs/x/epoch_5.pth'


def test_uniformerv2_model_errors():
    with pytest.raises(ValueError, match='not both'):
        uniformerv2_model(clip='vit_b16.pth', checkpoint='k.pyth')
    with pytest.raises(KeyError, match="unknown arch 'vit-h14'"):
        uniformerv2_model('vit-h14')


def test_rows_resolve_to_what_they_state():
    """A 336 px row that inherits the 224 px row of its frames states its
    arch and checkpoint with the helper: the resolved config has the 336 px
    ViT, the 1024-wide head, the checkpoint and no CLIP weights; the K600
    child's classifier reads the same checkpoint (k710_classifier)."""
    rows = REPO / 'configs' / 'uniformerv2'
    cfg = load_config(str(
        rows / 'uniformerv2-large-p14-res336_clip-k710-pre_u32_kinetics600-'
        'rgb.py'))
    bb, head = cfg.model.backbone, cfg.model.cls_head
    assert (bb.arch, bb.t_size, bb.with_cp, bb.checkpoint_num) == (
        'vit-l14-336', 32, True, 24)
    assert bb.clip_pretrained is None
    assert bb.init_cfg.checkpoint == (
        'checkpoints/uniformerv2/k710_uniformerv2_l14_8x336.pyth')
    assert head.in_channels == 1024 and head.num_classes == 600
    assert head.init_cfg.checkpoint == bb.init_cfg.checkpoint
    assert (cfg.crop_size, cfg.clip_len, cfg.num_test_clips) == (336, 32, 2)



# --------------------------------------------------------------------------
# dense configs: dense_backbone, replace_backbone, topdown_heatmap
# --------------------------------------------------------------------------
def test_dense_backbone_is_the_rows_block():
    assert dense_backbone('base', 0.4, stage3_attn='hybrid',
                          with_cp=[0, 0, 2, 0]) == dict(
        arch='base', drop_path_rate=0.4, stage3_attn='hybrid',
        with_cp=[0, 0, 2, 0],
        init_cfg=dict(checkpoint='checkpoints/uniformer_base_in1k.pth'))
    assert dense_backbone('small', 0.2) == dict(
        arch='small', drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/uniformer_small_in1k.pth'))


def test_dense_backbone_refuses_wrong_values():
    with pytest.raises(ValueError, match=r"arch 'xs' has no dense model"):
        dense_backbone('xs', 0.1)
    with pytest.raises(ValueError, match=r"stage3_attn 'windows' is not"):
        dense_backbone('small', 0.1, stage3_attn='windows')


def test_replace_backbone_is_the_bases_block():
    assert replace_backbone('small', 0.1, out_indices=[0, 1, 2, 3],
                            stage3_attn='hybrid', window_size=14,
                            with_cp=False) == dict(
        _delete_=True, type='UniFormerDense', arch='small',
        out_indices=(0, 1, 2, 3), drop_path_rate=0.1, stage3_attn='hybrid',
        window_size=14, with_cp=False,
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/uniformer_small_in1k.pth'))


def test_topdown_heatmap_pipelines_run_at_the_codecs_sizes():
    """The training pipeline crops the person to the input size and draws
    17 heatmaps of the heatmap size; the test pipeline crops only."""
    pytest.importorskip('mmpose')
    from mmcv.transforms import Compose
    from mmengine.registry import DefaultScope
    from mmpose.registry import TRANSFORMS  # noqa: F401  (registers them)
    codec, train, val = topdown_heatmap(
        input_size=(288, 384), heatmap_size=(72, 96), sigma=3)
    assert codec == dict(type='MSRAHeatmap', input_size=(288, 384),
                         heatmap_size=(72, 96), sigma=3)
    assert [t['type'] for t in train] == [
        'LoadImage', 'GetBBoxCenterScale', 'RandomFlip', 'RandomHalfBody',
        'RandomBBoxTransform', 'TopdownAffine', 'GenerateTarget',
        'PackPoseInputs']
    assert [t['type'] for t in val] == [
        'LoadImage', 'GetBBoxCenterScale', 'TopdownAffine', 'PackPoseInputs']
    keypoints = np.stack([np.linspace(40, 160, 17),
                          np.linspace(30, 200, 17)], -1)[None]
    # a person box with 17 COCO keypoints (COCO's flip pairs and halves)
    sample = dict(img_path=str(TEST_JPG),
                  bbox=np.array([[30., 20., 170., 210.]]),
                  bbox_score=np.ones(1), keypoints=keypoints,
                  keypoints_visible=np.ones((1, 17)), id=0, img_id=0,
                  category_id=1,
                  flip_indices=[0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14,
                                13, 16, 15],
                  upper_body_ids=list(range(11)),
                  lower_body_ids=list(range(11, 17)))
    with DefaultScope.overwrite_default_scope('mmpose'):
        trained = Compose(train[:-1])(dict(sample))
        tested = Compose(val[:-1])(dict(sample))
    assert trained['img'].shape == (384, 288, 3)
    assert trained['heatmaps'].shape == (17, 96, 72)
    assert tested['img'].shape == (384, 288, 3)
    assert 'heatmaps' not in tested


@pytest.mark.parametrize('rel', [
    'configs/uniformer_det/'
    'cascade-mask-rcnn_uniformer-small-h14_in1k-pre_fpn_ms-crop-3x_coco.py',
    'configs/uniformer_seg/'
    'upernet_uniformer-base-w32_in1k-pre_8xb2-160k_ade20k-512x512.py',
    'configs/uniformer_pose/td-hm_uniformer-base_8xb32-210e_coco-448x320.py',
])
def test_helper_configs_load_plainly_and_dump(rel, tmp_path):
    """mmengine runs the helpers while it reads the file: the loaded config
    has the plain values (rows: their own arch, drop path, checkpoint), no
    function, and its dump loads back to the same dict."""
    folder = rel.split('/')[1]
    pytest.importorskip({'uniformer_det': 'mmdet', 'uniformer_seg': 'mmseg',
                         'uniformer_pose': 'mmpose'}[folder])
    cfg = Config.fromfile(str(REPO / rel))
    backbone = cfg.model.backbone
    arch = 'small' if '-small' in rel else 'base'
    assert backbone.type == 'UniFormerDense' and backbone.arch == arch
    assert backbone.init_cfg == dict(
        type='Pretrained', checkpoint=f'checkpoints/uniformer_{arch}_in1k.pth')
    assert not any(callable(v) for v in cfg.values())
    if folder == 'uniformer_pose':  # the 448x320 base's codec everywhere
        assert tuple(cfg.codec.input_size) == (320, 448)
        affine = [t for t in cfg.train_dataloader.dataset.pipeline
                  if t.type == 'TopdownAffine']
        assert [tuple(t.input_size) for t in affine] == [(320, 448)]
    dumped = tmp_path / 'dumped.py'
    cfg.dump(str(dumped))
    assert Config.fromfile(str(dumped)).to_dict() == cfg.to_dict()
