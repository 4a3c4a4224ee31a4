# paper: top-1 68.3, params 9.8M, FLOPs 2.0G (1 clip x 1 crop)
# UniFormer-XXS (light), 8 frames (sparse) at 128 px, Kinetics-400, from
# ImageNet-1k. Official exp_light/uniformer_xxs8_128_k400
# (Uniformer_light_ls_fp32): batch 256 (32 per GPU x 8 GPUs), lr 4e-4, wd 0.1,
# 110 epochs (10 warmup), drop path 0.05, RandAugment 'rand'; test 8x1x1 at 128
# px.
# Same as the 128 px 4-frame row, with 8 frames.
_base_ = ['./uniformer-xxs-res128_in1k-pre_u4_kinetics400-rgb.py']

clip_len = 8
