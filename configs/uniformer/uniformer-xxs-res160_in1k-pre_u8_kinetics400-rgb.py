# paper: top-1 71.4, params 9.8M, FLOPs 3.3G (1 clip x 1 crop)
# UniFormer-XXS (light), 8 frames (sparse) at 160 px, Kinetics-400, from
# ImageNet-1k. Official exp_light/uniformer_xxs8_160_k400
# (Uniformer_light_fp32): batch 256 (32 per GPU x 8 GPUs), lr 4e-4, wd 0.1, 110
# epochs (10 warmup), drop path 0.05, RandAugment 'rand-m5-n2-mstd0.25'; test
# 8x1x1 at 160 px.
_base_ = ['./uniformer-xxs-res160_in1k-pre_u16_kinetics400-rgb.py']
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

clip_len = 8
optim_wrapper = dict(optimizer=dict(lr=4e-4))
param_scheduler = warmup_cosine(lr=4e-4, max_epochs=110, warmup_epochs=10)
