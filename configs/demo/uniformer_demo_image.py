# Demo: train a tiny image UniFormer from scratch on synthetic shapes (1-2
# minutes on a CPU; about 95% validation top-1).
#
#   python tools/train.py configs/demo/uniformer_demo_image.py
#
# The images (4 classes: circle, cross, square, triangle; PNGs in
# mmpretrain's CustomDataset layout data/demo_image/{train,val}/<class>/) are
# generated the first time the data set is built (``DemoImageDataset``, see
# uniformer_mm/datasets/demo_data.py).
#
# Loader and schedule: configs/demo/_base_/demo_common.py (20 epochs of
# AdamW, warmup + cosine). Runtime: the zoo's shared runtime (configs/_base_/
# default_runtime_common.py) with its robustness hooks: checkpoints written
# atomically, a checkpoint on SIGTERM / Ctrl-C that `--resume` continues
# from (docs/faults.md).
_base_ = [
    '../_base_/default_runtime_common.py', './_base_/demo_common.py'
]

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

# the demos' loaders (top of this file) on this data set
train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        type='DemoImageDataset',
        data_root=data_root,
        demo_cfg=demo_cfg,
        data_prefix='train',
        pipeline=train_pipeline))
# the training data set with the val images and pipeline
val_dataloader = dict(
    batch_size=32,
    dataset=dict(
        train_dataloader['dataset'], data_prefix='val',
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

# ---------------------------------------------------------------- schedule
# the demos' schedule with twice its learning rate
train_cfg = dict(by_epoch=True, max_epochs=_base_.max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(lr=2e-3))
auto_scale_lr = dict(base_batch_size=16)

# ---------------------------------------------------------------- runtime
# the shared runtime (top of this file) with mmpretrain's visualizer, a log
# line every 10 iterations and the last 2 checkpoints (and the best) kept
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(max_keep_ckpts=2),
    visualization=dict(type='VisualizationHook', enable=False))
visualizer = dict(
    type='UniversalVisualizer', vis_backends=_base_.vis_backends)
randomness = dict(seed=0, deterministic=False)
