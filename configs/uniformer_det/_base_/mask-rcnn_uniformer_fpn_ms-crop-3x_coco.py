# Mask R-CNN + FPN with a UniFormer backbone, COCO, 3x schedule with
# multi-scale training and random crops (the DETR / Sparse R-CNN
# augmentation; official exp/mask_rcnn_3x_ms_hybrid_*): AdamW lr 1e-4,
# weight decay 0.05 (none on norms), 36 epochs with steps at 27 and 33,
# 2 images per GPU x 8 GPUs. mmdet's Swin 3x config has exactly this
# pipeline and optimiser; its backbone is replaced.
_base_ = ['mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_ms-crop-3x_coco.py']
from uniformer_mm.models.config_utils import replace_backbone  # noqa: E402
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

model = dict(
    backbone=replace_backbone('small', 0.1, out_indices=(0, 1, 2, 3),
                              stage3_attn='hybrid', window_size=14,
                              with_cp=False),
    neck=dict(in_channels=[64, 128, 320, 512]))

param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', begin=0, end=36, by_epoch=True,
         milestones=[27, 33], gamma=0.1)
]
auto_scale_lr = dict(base_batch_size=16)
