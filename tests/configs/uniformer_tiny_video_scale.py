# A tiny video UniFormer on the synthetic motion videos of
# uniformer_mm.datasets.make_video_demo, for tests/test_scale.py (exact
# resume, DDP vs. single process, torch.compile, EMA). The test writes the
# videos into a temporary folder and sets `data_root` with --cfg-options
# (train/val_dataloader.dataset.{ann_file,data_prefix.video}).
#
# Randomness that a resume must reproduce: RandomResizedCrop + Flip (numpy /
# python RNG in the loader), drop path in the backbone and dropout in the
# head (torch RNG in the main process).
default_scope = 'mmaction'
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

data_root = 'data/tiny_video'
num_classes = 4
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='UniFormerVideo',
        arch=dict(embed_dims=[16, 32, 64, 64], depths=[1, 1, 1, 1],
                  head_dim=16),
        drop_rate=0.1,
        drop_path_rate=0.2),
    cls_head=dict(
        type='I3DHead',
        in_channels=64,
        num_classes=num_classes,
        spatial_type='avg',
        dropout_ratio=0.5,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[114.75, 114.75, 114.75],
        std=[57.375, 57.375, 57.375],
        format_shape='NCTHW'))

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=4, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.5, 1.0)),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=4, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='VideoDataset',
        ann_file=f'{data_root}/train_list.txt',
        data_prefix=dict(video=data_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=2,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='VideoDataset',
        ann_file=f'{data_root}/val_list.txt',
        data_prefix=dict(video=data_root),
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_begin=1,
                 val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    constructor='UniFormerOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=0.9),
    clip_grad=dict(max_norm=5.))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=3),
    dict(type='CosineAnnealingLR', T_max=8, eta_min=1e-5, by_epoch=False,
         begin=3, end=100)
]
auto_scale_lr = dict(enable=False, base_batch_size=2)

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=3),
    sampler_seed=dict(type='DistSamplerSeedHook'))
# EMA of the weights with BN statistics averaged too; its state must
# resume exactly as well
custom_hooks = [
    dict(type='EMAHook', momentum=0.1, update_buffers=True,
         priority='ABOVE_NORMAL'),
    dict(type='ExactResumeHook'),
]

# per-iteration losses in the json log (no smoothing window)
log_processor = dict(type='LogProcessor', window_size=1, by_epoch=True)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, deterministic=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
