# paper: top-1 78.6, params 16.1M, FLOPs 34.2G (1 clip x 1 crop)
# UniFormer-XS (light), 32 frames (sparse) at 192 px, Kinetics-400, from
# ImageNet-1k. Official exp_light/uniformer_xs32_192_k400 (Uniformer_light):
# batch 128 (16 per GPU x 8 GPUs), lr 4e-4, wd 0.05, 110 epochs (10 warmup),
# drop path 0.1, RandAugment 'rand-m7-n4-mstd0.5-inc1'; test 32x1x1 at 192 px.
_base_ = ['./uniformer-xxs-res160_in1k-pre_u32_kinetics400-rgb.py']
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

model = dict(
    backbone=dict(arch='xs', drop_path_rate=0.1),
    cls_head=dict(in_channels=512))
crop_size = 192
train_short_side = 224
rand_augment = 'rand-m7-n4-mstd0.5-inc1'
(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=16, lr=4e-4, max_epochs=110, warmup_epochs=10,
     weight_decay=0.05)
