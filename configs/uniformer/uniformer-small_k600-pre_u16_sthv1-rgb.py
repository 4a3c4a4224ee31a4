# paper: top-1 57.6, params 21.3M, FLOPs 125G (1 clip x 3 crops)
# UniFormer-S, 16 frames (segment sampling), Something-Something V1, from the
# Kinetics-600 16x4 model. Official exp/uniformer_s16_sthv1_prek600: batch 32
# (4 per GPU x 8 GPUs), lr 2e-4, 60 epochs (5 warmup), drop path 0.2; test
# 16x3x1 (frames x crops x clips).
_base_ = ['./uniformer-small_k400-pre_u16_sthv1-rgb.py']

model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/uniformer_small_k600_16x4.pth')))
