# Token-labeling UniFormer image classifier: `fc` on the pooled tokens plus
# `fc_aux` on every token; inference adds 0.5 * the token maximum.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='UniFormer', arch='small_tl', drop_path_rate=0.1),
    head=dict(
        type='UniFormerTokenLabelHead',
        num_classes=1000,
        in_channels=512,  # large_ls_tl: 640
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    data_preprocessor=dict(
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True))
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)
