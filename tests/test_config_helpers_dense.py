"""The dense configs' helpers (``uniformer_mm/models/config_utils.py``).

The helpers return the exact dicts the configs stated before; the pose
pipelines they build run on an image with mmpose's transforms and give the
input and heatmap sizes of their codec; and a config that calls them loads
with plain ``mmengine.Config.fromfile`` (as mmdet's / mmseg's / mmpose's own
``tools/train.py`` load it: no knob resolution) and its ``cfg.dump()``
loads back to the same dict.
"""
import numpy as np
import pytest
from mmengine.config import Config

import uniformer_mm  # noqa: F401  (registers our modules, stack fixes)
from uniformer_mm.models.config_utils import (dense_backbone,
                                              replace_backbone,
                                              topdown_heatmap)

from _paths import REPO, TEST_JPG


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
