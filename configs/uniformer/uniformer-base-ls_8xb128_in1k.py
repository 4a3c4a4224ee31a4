# paper: top-1 83.9, params 50M, FLOPs 8.3G (224 px)
# UniFormer ImageNet-1k, official image_classification/exp/uniformer_base_ls
# (layer scale): batch 1024 (128 per GPU x 8 GPUs), lr 4e-4 x 1024 / 512 =
# 8e-4, 300 epochs (5 warmup), drop path 0.3.
_base_ = ['./uniformer-small_8xb128_in1k.py']
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(backbone=dict(arch='base_ls', drop_path_rate=0.3))
optim_wrapper = dict(optimizer=dict(lr=8e-4))
param_scheduler = warmup_cosine(
    lr=8e-4, max_epochs=300, warmup_epochs=5, min_lr=1e-5)
