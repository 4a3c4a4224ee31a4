# paper: top-1 78.6, params 16.1M, FLOPs 34.2G (1 clip x 1 crop)
# UniFormer-XS (light), 32 frames (sparse) at 192 px, Kinetics-400, from
# ImageNet-1k. Official exp_light/uniformer_xs32_192_k400 (Uniformer_light):
# batch 128 (16 per GPU x 8 GPUs), lr 4e-4, wd 0.05, 110 epochs (10 warmup),
# drop path 0.1, RandAugment 'rand-m7-n4-mstd0.5-inc1'; test 32x1x1 at 192 px.
_base_ = ['./uniformer-xxs-res160_in1k-pre_u16_kinetics400-rgb.py']
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(
        arch='xs',
        drop_path_rate=0.1,
        fp32_attention=False,
        init_cfg=dict(checkpoint='checkpoints/uniformer_xs_192_in1k.pth')),
    cls_head=dict(in_channels=512))
clip_len = 32
crop_size = 192
train_short_side = 224
rand_augment = 'rand-m7-n4-mstd0.5-inc1'
train_dataloader = dict(batch_size=16)
optim_wrapper = dict(optimizer=dict(lr=4e-4, weight_decay=0.05))
param_scheduler = warmup_cosine(lr=4e-4, max_epochs=110, warmup_epochs=10)
auto_scale_lr = dict(base_batch_size=128)
