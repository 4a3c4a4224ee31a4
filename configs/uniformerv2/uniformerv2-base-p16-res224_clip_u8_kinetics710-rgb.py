# paper: no accuracy reported (mmaction2: top-1 78.9, top-5 94.2), params 115M,
# FLOPs 148G x 4 clips x 3 crops
# UniFormerV2-B/16 post-pretraining on Kinetics-710 from CLIP-400M, 8 frames at
# 224. Official exp/k710/k710_b16_f8x224: batch 256 (32 per GPU x 8 GPUs), lr
# 1e-5, 55 epochs (5 warmup); test 8x3x4, softmax averaged.
_base_ = ['../_base_/recipes/uniformerv2_k710.py']
