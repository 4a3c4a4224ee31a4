# paper: top-1 70.7, params 163M, FLOPs 374G (estimated) x 1 clip x 3 crops
# UniFormerV2-B/16 with local and global UniBlocks from CLIP-400M, 32 frames at
# 224, Something-Something V2. Official exp/sthv2/ssv2_b16_f32x224: batch 128
# (16 per GPU x 8 GPUs), lr 4e-5, 22 epochs (5 warmup); test 32x3x1, softmax
# averaged.
_base_ = ['./uniformerv2-base-p16-res224_clip_u16_sthv2-rgb.py']

model = dict(
    backbone=dict(
        t_size=32))
clip_len = 32
