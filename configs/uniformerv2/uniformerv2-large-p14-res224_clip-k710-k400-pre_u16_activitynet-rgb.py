# paper: top-1 94.3, params 354M, FLOPs 1331G (estimated) x 10 clips x 3 crops
# UniFormerV2-L/14, CLIP-400M -> K710 -> K400 -> ActivityNet, 16 frames at 224.
# Official exp/anet/anet_l14_f16x224: batch 64 (8 per GPU x 8 GPUs), lr 5e-6,
# 20 epochs (5 warmup), drop path 0.2 / 0.4, new classifier; test 16x3x10,
# softmax averaged.
_base_ = ['../_base_/recipes/uniformerv2_activitynet.py']
