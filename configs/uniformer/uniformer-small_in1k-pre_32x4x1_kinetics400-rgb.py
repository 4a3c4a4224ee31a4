# paper: top-1 82.0, params 21.4M, FLOPs 438G (109.5G x 4 views)
# UniFormer-S, 32 frames x stride 4, Kinetics-400, from ImageNet-1k. Official
# exp/uniformer_s32x4_k400: batch 32 (4 per GPU x 8 GPUs), lr 1e-4, 110 epochs
# (10 warmup), drop path 0.1; test 32x1x4 (frames x crops x clips). no official
# checkpoint released for this row
_base_ = ['./uniformer-small_in1k-pre_16x4x1_kinetics400-rgb.py']

clip_len = 32
