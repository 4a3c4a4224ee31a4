# UniFormer (V1) video recognizer: UniFormerVideo backbone + I3DHead.
# The backbone's last stage is BN-normalised; I3DHead average-pools over
# T*H*W and applies `fc_cls` (the official `head`).
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='UniFormerVideo',
        arch='small',  # small | base | xxs | xs (light: use uniformer_light_video.py)
        drop_path_rate=0.1),
    cls_head=dict(
        type='I3DHead',
        num_classes=400,
        in_channels=512,
        dropout_ratio=0.,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[114.75, 114.75, 114.75],
        std=[57.375, 57.375, 57.375],
        format_shape='NCTHW'))
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)
