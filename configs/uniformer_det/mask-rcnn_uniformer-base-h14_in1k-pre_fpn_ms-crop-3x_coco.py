# paper: box AP 50.3, mask AP 44.8, params 69M, FLOPs 399G (800x1280)
# UniFormer-B h14, Mask R-CNN, 3x + multi-scale, ImageNet-1k init. Official
# exp/mask_rcnn_3x_ms_hybrid_base: drop path 0.3, checkpoint_num [0, 0, 20, 0],
# batch 16 (2 x 8 GPUs), AdamW lr 1e-4, 36 epochs.
_base_ = ['./_base_/mask-rcnn_uniformer_fpn_ms-crop-3x_coco.py']
from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

model = dict(backbone=dense_backbone('base', 0.3, with_cp=[0, 0, 20, 0]))
