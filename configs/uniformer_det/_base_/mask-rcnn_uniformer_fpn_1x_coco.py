# Mask R-CNN + FPN with a UniFormer backbone, COCO instance segmentation,
# 1x schedule: the official recipe (Sense-X/UniFormer object_detection/exp/
# mask_rcnn_1x_hybrid_*): AdamW lr 1e-4, weight decay 0.05 (none on norms),
# 12 epochs with steps at 8 and 11, linear warm-up of 500 iterations from
# 0.001, 2 images per GPU x 8 GPUs. Data, model heads and runtime are mmdet's
# (mmdet:: bases). Rows set the arch, drop path and checkpointing.
_base_ = ['mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py']
from uniformer_mm.models.config_utils import replace_backbone  # noqa: E402
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

model = dict(
    # official hybrid=True: stage-3 blocks 4, 8.. global, the others windowed
    backbone=replace_backbone('small', 0.2, out_indices=(0, 1, 2, 3),
                              stage3_attn='hybrid', window_size=14,
                              with_cp=False),
    neck=dict(in_channels=[64, 128, 320, 512]))

param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True,
         milestones=[8, 11], gamma=0.1)
]
auto_scale_lr = dict(base_batch_size=16)
