# paper: top-1 78.4, params 21.4M, FLOPs 70G (17.5G x 4 views)
# UniFormer-S, 8 frames x stride 8, Kinetics-400, from ImageNet-1k. Official
# exp/uniformer_s8x8_k400: batch 128 (16 per GPU x 8 GPUs), lr 4e-4, 100 epochs
# (10 warmup), drop path 0.1; test 8x1x4 (frames x crops x clips).
_base_ = ['./uniformer-small_in1k-pre_16x4x1_kinetics400-rgb.py']
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

clip_len = 8
frame_interval = 8
(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=16, lr=4e-4, max_epochs=100, warmup_epochs=10)
