# paper: AP 77.4 (AP50 91.1, AP75 84.4, AR 82.5), FLOPs 29.6G
# UniFormer-B, top-down heatmaps, COCO 448x320, ImageNet-1k init. Official
# exp/top_down_448x320_global_base: drop path 0.55, AdamW lr 5e-4, batch 256
# (32 x 8 GPUs), heatmap sigma 3.
_base_ = ['./_base_/td-hm_uniformer_8xb64-210e_coco-448x320.py']
from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

model = dict(backbone=dense_backbone('base', 0.55))
optim_wrapper = dict(optimizer=dict(lr=5e-4))
train_dataloader = dict(batch_size=32)
auto_scale_lr = dict(base_batch_size=256)
