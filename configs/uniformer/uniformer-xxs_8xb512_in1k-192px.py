# paper: top-1 79.9, params 10.2M, FLOPs 0.96G (192 px)
# Light UniFormer-XXS ImageNet-1k, official
# image_classification/exp_light/xxs_192: batch 4096 (512 per GPU x 8 GPUs), lr
# 4e-4 x 4096 / 512 = 3.2e-3, wd 0.1, 600 epochs (30 warmup), drop path 0,
# FP32, AutoAugment ('--aa v0'; here mmpretrain's ImageNet AutoAugment policy:
# timm's v0 policy is not available) instead of RandAugment.
_base_ = ['../_base_/recipes/uniformer_light_imagenet.py']
from uniformer_mm.datasets.config_utils import update_transforms  # noqa: E402
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(arch='xxs', drop_path_rate=0.),
    head=dict(in_channels=448))

train_dataloader = update_transforms(
    _base_.train_dataloader,
    RandomResizedCrop=dict(scale=192),
    RandAugment=dict(
        type='AutoAugment',
        policies='imagenet',
        hparams=dict(
            pad_val=[104, 116, 124], interpolation='bicubic')))
val_dataloader = update_transforms(
    _base_.val_dataloader,
    ResizeEdge=dict(scale=219),
    CenterCrop=dict(crop_size=192))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=3.2e-3, weight_decay=0.1))
param_scheduler = warmup_cosine(
    lr=3.2e-3, max_epochs=600, warmup_epochs=30, min_lr=1e-5)
