# paper: top-1 81.5, params 16.5M, FLOPs 1.4G (192 px)
# Light UniFormer-XS ImageNet-1k, official
# image_classification/exp_light/xs_192: batch 4096 (512 per GPU x 8 GPUs), lr
# 5e-4 x 4096 / 512 = 4e-3, wd 0.05, 600 epochs (30 warmup), drop path 0.1,
# FP32.
_base_ = ['../_base_/recipes/uniformer_light_imagenet.py']
from uniformer_mm.datasets.config_utils import image_resolution  # noqa: E402

train_dataloader = image_resolution(_base_.train_dataloader, 192)
val_dataloader = image_resolution(_base_.val_dataloader, 192)
test_dataloader = val_dataloader
