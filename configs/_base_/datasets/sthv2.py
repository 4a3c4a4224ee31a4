# Something-Something V2, 16 frames, the official data path: JPEG frames
# extracted at 30 fps (short side 320) from the 12 fps webm videos
# (docs/datasets/sthv2.md, tools/data/sthv2/extract_frames.py), read as
# BGR.
#
# mmaction2 RawframeDataset layout: ``rawframes_30fps/<id>/img_00001.jpg ...``
# and "<id> <frames> <label>" lists (the official
# ``somesomev2_rgb_{train,validation}_split.txt`` lists have this format).
#
# Segment sampling, the official rule (``OfficialSparseSample``; official
# ``sth.py``: ``clip_len`` segments of (n - 1) / clip_len frames, a random
# frame of each in training, segment start + int(seg / 2) at test time),
# over the 30 fps frames. Frames kept at the videos' own 12 fps (or the
# webm videos themselves): set ``frame_rate = 12`` below (or the
# ``OfficialSparseSample=dict(frame_rate=12)`` update in a child): the
# official 30 fps indices are computed over the 30 fps view of the video
# (round(2.5 n) frames) and each is mapped to the 12 fps frame it shows
# (round(0.4 j)), which gives the official pictures (docs/datasets/sthv2.md
# has an example). Without the mapping (mmaction2's UniformSample on 12 fps
# frames) the segment boundaries and offsets fall on other frames.
# No horizontal flip (it changes the meaning of "left"/"right"
# classes; DATA.RANDOM_FLIP False). Train: short side 256 -> RandAugment
# rand-m7-n4-mstd0.5-inc1 -> RandomResizedCrop + resize 224 (fused) -> random
# erasing (V1: 0.25; UniFormerV2: 0, set ``VideoRandomErasing=None``) -> 2
# augmented copies per video (AUG.NUM_SAMPLE 2, both V1 and V2). Mixup/cutmix
# + label smoothing (V1 only): ``blending`` below. Val: 1 clip x centre crop.
# Test: 1 clip x 3 crops, short side 224 (official 1x3 views).
# Everything else: ./something_something.py; knobs: configs/README.md.
_base_ = ['./something_something.py']

dataset_name = 'sthv2'
data_root = 'data/sthv2/rawframes_30fps'
filename_tmpl = 'img_{:05}.jpg'
frame_rate = None  # the rate of the frames read (None: 30 fps)
official_frame_rate = 30  # the rate the official frame indices refer to
train_sampler = dict(
    type='OfficialSparseSample',
    official_frame_rate='${official_frame_rate}',
    frame_rate='${frame_rate}')
val_sampler = train_sampler
test_sampler = train_sampler
