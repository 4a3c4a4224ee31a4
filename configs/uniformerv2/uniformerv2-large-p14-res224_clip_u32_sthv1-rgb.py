# paper: top-1 62.7, params 574M, FLOPs 1716G (estimated) x 1 clip x 3 crops
# UniFormerV2-L/14 with local and global UniBlocks from CLIP-400M, 32 frames at
# 224, Something-Something V1. Official exp/sthv1/ssv1_l14_f32x224: batch 128
# (16 per GPU x 8 GPUs), lr 2e-5, 22 epochs (5 warmup), activation
# checkpointing of 15 ViT blocks; test 32x3x1, softmax averaged.
_base_ = ['./uniformerv2-large-p14-res224_clip_u16_sthv1-rgb.py']

model = dict(backbone=dict(t_size=32))
clip_len = 32
