# A tiny image UniFormer on an image-folder dataset (one sub-folder per
# class), for the CLI tests: tests/test_tools.py writes the images into a
# temporary folder and points `data_root` at it with --cfg-options.
default_scope = 'mmpretrain'
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

data_root = 'data/tiny_imagefolder'
num_classes = 2

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=num_classes,
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        to_rgb=True),
    backbone=dict(
        type='UniFormer',
        arch=dict(embed_dims=[16, 32, 64, 128], depths=[1, 1, 1, 1],
                  head_dim=16)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=num_classes,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss'),
        topk=(1, )))

pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=64),
    dict(type='PackInputs'),
]
dataset = dict(
    type='CustomDataset', data_root=data_root, data_prefix='',
    with_label=True, pipeline=pipeline)
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    dataset=dataset,
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    dataset=dataset,
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

# The learning rate halves every epoch, so a resumed run shows whether the
# optimizer and scheduler states were restored.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(
    type='StepLR', by_epoch=True, step_size=1, gamma=0.5, begin=0, end=100)
train_cfg = dict(by_epoch=True, max_epochs=2, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=4)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
