# paper: top-1 56.8, params 163M, FLOPs 187G (estimated) x 1 clip x 3 crops
# UniFormerV2-B/16 with local and global UniBlocks from CLIP-400M, 16 frames at
# 224, Something-Something V1. Official exp/sthv1/ssv1_b16_f16x224: batch 128
# (16 per GPU x 8 GPUs), lr 4e-5, 22 epochs (5 warmup); test 16x3x1, softmax
# averaged.
_base_ = [
    '../_base_/recipes/uniformerv2_ss.py',
    '../_base_/recipes/uniformerv2_sthv1.py'
]
