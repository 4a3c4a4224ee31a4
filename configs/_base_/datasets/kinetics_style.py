# The Kinetics-style video base: one clip sampler, the official train
# augmentation recipe, official val / test views, mmaction2 video loaders.
# Kinetics-400/600/700/710, UCF101, HMDB51, Moments in Time, ActivityNet and
# HACS inherit it and state only what differs (paths, classes, label map,
# their few real differences); README.md in this folder has the table.
#
# Every value below that a data set or a row changes is a knob: the
# pipelines and loaders refer to it as '${name}' and
# ``uniformer_mm.engine.config_knobs.resolve_knobs`` fills in the value the
# final config has (after the child configs and --cfg-options), so a child
# that sets ``clip_len = 16`` trains and tests with 16 frames
# (configs/README.md, "Knobs").
#
# Train: sampler -> decode -> RepeatClips(num_repeats, [short side
# train_short_side -> VideoRandAugment(rand_augment; same ops for every
# frame) -> RandomResizedCrop (area 0.08-1, aspect 3/4-4/3) + resize to
# crop_size + flip (fused) -> random erasing ('pixel') -> pack]).
# Val: 1 clip x centre crop. Test: num_test_clips clips x test_crop.
# Val / test views are cut as the official loaders cut them
# (``OfficialShortSideResize``: short side -> crop size, long side
# floor(L / S * crop size), float bilinear; ``OfficialThreeCrop`` /
# ``OfficialCenterCrop``: offsets 0, ceil((L - crop) / 2), L - crop).
#
# Augmentation on the device (the loader workers only decode and resize;
# RandAugment, crop + flip and random erasing run in the model's data
# preprocessor, same random draws, same distribution; README.md here):
#   from uniformer_mm.datasets.config_utils import defer_augmentation  # noqa
#   train_augment = defer_augmentation(_base_.train_augment)
#   model = dict(data_preprocessor=dict(type='DeviceAugmentPreprocessor'))
#
# Mixup/CutMix and label smoothing live in the model: wire ``blending`` and
# ``label_smooth_eps`` (defined below) into it where the recipe uses them:
#   model = dict(data_preprocessor=dict(blending='${blending}'),
#                cls_head=dict(label_smooth_eps='${label_smooth_eps}'))
# Our transforms are registered by ``import uniformer_mm`` (the model base
# configs' ``custom_imports``).
# mmaction2's VideoDataset + annotation validation and bad-video handling
# (logged, replaced in training, skipped in val/test; docs/faults.md);
# videos shorter than a clip are used as the sampler makes them (reported),
# as the official loaders do (accept_short=True)
dataset_type = 'RobustVideoDataset'
# Data: mmaction2's layout (tools/data/kinetics: videos + "path label"
# lists) under data/<dataset_name>/; a data set file sets dataset_name and
# num_classes, and the paths where its layout differs. label_map: the class
# names in label order, shipped with the package (uniformer_mm/label_maps/
# README.md); tools/infer.py, tools/visualize_predictions.py and init_model
# name the predictions with them.
data_root = 'data/${dataset_name}/videos_train'
data_root_val = 'data/${dataset_name}/videos_val'
ann_file_train = 'data/${dataset_name}/${dataset_name}_train_list_videos.txt'
ann_file_val = 'data/${dataset_name}/${dataset_name}_val_list_videos.txt'
ann_file_test = '${ann_file_val}'
label_map = 'uniformer_mm::label_maps/${dataset_name}.txt'

# ---------------------------------------------------------------- settings
clip_len = 8  # frames per clip
num_test_clips = 4  # test views: clips (x the crops of test_crop)
crop_size = 224  # train crop = test short side = test crop
train_short_side = 256  # short side before RandAugment and the crop
rand_augment = 'rand-m7-n4-mstd0.5-inc1'  # timm RandAugment string
flip_ratio = 0.5
random_erasing_prob = 0.0  # timm RE, 'pixel' mode
num_repeats = 1  # repeated augmentation (official AUG.NUM_SAMPLE)
batch_size = 8  # videos per GPU (training: x num_repeats clips)
num_workers = 8
# the clip sampler of each split (sparse: UniformSample, the official
# segment rule; a data set or a row merges its changes into these dicts)
train_sampler = dict(
    type='UniformSample', clip_len='${clip_len}', num_clips=1)
val_sampler = dict(
    type='UniformSample', clip_len='${clip_len}', num_clips=1,
    test_mode=True)
test_sampler = dict(
    type='UniformSample', clip_len='${clip_len}',
    num_clips='${num_test_clips}', test_mode=True)
# test crops: 3 (left, centre, right) or OfficialCenterCrop (1)
test_crop = dict(type='OfficialThreeCrop', crop_size='${crop_size}')

# The recipe's batch blending (timm Mixup: mixup alpha 0.8, cutmix alpha 1.0,
# switch prob 0.5, always on) and label smoothing 0.1, for the recipes that
# use them (UniFormer V1; the UniFormerV2 recipe trains with plain CE).
blending = dict(
    type='RandomBatchAugment',
    augments=[
        dict(type='MixupBlending', alpha=0.8, num_classes='${num_classes}'),
        dict(type='CutmixBlending', alpha=1.0, num_classes='${num_classes}')
    ])
label_smooth_eps = 0.1

# ---------------------------------------------------------------- pipelines
file_client_args = dict(io_backend='disk')
# the mean/std of the data preprocessor (0.45 / 0.225 * 255): random erasing
# writes N(0, 1) noise of the normalised space as mean + std * z
norm_mean = [114.75, 114.75, 114.75]
norm_std = [57.375, 57.375, 57.375]
# the train augmentation after decoding (the same for videos and frames)
train_augment = dict(
    type='RepeatClips',  # decode once, augment num_repeats times
    num_repeats='${num_repeats}',
    transforms=[
        dict(type='Resize', scale=(-1, '${train_short_side}')),
        dict(
            type='VideoRandAugment',
            config_str='${rand_augment}',
            interpolation='bicubic'),
        dict(
            type='FusedRandomResizedCropFlip',
            scale='${crop_size}',
            area_range=(0.08, 1.0),
            aspect_ratio_range=(0.75, 1.3333),
            flip_ratio='${flip_ratio}'),
        dict(
            type='VideoRandomErasing',
            probability='${random_erasing_prob}',
            mode='pixel',
            mean=norm_mean,
            std=norm_std),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')
    ])
train_pipeline = [
    dict(type='VideoInit', **file_client_args),
    '${train_sampler}',
    dict(type='VideoDecode'),
    '${train_augment}'
]
val_pipeline = [  # 1 clip x 1 centre crop (official test geometry)
    dict(type='VideoInit', **file_client_args),
    '${val_sampler}',
    dict(type='VideoDecode'),
    dict(type='OfficialShortSideResize', short_side='${crop_size}'),
    dict(type='OfficialCenterCrop', crop_size='${crop_size}'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [  # num_test_clips clips x test_crop
    dict(type='VideoInit', **file_client_args),
    '${test_sampler}',
    dict(type='VideoDecode'),
    dict(type='OfficialShortSideResize', short_side='${crop_size}'),
    '${test_crop}',
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]

# ---------------------------------------------------------------- loaders
train_dataloader = dict(
    batch_size='${batch_size}',
    num_workers='${num_workers}',
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='repeat_pseudo_collate'),  # flattens RepeatClips
    dataset=dict(
        type='${dataset_type}',
        ann_file='${ann_file_train}',
        data_prefix=dict(video='${data_root}'),
        pipeline='${train_pipeline}',
        accept_short=True))
val_dataloader = dict(
    batch_size='${batch_size}',
    num_workers='${num_workers}',
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='${dataset_type}',
        ann_file='${ann_file_val}',
        data_prefix=dict(video='${data_root_val}'),
        pipeline='${val_pipeline}',
        accept_short=True,
        test_mode=True,
        on_bad='skip'))
# the val loader with the test list and views, one video per batch
test_dataloader = dict(
    val_dataloader,
    batch_size=1,
    dataset=dict(
        val_dataloader['dataset'],
        ann_file='${ann_file_test}',
        pipeline='${test_pipeline}'))

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
