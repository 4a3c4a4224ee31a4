# paper: top-1 65.8, params 9.8M, FLOPs 1.6G (1 clip x 1 crop)
# UniFormer-XXS (light), 4 frames (sparse) at 160 px, Kinetics-400, from
# ImageNet-1k. Official exp_light/uniformer_xxs4_160_k400
# (Uniformer_light_ls_fp32): batch 256 (32 per GPU x 8 GPUs), lr 4e-4, wd 0.1,
# 110 epochs (10 warmup), drop path 0.05, RandAugment 'rand'; test 4x1x1 at 160
# px.
_base_ = ['./uniformer-xxs-res160_in1k-pre_u16_kinetics400-rgb.py']
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(
        # layer scale (init 0.1) in every block (official *_ls_fp32 model)
        arch=dict(
            _delete_=True,
            depths=[2, 5, 8, 2],
            embed_dims=[56, 112, 224, 448],
            head_dim=28,
            mlp_ratio=3.,
            conv_stem=True,
            light=True,
            layer_scale='all',
            layer_scale_init_value=0.1),
        # the XXS weights (the arch is a dict here, not the name 'xxs')
        init_cfg=dict(
            checkpoint='checkpoints/uniformer_xxs_${crop_size}_in1k.pth')))
clip_len = 4
rand_augment = 'rand'
optim_wrapper = dict(optimizer=dict(lr=4e-4))
param_scheduler = warmup_cosine(lr=4e-4, max_epochs=110, warmup_epochs=10)
