# Something-Something V1 (frame folders), 16 frames
#
# mmaction2 data layout (tools/data/sthv1): JPEG frame folders
# ``rawframes/<id>/00001.jpg ...`` and "folder num_frames label" lists.
#
# Segment sampling as the official ``sth.py`` (= mmaction2 ``UniformSample``:
# ``clip_len`` segments of (n - 1) / clip_len frames, a random frame of each
# in training, segment start + int(seg / 2) at test time; over the frames of
# the official release, 12 fps) -- one clip of ``clip_len`` frames for the 3D
# models. No horizontal flip (it changes the meaning of "left"/"right"
# classes; DATA.RANDOM_FLIP False). Train: short side 256 -> RandAugment
# rand-m7-n4-mstd0.5-inc1 -> RandomResizedCrop + resize 224 (fused) -> random
# erasing (V1: 0.25; UniFormerV2: 0, set ``VideoRandomErasing=None``) -> 2
# augmented copies per video (AUG.NUM_SAMPLE 2, both V1 and V2). Mixup/cutmix
# + label smoothing (V1 only): ``blending`` below. Val: 1 clip x centre crop.
# Test: 1 clip x 3 crops, short side 224 (official 1x3 views).
# Everything else: ./something_something.py; knobs: configs/README.md.
_base_ = ['./something_something.py']

dataset_name = 'sthv1'
