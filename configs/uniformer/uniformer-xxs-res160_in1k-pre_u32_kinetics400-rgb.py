# paper: top-1 77.9, params 9.8M, FLOPs 15.4G (1 clip x 1 crop)
# UniFormer-XXS (light), 32 frames (sparse) at 160 px, Kinetics-400, from
# ImageNet-1k. Official exp_light/uniformer_xxs32_160_k400 (Uniformer_light):
# batch 256 (32 per GPU x 8 GPUs), lr 8e-4, wd 0.1, 110 epochs (10 warmup),
# drop path 0.05, RandAugment 'rand-m5-n2-mstd0.25'; test 32x1x1 at 160 px.
_base_ = ['./uniformer-xxs-res160_in1k-pre_u16_kinetics400-rgb.py']

model = dict(
    backbone=dict(
        fp32_attention=False))
clip_len = 32
