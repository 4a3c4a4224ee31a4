# paper: top-1 82.9, params 22M, FLOPs 3.6G (224 px)
# UniFormer ImageNet-1k, official image_classification/exp/uniformer_small:
# batch 1024 (128 per GPU x 8 GPUs), lr 5e-4 x 1024 / 512 = 1e-3, 300 epochs (5
# warmup), drop path 0.1.
_base_ = ['../_base_/recipes/uniformer_imagenet.py']
