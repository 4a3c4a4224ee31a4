# paper: top-1 83.6 (+0.2), params 24M, FLOPs 4.2G (224 px)
# UniFormer small_plus_tl_dim64 with token labeling, ImageNet-1k, official
# image_classification/token_labeling: batch 1024 (128 per GPU x 8 GPUs), lr
# 1.6e-3, 300 epochs (5 warmup), drop path 0.1. The dense NFNet-F6 token labels
# and MixToken are not reproduced (see
# configs/_base_/recipes/uniformer_tl_imagenet.py).
_base_ = ['./uniformer-small-tl_8xb128_in1k.py']

model = dict(
    backbone=dict(arch='small_plus_tl_dim64'))
