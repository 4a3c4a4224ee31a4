# paper: AP 75.9 (AP50 90.6, AP75 83.4, AR 81.4), FLOPs 11.1G
# UniFormer-S, top-down heatmaps, COCO 384x288, ImageNet-1k init. Official
# exp/top_down_384x288_global_small: drop path 0.2, AdamW lr 2e-3, batch 1024
# (128 x 8 GPUs), heatmap sigma 3.
_base_ = ['./_base_/td-hm_uniformer_8xb128-210e_coco-384x288.py']
from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

model = dict(backbone=dense_backbone('small', 0.2))
optim_wrapper = dict(optimizer=dict(lr=2e-3))
