# paper: top-1 82.7, params 21.4M, FLOPs 167G (41.8G x 4 views)
# UniFormer-S, 16 frames x stride 8, Kinetics-600, from ImageNet-1k. Official
# exp/uniformer_s16x8_k600: batch 32 (4 per GPU x 8 GPUs), lr 1e-4, 110 epochs
# (10 warmup), drop path 0.1; test 16x1x4 (frames x crops x clips).
_base_ = ['../_base_/recipes/uniformer_k600.py']

clip_len = 16
frame_interval = 8
