# paper: box AP 47.4, mask AP 43.1, params 69M, FLOPs 399G (800x1280)
# UniFormer-B h14, Mask R-CNN, 1x, ImageNet-1k init. Official
# exp/mask_rcnn_1x_hybrid_base: drop path 0.3, no checkpointing, batch 16
# (2 x 8 GPUs), AdamW lr 1e-4.
_base_ = ['./_base_/mask-rcnn_uniformer_fpn_1x_coco.py']
from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

model = dict(backbone=dense_backbone('base', 0.3))
