# paper: top-1 42.6 (mmaction2 42.3/71.5), params 115M, FLOPs 148G x 4 clips x
# 3 crops
# UniFormerV2-B/16, CLIP-400M -> K710 -> K400 -> Moments in Time V1, 8 frames
# at 224. Official exp/mit/mit_b16_f8x224: batch 512 (64 per GPU x 8 GPUs), lr
# 2e-5, 24 epochs (5 warmup), new classifier; test 8x3x4, softmax averaged.
_base_ = ['../_base_/recipes/uniformerv2_mit.py']
