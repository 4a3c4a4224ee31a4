"""Config helpers of the UniFormer (V1) rows.

* :func:`~uniformer_mm.datasets.config_utils.video_schedule`: a video row
  states its recipe numbers once (videos per GPU, lr, epochs, warmup) and
  gets the loader batch, the optimizer lr, the warmup + cosine scheduler,
  the loop's epochs and ``auto_scale_lr`` (8 GPUs x the batch) from them;
  a row that calls it resolves to those values through mmengine's merge;
* the V1 video bases name the checkpoint after the backbone's ``arch``
  (``'${model.backbone.arch}'``): a row that only says ``arch='base'``
  starts from the UniFormer-B weights;
* :func:`~uniformer_mm.datasets.config_utils.image_resolution`: an image
  row at another size gets the train crop, the test short side
  ``floor(size / crop_pct)`` and the centre crop from the size alone.
"""
import pytest

import uniformer_mm  # noqa: F401  (registers our modules)
from uniformer_mm.apis import load_config
from uniformer_mm.datasets.config_utils import (image_resolution,
                                                 iter_transforms,
                                                 video_schedule)
from uniformer_mm.engine.schedules import warmup_cosine

from _paths import REPO

V1 = REPO / 'configs' / 'uniformer'


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
