# Kinetics-400 for the light (hourglass) UniFormer XXS/XS, sparse sampling
#
# Official ``exp_light`` (``kinetics_sparse``): ``clip_len`` segments, one
# frame each (the sampling rate is ignored), here XXS 16 frames at 160 px
# (other runs: 4/8/16/32 frames at 128/160 px, XS 32 at 192; RandAugment
# ``rand`` for xxs4_*/xxs8_128, ``rand-m5-n2-mstd0.25`` for xxs16/32 and
# xxs8_160, ``rand-m7-n4-mstd0.5-inc1`` for xs32). Train: short side 256 ->
# RandAugment -> RandomResizedCrop (area 0.08-1) + resize to the crop size +
# flip -> random erasing 0.25 -> 2 copies per video (AUG.NUM_SAMPLE 2);
# mixup/cutmix + label smoothing: ``blending``. Val and test: 1 clip x
# centre crop at the training resolution (official 1x1 views).
_base_ = ['./kinetics400.py']

clip_len = 16
num_test_clips = 1
crop_size = 160
rand_augment = 'rand-m5-n2-mstd0.25'
random_erasing_prob = 0.25
num_repeats = 2
test_crop = dict(type='OfficialCenterCrop')
