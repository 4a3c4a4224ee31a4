# paper: top-1 72.1, params 574M, FLOPs 858G (estimated) x 1 clip x 3 crops
# UniFormerV2-L/14 with local and global UniBlocks from CLIP-400M, 16 frames at
# 224, Something-Something V2. Official exp/sthv2/ssv2_l14_f16x224: batch 128
# (16 per GPU x 8 GPUs), lr 2e-5, 22 epochs (5 warmup), activation
# checkpointing of 15 ViT blocks; test 16x3x1, softmax averaged.
_base_ = [
    '../_base_/recipes/uniformerv2_ss_l14.py',
    '../_base_/recipes/uniformerv2_sthv2.py'
]
