# What the video recognizers of the zoo share (mmaction2): Recognizer3D, a
# 400-class head (Kinetics-400) that averages the softmax of the views at
# test time (``average_clips='prob'``; UniFormerV2: the official
# TEST.ADD_SOFTMAX), the 0.45 / 0.225 normalisation of N x C x T x H x W
# clips, and our modules registered by ``import uniformer_mm``.
# uniformer_video.py, uniformer_light_video.py and
# uniformerv2_b16.py add their backbone and head type.
model = dict(
    type='Recognizer3D',
    cls_head=dict(num_classes=400, average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[114.75, 114.75, 114.75],
        std=[57.375, 57.375, 57.375],
        format_shape='NCTHW'))
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)
