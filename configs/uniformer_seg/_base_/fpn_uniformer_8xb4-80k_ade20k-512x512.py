# Semantic FPN with a UniFormer backbone, ADE20K 512x512, 80k iterations:
# the official recipe (semantic_segmentation/fpn_seg/exp/fpn_*, after PVT,
# on 8 GPUs instead of 4: lr x2, iterations / 2): AdamW lr 2e-4, weight
# decay 1e-4, linear warm-up of 1000 iterations from 0.1 then cosine decay
# (min ratio 1e-8), 4 images per GPU x 8 GPUs. Data and runtime are mmseg's.
_base_ = [
    'mmseg::_base_/models/fpn_r50.py', 'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py'
]
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)
crop_size = (512, 512)

model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='UniFormerDense',
        arch='small',
        out_indices=(0, 1, 2, 3),
        stage3_attn='global',
        window_size=14,
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/uniformer_small_in1k.pth')),
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
train_dataloader = dict(batch_size=4)
auto_scale_lr = dict(enable=False, base_batch_size=32)
