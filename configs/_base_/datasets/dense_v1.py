# Dense sampling and the UniFormer (V1) video recipe on the Kinetics-style
# base (./kinetics_style.py); ./kinetics400_dense.py, ./kinetics600_dense.py,
# ./ucf101.py and ./hmdb51.py add their data.
#
# Dense sampling, the official rule (``OfficialDenseSample``; official
# ``kinetics.py`` + ``decoder.py`` with USE_OFFSET_SAMPLING): a clip spans
# ``clip_len * frame_interval`` frames, of which ``clip_len`` are taken with a
# float32 linspace (effective stride 4.2 for 16x4); training starts anywhere
# in [0, n - span], test clip k of K at k * floor((n - span) / (K - 1)) (one
# clip: the centre one); videos shorter than the span repeat their last
# frame. Other V1 samplings: 8x8, 16x8, 32x4 (clip_len x frame_interval).
# Train (UniFormer V1 recipe): short side 256 -> RandAugment
# rand-m7-n4-mstd0.5-inc1 (same ops for every frame) -> RandomResizedCrop
# (area 0.08-1, aspect 3/4-4/3) + resize to 224 + flip (fused) -> random
# erasing 0.25 ('pixel') -> 2 augmented copies of every video per batch
# (repeated augmentation, AUG.NUM_SAMPLE 2); mixup/cutmix + label smoothing:
# ``blending``. Val: 1 clip x centre crop. Test: 4 clips x 1 crop, short
# side 224 (official 4x1 views).
_base_ = ['./kinetics_style.py']

clip_len = 16  # frames per clip
frame_interval = 4  # temporal stride (official SAMPLING_RATE)
random_erasing_prob = 0.25
num_repeats = 2
train_sampler = dict(
    type='OfficialDenseSample', frame_interval='${frame_interval}')
val_sampler = dict(
    type='OfficialDenseSample', frame_interval='${frame_interval}')
test_sampler = dict(
    type='OfficialDenseSample', frame_interval='${frame_interval}')
test_crop = dict(type='OfficialCenterCrop')
