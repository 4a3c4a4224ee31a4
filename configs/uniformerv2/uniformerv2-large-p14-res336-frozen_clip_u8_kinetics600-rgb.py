# paper: top-1 87.4, params 354M, FLOPs 1567G (estimated) x 3 clips x 1 crop
# UniFormerV2-L/14@336 with a frozen CLIP backbone (only the global UniBlocks
# and the head train), 8 frames, Kinetics-600. Official
# exp/k600/frozen_k600_l14_f8x336: batch 512 (64 per GPU x 8 GPUs), lr 8e-4, 50
# epochs, no warmup; test 8x1x3 (frames x crops x clips), softmax averaged.
_base_ = ['./uniformerv2-large-p14-res336-frozen_clip_u8_kinetics400-rgb.py']

dataset_name = 'kinetics600'
num_classes = 600
