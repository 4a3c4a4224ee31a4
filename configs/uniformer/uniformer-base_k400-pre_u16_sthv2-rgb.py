# paper: top-1 70.4, params 49.7M, FLOPs 290G (1 clip x 3 crops)
# UniFormer-B, 16 frames (segment sampling), Something-Something V2, from the
# Kinetics-400 16x4 model. Official exp/uniformer_b16_sthv2_prek400: batch 40
# (5 per GPU x 8 GPUs), lr 2.5e-4, 50 epochs (5 warmup), drop path 0.4; test
# 16x3x1 (frames x crops x clips).
_base_ = ['./uniformer-small_k400-pre_u16_sthv2-rgb.py']
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

model = dict(backbone=dict(arch='base', drop_path_rate=0.4))
(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=5, lr=2.5e-4, max_epochs=50, warmup_epochs=5)
