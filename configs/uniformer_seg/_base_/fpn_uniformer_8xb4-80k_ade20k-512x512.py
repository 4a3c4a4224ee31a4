# Semantic FPN with a UniFormer backbone, ADE20K 512x512, 80k iterations:
# the official recipe (semantic_segmentation/fpn_seg/exp/fpn_*, after PVT,
# on 8 GPUs instead of 4: lr x2, iterations / 2): AdamW lr 2e-4, weight
# decay 1e-4, linear warm-up of 1000 iterations from 0.1 times a cosine
# decay over all 80k iterations (min ratio 1e-8), 4 images per GPU x 8 GPUs.
# Tested as the official AlignResize: short side 512 (long side at most
# 2048) keeping the ratio, then each side stretched up to a multiple of 32
# (mmseg's ResizeToMultiple, as mmseg's PoolFormer FPN configs). Data and
# runtime are mmseg's.
_base_ = [
    'mmseg::_base_/models/fpn_r50.py', 'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py'
]
from uniformer_mm.models.config_utils import replace_backbone  # noqa: E402
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)
crop_size = (512, 512)

model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,
    backbone=replace_backbone('small', 0.1, out_indices=(0, 1, 2, 3),
                              stage3_attn='global', window_size=14,
                              with_cp=False),
    neck=dict(in_channels=[64, 128, 320, 512]),
    decode_head=dict(num_classes=150))

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=1000),
    dict(type='CosineAnnealingLR', T_max=80000, eta_min_ratio=1e-8,
         by_epoch=False, begin=0, end=80000)
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=4)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
auto_scale_lr = dict(enable=False, base_batch_size=32)
