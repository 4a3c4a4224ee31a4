# paper: top-1 89.1 (mmaction2 89.0/98.2), params 354M, FLOPs 1331G x 4 clips x
# 3 crops
# UniFormerV2-L/14, CLIP-400M -> K710 -> Kinetics-400, 16 frames at 224.
# Official exp/k400/k400+k710_l14_f16x224: batch 256 (32 per GPU x 8 GPUs), lr
# 1.5e-6, 5 epochs (1 warmup), from the 8-frame K710 model, new classifier
# (official DELETE_SPECIAL_HEAD for K400); test 16x3x4, softmax averaged.
_base_ = ['./uniformerv2-large-p14-res224_clip-k710-pre_u8_kinetics400-rgb.py']

model = dict(backbone=dict(t_size=16))
clip_len = 16
