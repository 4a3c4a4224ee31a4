# paper: top-1 82.8, params 21.4M, FLOPs 167G (41.8G x 4 views)
# UniFormer-S, 16 frames x stride 4, Kinetics-600, from ImageNet-1k. Official
# exp/uniformer_s16x4_k600: batch 96 (12 per GPU x 8 GPUs), lr 3e-4, 110 epochs
# (10 warmup), drop path 0.1; test 16x1x4 (frames x crops x clips).
_base_ = ['../_base_/recipes/uniformer_k600.py']
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=12, lr=3e-4, max_epochs=110, warmup_epochs=10)
