# paper: AP 76.2 (AP50 90.6, AP75 83.2, AR 81.4), FLOPs 14.8G
# UniFormer-S, top-down heatmaps, COCO 448x320, ImageNet-1k init. Official
# exp/top_down_448x320_global_small: drop path 0.2, AdamW lr 1e-3, batch 512
# (64 x 8 GPUs), heatmap sigma 3.
_base_ = ['./_base_/td-hm_uniformer_8xb64-210e_coco-448x320.py']
from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

model = dict(backbone=dense_backbone('small', 0.2))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
