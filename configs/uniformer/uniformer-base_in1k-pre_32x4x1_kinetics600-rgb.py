# paper: top-1 84.5, params 49.8M, FLOPs 1036G (259G x 4 views)
# UniFormer-B, 32 frames x stride 4, Kinetics-600, from ImageNet-1k. Official
# exp/uniformer_b32x4_k600: batch 128 (16 per GPU x 8 GPUs), lr 4e-4, 110
# epochs (10 warmup), drop path 0.3; test 32x1x4 (frames x crops x clips).
# Official: 32 per machine x 4 machines (4 per GPU on 32 GPUs), lr 1e-4 x 4
# machines; the paper marks 84.5 "lower due to lack of tuning"
_base_ = ['./uniformer-base_in1k-pre_16x4x1_kinetics600-rgb.py']
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

clip_len = 32
(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=16, lr=4e-4, max_epochs=110, warmup_epochs=10)
