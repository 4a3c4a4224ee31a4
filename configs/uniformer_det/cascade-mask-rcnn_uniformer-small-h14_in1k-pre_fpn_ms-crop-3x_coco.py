# paper: box AP 52.1, mask AP 45.2, params 79M, FLOPs 747G (800x1280)
# UniFormer-S h14, Cascade Mask R-CNN, 3x + multi-scale, ImageNet-1k init.
# Official exp/cascade_mask_rcnn_3x_ms_hybrid_small: drop path 0.2,
# checkpoint_num [0, 0, 8, 0], batch 16 (2 x 8 GPUs), AdamW lr 1e-4, 36 epochs.
_base_ = ['./_base_/cascade-mask-rcnn_uniformer_fpn_ms-crop-3x_coco.py']
from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

model = dict(backbone=dense_backbone('small', 0.2, with_cp=[0, 0, 8, 0]))
