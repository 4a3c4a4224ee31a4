# UniFormer (V1) image classifier (mmpretrain): BN-normalised last stage,
# global average pooling, linear classifier `head.fc` (the official `head`).
model = dict(
    type='ImageClassifier',
    backbone=dict(type='UniFormer', arch='small', drop_path_rate=0.1),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02, bias=0.)),
    data_preprocessor=dict(
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True))
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)
