# Light ("hourglass") UniFormer image classifier (XXS / XS). No neck: the head
# pools the map itself and also classifies the class token in training.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='UniFormer', arch='xxs', drop_path_rate=0.),
    head=dict(
        type='UniFormerLightClsHead',
        num_classes=1000,
        in_channels=448,  # xs: 512
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    data_preprocessor=dict(
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True))
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)
