# paper: box AP 45.6, mask AP 41.6, params 41M, FLOPs 269G (800x1280)
# UniFormer-S h14 (stage 3 hybrid: window 14, every 4th block global), Mask R-CNN,
# 1x, ImageNet-1k init. Official exp/mask_rcnn_1x_hybrid_small: drop path 0.2,
# checkpoint_num [0, 0, 8, 0], batch 16 (2 x 8 GPUs), AdamW lr 1e-4.
_base_ = ['./_base_/mask-rcnn_uniformer_fpn_1x_coco.py']
from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

model = dict(backbone=dense_backbone('small', 0.2, with_cp=[0, 0, 8, 0]))
