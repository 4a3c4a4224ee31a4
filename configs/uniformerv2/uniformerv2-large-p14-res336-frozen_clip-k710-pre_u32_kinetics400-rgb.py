# paper: top-1 88.9, params 354M, FLOPs 6268G (estimated) x 4 clips x 3 crops
# UniFormerV2-L/14@336 with a frozen CLIP backbone, CLIP-400M -> K710 ->
# Kinetics-400, 32 frames. Official exp/k400/frozen_k400+k710_l14_f32x336:
# batch 256 (32 per GPU x 8 GPUs), lr 5e-5, 5 epochs (1 warmup), from the
# frozen K710 model, new classifier (official DELETE_SPECIAL_HEAD for K400);
# test 32x3x4, softmax averaged. The model zoo reports 4 clips x 3 crops
# (run.sh: 3 x 1).
_base_ = ['./uniformerv2-large-p14-res336-frozen_clip-k710-pre_u8_kinetics400-rgb.py']

model = dict(backbone=dict(t_size=32))
clip_len = 32
num_test_clips = 4
test_crop = dict(type='OfficialThreeCrop')
train_dataloader = dict(batch_size=32)  # x 8 GPUs = the official 256
auto_scale_lr = dict(base_batch_size=256)
