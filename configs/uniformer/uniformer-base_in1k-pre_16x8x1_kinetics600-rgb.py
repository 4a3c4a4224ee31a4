# paper: top-1 83.4, params 49.8M, FLOPs 387G (96.7G x 4 views)
# UniFormer-B, 16 frames x stride 8, Kinetics-600, from ImageNet-1k. Official
# exp/uniformer_b16x8_k600: batch 32 (4 per GPU x 8 GPUs), lr 1.25e-4, 110
# epochs (10 warmup), drop path 0.3; test 16x1x4 (frames x crops x clips).
_base_ = ['./uniformer-base_in1k-pre_16x4x1_kinetics600-rgb.py']
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

frame_interval = 8
(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=4, lr=1.25e-4, max_epochs=110, warmup_epochs=10)
