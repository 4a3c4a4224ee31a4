# paper: top-1 63.2, params 9.8M, FLOPs 1.0G (1 clip x 1 crop)
# UniFormer-XXS (light), 4 frames (sparse) at 128 px, Kinetics-400, from
# ImageNet-1k. Official exp_light/uniformer_xxs4_128_k400
# (Uniformer_light_ls_fp32): batch 256 (32 per GPU x 8 GPUs), lr 4e-4, wd 0.1,
# 110 epochs (10 warmup), drop path 0.05, RandAugment 'rand'; test 4x1x1 at 128
# px.
# Same as the 160 px 4-frame row, at 128 px from the 128 px ImageNet model.
_base_ = ['./uniformer-xxs-res160_in1k-pre_u4_kinetics400-rgb.py']

crop_size = 128
train_short_side = 160
