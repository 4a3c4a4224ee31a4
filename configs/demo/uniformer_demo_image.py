# Demo: train a tiny image UniFormer from scratch on synthetic shapes (1-2
# minutes on a CPU; about 95% validation top-1).
#
#   python tools/train.py configs/demo/uniformer_demo_image.py
#
# The images (4 classes: circle, cross, square, triangle; PNGs in
# mmpretrain's CustomDataset layout data/demo_image/{train,val}/<class>/) are
# generated the first time the data set is built (``DemoImageDataset``, see
# uniformer_mm/datasets/demo_data.py).
default_scope = 'mmpretrain'
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

# ---------------------------------------------------------------- model
num_classes = 4
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=num_classes,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='UniFormer',
        # a tiny UniFormer (the 'small' one has depths [3, 4, 8, 3] and
        # embed_dims [64, 128, 320, 512])
        arch=dict(
            embed_dims=[32, 64, 128, 256], depths=[1, 1, 2, 1], head_dim=32),
        drop_path_rate=0.),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=num_classes,
        in_channels=256,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )))

# ---------------------------------------------------------------- data
data_root = 'data/demo_image'
img_size = 32
# shared by the train and val data sets (both check / create data_root)
demo_cfg = dict(
    num_train_per_class=250, num_val_per_class=25, size=img_size, seed=0)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    # the classes are invariant to flips (random crops would cut shapes off)
    dict(
        type='RandomFlip',
        prob=[0.25, 0.25],
        direction=['horizontal', 'vertical']),
    dict(type='PackInputs'),
]
val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackInputs'),
]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='DemoImageDataset',
        data_root=data_root,
        demo_cfg=demo_cfg,
        data_prefix='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='DemoImageDataset',
        data_root=data_root,
        demo_cfg=demo_cfg,
        data_prefix='val',
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

# ---------------------------------------------------------------- schedule
max_epochs = 20
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# a step with a NaN/inf loss or gradient is skipped (docs/faults.md)
optim_wrapper = dict(
    type='SkipNonFiniteOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.),
    clip_grad=dict(max_norm=5.))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=1e-5,
         by_epoch=True, begin=1, end=max_epochs, convert_to_iter_based=True)
]
auto_scale_lr = dict(enable=False, base_batch_size=16)

# ---------------------------------------------------------------- runtime
# atomic checkpoints (the last 2 and the best kept) and a checkpoint on
# SIGTERM / Ctrl-C that `--resume` continues from (docs/faults.md)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=2,
        save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
    preemption=dict(type='PreemptionCheckpointHook'),
)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
