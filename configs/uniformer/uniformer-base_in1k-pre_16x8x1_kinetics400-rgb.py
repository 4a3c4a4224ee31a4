# paper: top-1 81.7, params 49.8M, FLOPs 387G (96.7G x 4 views)
# UniFormer-B, 16 frames x stride 8, Kinetics-400, from ImageNet-1k. Official
# exp/uniformer_b16x8_k400: batch 40 (5 per GPU x 8 GPUs), lr 1.25e-4, 110
# epochs (10 warmup), drop path 0.3; test 16x1x4 (frames x crops x clips).
_base_ = ['./uniformer-small_in1k-pre_16x4x1_kinetics400-rgb.py']
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint='checkpoints/uniformer_base_in1k.pth')))
frame_interval = 8
train_dataloader = dict(batch_size=5)
optim_wrapper = dict(optimizer=dict(lr=1.25e-4))
param_scheduler = warmup_cosine(lr=1.25e-4, max_epochs=110, warmup_epochs=10)
auto_scale_lr = dict(base_batch_size=40)
