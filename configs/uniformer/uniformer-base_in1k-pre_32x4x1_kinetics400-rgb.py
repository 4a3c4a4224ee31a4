# paper: top-1 82.9 (top-5 95.4), params 49.8M, FLOPs 1036G (259G x 4 views)
# UniFormer-B, 32 frames x stride 4, Kinetics-400, from ImageNet-1k. Official
# exp/uniformer_b32x4_k400: batch 32 (4 per GPU x 8 GPUs), lr 1e-4, 110 epochs
# (10 warmup), drop path 0.3; test 32x1x4 (frames x crops x clips).
_base_ = ['./uniformer-small_in1k-pre_32x4x1_kinetics400-rgb.py']

model = dict(backbone=dict(arch='base', drop_path_rate=0.3))
