# paper: top-1 84.8 (+1.0), params 50M, FLOPs 8.3G (224 px)
# UniFormer base_tl_dim64 with token labeling, ImageNet-1k, official
# image_classification/token_labeling: batch 1024 (128 per GPU x 8 GPUs), lr
# 1.6e-3, 300 epochs (5 warmup), drop path 0.3. The dense NFNet-F6 token labels
# and MixToken are not reproduced (see
# configs/_base_/recipes/uniformer_tl_imagenet.py).
_base_ = ['./uniformer-small-tl_8xb128_in1k.py']

model = dict(
    backbone=dict(arch='base_tl_dim64', drop_path_rate=0.3))
