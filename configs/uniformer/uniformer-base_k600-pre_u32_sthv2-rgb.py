# paper: top-1 71.2, params 49.7M, FLOPs 777G (1 clip x 3 crops)
# UniFormer-B, 32 frames (segment sampling), Something-Something V2, from the
# Kinetics-600 16x4 model. Official exp/uniformer_b32_sthv2_prek600: batch 32
# (4 per GPU x 8 GPUs), lr 2e-4, 50 epochs (5 warmup), drop path 0.5; test
# 32x3x1 (frames x crops x clips).
_base_ = ['./uniformer-base_k400-pre_u32_sthv2-rgb.py']

model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/uniformer_base_k600_16x4.pth')))
