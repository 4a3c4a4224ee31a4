# paper: top-1 81.7, params 49.8M, FLOPs 387G (96.7G x 4 views)
# UniFormer-B, 16 frames x stride 8, Kinetics-400, from ImageNet-1k. Official
# exp/uniformer_b16x8_k400: batch 40 (5 per GPU x 8 GPUs), lr 1.25e-4, 110
# epochs (10 warmup), drop path 0.3; test 16x1x4 (frames x crops x clips).
_base_ = ['./uniformer-base_in1k-pre_16x4x1_kinetics400-rgb.py']

frame_interval = 8
