# What the UniFormer (V1) image classifiers share (mmpretrain): the
# ImageClassifier, a 1000-class head trained with cross-entropy, ImageNet
# normalisation of RGB images, and our modules registered by
# ``import uniformer_mm``. uniformer_image.py, uniformer_light_image.py and
# uniformer_tl_image.py add their backbone, neck and head type.
model = dict(
    type='ImageClassifier',
    head=dict(
        num_classes=1000, loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    data_preprocessor=dict(
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True))
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)
