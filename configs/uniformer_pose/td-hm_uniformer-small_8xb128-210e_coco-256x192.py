# paper: AP 74.0 (AP50 90.3, AP75 82.2, AR 79.5), FLOPs 4.7G
# UniFormer-S, top-down heatmaps, COCO 256x192, ImageNet-1k init. Official
# exp/top_down_256x192_global_small: drop path 0.2, AdamW lr 2e-3, batch 1024
# (128 x 8 GPUs), heatmap sigma 2.
_base_ = ['./_base_/td-hm_uniformer_8xb128-210e_coco-256x192.py']
from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

model = dict(backbone=dense_backbone('small', 0.2))
optim_wrapper = dict(optimizer=dict(lr=2e-3))
