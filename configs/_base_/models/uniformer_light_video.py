# Light ("hourglass") UniFormer video recognizer (XXS / XS): class token,
# token pruning, two classifiers (0.5 * CE(pooled) + 0.5 * CE(cls token)).
model = dict(
    type='Recognizer3D',
    backbone=dict(type='UniFormerVideo', arch='xxs', drop_path_rate=0.05),
    cls_head=dict(
        type='UniFormerLightHead',
        num_classes=400,
        in_channels=448,  # xs: 512
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[114.75, 114.75, 114.75],
        std=[57.375, 57.375, 57.375],
        format_shape='NCTHW'))
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)
