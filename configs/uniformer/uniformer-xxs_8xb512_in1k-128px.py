# paper: top-1 76.8, params 10.2M, FLOPs 0.43G (128 px)
# Light UniFormer-XXS ImageNet-1k, official
# image_classification/exp_light/xxs_128: batch 4096 (512 per GPU x 8 GPUs), lr
# 4e-4 x 4096 / 512 = 3.2e-3, wd 0.1, 600 epochs (30 warmup), drop path 0,
# FP32, AutoAugment ('--aa v0'; here mmpretrain's ImageNet AutoAugment policy:
# timm's v0 policy is not available) instead of RandAugment.
# Same recipe as the 224 px row; here the 128 px crops.
_base_ = ['./uniformer-xxs_8xb512_in1k.py']
from uniformer_mm.datasets.config_utils import image_resolution  # noqa: E402

train_dataloader = image_resolution(_base_.train_dataloader, 128)
val_dataloader = image_resolution(_base_.val_dataloader, 128)
test_dataloader = val_dataloader
