# paper: top-1 79.9, params 10.2M, FLOPs 0.96G (192 px)
# Light UniFormer-XXS ImageNet-1k, official
# image_classification/exp_light/xxs_192: batch 4096 (512 per GPU x 8 GPUs), lr
# 4e-4 x 4096 / 512 = 3.2e-3, wd 0.1, 600 epochs (30 warmup), drop path 0,
# FP32, AutoAugment ('--aa v0'; here mmpretrain's ImageNet AutoAugment policy:
# timm's v0 policy is not available) instead of RandAugment.
# Same recipe as the 128 px row; here the 192 px crops.
_base_ = ['./uniformer-xxs_8xb512_in1k-128px.py']
from uniformer_mm.datasets.config_utils import image_resolution  # noqa: E402

train_dataloader = image_resolution(_base_.train_dataloader, 192)
val_dataloader = image_resolution(_base_.val_dataloader, 192)
test_dataloader = val_dataloader
