# paper: top-1 73.3, params 9.8M, FLOPs 4.2G (1 clip x 1 crop)
# UniFormer-XXS (light), 16 frames (sparse) at 128 px, Kinetics-400, from
# ImageNet-1k. Official exp_light/uniformer_xxs16_128_k400
# (Uniformer_light_fp32): batch 256 (32 per GPU x 8 GPUs), lr 8e-4, wd 0.1, 110
# epochs (10 warmup), drop path 0.05, RandAugment 'rand-m5-n2-mstd0.25'; test
# 16x1x1 at 128 px.
_base_ = ['./uniformer-xxs-res160_in1k-pre_u16_kinetics400-rgb.py']

crop_size = 128
train_short_side = 160
