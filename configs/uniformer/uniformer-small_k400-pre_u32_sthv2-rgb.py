# paper: top-1 69.0, params 21.3M, FLOPs 329G (1 clip x 3 crops)
# UniFormer-S, 32 frames (segment sampling), Something-Something V2, from the
# Kinetics-400 16x4 model. Official exp/uniformer_s32_sthv2_prek400: batch 32
# (4 per GPU x 8 GPUs), lr 2e-4, 50 epochs (5 warmup), drop path 0.3; test
# 32x3x1 (frames x crops x clips).
_base_ = ['./uniformer-small_k400-pre_u16_sthv2-rgb.py']

clip_len = 32
