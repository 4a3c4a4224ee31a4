# UniFormer (V1) video recipe without its data (the recipes add their data
# set: ./uniformer_k400.py, ./uniformer_video_prek400.py and its children):
#
# * model: UniFormer-S video backbone (drop path 0.1) initialised from the
#   ImageNet-1k image checkpoint of its size (the name follows the backbone's
#   arch), inflated to 3D; I3DHead; logits summed (averaged) over the test
#   views (official ENSEMBLE_METHOD sum: average_clips='score'); mixup /
#   cutmix + label smoothing as the data set's ``blending`` and
#   ``label_smooth_eps``;
# * schedule: ../schedules/adamw_cosine_uniformer_video.py (AdamW lr 1e-4 for
#   32 videos, wd 0.05, clip 20, warmup 10 + cosine, 110 epochs).
_base_ = [
    '../models/uniformer_video.py',
    '../schedules/adamw_cosine_uniformer_video.py', '../default_runtime.py'
]

model = dict(
    backbone=dict(
        arch='small',
        drop_path_rate=0.1,
        # official ImageNet-1k weights of the image model (2D -> 3D
        # inflation on load); where to get them: docs/checkpoints.md
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/uniformer_${model.backbone.arch}_in1k'
            '.pth')),
    cls_head=dict(
        num_classes='${num_classes}',
        label_smooth_eps='${label_smooth_eps}',
        average_clips='score'),
    data_preprocessor=dict(blending='${blending}'))
