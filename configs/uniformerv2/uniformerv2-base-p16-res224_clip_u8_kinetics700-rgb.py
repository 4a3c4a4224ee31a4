# paper: top-1 75.8 (mmaction2 75.8/92.8), params 115M, FLOPs 148G x 4 clips x
# 3 crops
# UniFormerV2-B/16 from CLIP-400M, 8 frames at 224, Kinetics-700. Official
# exp/k700/k700_b16_f8x224: batch 256 (32 per GPU x 8 GPUs), lr 1e-5, 55 epochs
# (5 warmup); test 8x3x4 (frames x crops x clips), softmax averaged.
_base_ = ['./uniformerv2-base-p16-res224_clip_u8_kinetics600-rgb.py']

dataset_name = 'kinetics700'
num_classes = 700
