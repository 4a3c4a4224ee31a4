# Kinetics-700, sparse sampling, 8 frames (UniFormerV2 recipe)
#
# Sparse sampling (official ``kinetics_sparse`` / mmaction2 ``UniformSample``:
# the video is cut into ``clip_len`` equal segments, one random frame per
# segment in training, segment start + offset per view at test time).
# Train: short side 256 -> RandAugment rand-m7-n4-mstd0.5-inc1 ->
# RandomResizedCrop + flip to 224; no random erasing, no repeated
# augmentation, no mixup (UniFormerV2 recipe). Test: 4 clips x 3 crops,
# short side 224 (the 4x3 views of the UniFormerV2 model zoo).
# Everything else: ./kinetics_style.py; knobs: configs/README.md.
_base_ = ['./kinetics_style.py']

dataset_name = 'kinetics700'
num_classes = 700
