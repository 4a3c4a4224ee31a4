# paper: top-1 60.9, params 49.7M, FLOPs 777G (1 clip x 3 crops)
# UniFormer-B, 32 frames (segment sampling), Something-Something V1, from the
# Kinetics-400 16x4 model. Official exp/uniformer_b32_sthv1_prek400: batch 32
# (4 per GPU x 8 GPUs), lr 2e-4, 60 epochs (5 warmup), drop path 0.6; test
# 32x3x1 (frames x crops x clips).
_base_ = ['./uniformer-small_k400-pre_u32_sthv1-rgb.py']

model = dict(backbone=dict(arch='base', drop_path_rate=0.6))
