# paper: top-1 83.4, params 24M, FLOPs 4.2G (224 px)
# UniFormer ImageNet-1k, official
# image_classification/exp/uniformer_small_plus_dim64 (head_dim 64): batch 1024
# (128 per GPU x 8 GPUs), lr 5e-4 x 1024 / 512 = 1e-3, 300 epochs (5 warmup),
# drop path 0.1.
_base_ = ['./uniformer-small_8xb128_in1k.py']

model = dict(backbone=dict(arch='small_plus_dim64', drop_path_rate=0.1))
