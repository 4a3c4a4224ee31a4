# UperNet with a UniFormer backbone, ADE20K 512x512, 160k iterations: the
# official recipe (Sense-X/UniFormer semantic_segmentation/exp/upernet_*,
# after Swin Transformer): AdamW lr 6e-5, weight decay 0.01 (none on norms),
# linear warm-up of 1500 iterations from 1e-6 times a poly (power 1) decay
# over all 160k iterations (mmcv's warm-up scales the schedule's own
# learning rate: both schedulers start at 0), 2 images per GPU x 8 GPUs,
# auxiliary FCN head on stage 3 (loss weight 0.4). Data and runtime are
# mmseg's (mmseg:: bases). Rows set the arch, drop path, stage-3 attention
# and checkpointing.
_base_ = [
    'mmseg::_base_/models/upernet_r50.py',
    'mmseg::_base_/datasets/ade20k.py', 'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py'
]
from uniformer_mm.models.config_utils import replace_backbone  # noqa: E402
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)
crop_size = (512, 512)

model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,
    backbone=replace_backbone('small', 0.25, out_indices=(0, 1, 2, 3),
                              stage3_attn='global', window_size=14,
                              with_cp=False),
    decode_head=dict(in_channels=[64, 128, 320, 512], num_classes=150),
    auxiliary_head=dict(in_channels=320, num_classes=150))

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999),
                   weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=0, end=160000,
         by_epoch=False)
]
train_dataloader = dict(batch_size=2)
auto_scale_lr = dict(enable=False, base_batch_size=16)
