# UniFormer (V1) image classifier (mmpretrain): BN-normalised last stage,
# global average pooling, linear classifier `head.fc` (the official `head`).
_base_ = ['./image_classifier.py']

model = dict(
    backbone=dict(type='UniFormer', arch='small', drop_path_rate=0.1),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        in_channels=512,
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02, bias=0.)))
