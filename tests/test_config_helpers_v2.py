"""``uniformer_mm.datasets.config_utils.uniformerv2_model``: the model change
a UniFormerV2 row states as its facts (arch, frames, initialisation), and
the rows that use it resolve to the backbone and head they state."""
import pytest

import uniformer_mm  # noqa: F401  (registers our modules)
from uniformer_mm.datasets.config_utils import uniformerv2_model
from uniformer_mm.engine.config_knobs import load_config

from _paths import REPO


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
