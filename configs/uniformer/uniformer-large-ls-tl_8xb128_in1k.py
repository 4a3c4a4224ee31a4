# paper: top-1 85.6, params 100M, FLOPs 12.6G (224 px)
# UniFormer large_ls_tl with token labeling, ImageNet-1k, official
# image_classification/token_labeling: batch 1024 (128 per GPU x 8 GPUs), lr
# 1.2e-3, 300 epochs (5 warmup), drop path 0.4. The dense NFNet-F6 token labels
# and MixToken are not reproduced (see
# configs/_base_/recipes/uniformer_tl_imagenet.py).
_base_ = ['./uniformer-small-tl_8xb128_in1k.py']
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(arch='large_ls_tl', drop_path_rate=0.4),
    head=dict(in_channels=640))
optim_wrapper = dict(optimizer=dict(lr=1.2e-3))
param_scheduler = warmup_cosine(
    lr=1.2e-3, max_epochs=300, warmup_epochs=5, min_lr=1e-5)
