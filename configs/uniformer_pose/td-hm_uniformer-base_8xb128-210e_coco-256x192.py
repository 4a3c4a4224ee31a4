# paper: AP 75.0 (AP50 90.6, AP75 83.0, AR 80.4), FLOPs 9.2G
# UniFormer-B, top-down heatmaps, COCO 256x192, ImageNet-1k init. Official
# exp/top_down_256x192_global_base: drop path 0.4, AdamW lr 2e-3, batch 1024
# (128 x 8 GPUs), heatmap sigma 2.
_base_ = ['./_base_/td-hm_uniformer_8xb128-210e_coco-256x192.py']
from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

model = dict(backbone=dense_backbone('base', 0.4))
optim_wrapper = dict(optimizer=dict(lr=2e-3))
