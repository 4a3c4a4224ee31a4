# paper: top-1 85.0, params 115M, FLOPs 148G x 4 clips x 3 crops
# UniFormerV2-B/16 from CLIP-400M, 8 frames at 224, Kinetics-600. Official
# exp/k600/k600_b16_f8x224: batch 256 (32 per GPU x 8 GPUs), lr 1e-5, 55 epochs
# (5 warmup); test 8x3x4 (frames x crops x clips), softmax averaged.
_base_ = ['./uniformerv2-base-p16-res224_clip_u8_kinetics400-rgb.py']

dataset_name = 'kinetics600'
num_classes = 600
