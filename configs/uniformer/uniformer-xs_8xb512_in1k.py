# paper: top-1 82.0, params 16.5M, FLOPs 2.0G (224 px)
# Light UniFormer-XS ImageNet-1k, official
# image_classification/exp_light/xs_224: batch 4096 (512 per GPU x 8 GPUs), lr
# 5e-4 x 4096 / 512 = 4e-3, wd 0.05, 600 epochs (30 warmup), drop path 0.1,
# FP32.
_base_ = ['../_base_/recipes/uniformer_light_imagenet.py']
