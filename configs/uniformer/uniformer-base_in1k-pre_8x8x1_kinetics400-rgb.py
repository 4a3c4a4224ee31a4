# paper: top-1 79.8, params 49.8M, FLOPs 161G (40.3G x 4 views)
# UniFormer-B, 8 frames x stride 8, Kinetics-400, from ImageNet-1k. Official
# exp/uniformer_b8x8_k400: batch 64 (8 per GPU x 8 GPUs), lr 2e-4, 100 epochs
# (10 warmup), drop path 0.3; test 8x1x4 (frames x crops x clips).
_base_ = ['./uniformer-small_in1k-pre_8x8x1_kinetics400-rgb.py']
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

model = dict(backbone=dict(arch='base', drop_path_rate=0.3))
(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=8, lr=2e-4, max_epochs=100, warmup_epochs=10)
