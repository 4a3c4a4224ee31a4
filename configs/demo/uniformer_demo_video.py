# Demo: train a tiny UniFormer video model from scratch on a synthetic data
# set in about 2 minutes on a 2-core CPU (in our runs the validation top-1
# reached 100% by epoch 8-11 of 20 and stayed there, for 3 seeds).
#
#   bash tools/demo.sh          # or: python tools/train.py <this config>
#
# The data (240 real .mp4 files + mmaction2 annotation lists, ~2 MB) is
# generated into ``data/demo_video`` the first time the data set is built
# (``DemoVideoDataset``; see uniformer_mm/datasets/demo_data.py). Its four
# classes -- a shape moving left / right / up / down over a noisy background,
# wrapping around the borders -- have identical single-frame statistics:
# only the temporal order of the frames tells them apart, so a high accuracy
# shows that the model uses time.
#
# Loader and schedule: configs/demo/_base_/demo_common.py (20 epochs of
# AdamW, warmup + cosine). Runtime: the zoo's video runtime (configs/_base_/
# default_runtime.py) with its robustness hooks (docs/faults.md):
# checkpoints written atomically; on SIGTERM / Ctrl-C the current iteration
# finishes, a checkpoint is saved and `--resume` continues; videos that
# cannot be decoded are replaced, counted per epoch and listed in
# work_dirs/.../bad_samples.json.
_base_ = ['../_base_/default_runtime.py', './_base_/demo_common.py']

custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

# ---------------------------------------------------------------- model
# Switch the whole demo to a small UniFormerV2 by changing this one line to
# model_family = 'uniformerv2' (here: `model` is chosen when this file is
# read; a child config or --cfg-options that sets model_family is refused
# with one line, see parsed_knobs below)
model_family = 'uniformer'

num_classes = 4
data_preprocessor = dict(
    type='ActionDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    format_shape='NCTHW')
uniformer_model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='UniFormerVideo',
        # a tiny UniFormer: same structure as 'small' ([3, 4, 8, 3] blocks of
        # [64, 128, 320, 512] channels), just narrower and shallower
        arch=dict(
            embed_dims=[32, 64, 128, 256], depths=[1, 1, 2, 1], head_dim=32),
        drop_path_rate=0.),
    cls_head=dict(
        type='I3DHead',
        in_channels=256,
        num_classes=num_classes,
        spatial_type='avg',
        dropout_ratio=0.,
        average_clips='prob'),
    data_preprocessor=data_preprocessor)
uniformerv2_model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='UniFormerV2Video',
        # a tiny UniFormerV2: a 4-layer ViT (patch 8 on 64x64 frames) with
        # local temporal MHRA and 2 global UniBlocks on its last 2 layers
        arch=dict(input_resolution=64, patch_size=8, width=96, layers=4,
                  heads=4, return_list=[2, 3]),
        n_layers=2, n_dim=96, n_head=4, mlp_factor=2.0,
        no_lmhra=False, double_lmhra=False, temporal_downsample=False,
        mlp_dropout=[0., 0.]),
    cls_head=dict(
        type='UniFormerV2Head',
        in_channels=96,
        num_classes=num_classes,
        dropout_ratio=0.,
        average_clips='prob'),
    data_preprocessor=data_preprocessor)
# chosen when this file is read, so that a child config can merge its
# changes into `model` (e.g. model = dict(cls_head=dict(num_classes=10)))
model = dict(uniformer=uniformer_model,
             uniformerv2=uniformerv2_model)[model_family]
# the values this file was read with: resolve_knobs refuses a final config
# whose model_family differs (uniformer_mm/engine/config_knobs.py)
parsed_knobs = dict(model_family=model_family)

# ---------------------------------------------------------------- data
data_root = 'data/demo_video'
# Generation parameters; keep them shared by the train and val data sets
# (both check / create the same directory). data_root and clip_len are knobs
# (configs/README.md): a child config or --cfg-options data_root=... changes
# every loader.
demo_cfg = dict(
    num_train_per_class=48,
    num_val_per_class=12,
    num_frames=16,
    size=64,
    seed=0)
clip_len = 8  # a knob: a child or --cfg-options clip_len=16 changes it

# No Flip: a horizontal flip turns a "move_left" video into a "move_right"
# one without changing its label. Crops and rescaling keep the direction.
train_pipeline = [
    dict(type='VideoInit'),
    # one random frame from each of clip_len equal segments: temporal jitter
    # that keeps the frame order
    dict(type='UniformSample', clip_len='${clip_len}', num_clips=1),
    dict(type='VideoDecode'),
    dict(type='RandomResizedCrop', area_range=(0.5, 1.0)),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='VideoInit'),
    dict(type='UniformSample', clip_len='${clip_len}', num_clips=1,
         test_mode=True),
    dict(type='VideoDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=64),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline

# the demos' loaders (top of this file) on this data set
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        type='DemoVideoDataset',
        data_root='${data_root}',
        demo_cfg=demo_cfg,
        ann_file='train_list.txt',
        data_prefix=dict(video=''),
        pipeline=train_pipeline))
# the training data set with the val list and pipeline
val_dataloader = dict(
    batch_size=8,
    dataset=dict(
        train_dataloader['dataset'],
        ann_file='val_list.txt',
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

# ---------------------------------------------------------------- schedule
# the demos' schedule with norm-2 gradient clipping
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=_base_.max_epochs, val_begin=1,
    val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(clip_grad=dict(norm_type=2))
# batch_size 8 on one process
auto_scale_lr = dict(base_batch_size=8)

# ---------------------------------------------------------------- runtime
# the video runtime (top of this file) with a log line every 6 iterations
# and the last 2 checkpoints (and the best) kept
default_hooks = dict(
    logger=dict(interval=6), checkpoint=dict(max_keep_ckpts=2))
log_processor = dict(window_size=6)
randomness = dict(seed=0, deterministic=False)
