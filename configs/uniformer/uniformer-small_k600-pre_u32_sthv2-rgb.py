# paper: top-1 70.4, params 21.3M, FLOPs 329G (1 clip x 3 crops)
# UniFormer-S, 32 frames (segment sampling), Something-Something V2, from the
# Kinetics-600 16x4 model. Official exp/uniformer_s32_sthv2_prek600: batch 32
# (4 per GPU x 8 GPUs), lr 2e-4, 50 epochs (5 warmup), drop path 0.3; test
# 32x3x1 (frames x crops x clips).
_base_ = ['./uniformer-small_k400-pre_u16_sthv2-rgb.py']

model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/uniformer_small_k600_16x4.pth')))
clip_len = 32
