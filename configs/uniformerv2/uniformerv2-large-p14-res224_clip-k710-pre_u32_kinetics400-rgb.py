# paper: top-1 89.3 (mmaction2 89.3/98.2), params 354M, FLOPs 2662G x 2 clips x
# 3 crops
# UniFormerV2-L/14, CLIP-400M -> K710 -> Kinetics-400, 32 frames at 224.
# Official exp/k400/k400+k710_l14_f32x224: batch 128 (16 per GPU x 8 GPUs), lr
# 1.5e-6, 5 epochs (1 warmup), from the 8-frame K710 model, new classifier
# (official DELETE_SPECIAL_HEAD for K400); test 32x3x2, softmax averaged. The
# model zoo reports 2 clips x 3 crops (run.sh: 4 x 3).
_base_ = ['./uniformerv2-large-p14-res224_clip-k710-pre_u8_kinetics400-rgb.py']

model = dict(backbone=dict(t_size=32))
clip_len = 32
num_test_clips = 2
train_dataloader = dict(batch_size=16)  # x 8 GPUs = the official 128
auto_scale_lr = dict(base_batch_size=128)
