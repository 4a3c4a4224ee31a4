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
#
# Val / test views are cut as the official loaders cut them
# (``OfficialShortSideResize``: short side -> crop size, long side
# floor(L / S * crop size), float bilinear; ``OfficialThreeCrop`` /
# ``OfficialCenterCrop``: offsets 0, ceil((L - crop) / 2), L - crop).
#
# Channel order: the official loader decodes the frames with OpenCV and
# never converts them, so the official SSv2 models (V1 and V2) were trained
# and tested on BGR input. Our decoders give RGB; the recipes reverse the
# channels in the model's data preprocessor (``bgr_input`` below; mmaction2's
# ``to_rgb=True`` is that plain reversal: RGB in, BGR out).
#
# Knobs: the "settings" block below. mmengine evaluates this file before a
# child config, so re-assigning a knob in a child does NOT rebuild the
# pipelines; update the built data loaders instead, e.g. another clip
# length (more examples in README.md of this folder):
#
#   _base_ = [..., '../_base_/datasets/sthv2.py']
#   from uniformer_mm.datasets.config_utils import update_transforms  # noqa
#   sampling = dict(OfficialSparseSample=dict(clip_len=32))
#   train_dataloader = update_transforms(_base_.train_dataloader, **sampling)
#   val_dataloader = update_transforms(_base_.val_dataloader, **sampling)
#   test_dataloader = update_transforms(_base_.test_dataloader, **sampling)
#
# Mixup/CutMix and label smoothing live in the model: wire ``blending`` and
# ``label_smooth_eps`` (defined below) into it where the recipe uses them:
#   model = dict(data_preprocessor=dict(blending=_base_.blending),
#                cls_head=dict(label_smooth_eps=_base_.label_smooth_eps))
# Our transforms are registered by ``import uniformer_mm`` (the model base
# configs' ``custom_imports``).
dataset_type = 'RawframeDataset'
data_root = 'data/sthv2/rawframes_30fps'
data_root_val = 'data/sthv2/rawframes_30fps'
ann_file_train = 'data/sthv2/sthv2_train_list_rawframes.txt'
ann_file_val = 'data/sthv2/sthv2_val_list_rawframes.txt'
ann_file_test = 'data/sthv2/sthv2_val_list_rawframes.txt'
filename_tmpl = 'img_{:05}.jpg'
num_classes = 174
# class names in label order, shipped with the package (uniformer_mm/label_maps/
# README.md); tools/infer.py, tools/visualize_predictions.py and init_model
# name the predictions with them
label_map = 'uniformer_mm::label_maps/sthv2.txt'

# ---------------------------------------------------------------- settings
clip_len = 16  # frames per clip (one per segment)
num_test_clips = 1  # test views: clips (x 3 crops)
crop_size = 224  # train crop = test short side = test crop
train_short_side = 256  # short side before RandAugment and the crop
rand_augment = 'rand-m7-n4-mstd0.5-inc1'  # timm RandAugment string
flip_ratio = 0.0
random_erasing_prob = 0.25  # timm RE, 'pixel' mode
num_repeats = 2  # repeated augmentation (official AUG.NUM_SAMPLE)
batch_size = 8  # videos per GPU (training: x num_repeats clips)
num_workers = 8
# frames per second of what is read: None = 30 for frame folders (the
# official extraction), the video's own rate for videos; 12 = frame folders
# kept at the videos' rate (the official indices are mapped onto them, see
# above)
frame_rate = None
official_frame_rate = 30  # the rate the official frame indices refer to
# the model takes BGR (official cv2 frame loader); recipes:
#   model = dict(data_preprocessor=dict(to_rgb=_base_.bgr_input))
bgr_input = True

# The recipe's batch blending (timm Mixup: mixup alpha 0.8, cutmix alpha 1.0,
# switch prob 0.5, always on) and label smoothing 0.1:
# used by the UniFormer (V1) recipe.
blending = dict(
    type='RandomBatchAugment',
    augments=[
        dict(type='MixupBlending', alpha=0.8, num_classes=num_classes),
        dict(type='CutmixBlending', alpha=1.0, num_classes=num_classes)
    ])
label_smooth_eps = 0.1

# ---------------------------------------------------------------- pipelines
file_client_args = dict(io_backend='disk')
# the mean/std of the data preprocessor (0.45 / 0.225 * 255): random erasing
# writes N(0, 1) noise of the normalised space as mean + std * z
norm_mean = [114.75, 114.75, 114.75]
norm_std = [57.375, 57.375, 57.375]
train_pipeline = [
    dict(
        type='OfficialSparseSample',
        clip_len=clip_len,
        num_clips=1,
        official_frame_rate=official_frame_rate,
        frame_rate=frame_rate),
    dict(type='RawFrameDecode', **file_client_args),
    dict(
        type='RepeatClips',  # decode once, augment num_repeats times
        num_repeats=num_repeats,
        transforms=[
            dict(type='Resize', scale=(-1, train_short_side)),
            dict(
                type='VideoRandAugment',
                config_str=rand_augment,
                interpolation='bicubic'),
            dict(
                type='FusedRandomResizedCropFlip',
                scale=crop_size,
                area_range=(0.08, 1.0),
                aspect_ratio_range=(0.75, 1.3333),
                flip_ratio=flip_ratio),
            dict(
                type='VideoRandomErasing',
                probability=random_erasing_prob,
                mode='pixel',
                mean=norm_mean,
                std=norm_std),
            dict(type='FormatShape', input_format='NCTHW'),
            dict(type='PackActionInputs')
        ])
]
val_pipeline = [  # 1 clip x 1 centre crop (official test geometry)
    dict(
        type='OfficialSparseSample',
        clip_len=clip_len,
        num_clips=1,
        test_mode=True,
        official_frame_rate=official_frame_rate,
        frame_rate=frame_rate),
    dict(type='RawFrameDecode', **file_client_args),
    dict(type='OfficialShortSideResize', short_side=crop_size),
    dict(type='OfficialCenterCrop', crop_size=crop_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [  # num_test_clips clips x 3 crops (left, centre, right)
    dict(
        type='OfficialSparseSample',
        clip_len=clip_len,
        num_clips=num_test_clips,
        test_mode=True,
        official_frame_rate=official_frame_rate,
        frame_rate=frame_rate),
    dict(type='RawFrameDecode', **file_client_args),
    dict(type='OfficialShortSideResize', short_side=crop_size),
    dict(type='OfficialThreeCrop', crop_size=crop_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]

# ---------------------------------------------------------------- loaders
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=num_workers,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='repeat_pseudo_collate'),  # flattens RepeatClips
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=dict(img=data_root),
        filename_tmpl=filename_tmpl,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=batch_size,
    num_workers=num_workers,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(img=data_root_val),
        filename_tmpl=filename_tmpl,
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=num_workers,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_test,
        data_prefix=dict(img=data_root_val),
        filename_tmpl=filename_tmpl,
        pipeline=test_pipeline,
        test_mode=True))

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
